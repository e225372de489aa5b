"""A run's record and its checksum manifest: so an auditor can tell that a run directory holds what
the run left. The record is the chain's saved state, the deployment manifest, every file of the
model store, the coordinator's journal and the hospitals' update proofs; ``record.sha256`` lists
their SHA-256 in ``sha256sum`` format (``sha256sum -c record.sha256`` checks it too).

Writing the manifest is the run's last act, after the chain has stopped and saved its state;
verifying only reads."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path

from bcfl.audit.model import CheckResult

logger = logging.getLogger(__name__)

#: The checksum manifest's name in a run directory.
RECORD_FILE = "record.sha256"
#: Single files of the record, relative to the run directory.
RECORD_FILES = ("chain/state.json", "deployment.json", "rounds.json")
#: Folders whose every file is part of the record (glob patterns relative to the run directory).
RECORD_FOLDERS = ("models", "hospitals/*/proofs")
CHECK_NAME = "record-checksums"
PROVES = (
    "the run directory's chain state, manifest, model store, journal and update proofs are the files "
    "the run left when it ended (not that the run itself was honest: the chain checks say that)"
)
_CHUNK = 1 << 20


class RecordError(ValueError):
    """The run directory or its checksum manifest cannot be read."""


def record_files(run_dir: Path) -> list[str]:
    """The record's files present in ``run_dir``, as sorted POSIX paths relative to it."""
    found = {name for name in RECORD_FILES if (run_dir / name).is_file()}
    for pattern in RECORD_FOLDERS:
        for folder in run_dir.glob(pattern):
            found.update(p.relative_to(run_dir).as_posix() for p in folder.rglob("*") if p.is_file())
    return sorted(found)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_record(run_dir: Path) -> Path:
    """Write ``record.sha256`` for the record ``run_dir`` holds now; returns its path."""
    lines = [f"{sha256_file(run_dir / name)}  {name}\n" for name in record_files(run_dir)]
    path = run_dir / RECORD_FILE
    path.write_text("".join(lines))
    logger.info("wrote checksums of %d files to %s", len(lines), path)
    return path


def read_record(run_dir: Path) -> dict[str, str]:
    """The manifest's ``{relative path: sha256 hex}``; RecordError in one line if there is none."""
    if not run_dir.is_dir():
        raise RecordError(f"no run directory at {run_dir}: give a runs/<run-id> folder")
    path = run_dir / RECORD_FILE
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise RecordError(
            f"no {RECORD_FILE} in {run_dir}: the run did not finish, or predates checksums; "
            "its record cannot be verified"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordError(f"cannot read {path} ({type(exc).__name__}): check its permissions") from None
    return dict(_parse(path, text))


def _parse(path: Path, text: str) -> Iterator[tuple[str, str]]:
    for number, line in enumerate(text.splitlines(), 1):
        digest, sep, name = line.partition("  ")
        parts = Path(name).parts
        bad_name = not name or Path(name).is_absolute() or ".." in parts
        if not sep or len(digest) != 64 or bad_name or any(c not in "0123456789abcdef" for c in digest):
            raise RecordError(f"{path} line {number} is not '<sha256>  <file>': the manifest is damaged")
        yield name, digest


def compare_record(run_dir: Path) -> list[tuple[str, str]]:
    """Every file of the manifest and of the record now, with its status: ``ok``, ``changed``,
    ``missing`` (listed, gone) or ``extra`` (in the record, not listed). Reads only."""
    expected = read_record(run_dir)
    statuses: dict[str, str] = {}
    for name, digest in expected.items():
        path = run_dir / name
        if not path.is_file():
            statuses[name] = "missing"
        else:
            statuses[name] = "ok" if sha256_file(path) == digest else "changed"
    statuses.update((name, "extra") for name in record_files(run_dir) if name not in expected)
    return sorted(statuses.items())


_PROBLEM = {
    "changed": f"changed: {{}} (its SHA-256 differs from {RECORD_FILE})",
    "missing": f"missing: {{}} (listed in {RECORD_FILE})",
    "extra": f"extra: {{}} (not listed in {RECORD_FILE})",
}


def verify_record(run_dir: Path) -> CheckResult:
    """The ``record-checksums`` check: one problem line per changed, missing or extra file."""
    return record_check(compare_record(run_dir))


def record_check(statuses: list[tuple[str, str]]) -> CheckResult:
    """The ``record-checksums`` check of ``compare_record``'s statuses."""
    problems = tuple(_PROBLEM[status].format(name) for name, status in statuses if status != "ok")
    return CheckResult(name=CHECK_NAME, ok=not problems, problems=problems, proves=PROVES)
