"""Who watches and where they are served: regions, vendor POPs, clients.

Clients are drawn once per run; each keeps its IP, user agent, region and user id for
the whole match, so per-client evidence (one client per personalised object, distinct
IPs per POP) is consistent. POP codes imitate each vendor's naming: CloudFront edge
locations (`BOM78-P1`), Fastly cache nodes (`cache-bom4720-BOM`), Akamai edge IPs,
Cloudflare colo codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from cdn_offload.generator.ids import hex_ids

# (region, ISO country, share of viewers, city)
REGIONS = (
    ("mumbai", "IN", 0.22, "MUMBAI"),
    ("delhi", "IN", 0.20, "NEW DELHI"),
    ("chennai", "IN", 0.10, "CHENNAI"),
    ("bengaluru", "IN", 0.12, "BENGALURU"),
    ("hyderabad", "IN", 0.09, "HYDERABAD"),
    ("kolkata", "IN", 0.08, "KOLKATA"),
    ("dubai", "AE", 0.05, "DUBAI"),
    ("london", "GB", 0.05, "LONDON"),
    ("singapore", "SG", 0.03, "SINGAPORE"),
    ("new_york", "US", 0.04, "NEW YORK"),
    ("sydney", "AU", 0.02, "SYDNEY"),
)

# Per vendor, up to three POPs per region (same order as REGIONS).
POPS: dict[str, tuple[tuple[str, ...], ...]] = {
    "cloudfront": (
        ("BOM78-P1", "BOM52-C1", "BOM51-C2"),
        ("DEL54-C1", "DEL51-P2"),
        ("MAA50-C1", "MAA51-P1"),
        ("BLR50-C1", "BLR50-C3"),
        ("HYD57-P1", "HYD50-C2"),
        ("CCU50-C1",),
        ("DXB52-P1", "DXB2-C1"),
        ("LHR61-P5", "LHR3-C2"),
        ("SIN2-P1", "SIN52-C2"),
        ("JFK50-P1", "EWR52-C4"),
        ("SYD62-P1",),
    ),
    "fastly": (
        ("cache-bom4720-BOM", "cache-bom4731-BOM", "cache-bom4744-BOM"),
        ("cache-del21731-DEL", "cache-del21745-DEL"),
        ("cache-maa10231-MAA", "cache-maa10247-MAA"),
        ("cache-maa10252-MAA",),
        ("cache-hyd1100-HYD",),
        ("cache-ccu830-CCU",),
        ("cache-fjr7332-FJR",),
        ("cache-lcy19250-LCY", "cache-lhr7361-LHR"),
        ("cache-qpg1256-QPG",),
        ("cache-lga21955-LGA", "cache-ewr18126-EWR"),
        ("cache-syd10139-SYD",),
    ),
    "akamai": (
        ("23.57.66.138", "23.57.66.145", "104.86.110.12"),
        ("23.211.125.83", "23.211.125.90"),
        ("23.205.118.21", "23.205.118.29"),
        ("23.45.232.66", "23.45.232.74"),
        ("184.26.240.17",),
        ("23.206.212.40",),
        ("2.16.186.51", "2.16.186.58"),
        ("2.21.68.203", "2.21.68.211"),
        ("23.50.49.130",),
        ("23.215.0.136", "23.215.0.138"),
        ("23.62.226.72",),
    ),
    "cloudflare": (
        ("BOM",),
        ("DEL",),
        ("MAA",),
        ("BLR",),
        ("HYD",),
        ("CCU",),
        ("DXB",),
        ("LHR",),
        ("SIN",),
        ("EWR",),
        ("SYD",),
    ),
    "gcp": (
        ("BOM-7f3a21c0", "BOM-2c9e11d4"),
        ("DEL-5b7d0e93",),
        ("MAA-1e4f8a27",),
        ("BLR-93c0d6e1",),
        ("HYD-0d2b7c45",),
        ("CCU-6a8e2f10",),
        ("DXB-4f1c9b72",),
        ("LHR-8e3a5d06",),
        ("SIN-2b6f0c3e",),
        ("JFK-7c1d4e98",),
        ("SYD-5e9a3b21",),
    ),
    "azure": (
        ("BOM",),
        ("DEL",),
        ("MAA",),
        ("BLR",),
        ("HYD",),
        ("CCU",),
        ("DXB",),
        ("LHR",),
        ("SIN",),
        ("NYC",),
        ("SYD",),
    ),
}
CLOUDFLARE_COLO_IDS = {
    "BOM": 142,
    "DEL": 157,
    "MAA": 143,
    "BLR": 391,
    "HYD": 392,
    "CCU": 298,
    "DXB": 133,
    "LHR": 19,
    "SIN": 65,
    "EWR": 25,
    "SYD": 51,
}

# (user agent, share of clients, device class). No quotes or backslashes: writers rely on it.
USER_AGENTS = (
    ("CricStream/5.12.0 (Linux;Android 13) ExoPlayerLib/2.19.1", 0.24, "app"),
    ("CricStream/5.11.2 (Linux;Android 12) ExoPlayerLib/2.18.7", 0.08, "app"),
    ("AppleCoreMedia/1.0.0.21D61 (iPhone; U; CPU OS 17_3_1 like Mac OS X; en_in)", 0.12, "app"),
    ("CricStream/5.12.0 (iPhone; iOS 17.3.1; Scale/3.00)", 0.04, "app"),
    (
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/122.0.6261.119 Mobile Safari/537.36",
        0.12,
        "web",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/122.0.0.0 Safari/537.36",
        0.12,
        "web",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.3 Safari/605.1.15",
        0.04,
        "web",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0",
        0.02,
        "web",
    ),
    (
        "Mozilla/5.0 (SMART-TV; LINUX; Tizen 7.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "94.0.4606.31/7.0 TV Safari/537.36",
        0.06,
        "tv",
    ),
    (
        "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/94.0.4606.128 Safari/537.36 WebAppManager",
        0.04,
        "tv",
    ),
    ("CricStreamTV/3.4.1 (Linux;Android 11; BRAVIA 4K GB) ExoPlayerLib/2.18.7", 0.06, "tv"),
    (
        "Mozilla/5.0 (Linux; Android 9; AFTKA Build/PS7633; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Version/4.0 Chrome/120.0.6099.230 Mobile Safari/537.36",
        0.04,
        "tv",
    ),
    ("Roku/DVP-12.5 (12.5.0.4178-51)", 0.02, "tv"),
)
UA_CLASSES = ("app", "web", "tv")
PROTOCOLS = ("HTTP/1.1", "HTTP/2.0", "HTTP/3.0")
TLS = (("TLSv1.3", "TLS_AES_128_GCM_SHA256"), ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"))


@dataclass(frozen=True)
class Population:
    """Per-client attributes, indexed by client number."""

    region: np.ndarray  # int8 index into REGIONS
    ua: np.ndarray  # int8 index into USER_AGENTS
    protocol: np.ndarray  # int8 index into PROTOCOLS
    tls: np.ndarray  # int8 index into TLS
    ip: pl.Series  # client IP text (IPv4 and IPv6)
    user_id: pl.Series  # UUID of the signed-in user
    session: pl.Series  # player session id (hex), appended as ?sid= by the players

    @property
    def size(self) -> int:
        return int(self.region.size)


def _ips(rng: np.random.Generator, n: int) -> pl.Series:
    """Distinct-looking client IPs: CGNAT and private pools, documentation ranges, IPv6."""
    kind = rng.choice(4, size=n, p=[0.55, 0.30, 0.05, 0.10])
    a, b, c = (rng.integers(0, 256, n) for _ in range(3))
    hi = rng.integers(0, 64, n)
    v6 = rng.integers(0, 65536, (3, n))
    doc_net = np.array(["198.51.100", "203.0.113", "192.0.2"])[rng.integers(0, 3, n)]
    frame = pl.DataFrame(
        {
            "kind": kind,
            "a": a,
            "b": b,
            "c": c,
            "hi": hi + 64,
            "doc": doc_net,
            "x": v6[0],
            "y": v6[1],
            "z": v6[2],
        }
    )
    expr = (
        pl.when(pl.col("kind") == 0)
        .then(pl.format("100.{}.{}.{}", "hi", "b", "c"))
        .when(pl.col("kind") == 1)
        .then(pl.format("10.{}.{}.{}", "a", "b", "c"))
        .when(pl.col("kind") == 2)
        .then(pl.format("{}.{}", "doc", "c"))
        .otherwise(pl.format("2001:db8:{}:{}::{}", *[_hex(k) for k in ("x", "y", "z")]))
    )
    return frame.select(expr.alias("ip")).to_series()


def _hex(col: str) -> pl.Expr:
    """Lower-case hex of a small non-negative integer column, vectorised."""
    digits = "0123456789abcdef"
    v = pl.col(col)
    parts = [pl.lit(digits).str.slice((v // 16**p) % 16, 1) for p in (3, 2, 1, 0)]
    return pl.concat_str(parts).str.strip_chars_start("0").replace("", "0")


def build_population(rng: np.random.Generator, n: int) -> Population:
    """`n` clients drawn from the regional, device and network mix."""
    region = rng.choice(len(REGIONS), size=n, p=_norm([r[2] for r in REGIONS])).astype(np.int8)
    ua = rng.choice(len(USER_AGENTS), size=n, p=_norm([u[1] for u in USER_AGENTS])).astype(np.int8)
    is_tv = np.array([u[2] == "tv" for u in USER_AGENTS])[ua]
    protocol = np.where(is_tv, 0, rng.choice([1, 2], size=n, p=[0.8, 0.2])).astype(np.int8)
    tls = rng.choice(2, size=n, p=[0.85, 0.15]).astype(np.int8)
    uid = hex_ids(rng, n, 16)
    user_id = (
        pl.DataFrame({"h": uid})
        .select(
            pl.concat_str(
                [
                    pl.col("h").str.slice(0, 8),
                    pl.col("h").str.slice(8, 4),
                    pl.lit("4") + pl.col("h").str.slice(13, 3),
                    pl.col("h").str.slice(16, 4),
                    pl.col("h").str.slice(20, 12),
                ],
                separator="-",
            )
        )
        .to_series()
    )
    return Population(region, ua, protocol, tls, _ips(rng, n), user_id, hex_ids(rng, n, 6))


def _norm(weights: list[float]) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    return w / w.sum()
