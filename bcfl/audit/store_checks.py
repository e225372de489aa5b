"""The checks that need the model store: its files are what their names say, and each round's
aggregated model and contribution scores recompute from it exactly."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np

from bcfl.audit.context import AuditContext
from bcfl.audit.history import RoundHistory
from bcfl.audit.model import CheckResult
from bcfl.audit.views import excluded_before
from bcfl.audit.weights import round_weights
from bcfl.models.canonical import hash_bytes
from bcfl.models.store import DOCUMENT_SUFFIX, SUFFIX, ModelStore, ModelStoreError
from coordinator.aggregation import Candidate
from coordinator.rounds.audit import recompute as recompute_aggregate
from coordinator.scoring import flat_delta, score_round, scoring_of


def _bytes(value: object) -> bytes:
    return bytes.fromhex(str(value).removeprefix("0x"))


def _named(context: AuditContext) -> list[tuple[str, str, str]]:
    """(what, hash, suffix) of every file the chain names that the store must hold."""
    named = []
    for number, chain_round in sorted(context.history.rounds.items()):
        named.append((f"round {number}'s global model", chain_round.global_hash, SUFFIX))
        named.append(
            (f"round {number}'s config document", str(chain_round.opened.args["configHash"]), DOCUMENT_SUFFIX)
        )
        named += [
            (f"round {number} member {e.args['memberId']}'s update", str(e.args["updateHash"]), SUFFIX)
            for e in chain_round.updates
        ]
        if chain_round.finalized is not None:
            named.append((f"round {number}'s aggregated model", str(chain_round.aggregated_hash), SUFFIX))
            named.append(
                (
                    f"round {number}'s metrics record",
                    str(chain_round.finalized.args["metricsHash"]),
                    DOCUMENT_SUFFIX,
                )
            )
    return named


def store_files(context: AuditContext) -> CheckResult:
    store = context.store
    assert store is not None
    problems = []
    for path in sorted(store.root.iterdir()):
        if path.suffix not in (SUFFIX, DOCUMENT_SUFFIX) or not path.name.startswith("0x"):
            continue
        if "0x" + hash_bytes(path.read_bytes()).hex() != path.name.removesuffix(path.suffix).lower():
            problems.append(f"{path.name}: the file does not hash to its name (altered)")
    for what, digest, suffix in _named(context):
        if not (store.root / f"{digest.lower()}{suffix}").exists():
            problems.append(f"{what} {digest}: missing from the store")
    return CheckResult(
        name="store-files",
        ok=not problems,
        problems=tuple(dict.fromkeys(problems)),
        proves="the store holds every model and document the chain names, each file the bytes whose "
        "hash is its name",
    )


def recompute(context: AuditContext, rounds: Collection[int] | None = None) -> CheckResult:
    """Each finalized round's scores and aggregated model recomputed from the store, the round's
    config document and the on-chain examples, scores and reputations."""
    found = recompute_rounds(context, rounds)
    return CheckResult(
        name="recompute",
        ok=not any(found.values()),
        problems=tuple(p for number in sorted(found) for p in found[number]),
        proves=RECOMPUTE_PROVES,
    )


RECOMPUTE_PROVES = (
    "each round's contribution scores, aggregation weights and aggregated model follow "
    "exactly from the stored updates, its config document and the on-chain records"
)


def recompute_rounds(context: AuditContext, rounds: Collection[int] | None = None) -> dict[int, list[str]]:
    """:func:`recompute`'s problems per finalized round (of ``rounds``, or all), in one pass."""
    store = context.store
    assert store is not None
    models = _Models(store)
    found: dict[int, list[str]] = {}
    wanted = set(rounds) if rounds is not None else None
    upgraded: int | None = None  # the first round scored with version 2
    for number, chain_round in sorted(context.history.rounds.items()):
        if chain_round.finalized is None:
            continue
        downgraded = []
        names_rule = _names_scoring_rule(models, chain_round)
        if names_rule and upgraded is None:
            upgraded = number
        elif names_rule is False and upgraded is not None:
            downgraded.append(
                f"round {number}: its config document names no scoring rule (version 1), though round "
                f"{upgraded} was scored with version 2: the coordinator went back to the old rule"
            )
        if wanted is not None and number not in wanted:
            continue
        try:
            found[number] = downgraded + _recompute_round(context, store, models, chain_round)
        except ModelStoreError as exc:
            found[number] = [*downgraded, f"round {number}: cannot recompute: {exc}"]
        models.next_round()
    return found


def _names_scoring_rule(models: _Models, chain_round: RoundHistory) -> bool | None:
    """Whether the round's config document names its scoring rule (None: the store lacks it)."""
    try:
        document = models.document(_bytes(chain_round.opened.args["configHash"]))
    except ModelStoreError:
        return None
    return "scoring" in document


class _Models:
    """The stored models a recompute reads, each read (and its hash checked) once: a round's are kept
    for the next round, which scores against them as its previous round's. Config documents (rounds
    run with the same settings share one) are kept for the whole recompute."""

    def __init__(self, store: ModelStore) -> None:
        self.store = store
        self._previous: dict[bytes, dict[str, np.ndarray]] = {}
        self._current: dict[bytes, dict[str, np.ndarray]] = {}
        self._documents: dict[bytes, dict[str, Any]] = {}

    def document(self, digest: bytes) -> dict[str, Any]:
        document = self._documents.get(digest)
        if document is None:
            document = self._documents[digest] = self.store.get_document(digest)
        return document

    def get(self, digest: bytes) -> dict[str, np.ndarray]:
        arrays = self._current.get(digest)
        if arrays is None:
            arrays = self._previous.get(digest)
        if arrays is None:
            arrays = self.store.get(digest)
        self._current[digest] = arrays
        return arrays

    def next_round(self) -> None:
        self._previous, self._current = self._current, {}


def _recompute_round(
    context: AuditContext, store: ModelStore, models: _Models, chain_round: RoundHistory
) -> list[str]:
    history = context.history
    number = chain_round.number
    global_arrays = models.get(_bytes(chain_round.global_hash))
    updates = {int(e.args["memberId"]): e for e in chain_round.updates}
    arrays = {m: models.get(_bytes(e.args["updateHash"])) for m, e in updates.items()}
    problems = []
    document = models.document(_bytes(chain_round.opened.args["configHash"]))
    if chain_round.scores:
        try:
            rule = scoring_of(document.get("scoring"))
        except ValueError as exc:
            return [f"round {number}: its config document's {exc}"]
        first = history.first_registered()
        replayed = [m for m, e in updates.items() if first[str(e.args["updateHash"]).lower()] < number]
        scores = score_round(
            global_arrays,
            arrays,
            previous=_previous_deltas(context, store, models, number, sorted(updates)),
            replayed=replayed,
            rule=rule,
        )
        for event in chain_round.scores:
            member_id = int(event.args["memberId"])
            found = scores.get(member_id)
            if found is None or found.score_bps != int(event.args["contribution"]):
                problems.append(
                    f"round {number} member {member_id}: score {event.args['contribution']} on chain, "
                    f"{found.score_bps if found else 'none'} recomputed"
                )
    weights = round_weights(history, number, participants_only=False)
    # Every registered update of a member in good standing is a candidate, as the coordinator's
    # assessment has it: one left out of the aggregate shows as a weight absent on chain.
    excluded = set(excluded_before(history, chain_round))
    candidates = [
        Candidate(m, arrays[m], int(updates[m].args["numExamples"]), weights.get(m, 0))
        for m in sorted(updates)
        if m not in excluded
    ]
    result = recompute_aggregate(
        document,
        global_arrays,
        candidates,
        chain_round.weights,
        _bytes(chain_round.aggregated_hash),
    )
    problems += [f"round {number}: {m}" for m in result.mismatches]
    return problems


def _previous_deltas(
    context: AuditContext, store: ModelStore, models: _Models, number: int, members: list[int]
) -> dict[int, np.ndarray]:
    """As the coordinator scores: each member's delta in round ``number - 1``, where the store has it."""
    previous = context.history.rounds.get(number - 1)
    if previous is None or _bytes(previous.global_hash) not in store:
        return {}
    global_arrays = models.get(_bytes(previous.global_hash))
    deltas = {}
    for event in previous.updates:
        member_id, digest = int(event.args["memberId"]), _bytes(event.args["updateHash"])
        if member_id in members and digest in store:
            deltas[member_id] = flat_delta(global_arrays, models.get(digest))
    return deltas
