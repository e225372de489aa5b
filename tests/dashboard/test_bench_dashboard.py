"""The dashboard benchmark's measuring function on a tiny generated history: every route answers,
latencies are ordered, and each membership request reaches the open stream."""

from __future__ import annotations

from pathlib import Path

from bcfl.chain.client import ChainClient
from benchmarks.dashboard import main_routes, measure_dashboard, percentile
from benchmarks.history import add_rounds, start_history
from tests.conftest import Actors

ROUNDS, HOSPITALS, TRIALS = 3, 4, 2


def test_percentile_by_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 99)) == (50, 95, 99)
    assert percentile([7.0], 99) == 7.0


def test_the_dashboard_benchmark_measures_every_route_and_the_stream(
    tmp_path: Path, client: ChainClient, actors: Actors
) -> None:
    history = start_history(client, actors.admin, actors.coordinator, tmp_path / "run", hospitals=HOSPITALS)
    add_rounds(history, actors.coordinator, ROUNDS)
    work = tmp_path / "work"
    work.mkdir()
    result = measure_dashboard(history, actors.admin, work, clients=2, requests=10, trials=TRIALS)
    assert result.rounds == ROUNDS and result.events > ROUNDS * HOSPITALS
    assert [r.path for r in result.routes] == list(main_routes(history).values())
    for route in result.routes:
        assert route.requests == 10
        assert 0 < route.p50_ms <= route.p95_ms <= route.p99_ms <= route.max_ms
    # the first snapshot, then at least one per membership request (coalesced ones count once)
    assert len(result.snapshots_s) >= 2 and min(result.snapshots_s) > 0
    assert len(result.event_to_stream_s) == TRIALS
    assert all(0 < s < 60 for s in result.event_to_stream_s)
    assert len(history.consortium.registry.members()) == HOSPITALS + TRIALS
