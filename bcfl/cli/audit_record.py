"""``bcfl audit record RUN_DIR``: is a run directory's record (chain state, manifest, model store,
journal, update proofs) what the run left? Compares it with the run's ``record.sha256``; reads only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from bcfl.audit.record import RECORD_FILE, RecordError, compare_record, record_check
from bcfl.cli.audit_common import AuditFormat, AuditFormatOpt, emit_audit
from bcfl.cli.audit_context import CHECKS_FAILED
from bcfl.cli.common import err_console
from bcfl.text import markup_escaped, plain


def record(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (runs/<run-id>) holding record.sha256.")],
    fmt: AuditFormatOpt = AuditFormat.table,
) -> None:
    """Check every file of a run's record against its checksums (record.sha256).

    Exit 2 (like every failed audit check) if any changed, went missing or was added, 1 if the record
    cannot be read."""
    try:
        files = compare_record(run_dir)
    except RecordError as exc:
        err_console.print(f"[bold red]error:[/] {markup_escaped(exc, limit=400)}")
        raise typer.Exit(1) from None
    check = record_check(files)
    data = {
        "run_dir": str(run_dir),
        "manifest": str(run_dir / RECORD_FILE),
        "check": check.model_dump(mode="json"),
        "files": [{"file": name, "status": status} for name, status in files],
    }
    emit_audit(data, fmt, _render, lambda d: d["files"])
    if not check.ok:
        raise typer.Exit(CHECKS_FAILED)


def _render(data: dict[str, Any]) -> list[Table | str]:
    files = data["files"]
    bad = [f for f in files if f["status"] != "ok"]
    parts: list[Table | str] = []
    if bad:
        table = Table("file", "status", title=f"files that differ from {RECORD_FILE}")
        for entry in bad:
            table.add_row(plain(entry["file"], limit=200), entry["status"].upper())
        parts.append(table)
        parts.append(
            f"[bold red]record-checksums FAILED[/]: {len(bad)} of {len(files)} files differ; "
            "the run directory is not what the run left"
        )
    else:
        parts.append(f"[green]record-checksums ok[/]: all {len(files)} files match {RECORD_FILE}")
    return parts
