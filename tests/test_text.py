"""Untrusted strings made safe to show: printable, shortened, never read as markup."""

from __future__ import annotations

from rich.console import Console

from bcfl.cli.demo_summary import print_summary
from bcfl.text import markup_escaped, plain, printable
from coordinator.verification import REASON_LIMIT, Rejection
from tests.audit.report_fixture import sample_report


def test_printable_escapes_control_and_format_characters_and_shortens() -> None:
    assert printable("St Mary's") == "St Mary's"
    assert printable("a\nb\x1b[0m\u202ec\u2066") == "a\\u000ab\\u001b[0m\\u202ec\\u2066"
    assert printable("x" * 10, limit=5) == "xxxx…"
    assert printable("Zürich 東京") == "Zürich 東京"


def test_rich_output_shows_markup_as_text() -> None:
    console = Console(record=True, width=200)
    console.print(plain("[/bold] x"))
    console.print(f"name: {markup_escaped('[red]x[/red] [/]')}")
    assert console.export_text() == "[/bold] x\nname: [red]x[/red] [/]\n"


def test_demo_summary_prints_hostile_names_and_reasons() -> None:
    console = Console(record=True, width=300)
    hostile = "[/bold]\x1b[31m\u202eEvil"
    report = sample_report()
    member = report.members[0].model_copy(update={"name": hostile})
    report = report.model_copy(update={"members": (member, *report.members[1:]), "token_symbol": "[b]BCFL"})
    summary = {
        **report.model_dump(mode="json"),
        "verdict": report.verdict,
        "clean": report.clean,
        "run_dir": "runs/x",
        "rpc_url": "http://127.0.0.1:8545",
        "index": "runs/x/index.sqlite",
        "rejected": [{"round": 1, "node_id": 7, "reason": "the hospital replied: [/] \x1b[2J"}],
    }
    print_summary(summary, console)
    text = console.export_text()
    assert "[/bold]\\u001b[31m\\u202eEvil" in text and "\x1b" not in text and "\u202e" not in text
    assert "the hospital replied: [/] \\u001b[2J" in text and "amounts in [b]BCFL" in text


def test_a_rejection_keeps_the_hospital_s_words_printable() -> None:
    rejection = Rejection(3, "the hospital replied with an error: \x1b[2J\n" + "x" * 1000)
    assert rejection.reason.startswith("the hospital replied with an error: \\u001b[2J\\u000a")
    assert len(rejection.reason) == REASON_LIMIT and rejection.reason.endswith("…")
