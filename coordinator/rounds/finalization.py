"""Step 5: finalize the round on chain with its aggregated model, the hash of its metrics document,
and its participants with the weights the aggregation rule gave them (:mod:`coordinator.aggregation`;
0 for a participant a selecting rule left out). The signed evaluations, when the run evaluates, go
into that document; a run without federated evaluation finalizes with an empty one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from eth_account.signers.local import LocalAccount
from web3.types import TxReceipt

from bcfl.chain.ledger import Ledger
from bcfl.models.canonical import document_hash
from coordinator.verification import Rejection, VerifiedEvaluation


def evaluation_document(
    aggregate: Mapping[str, Any] | None,
    verified: Iterable[VerifiedEvaluation],
    rejected: Iterable[Rejection],
) -> dict[str, Any]:
    """The round's metrics document: the aggregate, each member's metrics with its EIP-712 signature
    (so an auditor can check who measured what), and the evaluations left out."""
    return {
        "aggregate": dict(aggregate) if aggregate is not None else {},
        "per_member": {
            f"member {v.member_id}": {
                "metrics": v.metrics,
                "signer": v.signer,
                "signature": "0x" + v.signature.hex(),
            }
            for v in sorted(verified, key=lambda v: v.member_id)
        },
        "rejected": [{"node_id": r.node_id, "reason": r.reason, "signer": r.signer} for r in rejected],
    }


def finalize(
    ledger: Ledger,
    coordinator: LocalAccount,
    chain_round: int,
    aggregated_hash: bytes,
    evaluation: Mapping[str, Any],
    weights: Mapping[int, int],
) -> tuple[bytes, TxReceipt]:
    """Finalize ``chain_round`` with ``weights`` (participant member id -> weight); the metrics hash
    and the receipt."""
    metrics_hash = document_hash(dict(evaluation))
    participants = sorted(weights)
    receipt = ledger.finalize_round(
        coordinator,
        chain_round,
        aggregated_hash,
        metrics_hash,
        participants,
        [weights[m] for m in participants],
    )
    return metrics_hash, receipt
