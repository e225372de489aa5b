"""The demo's summary: per round, the global model's quality and each hospital's signed update."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bcfl.demo.onboarding import DemoHospital


def build_summary(run_dir: Path, hospitals: list[DemoHospital], rpc_url: str) -> dict[str, Any]:
    """The run's JSON summary, from the coordinator's journal."""
    names = {h.member_id: h.name for h in hospitals}
    journal = json.loads((run_dir / "rounds.json").read_text()) if (run_dir / "rounds.json").exists() else []
    rounds = []
    for record in journal:
        evaluation = record.get("evaluation", {}).get("aggregate", {})
        rounds.append(
            {
                "round": record["chain_round"],
                "accuracy": evaluation.get("accuracy"),
                "auroc": evaluation.get("auroc"),
                "global_model_hash": record.get("global_model_hash"),
                "aggregated_model_hash": record.get("aggregated_model_hash"),
                "finalize_tx": record.get("finalize_tx"),
                "updates": [
                    {
                        "hospital": names.get(update["member_id"], f"member {update['member_id']}"),
                        "member_id": update["member_id"],
                        "examples": update["num_examples"],
                        "update_hash": update["update_hash"],
                        "signature_valid": update["signature_valid"],
                        "tx": record.get("register_tx"),
                    }
                    for update in record.get("updates", [])
                ],
                "rejected": record.get("rejected", []),
                "timings_s": record.get("timings_s", {}),
            }
        )
    return {
        "run_dir": str(run_dir),
        "rpc_url": rpc_url,
        "manifest": str(run_dir / "deployment.json"),
        "hospitals": [{"name": h.name, "member_id": h.member_id, "address": h.address} for h in hospitals],
        "rounds": rounds,
    }
