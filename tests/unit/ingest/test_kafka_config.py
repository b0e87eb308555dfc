"""Kafka settings: typed, strict, secrets hidden, every security option passed through."""

from __future__ import annotations

import re

import pytest

from ingest.errors import ConfigError
from ingest.kafka_config import load_kafka_settings

pytestmark = pytest.mark.unit


def test_defaults_commit_only_explicitly_and_assume_nothing_about_security():
    s = load_kafka_settings(topics=["cdn-logs"])
    cfg = s.consumer_config()
    assert cfg["enable_auto_commit"] is False
    assert cfg["security_protocol"] == "PLAINTEXT"  # Kafka's own default, overridable
    assert not any(k.startswith(("sasl_", "ssl_")) for k in cfg)
    assert s.topics == {"cdn-logs": "auto"}
    assert s.flush_interval_s == 10.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(["a", "b=fastly_json"], {"a": "auto", "b": "fastly_json"}, id="list"),
        pytest.param("a,b=nginx", {"a": "auto", "b": "nginx"}, id="comma-string"),
        pytest.param({"a": "cloudfront_standard"}, {"a": "cloudfront_standard"}, id="table"),
    ],
)
def test_topic_to_format_mapping(value, expected):
    assert load_kafka_settings(topics=value).topics == expected


def test_sasl_scram_over_ssl_passes_through(tmp_path):
    ca = tmp_path / "ca.pem"
    s = load_kafka_settings(
        bootstrap_servers="b1:9093,b2:9093",
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_plain_username="ingest",
        sasl_plain_password="s3cret",
        ssl_cafile=str(ca),
        ssl_password="keypass",
        ssl_check_hostname=False,
    )
    cfg = s.connection_config()
    assert cfg["bootstrap_servers"] == ["b1:9093", "b2:9093"]
    assert cfg["security_protocol"] == "SASL_SSL"
    assert cfg["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (cfg["sasl_plain_username"], cfg["sasl_plain_password"]) == ("ingest", "s3cret")
    assert cfg["ssl_cafile"] == str(ca) and cfg["ssl_password"] == "keypass"
    assert cfg["ssl_check_hostname"] is False


def test_secrets_never_show_in_reprs_or_descriptions():
    s = load_kafka_settings(
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="PLAIN",
        sasl_plain_username="u",
        sasl_plain_password="hunter2",
    )
    assert "hunter2" not in repr(s) and "hunter2" not in str(s)
    assert s.describe()["sasl_plain_password"] == "**********"


def test_oauthbearer_token_file_is_reread_for_rotation(tmp_path):
    token = tmp_path / "token"
    token.write_text("first\n")
    s = load_kafka_settings(
        security_protocol="SASL_SSL", sasl_mechanism="OAUTHBEARER", sasl_oauth_token_file=str(token)
    )
    provider = s.connection_config()["sasl_oauth_token_provider"]
    assert provider.token() == "first"
    token.write_text("second")
    assert provider.token() == "second"
    fixed = load_kafka_settings(
        security_protocol="SASL_SSL", sasl_mechanism="OAUTHBEARER", sasl_oauth_token="tok"
    )
    assert fixed.connection_config()["sasl_oauth_token_provider"].token() == "tok"


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        pytest.param({"securty_protocol": "SSL"}, "kafka.securty_protocol", id="typo"),
        pytest.param({"security_protocol": "TLS"}, "kafka.security_protocol", id="enum"),
        pytest.param({"security_protocol": "SASL_SSL"}, "sasl_mechanism is required", id="no-mech"),
        pytest.param(
            {"security_protocol": "SASL_SSL", "sasl_mechanism": "PLAIN"},
            "sasl_plain_username and sasl_plain_password",
            id="no-password",
        ),
        pytest.param(
            {"security_protocol": "SASL_SSL", "sasl_mechanism": "OAUTHBEARER"},
            "sasl_oauth_token",
            id="no-token",
        ),
        pytest.param({"topics": ["t=nope"]}, "topics.t: format 'nope'", id="format"),
        pytest.param({"flush_interval_s": 0}, "kafka.flush_interval_s", id="flush"),
        pytest.param({"heartbeat_interval_ms": 50_000}, "heartbeat_interval_ms", id="heartbeat"),
        pytest.param({"bootstrap_servers": ""}, "bootstrap_servers", id="no-servers"),
    ],
)
def test_bad_settings_are_named(overrides, needle):
    with pytest.raises(ConfigError, match=re.escape(needle)):
        load_kafka_settings(**overrides)


def test_toml_file_and_environment(tmp_path, monkeypatch):
    cfg = tmp_path / "ingest.toml"
    cfg.write_text(
        '[kafka]\nbootstrap_servers = ["k1:9092"]\ngroup_id = "edge"\n'
        'topics = { "cf-logs" = "cloudfront_standard" }\nsession_timeout_ms = 10000\n'
    )
    monkeypatch.setenv("CDN_OFFLOAD_KAFKA_FLUSH_MAX_MESSAGES", "1234")
    s = load_kafka_settings(str(cfg), group_id="override")
    assert s.bootstrap_servers == ["k1:9092"] and s.group_id == "override"
    assert s.topics == {"cf-logs": "cloudfront_standard"}
    assert s.session_timeout_ms == 10000 and s.flush_max_messages == 1234
    cfg.write_text("[kafka]\nflush_interval = 3\n")
    with pytest.raises(ConfigError, match=re.escape("kafka.flush_interval")):
        load_kafka_settings(str(cfg))
