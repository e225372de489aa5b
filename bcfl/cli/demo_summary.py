"""The demo's closing summary as tables an 80-column terminal shows whole: the models per round,
the signed updates, then the scores and payouts, and the balances now. Hashes are shortened
(``0x1234abcd…ef01``); ``summary.json`` in the run directory holds them in full."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from bcfl.text import markup_escaped, plain, printable


def summary_parts(summary: dict[str, Any]) -> list[RenderableType]:
    """The summary's tables and lines, in print order."""
    token = summary["token"]
    symbol, decimals = markup_escaped(token["symbol"], 11), int(token["decimals"])
    models = Table(
        "round", "accuracy", "AUROC", "starting model", "aggregated model", "updates",
        title="models per round (full hashes in summary.json)",
    )  # fmt: skip
    updates = Table(
        "round", "hospital", "examples", "update hash", "signature", title="signed updates on chain"
    )
    scores = Table(
        "round", "hospital", "score", "reputation", "aggregated", f"paid ({symbol})",
        title="scores and payouts on chain",
    )  # fmt: skip
    rejections: list[RenderableType] = []
    for record in summary["rounds"]:
        number = str(record["round"])
        models.add_row(
            number,
            _ratio(record["accuracy"]),
            _ratio(record["auroc"]),
            short_hash(record.get("global_model_hash")),
            short_hash(record.get("aggregated_model_hash")),
            str(len(record["updates"])),
        )
        for update in record["updates"]:
            hospital = plain(update["hospital"])
            updates.add_row(
                number,
                hospital,
                str(update["examples"]),
                short_hash(update["update_hash"]),
                "valid" if update["signature_valid"] else "INVALID",
            )
            scores.add_row(
                number,
                hospital,
                _bps(update["score"]),
                _bps(update["reputation"]),
                "yes" if update["aggregated"] else "EXCLUDED",
                tokens(int(update["paid"]), decimals),
            )
        rejections.extend(
            Text(f"round {number}: node {r['node_id']} rejected: {printable(r['reason'], 200)}")
            for r in record["rejected"]
        )
    balances = Table("hospital", "member", "reputation", f"balance ({symbol})", title="hospitals now")
    for hospital in summary["hospitals"]:
        balances.add_row(
            plain(hospital["name"]),
            str(hospital["member_id"]),
            _bps(hospital["reputation"]),
            tokens(int(hospital["balance"]), decimals),
        )
    return [models, updates, *rejections, scores, balances]


def print_summary(summary: dict[str, Any], out: Console) -> None:
    for part in summary_parts(summary):
        out.print(part)


def short_hash(value: str | None) -> str:
    """``0x1234abcd…ef01``: enough to tell hashes apart on screen, never the only copy."""
    return f"{value[:10]}…{value[-4:]}" if value else "-"


def tokens(amount: int, decimals: int) -> str:
    """Base units as whole tokens with two decimals (cut, not rounded up), exactly."""
    whole = (Decimal(amount) / (Decimal(10) ** decimals)).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    return f"{whole:,.2f}"


def _ratio(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else "-"


def _bps(value: int | None) -> str:
    return f"{value / 100:.1f}%" if value is not None else "-"
