"""``bcfl update register``: a hospital registers its own signed update while the round is open.

The RoundLedger takes a member's signed update from anyone (the signature is the authority), so a
hospital whose update the coordinator left out is not censored: it sends the update itself, from the
proof its node kept (``--proof``, written by the ClientApp) or from the values given one by one.
Everything the contract would refuse is checked first, so a refusal is one line and costs no gas.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from eth_account.signers.local import LocalAccount

from bcfl.chain.consortium import Consortium
from bcfl.chain.eip712 import ModelUpdate, from_compact, recover_signer, to_compact
from bcfl.chain.exceptions import ChainError, UpdateProofError
from bcfl.chain.ledger import RoundStatus
from bcfl.chain.privacy import NOT_PRIVATE
from bcfl.chain.proof import UpdateProof, load_proof
from bcfl.cli.common import (
    DevAccountOpt,
    Format,
    KeyEnvOpt,
    KeystoreOpt,
    ManifestPath,
    OutputFormat,
    PasswordFileOpt,
    RpcUrl,
    clean_errors,
    connect,
    emit,
    parse_bytes32,
    resolve_account,
)
from bcfl.cli.settings import DEFAULTS


@dataclass(frozen=True)
class Claim:
    """What is to be registered: the round, the update and its signature (and, from a proof, the
    global model it was signed over, checked against the round's)."""

    round: int
    update_hash: bytes
    num_examples: int
    signature: bytes
    global_model_hash: bytes | None = None
    #: The differential privacy the update declared, in the ledger's units (bcfl.chain.privacy).
    epsilon_spent: int = NOT_PRIVATE
    delta_spent: int = 0


def claim_of_proof(proof: UpdateProof, consortium: Consortium) -> Claim:
    """The claim in a node's proof, which must be of this deployment."""
    if proof.domain() != consortium.ledger.domain():
        raise UpdateProofError(
            f"the proof was signed for the RoundLedger {proof.ledger} on chain {proof.chain_id}, not this "
            f"deployment's {consortium.ledger.address} on chain {consortium.client.chain_id}: "
            "give the manifest of the consortium the hospital trained for"
        )
    signed = proof.signed()
    update = signed.update
    return Claim(
        update.round,
        update.update_hash,
        update.num_examples,
        signed.signature,
        update.global_model_hash,
        update.epsilon_spent,
        update.delta_spent,
    )


def register_update(consortium: Consortium, sender: LocalAccount, claim: Claim) -> dict[str, Any]:
    """Register ``claim`` from ``sender``'s key after the checks the contract makes; what was
    registered (or found registered already, the same update: then nothing is sent)."""
    ledger = consortium.ledger
    record = ledger.get_round(claim.round)
    if record.status is not RoundStatus.OPEN:
        state = "was never opened" if record.status is RoundStatus.NONE else "is finalized"
        raise ChainError(f"round {claim.round} {state}: an update is registered only while its round is open")
    if claim.global_model_hash is not None and claim.global_model_hash != record.global_model_hash:
        raise ChainError(
            f"the update was signed over global model 0x{claim.global_model_hash.hex()}, but round "
            f"{claim.round} started from 0x{record.global_model_hash.hex()}: it cannot be registered for it"
        )
    if claim.num_examples <= 0 or not any(claim.update_hash):
        raise ChainError("an update needs a non-zero hash and at least one example")
    try:
        update = ModelUpdate(
            claim.round,
            record.global_model_hash,
            claim.update_hash,
            claim.num_examples,
            claim.epsilon_spent,
            claim.delta_spent,
        )
        signed = from_compact(update, to_compact(claim.signature))
        signer = recover_signer(ledger.domain(), signed)
    except ValueError as exc:
        raise ChainError(f"the signature is not usable: {exc}") from None
    member_id = consortium.registry.active_member_id_of(signer)
    if member_id == 0:
        raise ChainError(
            f"the signature recovers to {signer}, which is no active member's key: check the round, update "
            "hash, example count, ε and δ spent and signature (all as the node signed them) and the manifest"
        )
    result = {
        "round": claim.round,
        "member_id": member_id,
        "signer": signer,
        "sender": sender.address,
        "update_hash": claim.update_hash,
        "num_examples": claim.num_examples,
    }
    registered = ledger.updates(round_number=claim.round, member_id=member_id)
    if registered:
        if registered[0].update_hash != claim.update_hash:
            raise ChainError(
                f"member {member_id} already has update 0x{registered[0].update_hash.hex()} registered in "
                f"round {claim.round} (tx {registered[0].tx_hash}): the ledger takes one update per member"
            )
        return {**result, "tx_hash": registered[0].tx_hash, "already_registered": True}
    receipt = ledger.register_updates(sender, claim.round, [signed])
    skipped = ledger.skipped_in(receipt)
    if skipped:
        raise ChainError(
            f"the RoundLedger skipped the update ({skipped[0].reason.text}) in tx {skipped[0].tx_hash}"
        )
    return {**result, "tx_hash": receipt["transactionHash"].to_0x_hex(), "already_registered": False}


def register(
    manifest: ManifestPath,
    proof: Annotated[
        Path | None, typer.Option(help="The update's proof, as the hospital node kept it (a JSON file).")
    ] = None,
    round_number: Annotated[int | None, typer.Option("--round", help="Chain round of the update.")] = None,
    update_hash: Annotated[str | None, typer.Option(help="0x-hex hash of the update.")] = None,
    examples: Annotated[int | None, typer.Option(help="Training examples, as signed.")] = None,
    signature: Annotated[
        str | None, typer.Option(help="0x-hex signature: 64-byte compact or 65-byte r,s,v.")
    ] = None,
    epsilon_spent: Annotated[
        int,
        typer.Option(
            min=0,
            max=NOT_PRIVATE,
            help="ε the update spent, in the ledger's units (1e-6), as signed; default: no DP.",
        ),
    ] = NOT_PRIVATE,
    delta_spent: Annotated[
        int, typer.Option(min=0, max=NOT_PRIVATE, help="δ the update spent, in 1e-18 units, as signed.")
    ] = 0,
    rpc_url: RpcUrl = DEFAULTS.rpc_url,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    key_env: KeyEnvOpt = None,
    dev_account: DevAccountOpt = None,
    fmt: Format = OutputFormat.table,
) -> None:
    """Register a member's signed update for an open round (yours, left out by the coordinator)."""
    given = [v is not None for v in (round_number, update_hash, examples, signature)]
    if not (all(given) if proof is None else not any(given)):
        raise typer.BadParameter(
            "give either --proof, or all of --round, --update-hash, --examples and --signature"
        )
    with clean_errors():
        sender = resolve_account(keystore, password_file, key_env, dev_account)
        consortium = connect(rpc_url, manifest)
        if proof is not None:
            claim = claim_of_proof(load_proof(proof), consortium)
        else:
            assert round_number is not None and examples is not None and signature is not None
            assert update_hash is not None
            claim = Claim(
                round_number,
                parse_bytes32(update_hash, "--update-hash"),
                examples,
                _hex(signature),
                epsilon_spent=epsilon_spent,
                delta_spent=delta_spent,
            )
        data = register_update(consortium, sender, claim)
    emit(data, fmt, _line)


def _hex(value: str) -> bytes:
    try:
        return bytes.fromhex(value.removeprefix("0x"))
    except ValueError:
        raise typer.BadParameter(f"--signature must be 0x-hex, got {value!r}") from None


def _line(data: dict[str, Any]) -> str:
    what = "was already registered" if data["already_registered"] else "registered"
    return (
        f"round {data['round']}: member {data['member_id']}'s update 0x{data['update_hash'].hex()} "
        f"{what} (tx {data['tx_hash']})"
    )
