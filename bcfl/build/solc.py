"""Locate the pinned solc: a native binary of the pinned version where present, else the npm shim."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from bcfl.paths import REPO_ROOT

#: The one compiler version the contracts are built with (keep in step with package.json).
SOLC_VERSION = "0.8.30"

_VERSION_RE = re.compile(r"Version: (\d+\.\d+\.\d+)")


class SolcNotFoundError(RuntimeError):
    """No solc of the pinned version could be found."""


def solc_version(binary: Path) -> str:
    """The version a solc binary reports, e.g. ``0.8.30``."""
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True).stdout
    match = _VERSION_RE.search(out)
    if not match:
        raise SolcNotFoundError(f"{binary} --version printed no version: {out!r}")
    return match.group(1)


def find_solc() -> Path:
    """The solc to use: $BCFL_SOLC, a native ``solc`` of the pinned version on PATH, or scripts/solc.

    scripts/solc wraps the official soljson build from the npm package ``solc`` (installed by
    ``npm ci``) behind the command line py-solc-x and forge expect.
    """
    candidates: list[Path] = []
    if env := os.environ.get("BCFL_SOLC"):
        candidates.append(Path(env))
    if native := shutil.which("solc"):
        candidates.append(Path(native))
    candidates.append(REPO_ROOT / "scripts" / "solc")
    seen: list[str] = []
    for binary in candidates:
        try:
            version = solc_version(binary)
        except (OSError, subprocess.CalledProcessError, SolcNotFoundError) as exc:
            seen.append(f"{binary}: {exc}")
            continue
        if version == SOLC_VERSION:
            return binary
        seen.append(f"{binary}: version {version}")
    raise SolcNotFoundError(
        f"no solc {SOLC_VERSION} found (run `make setup` to install the npm shim); tried: " + "; ".join(seen)
    )
