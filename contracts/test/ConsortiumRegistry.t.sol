// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {CONSORTIUM_COORDINATOR_ROLE, ConsortiumRegistry} from "../src/ConsortiumRegistry.sol";
import {ConsortiumFixture} from "./utils/ConsortiumFixture.sol";

/// @title ConsortiumRegistryTest
/// @notice Membership life cycle, key rotation, governance (k-of-n) approval and every access rule of
/// {ConsortiumRegistry}, each revert matched by its exact custom error and arguments.
contract ConsortiumRegistryTest is ConsortiumFixture {
    bytes32 private constant ADMIN_ROLE = 0x00;
    uint256 private constant KEY_D = 0xD004;
    uint256 private constant KEY_NEW = 0x7E57;

    address private a;
    address private b;
    address private c;

    function setUp() public override {
        super.setUp();
        a = vm.addr(KEY_A);
        b = vm.addr(KEY_B);
        c = vm.addr(KEY_C);
    }

    // ---------------------------------------------------------------- roles

    function test_Roles_AdminAndCoordinator() public view {
        assertEq(registry.COORDINATOR_ROLE(), keccak256("COORDINATOR_ROLE"));
        assertEq(registry.COORDINATOR_ROLE(), CONSORTIUM_COORDINATOR_ROLE);
        assertTrue(registry.hasRole(ADMIN_ROLE, ADMIN));
        assertTrue(registry.hasRole(CONSORTIUM_COORDINATOR_ROLE, COORDINATOR));
        assertFalse(registry.hasRole(ADMIN_ROLE, COORDINATOR));
        (bool enabled, uint16 quorum) = registry.governance();
        assertFalse(enabled);
        assertEq(quorum, 0);
    }

    function test_Roles_OnlyAdminGrantsCoordinator() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, COORDINATOR, ADMIN_ROLE)
        );
        vm.prank(COORDINATOR);
        registry.grantRole(CONSORTIUM_COORDINATOR_ROLE, STRANGER);

        vm.prank(ADMIN);
        registry.grantRole(CONSORTIUM_COORDINATOR_ROLE, STRANGER);
        assertTrue(registry.hasRole(CONSORTIUM_COORDINATOR_ROLE, STRANGER));
    }

    // ---------------------------------------------------------------- request

    function test_RequestMembership_RecordsPendingMember() public {
        vm.warp(1_700_000_000);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.MembershipRequested(1, a, "Hospital A", FINGERPRINT, "ipfs://metadata");
        uint64 id = _request(KEY_A, "Hospital A");

        assertEq(id, 1);
        ConsortiumRegistry.Member memory m = registry.getMember(id);
        assertEq(m.signer, a);
        assertEq(uint8(m.status), uint8(ConsortiumRegistry.Status.Pending));
        assertEq(m.approvals, 0);
        assertEq(m.requestedAt, 1_700_000_000);
        assertEq(m.nodeKeyFingerprint, FINGERPRINT);
        assertEq(m.name, "Hospital A");
        assertEq(m.metadataURI, "ipfs://metadata");
        assertEq(registry.memberIdOf(a), 1);
        assertEq(registry.activeMemberIdOf(a), 0);
        assertEq(registry.signerOf(1), a);
        assertEq(registry.memberCount(), 1);
        assertEq(registry.activeMemberCount(), 0);
        assertEq(_request(KEY_B, "Hospital B"), 2);
    }

    function test_RequestMembership_RevertsWhenAlreadyRegistered() public {
        _request(KEY_A, "Hospital A");
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryAlreadyRegistered.selector, a, 1));
        _request(KEY_A, "Hospital A again");

        vm.prank(ADMIN);
        registry.approveMembership(1);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryAlreadyRegistered.selector, a, 1));
        _request(KEY_A, "Hospital A again");
    }

    function test_RequestMembership_RevertsOnEmptyName() public {
        vm.expectRevert(ConsortiumRegistry.ConsortiumRegistryEmptyName.selector);
        _request(KEY_A, "");
    }

    function test_GetMember_RevertsForUnknownId() public {
        _request(KEY_A, "Hospital A");
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryUnknownMember.selector, 0));
        registry.getMember(0);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryUnknownMember.selector, 2));
        registry.getMember(2);
        assertEq(registry.signerOf(2), address(0));
    }

    // ---------------------------------------------------------------- approve (admin mode)

    function test_ApproveMembership_AdminActivates() public {
        uint64 id = _request(KEY_A, "Hospital A");
        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.MemberActivated(id, a);
        vm.prank(ADMIN);
        registry.approveMembership(id);

        assertEq(uint8(registry.getMember(id).status), uint8(ConsortiumRegistry.Status.Active));
        assertEq(registry.activeMemberIdOf(a), id);
        assertEq(registry.activeMemberCount(), 1);
    }

    function test_ApproveMembership_RevertsForNonAdmin() public {
        uint64 id = _request(KEY_A, "Hospital A");
        _join(KEY_B, "Hospital B");
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, COORDINATOR, ADMIN_ROLE)
        );
        vm.prank(COORDINATOR);
        registry.approveMembership(id);

        // An active member cannot approve while governance is off either.
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, b, ADMIN_ROLE));
        vm.prank(b);
        registry.approveMembership(id);
    }

    function test_ApproveMembership_RevertsForUnknownOrNonPendingMember() public {
        vm.startPrank(ADMIN);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryUnknownMember.selector, 0));
        registry.approveMembership(0);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryUnknownMember.selector, 1));
        registry.approveMembership(1);
        vm.stopPrank();

        uint64 id = _join(KEY_A, "Hospital A");
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumRegistry.ConsortiumRegistryInvalidStatus.selector, id, ConsortiumRegistry.Status.Active
            )
        );
        vm.prank(ADMIN);
        registry.approveMembership(id);
    }

    // ---------------------------------------------------------------- reject

    function test_RejectMembership_ThenRequestAgain() public {
        uint64 first = _request(KEY_A, "Hospital A");
        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.MembershipRejected(first, "incomplete data description");
        vm.prank(ADMIN);
        registry.rejectMembership(first, "incomplete data description");

        assertEq(uint8(registry.getMember(first).status), uint8(ConsortiumRegistry.Status.Rejected));
        assertEq(registry.memberIdOf(a), 0);
        assertEq(registry.activeMemberCount(), 0);

        // The rejected record stays rejected: it can be neither approved nor rejected again.
        vm.startPrank(ADMIN);
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumRegistry.ConsortiumRegistryInvalidStatus.selector, first, ConsortiumRegistry.Status.Rejected
            )
        );
        registry.approveMembership(first);
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumRegistry.ConsortiumRegistryInvalidStatus.selector, first, ConsortiumRegistry.Status.Rejected
            )
        );
        registry.rejectMembership(first, "again");
        vm.stopPrank();

        // The key may ask again; it gets a fresh id.
        uint64 second = _request(KEY_A, "Hospital A (resubmitted)");
        assertEq(second, 2);
        assertEq(registry.memberIdOf(a), second);
        vm.prank(ADMIN);
        registry.approveMembership(second);
        assertEq(registry.activeMemberIdOf(a), second);
        assertEq(uint8(registry.getMember(first).status), uint8(ConsortiumRegistry.Status.Rejected));
    }

    function test_RejectMembership_RevertsForNonAdminOrNonPending() public {
        uint64 id = _request(KEY_A, "Hospital A");
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, STRANGER, ADMIN_ROLE)
        );
        vm.prank(STRANGER);
        registry.rejectMembership(id, "no");

        vm.startPrank(ADMIN);
        registry.approveMembership(id);
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumRegistry.ConsortiumRegistryInvalidStatus.selector, id, ConsortiumRegistry.Status.Active
            )
        );
        registry.rejectMembership(id, "too late");
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryUnknownMember.selector, 9));
        registry.rejectMembership(9, "unknown");
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- suspend / reinstate

    function test_SuspendAndReinstate() public {
        uint64 id = _join(KEY_A, "Hospital A");
        _join(KEY_B, "Hospital B");
        assertEq(registry.activeMemberCount(), 2);

        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.MemberSuspended(id, "data breach");
        vm.prank(ADMIN);
        registry.suspendMember(id, "data breach");
        assertEq(uint8(registry.getMember(id).status), uint8(ConsortiumRegistry.Status.Suspended));
        assertEq(registry.activeMemberIdOf(a), 0);
        assertEq(registry.memberIdOf(a), id);
        assertEq(registry.activeMemberCount(), 1);

        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.MemberReinstated(id);
        vm.prank(ADMIN);
        registry.reinstateMember(id);
        assertEq(uint8(registry.getMember(id).status), uint8(ConsortiumRegistry.Status.Active));
        assertEq(registry.activeMemberIdOf(a), id);
        assertEq(registry.activeMemberCount(), 2);
    }

    function test_SuspendAndReinstate_RevertOnWrongStatus() public {
        uint64 pending = _request(KEY_A, "Hospital A");
        uint64 active = _join(KEY_B, "Hospital B");
        vm.startPrank(ADMIN);
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumRegistry.ConsortiumRegistryInvalidStatus.selector, pending, ConsortiumRegistry.Status.Pending
            )
        );
        registry.suspendMember(pending, "x");
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumRegistry.ConsortiumRegistryInvalidStatus.selector, active, ConsortiumRegistry.Status.Active
            )
        );
        registry.reinstateMember(active);
        registry.suspendMember(active, "x");
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumRegistry.ConsortiumRegistryInvalidStatus.selector, active, ConsortiumRegistry.Status.Suspended
            )
        );
        registry.suspendMember(active, "twice");
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryUnknownMember.selector, 7));
        registry.reinstateMember(7);
        vm.stopPrank();
    }

    function test_SuspendAndReinstate_RevertForNonAdmin() public {
        uint64 id = _join(KEY_A, "Hospital A");
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, COORDINATOR, ADMIN_ROLE)
        );
        vm.prank(COORDINATOR);
        registry.suspendMember(id, "x");

        vm.prank(ADMIN);
        registry.suspendMember(id, "x");
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, a, ADMIN_ROLE));
        vm.prank(a);
        registry.reinstateMember(id);
    }

    // ---------------------------------------------------------------- key rotation

    function test_KeyRotation_ProposeAndAccept() public {
        uint64 id = _join(KEY_A, "Hospital A");
        address fresh = vm.addr(KEY_NEW);

        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.KeyRotationProposed(id, a, fresh);
        vm.prank(a);
        registry.proposeKeyRotation(fresh);
        assertEq(registry.pendingSignerOf(id), fresh);
        // Nothing changes until the new key accepts.
        assertEq(registry.signerOf(id), a);
        assertEq(registry.activeMemberIdOf(a), id);

        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.SignerRotated(id, a, fresh);
        vm.prank(fresh);
        registry.acceptKeyRotation(id);

        assertEq(registry.signerOf(id), fresh);
        assertEq(registry.getMember(id).signer, fresh);
        assertEq(registry.pendingSignerOf(id), address(0));
        assertEq(registry.memberIdOf(fresh), id);
        assertEq(registry.activeMemberIdOf(fresh), id);
        // The old key lost the membership...
        assertEq(registry.memberIdOf(a), 0);
        assertEq(registry.activeMemberIdOf(a), 0);
        assertEq(registry.activeMemberCount(), 1);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNotSigner.selector, 0, a));
        vm.prank(a);
        registry.proposeKeyRotation(vm.addr(KEY_D));
        // ...and the proposal was consumed.
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNoPendingRotation.selector, id, fresh)
        );
        vm.prank(fresh);
        registry.acceptKeyRotation(id);
        // The freed key may request a membership of its own.
        assertEq(_request(KEY_A, "Hospital A2"), 2);
    }

    function test_KeyRotation_RevertsForWrongAcceptor() public {
        uint64 id = _join(KEY_A, "Hospital A");
        _join(KEY_B, "Hospital B");
        vm.prank(a);
        registry.proposeKeyRotation(vm.addr(KEY_NEW));

        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNoPendingRotation.selector, id, b));
        vm.prank(b);
        registry.acceptKeyRotation(id);
        // The current signer cannot accept on the new key's behalf.
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNoPendingRotation.selector, id, a));
        vm.prank(a);
        registry.acceptKeyRotation(id);
        // The proposed key cannot accept for another member.
        address fresh = vm.addr(KEY_NEW);
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNoPendingRotation.selector, 2, fresh)
        );
        vm.prank(fresh);
        registry.acceptKeyRotation(2);
        // Nor can the zero address claim an absent proposal.
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNoPendingRotation.selector, 2, address(0))
        );
        vm.prank(address(0));
        registry.acceptKeyRotation(2);
        assertEq(registry.signerOf(id), a);
    }

    function test_KeyRotation_LaterProposalReplacesEarlier() public {
        uint64 id = _join(KEY_A, "Hospital A");
        address first = vm.addr(KEY_NEW);
        address second = vm.addr(KEY_D);
        vm.startPrank(a);
        registry.proposeKeyRotation(first);
        registry.proposeKeyRotation(second);
        vm.stopPrank();
        assertEq(registry.pendingSignerOf(id), second);
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNoPendingRotation.selector, id, first)
        );
        vm.prank(first);
        registry.acceptKeyRotation(id);
        vm.prank(second);
        registry.acceptKeyRotation(id);
        assertEq(registry.signerOf(id), second);
    }

    function test_KeyRotation_ProposeReverts() public {
        // Not a member at all.
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNotSigner.selector, 0, STRANGER));
        vm.prank(STRANGER);
        registry.proposeKeyRotation(vm.addr(KEY_NEW));

        // A pending member cannot rotate yet.
        uint64 pending = _request(KEY_C, "Hospital C");
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumRegistry.ConsortiumRegistryInvalidStatus.selector, pending, ConsortiumRegistry.Status.Pending
            )
        );
        vm.prank(c);
        registry.proposeKeyRotation(vm.addr(KEY_NEW));

        // The new key must be non-zero and not held by any member (in any status but rejected).
        _join(KEY_A, "Hospital A");
        _join(KEY_B, "Hospital B");
        vm.startPrank(a);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidSigner.selector, address(0)));
        registry.proposeKeyRotation(address(0));
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidSigner.selector, b));
        registry.proposeKeyRotation(b);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidSigner.selector, c));
        registry.proposeKeyRotation(c);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidSigner.selector, a));
        registry.proposeKeyRotation(a);
        vm.stopPrank();
    }

    function test_KeyRotation_SuspendedMemberMayRotate() public {
        uint64 id = _join(KEY_A, "Hospital A");
        vm.prank(ADMIN);
        registry.suspendMember(id, "key compromised");
        address fresh = vm.addr(KEY_NEW);
        vm.prank(a);
        registry.proposeKeyRotation(fresh);
        vm.prank(fresh);
        registry.acceptKeyRotation(id);
        // Still suspended under the new key.
        assertEq(registry.memberIdOf(fresh), id);
        assertEq(registry.activeMemberIdOf(fresh), 0);
        vm.prank(ADMIN);
        registry.reinstateMember(id);
        assertEq(registry.activeMemberIdOf(fresh), id);
    }

    function test_KeyRotation_AcceptRevertsIfKeyJoinedMeanwhile() public {
        uint64 id = _join(KEY_A, "Hospital A");
        address fresh = vm.addr(KEY_NEW);
        vm.prank(a);
        registry.proposeKeyRotation(fresh);
        uint64 other = _request(KEY_NEW, "Hospital New");

        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidSigner.selector, fresh));
        vm.prank(fresh);
        registry.acceptKeyRotation(id);

        // Once that request is rejected the key is free again and the proposal still stands.
        vm.prank(ADMIN);
        registry.rejectMembership(other, "duplicate");
        vm.prank(fresh);
        registry.acceptKeyRotation(id);
        assertEq(registry.signerOf(id), fresh);
    }

    // ---------------------------------------------------------------- node key

    function test_UpdateNodeKey() public {
        uint64 id = _request(KEY_A, "Hospital A");
        bytes32 next = keccak256("rotated node key");
        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.NodeKeyUpdated(id, next);
        vm.prank(a);
        registry.updateNodeKey(next);
        assertEq(registry.getMember(id).nodeKeyFingerprint, next);

        vm.prank(ADMIN);
        registry.approveMembership(id);
        vm.prank(a);
        registry.updateNodeKey(FINGERPRINT);
        assertEq(registry.getMember(id).nodeKeyFingerprint, FINGERPRINT);
    }

    function test_UpdateNodeKey_RevertsForNonMember() public {
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNotSigner.selector, 0, STRANGER));
        vm.prank(STRANGER);
        registry.updateNodeKey(FINGERPRINT);

        uint64 id = _request(KEY_A, "Hospital A");
        vm.prank(ADMIN);
        registry.rejectMembership(id, "no");
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNotSigner.selector, 0, a));
        vm.prank(a);
        registry.updateNodeKey(FINGERPRINT);
    }

    // ---------------------------------------------------------------- governance

    function test_SetGovernance_StoresQuorumAndEmits() public {
        _enrolHospitals();
        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.GovernanceChanged(true, 2);
        vm.prank(ADMIN);
        registry.setGovernance(true, 2);
        (bool enabled, uint16 quorum) = registry.governance();
        assertTrue(enabled);
        assertEq(quorum, 2);

        // Turning it off stores quorum 0 whatever is passed.
        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.GovernanceChanged(false, 0);
        vm.prank(ADMIN);
        registry.setGovernance(false, 7);
        (enabled, quorum) = registry.governance();
        assertFalse(enabled);
        assertEq(quorum, 0);
    }

    function test_SetGovernance_QuorumBounds() public {
        vm.startPrank(ADMIN);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidQuorum.selector, 1, 0));
        registry.setGovernance(true, 1);
        vm.stopPrank();

        _enrolHospitals();
        vm.startPrank(ADMIN);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidQuorum.selector, 0, 3));
        registry.setGovernance(true, 0);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidQuorum.selector, 4, 3));
        registry.setGovernance(true, 4);
        registry.setGovernance(true, 3);
        registry.setGovernance(true, 1);

        // Suspended members do not count towards the bound.
        registry.suspendMember(3, "x");
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidQuorum.selector, 3, 2));
        registry.setGovernance(true, 3);
        vm.stopPrank();
    }

    function testFuzz_SetGovernance_QuorumWithinActiveMembers(uint16 quorum) public {
        _enrolHospitals();
        bool valid = quorum >= 1 && quorum <= 3;
        if (!valid) {
            vm.expectRevert(
                abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidQuorum.selector, quorum, 3)
            );
        }
        vm.prank(ADMIN);
        registry.setGovernance(true, quorum);
        (bool enabled, uint16 stored) = registry.governance();
        assertEq(enabled, valid);
        assertEq(stored, valid ? quorum : 0);
    }

    function test_SetGovernance_RevertsForNonAdmin() public {
        _enrolHospitals();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, a, ADMIN_ROLE));
        vm.prank(a);
        registry.setGovernance(true, 1);
    }

    function test_Governance_QuorumOfMembersActivates() public {
        _enrolHospitals();
        vm.prank(ADMIN);
        registry.setGovernance(true, 2);
        uint64 id = _request(KEY_D, "Hospital D");

        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.MembershipApproved(id, 1, 1);
        vm.prank(a);
        registry.approveMembership(id);
        assertTrue(registry.hasApproved(id, 1));
        assertFalse(registry.hasApproved(id, 2));
        assertEq(registry.getMember(id).approvals, 1);
        assertEq(uint8(registry.getMember(id).status), uint8(ConsortiumRegistry.Status.Pending));

        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.MembershipApproved(id, 3, 2);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.MemberActivated(id, vm.addr(KEY_D));
        vm.prank(c);
        registry.approveMembership(id);

        assertEq(uint8(registry.getMember(id).status), uint8(ConsortiumRegistry.Status.Active));
        assertEq(registry.getMember(id).approvals, 2);
        assertEq(registry.activeMemberCount(), 4);

        // Once active, further approvals are rejected by status.
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumRegistry.ConsortiumRegistryInvalidStatus.selector, id, ConsortiumRegistry.Status.Active
            )
        );
        vm.prank(b);
        registry.approveMembership(id);
    }

    function test_Governance_DuplicateApprovalReverts() public {
        _enrolHospitals();
        vm.prank(ADMIN);
        registry.setGovernance(true, 2);
        uint64 id = _request(KEY_D, "Hospital D");
        vm.prank(b);
        registry.approveMembership(id);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryAlreadyApproved.selector, id, 2));
        vm.prank(b);
        registry.approveMembership(id);
    }

    function test_Governance_DuplicateApprovalAfterKeyRotationReverts() public {
        _enrolHospitals();
        vm.prank(ADMIN);
        registry.setGovernance(true, 2);
        uint64 id = _request(KEY_D, "Hospital D");
        vm.prank(b);
        registry.approveMembership(id);

        address fresh = vm.addr(KEY_NEW);
        vm.prank(b);
        registry.proposeKeyRotation(fresh);
        vm.prank(fresh);
        registry.acceptKeyRotation(2);
        // Approvals are per member id, not per key.
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryAlreadyApproved.selector, id, 2));
        vm.prank(fresh);
        registry.approveMembership(id);
    }

    function test_Governance_NonMembersCannotApprove() public {
        _enrolHospitals();
        vm.prank(ADMIN);
        registry.setGovernance(true, 1);
        uint64 id = _request(KEY_D, "Hospital D");
        uint64 otherPending = _request(KEY_NEW, "Hospital New");

        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNotActiveMember.selector, STRANGER));
        vm.prank(STRANGER);
        registry.approveMembership(id);

        // A pending member is not active.
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNotActiveMember.selector, vm.addr(KEY_NEW))
        );
        vm.prank(vm.addr(KEY_NEW));
        registry.approveMembership(id);

        // Neither is a suspended one.
        vm.prank(ADMIN);
        registry.suspendMember(1, "x");
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNotActiveMember.selector, a));
        vm.prank(a);
        registry.approveMembership(id);
        assertEq(uint8(registry.getMember(otherPending).status), uint8(ConsortiumRegistry.Status.Pending));
    }

    function test_Governance_AdminCannotApprove() public {
        _enrolHospitals();
        vm.prank(ADMIN);
        registry.setGovernance(true, 1);
        uint64 id = _request(KEY_D, "Hospital D");
        // The admin holds no membership, so governance mode turns it away as a non-member.
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNotActiveMember.selector, ADMIN));
        vm.prank(ADMIN);
        registry.approveMembership(id);

        // The admin keeps reject, and gets approval back by leaving governance mode.
        vm.startPrank(ADMIN);
        registry.setGovernance(false, 0);
        registry.approveMembership(id);
        vm.stopPrank();
        assertEq(registry.activeMemberIdOf(vm.addr(KEY_D)), id);
    }

    function test_Governance_AdminMayStillReject() public {
        _enrolHospitals();
        vm.prank(ADMIN);
        registry.setGovernance(true, 2);
        uint64 id = _request(KEY_D, "Hospital D");
        vm.prank(a);
        registry.approveMembership(id);
        vm.prank(ADMIN);
        registry.rejectMembership(id, "vetoed");
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumRegistry.ConsortiumRegistryInvalidStatus.selector, id, ConsortiumRegistry.Status.Rejected
            )
        );
        vm.prank(b);
        registry.approveMembership(id);
    }

    /// @dev Documents a liveness edge: approvals are counted, never re-checked against a lowered quorum,
    /// so a request whose approvers all voted stays pending until another member approves.
    function test_Governance_LoweredQuorumIsAppliedOnNextApprovalOnly() public {
        _enrolHospitals();
        vm.prank(ADMIN);
        registry.setGovernance(true, 3);
        uint64 id = _request(KEY_D, "Hospital D");
        vm.prank(a);
        registry.approveMembership(id);
        vm.prank(b);
        registry.approveMembership(id);

        vm.prank(ADMIN);
        registry.setGovernance(true, 2);
        assertEq(uint8(registry.getMember(id).status), uint8(ConsortiumRegistry.Status.Pending));
        vm.prank(c);
        registry.approveMembership(id);
        assertEq(uint8(registry.getMember(id).status), uint8(ConsortiumRegistry.Status.Active));
        assertEq(registry.getMember(id).approvals, 3);
    }
}
