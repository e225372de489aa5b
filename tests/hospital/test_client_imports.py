"""Flower starts a fresh ClientApp process for every message, so what the app imports is paid twice a
round by every hospital: web3 (the chain is read over plain JSON-RPC) and the data readers (pandas,
Pillow: the prepared dataset is read from the node's cache) stay out of it."""

from __future__ import annotations

import json
import subprocess
import sys

#: Heavy modules the ClientApp's import must not load (Flower itself imports requests).
HEAVY = ("web3", "pandas", "PIL", "pyarrow", "bcfl.chain.client", "bcfl.chain.consortium")


def test_the_client_app_imports_no_web3_and_no_data_readers() -> None:
    probe = (
        "import json, sys; import hospital_node.client_app; "
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=True
    )
    assert json.loads(done.stdout) == []


def test_the_probe_sees_a_heavy_import() -> None:
    probe = "import json, sys; import bcfl.chain.consortium; print(json.dumps('web3' in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=True
    )
    assert json.loads(done.stdout) is True
