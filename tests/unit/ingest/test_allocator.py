"""Allocator settings: applied when absent, never over the operator's own."""

import os
import subprocess
import sys

import pytest

from ingest import allocator

pytestmark = pytest.mark.unit


def test_defaults_are_set_when_absent(monkeypatch):
    for name in allocator._ENV:
        monkeypatch.delenv(name, raising=False)
    allocator.tune()
    assert os.environ["_RJEM_MALLOC_CONF"] == "dirty_decay_ms:30000,muzzy_decay_ms:30000"
    assert os.environ["MIMALLOC_PURGE_DELAY"] == "30000"


def test_operator_settings_win(monkeypatch):
    monkeypatch.setenv("_RJEM_MALLOC_CONF", "dirty_decay_ms:0")
    allocator.tune()
    assert os.environ["_RJEM_MALLOC_CONF"] == "dirty_decay_ms:0"


def test_the_cli_sets_them_before_polars_loads():
    env = {k: v for k, v in os.environ.items() if k not in allocator._ENV}
    code = (
        "import sys, cdn_offload, os; "
        "assert 'polars' not in sys.modules or os.environ.get('_RJEM_MALLOC_CONF'); "
        "import polars; print(os.environ['_RJEM_MALLOC_CONF'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    # Polars puts its own defaults first; jemalloc takes the last value of each option.
    assert out.stdout.strip().endswith("dirty_decay_ms:30000,muzzy_decay_ms:30000")
