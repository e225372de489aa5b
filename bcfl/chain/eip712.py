"""EIP-712 signing and verification: model updates, exactly as the RoundLedger checks them, and the
hospitals' evaluation reports, which the coordinator checks off chain under the same domain.

Like the contract (OpenZeppelin's ECDSA), recovery refuses a signature whose ``s`` lies in the upper
half of the curve order: every signature has such a twin (``n - s`` with ``v`` flipped) that recovers
to the same key, and only the low-``s`` one counts, so a signature is never accepted in two spellings.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

from eth_abi.abi import encode
from eth_abi.exceptions import EncodingError
from eth_account import Account
from eth_account.messages import SignableMessage
from eth_account.signers.local import LocalAccount
from eth_keys.exceptions import BadSignature
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from bcfl.chain.privacy import NOT_PRIVATE

DOMAIN_NAME = "BCFL RoundLedger"
DOMAIN_VERSION = "1"
MODEL_UPDATE_TYPE = [
    {"name": "round", "type": "uint256"},
    {"name": "globalModelHash", "type": "bytes32"},
    {"name": "updateHash", "type": "bytes32"},
    {"name": "numExamples", "type": "uint64"},
    {"name": "epsilonSpent", "type": "uint64"},
    {"name": "deltaSpent", "type": "uint64"},
]
EVALUATION_REPORT_TYPE = [
    {"name": "round", "type": "uint256"},
    {"name": "modelHash", "type": "bytes32"},
    {"name": "metricsHash", "type": "bytes32"},
    {"name": "numExamples", "type": "uint64"},
]
_S_MASK = (1 << 255) - 1
#: The order of secp256k1's group; a signature's ``s`` must be at most half of it (EIP-2).
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HALF_N = SECP256K1_N // 2


@dataclass(frozen=True)
class LedgerDomain:
    """The EIP-712 domain of one RoundLedger deployment: binds signatures to a chain and a contract."""

    chain_id: int
    verifying_contract: str

    def as_dict(self) -> dict[str, Any]:
        """The domain as eth-account's typed-data encoder takes it."""
        return {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": self.chain_id,
            "verifyingContract": to_checksum_address(self.verifying_contract),
        }


@dataclass(frozen=True)
class ModelUpdate:
    """What a hospital signs: its update's hash for a round and the global model it trained from, and
    the differential privacy the update spent (:mod:`bcfl.chain.privacy`'s units; by default none:
    trained without it)."""

    #: The EIP-712 type's fields; the class name is the type's name.
    FIELDS: ClassVar[list[dict[str, str]]] = MODEL_UPDATE_TYPE
    round: int
    global_model_hash: bytes
    update_hash: bytes
    num_examples: int
    epsilon_spent: int = NOT_PRIVATE
    delta_spent: int = 0

    def message(self) -> dict[str, Any]:
        """The typed-data message."""
        return {
            "round": self.round,
            "globalModelHash": self.global_model_hash,
            "updateHash": self.update_hash,
            "numExamples": self.num_examples,
            "epsilonSpent": self.epsilon_spent,
            "deltaSpent": self.delta_spent,
        }


@dataclass(frozen=True)
class SignedModelUpdate:
    """A model update with its compact (ERC-2098) signature."""

    update: ModelUpdate
    r: bytes
    vs: bytes

    def contract_tuple(self) -> tuple[bytes, int, int, int, bytes, bytes]:
        """The ``SignedUpdate`` struct the RoundLedger takes."""
        u = self.update
        return (u.update_hash, u.num_examples, u.epsilon_spent, u.delta_spent, self.r, self.vs)

    @property
    def signature(self) -> bytes:
        """The 64-byte compact signature ``r || vs``."""
        return self.r + self.vs


@dataclass(frozen=True)
class EvaluationReport:
    """What a hospital signs after evaluating a round's aggregated model on its held-out split."""

    #: The EIP-712 type's fields; the class name is the type's name.
    FIELDS: ClassVar[list[dict[str, str]]] = EVALUATION_REPORT_TYPE
    round: int
    model_hash: bytes
    metrics_hash: bytes
    num_examples: int

    def message(self) -> dict[str, Any]:
        """The typed-data message."""
        return {
            "round": self.round,
            "modelHash": self.model_hash,
            "metricsHash": self.metrics_hash,
            "numExamples": self.num_examples,
        }


Signed = ModelUpdate | EvaluationReport


_DOMAIN_TYPE_HASH = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)


@lru_cache(maxsize=64)
def domain_separator(domain: LedgerDomain) -> bytes:
    """The domain's EIP-712 ``hashStruct``, as OpenZeppelin's ``_domainSeparatorV4`` computes it."""
    return keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                _DOMAIN_TYPE_HASH,
                keccak(text=DOMAIN_NAME),
                keccak(text=DOMAIN_VERSION),
                domain.chain_id,
                to_checksum_address(domain.verifying_contract),
            ],
        )
    )


@lru_cache(maxsize=8)
def _type_hash(name: str, fields: tuple[tuple[str, str], ...]) -> bytes:
    return keccak(text=f"{name}({','.join(f'{type_} {field}' for field, type_ in fields)})")


def signable_message(domain: LedgerDomain, message: Signed) -> SignableMessage:
    """The EIP-712 message to sign (what eth-account's ``encode_typed_data`` makes of the domain and
    ``message``; every field of both types is static, so each encodes as one ABI word). The domain's
    separator is computed once per domain: an audit recovers every registered update's signer."""
    fields = tuple((f["name"], f["type"]) for f in message.FIELDS)
    values = message.message()
    body = keccak(
        encode(
            ["bytes32", *(type_ for _, type_ in fields)],
            [_type_hash(type(message).__name__, fields), *(values[field] for field, _ in fields)],
        )
    )
    return SignableMessage(b"\x01", domain_separator(domain), body)


def _sign_compact(account: LocalAccount, domain: LedgerDomain, message: Signed) -> bytes:
    signed = account.sign_message(signable_message(domain, message))
    vs = signed.s | ((signed.v - 27) << 255)
    return signed.r.to_bytes(32, "big") + vs.to_bytes(32, "big")


def require_low_s(s: int) -> None:
    """ValueError unless ``s`` is in the lower half of the curve order, as the contract requires."""
    if s > HALF_N:
        raise ValueError(
            "the signature's s is in the upper half of the curve order (a malleable high-s signature), "
            "which the RoundLedger refuses: sign again with a standard (EIP-2, low-s) signer"
        )


def to_compact(signature: bytes) -> bytes:
    """The 64-byte compact form (ERC-2098: ``r || vs``) of a 64-byte compact or 65-byte ``r || s || v``
    signature (``v`` 0, 1, 27 or 28); ValueError for another length, ``v``, or a high ``s``."""
    if len(signature) == 64:
        require_low_s(int.from_bytes(signature[32:], "big") & _S_MASK)
        return signature
    if len(signature) != 65:
        raise ValueError(f"a signature has 64 (compact) or 65 bytes, got {len(signature)}")
    s, v = int.from_bytes(signature[32:64], "big"), signature[64]
    if v not in (0, 1, 27, 28):
        raise ValueError(f"a 65-byte signature ends with v = 0, 1, 27 or 28, got {v}")
    require_low_s(s)
    return signature[:32] + (s | ((v % 27) << 255)).to_bytes(32, "big")


def _recover(domain: LedgerDomain, message: Signed, signature: bytes) -> ChecksumAddress:
    """The signer, or ValueError for a signature or message that cannot be recovered at all (wrong
    length, r or s out of range, a high s, a field too large for its EIP-712 type)."""
    if len(signature) != 64:
        raise ValueError(f"a compact signature has 64 bytes, got {len(signature)}")
    vs = int.from_bytes(signature[32:], "big")
    v, s = 27 + (vs >> 255), vs & _S_MASK
    require_low_s(s)
    try:
        address: ChecksumAddress = Account.recover_message(
            signable_message(domain, message), vrs=(v, int.from_bytes(signature[:32], "big"), s)
        )
    except (BadSignature, EncodingError) as exc:
        raise ValueError(f"the signature cannot be recovered: {exc}") from None
    return address


def sign_update(account: LocalAccount, domain: LedgerDomain, update: ModelUpdate) -> SignedModelUpdate:
    """Sign ``update`` with the hospital's key."""
    signature = _sign_compact(account, domain, update)
    return SignedModelUpdate(update, signature[:32], signature[32:])


def sign_evaluation(account: LocalAccount, domain: LedgerDomain, report: EvaluationReport) -> bytes:
    """The hospital's 64-byte compact signature of ``report``."""
    return _sign_compact(account, domain, report)


def recover_evaluation_signer(
    domain: LedgerDomain, report: EvaluationReport, signature: bytes
) -> ChecksumAddress:
    """The address that signed ``report`` (any well-formed low-s signature recovers to some address)."""
    return _recover(domain, report, signature)


def from_compact(update: ModelUpdate, signature: bytes) -> SignedModelUpdate:
    """Rebuild a signed update from its 64-byte compact signature (as sent over the wire)."""
    if len(signature) != 64:
        raise ValueError(f"a compact signature has 64 bytes, got {len(signature)}")
    return SignedModelUpdate(update, signature[:32], signature[32:])


def recover_signer(domain: LedgerDomain, signed: SignedModelUpdate) -> ChecksumAddress:
    """The address that signed ``signed`` under ``domain`` (any well-formed low-s signature recovers to
    some address)."""
    return _recover(domain, signed.update, signed.signature)
