"""Each registered update's signature, taken from its registration transaction's input, and the
key it recovers to, judged against the membership at that block (replayed from the events)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bcfl.audit.history import ACTIVE, History, position
from bcfl.audit.source import AuditSource
from bcfl.chain.eip712 import LedgerDomain, ModelUpdate, SignedModelUpdate, recover_signer
from bcfl.index.records import IndexedEvent


@dataclass(frozen=True)
class SignatureFinding:
    """An ``UpdateRegistered`` event's signature, its signer, and what is wrong (or "")."""

    signature: str
    signer: str
    problem: str

    @property
    def valid(self) -> bool:
        return not self.problem


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def find_signatures(
    source: AuditSource,
    history: History,
    known: Mapping[tuple[str, int], SignatureFinding] | None = None,
) -> dict[tuple[str, int], SignatureFinding]:
    """A finding for every registered update, by (transaction hash, log index). ``known``: findings
    of an earlier look at the same chain (not rolled back since), reused for the transactions whose
    every registration they judged: a finding depends only on the transaction and the membership at
    its block."""
    domain = LedgerDomain(source.chain_id, source.ledger_address)
    by_tx: dict[str, list[IndexedEvent]] = {}
    for chain_round in history.rounds.values():
        for event in (*chain_round.updates, *chain_round.skipped):
            by_tx.setdefault(event.tx_hash, []).append(event)
    found: dict[tuple[str, int], SignatureFinding] = {}
    for tx_hash, events in by_tx.items():
        registered = sorted((e for e in events if e.name == "UpdateRegistered"), key=position)
        if not registered:
            continue
        if known is not None and all((tx_hash, e.log_index) in known for e in registered):
            found.update({(tx_hash, e.log_index): known[(tx_hash, e.log_index)] for e in registered})
            continue
        skipped = {int(e.args["index"]) for e in events if e.name == "UpdateSkipped"}
        try:
            entries = [e for i, e in enumerate(source.registrations(tx_hash)) if i not in skipped]
        except ValueError as exc:
            for event in registered:
                found[(tx_hash, event.log_index)] = SignatureFinding("", "", f"no signature: {exc}")
            continue
        for index, event in enumerate(registered):
            entry = entries[index] if index < len(entries) else None
            found[(tx_hash, event.log_index)] = _judge(domain, history, event, entry)
    return found


def _judge(
    domain: LedgerDomain, history: History, event: IndexedEvent, entry: SignedModelUpdate | None
) -> SignatureFinding:
    args = event.args
    chain_round = history.rounds[int(args["round"])]
    member_id = int(args["memberId"])
    if entry is None:
        return SignatureFinding("", "", "no entry of its transaction matches the event")
    update = ModelUpdate(
        chain_round.number,
        bytes.fromhex(chain_round.global_hash[2:]),
        entry.update.update_hash,
        entry.update.num_examples,
        entry.update.epsilon_spent,
        entry.update.delta_spent,
    )
    signature = _hex(entry.signature)
    if (
        _hex(update.update_hash) != args["updateHash"]
        or update.num_examples != int(args["numExamples"])
        or update.epsilon_spent != int(args["epsilonSpent"])
        or update.delta_spent != int(args["deltaSpent"])
    ):
        return SignatureFinding(signature, "", "the transaction's entry differs from the event")
    try:
        signer = str(recover_signer(domain, SignedModelUpdate(update, entry.r, entry.vs)))
    except ValueError as exc:
        return SignatureFinding(signature, "", f"the signature does not recover: {exc}")
    state = history.member_at(member_id, position(event))
    if state is None:
        return SignatureFinding(signature, signer, f"member {member_id} did not exist at that block")
    if state.signer != signer:
        return SignatureFinding(
            signature,
            signer,
            f"signed by {signer}, not member {member_id}'s key {state.signer} at that block",
        )
    if state.status != ACTIVE:
        return SignatureFinding(
            signature, signer, f"signed by {signer}, whose member was {state.status} at that block"
        )
    return SignatureFinding(signature, signer, "")
