"""An auditor's check of a round's aggregation: its model recomputed bit for bit from the model
store (the global model, the updates and the round's config document, each under the hash the
chain holds) and the chain (the participants and weights of ``RoundFinalized``, the registered
example counts, the reputation changes that give the contribution weights).

From the store and the chain alone::

    result = recompute_round(consortium, ModelStore(run_dir / "models"), r)
    assert result.ok, result.mismatches  # each mismatch named in one line

or, with the pieces in hand, :func:`recompute`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bcfl.chain.consortium import Consortium
from bcfl.models.canonical import model_hash
from bcfl.models.store import ModelStore
from coordinator.aggregation import Arrays, Candidate, aggregate
from coordinator.errors import CoordinatorError
from coordinator.rounds.assessment import weights_on_chain
from coordinator.rounds.round_config import aggregation_of


@dataclass(frozen=True)
class RecomputeResult:
    """The recomputed model's hash and weights, and every way they differ from the chain's."""

    model_hash: bytes
    weights: dict[int, int]
    mismatches: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.mismatches


def recompute(
    config_document: Mapping[str, Any],
    global_arrays: Arrays,
    candidates: Sequence[Candidate],
    chain_weights: Mapping[int, int],
    chain_model_hash: bytes | None = None,
) -> RecomputeResult:
    """The round's rule (its config document's) over ``candidates`` (the round's participants),
    compared with the weights finalized on chain and, when given, the aggregated model's hash."""
    result = aggregate(aggregation_of(config_document), global_arrays, candidates)
    digest = model_hash(result.arrays)
    mismatches = [
        f"member {m}: weight {chain_weights.get(m, 'absent')} on chain, "
        f"{result.weights.get(m, 'absent')} recomputed"
        for m in sorted(set(result.weights) | set(chain_weights))
        if result.weights.get(m) != chain_weights.get(m)
    ]
    if chain_model_hash is not None and digest != chain_model_hash:
        mismatches.append(
            f"aggregated model 0x{chain_model_hash.hex()} on chain, 0x{digest.hex()} recomputed"
        )
    return RecomputeResult(digest, result.weights, tuple(mismatches))


def recompute_round(consortium: Consortium, store: ModelStore, chain_round: int) -> RecomputeResult:
    """:func:`recompute` for finalized round ``chain_round``, from the chain and ``store`` alone; a
    participant that was not in good standing (excluded by reputation) is a mismatch too."""
    finalized = consortium.ledger.finalized_rounds(round_number=chain_round)
    if not finalized:
        raise CoordinatorError(f"round {chain_round} is not finalized on chain: audit it once it is")
    (final,) = finalized
    opened = consortium.ledger.get_round(chain_round)
    updates = {u.member_id: u for u in consortium.ledger.updates(round_number=chain_round)}
    contribution = weights_on_chain(consortium, chain_round)
    candidates = [
        Candidate(m, store.get(updates[m].update_hash), updates[m].num_examples, contribution.get(m, 0))
        for m in final.participants
    ]
    result = recompute(
        store.get_document(opened.config_hash),
        store.get(opened.global_model_hash),
        candidates,
        dict(zip(final.participants, final.weights, strict=True)),
        final.aggregated_model_hash,
    )
    outside = tuple(
        f"member {m} is a participant but was not in good standing"
        for m in final.participants
        if m not in contribution
    )
    return dataclasses.replace(result, mismatches=outside + result.mismatches)
