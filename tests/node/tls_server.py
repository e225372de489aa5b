"""A TLS server on loopback that only completes handshakes: what a hospital pins (tests only)."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

from bcfl.flower.certs import TlsFiles


@contextlib.contextmanager
def tls_server(files: TlsFiles, *, with_ca: bool = True) -> Iterator[str]:
    """Serve handshakes with ``files``' server certificate (followed by its CA if ``with_ca``) until the
    block ends; yields its ``host:port``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.server_cert, files.server_key)
    if with_ca:
        context.load_verify_locations(files.ca_cert)
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with contextlib.suppress(OSError), context.wrap_socket(conn, server_side=True) as tls:
                tls.settimeout(2)
                with contextlib.suppress(OSError):
                    tls.recv(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        server.close()


def file_names(folder: Path) -> set[str]:
    """The names of every file under ``folder`` (relative)."""
    return (
        {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()
    )
