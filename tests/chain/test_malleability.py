"""Signature malleability: every ECDSA signature has a high-s twin (s' = n - s, v flipped) that
recovers to the same key. The RoundLedger (OpenZeppelin's ECDSA) refuses the twin; Python's recovery,
used by the coordinator's off-chain checks, must refuse it the same way, with a clear reason."""

from __future__ import annotations

import numpy as np
import pytest
from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from flwr.app import ConfigRecord, MetricRecord, RecordDict

from bcfl.chain.consortium import Consortium
from bcfl.chain.eip712 import (
    HALF_N,
    MODEL_UPDATE_TYPE,
    SECP256K1_N,
    LedgerDomain,
    ModelUpdate,
    SignedModelUpdate,
    from_compact,
    recover_signer,
    sign_update,
    to_compact,
)
from bcfl.chain.ledger import SkipReason
from bcfl.models.canonical import model_hash
from bcfl.models.records import to_record, uint64_bytes
from coordinator.verification import Rejection, check_update
from tests.chain.helpers import GENESIS, TEST_APP, h
from tests.conftest import Actors

ZERO_ADDRESS = "0x" + "00" * 20
HIGH_S = "upper half of the curve order"


def signable(domain: LedgerDomain, update: ModelUpdate) -> SignableMessage:
    return encode_typed_data(
        domain_data=domain.as_dict(),
        message_types={"ModelUpdate": MODEL_UPDATE_TYPE},
        message_data=update.message(),
    )


def test_a_high_s_twin_of_a_members_signature_is_refused(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    domain = consortium.ledger.domain()
    hospital = actors.hospitals[0]
    update = ModelUpdate(1, GENESIS, h("update"), 10)
    signed = hospital.sign_message(signable(domain, update))
    r, s, v = signed.r, signed.s, signed.v
    assert s <= HALF_N  # eth-account signs low-s (EIP-2)
    twin_s, twin_v = SECP256K1_N - s, 55 - v  # v flipped: 27 <-> 28
    # The twin is a valid ECDSA signature of the same message by the same key...
    assert Account.recover_message(signable(domain, update), vrs=(twin_v, r, twin_s)) == hospital.address
    # ...which Python refuses as the contract does, in both the 65-byte and the recovery path.
    original = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])
    twin = r.to_bytes(32, "big") + twin_s.to_bytes(32, "big") + bytes([twin_v])
    assert to_compact(original) == sign_update(hospital, domain, update).signature
    assert to_compact(bytes(original[:64]) + bytes([v - 27])) == to_compact(original)  # v as 0/1
    with pytest.raises(ValueError, match=HIGH_S):
        to_compact(twin)
    with pytest.raises(ValueError, match="65 bytes"):
        to_compact(twin[:63])
    with pytest.raises(ValueError, match="v = 0, 1, 27 or 28"):
        to_compact(original[:64] + b"\x05")


def compact_twins(domain: LedgerDomain, update: ModelUpdate) -> tuple[bytes, bytes, str]:
    """A low-s compact signature of ``update`` and its high-s twin, both recovering (without the low-s
    rule) to the same address; the twin fits the compact form (its s stays below 2**255), which a
    random signature's twin almost never does, so the pair is built from a chosen s and the key
    recovered from it."""
    r = sign_update(Account.create(), domain, update).r  # any r that is a curve point's x
    low_s = HALF_N - 12_345
    high_s = SECP256K1_N - low_s
    assert HALF_N < high_s < 2**255
    low = r + low_s.to_bytes(32, "big")  # v = 27: top bit clear
    high = r + (high_s | (1 << 255)).to_bytes(32, "big")  # v = 28: top bit set
    signer = Account.recover_message(signable(domain, update), vrs=(27, int.from_bytes(r, "big"), low_s))
    assert (
        Account.recover_message(signable(domain, update), vrs=(28, int.from_bytes(r, "big"), high_s))
        == signer
    )
    return low, high, signer


def test_a_compact_high_s_twin_is_refused_in_python_and_on_chain(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    ledger = consortium.ledger
    round_number = ledger.open_round(actors.coordinator, GENESIS, h("config"), TEST_APP)
    update = ModelUpdate(round_number, GENESIS, h("update"), 10)
    low, high, signer = compact_twins(ledger.domain(), update)
    assert recover_signer(ledger.domain(), from_compact(update, low)) == signer
    with pytest.raises(ValueError, match=HIGH_S):
        recover_signer(ledger.domain(), from_compact(update, high))
    with pytest.raises(ValueError, match=HIGH_S):
        to_compact(high)
    # The contract recovers the low-s one (to a key that is no member) and no one from the twin.
    receipt = ledger.register_updates(
        actors.coordinator,
        round_number,
        [SignedModelUpdate(update, low[:32], low[32:]), SignedModelUpdate(update, high[:32], high[32:])],
    )
    assert [(s.index, s.signer, s.reason) for s in ledger.skipped_in(receipt)] == [
        (0, signer, SkipReason.UNAUTHORIZED_SIGNER),
        (1, ZERO_ADDRESS, SkipReason.UNAUTHORIZED_SIGNER),
    ]


def test_the_coordinator_rejects_a_high_s_reply_with_the_reason(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    arrays = {"w": np.arange(4, dtype=np.float32)}
    update = ModelUpdate(1, GENESIS, model_hash(arrays), 10)
    low, high, signer = compact_twins(consortium.ledger.domain(), update)

    def reply(signature: bytes) -> RecordDict:
        return RecordDict(
            {
                "arrays": to_record(arrays),
                "metrics": MetricRecord(
                    {"num-examples": 10, "train-loss": 0.5, "train-seconds": 1.0, "global-test-accuracy": 0.7}
                ),
                "proof": ConfigRecord(
                    {
                        "update-hash": update.update_hash,
                        "signature": signature,
                        "signer": signer,
                        "epsilon-spent": uint64_bytes(update.epsilon_spent),
                        "delta-spent": uint64_bytes(update.delta_spent),
                    }
                ),
            }
        )

    def check(signature: bytes) -> object:
        return check_update(
            7,
            reply(signature),
            chain_round=1,
            global_hash=GENESIS,
            reference=arrays,
            domain=consortium.ledger.domain(),
            registry=consortium.registry,
        )

    # The low-s signature gets as far as the membership check; the twin stops at the signature.
    assert check(low) == Rejection(7, f"{signer} is not an active consortium member", signer)
    rejected = check(high)
    assert isinstance(rejected, Rejection) and rejected.signer == signer
    assert rejected.reason.startswith("malformed reply: ") and HIGH_S in rejected.reason
