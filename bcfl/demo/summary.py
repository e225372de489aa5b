"""The demo's summary: per round, the global model's quality and each hospital's signed update,
score, reputation and payout; per hospital, its token balance. Everything hospital-facing is read
from the chain's events, the journal only adds the model's evaluation and the exclusion reasons."""

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
    token = consortium.token
    rpc_url = consortium.client.rpc_url
    journal = json.loads((run_dir / "rounds.json").read_text()) if (run_dir / "rounds.json").exists() else []
    rounds = []
    for record in journal:
        chain_round = record["chain_round"]
        registered = consortium.ledger.updates(round_number=chain_round)
        on_chain = {u.member_id: "0x" + u.update_hash.hex() for u in registered}
        on_chain_tx = {u.member_id: u.tx_hash for u in registered}
        reputation = {c.member_id: c for c in consortium.reputation.history(round_number=chain_round)}
        paid = {p.member_id: p.amount for p in consortium.distributor.payments(round_number=chain_round)}
        participants = {
            m for f in consortium.ledger.finalized_rounds(round_number=chain_round) for m in f.participants
        }
        assessed = record.get("assessment", {}).get("members", {})
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
                        "score": _get(reputation, update["member_id"], "contribution"),
                        "reputation": _get(reputation, update["member_id"], "current"),
                        "aggregated": update["member_id"] in participants,
                        "score_reason": assessed.get(str(update["member_id"]), {}).get("reason"),
                        "paid": str(paid.get(update["member_id"], 0)),
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
        "hospitals": [
            {
                "name": h.name,
                "member_id": h.member_id,
                "address": h.address,
                "reputation": consortium.reputation.reputation_of(h.member_id),
                "balance": str(token.balance_of(h.address)),
            }
            for h in hospitals
        ],
        "token": {"symbol": token.symbol(), "decimals": token.decimals()},
        "rounds": rounds,
    }


def _get(changes: dict[int, Any], member_id: int, field: str) -> int | None:
    change = changes.get(member_id)
    return int(getattr(change, field)) if change is not None else None
