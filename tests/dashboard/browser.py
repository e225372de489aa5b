"""The dashboard's page in a real browser: the app served by a real uvicorn server (in a thread, its
watcher thread running), Debian's Chromium driven by Playwright for Python (never a downloaded
browser), and a record of every console error, page error and Content-Security-Policy violation."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from dashboard.app import create_app
from dashboard.settings import DashboardSettings

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "build" / "test-artifacts" / "dashboard"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Generous waits: CI is a busy two-core machine.
START_S = 60.0
WAIT_MS = 45_000
#: Records CSP violations as the page sees them (an init script is not subject to the page's CSP).
CSP_PROBE = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@cache
def chromium_path() -> str:
    """Debian's Chromium, installed by scripts/chromium-setup.sh when missing (it prints the path);
    asked once per test session."""
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "chromium-setup.sh")],
        check=True,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return done.stdout.strip().splitlines()[-1]


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class LiveServer:
    """The dashboard app on a free 127.0.0.1 port, served by uvicorn in a thread."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def get(self, path: str) -> Any:
        response = httpx.get(f"{self.url}{path}", timeout=30)
        response.raise_for_status()
        return response.json()


@contextmanager
def live_server(settings: DashboardSettings) -> Iterator[LiveServer]:
    """Serve ``settings``' dashboard with its watcher thread; ready once the first view is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings, watch=True), log_level="warning", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    live = LiveServer(f"http://127.0.0.1:{port}", server, thread)
    try:
        _wait_ready(live)
        yield live
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def _wait_ready(live: LiveServer) -> None:
    deadline = time.monotonic() + START_S
    last = ""
    while time.monotonic() < deadline:
        if not live.thread.is_alive():
            raise RuntimeError("the dashboard's server stopped while starting")
        try:
            response = httpx.get(f"{live.url}/readyz", timeout=5)
            if response.status_code == 200:
                return
            last = response.text
        except httpx.HTTPError as exc:
            last = str(exc)
        time.sleep(0.2)
    raise TimeoutError(f"the dashboard was not ready within {START_S:.0f}s: {last}")


@dataclass
class Watched:
    """A page and everything it complained about."""

    page: Page
    errors: list[str] = field(default_factory=list)

    def csp_violations(self) -> list[str]:
        found: list[str] = self.page.evaluate("window.__csp || []")
        return found

    def assert_clean(self) -> None:
        problems = self.errors + [f"CSP violation: {v}" for v in self.csp_violations()]
        assert not problems, "\n".join(problems)

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def goto(self, url: str) -> None:
        """Open ``url`` and wait until the page has drawn its view."""
        self.page.goto(url)
        self.wait_drawn()

    def wait_drawn(self) -> None:
        self.page.wait_for_selector("body[data-ready] main .page", timeout=WAIT_MS)
        self.page.wait_for_function(
            "!document.querySelector('figure.chart[data-state=pending]')", timeout=WAIT_MS
        )

    def route(self, hash_route: str, page_name: str) -> None:
        """Follow a hash route within the page (no reload) and wait for its page."""
        self.page.evaluate("(h) => { window.location.hash = h; }", hash_route)
        self.page.wait_for_selector(f'main .page[data-page="{page_name}"]', timeout=WAIT_MS)
        self.wait_drawn()


@contextmanager
def watched_page(browser: Browser, width: int = 1280, height: int = 900) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    context.set_default_timeout(WAIT_MS)
    context.add_init_script(CSP_PROBE)
    page = context.new_page()
    watched = Watched(page)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.errors.append(f"console: {message.text} at {json.dumps(message.location)}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.errors.append(f"page error: {error}"))
    try:
        yield watched
    finally:
        context.close()
