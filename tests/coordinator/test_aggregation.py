"""The aggregation rules in plain numpy: the weights each rule used, the same bits from any candidate
order and in a fresh process without SIMD, and results close to Flower's own strategies on real
model updates."""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from flwr.app import Array, ArrayRecord, Message, Metadata, MetricRecord, RecordDict
from flwr.serverapp.strategy import Bulyan, FedAvg, FedMedian, FedTrimmedAvg, Krum, MultiKrum

from bcfl.learning.task import build_model, get_arrays, set_arrays, train
from bcfl.models.canonical import model_hash
from bcfl.models.store import ModelStore
from benchmarks.attacks import poison
from benchmarks.federated import centre_datasets
from coordinator.aggregation import AGGREGATIONS, AggregationConfig, Candidate, aggregate
from coordinator.errors import CoordinatorError
from coordinator.rounds.audit import recompute
from coordinator.scoring import flat_delta, norm

Arrays = dict[str, np.ndarray]
#: Six honest updates (the four heart centres, two of them trained twice) and a boosted one, member 7.
ATTACKER = 7
F = 1
#: The Flower strategy of each rule, told the amounts the coordinator clamps to (n = 7, f = 1).
FLOWER: dict[str, Callable[[], FedAvg]] = {
    "fedavg": lambda: FedAvg(),
    "median": lambda: FedMedian(),
    "trimmed-mean": lambda: FedTrimmedAvg(beta=1 / 7),
    "krum": lambda: Krum(num_malicious_nodes=F),
    "multikrum": lambda: MultiKrum(num_malicious_nodes=F, num_nodes_to_select=6),
    "bulyan": lambda: Bulyan(num_malicious_nodes=1),
}


@pytest.fixture(scope="module")
def round_one() -> tuple[Arrays, list[Candidate]]:
    """A real first round of the heart-disease consortium: the global model and seven candidates."""
    centres = list(centre_datasets().values())
    global_arrays = dict(get_arrays(build_model(centres[0].spec, seed=0)))
    candidates = []
    for member, (data, seed) in enumerate([(c, 1) for c in centres] + [(c, 2) for c in centres[:3]], 1):
        model = build_model(data.spec)
        set_arrays(model, global_arrays)
        train(model, data.train, epochs=2, lr=0.01, batch_size=32, seed=seed)
        arrays = dict(get_arrays(model))
        if member == ATTACKER:
            arrays = poison("scale", global_arrays, arrays, rng=np.random.default_rng(0))
        candidates.append(Candidate(member, arrays, len(data.train), 1_000 * member * (member % 3 + 1)))
    return global_arrays, candidates


def _reply(candidate: Candidate) -> Message:
    content = RecordDict(
        {
            "arrays": ArrayRecord({k: Array(v) for k, v in candidate.arrays.items()}),
            "metrics": MetricRecord({"num-examples": candidate.num_examples}),
        }
    )
    # A received reply, as Flower's runtime builds it (from its metadata: no run needed).
    metadata = Metadata(0, "", candidate.member_id, 0, "", "", 0.0, 60.0, "train")
    return Message(content=content, metadata=metadata)  # type: ignore[call-overload,no-any-return]


@pytest.mark.parametrize("rule", sorted(FLOWER))
def test_each_rule_is_close_to_flowers_strategy(round_one: tuple[Arrays, list[Candidate]], rule: str) -> None:
    global_arrays, candidates = round_one
    ours = aggregate(AggregationConfig(rule, F), global_arrays, candidates).arrays
    record, _ = FLOWER[rule]().aggregate_train(1, [_reply(c) for c in candidates])
    assert record is not None and list(ours) == list(global_arrays)
    for name, like in global_arrays.items():
        theirs = record[name].numpy()
        assert ours[name].dtype == like.dtype and ours[name].shape == like.shape
        assert np.allclose(ours[name], theirs, rtol=1e-5, atol=1e-6), (rule, name)
    if rule == "krum":  # one update selected: exactly it, and the same one as Flower's
        assert all(np.array_equal(ours[k], record[k].numpy()) for k in ours)
        assert any(all(np.array_equal(ours[k], c.arrays[k]) for k in ours) for c in candidates)


def test_each_rule_reports_the_weights_it_used(round_one: tuple[Arrays, list[Candidate]]) -> None:
    global_arrays, candidates = round_one
    members = [c.member_id for c in candidates]
    examples = {c.member_id: c.num_examples for c in candidates}
    weights = {r: aggregate(AggregationConfig(r, F), global_arrays, candidates).weights for r in AGGREGATIONS}
    assert all(list(w) == members for w in weights.values())
    assert weights["fedavg"] == examples
    assert weights["reputation"] == {c.member_id: c.contribution_weight for c in candidates}
    assert weights["trimmed-mean"] == weights["median"] == dict.fromkeys(members, 1)
    assert sorted(weights["krum"].values()) == [0] * 6 + [1] and weights["krum"][ATTACKER] == 0
    # Multi-Krum keeps n - f = 6 updates, weighted by examples: all but the boosted one.
    assert weights["multikrum"] == {**examples, ATTACKER: 0}
    # Bulyan (told min(1, (7 - 3) // 4) = 1 attacker) selects n - 2 = 5 updates, never the boosted one.
    assert sum(weights["bulyan"].values()) == 5 and weights["bulyan"][ATTACKER] == 0
    assert set(weights["bulyan"].values()) == {0, 1}


def test_reputation_weighting_clips_every_delta_to_the_median_norm(
    round_one: tuple[Arrays, list[Candidate]],
) -> None:
    global_arrays, candidates = round_one
    batch = [Candidate(c.member_id, c.arrays, c.num_examples, 1) for c in candidates[3:]]
    moved = flat_delta(global_arrays, aggregate(AggregationConfig("reputation"), global_arrays, batch).arrays)
    norms = sorted(norm(flat_delta(global_arrays, c.arrays)) for c in batch)
    assert norms[-1] > 5 * norms[1]  # the boosted update is among them
    assert norm(moved) <= norms[len(norms) // 2] * (1 + 1e-6)  # no step beyond the median norm
    # No weight anywhere: the global model stays as it is, and the weights say so.
    unweighted = [dataclasses.replace(c, contribution_weight=0) for c in batch]
    still = aggregate(AggregationConfig("reputation"), global_arrays, unweighted)
    assert all(np.array_equal(still.arrays[k], global_arrays[k]) for k in global_arrays)
    assert set(still.weights.values()) == {0}


@pytest.mark.parametrize("rule", AGGREGATIONS)
def test_the_same_candidates_in_any_order_give_the_same_bits(
    round_one: tuple[Arrays, list[Candidate]], rule: str
) -> None:
    global_arrays, candidates = round_one
    config = AggregationConfig(rule, F)
    first = aggregate(config, global_arrays, candidates)
    shuffled = list(candidates)
    for seed in range(3):
        random.Random(seed).shuffle(shuffled)
        fortran = [
            dataclasses.replace(c, arrays={k: np.asfortranarray(v) for k, v in c.arrays.items()})
            for c in shuffled
        ]
        again = aggregate(config, global_arrays, fortran)
        assert model_hash(again.arrays) == model_hash(first.arrays) and again.weights == first.weights


#: Recomputes every rule's hash in a fresh interpreter from a model store (argv: store, job file).
FRESH = """
import json, sys
from pathlib import Path
from bcfl.models.canonical import model_hash
from bcfl.models.store import ModelStore
from coordinator.aggregation import AGGREGATIONS, AggregationConfig, Candidate, aggregate
store, job = ModelStore(Path(sys.argv[1])), json.loads(Path(sys.argv[2]).read_text())
g = store.get(bytes.fromhex(job["global"]))
cs = [Candidate(m, store.get(bytes.fromhex(h)), n, w) for m, h, n, w in job["candidates"]]
hashes = {r: model_hash(aggregate(AggregationConfig(r, 1), g, cs).arrays).hex() for r in AGGREGATIONS}
print(json.dumps(hashes))
"""


def test_a_fresh_process_without_simd_gives_the_same_bits(
    round_one: tuple[Arrays, list[Candidate]], tmp_path: Path
) -> None:
    global_arrays, candidates = round_one
    store = ModelStore(tmp_path / "models")
    job = {
        "global": store.put(global_arrays).hex(),
        "candidates": [
            [c.member_id, store.put(c.arrays).hex(), c.num_examples, c.contribution_weight]
            for c in reversed(candidates)
        ],
    }
    (tmp_path / "job.json").write_text(json.dumps(job))
    # numpy's runtime-dispatched SIMD kernels (AVX2, AVX-512, ... on x86) are switched off there.
    cpu = importlib.import_module("numpy._core._multiarray_umath")
    disabled = [feature for feature in cpu.__cpu_dispatch__ if cpu.__cpu_features__.get(feature)]
    env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": " ".join(disabled), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", FRESH, str(store.root), str(tmp_path / "job.json")],
        capture_output=True, text=True, env=env, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    expected = {
        r: model_hash(aggregate(AggregationConfig(r, F), global_arrays, candidates).arrays).hex()
        for r in AGGREGATIONS
    }
    assert json.loads(done.stdout) == expected
    assert len(set(expected.values())) == len(AGGREGATIONS)  # seven rules, seven different models


def test_without_candidates_the_global_model_comes_back(round_one: tuple[Arrays, list[Candidate]]) -> None:
    global_arrays, _ = round_one
    for rule in AGGREGATIONS:
        result = aggregate(AggregationConfig(rule), global_arrays, [])
        assert result.weights == {} and model_hash(result.arrays) == model_hash(global_arrays)


def test_rules_refuse_what_they_cannot_aggregate(round_one: tuple[Arrays, list[Candidate]]) -> None:
    global_arrays, candidates = round_one
    with pytest.raises(CoordinatorError, match="bulyan needs at least 3 updates, got 2"):
        aggregate(AggregationConfig("bulyan"), global_arrays, candidates[:2])
    with pytest.raises(CoordinatorError, match="same member"):
        aggregate(AggregationConfig("fedavg"), global_arrays, [candidates[0], candidates[0]])
    # Three updates: Bulyan is told no attacker and averages all of them; trimmed mean trims one each end.
    three = aggregate(AggregationConfig("bulyan", 5), global_arrays, candidates[:3])
    assert three.weights == dict.fromkeys([1, 2, 3], 1)
    # Two updates: trimmed mean trims nothing, the plain mean.
    pair = aggregate(AggregationConfig("trimmed-mean", 3), global_arrays, candidates[:2])
    mean = {
        k: (candidates[0].arrays[k].astype(np.float64) + candidates[1].arrays[k]) / 2 for k in global_arrays
    }
    assert all(np.allclose(pair.arrays[k], mean[k], atol=1e-7) for k in global_arrays)


def test_the_config_document_round_trips_and_rejects_others() -> None:
    for rule in AGGREGATIONS:
        config = AggregationConfig(rule, 2)
        document = json.loads(json.dumps(config.to_document()))
        assert AggregationConfig.from_document(document) == config
    assert AggregationConfig().to_document() == {"rule": "trimmed-mean", "num-malicious": 1, "version": 1}
    with pytest.raises(CoordinatorError, match="unknown aggregation 'mean-of-vibes'"):
        AggregationConfig("mean-of-vibes")
    with pytest.raises(CoordinatorError, match="num-malicious"):
        AggregationConfig("krum", -1)
    with pytest.raises(CoordinatorError, match="expected"):
        AggregationConfig.from_document({"rule": "krum", "num-malicious": 1, "version": 1, "trim": 2})
    with pytest.raises(CoordinatorError, match="version 2"):
        AggregationConfig.from_document({"rule": "krum", "num-malicious": 1, "version": 2})


def test_recompute_names_every_mismatch(round_one: tuple[Arrays, list[Candidate]]) -> None:
    global_arrays, candidates = round_one
    config = AggregationConfig("krum", F)
    document = {"document": "bcfl/round-config/v1", "aggregation": config.to_document()}
    honest = aggregate(config, global_arrays, candidates)
    digest = model_hash(honest.arrays)
    clean = recompute(document, global_arrays, candidates, honest.weights, digest)
    assert clean.ok and clean.model_hash == digest and clean.weights == honest.weights
    # A coordinator that finalized the boosted update as Krum's pick, and someone else's model.
    claimed = {**dict.fromkeys(honest.weights, 0), ATTACKER: 1}
    bad = recompute(document, global_arrays, candidates, claimed, model_hash(candidates[-1].arrays))
    chosen = next(m for m, w in honest.weights.items() if w)
    assert not bad.ok and len(bad.mismatches) == 3
    assert f"member {ATTACKER}: weight 1 on chain, 0 recomputed" in bad.mismatches
    assert f"member {chosen}: weight 0 on chain, 1 recomputed" in bad.mismatches
    assert bad.mismatches[-1].startswith("aggregated model 0x")
    with pytest.raises(CoordinatorError, match="not a round config document"):
        recompute(config.to_document(), global_arrays, candidates, honest.weights)
