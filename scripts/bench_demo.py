"""How long `make demo` takes, set-up excluded, into docs/benchmarks.md (section ``demo``): `bcfl demo`
with its default rounds, from start to the printed summary (consortium start, onboarding, the rounds,
the audit), in a run directory of its own, removed afterwards."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.report import replace_section

COMMAND = "python -m scripts.bench_demo"
#: `make demo`'s goal on an idle 2-core machine (issue 14).
GOAL_S = 120.0


def time_demo() -> float:
    """Wall seconds of one `bcfl demo` with its defaults (its own run directory)."""
    runs = Path(tempfile.mkdtemp(prefix="bcfl-bench-demo-"))
    bcfl = Path(sys.executable).with_name("bcfl")
    try:
        started = time.perf_counter()
        subprocess.run([str(bcfl), "demo", "--runs-dir", str(runs)], check=True, capture_output=True)
        return time.perf_counter() - started
    finally:
        shutil.rmtree(runs, ignore_errors=True)


def render(seconds: float, load: tuple[float, float]) -> str:
    met = "met" if seconds <= GOAL_S else "NOT met"
    return "\n".join(
        [
            "## `make demo`: from start to the summary",
            "",
            f"Command: `make bench` (`{COMMAND}`), run {time.strftime('%Y-%m-%d', time.gmtime())} on "
            f"{os.cpu_count()} cores (1-minute load average {load[0]:.1f} before, {load[1]:.1f} after). "
            "`bcfl demo` with its default rounds (`BCFL_ROUNDS` in .env), set-up (`make setup`) done "
            "before: the chain, the consortium's deployment and onboarding, Flower over TLS with the "
            "node sync, the signing agents, the rounds and the audit summary.",
            "",
            f"Wall time: **{seconds:.0f} s** (goal: under {GOAL_S:.0f} s on an idle 2-core machine: {met}).",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    args = parser.parse_args()
    before = os.getloadavg()[0]
    seconds = time_demo()
    section = render(seconds, (before, os.getloadavg()[0]))
    print(section)
    replace_section(args.out, "demo", section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
