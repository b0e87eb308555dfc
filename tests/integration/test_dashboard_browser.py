"""`cdn-offload dashboard` in a real browser: every page loads, shows its figures, no exception.

Starts the command on a free port against a generated match (with hostile paths), drives
Debian's Chromium headless through Playwright, and saves one screenshot per page to
tests/artifacts/. An `alert()` dialog would mean a log string ran as script.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest

from cdn_offload.local_broker import free_port
from tests.unit.dashboards.match_data import EVIL_PATH, build_match_data, newest_event
from tests.unit.transforms.offload_builders import row, write_raw

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Dialog, Page

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = [
    (
        "live",
        "",
        [
            "Live offload",
            "Request offload",
            "Byte offload",
            "Origin requests/s",
            "Origin egress",
            "STALE FEED",
            "Per minute",
            "Per CDN",
            "Templates under target, by origin load",
            "Firing alerts",
        ],
    ),
    (
        "explore",
        "explore",
        [
            "Explore",
            "Time range (UTC)",
            "Templates",
            "Per POP",
            "Template drill-down",
            "Cache-status mix",
            "Suggestions",
        ],
    ),
    (
        "post_match",
        "post_match",
        [
            "Post-match report",
            "Timeline",
            "Worst templates, by origin load",
            "Downloads of these figures",
        ],
    ),
    ("data_quality", "data_quality", ["Data quality", "Rows ingested", "Validation", "Ingest lag"]),
    (
        "explore_hostile",
        f"explore?template={quote(EVIL_PATH, safe='')}&cdn=fastly",
        ["Template drill-down", "Per POP"],
    ),
]


@pytest.fixture(scope="module")
def match_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_match_data(tmp_path_factory.mktemp("dashboard-browser"))


@pytest.fixture(scope="module")
def dashboard_url(match_dir: Path) -> Iterator[str]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    pytest.importorskip("playwright.sync_api")
    data = match_dir
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cdn_offload", "dashboard", "--data", str(data), "--port", str(port),
         "--live-window-min", "15", "--refresh-s", "3"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait_healthy(url: str, proc: subprocess.Popen, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"dashboard exited early:\n{proc.stdout.read() if proc.stdout else ''}"
            )
        try:
            with urllib.request.urlopen(url + "_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("dashboard did not become healthy in time")


@pytest.fixture(scope="module")
def browser(dashboard_url: str) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.mark.parametrize(("name", "path", "expected"), PAGES, ids=[p[0] for p in PAGES])
def test_page_renders_without_exception(
    browser: Browser, dashboard_url: str, name: str, path: str, expected: list[str]
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1600, "height": 3000})
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    try:
        page.goto(dashboard_url + path, wait_until="domcontentloaded")
        for text in expected:
            page.get_by_text(text, exact=False).first.wait_for(timeout=90_000)
        # Charts are drawn after the script finishes: wait until the app is idle.
        page.wait_for_selector(
            '[data-testid="stVegaLiteChart"], [data-testid="stDataFrame"]', timeout=60_000
        )
        _wait_idle(page)
        page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert not dialogs, f"a log string ran as script: {dialogs}"
        if name in ("live", "explore", "post_match"):
            assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 2
        assert page.locator('[data-testid="stDataFrame"]').count() >= 1
    finally:
        page.close()


def _wait_idle(page: Page, timeout_s: float = 60.0) -> None:
    """Until Streamlit's "running" indicator is gone (the script run has finished)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if page.locator('[data-testid="stStatusWidget"]').count() == 0:
            page.wait_for_timeout(1500)
            return
        page.wait_for_timeout(250)
    raise AssertionError("the page kept running")


def test_live_page_follows_new_data_by_itself(
    browser: Browser, dashboard_url: str, match_dir: Path
) -> None:
    page = browser.new_page(viewport={"width": 1600, "height": 1200})
    try:
        page.goto(dashboard_url, wait_until="domcontentloaded")
        page.get_by_text("STALE FEED", exact=False).first.wait_for(timeout=90_000)
        newest = newest_event(match_dir)
        later = newest + timedelta(minutes=2)
        write_raw(match_dir, [row(event_time=later, cdn="akamai")], name="late.parquet")
        # No reload: the Live fragment refreshes every 3 s and picks up the new file.
        page.get_by_text(f"{later:%Y-%m-%d %H:%M:%S} UTC", exact=False).first.wait_for(
            timeout=60_000
        )
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        page.close()


def test_artifacts_folder_is_ignored_by_git():
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(ARTIFACTS / "x.png")], cwd=REPO, check=False
    )
    assert ignored.returncode == 0 or shutil.which("git") is None
