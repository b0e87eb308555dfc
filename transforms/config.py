"""Typed settings of the offload analytics, loaded once and passed down explicitly.

Values come from keyword arguments (the CLI), then `CDN_OFFLOAD_TRANSFORMS_*`
environment variables, then the `[transforms]` table of a TOML file. Unknown keys
are rejected, so a typo fails at start-up with an error naming the setting.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from transforms.errors import ConfigError

ENV_PREFIX = "CDN_OFFLOAD_TRANSFORMS_"


class TemplateRule(BaseModel):
    """A user rule: paths matching `pattern` get `template`, before any built-in rule.

    `pattern` is a Rust/RE2-style regular expression (no look-around or
    back-references); `template` may refer to groups as `$1` or `${name}`. Anchor the
    pattern (`^...$`) to set the whole template.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: str = Field(min_length=1)
    template: str = Field(min_length=1)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            pl.Series([""]).str.contains(value)
        except pl.exceptions.ComputeError as exc:
            raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
        return value


class SuggestionSettings(BaseModel):
    """Thresholds of the cache-policy suggestion rules (docs/suggestions.md explains each)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    """Compute suggestions in analyze (they read raw requests; off keeps analyze on rollups only)."""
    evidence_max_rows: int = Field(default=1_000_000, ge=1000)
    """Above this many logged requests of the studied templates, evidence reads whole
    5-minute blocks of the window drawn at random (deterministically), weighted up."""
    min_requests: int = Field(default=100, ge=1)
    """GET/HEAD requests a template, or one CDN's slice of it, needs before rules judge it."""
    min_addressable_share: float = Field(default=0.05, gt=0.0, le=1.0)
    """Origin requests a cause must explain, as a share of the scope's GET/HEAD requests."""
    min_explained_share: float = Field(default=0.5, gt=0.0, le=1.0)
    """Share of the scope's origin requests one cause must explain for its rule to fire."""
    errors_min_share: float = Field(default=0.25, gt=0.0, le=1.0)
    """Share of origin requests that must be origin errors for ERRORS_NOT_CACHED."""
    query_min_request_share: float = Field(default=0.5, gt=0.0, le=1.0)
    short_ttl_s: int = Field(default=10, ge=1)
    """A repeat miss of an object whose max-age is at most this counts as an expiry."""
    assumed_ttl_s: int = Field(default=60, ge=1)
    """TTL the estimates assume for a template whose logs carry no max-age at all."""
    live_manifest_ttl_s: int = Field(default=2, ge=1)
    suggested_s_maxage_s: int = Field(default=10, ge=1)
    stale_while_revalidate_s: int = Field(default=30, ge=1)
    negative_ttl_s: int = Field(default=5, ge=1)
    stale_if_error_s: int = Field(default=300, ge=1)
    personal_min_repeat_objects: int = Field(default=10, ge=1)
    personal_min_single_client_share: float = Field(default=0.9, gt=0.0, le=1.0)
    shared_min_multi_client_share: float = Field(default=0.5, gt=0.0, le=1.0)
    not_cacheable_min_requests_per_key: float = Field(default=5.0, gt=0.0)
    long_tail_min_objects: int = Field(default=100, ge=2)
    outlier_min_gap: float = Field(default=0.05, gt=0.0, le=1.0)
    significance_z: float = Field(default=3.0, ge=0.0)
    """Standard errors a gap between two offload ratios must exceed to count."""
    spike_factor: float = Field(default=2.0, gt=1.0)
    """A minute is a spike when its requests reach this multiple of the rolling median."""
    spike_window_min: int = Field(default=15, ge=1)
    collapsing_min_gap: float = Field(default=0.05, gt=0.0, le=1.0)
    snapshot_min_requests: int = Field(default=1000, ge=1)
    capacity_peak_minutes: int = Field(default=5, ge=1)
    """Busiest minutes (by distinct clients) the per-viewer rates of capacity come from."""


class TransformSettings(BaseSettings):
    """Settings of rollups, offload metrics and flags."""

    model_config = SettingsConfigDict(
        env_prefix="CDN_OFFLOAD_TRANSFORMS_", extra="forbid", frozen=True
    )

    threshold: float = Field(default=0.90, gt=0.0, le=1.0)
    """Request offload under which a template is flagged."""
    min_requests: int = Field(default=1000, ge=1)
    """Cacheable (GET/HEAD viewer) requests a template needs in the window to be flagged."""
    p1_min_origin_share: float = Field(default=0.20, gt=0.0, le=1.0)
    p2_min_origin_share: float = Field(default=0.05, gt=0.0, le=1.0)
    template_rules: tuple[TemplateRule, ...] = ()
    max_templates_per_host: int = Field(default=500, ge=1)
    """Templates kept per host and hour; rarer ones are counted under `/{other}`."""
    top_templates: int = Field(default=50, ge=1)
    """Templates listed in the analyze output, by requests."""
    suggestions: SuggestionSettings = SuggestionSettings()
    """Cache-policy suggestion rules (`[transforms.suggestions]` in the TOML file)."""

    @model_validator(mode="after")
    def _severity_order(self) -> TransformSettings:
        if self.p2_min_origin_share > self.p1_min_origin_share:
            raise ValueError("p2_min_origin_share must not exceed p1_min_origin_share")
        return self

    def rollup_fingerprint(self) -> str:
        """Hash of the settings that shape stored rollups; a change forces a rebuild."""
        shape = {
            "template_rules": [r.model_dump() for r in self.template_rules],
            "max_templates_per_host": self.max_templates_per_host,
        }
        return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:16]


def _config_error(exc: ValidationError) -> ConfigError:
    first = exc.errors()[0]
    setting = ".".join(str(p) for p in first["loc"]) or "transforms"
    return ConfigError(setting, first["msg"])


def file_values(config_file: str | Path | None, table: str, env_prefix: str) -> dict[str, Any]:
    """Settings of TOML table `table` in `config_file` ({} without a file), less those the
    environment sets: keyword values beat the environment in pydantic-settings, so this
    keeps the order CLI > environment > file.

    Raises:
        ConfigError: the file cannot be read, or `table` is not a table.
    """
    if config_file is None:
        return {}
    try:
        with open(config_file, "rb") as fh:
            document = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError("config_file", f"cannot read {config_file}: {exc}") from None
    section = document.get(table, {})
    if not isinstance(section, dict):
        raise ConfigError(table, "must be a table")
    environment = {k.upper() for k in os.environ}
    return {k: v for k, v in section.items() if f"{env_prefix}{k}".upper() not in environment}


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> TransformSettings:
    """Settings from the `[transforms]` table of `config_file`, the environment and `overrides`.

    Overrides whose value is None are ignored, so CLI options can be passed as they are.

    Raises:
        ConfigError: a setting is unknown or invalid; `setting` names it.
    """
    values = file_values(config_file, "transforms", ENV_PREFIX)
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return TransformSettings(**values)
    except ValidationError as exc:
        raise _config_error(exc) from None
