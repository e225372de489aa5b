"""``bcfl audit events``: the indexed contract events, decoded, filtered, in chain order."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from bcfl.chain.manifest import DeploymentManifest
from bcfl.cli.audit_common import AuditFormat, AuditFormatOpt, IndexOpt, emit_audit
from bcfl.cli.common import ManifestPath, clean_errors
from bcfl.cli.settings import DEFAULTS
from bcfl.index.decoding import EventDecoder
from bcfl.index.errors import EventIndexError
from bcfl.index.records import OUTSIDE_MANIFEST, IndexedEvent
from bcfl.index.store import EventIndex
from bcfl.text import markup_escaped

#: ``--contract`` for events from addresses outside the manifest.
OUTSIDE = "outside"
#: Width the table output keeps within.
WIDTH = 80


def list_events(
    manifest_path: Path,
    index_url: str,
    *,
    contract: str | None = None,
    event: str | None = None,
    round_number: int | None = None,
    member: int | None = None,
    from_block: int | None = None,
    to_block: int | None = None,
) -> list[dict[str, Any]]:
    """The indexed events matching every filter, as JSON-ready records."""
    manifest = DeploymentManifest.load(manifest_path)
    if "://" not in index_url and not Path(index_url).expanduser().is_file():
        raise EventIndexError(f"no event index at {index_url}: build it with `bcfl audit sync`")
    if contract not in (None, OUTSIDE, *manifest.contracts):
        names = ", ".join([*manifest.contracts, OUTSIDE])
        raise EventIndexError(f"the manifest has no contract {contract!r}: give one of {names}")
    known = EventDecoder.for_manifest(manifest).names
    if event is not None and event not in known:
        raise EventIndexError(f"the contracts emit no event {event!r}: give one of {', '.join(known)}")
    with EventIndex.open(index_url, manifest) as index:
        found = index.events(
            contract=OUTSIDE_MANIFEST if contract == OUTSIDE else contract,
            name=event,
            round=round_number,
            member=member,
            from_block=from_block,
            to_block=to_block,
        )
    return [_record(e) for e in found]


def events(
    manifest: ManifestPath,
    index: IndexOpt = DEFAULTS.audit_index,
    contract: Annotated[
        str | None,
        typer.Option("--contract", help=f"A manifest contract, or '{OUTSIDE}' for addresses outside it."),
    ] = None,
    event: Annotated[str | None, typer.Option("--event", help="Event name, e.g. UpdateRegistered.")] = None,
    round_number: Annotated[int | None, typer.Option("--round", help="Only events of this round.")] = None,
    member: Annotated[int | None, typer.Option("--member", help="Only events of this member id.")] = None,
    from_block: Annotated[int | None, typer.Option("--from-block", help="First block.")] = None,
    to_block: Annotated[int | None, typer.Option("--to-block", help="Last block.")] = None,
    fmt: AuditFormatOpt = AuditFormat.table,
) -> None:
    """Every indexed contract event, decoded to named fields (run `bcfl audit sync` first)."""
    with clean_errors():
        data = list_events(
            manifest,
            index,
            contract=contract,
            event=event,
            round_number=round_number,
            member=member,
            from_block=from_block,
            to_block=to_block,
        )
    emit_audit(data, fmt, _render, _rows)


def _record(e: IndexedEvent) -> dict[str, Any]:
    return {
        "block_number": e.block_number,
        "log_index": e.log_index,
        "timestamp": e.timestamp,
        "time": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(e.timestamp)),
        "tx_hash": e.tx_hash,
        "contract": e.contract,
        "address": e.address,
        "event": e.name,
        "args": dict(e.args),
    }


def _rows(data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return data


def _render(data: list[dict[str, Any]]) -> list[str]:
    """One block of lines per event, each line within 80 columns: full hashes, never cut."""
    if not data:
        return ["no events match"]
    return [*(_event_lines(e) for e in data), f"{len(data)} events"]


def _event_lines(e: dict[str, Any]) -> str:
    contract = markup_escaped(e["contract"] or "[outside the manifest]", limit=WIDTH)
    where = f"block {e['block_number']} log {e['log_index']}"
    head = f"[bold]{where}[/] {contract} [bold]{markup_escaped(e['event'])}[/]"
    lines = [head, f"  {e['time']}", f"  tx {e['tx_hash']}"]
    if not e["contract"]:
        lines.append(f"  [red]address {e['address']}[/]")
    for key, value in e["args"].items():
        shown = json.dumps(value) if isinstance(value, list | dict) else str(value)
        if len(key) + len(shown) + 4 <= WIDTH:
            lines.append(f"  {markup_escaped(key)}: {markup_escaped(shown, limit=WIDTH)}")
        else:
            lines.append(f"  {markup_escaped(key)}:")
            step = WIDTH - 4
            lines.extend(f"    {markup_escaped(shown[i : i + step])}" for i in range(0, len(shown), step))
    return "\n".join(lines)
