"""Options, output and error handling shared by the ``bcfl`` commands."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum, StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from rich.console import Console
from rich.table import Table

from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.devkeys import dev_account
from bcfl.chain.endpoint import check_rpc_url
from bcfl.chain.exceptions import ChainError, RpcUrlError
from bcfl.chain.keystore import load_keystore, read_password
from bcfl.chain.manifest import DeploymentManifest
from bcfl.cli.settings import envvar
from bcfl.flower.address import AddressError, split_address
from bcfl.text import markup_escaped

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


class OutputFormat(StrEnum):
    """How a command prints its result."""

    table = "table"
    json = "json"


def _rpc_url(value: str) -> str:
    try:
        return check_rpc_url(value)
    except RpcUrlError as exc:
        raise typer.BadParameter(str(exc)) from None


RpcUrl = Annotated[
    str,
    typer.Option("--rpc-url", envvar=envvar("rpc_url"), help="JSON-RPC URL of the chain.", callback=_rpc_url),
]
ManifestPath = Annotated[
    Path,
    typer.Option(
        "--manifest", envvar=envvar("manifest"), help="Deployment manifest written by `chain deploy`."
    ),
]
Format = Annotated[OutputFormat, typer.Option("--format", help="Output format.")]
KeystoreOpt = Annotated[
    Path | None, typer.Option("--keystore", help="Encrypted keystore of the signing key.")
]
PasswordFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--password-file",
        help=f"File holding the keystore password (else ${envvar('keystore_password')}).",
    ),
]
KeyEnvOpt = Annotated[
    str | None, typer.Option("--key-env", help="Name of an environment variable holding a hex private key.")
]
DevAccountOpt = Annotated[
    int | None, typer.Option("--dev-account", help="Use Anvil's PUBLIC dev key N. Local demo chains only.")
]


def resolve_account(
    keystore: Path | None, password_file: Path | None, key_env: str | None, dev_index: int | None
) -> LocalAccount:
    """The signing account from exactly one of: keystore, key environment variable, Anvil dev key."""
    given = [x is not None for x in (keystore, key_env, dev_index)]
    if sum(given) != 1:
        raise typer.BadParameter("give exactly one of --keystore, --key-env or --dev-account")
    if keystore is not None:
        return load_keystore(keystore, read_password(password_file))
    if key_env is not None:
        key = os.environ.get(key_env, "")
        if not key:
            raise typer.BadParameter(
                f"environment variable {key_env} is empty or unset", param_hint="--key-env"
            )
        try:
            account: LocalAccount = Account.from_key(key)
        except (ValueError, TypeError):
            raise typer.BadParameter(
                f"{key_env} does not hold a valid private key", param_hint="--key-env"
            ) from None
        return account
    assert dev_index is not None
    err_console.print(f"[yellow]using Anvil's PUBLIC dev key {dev_index}: demo chains only[/]")
    return dev_account(dev_index)


def connect(rpc_url: str, manifest_path: Path) -> Consortium:
    """The consortium described by a manifest, on the chain at ``rpc_url`` (checked)."""
    return Consortium.connect(ChainClient(rpc_url), DeploymentManifest.load(manifest_path))


@contextmanager
def clean_errors() -> Iterator[None]:
    """Turn the library's errors into a one-line message and exit code 1 instead of a traceback."""
    try:
        yield
    except ChainError as exc:
        err_console.print(f"[bold red]error:[/] {markup_escaped(exc, limit=400)}")
        raise typer.Exit(1) from None


#: Settings of every Typer app: a traceback (a bug, never bad input) never shows local variables, which
#: hold passwords, keys and whole manifests.
APP_SETTINGS: dict[str, Any] = {"pretty_exceptions_show_locals": False, "pretty_exceptions_short": True}


def run_alone(command: Callable[..., Any]) -> None:
    """Run one command as its own program (``python -m bcfl.cli.X``), with :data:`APP_SETTINGS`."""
    app = typer.Typer(add_completion=False, **APP_SETTINGS)
    app.command()(command)
    app()


def emit(data: Any, fmt: OutputFormat, render: Callable[[Any], Table | str]) -> None:
    """Print ``data`` as JSON or through ``render`` (a rich table or a line)."""
    if fmt is OutputFormat.json:
        typer.echo(json.dumps(data, indent=2, default=json_default))
    else:
        rendered = render(data)
        console.print(rendered, soft_wrap=isinstance(rendered, str))  # a line stays one line (hashes)


def json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, Enum):
        return value.name.lower()
    raise TypeError(f"cannot encode {type(value).__name__}")


def parse_bytes32(value: str, name: str) -> bytes:
    """A 0x-prefixed 32-byte hex value, with a clear error otherwise."""
    raw = value.removeprefix("0x")
    try:
        data = bytes.fromhex(raw)
    except ValueError:
        raise typer.BadParameter(f"{name} must be 32 bytes of hex, got {value!r}") from None
    if len(data) != 32:
        raise typer.BadParameter(f"{name} must be 32 bytes of hex, got {len(data)} bytes")
    return data


def host_port(value: str) -> str:
    """A Typer callback: ``value`` if it is ``host:port`` (bcfl.flower.address), else a usage error."""
    try:
        split_address(value)
    except AddressError as exc:
        raise typer.BadParameter(str(exc)) from None
    return value


def parse_address(value: str | None, name: str) -> str | None:
    """A checksummed Ethereum address (lower-case input accepted), with a clear error otherwise."""
    if value is None:
        return None
    try:
        return to_checksum_address(value)
    except ValueError:
        raise typer.BadParameter(f"{name} must be a 20-byte 0x-hex address, got {value!r}") from None


def stop_on_sigterm() -> None:
    """Treat SIGTERM (docker stop, a supervisor) like Ctrl-C, so ``finally`` blocks clean up."""
    signal.signal(signal.SIGTERM, _raise_interrupt)


def _raise_interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt
