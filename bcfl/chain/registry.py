"""Typed access to the ConsortiumRegistry: membership, governance, roles, and what the Flower stack
trusts (members' published node keys, the SuperLink's pinned certificate)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from eth_account.signers.local import LocalAccount
from web3.types import TxReceipt

from bcfl.chain.binding import ContractBinding
from bcfl.chain.events import ChainEvent
from bcfl.chain.roles import ADMIN_ROLE as ADMIN_ROLE
from bcfl.chain.roles import COORDINATOR_ROLE as COORDINATOR_ROLE

MEMBERSHIP_EVENTS = (
    "MembershipRequested",
    "MembershipApproved",
    "MemberActivated",
    "MembershipRejected",
    "MemberSuspended",
    "MemberReinstated",
    "KeyRotationProposed",
    "SignerRotated",
    "NodeKeyUpdated",
    "NodeKeyPublished",
)


class MemberStatus(IntEnum):
    """Membership status, as in the contract."""

    NONE = 0
    PENDING = 1
    ACTIVE = 2
    SUSPENDED = 3
    REJECTED = 4


@dataclass(frozen=True)
class Member:
    """A hospital's membership record."""

    member_id: int
    signer: str
    status: MemberStatus
    approvals: int
    requested_at: int
    node_key_fingerprint: bytes
    name: str
    metadata_uri: str


@dataclass(frozen=True)
class NodeKeyPublication:
    """A member's published Flower node key: the OpenSSH wire-format blob whose SHA-256 is
    ``fingerprint`` (see :func:`bcfl.chain.fingerprints.openssh_line` for its ``.pub`` line)."""

    member_id: int
    fingerprint: bytes
    public_key: bytes
    block_number: int
    tx_hash: str
    log_index: int


class Registry(ContractBinding):
    """The membership registry."""

    CONTRACT = "ConsortiumRegistry"

    # -- hospitals --------------------------------------------------------------------------------
    def request_membership(
        self,
        hospital: LocalAccount,
        name: str,
        node_key_fingerprint: bytes = bytes(32),
        metadata_uri: str = "",
    ) -> int:
        """Ask to join with the hospital's own key; returns the new member id."""
        receipt = self._transact(hospital, "requestMembership", name, node_key_fingerprint, metadata_uri)
        member_id: int = self._receipt_events(receipt, "MembershipRequested")[0]["memberId"]
        return member_id

    def propose_key_rotation(self, hospital: LocalAccount, new_signer: str) -> TxReceipt:
        """Step 1 of a key rotation, signed by the current key."""
        return self._transact(hospital, "proposeKeyRotation", new_signer)

    def admin_propose_key_rotation(self, admin: LocalAccount, member_id: int, new_signer: str) -> TxReceipt:
        """Step 1 of a key rotation for a lost or stolen key, by the admin (suspend first if stolen)."""
        return self._transact(admin, "adminProposeKeyRotation", member_id, new_signer)

    def accept_key_rotation(self, new_key: LocalAccount, member_id: int) -> TxReceipt:
        """Step 2 of a key rotation, signed by the new key."""
        return self._transact(new_key, "acceptKeyRotation", member_id)

    def update_node_key(self, hospital: LocalAccount, node_key_fingerprint: bytes) -> TxReceipt:
        """Record a new Flower node key fingerprint."""
        return self._transact(hospital, "updateNodeKey", node_key_fingerprint)

    def publish_node_key(self, hospital: LocalAccount, public_key: bytes) -> TxReceipt:
        """Publish the member's Flower node public key (its OpenSSH wire-format blob, see
        :func:`bcfl.chain.fingerprints.openssh_key_blob`); it must hash to the member's fingerprint."""
        return self._transact(hospital, "publishNodeKey", public_key)

    # -- approval and administration ----------------------------------------------------------------
    def approve(self, approver: LocalAccount, member_id: int) -> TxReceipt:
        """Approve a pending request (the admin, or an active member in governance mode)."""
        return self._transact(approver, "approveMembership", member_id)

    def reject(self, admin: LocalAccount, member_id: int, reason: str) -> TxReceipt:
        """Reject a pending request."""
        return self._transact(admin, "rejectMembership", member_id, reason)

    def suspend(self, admin: LocalAccount, member_id: int, reason: str) -> TxReceipt:
        """Suspend an active member."""
        return self._transact(admin, "suspendMember", member_id, reason)

    def reinstate(self, admin: LocalAccount, member_id: int) -> TxReceipt:
        """Reinstate a suspended member."""
        return self._transact(admin, "reinstateMember", member_id)

    def set_governance(self, sender: LocalAccount, enabled: bool, quorum: int = 0) -> TxReceipt:
        """Switch between admin approval and ``quorum``-of-n member approval: the admin while governance
        is off; once it is on, anyone after the members approved :meth:`governance_decision`."""
        return self._transact(sender, "setGovernance", enabled, quorum)

    def set_superlink_certificate(self, sender: LocalAccount, fingerprint: bytes, endpoint: str) -> TxReceipt:
        """Pin the SuperLink's TLS certificate (SHA-256 of its DER) and the ``host:port`` SuperNodes dial:
        the admin while governance is off; once it is on, anyone after the members approved
        :meth:`superlink_certificate_decision`."""
        return self._transact(sender, "setSuperLinkCertificate", fingerprint, endpoint)

    def superlink_certificate_decision(self, fingerprint: bytes, endpoint: str) -> bytes:
        """The decision id that lets the next ``setSuperLinkCertificate(fingerprint, endpoint)`` through."""
        decision: bytes = self._call("superLinkCertificateDecision", fingerprint, endpoint)
        return decision

    def approve_decision(self, member: LocalAccount, decision: bytes) -> TxReceipt:
        """Approve a consortium decision as an active member (governance mode)."""
        return self._transact(member, "approveDecision", decision)

    def support(self, member: LocalAccount, decision: bytes) -> bool:
        """Add ``member``'s approval of ``decision`` unless it has the quorum already; whether it has now."""
        if not self.is_decided(decision):
            self.approve_decision(member, decision)
        return self.is_decided(decision)

    def shortfall(self, member: LocalAccount, decision_of: Callable[[], bytes]) -> tuple[int, int] | None:
        """In governance mode, add ``member``'s approval of the decision ``decision_of()`` names:
        ``(approvals, quorum)`` while it is still short of the quorum; None when the decision can be
        carried out now (it has the quorum, or governance is off and it is the admin's call)."""
        enabled, quorum = self.governance()
        if not enabled:
            return None
        decision = decision_of()
        if self.support(member, decision):
            return None
        return self.decision_approvals(decision), quorum

    def governance_decision(self, enabled: bool, quorum: int) -> bytes:
        """The decision id that lets the next ``setGovernance(enabled, quorum)`` through."""
        decision: bytes = self._call("governanceDecision", enabled, quorum)
        return decision

    def is_decided(self, decision: bytes) -> bool:
        """Whether governance is on and ``decision`` has the quorum's approvals."""
        return bool(self._call("isDecided", decision))

    def decision_approvals(self, decision: bytes) -> int:
        """Member approvals of ``decision`` so far."""
        value: int = self._call("decisionApprovals", decision)
        return value

    def admin_transfer_decision(self, new_admin: str) -> bytes:
        """The decision id that lets :meth:`governance_transfer_admin` start a transfer to ``new_admin``."""
        decision: bytes = self._call("adminTransferDecision", new_admin)
        return decision

    def governance_transfer_admin(self, sender: LocalAccount, new_admin: str) -> TxReceipt:
        """Start an admin transfer to ``new_admin`` on the members' decision (governance mode; anyone
        sends it once the quorum approved :meth:`admin_transfer_decision`): a lost admin key's recovery."""
        return self._transact(sender, "governanceTransferAdmin", new_admin)

    def begin_admin_transfer(self, admin: LocalAccount, new_admin: str) -> TxReceipt:
        """Step 1 of an admin transfer; ``new_admin`` accepts after the delay."""
        return self._transact(admin, "beginDefaultAdminTransfer", new_admin)

    def admin_delay(self) -> int:
        """Seconds a new admin waits after a transfer starts before it may accept."""
        value: int = self._call("defaultAdminDelay")
        return value

    def accept_admin_transfer(self, new_admin: LocalAccount) -> TxReceipt:
        """Step 2 of an admin transfer, by the new admin once the delay has passed."""
        return self._transact(new_admin, "acceptDefaultAdminTransfer")

    def grant_role(self, admin: LocalAccount, role: bytes, account: str) -> TxReceipt:
        """Grant a registry role (the admin role moves only by :meth:`begin_admin_transfer`)."""
        return self._transact(admin, "grantRole", role, account)

    def revoke_role(self, admin: LocalAccount, role: bytes, account: str) -> TxReceipt:
        """Revoke a registry role."""
        return self._transact(admin, "revokeRole", role, account)

    def renounce_role(self, holder: LocalAccount, role: bytes) -> TxReceipt:
        """Give up a role the caller holds."""
        return self._transact(holder, "renounceRole", role, holder.address)

    def has_role(self, role: bytes, account: str) -> bool:
        """Whether ``account`` holds ``role``."""
        return bool(self._call("hasRole", role, account))

    def grant_coordinator(self, admin: LocalAccount, account: str) -> TxReceipt:
        """Give ``account`` the coordinator role."""
        return self._transact(admin, "grantRole", COORDINATOR_ROLE, account)

    def revoke_coordinator(self, admin: LocalAccount, account: str) -> TxReceipt:
        """Take the coordinator role from ``account``."""
        return self._transact(admin, "revokeRole", COORDINATOR_ROLE, account)

    # -- views ----------------------------------------------------------------------------------------
    def member(self, member_id: int) -> Member:
        """The record of ``member_id`` (``ConsortiumRegistryUnknownMember`` if none)."""
        signer, status, approvals, requested_at, fingerprint, name, uri = self._call("getMember", member_id)
        return Member(
            member_id, signer, MemberStatus(status), approvals, requested_at, fingerprint, name, uri
        )

    def members(self) -> list[Member]:
        """Every membership record, by id."""
        return [self.member(i) for i in range(1, self.member_count() + 1)]

    def member_id_of(self, account: str) -> int:
        """Member id held by ``account`` (0 if none)."""
        member_id: int = self._call("memberIdOf", account)
        return member_id

    def active_member_id_of(self, account: str) -> int:
        """Member id of ``account`` if it is an active member's signer, else 0."""
        member_id: int = self._call("activeMemberIdOf", account)
        return member_id

    def member_count(self) -> int:
        """Number of membership records."""
        count: int = self._call("memberCount")
        return count

    def active_member_count(self) -> int:
        """Number of active members."""
        count: int = self._call("activeMemberCount")
        return count

    def governance(self) -> tuple[bool, int]:
        """Whether governance mode is on, and its quorum."""
        enabled, quorum = self._call("governance")
        return bool(enabled), int(quorum)

    def node_key_holder(self, fingerprint: bytes) -> int:
        """The member whose published node key has ``fingerprint`` (0 if none published it): a node key
        belongs to the first member that published it, unless that member was rejected."""
        member_id: int = self._call("nodeKeyHolder", fingerprint)
        return member_id

    def superlink_certificate(self) -> tuple[bytes, str]:
        """The pinned SuperLink certificate's fingerprint and endpoint (zero bytes and ``""`` if unset)."""
        fingerprint, endpoint = self._call("superLinkCertificate")
        return bytes(fingerprint), str(endpoint)

    def is_coordinator(self, account: str) -> bool:
        """Whether ``account`` holds the coordinator role."""
        return self.has_role(COORDINATOR_ROLE, account)

    def is_admin(self, account: str) -> bool:
        """Whether ``account`` is a consortium admin."""
        return self.has_role(ADMIN_ROLE, account)

    def signer_of(self, member_id: int) -> str:
        """Current signing key of a member (the zero address for an unknown id)."""
        signer: str = self._call("signerOf", member_id)
        return signer

    def pending_signer_of(self, member_id: int) -> str:
        """Key proposed in a rotation not yet accepted (the zero address if none)."""
        signer: str = self._call("pendingSignerOf", member_id)
        return signer

    def has_approved(self, member_id: int, approver_id: int) -> bool:
        """Whether ``approver_id`` approved ``member_id``'s pending request."""
        return bool(self._call("hasApproved", member_id, approver_id))

    def membership_history(
        self, member_id: int | None = None, from_block: int | None = None, to_block: int | None = None
    ) -> list[ChainEvent]:
        """Every membership event (optionally of one member), in chain order."""
        filters = None if member_id is None else {"memberId": member_id}
        found = [
            e
            for name in MEMBERSHIP_EVENTS
            for e in self.events(name, filters=filters, from_block=from_block, to_block=to_block)
        ]
        return sorted(found, key=lambda e: (e.block_number, e.log_index))

    def node_key_publications(
        self,
        member_id: int | None = None,
        fingerprint: bytes | None = None,
        from_block: int | None = None,
        to_block: int | None = None,
    ) -> list[NodeKeyPublication]:
        """Every ``NodeKeyPublished`` (optionally of one member and/or one fingerprint), in chain order."""
        filters: dict[str, object] = {}
        if member_id is not None:
            filters["memberId"] = member_id
        if fingerprint is not None:
            filters["fingerprint"] = fingerprint
        found = self.events("NodeKeyPublished", filters=filters, from_block=from_block, to_block=to_block)
        return [
            NodeKeyPublication(
                member_id=int(e.args["memberId"]),
                fingerprint=bytes(e.args["fingerprint"]),
                public_key=bytes(e.args["publicKey"]),
                block_number=e.block_number,
                tx_hash=e.tx_hash,
                log_index=e.log_index,
            )
            for e in sorted(found, key=lambda e: (e.block_number, e.log_index))
        ]

    def published_node_key(self, member_id: int) -> bytes | None:
        """The node key ``member_id`` published for its current fingerprint (None if it has not; the
        registry refuses to publish a key another member holds, see :meth:`node_key_holder`)."""
        fingerprint = self.member(member_id).node_key_fingerprint
        found = self.node_key_publications(member_id, fingerprint)
        return found[-1].public_key if found else None

    def published_node_keys(self) -> dict[int, bytes]:
        """Each member's node key published for its current fingerprint, whatever its status (one log
        query); members that have not published theirs are absent."""
        current = {m.member_id: m.node_key_fingerprint for m in self.members()}
        return {
            p.member_id: p.public_key
            for p in self.node_key_publications()
            if current.get(p.member_id) == p.fingerprint
        }
