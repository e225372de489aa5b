"""The API's own response shapes (the rounds' and members' details are the audit's records,
bcfl.audit.model). Integers that can exceed JavaScript's exact range (token amounts) are strings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from bcfl.audit.model import CheckResult, LineageView, ModelLocation
from dashboard.events import EventOut


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ChainOut(Out):
    reachable: bool
    error: str | None
    head_block: int | None
    checked_at: float


class NodesOut(Out):
    """The SuperLink as last asked for its SuperNodes (``reachable`` None: no SuperLink configured)."""

    reachable: bool | None
    error: str | None
    checked_at: float | None
    #: SuperNodes online at the SuperLink, whoever's they are.
    online: int


class StatusOut(Out):
    chain_id: int
    registry: str
    token_symbol: str | None
    token_decimals: int | None
    chain: ChainOut
    nodes: NodesOut
    indexed_block: int
    snapshot_block: int | None
    verdict: str | None
    clean: bool | None


class MemberSummary(Out):
    member_id: int
    name: str
    status: str
    signer: str
    reputation: int | None
    updates: int
    paid_total: str
    balance: str
    #: The fingerprint of the member's Flower node key, as the registry holds it (None: none named).
    node_key_fingerprint: str | None
    #: Its node as the SuperLink lists it; ``unknown`` without a SuperLink, without a named key, or
    #: when no SuperNode there has that key.
    node: Literal["online", "offline", "unknown"]
    #: The ε its updates spent in the latest lineage it trained in (None: one was trained without
    #: differential privacy, or none yet: see ``privacy_lineage``), and what the budget leaves (None:
    #: no bound).
    privacy_lineage: int | None = None
    epsilon_spent: float | None = None
    epsilon_left: float | None = None


class RoundSummary(Out):
    round: int
    status: str
    lineage: int
    parent_round: int
    global_model_hash: str
    aggregated_model_hash: str | None
    opened_at: int
    updates: int
    excluded: list[int]
    participants: int
    accuracy: float | None
    auroc: float | None
    total_paid: str | None


class ChecksOut(Out):
    block: int
    verdict: str
    clean: bool
    checks: list[CheckResult]
    not_run: list[str]


class EventPage(Out):
    events: list[EventOut]
    #: Pass as ``after`` for the events after this page (newer ones; the same cursor again later to
    #: poll for new events). None when the page is empty and was not asked ``after`` a cursor.
    next: str | None
    #: Pass as ``before`` for the events before this page (older ones). None when the page is empty.
    previous: str | None


class Series(Out):
    label: str
    member_id: int | None
    values: list[float | None]


class ChartsOut(Out):
    """Every chart's data, x values being the rounds."""

    rounds: list[int]
    metrics: dict[str, list[Series]]
    reputation: list[Series]
    threshold_bps: int
    scores: list[Series]
    excluded: dict[int, list[int]]
    payouts: list[Series]
    token_symbol: str


class HospitalInRound(Out):
    member_id: int
    name: str
    signature_valid: bool
    aggregated: bool
    score: int | None
    paid: str


class LineageRound(Out):
    round: int
    global_model_hash: str
    aggregated_model_hash: str | None
    hospitals: list[HospitalInRound]


class TokenOut(Out):
    symbol: str
    decimals: int


class ProvenanceOut(Out):
    """Where the chain registered a model, and a page of its lineage, newest round first."""

    model_hash: str
    locations: list[ModelLocation]
    lineage_start: LineageView | None
    #: Rounds in the whole lineage, from the model back to the lineage's start.
    lineage_rounds: int
    rounds: list[LineageRound]
    #: Lineage rounds older than the last one in ``rounds`` (0: the page reaches the lineage start).
    older_rounds: int
    #: Pass as ``before`` for the next (older) page; None on the last page.
    next_before: int | None
    #: The aggregated model of the round just older than this page (the one the page's oldest round
    #: should have started from); None on the last page.
    older_model_hash: str | None
    token: TokenOut
    checks: list[CheckResult]
    not_run: list[str]
