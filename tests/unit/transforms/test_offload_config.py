"""Typed settings of the offload analytics: defaults, sources, and errors naming the setting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from transforms.config import load_settings
from transforms.errors import ConfigError
from transforms.offload import Window

pytestmark = pytest.mark.unit


def test_defaults() -> None:
    settings = load_settings()

    assert (settings.threshold, settings.min_requests, settings.max_templates_per_host) == (
        0.9,
        1000,
        500,
    )
    assert (settings.p1_min_origin_share, settings.p2_min_origin_share) == (0.2, 0.05)


def test_toml_then_environment_then_overrides(tmp_path, monkeypatch) -> None:
    config = tmp_path / "cdn-offload.toml"
    config.write_text(
        "[transforms]\nthreshold = 0.8\nmin_requests = 50\n"
        '[[transforms.template_rules]]\npattern = "^/api/v1/match/\\\\d+/score$"\ntemplate = "/api/v1/match/{match}/score"\n'
    )
    monkeypatch.setenv("CDN_OFFLOAD_TRANSFORMS_MIN_REQUESTS", "70")

    settings = load_settings(config, threshold=0.95, min_requests=None)

    assert settings.threshold == 0.95
    assert settings.min_requests == 70  # the environment beats the file
    assert settings.template_rules[0].template == "/api/v1/match/{match}/score"
    monkeypatch.delenv("CDN_OFFLOAD_TRANSFORMS_MIN_REQUESTS")
    assert load_settings(config).min_requests == 50


@pytest.mark.parametrize(
    ("values", "setting"),
    [
        ({"thresold": 0.9}, "thresold"),
        ({"threshold": 0}, "threshold"),
        ({"min_requests": -1}, "min_requests"),
        ({"template_rules": [{"pattern": "(", "template": "x"}]}, "template_rules.0.pattern"),
        (
            {"template_rules": [{"pattern": "a", "template": "b", "host": "x"}]},
            "template_rules.0.host",
        ),
        ({"p1_min_origin_share": 0.01}, "p1_min_origin_share"),
    ],
    ids=["typo", "threshold-zero", "negative-min", "bad-regex", "unknown-rule-key", "p2-above-p1"],
)
def test_invalid_settings_name_the_setting(values: dict, setting: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(**values)

    assert err.value.setting == setting or (
        setting == "p1_min_origin_share" and "p2_min_origin_share" in str(err.value)
    )


def test_unreadable_config_file(tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[transforms\n")

    with pytest.raises(ConfigError, match="config_file"):
        load_settings(bad)


def test_rollup_fingerprint_follows_only_rollup_shaping_settings() -> None:
    base = load_settings().rollup_fingerprint()

    assert load_settings(threshold=0.5).rollup_fingerprint() == base
    assert load_settings(max_templates_per_host=7).rollup_fingerprint() != base


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2024-03-10T10:00:30+00:00", "2024-03-10T10:05:30+00:00", ("10:00", "10:06")),
        ("2024-03-10T10:00:00+00:00", "2024-03-10T10:05:00+00:00", ("10:00", "10:05")),
        ("2024-03-10T15:30:00+05:30", "2024-03-10T15:31:00+05:30", ("10:00", "10:01")),
    ],
    ids=["seconds-round-outwards", "aligned", "offset-to-utc"],
)
def test_windows_align_to_minutes_in_utc(start: str, end: str, expected: tuple[str, str]) -> None:
    window = Window.aligned(datetime.fromisoformat(start), datetime.fromisoformat(end))

    assert window.start is not None and window.end is not None
    assert window.start.tzinfo == UTC
    assert (f"{window.start:%H:%M}", f"{window.end:%H:%M}") == expected
    assert window.overlaps("2024-03-10", "10") and not window.overlaps("2024-03-10", "11")
