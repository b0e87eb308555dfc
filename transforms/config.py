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


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> TransformSettings:
    """Settings from the `[transforms]` table of `config_file`, the environment and `overrides`.

    Overrides whose value is None are ignored, so CLI options can be passed as they are.

    Raises:
        ConfigError: a setting is unknown or invalid; `setting` names it.
    """
    values: dict[str, Any] = {}
    if config_file is not None:
        try:
            with open(config_file, "rb") as fh:
                document = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError("config_file", f"cannot read {config_file}: {exc}") from None
        section = document.get("transforms", {})
        if not isinstance(section, dict):
            raise ConfigError("transforms", "must be a table")
        # Keyword values beat the environment in pydantic-settings; drop file values
        # the environment sets so the order stays CLI > environment > file.
        environment = {k.upper() for k in os.environ}
        values.update(
            {k: v for k, v in section.items() if f"{ENV_PREFIX}{k}".upper() not in environment}
        )
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return TransformSettings(**values)
    except ValidationError as exc:
        raise _config_error(exc) from None
