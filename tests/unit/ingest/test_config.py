import pytest

from ingest.config import load_settings
from ingest.errors import ConfigError


def test_defaults_are_private_and_automatic():
    s = load_settings()
    assert s.client_ip_mode == "truncate"
    assert s.format == "auto"


def test_unknown_setting_is_named(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[ingest]\nchunk_byte = 5\n")
    with pytest.raises(ConfigError, match=r"ingest\.chunk_byte"):
        load_settings(str(cfg))


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        pytest.param({"format": "nope"}, "format 'nope' is not supported", id="format"),
        pytest.param({"client_ip_mode": "hash"}, "client_ip_hash_key is required", id="hash-key"),
        pytest.param({"client_ip_mode": "plain"}, "ingest.client_ip_mode", id="mode"),
        pytest.param({"chunk_bytes": 10}, "ingest.chunk_bytes", id="chunk"),
    ],
)
def test_invalid_values_name_the_setting(overrides, needle):
    with pytest.raises(ConfigError, match=needle):
        load_settings(**overrides)


def test_missing_or_broken_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(str(tmp_path / "missing.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("[ingest\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(str(bad))
