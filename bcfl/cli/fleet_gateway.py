"""``bcfl fleet-gateway``: expose only the SuperLink's Fleet API to hospitals, over TLS.

The SuperLink serves Fleet, Control and Runtime on one socket and the Control API has no
authentication, so the SuperLink listens on loopback (or an internal network) and this gateway is the
one address hospitals' SuperNodes dial (bcfl.flower.gateway): ``/v1/fleet/*`` is forwarded, every
other path answers 404.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Annotated

import typer

from bcfl.cli.common import err_console, host_port
from bcfl.flower.gateway import serve_gateway


def _file(value: Path) -> Path:
    if not value.is_file():
        raise typer.BadParameter(f"no file at {value}")
    return value


def fleet_gateway(
    superlink: Annotated[
        str,
        typer.Option(
            help="The SuperLink's own address (host:port on loopback or an internal network).",
            callback=host_port,
        ),
    ],
    certfile: Annotated[
        Path, typer.Option(help="The gateway's TLS certificate (PEM; the consortium's server certificate).")
    ],
    keyfile: Annotated[Path, typer.Option(help="Its private key (PEM).")],
    ca_certfile: Annotated[
        Path,
        typer.Option(
            help="The consortium's CA certificate: the SuperLink's certificate is checked against it."
        ),
    ],
    host: Annotated[str, typer.Option(help="Address to listen on (where hospitals reach it).")] = "0.0.0.0",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 9443,
) -> None:
    """Forward hospitals' Fleet API calls to the SuperLink over TLS; answer 404 to everything else."""
    for path in (certfile, keyfile, ca_certfile):
        _file(path)
    try:  # uvicorn stops cleanly on SIGINT and SIGTERM
        serve_gateway(host, port, f"https://{superlink}", str(certfile), str(keyfile), str(ca_certfile))
    except ssl.SSLError as exc:
        err_console.print(f"[bold red]error:[/] cannot use {certfile} and {keyfile} for TLS: {exc}")
        raise typer.Exit(1) from None
