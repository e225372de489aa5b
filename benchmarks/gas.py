"""Gas of deployment and of every consortium operation, and of update registration by batch size."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from eth_account import Account
from eth_account.signers.local import LocalAccount

from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.deploy import DEFAULT_PARAMETERS, deploy_consortium
from bcfl.chain.eip712 import ModelUpdate, sign_update
from bcfl.chain.fingerprints import node_key_fingerprint, openssh_key_blob
from bcfl.chain.privacy import PrivacyBudget, epsilon_units

BATCH_SIZES = (1, 10, 100)
#: The deployment's privacy budget and what each update declares: ε = 0.25 at δ = 1e-5, as a hospital
#: training with DP-SGD signs it (a realistic calldata size).
BUDGET = PrivacyBudget.of(100.0, 1e-5)
EPSILON, DELTA = epsilon_units(0.25), BUDGET.delta
#: What the admin pins as the SuperLink's endpoint (a typical length).
SUPERLINK_ENDPOINT = "superlink.consortium.example:9093"


@dataclass
class GasReport:
    """Measured gas, by deployment step and operation, and per update by batch size."""

    deployment: dict[str, int] = field(default_factory=dict)
    operations: dict[str, int] = field(default_factory=dict)
    per_update: dict[int, float] = field(default_factory=dict)
    #: open + register + score + finalize + pay, by number of members in the round.
    per_round: dict[int, int] = field(default_factory=dict)
    #: Gas per update of a batch of the largest size in a later round of the lineage, where every
    #: member's cumulative ε is already stored (the batch sizes above are mostly first updates).
    later_round: float = 0.0


def measure_gas(
    client: ChainClient,
    admin: LocalAccount,
    coordinator: LocalAccount,
    progress: Callable[[str, int], None] = lambda _what, _n: None,
) -> GasReport:
    """Deploy a consortium, admit ``max(BATCH_SIZES)`` hospitals and measure each operation's gas.

    The deployment pays rounds of a single participant (``min_participants`` 1) so that every batch
    size is measured the same way; the default deployment needs two.
    """
    report = GasReport()
    parameters = DEFAULT_PARAMETERS.model_copy(
        update={"min_participants": 1, "privacy_epsilon": BUDGET.epsilon, "privacy_delta": BUDGET.delta}
    )
    manifest = deploy_consortium(client, admin, coordinator=coordinator.address, parameters=parameters)
    seen: dict[str, str] = {}
    for name, record in manifest.contracts.items():
        if record.tx_hash in seen:  # created inside another contract's deployment (the token)
            report.deployment[f"{name} (created by {seen[record.tx_hash]}, included there)"] = 0
            continue
        seen[record.tx_hash] = name
        receipt = client.w3.eth.get_transaction_receipt(record.tx_hash)  # type: ignore[arg-type]
        report.deployment[name] = receipt["gasUsed"]
    consortium = Consortium.connect(client, manifest)
    hospitals = [Account.create() for _ in range(max(BATCH_SIZES))]
    member_ids: list[int] = []
    # The first hospital names and publishes a real Flower node key (ECDSA P-384, a 136-byte blob).
    node_key = ec.generate_private_key(ec.SECP384R1()).public_key()
    node_key_line = node_key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    for index, hospital in enumerate(hospitals):
        client.transfer(admin, hospital.address, 10**17)
        before = client.block_number()
        fingerprint = node_key_fingerprint(node_key_line) if index == 0 else os.urandom(32)
        member_id = consortium.registry.request_membership(hospital, f"Hospital {index + 1}", fingerprint)
        receipt = consortium.registry.approve(admin, member_id)
        member_ids.append(member_id)
        if index == 0:
            report.operations["requestMembership"] = _gas_of_block(client, before + 1)
            report.operations["approveMembership"] = receipt["gasUsed"]
            published = consortium.registry.publish_node_key(hospital, openssh_key_blob(node_key_line))
            report.operations["publishNodeKey (136-byte P-384 key)"] = published["gasUsed"]
        progress("admitting hospitals", 1)
    pinned = consortium.registry.set_superlink_certificate(admin, os.urandom(32), SUPERLINK_ENDPOINT)
    report.operations["setSuperLinkCertificate"] = pinned["gasUsed"]
    ledger = consortium.ledger
    domain = ledger.domain()
    app_hash = os.urandom(32)
    report.operations["approveApp"] = ledger.approve_app(admin, app_hash)["gasUsed"]
    global_hash = os.urandom(32)
    report.operations["startLineage"] = ledger.start_lineage(admin, global_hash, "gas benchmark")["gasUsed"]
    for size in (*BATCH_SIZES, BATCH_SIZES[-1]):
        round_number = ledger.open_round(coordinator, global_hash, os.urandom(32), app_hash)
        opened = _last_gas(client)
        if size == BATCH_SIZES[0]:
            report.operations["openRound"] = opened
        signed = [
            sign_update(
                h, domain, ModelUpdate(round_number, global_hash, os.urandom(32), 100 + i, EPSILON, DELTA)
            )
            for i, h in enumerate(hospitals[:size])
        ]
        registered = ledger.register_updates(coordinator, round_number, signed)["gasUsed"]
        if size in report.per_update:  # the second round of the largest batch
            report.later_round = registered / size
            progress("measuring rounds", 1)
            break
        report.per_update[size] = registered / size
        report.operations[f"registerUpdates (batch of {size})"] = registered
        ids = member_ids[:size]
        scored = consortium.reputation.record_scores(coordinator, round_number, ids, [7_000] * size)[
            "gasUsed"
        ]
        report.operations[f"recordScores ({size} members)"] = scored
        global_hash = os.urandom(32)
        finalized = ledger.finalize_round(
            coordinator, round_number, global_hash, os.urandom(32), ids, [1] * size
        )["gasUsed"]
        report.operations[f"finalizeRound ({size} participants)"] = finalized
        paid = consortium.distributor.pay_round(coordinator, round_number, ids, [10**18] * size)["gasUsed"]
        report.operations[f"payRound ({size} members)"] = paid
        report.per_round[size] = opened + registered + scored + finalized + paid
        progress("measuring rounds", 1)
    return report


def _gas_of_block(client: ChainClient, block: int) -> int:
    total: int = client.w3.eth.get_block(block)["gasUsed"]
    return total


def _last_gas(client: ChainClient) -> int:
    return _gas_of_block(client, client.block_number())
