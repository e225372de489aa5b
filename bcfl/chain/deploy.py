"""Deploy the consortium's contracts to any JSON-RPC Ethereum node and describe them in a manifest."""

from __future__ import annotations

import logging
from collections.abc import Callable

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

from bcfl.build.solc import SOLC_VERSION
from bcfl.chain.artifacts import abi_hash
from bcfl.chain.client import ChainClient
from bcfl.chain.exceptions import ChainError
from bcfl.chain.manifest import ContractRecord, DeploymentManifest, DeploymentParameters
from bcfl.chain.registry import ADMIN_ROLE, Registry

logger = logging.getLogger(__name__)

DEFAULT_PARAMETERS = DeploymentParameters(
    round_budget=1_000 * 10**18,
    initial_reputation=5_000,
    smoothing=5_000,
    exclusion_threshold=3_000,
    token_name="BCFL Reward",
    token_symbol="BCFLR",
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

    ``coordinator`` gets the coordinator role; ``admin`` (default: the deployer) ends up the only
    consortium admin: when it differs, the deployer hands its admin roles over and renounces them.
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

    registry = deploy("ConsortiumRegistry", deployer.address)
    ledger = deploy("RoundLedger", registry)
    deploy(
        "ReputationLedger",
        registry,
        ledger,
        parameters.initial_reputation,
        parameters.smoothing,
        parameters.exclusion_threshold,
    )
    distributor = deploy(
        "RewardDistributor",
        registry,
        ledger,
        parameters.token_name,
        parameters.token_symbol,
        parameters.round_budget,
    )
    # The distributor creates the token and is its only minter.
    token = client.call(client.contract("RewardDistributor", distributor).functions.token())
    records["RewardToken"] = ContractRecord(
        address=token, abi_hash=abi_hash("RewardToken"), tx_hash=records["RewardDistributor"].tx_hash
    )

    roles = Registry(client, registry)
    if coordinator is not None:
        on_step("granting the coordinator role")
        roles.grant_coordinator(deployer, coordinator)
    final_admin = admin or deployer.address
    if final_admin.lower() != deployer.address.lower():
        on_step("handing the admin role over")
        roles.grant_role(deployer, ADMIN_ROLE, final_admin)
        roles.renounce_role(deployer, ADMIN_ROLE)
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
