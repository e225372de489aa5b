"""The benchmark's plain Flower reference (benchmarks/plain_app) is a Flower App that runs through the
real stack: the consortium approves it on chain, the hospitals' bcfl-superexecs start it, and its
ServerApp notes each round's start and end and each hospital's seconds (scripts/bench_round.py reads them)."""

from __future__ import annotations

import json
from pathlib import Path

from bcfl.demo.federation import start_federation
from benchmarks.round_parts import PLAIN_APP

HOSPITALS = ["cleveland", "hungary"]


def test_the_plain_reference_trains_a_round_on_the_consortiums_supernodes(tmp_path: Path) -> None:
    run = start_federation(tmp_path / "run", HOSPITALS)
    try:
        run.approve_app(PLAIN_APP)
        timings = tmp_path / "plain-rounds.json"
        assert run.flwr_run(1, PLAIN_APP, extra_config=[f'timings-file="{timings}"']) == 0
        (round_one,) = json.loads(timings.read_text())
        assert round_one["closed_at"] > round_one["opened_at"]
        assert len(round_one["hospitals"]) == len(HOSPITALS)
        assert all({"train-seconds", "evaluate-seconds"} <= set(h) for h in round_one["hospitals"].values())
        assert run.consortium().ledger.round_count() == 0  # nothing of it on chain
    finally:
        run.stop()
