"""Alert settings: defaults, TOML [alerts] table, environment, validation naming the setting."""

from __future__ import annotations

import pytest

from transforms.alert_config import load_alert_settings, redact_url
from transforms.errors import ConfigError

pytestmark = pytest.mark.unit


def test_defaults() -> None:
    s = load_alert_settings()

    assert (s.window_minutes, s.step_minutes) == (5, 1)
    assert (s.fire_after_windows, s.resolve_after_windows) == (3, 3)
    assert s.threshold is None  # the transforms threshold applies
    assert (s.console, s.webhooks, s.kafka_topic, s.metrics_port) == (True, (), None, None)


def test_toml_table_and_overrides(tmp_path) -> None:
    config = tmp_path / "cdn-offload.toml"
    config.write_text(
        """
[transforms]
threshold = 0.8

[alerts]
window_minutes = 10
min_requests = 50
webhooks = ["https://hooks.slack.example/services/T0/B0/secret"]
severity_overrides = [
  { pattern = "^/api/v1/users/", severity = "ignore" },
  { pattern = "/score$", severity = "P1", cdn = "fastly" },
]
"""
    )

    s = load_alert_settings(config, min_requests=75, threshold=None)

    assert (s.window_minutes, s.min_requests) == (10, 75)
    assert [w.get_secret_value() for w in s.webhooks] == [
        "https://hooks.slack.example/services/T0/B0/secret"
    ]
    assert [(o.pattern, o.severity, o.cdn) for o in s.severity_overrides] == [
        ("^/api/v1/users/", "ignore", None),
        ("/score$", "P1", "fastly"),
    ]


def test_environment_beats_file_and_splits_url_lists(tmp_path, monkeypatch) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[alerts]\nfire_after_windows = 5\n")
    monkeypatch.setenv("CDN_OFFLOAD_ALERTS_FIRE_AFTER_WINDOWS", "2")
    monkeypatch.setenv("CDN_OFFLOAD_ALERTS_ALERTMANAGER_URLS", "http://a:9/x, http://b:9/y")

    s = load_alert_settings(config)

    assert s.fire_after_windows == 2
    assert [u.get_secret_value() for u in s.alertmanager_urls] == ["http://a:9/x", "http://b:9/y"]


@pytest.mark.parametrize(
    ("values", "setting"),
    [
        pytest.param({"window_minute": 5}, "alerts.window_minute", id="typo"),
        pytest.param({"window_minutes": 0}, "alerts.window_minutes", id="zero-window"),
        pytest.param({"threshold": 1.5}, "alerts.threshold", id="threshold-over-one"),
        pytest.param({"webhooks": ["ftp://x/y"]}, "alerts.webhooks", id="not-http"),
        pytest.param({"dashboard_url": "dashboard"}, "alerts.dashboard_url", id="relative-url"),
        pytest.param(
            {"severity_overrides": [{"pattern": "(", "severity": "P1"}]},
            "alerts.severity_overrides.0.pattern",
            id="bad-regex",
        ),
        pytest.param(
            {"severity_overrides": [{"pattern": "x", "severity": "P0"}]},
            "alerts.severity_overrides.0.severity",
            id="bad-severity",
        ),
        pytest.param({"webhook_format": "teams"}, "alerts.webhook_format", id="bad-format"),
    ],
)
def test_invalid_settings_name_the_setting(values: dict, setting: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_alert_settings(**values)

    assert info.value.setting == setting


def test_unknown_key_in_file_is_rejected(tmp_path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[alerts]\nrenotify_every = 60\n")

    with pytest.raises(ConfigError, match="renotify_every"):
        load_alert_settings(config)


def test_describe_hides_webhook_tokens() -> None:
    s = load_alert_settings(webhooks=["https://hooks.slack.example:8443/services/T0/B0/secret"])

    assert s.describe()["webhooks"] == ["https://hooks.slack.example:8443/…"]
    assert "secret" not in repr(s)
    assert redact_url("http://127.0.0.1/x?token=1") == "http://127.0.0.1/…"
