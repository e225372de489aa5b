"""A SuperLink over TLS with SuperNode authentication behind the Fleet gateway, as the demo starts them
(bcfl.demo.topology), with a CA, a server certificate and a node key per named node: the shared
fixture of the Flower tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bcfl.chain.anvil import free_port
from bcfl.demo.processes import FlowerDeployment, ManagedProcess, base_env
from bcfl.demo.tls_setup import prepare_tls
from bcfl.demo.topology import (
    GATEWAY,
    LocalLayout,
    Plan,
    fleet_gateway,
    local_folders,
    superlink,
    supernode,
    supernode_name,
    tls_names,
)
from bcfl.flower.certs import CA_CERT
from bcfl.flower.control import ControlClient
from bcfl.flower.node_keys import NODE_KEY, NodeKey, ensure_node_key


@dataclass
class TlsStack:
    """The running SuperLink and gateway, and what the nodes need to reach them."""

    flower: FlowerDeployment
    layout: LocalLayout
    plan: Plan
    ca: Path
    keys: dict[str, NodeKey]
    superlink: ManagedProcess
    run_dir: Path

    @property
    def superlink_address(self) -> str:
        return self.layout.address("superlink", self.plan.superlink_port)

    @property
    def gateway_port(self) -> int:
        return self.layout.ports[GATEWAY]

    def control(self) -> ControlClient:
        return ControlClient(self.superlink_address, self.ca)

    def start_node(self, name: str) -> ManagedProcess:
        return self.flower.start(supernode(self.layout, self.plan, name, f'node-name="{name}"'))


S = TypeVar("S", bound=TlsStack)


@contextmanager
def tls_stack(kind: type[S], run_dir: Path, nodes: list[str]) -> Iterator[S]:
    """A ``kind`` of :class:`TlsStack` in ``run_dir`` with a node key for each of ``nodes``; stopped after."""
    ports = {
        "superlink": free_port(),
        GATEWAY: free_port(),
        **{supernode_name(n): free_port() for n in nodes},
    }
    layout = LocalLayout(local_folders(run_dir, nodes), ports)
    plan = Plan(0, 1, ports["superlink"], rounds="0")
    folders = [layout.folders[f"hospital-{n}"] for n in nodes]
    prepare_tls(
        layout.folders["tls"], tls_names(layout, plan), layout.folders["consortium-ca"], folders, "test"
    )
    keys = {n: ensure_node_key(folder / NODE_KEY) for n, folder in zip(nodes, folders, strict=True)}
    flower = FlowerDeployment(run_dir / "logs", base_env(run_dir / "flwr-home"), layout, plan, ports)
    try:
        link = flower.start(superlink(layout, plan))
        flower.start(fleet_gateway(layout, plan))
        yield kind(flower, layout, plan, layout.folders["consortium-ca"] / CA_CERT, keys, link, run_dir)
    finally:
        flower.stop()
