"""Shared fixtures: one real Anvil node for the session and a fresh consortium deployment per test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from bcfl.chain.anvil import AnvilNode
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.deploy import deploy_consortium
from bcfl.chain.devkeys import dev_account
from tests.chain.helpers import prepare_rounds


@dataclass(frozen=True)
class Actors:
    """Anvil's public dev accounts in the roles the tests give them (TEST ONLY keys)."""

    admin: LocalAccount
    coordinator: LocalAccount
    hospitals: tuple[LocalAccount, ...]
    outsider: LocalAccount


@pytest.fixture(scope="session")
def anvil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnvilNode]:
    """A real Anvil node on a free port for the whole test session."""
    log = tmp_path_factory.mktemp("anvil") / "anvil.log"
    with AnvilNode(log_path=log) as node:
        yield node


@pytest.fixture(scope="session")
def client(anvil: AnvilNode) -> ChainClient:
    """A chain client on the session's Anvil node."""
    return ChainClient(anvil.rpc_url)


@pytest.fixture(scope="session")
def actors() -> Actors:
    """Admin, coordinator, five hospitals and an outsider, from Anvil's funded dev accounts."""
    return Actors(
        admin=dev_account(0),
        coordinator=dev_account(1),
        hospitals=tuple(dev_account(i) for i in range(2, 7)),
        outsider=dev_account(9),
    )


@pytest.fixture
def deployed(client: ChainClient, actors: Actors) -> Consortium:
    """A freshly deployed consortium as ``deploy_consortium`` leaves it: no members, no approved app,
    no lineage."""
    manifest = deploy_consortium(client, actors.admin, coordinator=actors.coordinator.address)
    return Consortium.connect(client, manifest)


@pytest.fixture
def consortium(deployed: Consortium, actors: Actors) -> Consortium:
    """A freshly deployed consortium ready for rounds (no members yet): the admin approved the test
    app (``TEST_APP``) and started a lineage from ``GENESIS``."""
    prepare_rounds(deployed, actors.admin)
    return deployed


@pytest.fixture
def members(consortium: Consortium, actors: Actors) -> list[int]:
    """The first three hospitals admitted as active members; their member ids."""
    ids = []
    for index, hospital in enumerate(actors.hospitals[:3]):
        member_id = consortium.registry.request_membership(hospital, f"Hospital {index + 1}")
        consortium.registry.approve(actors.admin, member_id)
        ids.append(member_id)
    return ids


@pytest.fixture
def repo_root() -> Path:
    """The source checkout."""
    return Path(__file__).resolve().parent.parent
