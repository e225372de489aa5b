"""The doctor's checks on this machine: data against the schema, disk space, Flower's programs."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from hospital_node.site.data import data_line, data_report
from hospital_node.site.doctor import CheckError, CheckFn, Probe, Status

#: Free space the node needs for its logs, the apps it runs and the models it keeps.
GIB = 1024**3
MIN_FREE_BYTES = 2 * GIB
PROGRAMS = ("bcfl-signer", "bcfl-supernode", "bcfl-superexec", "flwr-clientapp")


def data(p: Probe) -> tuple[Status, str]:
    return Status.ok, data_line(data_report(p.config.data, p.config.schema_path))


def disk(p: Probe) -> tuple[Status, str]:
    free = shutil.disk_usage(p.node.folder).free
    if free < MIN_FREE_BYTES:
        raise CheckError(
            f"only {free / GIB:.1f} GiB free under {p.node.folder}: "
            f"free at least {MIN_FREE_BYTES / GIB:.0f} GiB"
        )
    return Status.ok, f"{free / GIB:.1f} GiB free"


def programs(_p: Probe) -> tuple[Status, str]:
    missing = [name for name in PROGRAMS if program_path(name) is None]
    if missing:
        raise CheckError(
            f"{', '.join(missing)} not installed: install bcfl (pip install .) in this environment"
        )
    return Status.ok, f"{', '.join(PROGRAMS)} installed"


def program_path(name: str) -> Path | None:
    """A program beside this interpreter, else on PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return local
    found = shutil.which(name)
    return None if found is None else Path(found)


LOCAL_CHECKS: list[tuple[str, CheckFn]] = [("data", data), ("disk", disk), ("programs", programs)]
