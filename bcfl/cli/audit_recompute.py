"""``bcfl audit recompute [--round N]``: each finalized round's contribution scores and aggregated
model recomputed from the model store, the round's config document and the on-chain records, and
compared with the chain bit for bit; each mismatch named."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from bcfl.audit.context import AuditError
from bcfl.audit.store_checks import recompute as recompute_check
from bcfl.audit.views import round_of
from bcfl.cli.audit_common import AuditFormat, AuditFormatOpt, IndexOpt, emit_audit
from bcfl.cli.audit_context import audit_errors, checks_table, finish, load_audit
from bcfl.cli.common import ManifestPath, RpcUrl
from bcfl.cli.settings import DEFAULTS

RequiredStoreOpt = Annotated[
    Path, typer.Option("--store", help="The run's model store (RUN_DIR/models), read only.")
]
RoundOpt = Annotated[
    int | None, typer.Option("--round", help="Only this round (default: every finalized round).", min=1)
]


def recompute(
    manifest: ManifestPath,
    store: RequiredStoreOpt,
    rpc_url: RpcUrl = DEFAULTS.rpc_url,
    index: IndexOpt = DEFAULTS.audit_index,
    chain_round: RoundOpt = None,
    fmt: AuditFormatOpt = AuditFormat.table,
) -> None:
    """Recompute scores and aggregated models from the store and compare them with the chain."""
    with audit_errors():
        context = load_audit(rpc_url, manifest, store, index)
        if chain_round is not None:
            round_of(context.history, chain_round)
        rounds = [
            n
            for n, r in sorted(context.history.rounds.items())
            if r.finalized is not None and (chain_round is None or n == chain_round)
        ]
        if chain_round is not None and not rounds:
            raise AuditError(f"round {chain_round} is not finalized yet: recompute it once it is")
        check = recompute_check(context, rounds)
    data = {"rounds": rounds, "checks": [check.model_dump(mode="json")], "not_run": []}
    emit_audit(data, fmt, render_recompute, recompute_rows)
    finish([check])


def render_recompute(data: Mapping[str, Any]) -> list[Table | str]:
    return [
        f"recomputed rounds: {', '.join(map(str, data['rounds'])) or 'none'}",
        checks_table(data["checks"], []),
    ]


def recompute_rows(data: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    """A row per recomputed round: whether it matched, and its problems (one per line)."""
    (check,) = data["checks"]
    rows = []
    for number in data["rounds"]:
        mine = [p for p in check["problems"] if p.startswith(f"round {number}:")]
        rows.append({"round": number, "matches": not mine, "problems": "\n".join(mine)})
    return rows
