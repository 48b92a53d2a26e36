"""Browser fixtures: role apps served on free ports in threads, and Debian's Chromium through Playwright.

Browsers are never downloaded: Playwright drives /usr/bin/chromium. Without it the `browser` tests
skip (and fail under WORKCRED_REQUIRE_BROWSER=1 or CI=true, where .ci/run installs it).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests import helpers_pages
from tests.conftest import require

CHROMIUM = Path(os.environ.get("WORKCRED_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("WORKCRED_SCREENSHOTS", "/tmp/workcred-e2e"))


def _require(condition: bool, reason: str) -> None:
    """Skip without Chromium (or axe-core); fail instead under WORKCRED_REQUIRE_BROWSER=1 or CI=true."""
    if not condition:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        require("BROWSER", reason)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    """The one Playwright driver of the session (two sync drivers at once cannot coexist)."""
    _require(CHROMIUM.exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[Any]:
    """A headless Chromium for the whole session."""
    b = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def launch_browser(playwright: Any) -> Iterator[Callable[[list[str]], Any]]:
    """Launch a Chromium with extra flags (e.g. a fake camera); closed after the test."""
    launched: list[Any] = []

    def launch(extra_args: list[str]) -> Any:
        b = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS + extra_args, headless=True)
        launched.append(b)
        return b

    yield launch
    for b in launched:
        b.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Flask], str]]:
    """Serve a Flask app on a free 127.0.0.1 port in a thread; returns its base URL."""
    servers: list[tuple[Any, threading.Thread]] = []

    def start(app: Flask) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.port}"

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def screenshots() -> Path:
    """Where browser tests save their screenshots (for a human to look at)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def axe() -> Callable[..., list[dict[str, Any]]]:
    """`axe(page)`: the serious and critical axe-core violations of the page."""
    return axe_violations


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """Run axe-core in the page (tests/helpers_pages.py, under the page's own CSP)."""
    _require(AXE.exists(), f"{AXE} is missing (npm ci)")
    return helpers_pages.axe_violations(page, impacts)
