"""``bcfl audit sync``: build or update the event index from the chain, with a progress bar."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bcfl.cli.audit_common import AuditFormat, AuditFormatOpt, IndexOpt, emit_audit
from bcfl.cli.common import ManifestPath, RpcUrl, clean_errors, connect, err_console
from bcfl.cli.settings import DEFAULTS
from bcfl.index.store import EventIndex
from bcfl.text import markup_escaped

ConfirmationsOpt = Annotated[
    int,
    typer.Option(
        "--confirmations", min=0, help="Index only blocks this many below the chain's head (reorg safety)."
    ),
]


def sync_index(
    rpc_url: str,
    manifest_path: Path,
    index_url: str,
    confirmations: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Bring the index at ``index_url`` up to the chain (the manifest's deployment checked first);
    what the sync did."""
    consortium = connect(rpc_url, manifest_path)
    with EventIndex.open(index_url, consortium.manifest) as index:
        result = index.sync(consortium.client, confirmations=confirmations, progress=progress)
        return {
            "index": index.where,
            "from_block": result.from_block,
            "to_block": result.to_block,
            "added": result.added,
            "events": index.count(),
            "rolled_back_to": result.rolled_back_to,
            "confirmations": confirmations,
        }


@contextmanager
def sync_progress() -> Iterator[Callable[[int, int], None]]:
    """A progress bar over the blocks a sync indexes (on stderr, gone when done): yields the sync's
    ``progress(done, total)`` callback. Not a terminal: no bar (nor the blank line it would leave)."""
    if not err_console.is_terminal:
        yield lambda done, total: None
        return
    with Progress(
        TextColumn("indexing blocks"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        redirect_stdout=False,
        redirect_stderr=False,
    ) as bar:
        task = bar.add_task("sync", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def sync(
    manifest: ManifestPath,
    rpc_url: RpcUrl = DEFAULTS.rpc_url,
    index: IndexOpt = DEFAULTS.audit_index,
    confirmations: ConfirmationsOpt = 0,
    fmt: AuditFormatOpt = AuditFormat.table,
) -> None:
    """Build or update the event index: every consortium event up to the chain's head."""
    with clean_errors(), sync_progress() as progress:
        data = sync_index(rpc_url, manifest, index, confirmations, progress)
    emit_audit(data, fmt, _summary, lambda d: [d])


def _summary(data: dict[str, Any]) -> str:
    where = markup_escaped(data["index"], limit=200)
    if data["to_block"] < data["from_block"]:
        done = f"nothing new: the index already holds every block up to {data['to_block']}"
    else:
        done = f"indexed blocks {data['from_block']}-{data['to_block']}: {data['added']} new events"
    lines = [f"{done} ({data['events']} in {where})"]
    if data["rolled_back_to"] is not None:
        lines.insert(0, f"[yellow]the chain reorganised: rolled back to block {data['rolled_back_to']}[/]")
    return "\n".join(lines)
