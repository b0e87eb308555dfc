"""Helpers shared by the Kafka and object-storage integration tests."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from ingest.storage import resolve

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO / "sample_logs"

FAST_GROUP = {
    "session_timeout_ms": 6000,
    "heartbeat_interval_ms": 1000,
    "request_timeout_ms": 10_000,
    "fetch_max_wait_ms": 100,
    "flush_interval_s": 1.0,
    "backoff_initial_s": 0.2,
    "backoff_max_s": 2.0,
}


def fast_group_env() -> dict[str, str]:
    """The FAST_GROUP settings as CDN_OFFLOAD_KAFKA_* variables, for consumer subprocesses."""
    env = dict(os.environ)
    env.update({f"CDN_OFFLOAD_KAFKA_{k.upper()}": str(v) for k, v in FAST_GROUP.items()})
    env["PYTHONPATH"] = str(REPO)
    return env


def read_table(out: str, kind: str = "raw") -> pa.Table:
    """Every row below `out/<kind>` (raw or quarantine), read through ingest.storage."""
    location = resolve(out).join(kind)
    if not location.exists():
        return pa.table({})
    return location.dataset().to_table()


def range_records(out: str) -> list[str]:
    """Paths of the batch range records left below `out` (empty once all is committed)."""
    import pyarrow.fs as pafs

    root = resolve(out).join("_kafka", "ranges")
    infos = root.fs.get_file_info(
        pafs.FileSelector(root.path, recursive=True, allow_not_found=True)
    )
    return sorted(i.path for i in infos if i.type == pafs.FileType.File)


def wait_for(predicate: Callable[[], object], timeout_s: float, step_s: float = 0.05) -> Any:
    """The first truthy value of `predicate()`, polling until `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step_s)
    raise AssertionError(f"condition not met within {timeout_s} s")


class Background:
    """Runs a callable in a thread and hands back its result or exception on join()."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None

        def target() -> None:
            try:
                self.result = fn()
            except BaseException as exc:
                self.error = exc

        self.thread = threading.Thread(target=target, daemon=True)
        self.thread.start()

    def join(self, timeout_s: float = 60.0) -> Any:
        self.thread.join(timeout_s)
        assert not self.thread.is_alive(), "background task did not finish"
        if self.error is not None:
            raise self.error
        return self.result


def scrape(port: int, path: str = "/metrics") -> tuple[int, str]:
    """(status, body) of GET http://127.0.0.1:port/path; (0, "") when nothing answers."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


def samples(text: str, name: str) -> dict[str, float]:
    """Prometheus samples of metric `name`: {label text: value}."""
    out = {}
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            key, _, value = line.rpartition(" ")
            out[key[len(name) :]] = float(value)
    return out
