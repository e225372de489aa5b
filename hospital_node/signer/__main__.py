"""``python -m hospital_node.signer``: the same as ``bcfl-signer``."""

from __future__ import annotations

import sys

from hospital_node.signer.main import main

sys.exit(main())
