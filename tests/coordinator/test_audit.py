"""Every aggregation rule through the coordinator's round service on a real Anvil, with real data:
an auditor holding the model store recomputes each round's aggregated model bit for bit, and the
weights finalized on chain, from the chain and the store alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from bcfl.chain.client import ChainClient
from bcfl.chain.devkeys import dev_account
from bcfl.learning.data.dataset import LocalDataset
from bcfl.models.canonical import document_hash
from bcfl.models.store import ModelStore
from benchmarks.federated import TrainingPlan
from benchmarks.robustness import FIRST_HOSPITAL, Defence, run_scenario
from benchmarks.sites import heart_sites
from coordinator.aggregation import AGGREGATIONS
from coordinator.rounds.assessment import weights_on_chain
from coordinator.rounds.audit import recompute_round

#: One hospital boosts its update tenfold; another sends the global model back, scores 0 and is
#: excluded from round 2 (its reputation falls below the threshold).
ATTACKERS = {"switzerland-1": "scale", "hungary-2": "free-ride"}


@pytest.fixture(scope="module")
def sites() -> dict[str, LocalDataset]:
    """The eight heart-disease sites (each UCI centre in two)."""
    return heart_sites(8)


@pytest.mark.parametrize("rule", AGGREGATIONS)
def test_every_rounds_model_and_weights_are_recomputed_from_chain_and_store(
    client: ChainClient, sites: dict[str, LocalDataset], tmp_path: Path, rule: str
) -> None:
    plan = TrainingPlan(rounds=2, local_epochs=1)
    consortium, outcome = run_scenario(
        tmp_path, client, sites, ATTACKERS, Defence(aggregation=rule, num_malicious=1), plan
    )
    store = ModelStore(tmp_path / "models")
    # Hospitals are admitted in name order from dev account FIRST_HOSPITAL on (deploy_scenario).
    boosted_account = dev_account(FIRST_HOSPITAL + sorted(sites).index("switzerland-1"))
    boosted = consortium.registry.active_member_id_of(boosted_account.address)
    assert consortium.ledger.round_count() == 2
    # Everyone enters round 1; the free rider (and here an honest half-centre scored 0 too) not round 2.
    assert len(outcome.aggregated[0]) == 8 and "hungary-2" not in outcome.aggregated[1]
    for chain_round in (1, 2):
        opened = consortium.ledger.get_round(chain_round)
        (final,) = consortium.ledger.finalized_rounds(round_number=chain_round)
        document = store.get_document(opened.config_hash)
        assert document_hash(document) == opened.config_hash
        assert document["aggregation"] == {"rule": rule, "num-malicious": 1, "version": 1}
        result = recompute_round(consortium, store, chain_round)
        assert result.ok, result.mismatches
        assert result.model_hash == final.aggregated_model_hash != opened.global_model_hash
        weights = dict(zip(final.participants, final.weights, strict=True))
        assert result.weights == weights
        # What each rule's weights mean (coordinator/aggregation/__init__.py).
        n = len(weights)
        examples = {u.member_id: u.num_examples for u in consortium.ledger.updates(round_number=chain_round)}
        if rule == "fedavg":
            assert weights == {m: examples[m] for m in weights}
        elif rule == "reputation":
            assert weights == weights_on_chain(consortium, chain_round)
        elif rule in ("trimmed-mean", "median"):
            assert weights == dict.fromkeys(weights, 1)
        elif rule == "krum":
            assert sorted(weights.values()) == [0] * (n - 1) + [1] and weights[boosted] == 0
        elif rule == "multikrum":
            assert weights == {**{m: examples[m] for m in weights}, boosted: 0}
        else:  # bulyan, told min(1, (n - 3) // 4) attackers, selects n - 2 x that many
            told = min(1, (n - 3) // 4)
            assert sorted(weights.values()) == [0] * 2 * told + [1] * (n - 2 * told)
            assert weights[boosted] == 1 - told
    # Round 2 started from round 1's model: the chain of models holds together.
    assert (
        consortium.ledger.get_round(2).global_model_hash
        == consortium.ledger.get_round(1).aggregated_model_hash
    )
