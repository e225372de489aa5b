"""The doctor's checks against the chain: RPC and chain id, contract code, keystore, membership,
node key, approved apps, clock."""

from __future__ import annotations

import time

from bcfl.chain.client import ChainClient
from bcfl.chain.code import code_mismatches
from bcfl.chain.consortium import Consortium
from bcfl.chain.deployment import check_deployment
from bcfl.chain.exceptions import redact_url
from bcfl.chain.keystore import load_keystore
from bcfl.chain.manifest import DeploymentManifest
from bcfl.chain.registry import MemberStatus
from bcfl.flower.node_keys import load_node_key
from hospital_node.site.doctor import CheckError, CheckFn, Probe, Status
from hospital_node.site.key_history import dropped_by_superlink

#: Flower accepts a request signed up to 5 s ahead of the SuperLink's clock and 305 s behind it.
CLOCK_AHEAD_S = 5
CLOCK_BEHIND_S = 305


def rpc(probe: Probe) -> tuple[Status, str]:
    manifest = DeploymentManifest.load(probe.node.manifest)
    client = ChainClient(probe.config.rpc_url, retries=1)
    if client.chain_id != manifest.chain_id:
        raise CheckError(
            f"{redact_url(client.rpc_url)} is chain {client.chain_id}, but the manifest is for chain "
            f"{manifest.chain_id}: fix rpc_url in {probe.node.config_path} (or use the consortium's manifest)"
        )
    probe.found["client"] = client
    return Status.ok, f"{redact_url(client.rpc_url)} answers, chain id {client.chain_id} as in the manifest"


def contracts(probe: Probe) -> tuple[Status, str]:
    client = probe.found.get("client")
    if not isinstance(client, ChainClient):
        raise CheckError("skipped: needs the chain (see above)")
    manifest = DeploymentManifest.load(probe.node.manifest)
    check_deployment(client, manifest)
    wrong = code_mismatches(client, manifest)
    if wrong:
        raise CheckError(
            f"the code at the manifest's address of {', '.join(wrong)} is not this build's contracts: "
            "get the consortium's manifest and the bcfl version it runs"
        )
    probe.consortium = Consortium.connect(client, manifest, verify=False)
    return Status.ok, f"the code of all {len(manifest.contracts)} contracts matches this build"


def keystore(probe: Probe) -> tuple[Status, str]:
    if probe.password is None:
        raise CheckError("no keystore password to try: pass --password-file or set BCFL_KEYSTORE_PASSWORD")
    account = load_keystore(probe.node.keystore, probe.password)
    return Status.ok, f"{probe.node.keystore.name} decrypts: {account.address}"


def membership(probe: Probe) -> tuple[Status, str]:
    registry = probe.need_chain().registry
    address = probe.address()
    member_id = registry.member_id_of(address)
    if member_id == 0:
        raise CheckError(f"{address} has not asked to join: run `bcfl node join {probe.node.folder}`")
    member = registry.member(member_id)
    if member.status is MemberStatus.PENDING:
        raise CheckError(
            f"membership #{member_id} is pending ({member.approvals} approvals): wait for its approval "
            f"(`bcfl node join {probe.node.folder}` shows the status)"
        )
    if member.status is not MemberStatus.ACTIVE:
        raise CheckError(
            f"membership #{member_id} is {member.status.name.lower()}: contact the consortium admin"
        )
    if probe.need_chain().reputation.is_excluded(member_id):
        raise CheckError(
            f"membership #{member_id} is active but excluded by its reputation: its updates are not "
            "aggregated until it recovers; contact the consortium admin"
        )
    probe.member = member
    return Status.ok, f"member #{member_id} ({member.name}) is active and not excluded"


def node_key(probe: Probe) -> tuple[Status, str]:
    key = load_node_key(probe.node.node_key)
    member = probe.need_member()
    if member.node_key_fingerprint != key.fingerprint:
        raise CheckError(
            f"{probe.node.node_key.name} has fingerprint 0x{key.fingerprint.hex()}, but membership "
            f"#{member.member_id} names 0x{member.node_key_fingerprint.hex()}: "
            "use the node key you joined with, or finish its rotation with "
            f"`bcfl node rotate-key {probe.node.folder}`"
        )
    if probe.need_chain().registry.published_node_key(member.member_id) is None:
        raise CheckError(
            f"the node key is not published on chain yet: run `bcfl node join {probe.node.folder}`"
        )
    dropped = dropped_by_superlink(probe.need_chain().registry, member)
    if dropped is not None:
        raise CheckError(
            f"the SuperLink dropped this node key for good ({dropped}) and Flower never takes it back: "
            f"run `bcfl node rotate-key {probe.node.folder}`"
        )
    return Status.ok, f"node key 0x{key.fingerprint.hex()} is the member's and published on chain"


def apps(probe: Probe) -> tuple[Status, str]:
    ledger = probe.need_chain().ledger
    approved = {bytes(e.args["appHash"]) for e in ledger.events("AppApproved")}
    current = [h for h in approved if ledger.is_app_approved(h)]
    if not current:
        raise CheckError(
            "the consortium has approved no Flower App yet: the admin approves one (`bcfl app approve`)"
        )
    return Status.ok, f"{len(current)} Flower App(s) approved on chain; this node starts only those"


def clock(probe: Probe) -> tuple[Status, str]:
    client = probe.need_chain().client
    block = client.retrying("eth_getBlockByNumber", lambda: client.w3.eth.get_block("latest"))
    skew = time.time() - int(block["timestamp"])
    if skew < -CLOCK_AHEAD_S:
        return Status.warn, (
            f"this machine's clock is {-skew:.0f} s behind the chain's latest block: set it right (NTP); "
            f"Flower refuses requests signed more than {CLOCK_BEHIND_S} s in the past"
        )
    if skew > CLOCK_BEHIND_S:
        return Status.warn, (
            f"the chain's latest block is {skew:.0f} s old: a quiet chain, or this machine's clock is ahead "
            f"(check NTP: Flower refuses requests signed more than {CLOCK_AHEAD_S} s "
            "in the SuperLink's future)"
        )
    return Status.ok, f"this machine's clock is within {abs(skew):.0f} s of the chain's latest block"


CHAIN_CHECKS: list[tuple[str, CheckFn]] = [
    ("rpc", rpc),
    ("contracts", contracts),
    ("keystore", keystore),
    ("membership", membership),
    ("node key", node_key),
    ("apps", apps),
    ("clock", clock),
]
