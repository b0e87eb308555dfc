"""Typed dashboard settings, read from `CDN_OFFLOAD_DASHBOARD_*` environment variables.

`cdn-offload dashboard` turns its options into these variables before it starts
Streamlit, so the app and the command agree on one definition. Unknown keys are
rejected, so a typo fails at start-up naming the setting.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from transforms.errors import ConfigError

ENV_PREFIX = "CDN_OFFLOAD_DASHBOARD_"


class DashboardSettings(BaseSettings):
    """What the dashboard reads and how often it refreshes."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    data: str = "data"
    """Data directory or s3://bucket/prefix written by `cdn-offload ingest`."""
    config_file: str | None = None
    """TOML file whose `[transforms]` table sets threshold, min_requests, template rules."""
    refresh_s: float = Field(default=10.0, ge=1.0, le=3600.0)
    """Auto-refresh interval of the Live page."""
    live_window_min: int = Field(default=15, ge=1, le=24 * 60)
    """Complete minutes the Live headline figures cover."""
    history_min: int = Field(default=180, ge=5, le=7 * 24 * 60)
    """Minutes of per-minute history the Live charts show."""
    stale_after_s: float = Field(default=180.0, ge=10.0)
    """Age of the newest record above which the feed is shown as stale."""
    source: Literal["auto", "raw", "rollups"] = "auto"
    """Stored rollups, raw files, or rollups when they are up to date (auto)."""


def load_dashboard_settings(**overrides: object) -> DashboardSettings:
    """Settings from the environment, with `overrides` (None values ignored) on top.

    Raises:
        ConfigError: a setting is invalid; `setting` names it.
    """
    values = {k: v for k, v in overrides.items() if v is not None}
    try:
        return DashboardSettings(**values)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        setting = ".".join(str(p) for p in first["loc"]) or "dashboard"
        raise ConfigError(setting, first["msg"]) from None


def environment(settings: DashboardSettings) -> dict[str, str]:
    """The `CDN_OFFLOAD_DASHBOARD_*` variables that reproduce `settings` in another process."""
    return {
        f"{ENV_PREFIX}{name.upper()}": str(value)
        for name, value in settings.model_dump().items()
        if value is not None
    }
