"""The demo's closing summary fits an 80-column terminal whole: no name, amount or heading cut
short, hashes shortened only deliberately (their full form is in summary.json)."""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console

from bcfl.cli.demo_summary import print_summary, short_hash, tokens

STARTING = "0x" + "ab" * 32
AGGREGATED = "0x" + "cd" * 32


def _update(hospital: str, member_id: int, paid: int, *, aggregated: bool = True) -> dict[str, Any]:
    return {
        "hospital": hospital,
        "member_id": member_id,
        "examples": 123_456,
        "update_hash": f"0x{member_id:064x}",
        "signature_valid": True,
        "score": 10_000,
        "reputation": 2_550 if not aggregated else 10_000,
        "aggregated": aggregated,
        "paid": str(paid),
    }


SUMMARY: dict[str, Any] = {
    "token": {"symbol": "BCFL", "decimals": 18},
    "rounds": [
        {
            "round": 12,
            "accuracy": 0.81234,
            "auroc": None,
            "global_model_hash": STARTING,
            "aggregated_model_hash": AGGREGATED,
            "updates": [
                _update("switzerland", 1, 12_345_678 * 10**16),
                _update("va_long_beach", 2, 417_339_999 * 10**12),
                _update("hungary", 3, 0, aggregated=False),
            ],
            "rejected": [{"node_id": 99, "reason": "update signed by a key that is not an active member's"}],
        }
    ],
    "hospitals": [
        {"name": "switzerland", "member_id": 1, "reputation": 10_000, "balance": str(1_234_567 * 10**18)},
        {"name": "va_long_beach", "member_id": 2, "reputation": 9_999, "balance": str(417_339_999 * 10**12)},
    ],
}


def test_the_summary_is_readable_at_80_columns() -> None:
    console = Console(width=80, record=True, color_system=None)
    print_summary(SUMMARY, console)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    # Every "…" is a deliberately shortened hash (0x + 8 hex … 4 hex), nothing else was cut.
    shortened = re.findall(r"0x[0-9a-f]{8}…[0-9a-f]{4}", text)
    assert len(shortened) == text.count("…") == 2 + 3
    for whole in ("switzerland", "va_long_beach", "hungary", "EXCLUDED"):
        assert whole in text
    # The rejection's reason is on its own lines, wrapped rather than cut.
    assert "node 99 rejected: update signed by a key that is not an active member's" in " ".join(text.split())
    for amount in ("123,456.78", "417.33", "0.00", "1,234,567.00", "paid (BCFL)", "balance (BCFL)"):
        assert amount in text
    # The round's starting model and its aggregate, each under its own heading.
    assert "starting model" in text and "aggregated model" in text
    assert short_hash(STARTING) in text and short_hash(AGGREGATED) in text
    assert text.index(short_hash(STARTING)) < text.index(short_hash(AGGREGATED))


def test_token_amounts_are_exact_whole_tokens() -> None:
    assert tokens(417_339_999 * 10**12, 18) == "417.33"
    assert tokens(10**40 + 1, 18) == "10,000,000,000,000,000,000,000.00"
    assert tokens(5, 0) == "5.00"
