"""A hospital's proof of an update it sent: the signed update and the deployment it was signed for.

The hospital node keeps one per round it trains (``hospital_node.client_app``), so that a hospital
whose update the coordinator left out registers it itself while the round is open (``bcfl update
register --proof FILE``): the RoundLedger takes a member's signed update from anyone.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bcfl.chain.eip712 import LedgerDomain, ModelUpdate, SignedModelUpdate, from_compact
from bcfl.chain.exceptions import UpdateProofError

HASH = r"^0x[0-9a-fA-F]{64}$"
SIGNATURE = r"^0x[0-9a-fA-F]{128}$"
ADDRESS = r"^0x[0-9a-fA-F]{40}$"


class UpdateProof(BaseModel):
    """A signed model update as a small JSON document (hex strings, one schema version)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: 2: the update's ε and δ.
    schema_version: Literal[2] = 2
    chain_id: int = Field(ge=1)
    #: The RoundLedger the update was signed for (the EIP-712 verifying contract).
    ledger: str = Field(pattern=ADDRESS)
    round: int = Field(ge=1)
    global_model_hash: str = Field(pattern=HASH)
    update_hash: str = Field(pattern=HASH)
    num_examples: int = Field(ge=1, lt=2**64)
    #: The ε and δ the update spent, in the RoundLedger's units (:mod:`bcfl.chain.privacy`).
    epsilon_spent: int = Field(ge=0, lt=2**64)
    delta_spent: int = Field(ge=0, lt=2**64)
    signer: str = Field(pattern=ADDRESS)
    #: The 64-byte compact signature (ERC-2098), as the RoundLedger takes it.
    signature: str = Field(pattern=SIGNATURE)

    @classmethod
    def of(cls, domain: LedgerDomain, signed: SignedModelUpdate, signer: str) -> UpdateProof:
        """The proof of ``signed``, signed by ``signer`` under ``domain``."""
        update = signed.update
        return cls(
            chain_id=domain.chain_id,
            ledger=domain.verifying_contract,
            round=update.round,
            global_model_hash="0x" + update.global_model_hash.hex(),
            update_hash="0x" + update.update_hash.hex(),
            num_examples=update.num_examples,
            epsilon_spent=update.epsilon_spent,
            delta_spent=update.delta_spent,
            signer=signer,
            signature="0x" + signed.signature.hex(),
        )

    def domain(self) -> LedgerDomain:
        """The EIP-712 domain the update was signed under."""
        return LedgerDomain(self.chain_id, self.ledger)

    def signed(self) -> SignedModelUpdate:
        """The signed update, as the RoundLedger takes it."""
        update = ModelUpdate(
            self.round,
            bytes.fromhex(self.global_model_hash[2:]),
            bytes.fromhex(self.update_hash[2:]),
            self.num_examples,
            self.epsilon_spent,
            self.delta_spent,
        )
        return from_compact(update, bytes.fromhex(self.signature[2:]))


def proof_path(folder: Path, domain: LedgerDomain, round_number: int) -> Path:
    """Where a node keeps its proof of ``round_number`` for the deployment of ``domain``."""
    return folder / domain.verifying_contract.lower() / f"round-{round_number}.json"


def save_proof(folder: Path, proof: UpdateProof) -> Path:
    """Write ``proof`` under ``folder`` (replacing an earlier one of the same round whole); its path."""
    path = proof_path(folder, proof.domain(), proof.round)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        handle.write(proof.model_dump_json(indent=2) + "\n")
    os.replace(tmp, path)
    return path


def load_proof(path: Path) -> UpdateProof:
    """Read a proof, with a one-line error for a missing or malformed file."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise UpdateProofError(f"cannot read update proof {path}: {exc.strerror}") from exc
    try:
        return UpdateProof.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the document"
        raise UpdateProofError(
            f"update proof {path} is malformed: {where}: {first['msg']} "
            "(give the file the hospital node wrote)"
        ) from None
