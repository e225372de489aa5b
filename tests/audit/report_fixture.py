"""A small hand-built audit report (two rounds, three members, hostile names) for the report tests."""

from __future__ import annotations

from bcfl.audit.model import (
    AuditReport,
    CheckResult,
    EvaluationView,
    LineageView,
    MemberEventView,
    MemberView,
    PayoutView,
    RoundView,
    ScoreView,
    SkippedView,
    UpdateView,
    WeightView,
)

EVIL_NAME = "<script>alert(1)</script>"
EVIL_TABLE = "</table><img src=x onerror=alert(2)>"
EVIL_METRIC = "<b>loss</b>"
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
NAMES = {1: EVIL_NAME, 2: EVIL_TABLE, 3: "carol"}
TOKEN = 10**18


def h(label: str) -> str:
    """A recognisable 32-byte hash."""
    return "0x" + label.encode().hex().ljust(64, "0")


def addr(n: int) -> str:
    return "0x" + f"{n:040x}"


def _update(member: int, label: str, block: int) -> UpdateView:
    return UpdateView(
        member_id=member,
        member_name=NAMES[member],
        signer=addr(member),
        update_hash=h(label),
        num_examples=100 * member,
        signature="0x" + "ab" * 65,
        signature_valid=member != 3,
        block_number=block,
        tx_hash=h("tx" + label),
    )


def _round(
    number: int, global_hash: str, members: tuple[int, ...], aggregate: str, accuracy: float
) -> RoundView:
    return RoundView(
        round=number,
        status="paid",
        lineage=1,
        parent_round=number - 1,
        global_model_hash=global_hash,
        config_hash=h(f"config{number}"),
        app_hash=h("app"),
        config={"aggregation": "trimmed-mean", "note": EVIL_NAME},
        opened_block=10 * number,
        opened_at=1_700_000_000 + 600 * number,
        updates=tuple(_update(m, f"u{number}{m}", 10 * number + 1) for m in members),
        skipped=(
            SkippedView(index=0, signer=addr(9), update_hash=h("skip"), reason=EVIL_TABLE, tx_hash=h("txs")),
        ),
        scores=tuple(
            ScoreView(
                member_id=m,
                contribution=1000 * m,
                reputation_before=5000,
                reputation_after=5000 + 100 * m,
                excluded_before=False,
            )
            for m in members
        ),
        excluded=(3,) if number == 2 else (),
        participants=tuple(WeightView(member_id=m, weight=100 * m) for m in members if m != 3 or number == 1),
        aggregated_model_hash=aggregate,
        metrics_hash=h(f"metrics{number}"),
        finalized_block=10 * number + 5,
        evaluations=tuple(
            EvaluationView(
                member_id=m,
                signer=addr(m),
                metrics={"accuracy": accuracy, EVIL_METRIC: 0.5},
                signature_valid=True,
            )
            for m in members
        ),
        aggregate_metrics={"accuracy": accuracy, EVIL_METRIC: 0.5},
        budget=str(1000 * TOKEN),
        total_paid=str(1000 * TOKEN),
        payouts=tuple(
            PayoutView(member_id=m, account=addr(m), amount=str(1000 * TOKEN // len(members)))
            for m in members
        ),
    )


CHECKS = (
    CheckResult(name="update-signatures", ok=True, proves="every update was signed by an active member"),
    CheckResult(name="lineage-unbroken", ok=True, proves="each round starts from its parent's aggregate"),
)


def sample_report(checks: tuple[CheckResult, ...] = CHECKS, round2_global: str | None = None) -> AuditReport:
    """Round 1 (members 1-3) and round 2 (members 1-2 send updates; 3 excluded), lineage 1 from h("start")."""
    round1 = _round(1, h("start"), (1, 2, 3), h("agg1"), 0.71)
    round2 = _round(2, round2_global or h("agg1"), (1, 2), h("agg2"), 0.78)
    members = tuple(
        MemberView(
            member_id=m,
            name=NAMES[m],
            status="active",
            signer=addr(m),
            history=(
                MemberEventView(
                    block_number=2,
                    timestamp=1_700_000_000,
                    event="requested",
                    detail=EVIL_TABLE,
                    tx_hash=h("rq"),
                ),
            ),
            updates=((1, h(f"u1{m}"), 100 * m),),
            reputation=((1, 5000 + 100 * m),) + (((2, 5000 + 100 * m),) if m != 3 else ()),
            payouts=((1, str(1000 * TOKEN // 3)),),
            paid_total=str(1000 * TOKEN // 3),
            balance=str(1000 * TOKEN // 3),
        )
        for m in (1, 2, 3)
    )
    return AuditReport(
        generated_at=1_700_010_000,
        chain_id=31337,
        registry=REGISTRY,
        from_round=1,
        to_round=2,
        indexed_to_block=40,
        token_symbol="BCFL",
        token_decimals=18,
        lineages=(
            LineageView(
                lineage=1, model_hash=h("start"), started_by=addr(7), reason=EVIL_NAME, block_number=3
            ),
        ),
        rounds=(round1, round2),
        members=members,
        checks=checks,
    )
