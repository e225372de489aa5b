"""The doctor's checks in their order: the chain's first, then the SuperLink's, then the machine's,
then the signing agent's."""

from __future__ import annotations

from pathlib import Path

from hospital_node.site.checks_chain import CHAIN_CHECKS
from hospital_node.site.checks_link import LINK_CHECKS
from hospital_node.site.checks_local import LOCAL_CHECKS
from hospital_node.site.checks_signer import SIGNER_CHECKS
from hospital_node.site.config import NodeFolder
from hospital_node.site.doctor import Check, Probe, run_checks

#: What ``bcfl node start`` does not wait for: the data's full read (the ClientApp reads it anyway).
QUICK_SKIPS = frozenset({"data"})


def doctor(folder: Path, password: str | None, quick: bool = False) -> list[Check]:
    """The node folder's checks (``quick``: those ``bcfl node start`` needs, without the data's)."""
    node = NodeFolder(folder)
    probe = Probe(node, node.load(), password)
    checks = [*CHAIN_CHECKS, *LINK_CHECKS, *LOCAL_CHECKS, *SIGNER_CHECKS]
    if quick:
        checks = [(name, fn) for name, fn in checks if name not in QUICK_SKIPS]
    return run_checks(probe, checks)
