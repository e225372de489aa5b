"""ConsortiumRegistry: membership life cycle, key rotation, governance and roles, on a real Anvil."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from bcfl.chain import errors
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.deploy import DEFAULT_PARAMETERS, deploy_consortium
from bcfl.chain.registry import ADMIN_ROLE, COORDINATOR_ROLE, MemberStatus
from tests.chain.helpers import advance_time, fresh_account, fund, funded_accounts, h, names
from tests.conftest import Actors

ZERO_ADDRESS = "0x" + "00" * 20


def pending_signer_of(consortium: Consortium, member_id: int) -> str:
    """The key proposed for ``member_id`` and not yet accepted."""
    registry = consortium.registry
    signer: str = registry.client.call(registry.contract.functions.pendingSignerOf(member_id))
    return signer


def has_approved(consortium: Consortium, member_id: int, approver_id: int) -> bool:
    """Whether ``approver_id`` approved ``member_id``'s pending request."""
    registry = consortium.registry
    return bool(registry.client.call(registry.contract.functions.hasApproved(member_id, approver_id)))


# -- requests --------------------------------------------------------------------------------------
def test_request_membership_records_a_pending_member(consortium: Consortium, actors: Actors) -> None:
    registry = consortium.registry
    hospital = actors.hospitals[0]
    fingerprint = h("node key")
    member_id = registry.request_membership(hospital, "St. Mary", fingerprint, "ipfs://meta")

    assert member_id == 1
    member = registry.member(member_id)
    assert member.signer == hospital.address
    assert member.status is MemberStatus.PENDING
    assert member.approvals == 0
    assert member.node_key_fingerprint == fingerprint
    assert (member.name, member.metadata_uri) == ("St. Mary", "ipfs://meta")
    latest = consortium.client.w3.eth.get_block("latest")
    assert member.requested_at == latest["timestamp"]
    assert registry.member_count() == 1
    assert registry.active_member_count() == 0
    assert registry.member_id_of(hospital.address) == member_id
    assert registry.active_member_id_of(hospital.address) == 0
    assert registry.member_id_of(actors.outsider.address) == 0

    (event,) = registry.events("MembershipRequested")
    assert event.args == {
        "memberId": member_id,
        "signer": hospital.address,
        "name": "St. Mary",
        "nodeKeyFingerprint": fingerprint,
        "metadataURI": "ipfs://meta",
    }


def test_member_ids_are_sequential_from_one(consortium: Consortium, actors: Actors) -> None:
    ids = [consortium.registry.request_membership(k, f"H{i}") for i, k in enumerate(actors.hospitals)]
    assert ids == [1, 2, 3, 4, 5]
    assert [m.member_id for m in consortium.registry.members()] == ids
    assert [m.signer for m in consortium.registry.members()] == [k.address for k in actors.hospitals]


def test_request_twice_reverts(consortium: Consortium, actors: Actors) -> None:
    hospital = actors.hospitals[0]
    member_id = consortium.registry.request_membership(hospital, "Hospital")
    with pytest.raises(errors.ConsortiumRegistryAlreadyRegistered) as exc:
        consortium.registry.request_membership(hospital, "Hospital again")
    assert exc.value.args_by_name == {"account": hospital.address, "memberId": member_id}

    consortium.registry.approve(actors.admin, member_id)
    with pytest.raises(errors.ConsortiumRegistryAlreadyRegistered) as exc:
        consortium.registry.request_membership(hospital, "Hospital once more")
    assert exc.value.args_by_name["memberId"] == member_id
    assert consortium.registry.member_count() == 1


def test_empty_name_reverts(consortium: Consortium, actors: Actors) -> None:
    with pytest.raises(errors.ConsortiumRegistryEmptyName):
        consortium.registry.request_membership(actors.hospitals[0], "")
    assert consortium.registry.member_count() == 0


# -- admin approval --------------------------------------------------------------------------------
def test_admin_approval_activates(consortium: Consortium, actors: Actors) -> None:
    registry = consortium.registry
    hospital = actors.hospitals[0]
    member_id = registry.request_membership(hospital, "Hospital")
    registry.approve(actors.admin, member_id)

    assert registry.member(member_id).status is MemberStatus.ACTIVE
    assert registry.active_member_id_of(hospital.address) == member_id
    assert registry.active_member_count() == 1
    (event,) = registry.events("MemberActivated")
    assert event.args == {"memberId": member_id, "signer": hospital.address}
    # Admin approvals are not member approvals: no MembershipApproved event, no count.
    assert registry.events("MembershipApproved") == []
    assert registry.member(member_id).approvals == 0


def test_approve_by_non_admin_reverts(consortium: Consortium, actors: Actors) -> None:
    registry = consortium.registry
    active = actors.hospitals[1]
    registry.approve(actors.admin, registry.request_membership(active, "Active"))
    applicant = actors.hospitals[0]
    member_id = registry.request_membership(applicant, "Applicant")
    # Outside governance mode, an active member is no approver either.
    for caller in (actors.coordinator, actors.outsider, applicant, active):
        with pytest.raises(errors.AccessControlUnauthorizedAccount) as exc:
            registry.approve(caller, member_id)
        assert exc.value.args_by_name == {"account": caller.address, "neededRole": ADMIN_ROLE}
    assert registry.member(member_id).status is MemberStatus.PENDING
    assert registry.events("MembershipApproved") == []


def test_unknown_member_reverts_everywhere(consortium: Consortium, actors: Actors) -> None:
    registry = consortium.registry
    registry.request_membership(actors.hospitals[0], "Only member")
    calls: list[Callable[[int], object]] = [
        lambda m: registry.approve(actors.admin, m),
        lambda m: registry.reject(actors.admin, m, "no"),
        lambda m: registry.suspend(actors.admin, m, "no"),
        lambda m: registry.reinstate(actors.admin, m),
        registry.member,
    ]
    for member_id in (0, 2, 2**64 - 1):
        for call in calls:
            with pytest.raises(errors.ConsortiumRegistryUnknownMember) as exc:
                call(member_id)
            assert exc.value.args_by_name == {"memberId": member_id}


def test_wrong_status_reverts(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    registry = consortium.registry
    active = members[0]
    pending = registry.request_membership(actors.hospitals[3], "Pending")
    cases: list[tuple[Callable[[], object], int, MemberStatus]] = [
        (lambda: registry.approve(actors.admin, active), active, MemberStatus.ACTIVE),
        (lambda: registry.reject(actors.admin, active, "late"), active, MemberStatus.ACTIVE),
        (lambda: registry.reinstate(actors.admin, active), active, MemberStatus.ACTIVE),
        (lambda: registry.suspend(actors.admin, pending, "early"), pending, MemberStatus.PENDING),
        (lambda: registry.reinstate(actors.admin, pending), pending, MemberStatus.PENDING),
    ]
    for call, member_id, status in cases:
        with pytest.raises(errors.ConsortiumRegistryInvalidStatus) as exc:
            call()
        assert exc.value.args_by_name == {"memberId": member_id, "status": int(status)}

    registry.suspend(actors.admin, active, "audit")
    with pytest.raises(errors.ConsortiumRegistryInvalidStatus) as exc:
        registry.suspend(actors.admin, active, "again")
    assert exc.value.args_by_name["status"] == MemberStatus.SUSPENDED
    with pytest.raises(errors.ConsortiumRegistryInvalidStatus) as exc:
        registry.approve(actors.admin, active)
    assert exc.value.args_by_name["status"] == MemberStatus.SUSPENDED


# -- rejection -------------------------------------------------------------------------------------
def test_reject_then_request_again_with_the_same_key(consortium: Consortium, actors: Actors) -> None:
    registry = consortium.registry
    hospital = actors.hospitals[0]
    first = registry.request_membership(hospital, "First try")
    registry.reject(actors.admin, first, "missing paperwork")

    assert registry.member(first).status is MemberStatus.REJECTED
    assert registry.member_id_of(hospital.address) == 0
    (event,) = registry.events("MembershipRejected")
    assert event.args == {"memberId": first, "reason": "missing paperwork"}
    with pytest.raises(errors.ConsortiumRegistryInvalidStatus) as exc:
        registry.approve(actors.admin, first)
    assert exc.value.args_by_name == {"memberId": first, "status": MemberStatus.REJECTED}

    second = registry.request_membership(hospital, "Second try")
    assert second == first + 1
    assert registry.member_id_of(hospital.address) == second
    registry.approve(actors.admin, second)
    assert registry.active_member_id_of(hospital.address) == second
    # The rejected record stays as it was, for the audit trail.
    old = registry.member(first)
    assert (old.status, old.signer, old.name) == (MemberStatus.REJECTED, hospital.address, "First try")
    assert registry.active_member_count() == 1


@pytest.mark.parametrize("action", ["reject", "suspend", "reinstate"])
def test_admin_actions_need_the_admin(consortium: Consortium, actors: Actors, action: str) -> None:
    registry = consortium.registry
    member_id = registry.request_membership(actors.hospitals[0], "Hospital")
    if action != "reject":
        registry.approve(actors.admin, member_id)
    if action == "reinstate":
        registry.suspend(actors.admin, member_id, "audit")
    before = registry.member(member_id).status
    for caller in (actors.coordinator, actors.hospitals[0], actors.outsider):
        with pytest.raises(errors.AccessControlUnauthorizedAccount) as exc:
            if action == "reject":
                registry.reject(caller, member_id, "no")
            elif action == "suspend":
                registry.suspend(caller, member_id, "no")
            else:
                registry.reinstate(caller, member_id)
        assert exc.value.args_by_name == {"account": caller.address, "neededRole": ADMIN_ROLE}
    assert registry.member(member_id).status is before


# -- suspension ------------------------------------------------------------------------------------
def test_suspend_and_reinstate(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    registry = consortium.registry
    member_id, key = members[1], actors.hospitals[1]
    assert registry.active_member_count() == 3

    registry.suspend(actors.admin, member_id, "data leak under review")
    assert registry.member(member_id).status is MemberStatus.SUSPENDED
    assert registry.active_member_id_of(key.address) == 0
    assert registry.member_id_of(key.address) == member_id
    assert registry.active_member_count() == 2
    with pytest.raises(errors.ConsortiumRegistryAlreadyRegistered):
        registry.request_membership(key, "Sneaking back in")

    registry.reinstate(actors.admin, member_id)
    assert registry.member(member_id).status is MemberStatus.ACTIVE
    assert registry.active_member_id_of(key.address) == member_id
    assert registry.active_member_count() == 3

    (suspended,) = registry.events("MemberSuspended")
    assert suspended.args == {"memberId": member_id, "reason": "data leak under review"}
    (reinstated,) = registry.events("MemberReinstated")
    assert reinstated.args == {"memberId": member_id}
    assert suspended.block_number < reinstated.block_number


# -- key rotation ----------------------------------------------------------------------------------
def test_key_rotation_two_steps(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    registry = consortium.registry
    member_id, old_key, new_key = members[0], actors.hospitals[0], actors.hospitals[4]

    registry.propose_key_rotation(old_key, new_key.address)
    assert pending_signer_of(consortium, member_id) == new_key.address
    # Nothing changes until the new key accepts.
    assert registry.member(member_id).signer == old_key.address
    assert registry.active_member_id_of(old_key.address) == member_id
    assert registry.member_id_of(new_key.address) == 0

    for wrong in (actors.hospitals[3], old_key, actors.admin):
        with pytest.raises(errors.ConsortiumRegistryNoPendingRotation) as exc:
            registry.accept_key_rotation(wrong, member_id)
        assert exc.value.args_by_name == {"memberId": member_id, "account": wrong.address}
    with pytest.raises(errors.ConsortiumRegistryNoPendingRotation) as exc:
        registry.accept_key_rotation(new_key, members[1])
    assert exc.value.args_by_name == {"memberId": members[1], "account": new_key.address}

    registry.accept_key_rotation(new_key, member_id)
    assert registry.member(member_id).signer == new_key.address
    assert registry.active_member_id_of(new_key.address) == member_id
    assert registry.member_id_of(old_key.address) == 0
    assert registry.active_member_id_of(old_key.address) == 0
    assert pending_signer_of(consortium, member_id) == ZERO_ADDRESS
    assert registry.active_member_count() == 3

    # The old key has lost the membership: it can no longer act for the member.
    with pytest.raises(errors.ConsortiumRegistryNotSigner) as exc_signer:
        registry.propose_key_rotation(old_key, actors.hospitals[3].address)
    assert exc_signer.value.args_by_name == {"memberId": 0, "account": old_key.address}
    with pytest.raises(errors.ConsortiumRegistryNotSigner):
        registry.update_node_key(old_key, h("stale"))
    # Accepting twice finds no pending rotation.
    with pytest.raises(errors.ConsortiumRegistryNoPendingRotation):
        registry.accept_key_rotation(new_key, member_id)

    (proposed,) = registry.events("KeyRotationProposed")
    assert proposed.args == {
        "memberId": member_id,
        "proposedBy": old_key.address,
        "newSigner": new_key.address,
    }
    (rotated,) = registry.events("SignerRotated")
    assert rotated.args == {
        "memberId": member_id,
        "previousSigner": old_key.address,
        "newSigner": new_key.address,
    }


def test_key_rotation_rules(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    registry = consortium.registry
    key = actors.hospitals[0]

    with pytest.raises(errors.ConsortiumRegistryNotSigner) as exc_signer:
        registry.propose_key_rotation(actors.outsider, fresh_account().address)
    assert exc_signer.value.args_by_name == {"memberId": 0, "account": actors.outsider.address}

    for bad in (ZERO_ADDRESS, actors.hospitals[1].address, key.address):
        with pytest.raises(errors.ConsortiumRegistryInvalidSigner) as exc_invalid:
            registry.propose_key_rotation(key, bad)
        assert exc_invalid.value.args_by_name == {"account": bad}

    pending_key = actors.hospitals[3]
    pending_id = registry.request_membership(pending_key, "Pending")
    with pytest.raises(errors.ConsortiumRegistryInvalidStatus) as exc_status:
        registry.propose_key_rotation(pending_key, fresh_account().address)
    assert exc_status.value.args_by_name == {"memberId": pending_id, "status": MemberStatus.PENDING}
    # A pending member's key is taken too.
    with pytest.raises(errors.ConsortiumRegistryInvalidSigner):
        registry.propose_key_rotation(key, pending_key.address)

    # A suspended member's own key can do nothing: a stolen key cannot take the membership over.
    registry.suspend(actors.admin, members[1], "key compromised")
    stolen = actors.hospitals[1]
    with pytest.raises(errors.ConsortiumRegistryInvalidStatus) as exc_suspended:
        registry.propose_key_rotation(stolen, fresh_account().address)
    assert exc_suspended.value.args_by_name == {"memberId": members[1], "status": MemberStatus.SUSPENDED}
    with pytest.raises(errors.ConsortiumRegistryInvalidStatus):
        registry.update_node_key(stolen, h("attacker node"))


def test_stolen_key_recovery_by_the_admin(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    registry = consortium.registry
    stolen, replacement = actors.hospitals[1], actors.hospitals[4]
    attacker = fresh_account()
    registry.propose_key_rotation(stolen, attacker.address)  # the thief starts a rotation
    registry.suspend(actors.admin, members[1], "key stolen")  # ... which suspension cancels
    assert registry.pending_signer_of(members[1]) == ZERO_ADDRESS
    with pytest.raises(errors.ConsortiumRegistryNoPendingRotation):
        registry.accept_key_rotation(attacker, members[1])
    with pytest.raises(errors.AccessControlUnauthorizedAccount):
        registry.admin_propose_key_rotation(stolen, members[1], attacker.address)

    receipt = registry.admin_propose_key_rotation(actors.admin, members[1], replacement.address)
    assert registry.events("KeyRotationProposed", from_block=receipt["blockNumber"])[0].args == {
        "memberId": members[1],
        "proposedBy": actors.admin.address,
        "newSigner": replacement.address,
    }
    registry.accept_key_rotation(replacement, members[1])
    assert registry.signer_of(members[1]) == replacement.address
    assert registry.active_member_id_of(replacement.address) == 0  # still suspended
    registry.reinstate(actors.admin, members[1])
    assert registry.active_member_id_of(replacement.address) == members[1]
    assert registry.member_id_of(stolen.address) == 0
    with pytest.raises(errors.ConsortiumRegistryInvalidStatus) as exc:
        registry.admin_propose_key_rotation(
            actors.admin, registry.request_membership(actors.hospitals[3], "P"), attacker.address
        )
    assert exc.value.args_by_name["status"] == MemberStatus.PENDING


def test_key_rotation_to_a_key_that_joined_meanwhile_reverts(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    registry = consortium.registry
    new_key = actors.hospitals[3]
    registry.propose_key_rotation(actors.hospitals[0], new_key.address)
    joined = registry.request_membership(new_key, "Joined in between")
    with pytest.raises(errors.ConsortiumRegistryInvalidSigner) as exc:
        registry.accept_key_rotation(new_key, members[0])
    assert exc.value.args_by_name == {"account": new_key.address}
    assert registry.member(members[0]).signer == actors.hospitals[0].address
    assert registry.member_id_of(new_key.address) == joined


def test_a_proposal_can_be_replaced(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    registry = consortium.registry
    first, second = actors.hospitals[3], actors.hospitals[4]
    registry.propose_key_rotation(actors.hospitals[0], first.address)
    registry.propose_key_rotation(actors.hospitals[0], second.address)
    assert pending_signer_of(consortium, members[0]) == second.address
    with pytest.raises(errors.ConsortiumRegistryNoPendingRotation):
        registry.accept_key_rotation(first, members[0])
    registry.accept_key_rotation(second, members[0])
    assert registry.member(members[0]).signer == second.address


# -- node key --------------------------------------------------------------------------------------
def test_update_node_key(consortium: Consortium, actors: Actors) -> None:
    registry = consortium.registry
    key = actors.hospitals[0]
    member_id = registry.request_membership(key, "Hospital", h("first node key"))
    # A pending member cannot change its node key yet.
    with pytest.raises(errors.ConsortiumRegistryInvalidStatus) as exc_pending:
        registry.update_node_key(key, h("early"))
    assert exc_pending.value.args_by_name == {"memberId": member_id, "status": MemberStatus.PENDING}
    registry.approve(actors.admin, member_id)
    registry.update_node_key(key, h("second node key"))
    assert registry.member(member_id).node_key_fingerprint == h("second node key")
    registry.update_node_key(key, h("third node key"))
    assert registry.member(member_id).node_key_fingerprint == h("third node key")

    updates = registry.events("NodeKeyUpdated")
    assert [e.args for e in updates] == [
        {"memberId": member_id, "nodeKeyFingerprint": h("second node key")},
        {"memberId": member_id, "nodeKeyFingerprint": h("third node key")},
    ]
    with pytest.raises(errors.ConsortiumRegistryNotSigner) as exc:
        registry.update_node_key(actors.outsider, h("intruder"))
    assert exc.value.args_by_name == {"memberId": 0, "account": actors.outsider.address}
    assert registry.member(member_id).node_key_fingerprint == h("third node key")


# -- governance mode -------------------------------------------------------------------------------
def approve_by(consortium: Consortium, keys: list[LocalAccount], decision: bytes) -> None:
    """Each key's member approves ``decision``."""
    for key in keys:
        consortium.registry.approve_decision(key, decision)


def test_set_governance_bounds(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    registry = consortium.registry
    assert registry.governance() == (False, 0)
    for quorum in (0, 4, 2**16 - 1):
        with pytest.raises(errors.ConsortiumRegistryInvalidQuorum) as exc:
            registry.set_governance(actors.admin, True, quorum)
        assert exc.value.args_by_name == {"quorum": quorum, "activeMembers": 3}
    assert registry.governance() == (False, 0)
    # While governance is off, only the admin switches it on.
    for caller in (actors.coordinator, actors.hospitals[1], actors.outsider):
        with pytest.raises(errors.AccessControlUnauthorizedAccount) as exc_access:
            registry.set_governance(caller, True, 1)
        assert exc_access.value.args_by_name == {"account": caller.address, "neededRole": ADMIN_ROLE}

    # The bound is the number of *active* members.
    registry.suspend(actors.admin, members[0], "audit")
    with pytest.raises(errors.ConsortiumRegistryInvalidQuorum) as exc:
        registry.set_governance(actors.admin, True, 3)
    assert exc.value.args_by_name == {"quorum": 3, "activeMembers": 2}
    registry.reinstate(actors.admin, members[0])
    registry.set_governance(actors.admin, True, 3)
    assert registry.governance() == (True, 3)

    # Once it is on, the admin alone changes nothing: the members decide.
    to_one = registry.governance_decision(True, 1)
    with pytest.raises(errors.ConsortiumRegistryDecisionNotApproved) as exc_decision:
        registry.set_governance(actors.admin, True, 1)
    assert exc_decision.value.args_by_name == {"decision": to_one}
    approve_by(consortium, list(actors.hospitals[:2]), to_one)
    assert registry.decision_approvals(to_one) == 2 and not registry.is_decided(to_one)
    with pytest.raises(errors.ConsortiumRegistryDecisionNotApproved):
        registry.set_governance(actors.admin, True, 1)
    registry.approve_decision(actors.hospitals[2], to_one)
    assert registry.is_decided(to_one)
    # Anyone carries an approved decision out, once; it is good for that change only.
    with pytest.raises(errors.ConsortiumRegistryDecisionNotApproved):
        registry.set_governance(actors.outsider, True, 2)
    registry.set_governance(actors.outsider, True, 1)
    assert registry.governance() == (True, 1)
    assert registry.governance_decision(True, 1) != to_one  # spent: the next decision has a new id
    with pytest.raises(errors.ConsortiumRegistryDecisionNotApproved):
        registry.set_governance(actors.outsider, True, 1)

    # Turning it off stores a zero quorum whatever is passed (one member's approval, quorum 1).
    off = registry.governance_decision(False, 7)
    registry.approve_decision(actors.hospitals[1], off)
    registry.set_governance(actors.hospitals[1], False, 7)
    assert registry.governance() == (False, 0)
    assert not registry.is_decided(off)  # governance off: nothing is decided by members
    assert [e.args for e in registry.events("GovernanceChanged")] == [
        {"changedBy": actors.admin.address, "enabled": True, "quorum": 3},
        {"changedBy": actors.outsider.address, "enabled": True, "quorum": 1},
        {"changedBy": actors.hospitals[1].address, "enabled": False, "quorum": 0},
    ]
    # And the admin is back in charge.
    registry.set_governance(actors.admin, True, 2)
    assert registry.governance() == (True, 2)


def test_decision_approvals(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    registry = consortium.registry
    decision = consortium.ledger.lineage_decision(h("model"), "rollback")
    with pytest.raises(errors.ConsortiumRegistryGovernanceOff):
        registry.approve_decision(actors.hospitals[0], decision)
    registry.set_governance(actors.admin, True, 2)
    for caller in (actors.admin, actors.coordinator, actors.outsider):
        with pytest.raises(errors.ConsortiumRegistryNotActiveMember) as exc:
            registry.approve_decision(caller, decision)
        assert exc.value.args_by_name == {"account": caller.address}
    registry.approve_decision(actors.hospitals[0], decision)
    with pytest.raises(errors.ConsortiumRegistryDecisionAlreadyApproved) as exc_twice:
        registry.approve_decision(actors.hospitals[0], decision)
    assert exc_twice.value.args_by_name == {"decision": decision, "approverId": members[0]}
    registry.suspend(actors.admin, members[2], "audit")
    with pytest.raises(errors.ConsortiumRegistryNotActiveMember):
        registry.approve_decision(actors.hospitals[2], decision)
    registry.approve_decision(actors.hospitals[1], decision)
    assert registry.is_decided(decision) and registry.decision_approvals(decision) == 2
    assert [e.args for e in registry.events("DecisionApproved")] == [
        {"decision": decision, "approverId": members[0], "approvals": 1},
        {"decision": decision, "approverId": members[1], "approvals": 2},
    ]


def test_lineages_and_apps_need_the_members_decision_in_governance_mode(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    ledger, registry = consortium.ledger, consortium.registry
    registry.set_governance(actors.admin, True, 2)
    start = ledger.lineage_decision(h("rollback"), "poisoned aggregate")
    with pytest.raises(errors.ConsortiumAccessDecisionNotApproved) as exc:
        ledger.start_lineage(actors.admin, h("rollback"), "poisoned aggregate")
    assert exc.value.args_by_name == {"decision": start}
    approve_by(consortium, list(actors.hospitals[:2]), start)
    # The decision covers this model and this reason only.
    with pytest.raises(errors.ConsortiumAccessDecisionNotApproved):
        ledger.start_lineage(actors.outsider, h("rollback"), "another reason")
    ledger.start_lineage(actors.outsider, h("rollback"), "poisoned aggregate")
    assert ledger.lineage_head().model_hash == h("rollback")
    with pytest.raises(errors.ConsortiumAccessDecisionNotApproved):  # spent
        ledger.start_lineage(actors.outsider, h("rollback"), "poisoned aggregate")

    app = h("new app")
    approve = ledger.app_decision(app, True)
    with pytest.raises(errors.ConsortiumAccessDecisionNotApproved):
        ledger.approve_app(actors.admin, app)
    approve_by(consortium, list(actors.hospitals[1:3]), approve)
    ledger.approve_app(actors.hospitals[0], app)
    assert ledger.is_app_approved(app)
    revoke = ledger.app_decision(app, False)
    approve_by(consortium, list(actors.hospitals[:2]), revoke)
    ledger.revoke_app(actors.coordinator, app)
    assert not ledger.is_app_approved(app)


def test_governance_with_no_members_has_no_valid_quorum(consortium: Consortium, actors: Actors) -> None:
    with pytest.raises(errors.ConsortiumRegistryInvalidQuorum) as exc:
        consortium.registry.set_governance(actors.admin, True, 1)
    assert exc.value.args_by_name == {"quorum": 1, "activeMembers": 0}


def test_governance_k_of_n_approval(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    registry = consortium.registry
    registry.set_governance(actors.admin, True, 2)
    applicant = actors.hospitals[3]
    candidate = registry.request_membership(applicant, "Applicant")
    other_applicant = actors.hospitals[4]
    other = registry.request_membership(other_applicant, "Other applicant")

    # In governance mode the admin is not an approver: only active members are.
    for caller in (actors.admin, actors.outsider, actors.coordinator, other_applicant):
        with pytest.raises(errors.ConsortiumRegistryNotActiveMember) as exc_member:
            registry.approve(caller, candidate)
        assert exc_member.value.args_by_name == {"account": caller.address}
    # The admin still rejects.
    registry.reject(actors.admin, other, "duplicate application")

    registry.approve(actors.hospitals[0], candidate)
    record = registry.member(candidate)
    assert (record.status, record.approvals) == (MemberStatus.PENDING, 1)
    assert has_approved(consortium, candidate, members[0])
    assert not has_approved(consortium, candidate, members[1])
    assert registry.active_member_id_of(applicant.address) == 0

    with pytest.raises(errors.ConsortiumRegistryAlreadyApproved) as exc_twice:
        registry.approve(actors.hospitals[0], candidate)
    assert exc_twice.value.args_by_name == {"memberId": candidate, "approverId": members[0]}

    registry.approve(actors.hospitals[1], candidate)
    record = registry.member(candidate)
    assert (record.status, record.approvals) == (MemberStatus.ACTIVE, 2)
    assert registry.active_member_id_of(applicant.address) == candidate
    assert registry.active_member_count() == 4

    with pytest.raises(errors.ConsortiumRegistryInvalidStatus) as exc_status:
        registry.approve(actors.hospitals[2], candidate)
    assert exc_status.value.args_by_name == {"memberId": candidate, "status": MemberStatus.ACTIVE}

    assert [e.args for e in registry.events("MembershipApproved")] == [
        {"memberId": candidate, "approverId": members[0], "approvals": 1},
        {"memberId": candidate, "approverId": members[1], "approvals": 2},
    ]
    history = registry.membership_history(candidate)
    assert names(history) == [
        "MembershipRequested",
        "MembershipApproved",
        "MembershipApproved",
        "MemberActivated",
    ]
    # Activation happens in the transaction of the quorum-reaching approval.
    assert history[2].tx_hash == history[3].tx_hash


def test_governance_suspended_members_cannot_approve(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    registry = consortium.registry
    registry.set_governance(actors.admin, True, 1)
    registry.suspend(actors.admin, members[2], "audit")
    candidate = registry.request_membership(actors.hospitals[3], "Applicant")
    with pytest.raises(errors.ConsortiumRegistryNotActiveMember) as exc:
        registry.approve(actors.hospitals[2], candidate)
    assert exc.value.args_by_name == {"account": actors.hospitals[2].address}
    # Quorum 1: a single active member's approval activates.
    registry.approve(actors.hospitals[0], candidate)
    assert registry.member(candidate).status is MemberStatus.ACTIVE


def test_governance_approval_is_per_member_not_per_key(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    registry = consortium.registry
    registry.set_governance(actors.admin, True, 3)
    candidate = registry.request_membership(actors.hospitals[3], "Applicant")
    registry.approve(actors.hospitals[0], candidate)
    # The approving member rotates its key and tries to approve again with the new one.
    new_key = actors.hospitals[4]
    registry.propose_key_rotation(actors.hospitals[0], new_key.address)
    registry.accept_key_rotation(new_key, members[0])
    with pytest.raises(errors.ConsortiumRegistryAlreadyApproved) as exc:
        registry.approve(new_key, candidate)
    assert exc.value.args_by_name == {"memberId": candidate, "approverId": members[0]}
    assert registry.member(candidate).approvals == 1


def test_governance_off_restores_admin_approval(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    registry = consortium.registry
    registry.set_governance(actors.admin, True, 2)
    candidate = registry.request_membership(actors.hospitals[3], "Applicant")
    registry.approve(actors.hospitals[0], candidate)
    approve_by(consortium, list(actors.hospitals[:2]), registry.governance_decision(False, 0))
    registry.set_governance(actors.admin, False)
    with pytest.raises(errors.AccessControlUnauthorizedAccount):
        registry.approve(actors.hospitals[1], candidate)
    registry.approve(actors.admin, candidate)
    record = registry.member(candidate)
    assert record.status is MemberStatus.ACTIVE
    assert record.approvals == 1  # the member approval collected earlier stays on record


# -- history and roles -----------------------------------------------------------------------------
def test_membership_history_of_a_full_life_cycle(consortium: Consortium, actors: Actors) -> None:
    registry = consortium.registry
    key, new_key = actors.hospitals[0], actors.hospitals[1]
    other = registry.request_membership(actors.hospitals[2], "Someone else")
    member_id = registry.request_membership(key, "Hospital", h("node"), "https://h.example")
    registry.approve(actors.admin, member_id)
    registry.suspend(actors.admin, member_id, "audit")
    registry.reinstate(actors.admin, member_id)
    registry.propose_key_rotation(key, new_key.address)
    registry.accept_key_rotation(new_key, member_id)
    registry.update_node_key(new_key, h("node 2"))

    history = registry.membership_history(member_id)
    assert names(history) == [
        "MembershipRequested",
        "MemberActivated",
        "MemberSuspended",
        "MemberReinstated",
        "KeyRotationProposed",
        "SignerRotated",
        "NodeKeyUpdated",
    ]
    assert all(e.args["memberId"] == member_id for e in history)
    blocks = [(e.block_number, e.log_index) for e in history]
    assert blocks == sorted(blocks)
    assert history[0].args["metadataURI"] == "https://h.example"
    assert history[1].args["signer"] == key.address
    assert history[2].args["reason"] == "audit"
    assert history[5].args["newSigner"] == new_key.address
    assert history[6].args["nodeKeyFingerprint"] == h("node 2")

    everyone = registry.membership_history()
    assert len(everyone) == len(history) + 1
    assert everyone[0].args["memberId"] == other
    # Block ranges bound the query.
    first_block = history[0].block_number
    assert names(registry.membership_history(member_id, to_block=first_block)) == ["MembershipRequested"]
    assert names(registry.membership_history(member_id, from_block=history[-1].block_number)) == [
        "NodeKeyUpdated"
    ]


def test_roles(consortium: Consortium, actors: Actors) -> None:
    registry = consortium.registry
    assert registry.is_admin(actors.admin.address)
    assert not registry.is_admin(actors.coordinator.address)
    assert registry.is_coordinator(actors.coordinator.address)
    assert not registry.is_coordinator(actors.outsider.address)
    assert keccak(text="COORDINATOR_ROLE") == COORDINATOR_ROLE

    registry.grant_coordinator(actors.admin, actors.outsider.address)
    assert registry.is_coordinator(actors.outsider.address)
    registry.revoke_coordinator(actors.admin, actors.outsider.address)
    assert not registry.is_coordinator(actors.outsider.address)

    with pytest.raises(errors.AccessControlUnauthorizedAccount) as exc:
        registry.grant_coordinator(actors.coordinator, actors.outsider.address)
    assert exc.value.args_by_name == {"account": actors.coordinator.address, "neededRole": ADMIN_ROLE}
    assert not registry.is_coordinator(actors.outsider.address)


def test_role_keys_are_never_member_keys(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    registry = consortium.registry
    # A role holder cannot ask to join...
    for holder in (actors.admin, actors.coordinator):
        with pytest.raises(errors.ConsortiumRegistryRoleKeyConflict) as exc:
            registry.request_membership(holder, "Not a hospital")
        assert exc.value.args_by_name == {"account": holder.address}
    # ...nor become a member's key by rotation...
    for holder in (actors.admin, actors.coordinator):
        with pytest.raises(errors.ConsortiumRegistryInvalidSigner) as exc_invalid:
            registry.propose_key_rotation(actors.hospitals[0], holder.address)
        assert exc_invalid.value.args_by_name == {"account": holder.address}
    # ...even when it got its role after the rotation was proposed...
    later_coordinator = actors.hospitals[4]
    registry.propose_key_rotation(actors.hospitals[0], later_coordinator.address)
    registry.grant_coordinator(actors.admin, later_coordinator.address)
    with pytest.raises(errors.ConsortiumRegistryInvalidSigner):
        registry.accept_key_rotation(later_coordinator, members[0])
    assert registry.signer_of(members[0]) == actors.hospitals[0].address
    # ...and a member's key (pending ones too) is given no role.
    pending = actors.hospitals[3]
    registry.request_membership(pending, "Pending")
    for key in (actors.hospitals[1], pending):
        with pytest.raises(errors.ConsortiumRegistryRoleKeyConflict) as exc:
            registry.grant_coordinator(actors.admin, key.address)
        assert exc.value.args_by_name == {"account": key.address}
        assert not registry.is_coordinator(key.address)


def test_the_admin_role_moves_only_by_a_delayed_two_step_transfer(
    client: ChainClient, consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    registry = consortium.registry
    successor = fresh_account()
    fund(client, [successor])
    contract = registry.contract
    assert client.call(contract.functions.defaultAdmin()) == actors.admin.address
    delay = client.call(contract.functions.defaultAdminDelay())
    assert delay == DEFAULT_PARAMETERS.admin_delay_s == 86_400
    # No direct grant, and no renouncing without a scheduled transfer.
    with pytest.raises(errors.AccessControlEnforcedDefaultAdminRules):
        registry.grant_role(actors.admin, ADMIN_ROLE, successor.address)
    with pytest.raises(errors.AccessControlUnauthorizedAccount):
        registry.begin_admin_transfer(actors.coordinator, successor.address)

    registry.begin_admin_transfer(actors.admin, successor.address)
    pending, schedule = client.call(contract.functions.pendingDefaultAdmin())
    assert pending == successor.address
    assert schedule == client.w3.eth.get_block("latest")["timestamp"] + delay
    with pytest.raises(errors.AccessControlEnforcedDefaultAdminDelay) as exc:
        registry.accept_admin_transfer(successor)
    assert exc.value.args_by_name == {"schedule": schedule}
    with pytest.raises(errors.AccessControlInvalidDefaultAdmin):
        registry.accept_admin_transfer(actors.outsider)
    advance_time(client, delay + 1)
    registry.accept_admin_transfer(successor)
    assert registry.is_admin(successor.address) and not registry.is_admin(actors.admin.address)
    with pytest.raises(errors.AccessControlUnauthorizedAccount):
        registry.suspend(actors.admin, members[0], "no longer admin")
    registry.suspend(successor, members[0], "the new admin acts")
    assert registry.member(members[0]).status is MemberStatus.SUSPENDED


def test_the_members_may_move_a_lost_admin_role(
    client: ChainClient, consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    registry = consortium.registry
    successor = fresh_account()
    fund(client, [successor])
    with pytest.raises(errors.ConsortiumRegistryGovernanceOff):
        registry.governance_transfer_admin(actors.hospitals[0], successor.address)
    registry.set_governance(actors.admin, True, 2)
    decision = registry.admin_transfer_decision(successor.address)
    with pytest.raises(errors.ConsortiumRegistryDecisionNotApproved):
        registry.governance_transfer_admin(actors.hospitals[0], successor.address)
    registry.approve_decision(actors.hospitals[0], decision)
    registry.approve_decision(actors.hospitals[2], decision)
    registry.governance_transfer_admin(actors.outsider, successor.address)
    pending, _ = client.call(registry.contract.functions.pendingDefaultAdmin())
    assert pending == successor.address
    advance_time(client, DEFAULT_PARAMETERS.admin_delay_s + 1)
    registry.accept_admin_transfer(successor)
    assert registry.is_admin(successor.address) and not registry.is_admin(actors.admin.address)


def test_deployment_gives_the_roles_in_the_constructor(client: ChainClient, actors: Actors) -> None:
    (deployer,) = funded_accounts(client, 1)
    manifest = deploy_consortium(
        client,
        deployer,
        coordinator=actors.coordinator.address,
        admin=actors.admin.address,
        parameters=DEFAULT_PARAMETERS.model_copy(update={"admin_delay_s": 600}),
    )
    consortium = Consortium.connect(client, manifest)
    registry = consortium.registry
    assert registry.is_admin(actors.admin.address) and registry.is_coordinator(actors.coordinator.address)
    assert not registry.is_admin(deployer.address) and not registry.is_coordinator(deployer.address)
    assert client.call(registry.contract.functions.defaultAdminDelay()) == 600
    assert manifest.parameters.admin_delay_s == 600
    # No role was ever granted or renounced after construction: one grant each, in the first block.
    granted = registry.events("RoleGranted")
    assert [(e.args["role"], e.args["account"]) for e in granted] == [
        (ADMIN_ROLE, actors.admin.address),
        (COORDINATOR_ROLE, actors.coordinator.address),
    ]
    assert {e.block_number for e in granted} == {manifest.deployment_block}
    assert registry.events("RoleRevoked") == []
    assert client.call(consortium.ledger.contract.functions.exclusionOracle()) == manifest.address(
        "ReputationLedger"
    )
