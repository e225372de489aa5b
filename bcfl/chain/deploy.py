"""Deploy the consortium's contracts to any JSON-RPC Ethereum node and describe them in a manifest."""

from __future__ import annotations

import logging
from collections.abc import Callable

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from bcfl.build.solc import SOLC_VERSION
from bcfl.chain.artifacts import abi_hash
from bcfl.chain.client import ChainClient
from bcfl.chain.exceptions import ChainError
from bcfl.chain.manifest import ContractRecord, DeploymentManifest, DeploymentParameters
from bcfl.chain.privacy import NO_BUDGET

logger = logging.getLogger(__name__)
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"

DEFAULT_PARAMETERS = DeploymentParameters(
    round_budget=1_000 * 10**18,
    initial_reputation=5_000,
    smoothing=5_000,
    exclusion_threshold=3_000,
    token_name="BCFL Reward",
    token_symbol="BCFLR",
    admin_delay_s=86_400,
    min_participants=2,
    mint_window_blocks=100,
    mint_limit=10 * 1_000 * 10**18,
    privacy_epsilon=NO_BUDGET.epsilon,
    privacy_delta=NO_BUDGET.delta,
)


def deploy_consortium(
    client: ChainClient,
    deployer: LocalAccount,
    *,
    coordinator: str | None = None,
    admin: str | None = None,
    parameters: DeploymentParameters = DEFAULT_PARAMETERS,
    on_step: Callable[[str], None] = lambda _step: None,
) -> DeploymentManifest:
    """Deploy every contract, wire roles, and return the manifest (not yet saved).

    ``coordinator`` gets the coordinator role and ``admin`` (default: the deployer) the admin role, both
    in the registry's constructor, so the deployer keeps no role when it is neither. The RoundLedger is
    given the ReputationLedger's address before it exists (the deployer's next contract address).
    """
    coordinator = _checksum(coordinator, "coordinator")
    admin = _checksum(admin, "admin")
    blocks: list[int] = []
    records: dict[str, ContractRecord] = {}

    def deploy(name: str, *args: object) -> ChecksumAddress:
        on_step(f"deploying {name}")
        address, receipt = client.deploy(name, deployer, *args)
        records[name] = ContractRecord(
            address=address, abi_hash=abi_hash(name), tx_hash=receipt["transactionHash"].to_0x_hex()
        )
        blocks.append(receipt["blockNumber"])
        logger.info("deployed %s at %s (gas %d)", name, address, receipt["gasUsed"])
        return address

    final_admin = admin or deployer.address
    registry = deploy(
        "ConsortiumRegistry", parameters.admin_delay_s, final_admin, coordinator or ZERO_ADDRESS
    )
    nonce = client.w3.eth.get_transaction_count(deployer.address, "pending")
    predicted = create_address(deployer.address, nonce + 1)
    ledger = deploy("RoundLedger", registry, predicted, parameters.privacy_budget.as_tuple())
    reputation = deploy(
        "ReputationLedger",
        registry,
        ledger,
        parameters.initial_reputation,
        parameters.smoothing,
        parameters.exclusion_threshold,
    )
    if reputation != predicted:
        raise ChainError(
            f"the ReputationLedger landed at {reputation}, not at {predicted} as the RoundLedger was told: "
            "another transaction from the deployer's key interleaved; deploy again with an idle key"
        )
    distributor = deploy(
        "RewardDistributor",
        registry,
        ledger,
        parameters.token_name,
        parameters.token_symbol,
        parameters.round_budget,
        parameters.min_participants,
        parameters.mint_window_blocks,
        parameters.mint_limit,
    )
    # The distributor creates the token and is its only minter.
    token = client.call(client.contract("RewardDistributor", distributor).functions.token())
    records["RewardToken"] = ContractRecord(
        address=token, abi_hash=abi_hash("RewardToken"), tx_hash=records["RewardDistributor"].tx_hash
    )

    return DeploymentManifest(
        chain_id=client.chain_id,
        deployment_block=min(blocks),
        deployer=deployer.address,
        admin=final_admin,
        coordinator=coordinator,
        solc_version=SOLC_VERSION,
        parameters=parameters,
        contracts=records,
    )


def _checksum(address: str | None, role: str) -> str | None:
    if address is None:
        return None
    try:
        return to_checksum_address(address)
    except ValueError:
        raise ChainError(f"the {role} address {address!r} is not a 20-byte 0x-hex address") from None


def create_address(sender: str, nonce: int) -> ChecksumAddress:
    """The address of the contract ``sender`` creates with transaction ``nonce`` (CREATE:
    keccak256(rlp([sender, nonce]))[12:], the list is always shorter than 56 bytes)."""
    if nonce == 0:
        nonce_rlp = b"\x80"
    elif nonce < 0x80:
        nonce_rlp = bytes([nonce])
    else:
        raw = nonce.to_bytes((nonce.bit_length() + 7) // 8, "big")
        nonce_rlp = bytes([0x80 + len(raw)]) + raw
    payload = b"\x94" + bytes.fromhex(sender.removeprefix("0x")) + nonce_rlp
    return to_checksum_address(keccak(bytes([0xC0 + len(payload)]) + payload)[12:])
