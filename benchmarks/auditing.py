"""The audit's speed on a generated history, through the functions the ``bcfl audit`` commands run:
``report`` end to end (sync the event index, load the history, build the report, write its three
files) from an empty index, from an up-to-date one and through the naive rescan; ``verify-model`` of
the last round's aggregated model; and the ``recompute`` check's rounds per second."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bcfl.audit.context import AuditContext
from bcfl.audit.model import AuditReport
from bcfl.audit.provenance import lineage_rounds, provenance
from bcfl.audit.report import build_report, run_checks
from bcfl.audit.report_files import write_report
from bcfl.audit.signatures import find_signatures
from bcfl.audit.source import IndexSource, ScanSource
from bcfl.audit.store_checks import recompute
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.index.store import EventIndex
from benchmarks.audit_parts import report_parts
from benchmarks.history import History

T = TypeVar("T")


def verify_model(context: AuditContext, digest: str) -> dict[str, Any]:
    """What ``bcfl audit verify-model`` computes: the checks of ``digest``'s lineage, its provenance."""
    checks, not_run = run_checks(context, lineage_rounds(context, digest))
    return provenance(context, digest, checks, not_run)


#: Timed repetitions of each measurement; the fastest is reported.
REPEATS = 5
#: eth-keys' pure-Python ECDSA backend: what signatures were recovered with before coincurve.
PURE_PYTHON_ECDSA = "eth_keys.backends.NativeECCBackend"


@dataclass(frozen=True)
class ReportRun:
    """One ``bcfl audit report --store --out DIR``, by phase (seconds): connect to the consortium and
    sync the index, load the history, build the report (checks and views), write its three files."""

    sync_s: float
    load_s: float
    build_s: float
    write_s: float

    @property
    def total_s(self) -> float:
        return self.sync_s + self.load_s + self.build_s + self.write_s


@dataclass(frozen=True)
class AuditResult:
    """One history's numbers (each the fastest of the repetitions)."""

    rounds: int
    hospitals: int
    events: int
    from_empty: ReportRun
    up_to_date: ReportRun
    rescan: ReportRun
    #: The report's parts timed one by one on a freshly loaded context: each check, the views, each file.
    parts: tuple[tuple[str, float], ...]
    verdict: str
    html_bytes: int
    verify_s: float
    verify_with_load_s: float
    lineage_depth: int
    #: Whether every check verify-model ran over the lineage passed.
    verify_ok: bool
    recompute_s: float
    recomputed_rounds: int
    recompute_ok: bool
    signatures: int
    signatures_s: float
    #: One run with eth-keys' pure-Python backend (slow): the same signatures, recovered as before.
    signatures_pure_python_s: float

    @property
    def rescan_ratio(self) -> float:
        """How many times longer the report takes through the naive rescan than the up-to-date index."""
        return self.rescan.total_s / self.up_to_date.total_s

    @property
    def rounds_per_s(self) -> float:
        return self.recomputed_rounds / self.recompute_s


def _timed(fn: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def _fastest(runs: list[tuple[T, float]]) -> tuple[T, float]:
    return min(runs, key=lambda run: run[1])


def report_run(
    client: ChainClient, history: History, index_url: str | None, out_dir: Path
) -> tuple[AuditReport, ReportRun]:
    """The report as ``bcfl audit report --store --out`` makes it (``load_audit``, ``build_report``,
    ``write_report``): through the index at ``index_url``, synced first, or the naive rescan if None."""
    store = history.store
    started = time.perf_counter()
    consortium = Consortium.connect(client, history.consortium.manifest)
    if index_url is None:
        sync_s = time.perf_counter() - started
        context, load_s = _timed(lambda: AuditContext.load(ScanSource(consortium), store))
    else:
        with EventIndex.open(index_url, consortium.manifest) as index:
            index.sync(client)
            sync_s = time.perf_counter() - started
            context, load_s = _timed(lambda: AuditContext.load(IndexSource(consortium, index), store))
    report, build_s = _timed(lambda: build_report(context))
    _, write_s = _timed(lambda: write_report(report, out_dir))
    return report, ReportRun(sync_s, load_s, build_s, write_s)


def _best(runs: list[tuple[AuditReport, ReportRun]]) -> tuple[AuditReport, ReportRun]:
    return min(runs, key=lambda run: run[1].total_s)


def _same_report(a: AuditReport, b: AuditReport) -> bool:
    return a.model_copy(update={"generated_at": 0}) == b.model_copy(update={"generated_at": 0})


@contextmanager
def ecdsa_backend(import_path: str) -> Iterator[None]:
    """eth-keys' ECDSA backend set to ``import_path`` for the block (it reads ``ECC_BACKEND_CLASS``
    on every recovery)."""
    before = os.environ.get("ECC_BACKEND_CLASS")
    os.environ["ECC_BACKEND_CLASS"] = import_path
    try:
        yield
    finally:
        if before is None:
            del os.environ["ECC_BACKEND_CLASS"]
        else:
            os.environ["ECC_BACKEND_CLASS"] = before


def measure_audit(
    client: ChainClient,
    history: History,
    work_dir: Path,
    repeats: int = REPEATS,
    progress: Callable[[str], None] = lambda _step: None,
) -> AuditResult:
    """Time the audit of ``history`` (its index files and reports go under ``work_dir``)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    index_url = str(work_dir / "index.sqlite")
    consortium = Consortium.connect(client, history.consortium.manifest)
    with EventIndex.open(index_url, consortium.manifest) as index:
        index.sync(client)
        source = IndexSource(consortium, index)
        events = index.count()
    # The three sources side by side in each repetition: a busy machine slows them alike.
    empty, up_to_date, rescanned = [], [], []
    for n in range(repeats):
        progress(f"report: empty index, up-to-date index, naive rescan ({n + 1}/{repeats})")
        empty.append(report_run(client, history, str(work_dir / f"empty-{n}.sqlite"), work_dir / "report"))
        up_to_date.append(report_run(client, history, index_url, work_dir / "report"))
        rescanned.append(report_run(client, history, None, work_dir / "rescan"))
    report, best = _best(up_to_date)
    assert all(_same_report(report, r) for r, _ in empty + rescanned), "the reports disagree"
    progress("report parts")
    parts = _fastest_parts([report_parts(source, history.store) for _ in range(repeats)])
    last = report.rounds[-1].aggregated_model_hash
    assert last is not None, "the history's last round was not finalized"
    progress("verify-model")
    verified, with_load = [], []
    for _ in range(repeats):
        # On a context loaded beforehand (a context keeps the signatures it has checked), then with the load.
        context = AuditContext.load(source, history.store)
        verified.append(_timed(lambda c=context: verify_model(c, last)))  # type: ignore[misc]
        with_load.append(_verify_with_load(client, history, index_url, last))
    lineage, verify_s = _fastest(verified)
    progress("recompute")
    loaded = [AuditContext.load(source, history.store) for _ in range(repeats)]
    checked, recompute_s = _fastest([_timed(lambda c=c: recompute(c)) for c in loaded])  # type: ignore[misc]
    progress("signatures")
    context = AuditContext.load(source, history.store)
    found, signatures_s = _fastest(
        [_timed(lambda: find_signatures(source, context.history)) for _ in range(repeats)]
    )
    with ecdsa_backend(PURE_PYTHON_ECDSA):
        again, pure_s = _timed(lambda: find_signatures(source, context.history))
    assert again == found, "the two ECDSA backends recovered different signers"
    return AuditResult(
        rounds=len(report.rounds),
        hospitals=len(report.members),
        events=events,
        from_empty=_best(empty)[1],
        up_to_date=best,
        rescan=_best(rescanned)[1],
        parts=parts,
        verdict=report.verdict,
        html_bytes=(work_dir / "report" / "report.html").stat().st_size,
        verify_s=verify_s,
        verify_with_load_s=min(with_load),
        lineage_depth=len(lineage["rounds"]),
        verify_ok=all(check["ok"] for check in lineage["checks"]) and not lineage["not_run"],
        recompute_s=recompute_s,
        recomputed_rounds=sum(1 for r in report.rounds if r.aggregated_model_hash is not None),
        recompute_ok=checked.ok,
        signatures=len(found),
        signatures_s=signatures_s,
        signatures_pure_python_s=pure_s,
    )


def _fastest_parts(runs: list[tuple[tuple[str, float], ...]]) -> tuple[tuple[str, float], ...]:
    """Each part's fastest time over ``runs`` (each the same parts in the same order)."""
    return tuple((name, min(run[i][1] for run in runs)) for i, (name, _) in enumerate(runs[0]))


def _verify_with_load(client: ChainClient, history: History, index_url: str, digest: str) -> float:
    """``bcfl audit verify-model HASH --store`` from an up-to-date index: connect, sync, load, look up."""
    started = time.perf_counter()
    consortium = Consortium.connect(client, history.consortium.manifest)
    with EventIndex.open(index_url, consortium.manifest) as index:
        index.sync(client)
        source = IndexSource(consortium, index)
    verify_model(AuditContext.load(source, history.store), digest)
    return time.perf_counter() - started
