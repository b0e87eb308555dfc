"""Client IPs are personal data: store them truncated or keyed-hashed unless the user opts in.

Parsers put the IP as logged into `client_key`; `apply_client_key` runs on every batch
before anything is written, so no other mode can leak a raw address to disk.
"""

from __future__ import annotations

from typing import Literal

import duckdb
import polars as pl
import pyarrow as pa

ClientIpMode = Literal["truncate", "hash", "raw"]

_IPV4 = r"^(\d{1,3}\.\d{1,3}\.\d{1,3})\.\d{1,3}$"
# IPv6: keep the first three hextets (a /48), whatever the compression.
_IPV6 = r"^([0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}).*$"
# The common shape, optionally with a port and surrounding white space: one regex pass
# gives truncate_ip()'s answer; every other value goes through truncate_ip() itself.
_PLAIN_IPV4 = r"^([0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})\.[0-9]{1,3}(?::[0-9]+)?$"


def truncate_ip(expr: pl.Expr) -> pl.Expr:
    """IPv4 to its /24 (`203.0.113.0`), IPv6 to its /48 (`2001:db8:1::`); other text to null.

    A port suffix (`1.2.3.4:5678`, `[2001:db8::1]:443`) is removed first.
    """
    ip = (
        expr.str.strip_chars()
        .str.replace(r"^\[([^\]]+)\](:\d+)?$", "$1")
        .str.replace(r"^(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}):\d+$", "$1")
    )
    v4 = ip.str.replace(_IPV4, "${1}.0")
    v6 = ip.str.to_lowercase().str.replace(_IPV6, "${1}::").str.replace(r":::+$", "::")
    return (
        pl.when(ip.str.contains(_IPV4)).then(v4).when(ip.str.contains(":")).then(v6).otherwise(None)
    )


def _truncate(col: pa.ChunkedArray) -> pa.Array:
    """truncate_ip() of every value, with plain IPv4 addresses done in one regex pass."""
    ips = pl.from_arrow(col)
    assert isinstance(ips, pl.Series)
    frame = ips.to_frame("ip").select(
        (pl.col("ip").str.extract(_PLAIN_IPV4, 1) + ".0").alias("fast"),
        pl.col("ip").is_not_null().alias("present"),
    )
    out = frame["fast"]
    rest = frame["present"] & out.is_null()
    if rest.any():
        other = ips.filter(rest).to_frame("ip").select(truncate_ip(pl.col("ip"))).to_series()
        out = out.scatter(rest.arg_true(), other)
    return out.to_arrow()


def apply_client_key(rows: pa.Table, mode: ClientIpMode, hash_key: str | None = None) -> pa.Table:
    """Replace the raw client IP in `client_key` according to `mode`.

    Args:
        rows: canonical rows whose `client_key` holds the IP as logged.
        mode: `truncate` (default policy), `hash` (keyed SHA-256, first 16 hex digits,
            stable across runs with the same key), or `raw` (explicit opt-in).
        hash_key: the secret for `hash` mode.

    Raises:
        ValueError: `hash` mode without a key (an unkeyed hash of an IPv4 address is
            reversible by brute force).
    """
    if mode == "raw" or rows.num_rows == 0:
        return rows
    idx = rows.schema.get_field_index("client_key")
    col = rows.column(idx)
    if mode == "truncate":
        out = _truncate(col)
    elif mode == "hash":
        if not hash_key:
            raise ValueError("client_ip_hash_key must be set when client_ip_mode is 'hash'")
        con = duckdb.connect()
        con.register("ips", pa.table({"ip": col}))
        out = (
            con.sql(
                "select substr(sha256($key || '|' || ip), 1, 16) as k from ips",
                params={"key": hash_key},
            )
            .to_arrow_table()
            .column("k")
        )
        con.close()
    else:
        raise ValueError(f"unknown client_ip_mode {mode!r}")
    return rows.set_column(idx, rows.schema.field(idx), pa.chunked_array(out).cast(pa.string()))
