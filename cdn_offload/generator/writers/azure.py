"""Azure Front Door (Standard/Premium) access logs: Azure Monitor records, one per line.

As in diagnostic-settings exports to storage, numbers are JSON strings and
`isReceivedFromClient` a boolean. Front Door has no revalidation or stale value, so
those behaviours log `HIT`; shield hits log `REMOTE_HIT` (parent tier). An origin 5xx
is a `MISS` whose `errorInfo` names the origin failure. Front Door logs no viewer
country and no body size.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl

from cdn_offload.generator.catalog import Behaviour as B
from cdn_offload.generator.ids import b64_ids
from cdn_offload.generator.writers.common import Field, by_behaviour, json_lines, seconds_text
from ingest.schema import AZURE_CACHE_STATUS

CDN = "azure"
FORMAT = "azure_front_door"
UNLOGGED = ("country", "body_bytes")
RESOURCE_ID = (
    "/SUBSCRIPTIONS/0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0/RESOURCEGROUPS/LIVE-RG"
    "/PROVIDERS/MICROSOFT.CDN/PROFILES/CRICSTREAM-AFD"
)
CACHE = {
    B.HIT: "HIT", B.HIT_SHIELD: "REMOTE_HIT", B.HIT_STALE: "HIT", B.HIT_UPDATING: "HIT",
    B.REVALIDATED: "HIT", B.MISS: "MISS", B.MISS_EXPIRED: "MISS", B.PASS: "CACHE_NOCONFIG",
    B.UNCACHEABLE: "PRIVATE_NOSTORE", B.REDIRECT: "N/A", B.ORIGIN_ERROR: "MISS",
}  # fmt: skip
INTENDED = {b: AZURE_CACHE_STATUS[v].value for b, v in CACHE.items()}
_FROM_ORIGIN = [int(b) for b in (B.MISS, B.MISS_EXPIRED, B.PASS, B.UNCACHEABLE, B.ORIGIN_ERROR)]


def header(hour_ms: int) -> bytes:
    del hour_ms
    return b""


def file_name(hour_ms: int, token: str) -> str:
    # Diagnostic settings to storage: .../y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json
    hour = datetime.fromtimestamp(hour_ms / 1000, tz=UTC)
    return f"y={hour:%Y}/m={hour:%m}/d={hour:%d}/h={hour:%H}/m=00/PT1H-{token}.json.gz"


def enrich(df: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """`df` plus the intended canonical columns and the vendor fields."""
    return df.with_columns(
        (pl.col("t_ms") + pl.col("taken_ms")).alias("event_ms"),
        ("0" + b64_ids(rng, df.height, 48).str.replace_all("[-_]", "A")).alias("request_id"),
        by_behaviour(INTENDED).alias("cache_status"),
        pl.col("pop").alias("canonical_pop"),
    )


def render(df: pl.DataFrame) -> bytes | memoryview:
    """Log lines of `df` (already enriched), in row order."""
    ms = pl.col("event_ms")
    time = pl.concat_str(
        [pl.from_epoch(ms, time_unit="ms").dt.strftime("%Y-%m-%dT%H:%M:%S"), pl.lit("."),
         (ms % 1000).cast(pl.String).str.zfill(3), pl.lit("4567Z")]
    )  # fmt: skip
    https = pl.col("scheme") == "https"
    port = pl.when(https).then(pl.lit(":443")).otherwise(pl.lit(":80"))
    query = pl.when(pl.col("query").is_null()).then(pl.lit("")).otherwise("?" + pl.col("query"))
    uri = pl.concat_str(
        [pl.col("scheme"), pl.lit("://"), pl.col("host"), port, pl.col("path"), query]
    )
    origin = pl.col("behaviour").is_in(_FROM_ORIGIN)
    error = (
        pl.when(pl.col("behaviour") == int(B.ORIGIN_ERROR))
        .then(
            pl.when(pl.col("status") == 504)
            .then(pl.lit("OriginTimeout"))
            .otherwise(pl.lit("OriginInvalidResponse"))
        )
        .otherwise(pl.lit("NoError"))
    )
    version = pl.col("protocol").replace(
        {"HTTP/1.1": "1.1.0.0", "HTTP/2.0": "2.0.0.0", "HTTP/3.0": "3.0.0.0"}
    )
    fields: list[Field] = [
        ("time", time),
        ("resourceId", RESOURCE_ID),
        ("category", "FrontDoorAccessLog"),
        ("operationName", "Microsoft.Cdn/Profiles/AccessLog/Write"),
        ("properties", [
            ("trackingReference", pl.col("request_id")),
            ("httpMethod", pl.col("method")),
            ("httpVersion", version),
            ("requestUri", uri),
            ("hostName", pl.col("host")),
            ("requestBytes", pl.col("request_bytes").cast(pl.String)),
            ("responseBytes", pl.col("bytes_sent").cast(pl.String)),
            ("userAgent", pl.col("user_agent")),
            ("clientIp", pl.col("client_ip")),
            ("clientPort", pl.col("client_port").cast(pl.String)),
            ("socketIp", pl.col("client_ip")),
            ("timeToFirstByte", seconds_text(pl.col("ttfb_ms"))),
            ("timeTaken", seconds_text(pl.col("taken_ms"))),
            ("requestProtocol", pl.col("scheme").str.to_uppercase()),
            ("securityProtocol", pl.col("tls_protocol").str.replace("TLSv", "TLS ").fill_null("N/A")),
            ("httpStatusCode", pl.col("status").cast(pl.String)),
            ("httpStatusDetails", pl.col("status").cast(pl.String)),
            ("pop", pl.col("pop")),
            ("cacheStatus", by_behaviour(CACHE)),
            ("errorInfo", error),
            ("isReceivedFromClient", True),
            ("originUrl", pl.when(origin).then("https://origin.cricstream.example:443" + pl.col("path")).otherwise(pl.lit("N/A"))),
        ]),
    ]  # fmt: skip
    return json_lines(df, fields)
