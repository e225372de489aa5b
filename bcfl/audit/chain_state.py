"""The ``chain-state`` check: the contracts' stored records agree with the events the audit read.

Events are what an audit reads (through an event index, which anyone can edit, or a node's logs);
the contracts' storage is what the chain itself holds. Each round's record in the RoundLedger (status,
models, update and participant counts) and in the RewardDistributor (paid, total), the number of
rounds, and the token's total supply (every token is minted by a payout) must be what the events
say: an event dropped from, or added to, the audit's copy shows here."""

from __future__ import annotations

from bcfl.audit.context import AuditContext
from bcfl.audit.history import RoundHistory
from bcfl.audit.model import CheckResult
from bcfl.audit.source import AuditSource
from bcfl.chain.ledger import RoundRecord, RoundStatus


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _round_problems(number: int, record: RoundRecord, events: RoundHistory | None) -> list[str]:
    where = f"round {number}"
    if events is None:
        return [f"{where}: the RoundLedger holds it ({record.status.name.lower()}), no RoundOpened event"]
    status = RoundStatus.FINALIZED if events.finalized is not None else RoundStatus.OPEN
    stored = {
        "status": record.status.name.lower(),
        "global model": _hex(record.global_model_hash),
        "updates": str(record.update_count),
        "participants": str(record.participant_count),
        "aggregated model": _hex(record.aggregated_model_hash),
    }
    told = {
        "status": status.name.lower(),
        "global model": events.global_hash.lower(),
        "updates": str(len(events.updates)),
        "participants": str(len(events.weights)),
        "aggregated model": (events.aggregated_hash or _hex(bytes(32))).lower(),
    }
    return [
        f"{where}: {what} {stored[what]} in the RoundLedger, {told[what]} by the events"
        for what in stored
        if stored[what] != told[what]
    ]


#: A paid round's events, as far as its stored records are checked against them.
Settled = tuple[object, ...]


def settled_key(events: RoundHistory | None) -> Settled | None:
    """What a paid round's check depends on (None while the round can still change): once paid, the
    contracts never change its records again."""
    if events is None or events.paid is None or events.finalized is None:
        return None
    return (
        events.paid.tx_hash,
        events.paid.log_index,
        events.finalized.tx_hash,
        len(events.updates),
        len(events.skipped),
        len(events.payouts),
    )


def _round_state(source: AuditSource, number: int, events: RoundHistory | None) -> list[str]:
    problems = _round_problems(number, source.round_record(number), events)
    paid, total = source.payout_of(number)
    told_paid = events is not None and events.paid is not None
    told_total = int(events.paid.args["total"]) if events is not None and events.paid is not None else 0
    if (paid, total) != (told_paid, told_total):
        problems.append(
            f"round {number}: {'paid' if paid else 'unpaid'} {total} in the RewardDistributor, "
            f"{'paid' if told_paid else 'unpaid'} {told_total} by the events"
        )
    return problems


def chain_state(
    context: AuditContext, settled: dict[int, tuple[Settled, list[str]]] | None = None
) -> CheckResult:
    """The contracts' stored records against the events. ``settled``: each paid round's problems
    found by an earlier check of the same chain (not rolled back since), reused while its events are
    the same, and filled in with the rounds newly paid."""
    source, history = context.source, context.history
    problems: list[str] = []
    count = source.round_count()
    numbers = sorted(history.rounds)
    if numbers and numbers[-1] > count:
        problems.append(f"the events open round {numbers[-1]}, the RoundLedger counts {count} rounds")
    minted = 0
    for number in range(1, count + 1):
        events = history.rounds.get(number)
        key = settled_key(events) if settled is not None else None
        kept = settled.get(number) if settled is not None else None
        if key is not None and kept is not None and kept[0] == key:
            problems += kept[1]
        else:
            found = _round_state(source, number, events)
            if settled is not None and key is not None:
                settled[number] = (key, found)
            problems += found
        if events is not None:
            minted += sum(int(e.args["amount"]) for e in events.payouts)
    supply = source.total_supply()
    if supply != minted:
        problems.append(f"the token's total supply is {supply}, the events' payouts add up to {minted}")
    return CheckResult(
        name="chain-state",
        ok=not problems,
        problems=tuple(problems),
        proves="the contracts' own records (each round's status, models, counts and payout, the "
        "token's supply) match the events read, so no event was dropped from or added to them",
    )
