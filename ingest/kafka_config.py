"""Typed Kafka consumer settings: connection, security, batching and operations.

Values come, lowest precedence first, from defaults, the `[kafka]` table of a TOML file
(`--config`), environment variables `CDN_OFFLOAD_KAFKA_<FIELD>` and command-line flags.
Every kafka-python security option passes through unchanged, so SSL and SASL
(PLAIN, SCRAM-SHA-256/512, OAUTHBEARER, GSSAPI) clusters work by configuration alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ingest.config import config_error, read_toml_table

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "GSSAPI"]
_SECRET_FIELDS = ("sasl_plain_password", "ssl_password", "sasl_oauth_token")


class KafkaSettings(BaseSettings):
    """Settings of the Kafka consumer (and of the replay producer's connection)."""

    model_config = SettingsConfigDict(
        env_prefix="CDN_OFFLOAD_KAFKA_", extra="forbid", validate_default=True
    )

    bootstrap_servers: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["localhost:9092"]
    )
    topics: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    """Topic -> format name, or `auto` to detect each batch's format from its content."""
    group_id: str = "cdn-offload"
    client_id: str = "cdn-offload"

    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism | None = None
    sasl_plain_username: str | None = None
    sasl_plain_password: SecretStr | None = None
    sasl_oauth_token: SecretStr | None = None
    sasl_oauth_token_file: Path | None = None
    """File holding the OAuth bearer token, re-read on each authentication (rotation)."""
    sasl_kerberos_service_name: str = "kafka"
    sasl_kerberos_domain_name: str | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    ssl_password: SecretStr | None = None
    ssl_crlfile: Path | None = None
    ssl_ciphers: str | None = None
    ssl_check_hostname: bool = True

    auto_offset_reset: Literal["earliest", "latest"] = "earliest"
    session_timeout_ms: int = Field(default=45_000, ge=1_000)
    heartbeat_interval_ms: int = Field(default=3_000, ge=100)
    max_poll_interval_ms: int = Field(default=300_000, ge=1_000)
    request_timeout_ms: int = Field(default=30_000, ge=1_000)
    fetch_max_wait_ms: int = Field(default=500, ge=0)
    fetch_max_bytes: int = Field(default=64 << 20, ge=1 << 16)
    max_partition_fetch_bytes: int = Field(default=16 << 20, ge=1 << 16)
    max_poll_records: int = Field(default=50_000, ge=1)
    reconnect_backoff_ms: int = Field(default=100, ge=1)
    record_blocks: bool = True
    """Decode each fetched record batch in one pass (ingest.kafka_records); false uses
    kafka-python's per-record decoding, about 5 µs more per message."""
    reconnect_backoff_max_ms: int = Field(default=30_000, ge=1)

    flush_max_messages: int = Field(default=200_000, ge=1)
    flush_max_bytes: int = Field(default=32 << 20, ge=1)
    flush_interval_s: float = Field(default=10.0, gt=0)
    """A partition's oldest buffered message is written within this time (freshness)."""
    buffer_max_bytes: int = Field(default=256 << 20, ge=1 << 16)
    """Buffered bytes over all partitions above which fetching pauses (bounded memory)."""
    max_message_bytes: int = Field(default=16 << 20, ge=1 << 10)
    """Larger messages (after decompression) are quarantined as oversized_message."""
    dead_letter_topic: str | None = None
    backoff_initial_s: float = Field(default=0.5, gt=0)
    backoff_max_s: float = Field(default=30.0, gt=0)

    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    ready_max_lag_records: int = Field(default=1_000_000, ge=0)

    @field_validator("bootstrap_servers", mode="before")
    @classmethod
    def _split_servers(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [s.strip() for s in value.split(",") if s.strip()]
        return value

    @field_validator("topics", mode="before")
    @classmethod
    def _topic_list(cls, value: Any) -> Any:
        """Accept `t1,t2=fastly_json`, `["t1", "t2=fastly_json"]` or a table `{t1 = "auto"}`."""
        if isinstance(value, str):
            value = [v for v in value.split(",") if v.strip()]
        if isinstance(value, list | tuple):
            pairs = [str(v).split("=", 1) for v in value]
            return {p[0].strip(): (p[1].strip() if len(p) > 1 else "auto") for p in pairs}
        return value

    @model_validator(mode="after")
    def _check(self) -> KafkaSettings:
        from ingest import formats

        for topic, fmt in self.topics.items():
            if fmt != "auto" and fmt not in formats.FORMAT_MODULES:
                raise ValueError(
                    f"topics.{topic}: format {fmt!r} is not supported; choose auto or one of "
                    + ", ".join(formats.FORMAT_MODULES)
                )
        if not self.bootstrap_servers:
            raise ValueError("bootstrap_servers: at least one HOST:PORT is required")
        self._check_security()
        if self.heartbeat_interval_ms >= self.session_timeout_ms:
            raise ValueError("heartbeat_interval_ms must be lower than session_timeout_ms")
        if self.flush_max_bytes > self.buffer_max_bytes:
            raise ValueError("flush_max_bytes must not exceed buffer_max_bytes")
        return self

    def _check_security(self) -> None:
        if not self.security_protocol.startswith("SASL_"):
            return
        mechanism = self.sasl_mechanism
        if mechanism is None:
            raise ValueError(f"sasl_mechanism is required with {self.security_protocol}")
        needs_password = mechanism in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
        if needs_password and (not self.sasl_plain_username or self.sasl_plain_password is None):
            raise ValueError(
                f"sasl_plain_username and sasl_plain_password are required for {mechanism}"
            )
        one_token = (self.sasl_oauth_token is None) != (self.sasl_oauth_token_file is None)
        if mechanism == "OAUTHBEARER" and not one_token:
            raise ValueError(
                "OAUTHBEARER needs exactly one of sasl_oauth_token or sasl_oauth_token_file"
            )

    def connection_config(self) -> dict[str, Any]:
        """kafka-python keyword arguments shared by consumer, producer and admin client."""
        cfg: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "client_id": self.client_id,
            "security_protocol": self.security_protocol,
            "request_timeout_ms": self.request_timeout_ms,
            "reconnect_backoff_ms": self.reconnect_backoff_ms,
            "reconnect_backoff_max_ms": self.reconnect_backoff_max_ms,
        }
        if self.security_protocol in ("SSL", "SASL_SSL"):
            cfg["ssl_check_hostname"] = self.ssl_check_hostname
            for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile", "ssl_crlfile"):
                if getattr(self, name) is not None:
                    cfg[name] = str(getattr(self, name))
            if self.ssl_ciphers:
                cfg["ssl_ciphers"] = self.ssl_ciphers
            if self.ssl_password is not None:
                cfg["ssl_password"] = self.ssl_password.get_secret_value()
        if self.security_protocol.startswith("SASL_"):
            cfg["sasl_mechanism"] = self.sasl_mechanism
            if self.sasl_plain_username is not None:
                cfg["sasl_plain_username"] = self.sasl_plain_username
            if self.sasl_plain_password is not None:
                cfg["sasl_plain_password"] = self.sasl_plain_password.get_secret_value()
            if self.sasl_mechanism == "GSSAPI":
                cfg["sasl_kerberos_service_name"] = self.sasl_kerberos_service_name
                if self.sasl_kerberos_domain_name:
                    cfg["sasl_kerberos_domain_name"] = self.sasl_kerberos_domain_name
            if self.sasl_mechanism == "OAUTHBEARER":
                cfg["sasl_oauth_token_provider"] = token_provider(
                    self.sasl_oauth_token, self.sasl_oauth_token_file
                )
        return cfg

    def consumer_config(self) -> dict[str, Any]:
        """kafka-python KafkaConsumer arguments; offsets are only ever committed explicitly."""
        return {
            **self.connection_config(),
            "group_id": self.group_id,
            "enable_auto_commit": False,
            "auto_offset_reset": self.auto_offset_reset,
            "session_timeout_ms": self.session_timeout_ms,
            "heartbeat_interval_ms": self.heartbeat_interval_ms,
            "max_poll_interval_ms": self.max_poll_interval_ms,
            "fetch_max_wait_ms": self.fetch_max_wait_ms,
            "fetch_max_bytes": self.fetch_max_bytes,
            "max_partition_fetch_bytes": self.max_partition_fetch_bytes,
            "max_poll_records": self.max_poll_records,
        }

    def describe(self) -> dict[str, Any]:
        """All settings as plain values with every secret shown as `**********`."""
        data = self.model_dump(mode="json")
        for name in _SECRET_FIELDS:
            if data.get(name) is not None:
                data[name] = "**********"
        return data


def token_provider(token: SecretStr | None, token_file: Path | None) -> Any:
    """A kafka-python OAUTHBEARER token provider for a fixed token or a token file."""
    try:
        from kafka.net.sasl.oauth import AbstractTokenProvider  # kafka-python 3
    except ImportError:
        from kafka.sasl.oauth import AbstractTokenProvider  # kafka-python 2

    class _Provider(AbstractTokenProvider):
        def token(self) -> str:
            if token is not None:
                return token.get_secret_value()
            assert token_file is not None
            # Re-read each time so an external agent can rotate the token.
            return token_file.read_text(encoding="utf-8").strip()

    return _Provider()


def load_kafka_settings(config_file: str | None = None, **overrides: Any) -> KafkaSettings:
    """Kafka settings from file, environment and non-None `overrides` (command-line flags).

    Raises:
        ConfigError: a setting is invalid; the message names every bad setting.
    """
    values = read_toml_table(config_file, "kafka")
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return KafkaSettings(**values)
    except ValidationError as exc:
        raise config_error(exc, "kafka") from exc
