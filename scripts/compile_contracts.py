"""Compile contracts/src with the pinned solc and refresh the generated artifacts (only when stale)."""

from __future__ import annotations

import logging
import sys

from bcfl.build.compile import compile_contracts, stale_files, write_outputs


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    build = compile_contracts()
    if "--check" in sys.argv:
        stale = stale_files(build)
        for path in stale:
            print(f"stale generated file: {path}")
        return 1 if stale else 0
    changed = write_outputs(build)
    print(f"{len(changed)} generated file(s) updated" if changed else "generated files are current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
