"""The page when the chain goes away and comes back: the dashboard reaches the session's real Anvil
through a TCP proxy the test switches off and on. While the chain is unreachable the page says so
and keeps showing the last view; when it answers again the banner goes and the page catches up
with what happened meanwhile."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser

from tests.audit.runs import Run
from tests.conftest import Actors
from tests.dashboard.browser import WAIT_MS, chromium, live_server, watched_page
from tests.dashboard.conftest import settings_for


class SwitchableProxy:
    """Forwards 127.0.0.1:<port> to ``target`` while up; while down it drops every connection."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port: int = self.listener.getsockname()[1]
        self.is_up = True
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="rpc-proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def down(self) -> None:
        self.is_up = False
        with self._lock:
            for sock in self._open:
                _close(sock)
            self._open.clear()

    def up(self) -> None:
        self.is_up = True

    def close(self) -> None:
        self._stop.set()
        self.down()
        self._thread.join(timeout=10)
        self.listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self.is_up:
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        _close(source)
        _close(sink)


def _close(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per module (Playwright's sync API runs one at a time)."""
    with chromium() as found:
        yield found


@pytest.fixture
def proxy(run: Run) -> Iterator[SwitchableProxy]:
    address = urlsplit(run.consortium.client.rpc_url)
    found = SwitchableProxy((address.hostname or "127.0.0.1", address.port or 8545))
    yield found
    found.close()


def test_the_page_says_when_the_chain_is_unreachable_and_recovers(
    browser: Browser, run: Run, proxy: SwitchableProxy, actors: Actors, tmp_path: Path
) -> None:
    settings = settings_for(run, tmp_path, BCFL_RPC_URL=proxy.url, poll_s=0.2)
    with live_server(settings) as server, watched_page(browser) as watched:
        page = watched.page
        watched.goto(server.url + "/")
        assert page.locator("#banner").is_hidden()
        members = page.locator('table[data-table="members"] tbody tr').count()

        proxy.down()
        page.wait_for_selector("body[data-chain=down] #banner:not([hidden])", timeout=WAIT_MS)
        assert "unreachable" in (page.text_content("#banner") or "")
        # The last view stays on the page.
        assert page.locator('table[data-table="members"] tbody tr').count() == members
        watched.screenshot("chain-down")

        # Meanwhile on the chain (reached directly): a hospital asks to join.
        member_id = run.consortium.registry.request_membership(actors.hospitals[3], "Hospital Late")
        proxy.up()
        page.wait_for_selector("body[data-chain=up] #banner[hidden]", state="attached", timeout=WAIT_MS)
        page.wait_for_selector(
            f'#feed .feed-item[data-event="MembershipRequested"] a[href="#/members/{member_id}"]',
            timeout=WAIT_MS,
        )
        page.wait_for_selector(
            f'table[data-table="members"] a[href="#/members/{member_id}"]', timeout=WAIT_MS
        )
        assert page.locator('table[data-table="members"] tbody tr').count() == members + 1
        watched.assert_clean()
