"""Each round's assessment: score every registered update, record the scores on chain, and decide
who is aggregated (and paid) from the reputations the ledger holds.

Everything here is reproducible from the chain and the model store: the update and global model
hashes come from the ledger's events, the arrays from the store, and the reputation arithmetic is
the contract's. A round resumed after a restart reads back what was already recorded instead of
recording it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from eth_account.signers.local import LocalAccount

from bcfl.chain.consortium import Consortium
from bcfl.models.store import ModelStore
from coordinator.incentives import good_standing_weights
from coordinator.rounds.replay import RegisteredUpdates
from coordinator.scoring import (
    DEFAULT_RULE,
    Arrays,
    Contribution,
    ScoringRule,
    flat_delta,
    score_round,
    scoring_of,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submission:
    """A verified, registered update: the member's arrays, their hash and its example count."""

    arrays: Arrays
    update_hash: bytes
    examples: int


@dataclass(frozen=True)
class Assessment:
    """A round's scores and reputations, and the members that enter the aggregate."""

    scores: dict[int, Contribution]
    reputation_before: dict[int, int]
    reputation_after: dict[int, int]
    exclusion_threshold: int
    #: ``member_weight`` of each member that is aggregated (not excluded), by member id.
    weights: dict[int, int]

    @property
    def excluded(self) -> list[int]:
        """Members whose reputation before the round was below the threshold."""
        return sorted(m for m, r in self.reputation_before.items() if r < self.exclusion_threshold)


def _previous_deltas(
    consortium: Consortium, store: ModelStore, chain_round: int, members: list[int]
) -> dict[int, np.ndarray]:
    if chain_round <= 1:
        return {}
    previous_global = consortium.ledger.get_round(chain_round - 1).global_model_hash
    if previous_global not in store:
        return {}
    global_arrays = store.get(previous_global)
    deltas = {}
    for update in consortium.ledger.updates(round_number=chain_round - 1):
        if update.member_id in members and update.update_hash in store:
            deltas[update.member_id] = flat_delta(global_arrays, store.get(update.update_hash))
    return deltas


def _scores(
    consortium: Consortium,
    store: ModelStore,
    chain_round: int,
    global_arrays: Arrays,
    submissions: Mapping[int, Submission],
    rule: ScoringRule,
    registered: RegisteredUpdates,
) -> dict[int, Contribution]:
    members = sorted(submissions)
    return score_round(
        global_arrays,
        {m: submissions[m].arrays for m in members},
        previous=_previous_deltas(consortium, store, chain_round, members),
        replayed=registered.replayed(chain_round, {m: s.update_hash for m, s in submissions.items()}),
        rule=rule,
    )


def recompute_scores(consortium: Consortium, store: ModelStore, chain_round: int) -> dict[int, Contribution]:
    """An auditor's check: round ``chain_round``'s scores from the chain and the model store alone,
    with the scoring rule its config document names.

    Compare each ``score_bps`` with the ``contribution`` of the round's ``ReputationUpdated`` events.
    """
    opened = consortium.ledger.get_round(chain_round)
    rule = scoring_of(store.get_document(opened.config_hash).get("scoring"))
    global_arrays = store.get(opened.global_model_hash)
    submissions = {
        u.member_id: Submission(store.get(u.update_hash), u.update_hash, u.num_examples)
        for u in consortium.ledger.updates(round_number=chain_round)
    }
    registered = RegisteredUpdates(consortium.ledger)
    return _scores(consortium, store, chain_round, global_arrays, submissions, rule, registered)


def assess_round(
    consortium: Consortium,
    coordinator: LocalAccount,
    store: ModelStore,
    chain_round: int,
    global_arrays: Arrays,
    submissions: Mapping[int, Submission],
    rule: ScoringRule = DEFAULT_RULE,
    registered: RegisteredUpdates | None = None,
) -> Assessment:
    """Score ``submissions`` (by member id), record the scores on chain, and weigh the members.
    ``registered``: the coordinator's record of the updates registered so far, kept across rounds
    (by default one read afresh)."""
    members = sorted(submissions)
    registered = registered if registered is not None else RegisteredUpdates(consortium.ledger)
    scores = _scores(consortium, store, chain_round, global_arrays, submissions, rule, registered)
    reputation = consortium.reputation
    already = {c.member_id: c for c in reputation.history(round_number=chain_round)}
    before = {m: already[m].previous if m in already else reputation.reputation_of(m) for m in members}
    to_record = [m for m in members if m not in already]
    if to_record:
        reputation.record_scores(
            coordinator, chain_round, to_record, [scores[m].score_bps for m in to_record]
        )
    after = {m: already[m].current if m in already else reputation.reputation_of(m) for m in members}
    # A resumed round weighs each member by the score the chain holds for it, as settle() pays by.
    recorded = {m: already[m].contribution if m in already else scores[m].score_bps for m in members}
    threshold = reputation.parameters().exclusion_threshold
    weights = good_standing_weights(
        {m: submissions[m].examples for m in members}, recorded, before, after, threshold
    )
    for m in members:
        logger.info(
            "round %d member %d: score %d (%s), reputation %d -> %d%s",
            chain_round, m, scores[m].score_bps, scores[m].reason, before[m], after[m],
            "" if m in weights else ", excluded",
        )  # fmt: skip
    return Assessment(scores, before, after, threshold, weights)


def weights_on_chain(consortium: Consortium, chain_round: int) -> dict[int, int]:
    """The members' weights of an assessed round, read back from the chain alone (its registered
    example counts and recorded scores and reputations): what a coordinator restarted after the
    round was finalized pays by. The same arithmetic as :func:`assess_round`."""
    examples = {u.member_id: u.num_examples for u in consortium.ledger.updates(round_number=chain_round)}
    changes = {c.member_id: c for c in consortium.reputation.history(round_number=chain_round)}
    members = [m for m in sorted(changes) if m in examples]
    return good_standing_weights(
        {m: examples[m] for m in members},
        {m: changes[m].contribution for m in members},
        {m: changes[m].previous for m in members},
        {m: changes[m].current for m in members},
        consortium.reputation.parameters().exclusion_threshold,
    )
