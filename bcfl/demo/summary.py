"""The demo's summary: per round, the global model's quality and each hospital's signed update."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bcfl.chain.consortium import Consortium
from bcfl.demo.onboarding import DemoHospital


def build_summary(run_dir: Path, hospitals: list[DemoHospital], consortium: Consortium) -> dict[str, Any]:
    """The run's JSON summary: the coordinator's journal, checked against the chain.

    An update counts as signature-valid only if the ledger holds an ``UpdateRegistered`` event for
    it (the contract verified the hospital's EIP-712 signature before recording it).
    """
    names = {h.member_id: h.name for h in hospitals}
    rpc_url = consortium.client.rpc_url
    journal = json.loads((run_dir / "rounds.json").read_text()) if (run_dir / "rounds.json").exists() else []
    rounds = []
    for record in journal:
        registered = consortium.ledger.updates(round_number=record["chain_round"])
        on_chain = {u.member_id: "0x" + u.update_hash.hex() for u in registered}
        on_chain_tx = {u.member_id: u.tx_hash for u in registered}
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
                        "signature_valid": on_chain.get(update["member_id"]) == update["update_hash"],
                        "tx": on_chain_tx.get(update["member_id"]),
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
