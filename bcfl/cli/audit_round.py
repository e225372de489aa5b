"""``bcfl audit round N``: everything the chain (and the store, when given) says about one round,
and the audit's checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import typer
from rich.table import Table

from bcfl.audit.privacy import epsilon_text
from bcfl.audit.report import run_checks
from bcfl.audit.views import round_view
from bcfl.cli.audit_common import AuditFormat, AuditFormatOpt, IndexOpt, emit_audit
from bcfl.cli.audit_context import StoreOpt, audit_errors, checks_table, finish, load_audit, tokens
from bcfl.cli.common import ManifestPath, RpcUrl
from bcfl.cli.settings import DEFAULTS
from bcfl.text import markup_escaped, plain

RoundArg = Annotated[int, typer.Argument(help="The chain's round number.", min=1)]


def show_round(
    number: RoundArg,
    manifest: ManifestPath,
    rpc_url: RpcUrl = DEFAULTS.rpc_url,
    index: IndexOpt = DEFAULTS.audit_index,
    store: StoreOpt = None,
    fmt: AuditFormatOpt = AuditFormat.table,
) -> None:
    """One round: models, config, updates, scores, reputations, weights, evaluations, payouts.

    Each update's signature is checked against the membership at its block; the checks follow."""
    with audit_errors():
        context = load_audit(rpc_url, manifest, store, index)
        view = round_view(context, number)
        checks, not_run = run_checks(context, [number])
        symbol, decimals = context.source.token()
    data = {
        "round": view.model_dump(mode="json"),
        "token": {"symbol": symbol, "decimals": decimals},
        "checks": [c.model_dump(mode="json") for c in checks],
        "not_run": list(not_run),
    }
    emit_audit(data, fmt, render_round, round_rows)
    finish(checks)


def render_round(data: Mapping[str, Any]) -> list[Table | str]:
    r, token = data["round"], data["token"]
    paid = {p["member_id"]: p["amount"] for p in r["payouts"]}
    scores = {s["member_id"]: s for s in r["scores"]}
    weights = {w["member_id"]: w["weight"] for w in r["participants"]}
    lines: list[Table | str] = [
        f"[bold]Round {r['round']}[/] ({r['status']}), lineage {r['lineage']}, "
        f"parent round {r['parent_round']}",
        rounds_table([r], token),
        *model_lines(r),
        f"config     {r['config_hash']}",
        f"app        {r['app_hash']}",
    ]
    if r["aggregated_model_hash"]:
        lines.append(f"metrics    {r['metrics_hash']}")
    table = Table(title="Updates", title_justify="left")
    for column in ("member", "examples", "ε", "score", "reputation", "in", "paid", "sig"):
        table.add_column(
            column,
            overflow="fold",
            justify="right" if column in ("examples", "ε", "score", "paid") else "left",
        )
    for u in r["updates"]:
        m = u["member_id"]
        s = scores.get(m)
        table.add_row(
            plain(f"{m} {u['member_name']}", 28),
            str(u["num_examples"]),
            epsilon_text(u["epsilon"]),
            str(s["contribution"]) if s else "-",
            f"{s['reputation_before']}->{s['reputation_after']}" if s else "-",
            "yes" if m in weights else ("excl." if s and s["excluded_before"] else "no"),
            tokens(paid.get(m), token["decimals"], ""),
            "ok" if u["signature_valid"] else "[red]BAD[/]",
        )
    lines.append(table)
    lines += [f"update {u['member_id']}: {u['update_hash']}" for u in r["updates"]]
    lines += [f"[yellow]skipped[/] entry {s['index']}: {s['reason']}" for s in r["skipped"]]
    if r["evaluations"]:
        lines.append(
            "evaluations: "
            + ", ".join(
                f"member {e['member_id']} {'ok' if e['signature_valid'] else 'BAD'}" for e in r["evaluations"]
            )
        )
    if r["budget"] is not None:
        lines.append(
            f"budget {tokens(r['budget'], token['decimals'], token['symbol'])}, "
            f"paid {tokens(r['total_paid'], token['decimals'], token['symbol'])}"
        )
    lines.append(checks_table(data["checks"], data["not_run"]))
    return lines


def rounds_table(rounds: Sequence[Mapping[str, Any]], token: Mapping[str, Any]) -> Table:
    """A row per round, whole at 80 columns: status, the aggregated model's evaluation (the
    hospitals' signed aggregate), updates, members excluded, and tokens paid."""
    table = Table(title=f"Rounds (paid in {markup_escaped(token['symbol'], 11)})", title_justify="left")
    table.add_column("round", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for column in ("accuracy", "AUROC", "updates", "excluded", "paid"):
        table.add_column(column, justify="right", no_wrap=True)
    for r in rounds:
        metrics = r["aggregate_metrics"] or {}
        table.add_row(
            str(r["round"]),
            r["status"],
            _ratio(metrics.get("accuracy")),
            _ratio(metrics.get("auroc")),
            str(len(r["updates"])),
            str(len(r["excluded"])),
            tokens(r["total_paid"], token["decimals"], "").strip(),
        )
    return table


def model_lines(r: Mapping[str, Any]) -> list[str]:
    """The round's models, hashes whole: the global model it started from and, once finalized, the
    model it aggregated."""
    lines = [f"global     {r['global_model_hash']}"]
    if r["aggregated_model_hash"]:
        lines.append(f"aggregated {r['aggregated_model_hash']}")
    return lines


def _ratio(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else "-"


def round_rows(data: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    r = data["round"]
    scores = {s["member_id"]: s for s in r["scores"]}
    paid = {p["member_id"]: p["amount"] for p in r["payouts"]}
    weights = {w["member_id"]: w["weight"] for w in r["participants"]}
    return [
        {
            "round": r["round"],
            "member_id": u["member_id"],
            "member_name": u["member_name"],
            "signer": u["signer"],
            "update_hash": u["update_hash"],
            "num_examples": u["num_examples"],
            "signature_valid": u["signature_valid"],
            "score": scores[u["member_id"]]["contribution"] if u["member_id"] in scores else "",
            "reputation_before": scores[u["member_id"]]["reputation_before"]
            if u["member_id"] in scores
            else "",
            "reputation_after": scores[u["member_id"]]["reputation_after"]
            if u["member_id"] in scores
            else "",
            "weight": weights.get(u["member_id"], ""),
            "paid": paid.get(u["member_id"], ""),
        }
        for u in r["updates"]
    ]
