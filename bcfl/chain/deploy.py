"""Deploy the consortium's contracts to any JSON-RPC Ethereum node and describe them in a manifest."""

from __future__ import annotations

import logging
from collections.abc import Callable

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress

from bcfl.build.solc import SOLC_VERSION
from bcfl.chain.artifacts import abi_hash
from bcfl.chain.client import ChainClient
from bcfl.chain.manifest import ContractRecord, DeploymentManifest, DeploymentParameters

logger = logging.getLogger(__name__)

DEFAULT_PARAMETERS = DeploymentParameters(
    round_budget=1_000 * 10**18,
    initial_reputation=5_000,
    smoothing=3_000,
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
    deploy("ReputationLedger", registry, ledger, parameters.initial_reputation, parameters.smoothing)
    token = deploy("RewardToken", parameters.token_name, parameters.token_symbol, deployer.address)
    distributor = deploy("RewardDistributor", registry, ledger, token, parameters.round_budget)

    on_step("granting roles")
    token_contract = client.contract("RewardToken", token)
    registry_contract = client.contract("ConsortiumRegistry", registry)
    minter_role = client.call(token_contract.functions.MINTER_ROLE())
    client.transact(token_contract.functions.grantRole(minter_role, distributor), deployer)
    if coordinator is not None:
        role = client.call(registry_contract.functions.COORDINATOR_ROLE())
        client.transact(registry_contract.functions.grantRole(role, coordinator), deployer)
    final_admin = admin or deployer.address
    if final_admin.lower() != deployer.address.lower():
        admin_role = bytes(32)
        for contract in (registry_contract, token_contract):
            client.transact(contract.functions.grantRole(admin_role, final_admin), deployer)
            client.transact(contract.functions.renounceRole(admin_role, deployer.address), deployer)
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
