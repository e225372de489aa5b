"""``bcfl dashboard``: serve the consortium's dashboard (read only: it holds no key) over the event
index, kept up to date from the chain."""

from __future__ import annotations

import logging
from pathlib import Path
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


def settings_of(
    manifest: Path, rpc_url: str, index: str, store: Path | None, host: str, port: int
) -> DashboardSettings:
    """The dashboard's settings from the command's options (bad ones as a ChainError, in one line)."""
    if not manifest.is_file():
        raise ChainError(f"no deployment manifest at {manifest}: give the one `bcfl chain deploy` wrote")
    if store is not None and not store.is_dir():
        raise ChainError(f"no model store at {store}: give the run's models directory, or leave --store out")
    try:
        return DashboardSettings.model_validate(
            {"BCFL_RPC_URL": rpc_url, "BCFL_MANIFEST": manifest, "BCFL_AUDIT_INDEX": index,
             "store": store, "host": host, "port": port}
        )  # fmt: skip
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ChainError(f"bad dashboard setting {first['loc'][-1]}: {first['msg']}") from None


def dashboard(
    manifest: ManifestPath,
    rpc_url: RpcUrl = DEFAULTS.rpc_url,
    index: IndexOpt = DEFAULTS.audit_index,
    store: StoreOpt = None,
    host: HostOpt = DEFAULT_HOST,
    port: PortOpt = DEFAULT_PORT,
) -> None:
    """Serve the consortium's dashboard: members, rounds, charts, live events, provenance."""
    try:
        settings = settings_of(manifest, rpc_url, index, store, host, port)
        app = create_app(settings)
    except (ChainError, EventIndexError) as exc:
        err_console.print(f"[bold red]error:[/] {markup_escaped(exc, limit=400)}")
        raise typer.Exit(1) from None
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    console.print(f"dashboard: http://{host}:{port}/ (Ctrl-C stops it)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
