"""The demo's summary: the audit's report of the run (what ``bcfl audit report`` prints and writes
for it), read from the chain through the run's event index and checked against the run's model
store, plus what only the demo knows: its run directory, its hospitals' names and addresses, and
the nodes the coordinator rejected (from its journal, with their reasons)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bcfl.audit.context import AuditContext
from bcfl.audit.report import build_report
from bcfl.audit.source import IndexSource
from bcfl.chain.consortium import Consortium
from bcfl.demo.onboarding import DemoHospital
from bcfl.index.store import EventIndex
from bcfl.models.store import ModelStore

#: The run's event index (in its run directory; not evidence, so not in its record: rebuilt at will).
INDEX_FILE = "index.sqlite"


def build_summary(run_dir: Path, hospitals: list[DemoHospital], consortium: Consortium) -> dict[str, Any]:
    """The run's JSON summary: the audit report of every round on the demo's chain (its own) with
    its verdict, then the demo's additions."""
    with EventIndex.open(str(run_dir / INDEX_FILE), consortium.manifest) as index:
        index.sync(consortium.client)
        source = IndexSource(consortium, index)
    context = AuditContext.load(source, ModelStore(run_dir / "models"))
    report = build_report(context)
    journal = json.loads((run_dir / "rounds.json").read_text()) if (run_dir / "rounds.json").exists() else []
    return {
        **report.model_dump(mode="json"),
        "verdict": report.verdict,
        "clean": report.clean,
        "run_dir": str(run_dir),
        "rpc_url": consortium.client.rpc_url,
        "manifest": str(run_dir / "deployment.json"),
        "store": str(run_dir / "models"),
        "index": str(run_dir / INDEX_FILE),
        "hospitals": [{"name": h.name, "member_id": h.member_id, "address": h.address} for h in hospitals],
        "rejected": [
            {"round": record["chain_round"], "node_id": r["node_id"], "reason": r["reason"]}
            for record in journal
            for r in record.get("rejected", [])
        ],
    }
