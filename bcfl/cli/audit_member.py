"""``bcfl audit member ID``: a member's history (request, approvals, activation, key rotations,
suspensions), its updates, reputation curve, payouts and balance; then the checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import typer
from rich.table import Table

from bcfl.audit.privacy import epsilon_text, left_text
from bcfl.audit.report import run_checks
from bcfl.audit.views import member_view
from bcfl.cli.audit_common import AuditFormat, AuditFormatOpt, IndexOpt, emit_audit
from bcfl.cli.audit_context import StoreOpt, audit_errors, checks_table, finish, load_audit, tokens
from bcfl.cli.common import ManifestPath, RpcUrl
from bcfl.cli.settings import DEFAULTS
from bcfl.text import markup_escaped, plain

MemberArg = Annotated[int, typer.Argument(help="The member's id.", min=1)]


def show_member(
    member_id: MemberArg,
    manifest: ManifestPath,
    rpc_url: RpcUrl = DEFAULTS.rpc_url,
    index: IndexOpt = DEFAULTS.audit_index,
    store: StoreOpt = None,
    fmt: AuditFormatOpt = AuditFormat.table,
) -> None:
    """One member: membership history, every update, reputation curve, payouts and balance."""
    with audit_errors():
        context = load_audit(rpc_url, manifest, store, index)
        view = member_view(context, member_id)
        checks, not_run = run_checks(context)
        symbol, decimals = context.source.token()
    data = {
        "member": view.model_dump(mode="json"),
        "token": {"symbol": symbol, "decimals": decimals},
        "checks": [c.model_dump(mode="json") for c in checks],
        "not_run": list(not_run),
    }
    emit_audit(data, fmt, render_member, member_rows)
    finish(checks)


def render_member(data: Mapping[str, Any]) -> list[Table | str]:
    m, token = data["member"], data["token"]

    lines: list[Table | str] = [
        f"[bold]Member {m['member_id']}[/] {markup_escaped(m['name'], 40)}: {m['status']}",
        f"key      {m['signer']}",
        members_table([m], token),
    ]
    privacy = privacy_table([m])
    if privacy is not None:
        lines.append(privacy)
    history = Table(title="Membership", title_justify="left")
    history.add_column("block", justify="right", no_wrap=True)
    history.add_column("what", overflow="fold")
    for e in m["history"]:
        history.add_row(str(e["block_number"]), plain(e["detail"] or e["event"], 300))
    rounds = Table(title="Rounds", title_justify="left")
    for column in ("round", "examples", "reputation", "paid"):
        rounds.add_column(column, justify="right")
    reputation = dict(m["reputation"])
    paid = dict(m["payouts"])
    for number, _, examples in m["updates"]:
        rounds.add_row(
            str(number),
            str(examples),
            str(reputation.get(number, "-")),
            tokens(paid.get(number), token["decimals"], ""),
        )
    lines += [history, rounds]
    lines += [f"update {number}: {digest}" for number, digest, _ in m["updates"]]
    lines.append(checks_table(data["checks"], data["not_run"]))
    return lines


def members_table(members: Sequence[Mapping[str, Any]], token: Mapping[str, Any]) -> Table:
    """A row per member, whole at 80 columns: status, updates, reputation after its last scored
    round, tokens paid to it and its balance now."""
    table = Table(title=f"Members (amounts in {markup_escaped(token['symbol'], 11)})", title_justify="left")
    table.add_column("member", overflow="fold")
    table.add_column("status", no_wrap=True)
    for column in ("updates", "reputation", "paid", "balance"):
        table.add_column(column, justify="right", no_wrap=True)
    for m in members:
        table.add_row(
            plain(f"{m['member_id']} {m['name']}", 60),
            m["status"],
            str(len(m["updates"])),
            f"{m['reputation'][-1][1] / 100:.2f}%" if m["reputation"] else "-",
            tokens(m["paid_total"], token["decimals"], "").strip(),
            tokens(m["balance"], token["decimals"], "").strip(),
        )
    return table


def privacy_table(members: Sequence[Mapping[str, Any]], budget: str | None = None) -> Table | None:
    """A row per member and lineage it trained in: its updates, the ε they declared and the ε the
    budget (``budget``, said in the title) leaves; None when no member trained yet."""
    rows = [(m, p) for m in members for p in m["privacy"]]
    if not rows:
        return None
    title = "Differential privacy" + (f", budget {budget}" if budget else "")
    table = Table(title=title, title_justify="left")
    table.add_column("member", overflow="fold")
    for column in ("lineage", "updates", "ε spent", "ε left"):
        table.add_column(column, justify="right", no_wrap=True)
    for m, p in rows:
        table.add_row(
            plain(f"{m['member_id']} {m['name']}", 60),
            str(p["lineage"]),
            str(p["updates"]),
            epsilon_text(p["epsilon_spent"]),
            left_text(p["epsilon_left"]),
        )
    return table


def member_rows(data: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    m = data["member"]
    reputation, paid = dict(m["reputation"]), dict(m["payouts"])
    return [
        {
            "member_id": m["member_id"],
            "round": number,
            "update_hash": digest,
            "num_examples": examples,
            "reputation_after": reputation.get(number, ""),
            "paid": paid.get(number, ""),
        }
        for number, digest, examples in m["updates"]
    ]
