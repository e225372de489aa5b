"""``bcfl dashboard``: serve the consortium's dashboard (read only: it holds no key) over the event
index, kept up to date from the chain.

It starts whether or not the chain answers (the page then says the chain is unreachable, and catches
up when it is back); bad settings, an index of another deployment or a port it cannot listen on stop
it with one line. Ctrl-C or SIGTERM stops it cleanly (open live feeds are closed)."""

from __future__ import annotations

import logging
import signal
import socket
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
import uvicorn
from pydantic import ValidationError

from bcfl.chain.exceptions import ChainError
from bcfl.cli.audit_common import IndexOpt
from bcfl.cli.audit_context import StoreOpt
from bcfl.cli.common import ManifestPath, RpcUrl, console, err_console
from bcfl.cli.settings import DEFAULTS
from bcfl.index.errors import EventIndexError
from bcfl.text import markup_escaped
from dashboard.app import create_app
from dashboard.settings import DEFAULT_HOST, DEFAULT_PORT, DashboardSettings

HostOpt = Annotated[
    str,
    typer.Option("--host", envvar="BCFL_DASHBOARD_HOST", help="Address to listen on (localhost by default)."),
]
PortOpt = Annotated[
    int, typer.Option("--port", envvar="BCFL_DASHBOARD_PORT", min=1, max=65535, help="Port to listen on.")
]
SuperLinkOpt = Annotated[
    str | None,
    typer.Option(
        "--superlink",
        envvar="BCFL_SUPERLINK",
        help="The SuperLink (host:port, or an https:// URL) to ask which members' nodes are online; "
        "without it their status is unknown.",
    ),
]
RootCertificatesOpt = Annotated[
    Path | None,
    typer.Option(
        "--superlink-root-certificates",
        envvar="BCFL_DASHBOARD_SUPERLINK_ROOT_CERTIFICATES",
        help="CA certificate (PEM) of the SuperLink's TLS certificate (TLS if given).",
    ),
]
PollOpt = Annotated[
    float,
    typer.Option("--poll-s", envvar="BCFL_DASHBOARD_POLL_S", help="Seconds between two reads of the chain."),
]
#: Seconds open live feeds get to close when the dashboard is stopped.
SHUTDOWN_S = 5


class Server(uvicorn.Server):
    """uvicorn's server, stopped by SIGINT or SIGTERM as usual (open requests finish, live feeds
    close), that then returns, so the command exits 0, rather than raising the signal again."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True  # a second Ctrl-C: stop waiting for open requests
        self.should_exit = True


class DashboardError(ChainError):
    """The dashboard cannot start (a bad setting, a port it cannot listen on), in one line."""


def settings_of(
    manifest: Path,
    rpc_url: str,
    index: str,
    store: Path | None,
    host: str,
    port: int,
    superlink: str | None = None,
    superlink_root_certificates: Path | None = None,
    poll_s: float = 1.0,
) -> DashboardSettings:
    """The dashboard's settings from the command's options (bad ones as a DashboardError, in one line)."""
    if not manifest.is_file():
        raise DashboardError(f"no deployment manifest at {manifest}: give the one `bcfl chain deploy` wrote")
    if store is not None and not store.is_dir():
        raise DashboardError(
            f"no model store at {store}: give the run's models directory, or leave --store out"
        )
    try:
        return DashboardSettings.model_validate(
            {"BCFL_RPC_URL": rpc_url, "BCFL_MANIFEST": manifest, "BCFL_AUDIT_INDEX": index,
             "BCFL_SUPERLINK": superlink, "superlink_root_certificates": superlink_root_certificates,
             "store": store, "host": host, "port": port, "poll_s": poll_s}
        )  # fmt: skip
    except ValidationError as exc:
        first = exc.errors()[0]
        where = first["loc"][-1] if first["loc"] else "setting"
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise DashboardError(f"bad dashboard setting {where}: {reason}") from None


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` for uvicorn (DashboardError, in one line, if it cannot be)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise DashboardError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise DashboardError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def dashboard(
    manifest: ManifestPath,
    rpc_url: RpcUrl = DEFAULTS.rpc_url,
    index: IndexOpt = DEFAULTS.audit_index,
    store: StoreOpt = None,
    host: HostOpt = DEFAULT_HOST,
    port: PortOpt = DEFAULT_PORT,
    superlink: SuperLinkOpt = None,
    superlink_root_certificates: RootCertificatesOpt = None,
    poll_s: PollOpt = 1.0,
) -> None:
    """Serve the consortium's dashboard: members, rounds, charts, live events, provenance."""
    try:
        settings = settings_of(
            manifest, rpc_url, index, store, host, port, superlink, superlink_root_certificates, poll_s
        )
        app = create_app(settings)
        sock = listening_socket(host, port)
    except (ChainError, EventIndexError) as exc:
        err_console.print(f"[bold red]error:[/] {markup_escaped(exc, limit=400)}")
        raise typer.Exit(1) from None
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    shown = f"[{host}]" if ":" in host else host
    console.print(f"dashboard: http://{shown}:{port}/ (Ctrl-C stops it)")
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=SHUTDOWN_S)
    with sock:
        Server(config).run(sockets=[sock])
