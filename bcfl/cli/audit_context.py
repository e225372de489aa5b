"""What every ``bcfl audit`` command that reads a run shares: where the chain, the manifest, the event
index and (optionally) the model store are, one-line errors for bad input, the checks' exit code, and token
amounts in whole tokens."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from bcfl.audit.context import AuditContext, AuditError
from bcfl.audit.model import CheckResult
from bcfl.audit.source import IndexSource
from bcfl.chain.exceptions import ChainError
from bcfl.cli.audit_sync import sync_progress
from bcfl.cli.common import connect, err_console
from bcfl.index.errors import EventIndexError
from bcfl.index.store import EventIndex
from bcfl.models.store import ModelStore, ModelStoreError
from bcfl.text import markup_escaped, plain

StoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="The run's model store (RUN_DIR/models), read only; without it the checks that need "
        "it (store-files, recompute, evaluations) are not run.",
    ),
]

#: Exit code of an audit whose checks found a problem (bad input exits 1).
CHECKS_FAILED = 2


@contextmanager
def audit_errors() -> Iterator[None]:
    """Bad input (an unreachable chain, a wrong manifest, an unknown round, a file that is not a
    model) as one line and exit code 1, never a traceback."""
    try:
        yield
    except (ChainError, AuditError, ModelStoreError, EventIndexError) as exc:
        err_console.print(f"[bold red]error:[/] {markup_escaped(exc, limit=400)}")
        raise typer.Exit(1) from None


def load_audit(rpc_url: str, manifest: Path, store: Path | None, index: str) -> AuditContext:
    """The consortium's history from the event index at ``index``, first brought up to the chain's
    head (the manifest checked against the chain), with the model store if given."""
    if store is not None and not store.is_dir():
        raise AuditError(f"no model store at {store}: give the run's models directory, or leave --store out")
    consortium = connect(rpc_url, manifest)
    with EventIndex.open(index, consortium.manifest) as events:
        with sync_progress() as progress:
            events.sync(consortium.client, progress=progress)
        source = IndexSource(consortium, events)
    return AuditContext.load(source, ModelStore(store) if store is not None else None)


def finish(checks: Sequence[CheckResult]) -> None:
    """Name each failed check in one line (on stderr) and exit non-zero if any failed."""
    failed = [c for c in checks if not c.ok]
    for check in failed:
        first = check.problems[0] if check.problems else "failed"
        more = f" (and {len(check.problems) - 1} more)" if len(check.problems) > 1 else ""
        err_console.print(
            f"[bold red]check failed:[/] {check.name}: {markup_escaped(first, limit=300)}{more}"
        )
    if failed:
        raise typer.Exit(CHECKS_FAILED)


def tokens(amount: str | int | None, decimals: int, symbol: str) -> str:
    """Base units as whole tokens with two decimals ("417.33 BCFL"), rounded down."""
    if amount is None:
        return "-"
    whole = Decimal(int(amount)) / (Decimal(10) ** decimals)
    return f"{whole.quantize(Decimal('0.01'), rounding='ROUND_DOWN'):,} {symbol}"


def checks_table(checks: Sequence[Mapping[str, Any]], not_run: Sequence[str]) -> Table:
    """The checks as a table: name, result, and the first problem (or what passing proves)."""
    table = Table(title="Checks", title_justify="left")
    table.add_column("check", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("detail", overflow="fold")
    for check in checks:
        if check["ok"]:
            table.add_row(check["name"], "[green]ok[/]", plain(check["proves"], 400))
        else:
            problems = check["problems"]
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            table.add_row(check["name"], "[bold red]FAILED[/]", plain(f"{problems[0]}{more}", 400))
    for line in not_run:
        name, _, why = line.partition(": ")
        table.add_row(name, "not run", plain(why, 200))
    return table
