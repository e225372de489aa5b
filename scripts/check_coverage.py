"""Fail unless an lcov report (forge coverage) covers every line and branch of the contract sources.

Usage: python -m scripts.check_coverage LCOV [--source src/] [--minimum 100]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path


@dataclasses.dataclass
class FileCoverage:
    """Lines and branches of one source file, with the line numbers never hit."""

    lines: int = 0
    lines_hit: int = 0
    branches: int = 0
    branches_hit: int = 0
    missed_lines: list[int] = dataclasses.field(default_factory=list)
    missed_branches: list[int] = dataclasses.field(default_factory=list)


def parse_lcov(text: str, source_prefix: str) -> dict[str, FileCoverage]:
    """Per-file coverage of the records whose source path starts with ``source_prefix``.

    Lines come from ``DA:line,count`` records and branches from ``BRDA:line,block,branch,taken``
    (``taken`` is ``-`` when the condition was never evaluated).
    """
    files: dict[str, FileCoverage] = {}
    current: FileCoverage | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("SF:"):
            path = line[3:]
            current = files.setdefault(path, FileCoverage()) if path.startswith(source_prefix) else None
        elif line == "end_of_record":
            current = None
        elif current is not None and line.startswith("DA:"):
            number, count = line[3:].split(",")[:2]
            current.lines += 1
            if int(count) > 0:
                current.lines_hit += 1
            else:
                current.missed_lines.append(int(number))
        elif current is not None and line.startswith("BRDA:"):
            number, _block, _branch, taken = line[5:].split(",")
            current.branches += 1
            if taken not in ("-", "0"):
                current.branches_hit += 1
            else:
                current.missed_branches.append(int(number))
    return files


def percent(hit: int, total: int) -> float:
    """Share covered, in percent (100 when there is nothing to cover)."""
    return 100.0 if total == 0 else 100.0 * hit / total


def failures(files: dict[str, FileCoverage], minimum: float) -> list[str]:
    """One line per file below ``minimum`` percent of lines or branches, naming what was missed."""
    out: list[str] = []
    for path, cov in sorted(files.items()):
        if percent(cov.lines_hit, cov.lines) < minimum:
            out.append(f"{path}: lines {cov.lines_hit}/{cov.lines}, missed lines {cov.missed_lines}")
        if percent(cov.branches_hit, cov.branches) < minimum:
            out.append(
                f"{path}: branches {cov.branches_hit}/{cov.branches}, missed on lines {cov.missed_branches}"
            )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lcov", type=Path)
    parser.add_argument("--source", default="src/", help="path prefix of the files that count")
    parser.add_argument("--minimum", type=float, default=100.0, help="percent of lines and of branches")
    args = parser.parse_args(argv)
    if not args.lcov.is_file():
        print(f"coverage: no report at {args.lcov}; run forge coverage with --report lcov first")
        return 1
    files = parse_lcov(args.lcov.read_text(), args.source)
    if not files:
        print(f"coverage: no file under {args.source} in {args.lcov}; check --source")
        return 1
    lines = sum(f.lines for f in files.values())
    lines_hit = sum(f.lines_hit for f in files.values())
    branches = sum(f.branches for f in files.values())
    branches_hit = sum(f.branches_hit for f in files.values())
    print(
        f"coverage of {len(files)} files under {args.source}: "
        f"lines {lines_hit}/{lines} ({percent(lines_hit, lines):.2f}%), "
        f"branches {branches_hit}/{branches} ({percent(branches_hit, branches):.2f}%)"
    )
    below = failures(files, args.minimum)
    for message in below:
        print(f"coverage below {args.minimum:g}%: {message}")
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())
