"""Parameters of one generated match, validated once at start-up."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

SUPPORTED_CDNS = ("cloudfront", "fastly", "akamai", "cloudflare", "gcp", "azure")
DEFAULT_CDNS = ("cloudfront", "fastly", "akamai", "cloudflare")
# Traffic weight of each CDN in the multi-CDN mix (renormalised over the chosen CDNs).
CDN_SHARE = {
    "cloudfront": 0.35, "akamai": 0.25, "fastly": 0.20, "cloudflare": 0.20, "gcp": 0.12, "azure": 0.10,
}  # fmt: skip
DEFAULT_START = "2025-03-09T08:30:00Z"


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate. `chunk_rows` bounds memory; output does not depend on workers."""

    rows: int
    seed: int = 42
    cdns: tuple[str, ...] = DEFAULT_CDNS
    start: str = DEFAULT_START
    duration_min: float = 240.0
    chunk_rows: int = 1_000_000
    compresslevel: int = 1
    clients: int | None = None  # default: about one client per 40 requests
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rows < 0:
            raise ValueError("rows must be >= 0")
        if not self.cdns:
            raise ValueError("at least one CDN is needed")
        unknown = [c for c in self.cdns if c not in SUPPORTED_CDNS]
        if unknown:
            raise ValueError(
                f"unsupported CDN(s) {unknown}; choose from {', '.join(SUPPORTED_CDNS)}"
            )
        if len(set(self.cdns)) != len(self.cdns):
            raise ValueError("CDNs must not repeat")
        if not 1 <= self.duration_min <= 24 * 60:
            raise ValueError("duration_min must be between 1 and 1440")
        if self.chunk_rows < 1:
            raise ValueError("chunk_rows must be >= 1")
        if not 0 <= self.compresslevel <= 9:
            raise ValueError("compresslevel must be between 0 and 9")
        self.start_ms  # noqa: B018 - validates the timestamp early

    @property
    def start_ms(self) -> int:
        """Stream start as epoch milliseconds (UTC)."""
        try:
            ts = datetime.fromisoformat(self.start.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"start is not an ISO 8601 timestamp: {self.start!r}") from exc
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=UTC)
        return int(ts.timestamp() * 1000)

    @property
    def duration_s(self) -> int:
        return max(60, round(self.duration_min * 60))

    @property
    def client_count(self) -> int:
        if self.clients is not None:
            return max(1, self.clients)
        return int(min(max(self.rows // 40, 500), 2_000_000))

    def roles(self) -> dict[str, str | None]:
        """CDNs that carry the CDN-outlier and the mid-match problems (None if not planted)."""
        outlier = None
        if len(self.cdns) > 1:
            outlier = "fastly" if "fastly" in self.cdns else self.cdns[1]
        rest = [c for c in self.cdns if c != outlier]
        midmatch = "cloudflare" if "cloudflare" in rest else (rest[-1] if rest else None)
        return {"outlier": outlier, "midmatch": midmatch}

    def as_json(self) -> dict[str, object]:
        out = asdict(self)
        out["cdns"] = list(self.cdns)
        out.pop("extra")
        return out
