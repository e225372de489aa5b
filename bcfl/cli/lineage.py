"""``bcfl lineage show|start|approve``: the consortium's model lineage. A round opens only from the
lineage's head (the previous round's aggregate); a new lineage (a fresh model, a rollback to an earlier
aggregate) needs the admin, or, in governance mode, the members' quorum, and records its reason."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from bcfl.chain.consortium import Consortium
from bcfl.cli.common import (
    DevAccountOpt,
    Format,
    KeyEnvOpt,
    KeystoreOpt,
    ManifestPath,
    OutputFormat,
    PasswordFileOpt,
    RpcUrl,
    clean_errors,
    connect,
    console,
    emit,
    parse_bytes32,
    resolve_account,
)
from bcfl.cli.settings import DEFAULTS
from bcfl.text import plain

ModelHash = Annotated[str, typer.Argument(help="0x-hex hash of the model the lineage starts from.")]
Reason = Annotated[str, typer.Option(help="Why a new lineage starts, recorded on chain.")]


def lineage_state(consortium: Consortium) -> dict[str, Any]:
    """The lineage's head and every lineage start, from the chain."""
    ledger = consortium.ledger
    head = ledger.lineage_head()
    return {
        "head": {"model_hash": "0x" + head.model_hash.hex(), "round": head.round, "lineage": head.lineage},
        "starts": [
            {
                "lineage": s.lineage,
                "model_hash": "0x" + s.model_hash.hex(),
                "started_by": s.started_by,
                "reason": s.reason,
                "block": s.block_number,
                "tx_hash": s.tx_hash,
            }
            for s in ledger.lineage_starts()
        ],
    }


def show(
    manifest: ManifestPath, rpc_url: RpcUrl = DEFAULTS.rpc_url, fmt: Format = OutputFormat.table
) -> None:
    """Print the lineage's head (the model the next round must open from) and every lineage start."""
    with clean_errors():
        data = lineage_state(connect(rpc_url, manifest))
    emit(data, fmt, _table)


def start(
    model_hash: ModelHash,
    reason: Reason,
    manifest: ManifestPath,
    rpc_url: RpcUrl = DEFAULTS.rpc_url,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    key_env: KeyEnvOpt = None,
    dev_account: DevAccountOpt = None,
) -> None:
    """Start a new lineage from MODEL_HASH (the admin; anyone once the members approved it)."""
    with clean_errors():
        account = resolve_account(keystore, password_file, key_env, dev_account)
        ledger = connect(rpc_url, manifest).ledger
        ledger.start_lineage(account, parse_bytes32(model_hash, "model hash"), reason)
        head = ledger.lineage_head()
    console.print(f"lineage {head.lineage} starts from 0x{head.model_hash.hex()}", soft_wrap=True)


def approve(
    model_hash: ModelHash,
    reason: Reason,
    manifest: ManifestPath,
    rpc_url: RpcUrl = DEFAULTS.rpc_url,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    key_env: KeyEnvOpt = None,
    dev_account: DevAccountOpt = None,
) -> None:
    """Approve, as an active member (governance mode), a new lineage from MODEL_HASH with REASON."""
    with clean_errors():
        account = resolve_account(keystore, password_file, key_env, dev_account)
        consortium = connect(rpc_url, manifest)
        decision = consortium.ledger.lineage_decision(parse_bytes32(model_hash, "model hash"), reason)
        consortium.registry.approve_decision(account, decision)
        approvals = consortium.registry.decision_approvals(decision)
        _enabled, quorum = consortium.registry.governance()
    console.print(f"lineage decision 0x{decision.hex()}: {approvals} of {quorum} approvals", soft_wrap=True)


def _table(data: dict[str, Any]) -> Table:
    head = data["head"]
    title = f"lineage {head['lineage']}: next round opens from {head['model_hash']} (round {head['round']})"
    table = Table("lineage", "model", "started by", "reason", "block", title=plain(title))
    for s in data["starts"]:
        table.add_row(
            plain(s["lineage"]), plain(s["model_hash"]), plain(s["started_by"]), plain(s["reason"]),
            plain(s["block"]),
        )  # fmt: skip
    return table
