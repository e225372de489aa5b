"""``bcfl member fund``: ether for a hospital's key, so that it can send its membership request."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer

from bcfl.chain.client import ChainClient
from bcfl.chain.funding import WEI_PER_ETHER, ether_to_wei, fund
from bcfl.cli.common import (
    DevAccountOpt,
    Format,
    KeyEnvOpt,
    KeystoreOpt,
    OutputFormat,
    PasswordFileOpt,
    RpcUrl,
    clean_errors,
    emit,
    parse_address,
    resolve_account,
)
from bcfl.cli.settings import DEFAULTS

#: Enough for a membership request, a node key's publication and a key rotation, many times over.
DEFAULT_ETHER = "0.1"


def fund_command(
    address: Annotated[str, typer.Argument(help="The hospital's address (`bcfl keys new` printed it).")],
    amount: Annotated[
        str, typer.Option("--amount", help="Ether to send (a decimal, e.g. 0.1).")
    ] = DEFAULT_ETHER,
    rpc_url: RpcUrl = DEFAULTS.rpc_url,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    key_env: KeyEnvOpt = None,
    dev_account: DevAccountOpt = None,
    fmt: Format = OutputFormat.table,
) -> None:
    """Send ether to a hospital's key, so that it can pay for its membership request.

    The signing key (the admin's, or any funded key) sends --amount ether to ADDRESS. Flower: no change."""
    with clean_errors():
        to = parse_address(address, "ADDRESS")
        assert to is not None
        try:
            wei = ether_to_wei(amount)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--amount") from None
        sender = resolve_account(keystore, password_file, key_env, dev_account)
        funding = fund(ChainClient(rpc_url), sender, to, wei)
    emit({**asdict(funding), "from": sender.address}, fmt, _line)


def _line(data: dict[str, Any]) -> str:
    return (
        f"sent {data['amount_wei'] / WEI_PER_ETHER:g} ether to {data['address']} in {data['tx_hash']}; "
        f"it now holds {data['balance_wei'] / WEI_PER_ETHER:g} ether: it can send `bcfl member request`"
    )
