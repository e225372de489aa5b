"""``bcfl audit verify-model FILE_OR_HASH``: where the chain registered a model, and its whole
lineage back to the lineage's start: per round the hospitals whose signed updates went in, their
scores and payouts; then the checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from bcfl.audit.context import AuditError
from bcfl.audit.model import CheckResult
from bcfl.audit.provenance import HASH, NotRegisteredError, file_hash
from bcfl.audit.provenance import verify_model as verify_model_data
from bcfl.cli.audit_common import AuditFormat, AuditFormatOpt, IndexOpt, emit_audit
from bcfl.cli.audit_context import (
    CHECKS_FAILED,
    StoreOpt,
    audit_errors,
    checks_table,
    finish,
    load_audit,
    tokens,
)
from bcfl.cli.common import ManifestPath, RpcUrl, err_console
from bcfl.cli.settings import DEFAULTS
from bcfl.text import markup_escaped, plain

ModelArg = Annotated[str, typer.Argument(help="A model file (.bcfl) or its 0x-hex hash.")]


def hash_of(file_or_hash: str) -> str:
    """The model's 0x hash: given, or of the file's canonical arrays."""
    if HASH.match(file_or_hash):
        return file_or_hash.lower()
    path = Path(file_or_hash)
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise AuditError(
            f"cannot read {path}: {exc.strerror}; give a model file or a 0x-hex model hash"
        ) from None
    return file_hash(blob, str(path))


def verify_model(
    file_or_hash: ModelArg,
    manifest: ManifestPath,
    rpc_url: RpcUrl = DEFAULTS.rpc_url,
    index: IndexOpt = DEFAULTS.audit_index,
    store: StoreOpt = None,
    fmt: AuditFormatOpt = AuditFormat.table,
) -> None:
    """Where the chain registered a model, and its lineage back to the start, with the checks."""
    with audit_errors():
        digest = hash_of(file_or_hash)
        context = load_audit(rpc_url, manifest, store, index)
        try:
            data = verify_model_data(context, digest)
        except NotRegisteredError as exc:
            err_console.print(f"[bold red]not registered:[/] {markup_escaped(exc, 300)}")
            raise typer.Exit(CHECKS_FAILED) from None
    emit_audit(data, fmt, render_provenance, provenance_rows)
    finish([CheckResult.model_validate(c) for c in data["checks"]])


def render_provenance(data: Mapping[str, Any]) -> list[Table | str]:
    token = data["token"]
    lines: list[Table | str] = [f"[bold]model[/] {data['model_hash']}"]
    lines += [
        f"  registered as {loc['role']}"
        + (f" of round {loc['round']}" if loc["round"] is not None else "")
        + (f" by member {loc['member_id']}" if loc["member_id"] is not None else "")
        + f" (block {loc['block_number']})"
        for loc in data["locations"]
    ]
    table = Table(title="Lineage, newest round first", title_justify="left")
    for column in ("round", "hospital", "score", "in", "paid", "sig"):
        table.add_column(
            column, overflow="fold", justify="right" if column in ("round", "score", "paid") else "left"
        )
    for r in data["rounds"]:
        for index, h in enumerate(r["hospitals"]):
            table.add_row(
                str(r["round"]) if index == 0 else "",
                plain(f"{h['member_id']} {h['name']}", 28),
                str(h["score"]) if h["score"] is not None else "-",
                "yes" if h["aggregated"] else "no",
                tokens(h["paid"], token["decimals"], ""),
                "ok" if h["signature_valid"] else "[red]BAD[/]",
            )
    lines.append(table)
    start = data["lineage_start"]
    if start:
        lines += [
            f"lineage {start['lineage']} started from",
            f"  {start['model_hash']}",
            f"  reason: {markup_escaped(start['reason'], 200)}",
        ]
    lines.append(checks_table(data["checks"], data["not_run"]))
    return lines


def provenance_rows(data: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    return [
        {"model_hash": data["model_hash"], "round": r["round"], **h}
        for r in data["rounds"]
        for h in r["hospitals"]
    ]
