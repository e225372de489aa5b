"""A TCP proxy in front of a real JSON-RPC endpoint, for outage tests: it can go down (connections
refused, open ones cut), come back on the same port, answer slowly, or cut the connection right
after forwarding a given RPC method's request, so that the node acts on it and its answer is lost."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from types import TracebackType

from bcfl.chain.anvil import free_port

CHUNK = 65536


class RpcProxy:
    """``http://127.0.0.1:<port>`` relaying to ``target_port`` on loopback."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.delay_s = 0.0
        self._cut_after: bytes | None = None
        self._muted = False
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        #: Requests forwarded whose method was the one armed with :meth:`cut_after`.
        self.cut_requests = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RpcProxy:
        self.up()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.down()

    def up(self) -> None:
        """Listen (again) on the proxy's port."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        with self._lock:
            self._listener = listener
            self._muted = False
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        """Refuse new connections and cut the open ones."""
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._open = self._open, set()
        if listener is not None:
            listener.close()
        for sock in sockets:
            _close(sock)

    def cut_after(self, method: str) -> None:
        """Forward the next request for ``method``, then go down before its answer comes back."""
        self._cut_after = f'"method":"{method}"'.encode()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                if self._listener is not listener:
                    _close(client)
                    _close(server)
                    return
                self._open |= {client, server}
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, requests: bool) -> None:
        try:
            while data := source.recv(CHUNK):
                if self.delay_s:
                    time.sleep(self.delay_s)
                marker = self._cut_after
                cut = requests and marker is not None and marker in data.replace(b" ", b"")
                if cut:
                    self._cut_after = None
                    self._muted = True  # no answer goes back from now on
                if requests or not self._muted:
                    sink.sendall(data)
                if cut:
                    self.cut_requests += 1
                    time.sleep(0.2)  # the node takes the request in before the line goes
                    self.down()
                    return
        except OSError:
            pass
        _close(source)
        _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
