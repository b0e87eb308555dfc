"""Typed ingest settings, validated once at start-up.

Values come, lowest precedence first, from defaults, a TOML file (`--config`, table
`[ingest]`), environment variables `CDN_OFFLOAD_INGEST_<FIELD>`, and command-line
flags. Unknown keys are errors, so a typo fails at start-up naming the setting.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingest.errors import ConfigError


class IngestSettings(BaseSettings):
    """Settings shared by the file and Kafka ingest paths."""

    model_config = SettingsConfigDict(
        env_prefix="CDN_OFFLOAD_INGEST_", extra="forbid", validate_default=True
    )

    out: str = "data"
    """Data directory or s3://bucket/prefix receiving raw/ and quarantine/."""
    format: str = "auto"
    client_ip_mode: Literal["truncate", "hash", "raw"] = "truncate"
    client_ip_hash_key: SecretStr | None = None
    chunk_bytes: int = Field(default=64 << 20, ge=1 << 16)
    """Decompressed bytes of a file written to one set of output files (bounds memory)."""
    parquet_compression: Literal["zstd", "snappy", "gzip", "lz4", "none"] = "zstd"
    row_group_size: int = Field(default=256_000, ge=1_000)
    cloudfront_realtime_fields: list[str] | None = None
    """Field names of the CloudFront real-time log configuration, in delivery order
    (unset: every field selected, the 40- or 43-field list)."""
    cloudfront_realtime_sampling_pct: float = Field(default=100.0, gt=0, le=100)
    """Sampling rate of the CloudFront real-time log configuration: rows weigh 100 / rate."""

    @model_validator(mode="after")
    def _check(self) -> IngestSettings:
        from ingest import formats

        if self.format != "auto" and self.format not in formats.FORMAT_MODULES:
            raise ValueError(
                f"format {self.format!r} is not supported; choose auto or one of "
                + ", ".join(formats.FORMAT_MODULES)
            )
        if self.cloudfront_realtime_fields is not None:
            from ingest.formats.cloudfront_realtime import REQUIRED_FIELDS

            missing = [f for f in REQUIRED_FIELDS if f not in self.cloudfront_realtime_fields]
            if missing:
                raise ValueError(
                    "cloudfront_realtime_fields lacks "
                    + ", ".join(missing)
                    + ": without them no record can be analysed"
                )
        if self.client_ip_mode == "hash" and not self.client_ip_hash_key:
            raise ValueError("client_ip_hash_key is required when client_ip_mode is 'hash'")
        return self

    def hash_key(self) -> str | None:
        return self.client_ip_hash_key.get_secret_value() if self.client_ip_hash_key else None


def read_toml_table(path: str | None, table: str) -> dict[str, Any]:
    """Table `table` of TOML file `path` ({} without a file).

    Raises:
        ConfigError: the file is missing or not valid TOML.
    """
    if not path:
        return {}
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError("--config", f"file {path} not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("--config", f"{path} is not valid TOML: {exc}") from exc
    value = data.get(table, {})
    if not isinstance(value, dict):
        raise ConfigError(table, f"[{table}] in {path} must be a table")
    return value


def describe_validation_error(exc: ValidationError, prefix: str) -> str:
    """One line per bad setting, naming it: `ingest.chunk_bytes: Input should be ...`."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        # Cross-field checks name their settings in the message itself.
        message = err["msg"].removeprefix("Value error, ")
        lines.append(f"{prefix}.{loc}: {message}" if loc else f"{prefix}: {message}")
    return "\n".join(lines)


def config_error(exc: ValidationError, prefix: str) -> ConfigError:
    """A ConfigError naming the bad setting (or, for several, listing one per line)."""
    errors = exc.errors()
    if len(errors) == 1:
        loc = ".".join(str(p) for p in errors[0]["loc"])
        message = errors[0]["msg"].removeprefix("Value error, ")
        return ConfigError(f"{prefix}.{loc}" if loc else prefix, message)
    return ConfigError(prefix, "\n" + describe_validation_error(exc, prefix))


def load_settings(config_file: str | None = None, **overrides: Any) -> IngestSettings:
    """Settings from file, environment and non-None `overrides` (command-line flags).

    Raises:
        ConfigError: a setting is invalid; the message names every bad setting.
    """
    values = read_toml_table(config_file, "ingest")
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return IngestSettings(**values)
    except ValidationError as exc:
        raise config_error(exc, "ingest") from exc
