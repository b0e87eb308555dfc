"""Hysteresis of the alert state machine on hand-made window series, and its state file.

Each series below is one letter per window: B breaches (eligible, under the
threshold), L is under the threshold on too little traffic to breach, H is healthy,
and `.` means no traffic at all (the series is absent from the window).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from ingest.storage import resolve
from tests.unit.transforms.alert_builders import minute
from transforms.alert_state import (
    AlertState,
    AlertStateError,
    Hysteresis,
    advance,
    from_document,
    load_state,
    save_state,
    series_key,
    to_document,
)

pytestmark = pytest.mark.unit
TEMPLATE = "/live/{event}/{rendition}/index.m3u8"
KEY = series_key(TEMPLATE, "cloudflare")
RULES = Hysteresis(fire_after=3, resolve_after=2, renotify_s=0)


def _row(
    letter: str, severity: str = "P2", template: str = TEMPLATE, cdn: str | None = "cloudflare"
) -> dict:
    offload = {"B": 0.5, "L": 0.5, "H": 0.97}[letter]
    return {
        "path_template": template,
        "cdn": cdn,
        "breaching": letter == "B",
        "healthy": letter == "H",
        "severity": severity,
        "request_offload": offload,
        "cacheable_requests": 50.0 if letter == "L" else 1000.0,
        "origin_requests_per_s": 1.5,
        "origin_load_share": 0.1,
        "threshold": 0.9,
    }


def _run(
    letters: str, rules: Hysteresis = RULES, state: AlertState | None = None, first: int = 1
) -> tuple[AlertState, list[tuple[int, str]]]:
    """Feed one window per letter (window ends at minutes first, first+1, ...)."""
    state = state or AlertState()
    seen: list[tuple[int, str]] = []
    for i, letter in enumerate(letters, start=first):
        rows = {} if letter == "." else {KEY: _row(letter)}
        for event in advance(state, minute(i - 5), minute(i), rows, rules):
            seen.append((i, event.kind))
    return state, seen


@pytest.mark.parametrize(
    ("letters", "expected"),
    [
        pytest.param("BBB", [(3, "firing")], id="fires-on-third-breach"),
        pytest.param("BB", [], id="two-breaches-stay-pending"),
        pytest.param("BBHBBHBB", [], id="a-healthy-window-breaks-the-streak"),
        pytest.param("BBLBB", [], id="low-traffic-breaks-a-pending-streak"),
        pytest.param("BB.BB", [], id="no-traffic-breaks-a-pending-streak"),
        pytest.param("BBBHH", [(3, "firing"), (5, "resolved")], id="resolves-after-two-healthy"),
        pytest.param("BBBHBHBH", [(3, "firing")], id="flapping-never-resolves"),
        pytest.param("BBBLLLLHH", [(3, "firing"), (9, "resolved")], id="low-traffic-dip-holds"),
        pytest.param("BBB..", [(3, "firing"), (5, "resolved")], id="gone-template-resolves"),
        pytest.param(
            "BBBHHBBB", [(3, "firing"), (5, "resolved"), (8, "firing")], id="fires-again-later"
        ),
    ],
)
def test_hysteresis(letters: str, expected: list[tuple[int, str]]) -> None:
    assert _run(letters)[1] == expected


def test_firing_alert_records_since_and_figures() -> None:
    state, _ = _run("HBBBB")

    s = state.series[KEY]
    assert (s.status, s.since, s.fired_at) == ("firing", minute(2), minute(4))
    assert s.metrics["window_end"] == minute(5)
    assert s.metrics["request_offload"] == 0.5
    assert state.last_window_end == minute(5)


def test_resolved_alert_keeps_when_it_ended() -> None:
    state, _ = _run("BBBHH")

    s = state.series[KEY]
    assert (s.status, s.since, s.resolved_at) == ("resolved", minute(1), minute(5))
    assert s.metrics["request_offload"] == 0.97


@pytest.mark.parametrize(
    ("renotify_s", "expected"),
    [
        pytest.param(0, [(3, "firing")], id="never"),
        pytest.param(240, [(3, "firing"), (7, "repeat"), (11, "repeat")], id="every-4-minutes"),
    ],
)
def test_still_firing_alert_is_repeated(renotify_s: int, expected: list) -> None:
    rules = Hysteresis(fire_after=3, resolve_after=2, renotify_s=renotify_s)

    assert _run("B" * 12, rules)[1] == expected


def test_escalation_is_notified_but_not_a_drop_in_severity() -> None:
    state = AlertState()
    kinds = []
    for i, severity in enumerate(["P3", "P3", "P3", "P3", "P1", "P1", "P2", "P1"], start=1):
        rows = {KEY: _row("B", severity)}
        kinds += [
            (i, e.kind, e.series.severity)
            for e in advance(state, minute(i - 5), minute(i), rows, RULES)
        ]

    assert kinds == [(3, "firing", "P3"), (5, "escalated", "P1")]


def test_events_of_one_window_are_ordered_most_severe_first_resolved_last() -> None:
    state = AlertState()
    rules = Hysteresis(fire_after=1, resolve_after=1, renotify_s=0)
    advance(state, minute(0), minute(1), {"gone": _row("B", "P1", "/gone", None)}, rules)
    rows = {
        "low": _row("B", "P3", "/low", None),
        "high": _row("B", "P1", "/high", None),
    }
    events = advance(state, minute(1), minute(2), rows, rules)

    assert [(e.kind, e.series.template) for e in events] == [
        ("firing", "/high"),
        ("firing", "/low"),
        ("resolved", "/gone"),
    ]


def test_events_are_snapshots() -> None:
    state = AlertState()
    rules = Hysteresis(fire_after=1, resolve_after=5, renotify_s=0)
    [event] = advance(state, minute(0), minute(1), {KEY: _row("B")}, rules)
    advance(state, minute(1), minute(2), {KEY: _row("H")}, rules)

    assert event.series.metrics["request_offload"] == 0.5
    assert state.series[KEY].metrics["request_offload"] == 0.97


def test_resolved_alerts_are_forgotten_after_retention() -> None:
    rules = Hysteresis(fire_after=1, resolve_after=1, renotify_s=0, retention_s=120)
    state, _ = _run("BH", rules)
    assert state.series[KEY].status == "resolved"

    _run("..", rules, state, first=3)
    assert KEY in state.series  # resolved at minute 2; minute 4 is 120 s later
    _run(".", rules, state, first=5)
    assert KEY not in state.series


def test_state_round_trips_through_its_document() -> None:
    state, _ = _run("BBBB")
    state.series[KEY].suggestion = {"code": "QUERY_STRING_IN_CACHE_KEY"}

    again = from_document(to_document(state))

    assert again == state
    assert again.series[KEY].since == minute(1)


def test_state_file_is_written_atomically_and_read_back(tmp_path) -> None:
    location = resolve(str(tmp_path / "alerts" / "state.json"))
    assert load_state(location) == AlertState()
    state, _ = _run("BBB")

    save_state(location, state)

    assert load_state(location) == state
    assert [p.name for p in (tmp_path / "alerts").iterdir()] == ["state.json"]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"{not json", id="not-json"),
        pytest.param(b'{"version": 99, "series": {}}', id="unknown-version"),
        pytest.param(b'{"version": 1, "series": {"k": {"bogus": 1}}}', id="bad-series"),
    ],
)
def test_damaged_state_file_is_a_terminal_error(tmp_path, content: bytes) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(content)

    with pytest.raises(AlertStateError) as info:
        load_state(resolve(str(path)))
    assert info.value.terminal


def test_repeat_interval_counts_from_the_last_notification() -> None:
    rules = Hysteresis(fire_after=1, resolve_after=9, renotify_s=180)
    state, seen = _run("BBBBBBB", rules)

    assert seen == [(1, "firing"), (4, "repeat"), (7, "repeat")]
    assert state.series[KEY].last_notified_at == minute(7)
    assert minute(7) - minute(4) == timedelta(seconds=180)
