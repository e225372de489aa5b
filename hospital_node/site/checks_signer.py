"""The doctor's check of the node's signing agent: when it runs, that it answers on its socket with
the keystore's address and the manifest's ledger domain; when it does not, only where it will listen
(``bcfl node start`` starts it)."""

from __future__ import annotations

from bcfl.chain.manifest import DeploymentManifest
from hospital_node.signer.client import SignerClient
from hospital_node.signer.location import socket_path
from hospital_node.site.doctor import CheckError, CheckFn, Probe, Status
from hospital_node.site.processes import SIGNER, running_pid


def signer(p: Probe) -> tuple[Status, str]:
    path = socket_path(p.node.folder)
    pid = running_pid(p.node, SIGNER)
    if pid is None:
        return Status.ok, f"not running; `bcfl node start` starts it on {path}"
    agent = SignerClient(path, connect_timeout=2.0, reply_timeout=10.0).identity()
    address = p.address()
    if agent.address.lower() != address.lower():
        raise CheckError(
            f"the signing agent (pid {pid}) signs as {agent.address}, not as this folder's key {address}: "
            f"restart the node (`bcfl node stop {p.node.folder}`, then `bcfl node start`)"
        )
    manifest = DeploymentManifest.load(p.node.manifest)
    ledger = manifest.address("RoundLedger")
    if (
        agent.domain.chain_id != manifest.chain_id
        or agent.domain.verifying_contract.lower() != ledger.lower()
    ):
        raise CheckError(
            f"the signing agent (pid {pid}) signs for another ledger (chain {agent.domain.chain_id}, "
            f"{agent.domain.verifying_contract}) than the manifest's: restart the node"
        )
    return Status.ok, f"running (pid {pid}) on {path}, signing as {agent.address}"


SIGNER_CHECKS: list[tuple[str, CheckFn]] = [("signer", signer)]
