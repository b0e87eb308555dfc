"""Generate a match: chunks of requests, rendered per vendor, written as hourly gzip files.

Memory is bounded by one chunk (`chunk_rows`) plus the open hourly files. Each CDN's
rendering and compression run in their own thread (Polars and zlib release the GIL).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from cdn_offload.generator.config import SUPPORTED_CDNS, GeneratorConfig
from cdn_offload.generator.ground_truth import match_document
from cdn_offload.generator.output import HourlyFiles, WrittenFile
from cdn_offload.generator.requests import Context, build_chunk
from cdn_offload.generator.writers import writer

HOUR_MS = 3_600_000
RENDER_ROWS = 50_000
# Intended canonical values kept for tests and ground truth (see `iter_intended`).
INTENDED_COLUMNS = (
    "cdn",
    "event_ms",
    "request_id",
    "cache_status",
    "canonical_pop",
    "host",
    "method",
    "path",
    "query",
    "status",
    "bytes_sent",
    "body_bytes",
    "client_ip",
    "user_agent",
    "country",
    "template",
    "behaviour",
    "problem_active",
)
_COUNT_KEYS = ["cdn", "template", "cache_status", "behaviour", "problem_active"]


@dataclass(frozen=True)
class Summary:
    """What a run wrote: rows, files, and the intended counts the parsers must reproduce."""

    rows: int
    files: list[WrittenFile]
    counts: (
        pl.DataFrame
    )  # cdn, template, cache_status, behaviour, problem_active, requests, bytes_sent
    match_json: Path

    def cache_status_counts(self) -> dict[str, dict[str, int]]:
        """{cdn: {canonical cache_status: rows}} as the vendor parsers should report them."""
        out: dict[str, dict[str, int]] = {}
        grouped = self.counts.group_by("cdn", "cache_status").agg(pl.col("requests").sum())
        for cdn, status, n in grouped.sort("cdn", "cache_status").iter_rows():
            out.setdefault(cdn, {})[status] = int(n)
        return out


def iter_enriched(
    config: GeneratorConfig, ctx: Context | None = None
) -> Iterator[dict[str, pl.DataFrame]]:
    """Per chunk, {cdn: rows enriched with vendor fields and intended canonical values}."""
    ctx = ctx or Context.of(config)
    for k, n in enumerate(ctx.chunk_sizes()):
        if n == 0:
            continue
        chunk = build_chunk(ctx, k, n)
        parts = chunk.partition_by("cdn", as_dict=True, maintain_order=True)
        out: dict[str, pl.DataFrame] = {}
        for i, cdn in enumerate(config.cdns):
            part = parts.get((cdn,))
            if part is not None:
                out[cdn] = writer(cdn).enrich(part, np.random.default_rng([config.seed, 2, k, i]))
        del chunk, parts  # the enriched frames share their buffers; keep one copy alive
        yield out


def iter_intended(config: GeneratorConfig) -> Iterator[pl.DataFrame]:
    """The intended canonical rows of every chunk (what parsing the files must give back)."""
    for frames in iter_enriched(config):
        for cdn, df in frames.items():
            unlogged = [pl.lit(None, dtype=df.schema[c]).alias(c) for c in writer(cdn).UNLOGGED]
            yield df.select(INTENDED_COLUMNS).with_columns(unlogged)


def _write_cdn(files: HourlyFiles, cdn: str, df: pl.DataFrame) -> None:
    mod = writer(cdn)
    hours = df.with_columns((pl.col("event_ms") // HOUR_MS * HOUR_MS).alias("_hour"))
    for (hour,), part in hours.partition_by("_hour", as_dict=True, maintain_order=True).items():
        # Render in slices: the text is several times the size of the frame.
        for start in range(0, part.height, RENDER_ROWS):
            piece = part.slice(start, RENDER_ROWS)
            files.append(mod, int(hour), mod.render(piece), piece.height)
    # CloudFront logs end times, a few seconds after the start; keep the previous hour open.
    files.close_before(int(hours["_hour"].min()) - HOUR_MS)  # type: ignore[arg-type]


def prepare_output(root: Path, *, replace: bool) -> Path:
    """`root`, created, and free of an earlier match (whose files would mix with ours).

    Raises:
        FileExistsError: `root` holds a generated match and `replace` is false.
    """
    old = [root / "match.json", *(root / cdn for cdn in SUPPORTED_CDNS)]
    found = [p for p in old if p.exists()]
    if found and not replace:
        raise FileExistsError(
            f"{root} already holds a generated match ({found[0].name}); use --force to replace it"
        )
    for p in found:
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink()
    root.mkdir(parents=True, exist_ok=True)
    return root


def generate(
    config: GeneratorConfig,
    out_dir: str | Path,
    progress: Callable[[int], None] | None = None,
    *,
    replace: bool = False,
) -> Summary:
    """Write the match under `out_dir/<cdn>/...` and its ground truth to `out_dir/match.json`.

    Args:
        progress: called with the number of rows finished after each chunk.
        replace: delete an earlier generated match in `out_dir` first (else refuse).

    Raises:
        FileExistsError: `out_dir` already holds a generated match and `replace` is false.

    Returns:
        Summary of the files and intended counts. Same config, same bytes on disk.
    """
    root = prepare_output(Path(out_dir), replace=replace)
    files = {
        cdn: HourlyFiles(root, seed=config.seed, compresslevel=config.compresslevel)
        for cdn in config.cdns
    }
    counts: list[pl.DataFrame] = []
    rows = 0
    ctx = Context.of(config)
    try:
        with ThreadPoolExecutor(max_workers=len(config.cdns)) as pool:
            for frames in iter_enriched(config, ctx):
                jobs = [pool.submit(_write_cdn, files[cdn], cdn, df) for cdn, df in frames.items()]
                counts.append(
                    pl.concat([df.select(*_COUNT_KEYS, "bytes_sent") for df in frames.values()])
                    .group_by(_COUNT_KEYS)
                    .agg(pl.len().alias("requests"), pl.col("bytes_sent").sum())
                )
                for job in jobs:
                    job.result()
                done = sum(df.height for df in frames.values())
                rows += done
                if progress is not None:
                    progress(done)
    except BaseException:
        for f in files.values():
            f.abort()
        raise
    written = sorted((w for f in files.values() for w in f.close()), key=lambda w: w.path)
    total = (
        pl.concat(counts)
        .group_by(_COUNT_KEYS)
        .agg(pl.col("requests").sum(), pl.col("bytes_sent").sum())
        if counts
        else pl.DataFrame(
            schema={
                **dict.fromkeys(_COUNT_KEYS[:3], pl.String),
                "behaviour": pl.Int8,
                "problem_active": pl.Boolean,
                "requests": pl.UInt32,
                "bytes_sent": pl.Int64,
            }
        )
    ).sort(_COUNT_KEYS)
    summary = Summary(rows, written, total, root / "match.json")
    doc = match_document(ctx, summary.files, total)
    tmp = summary.match_json.with_suffix(".json.part")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    tmp.replace(summary.match_json)
    return summary
