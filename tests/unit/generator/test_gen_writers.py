"""Vendor writers: field layout, value types, intended canonical statuses from the schema."""

from __future__ import annotations

import json
import re

import numpy as np
import polars as pl
import pytest

from cdn_offload.generator.catalog import Behaviour
from cdn_offload.generator.config import GeneratorConfig
from cdn_offload.generator.requests import Context, build_chunk
from cdn_offload.generator.writers import WRITER_MODULES, writer
from ingest.schema import CacheStatus

pytestmark = pytest.mark.unit
CDNS = tuple(WRITER_MODULES)


@pytest.fixture(scope="module")
def enriched() -> dict[str, pl.DataFrame]:
    config = GeneratorConfig(rows=60_000, seed=3, clients=5_000, cdns=CDNS)
    chunk = build_chunk(Context.of(config), 0, config.rows)
    return {
        cdn: writer(cdn).enrich(part, np.random.default_rng(i))
        for i, ((cdn,), part) in enumerate(chunk.partition_by("cdn", as_dict=True).items())
    }


@pytest.mark.parametrize("cdn", CDNS)
def test_every_behaviour_has_a_canonical_status(cdn: str) -> None:
    intended = writer(cdn).INTENDED
    assert set(intended) == set(Behaviour)
    assert set(intended.values()) <= {s.value for s in CacheStatus}


@pytest.mark.parametrize(
    ("cdn", "behaviour", "status"),
    [
        pytest.param("cloudfront", Behaviour.PASS, "MISS", id="cloudfront-cannot-tell-pass"),
        pytest.param("cloudfront", Behaviour.REDIRECT, "SYNTHETIC", id="cloudfront-redirect"),
        pytest.param("cloudfront", Behaviour.ORIGIN_ERROR, "ERROR", id="cloudfront-origin-error"),
        pytest.param(
            "cloudflare", Behaviour.REDIRECT, "SYNTHETIC", id="cloudflare-unknown-no-origin"
        ),
        pytest.param("cloudflare", Behaviour.MISS_EXPIRED, "MISS", id="cloudflare-expired"),
        pytest.param("cloudflare", Behaviour.UNCACHEABLE, "UNCACHEABLE", id="cloudflare-bypass"),
        pytest.param("akamai", Behaviour.REVALIDATED, "HIT", id="akamai-binary-flag"),
        pytest.param("akamai", Behaviour.PASS, "UNCACHEABLE", id="akamai-cacheable-0"),
        pytest.param("fastly", Behaviour.REVALIDATED, "REVALIDATED", id="fastly-refresh"),
        pytest.param("fastly", Behaviour.REDIRECT, "SYNTHETIC", id="fastly-hit-synth"),
        pytest.param("gcp", Behaviour.PASS, "PASS", id="gcp-no-cache-lookup"),
        pytest.param("gcp", Behaviour.UNCACHEABLE, "MISS", id="gcp-lookup-without-hit"),
        pytest.param("gcp", Behaviour.REDIRECT, "SYNTHETIC", id="gcp-url-map-redirect"),
        pytest.param("azure", Behaviour.HIT_SHIELD, "HIT", id="azure-remote-hit"),
        pytest.param("azure", Behaviour.PASS, "PASS", id="azure-cache-noconfig"),
        pytest.param("azure", Behaviour.UNCACHEABLE, "UNCACHEABLE", id="azure-private-nostore"),
        pytest.param("azure", Behaviour.REDIRECT, "SYNTHETIC", id="azure-n-a"),
    ],
)
def test_lossy_vendor_mappings(cdn: str, behaviour: Behaviour, status: str) -> None:
    assert writer(cdn).INTENDED[behaviour] == status


def test_cloudfront_lines_have_33_tab_fields_and_a_header(
    enriched: dict[str, pl.DataFrame],
) -> None:
    mod = writer("cloudfront")
    head = mod.header(0).decode()
    assert head.startswith("#Version: 1.0\n#Fields: date time x-edge-location")
    assert len(head.splitlines()[1].split(" ")) == 1 + 33
    lines = bytes(mod.render(enriched["cloudfront"])).decode().splitlines()
    assert len(lines) == enriched["cloudfront"].height
    first = lines[0].split("\t")
    assert len(first) == 33
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", first[0]) and re.fullmatch(r"\d\d:\d\d:\d\d", first[1])
    assert re.fullmatch(r"[A-Za-z0-9_-]{54}==", first[14])
    assert all(" " not in line for line in lines)  # user agents are percent-encoded
    assert {line.split("\t")[13] for line in lines} <= {
        "Hit",
        "RefreshHit",
        "Miss",
        "Redirect",
        "Error",
    }


@pytest.mark.parametrize("cdn", ["fastly", "akamai", "cloudflare", "gcp", "azure"])
def test_json_lines_parse_and_keep_row_order(cdn: str, enriched: dict[str, pl.DataFrame]) -> None:
    df = enriched[cdn]
    records = [json.loads(line) for line in bytes(writer(cdn).render(df)).decode().splitlines()]
    assert len(records) == df.height
    ids = {
        "fastly": lambda r: r["request_id"],
        "akamai": lambda r: r["reqId"],
        "cloudflare": lambda r: r["RayID"],
        "gcp": lambda r: r["insertId"],
        "azure": lambda r: r["properties"]["trackingReference"],
    }[cdn]
    assert [ids(r) for r in records] == df["request_id"].to_list()


@pytest.mark.parametrize("cdn", ["fastly", "akamai"])
def test_string_typed_formats_write_only_strings(
    cdn: str, enriched: dict[str, pl.DataFrame]
) -> None:
    line = bytes(writer(cdn).render(enriched[cdn].head(50))).decode().splitlines()
    for record in map(json.loads, line):
        assert all(isinstance(v, str) for v in record.values())


def test_akamai_paths_drop_the_leading_slash(enriched: dict[str, pl.DataFrame]) -> None:
    records = [
        json.loads(x)
        for x in bytes(writer("akamai").render(enriched["akamai"].head(200))).decode().splitlines()
    ]
    assert all(not r["reqPath"].startswith("/") for r in records)
    assert {r["cacheStatus"] for r in records} <= {"0", "1"}


def test_cloudflare_types_and_origin_evidence(enriched: dict[str, pl.DataFrame]) -> None:
    df = enriched["cloudflare"]
    records = [json.loads(x) for x in bytes(writer("cloudflare").render(df)).decode().splitlines()]
    assert all(
        isinstance(r["EdgeStartTimestamp"], int) and r["EdgeStartTimestamp"] > 10**18
        for r in records
    )
    assert all(isinstance(r["CacheTieredFill"], bool) for r in records)
    for r in records:
        if r["CacheCacheStatus"] in ("hit", "unknown", "updating"):
            assert r["OriginResponseStatus"] == 0 and r["EdgeServerIP"] == ""
        if r["CacheCacheStatus"] in ("miss", "expired", "dynamic", "bypass", "revalidated"):
            assert r["OriginResponseStatus"] > 0


@pytest.mark.parametrize(
    ("cdn", "pattern"),
    [
        pytest.param("cloudfront", r"E1CRKLIVE7Q2ZX\.2025-03-09-08\.abc\.gz", id="cloudfront"),
        pytest.param("fastly", r"cricstream-2025-03-09T08-00-00\.000-abc\.log\.gz", id="fastly"),
        pytest.param("akamai", r"ak-48213-1741507200-abc\.gz", id="akamai"),
        pytest.param(
            "cloudflare",
            r"20250309/20250309T080000Z_20250309T090000Z_abc\.log\.gz",
            id="cloudflare",
        ),
        pytest.param("gcp", r"requests/2025/03/09/08-00-00_08-59-59_S0-abc\.json\.gz", id="gcp"),
        pytest.param("azure", r"y=2025/m=03/d=09/h=08/m=00/PT1H-abc\.json\.gz", id="azure"),
    ],
)
def test_file_names_follow_vendor_conventions(cdn: str, pattern: str) -> None:
    assert re.fullmatch(pattern, writer(cdn).file_name(1741507200000, "abc"))


def test_gcp_omits_false_cache_flags(enriched: dict[str, pl.DataFrame]) -> None:
    df = enriched["gcp"]
    records = [json.loads(x) for x in bytes(writer("gcp").render(df)).decode().splitlines()]
    for record, behaviour in zip(records, df["behaviour"].to_list(), strict=True):
        flags = {k for k, v in record["httpRequest"].items() if k.startswith("cache") and v is True}
        assert all(v is True for k, v in record["httpRequest"].items() if k.startswith("cacheL"))
        if behaviour in (Behaviour.PASS, Behaviour.REDIRECT):
            assert not flags
        elif behaviour == Behaviour.REVALIDATED:
            assert flags == {"cacheLookup", "cacheHit", "cacheValidatedWithOriginServer"}
