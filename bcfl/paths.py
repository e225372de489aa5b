"""Where the project's files and npm-installed tools live, for tools run from a source checkout."""

from __future__ import annotations

import os
import platform
from pathlib import Path

#: Root of the source checkout (the folder holding pyproject.toml).
REPO_ROOT = Path(__file__).resolve().parent.parent

_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def node_bin(tool: str) -> Path:
    """Path of a Foundry tool (anvil, forge) installed by ``npm ci``, overridable with BCFL_<TOOL>.

    The native binary inside ``@foundry-rs/<tool>-<os>-<arch>`` is preferred over the
    ``node_modules/.bin`` launcher, so that signals reach the tool itself.
    """
    override = os.environ.get(f"BCFL_{tool.upper()}")
    if override:
        return Path(override)
    system = platform.system().lower()
    arch = _ARCH.get(platform.machine().lower(), platform.machine().lower())
    native = REPO_ROOT / "node_modules" / "@foundry-rs" / f"{tool}-{system}-{arch}" / "bin" / tool
    return native if native.exists() else REPO_ROOT / "node_modules" / ".bin" / tool
