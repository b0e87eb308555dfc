"""Typed settings of offload alerts, loaded once at start-up and passed down explicitly.

Values come, lowest precedence first, from defaults, the `[alerts]` table of a TOML
file, `CDN_OFFLOAD_ALERTS_*` environment variables and keyword arguments (the CLI).
Unknown keys are rejected, so a typo fails at start-up with an error naming the
setting. The offload threshold and the severity cut-offs are shared with the
analytics (`[transforms]`, see transforms/config.py) unless overridden here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import duckdb
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from transforms.config import file_values
from transforms.errors import ConfigError

ENV_PREFIX = "CDN_OFFLOAD_ALERTS_"
Severity = Literal["P1", "P2", "P3"]
SEVERITY_RANK = {"P1": 1, "P2": 2, "P3": 3}


class SeverityOverride(BaseModel):
    """Templates matching `pattern` (on `cdn`, or any CDN) get `severity`; `ignore` mutes them.

    `pattern` is an RE2 regular expression searched in the template text (anchor it
    with `^...$` to match whole templates); placeholders such as `{id}` match literally.
    The first matching override wins.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: str = Field(min_length=1)
    severity: Literal["P1", "P2", "P3", "ignore"]
    cdn: str | None = None

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        # DuckDB evaluates the overrides (RE2), so validate with the same engine.
        try:
            duckdb.execute("select regexp_matches('', $p)", {"p": value})
        except duckdb.Error as exc:
            raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
        return value


def _url(value: SecretStr) -> SecretStr:
    parts = urlsplit(value.get_secret_value())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http:// or https:// URL")
    return value


class AlertSettings(BaseSettings):
    """Settings of alert evaluation, state, notification sinks and metrics."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    threshold: float | None = Field(default=None, gt=0.0, le=1.0)
    """Request offload under which a window breaches; default: the transforms threshold."""
    min_requests: int = Field(default=300, ge=1)
    """GET/HEAD requests a template (x CDN) needs in one window for it to count."""
    window_minutes: int = Field(default=5, ge=1, le=240)
    step_minutes: int = Field(default=1, ge=1, le=60)
    fire_after_windows: int = Field(default=3, ge=1)
    """Consecutive breaching windows before an alert fires."""
    resolve_after_windows: int = Field(default=3, ge=1)
    """Consecutive healthy windows before a firing alert resolves."""
    renotify_interval_s: int = Field(default=1800, ge=0)
    """A still-firing alert is notified again after this long (0: never)."""
    settle_minutes: int = Field(default=1, ge=0, le=60)
    """Newest minutes left out of live evaluation, so late log deliveries can land first."""
    max_catchup_windows: int = Field(default=60, ge=1)
    """Windows evaluated at most in one live cycle (first start, or after a pause)."""
    resolved_retention_s: int = Field(default=86_400, ge=0)
    """How long resolved alerts stay in the state file (data time)."""
    severity_overrides: tuple[SeverityOverride, ...] = ()

    state_path: str | None = None
    """Local path or s3:// URI of the state file; default DATA_DIR/alerts/state.json."""
    dashboard_url: str | None = None
    """Base URL of the dashboard; alerts link to its Explore page with filters applied."""
    interval_s: float = Field(default=30.0, gt=0)
    """Pause between two live evaluation cycles."""

    console: bool = True
    jsonl_path: str | None = None
    """File receiving one JSON notification per line (`-` for stdout)."""
    webhooks: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    """Webhook URLs (secrets: they usually carry a token) receiving each notification."""
    webhook_format: Literal["slack", "json"] = "slack"
    alertmanager_urls: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    """URLs receiving Alertmanager webhook-receiver payloads (version 4)."""
    kafka_topic: str | None = None
    webhook_timeout_s: float = Field(default=5.0, gt=0)
    delivery_attempts: int = Field(default=5, ge=1)
    backoff_initial_s: float = Field(default=0.5, gt=0)
    backoff_max_s: float = Field(default=30.0, gt=0)
    queue_max: int = Field(default=1000, ge=1)
    """Notifications waiting per asynchronous sink; beyond it the oldest are dropped."""
    failing_after: int = Field(default=3, ge=1)
    """Notifications given up in a row after which a sink is reported failing."""

    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_top_series: int = Field(default=20, ge=1, le=1000)
    """Flagged template x scope series exported as gauges at most (bounded cardinality)."""

    @field_validator("webhooks", "alertmanager_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(v.strip() for v in value.split(",") if v.strip())
        return value

    @field_validator("webhooks", "alertmanager_urls")
    @classmethod
    def _check_urls(cls, value: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        return tuple(_url(v) for v in value)

    @field_validator("dashboard_url")
    @classmethod
    def _check_dashboard(cls, value: str | None) -> str | None:
        if value is not None:
            _url(SecretStr(value))
        return value

    def describe(self) -> dict[str, Any]:
        """All settings as plain values; webhook URLs show only scheme and host."""
        data = self.model_dump(mode="json")
        for name in ("webhooks", "alertmanager_urls"):
            data[name] = [redact_url(v.get_secret_value()) for v in getattr(self, name)]
        return data


def redact_url(url: str) -> str:
    """`scheme://host/…`: enough to tell endpoints apart in logs, without path tokens."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/…"


def _config_error(exc: ValidationError) -> ConfigError:
    first = exc.errors()[0]
    setting = ".".join(str(p) for p in first["loc"])
    return ConfigError(f"alerts.{setting}" if setting else "alerts", first["msg"])


def load_alert_settings(config_file: str | Path | None = None, **overrides: Any) -> AlertSettings:
    """Settings from the `[alerts]` table of `config_file`, the environment and `overrides`.

    Overrides whose value is None (or an empty list) are ignored, so CLI options can
    be passed as they are.

    Raises:
        ConfigError: a setting is unknown or invalid; `setting` names it.
    """
    values = file_values(config_file, "alerts", ENV_PREFIX)
    values.update({k: v for k, v in overrides.items() if v is not None and v != []})
    try:
        return AlertSettings(**values)
    except ValidationError as exc:
        raise _config_error(exc) from None
