// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {CONSORTIUM_COORDINATOR_ROLE, ConsortiumRegistry} from "../src/ConsortiumRegistry.sol";
import {RoundLedger} from "../src/RoundLedger.sol";
import {ConsortiumFixture} from "./utils/ConsortiumFixture.sol";

/// @title ConsortiumRegistryTest
/// @notice Membership life cycle, key rotation (by the member, or by the admin to recover a lost or
/// stolen key), governance (k-of-n) approval and every access rule of {ConsortiumRegistry}, each revert
/// matched by its exact custom error and arguments.
contract ConsortiumRegistryTest is ConsortiumFixture {
    bytes32 private constant ADMIN_ROLE = 0x00;
    uint256 private constant KEY_D = 0xD004;
    uint256 private constant KEY_NEW = 0x7E57;
    /// @dev A key the thief of a member's key controls too.
    uint256 private constant KEY_THIEF = 0x7417;

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

    function test_Roles_AdminAndCoordinator() public {
        assertEq(registry.COORDINATOR_ROLE(), keccak256("COORDINATOR_ROLE"));
        assertEq(registry.defaultAdmin(), ADMIN);
        assertEq(registry.defaultAdminDelay(), ADMIN_DELAY);
        assertEq(registry.COORDINATOR_ROLE(), CONSORTIUM_COORDINATOR_ROLE);
        assertTrue(registry.hasRole(ADMIN_ROLE, ADMIN));
        assertTrue(registry.hasRole(CONSORTIUM_COORDINATOR_ROLE, COORDINATOR));
        assertFalse(registry.hasRole(ADMIN_ROLE, COORDINATOR));
        (bool enabled, uint16 quorum) = registry.governance();
        assertFalse(enabled);
        assertEq(quorum, 0);

        // A registry deployed without a coordinator grants the role to no one.
        ConsortiumRegistry bare = new ConsortiumRegistry(ADMIN_DELAY, ADMIN, address(0));
        assertFalse(bare.hasRole(CONSORTIUM_COORDINATOR_ROLE, address(0)));
        assertEq(bare.defaultAdmin(), ADMIN);
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

    function test_KeyRotation_SuspendedMemberCannotPropose() public {
        uint64 id = _join(KEY_A, "Hospital A");
        vm.prank(ADMIN);
        registry.suspendMember(id, "key compromised");
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumRegistry.ConsortiumRegistryInvalidStatus.selector, id, ConsortiumRegistry.Status.Suspended
            )
        );
        vm.prank(a);
        registry.proposeKeyRotation(vm.addr(KEY_NEW));
        assertEq(registry.pendingSignerOf(id), address(0));

        // Once reinstated, the member rotates its own key again.
        vm.prank(ADMIN);
        registry.reinstateMember(id);
        vm.prank(a);
        registry.proposeKeyRotation(vm.addr(KEY_NEW));
        assertEq(registry.pendingSignerOf(id), vm.addr(KEY_NEW));
    }

    function test_KeyRotation_SuspensionCancelsPendingRotation() public {
        uint64 id = _join(KEY_A, "Hospital A");
        address fresh = vm.addr(KEY_NEW);
        vm.prank(a);
        registry.proposeKeyRotation(fresh);
        assertEq(registry.pendingSignerOf(id), fresh);

        vm.prank(ADMIN);
        registry.suspendMember(id, "audit");
        assertEq(registry.pendingSignerOf(id), address(0));
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNoPendingRotation.selector, id, fresh)
        );
        vm.prank(fresh);
        registry.acceptKeyRotation(id);

        // Reinstatement does not bring the cancelled proposal back.
        vm.prank(ADMIN);
        registry.reinstateMember(id);
        assertEq(registry.pendingSignerOf(id), address(0));
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNoPendingRotation.selector, id, fresh)
        );
        vm.prank(fresh);
        registry.acceptKeyRotation(id);
        assertEq(registry.signerOf(id), a);
        assertEq(registry.memberIdOf(fresh), 0);
    }

    function test_KeyRotation_SuspensionCancelsAdminProposalToo() public {
        uint64 id = _join(KEY_A, "Hospital A");
        address fresh = vm.addr(KEY_NEW);
        vm.startPrank(ADMIN);
        registry.adminProposeKeyRotation(id, fresh);
        registry.suspendMember(id, "audit");
        vm.stopPrank();
        assertEq(registry.pendingSignerOf(id), address(0));
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNoPendingRotation.selector, id, fresh)
        );
        vm.prank(fresh);
        registry.acceptKeyRotation(id);
    }

    /// @dev Suspension cancels only the suspended member's proposal.
    function test_KeyRotation_SuspensionLeavesOtherMembersProposals() public {
        uint64 id = _join(KEY_A, "Hospital A");
        uint64 other = _join(KEY_B, "Hospital B");
        vm.prank(b);
        registry.proposeKeyRotation(vm.addr(KEY_D));
        vm.prank(ADMIN);
        registry.suspendMember(id, "audit");
        assertEq(registry.pendingSignerOf(other), vm.addr(KEY_D));
        vm.prank(vm.addr(KEY_D));
        registry.acceptKeyRotation(other);
        assertEq(registry.signerOf(other), vm.addr(KEY_D));
    }

    // ---------------------------------------------------------------- key rotation by the admin

    function test_AdminKeyRotation_ForActiveMemberWithLostKey() public {
        uint64 id = _join(KEY_A, "Hospital A");
        address fresh = vm.addr(KEY_NEW);

        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.KeyRotationProposed(id, ADMIN, fresh);
        vm.prank(ADMIN);
        registry.adminProposeKeyRotation(id, fresh);
        assertEq(registry.pendingSignerOf(id), fresh);
        // Nothing changes until the new key accepts.
        assertEq(registry.signerOf(id), a);
        assertEq(registry.activeMemberIdOf(a), id);
        assertEq(registry.memberIdOf(fresh), 0);

        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.SignerRotated(id, a, fresh);
        vm.prank(fresh);
        registry.acceptKeyRotation(id);
        assertEq(registry.signerOf(id), fresh);
        assertEq(registry.activeMemberIdOf(fresh), id);
        assertEq(registry.memberIdOf(a), 0);
        assertEq(registry.pendingSignerOf(id), address(0));
        assertEq(registry.activeMemberCount(), 1);
    }

    function test_AdminKeyRotation_ForSuspendedMemberKeepsItSuspended() public {
        uint64 id = _join(KEY_A, "Hospital A");
        _join(KEY_B, "Hospital B");
        address fresh = vm.addr(KEY_NEW);
        vm.startPrank(ADMIN);
        registry.suspendMember(id, "key compromised");
        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.KeyRotationProposed(id, ADMIN, fresh);
        registry.adminProposeKeyRotation(id, fresh);
        vm.stopPrank();

        vm.prank(fresh);
        registry.acceptKeyRotation(id);
        // Still suspended under the new key.
        assertEq(uint8(registry.getMember(id).status), uint8(ConsortiumRegistry.Status.Suspended));
        assertEq(registry.memberIdOf(fresh), id);
        assertEq(registry.activeMemberIdOf(fresh), 0);
        assertEq(registry.activeMemberCount(), 1);

        vm.prank(ADMIN);
        registry.reinstateMember(id);
        assertEq(registry.activeMemberIdOf(fresh), id);
        assertEq(registry.activeMemberCount(), 2);
    }

    function test_AdminKeyRotation_OnlyAdmin() public {
        uint64 id = _join(KEY_A, "Hospital A");
        address fresh = vm.addr(KEY_NEW);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, COORDINATOR, ADMIN_ROLE)
        );
        vm.prank(COORDINATOR);
        registry.adminProposeKeyRotation(id, fresh);
        // Not even the member's own key: it has proposeKeyRotation.
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, a, ADMIN_ROLE));
        vm.prank(a);
        registry.adminProposeKeyRotation(id, fresh);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, fresh, ADMIN_ROLE)
        );
        vm.prank(fresh);
        registry.adminProposeKeyRotation(id, fresh);
        assertEq(registry.pendingSignerOf(id), address(0));
    }

    function test_AdminKeyRotation_RevertsForUnknownPendingOrRejectedMember() public {
        address fresh = vm.addr(KEY_NEW);
        vm.startPrank(ADMIN);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryUnknownMember.selector, 0));
        registry.adminProposeKeyRotation(0, fresh);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryUnknownMember.selector, 1));
        registry.adminProposeKeyRotation(1, fresh);
        vm.stopPrank();

        uint64 pending = _request(KEY_A, "Hospital A");
        uint64 rejected = _request(KEY_B, "Hospital B");
        vm.startPrank(ADMIN);
        registry.rejectMembership(rejected, "no");
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumRegistry.ConsortiumRegistryInvalidStatus.selector, pending, ConsortiumRegistry.Status.Pending
            )
        );
        registry.adminProposeKeyRotation(pending, fresh);
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumRegistry.ConsortiumRegistryInvalidStatus.selector,
                rejected,
                ConsortiumRegistry.Status.Rejected
            )
        );
        registry.adminProposeKeyRotation(rejected, fresh);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryUnknownMember.selector, 3));
        registry.adminProposeKeyRotation(3, fresh);
        vm.stopPrank();
        assertEq(registry.pendingSignerOf(pending), address(0));
        assertEq(registry.pendingSignerOf(rejected), address(0));
    }

    function test_AdminKeyRotation_NewSignerChecks() public {
        uint64 id = _join(KEY_A, "Hospital A");
        _join(KEY_B, "Hospital B");
        _request(KEY_C, "Hospital C");
        uint64 suspended = _join(KEY_D, "Hospital D");
        vm.startPrank(ADMIN);
        registry.suspendMember(suspended, "x");
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidSigner.selector, address(0)));
        registry.adminProposeKeyRotation(id, address(0));
        // Keys held by a member in any status but rejected, the member's own key included.
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidSigner.selector, b));
        registry.adminProposeKeyRotation(id, b);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidSigner.selector, c));
        registry.adminProposeKeyRotation(id, c);
        address d = vm.addr(KEY_D);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidSigner.selector, d));
        registry.adminProposeKeyRotation(id, d);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidSigner.selector, a));
        registry.adminProposeKeyRotation(id, a);
        // The same checks for a suspended member.
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidSigner.selector, d));
        registry.adminProposeKeyRotation(suspended, d);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidSigner.selector, address(0)));
        registry.adminProposeKeyRotation(suspended, address(0));
        vm.stopPrank();
        assertEq(registry.pendingSignerOf(id), address(0));
        assertEq(registry.pendingSignerOf(suspended), address(0));
    }

    /// @dev Proposals of the member and of the admin share one slot: the later one wins. This is why a
    /// stolen key's member must be suspended before the admin proposes (see the recovery test).
    function test_AdminKeyRotation_SharesTheProposalSlotWithTheMember() public {
        uint64 id = _join(KEY_A, "Hospital A");
        address mine = vm.addr(KEY_D);
        address admins = vm.addr(KEY_NEW);
        vm.prank(a);
        registry.proposeKeyRotation(mine);
        vm.prank(ADMIN);
        registry.adminProposeKeyRotation(id, admins);
        assertEq(registry.pendingSignerOf(id), admins);
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNoPendingRotation.selector, id, mine)
        );
        vm.prank(mine);
        registry.acceptKeyRotation(id);

        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.KeyRotationProposed(id, a, mine);
        vm.prank(a);
        registry.proposeKeyRotation(mine);
        assertEq(registry.pendingSignerOf(id), mine);
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNoPendingRotation.selector, id, admins)
        );
        vm.prank(admins);
        registry.acceptKeyRotation(id);
    }

    /// @dev The whole recovery of a stolen key: suspend (which also cancels whatever the thief proposed),
    /// the admin proposes a fresh key, the hospital's fresh key accepts, the admin reinstates. The thief's
    /// key ends with no membership, and the round ledger takes the fresh key's signatures only.
    function test_AdminKeyRotation_StolenKeyRecovery() public {
        _enrolHospitals();
        uint64 id = 1;
        address stolen = a;
        address thief = vm.addr(KEY_THIEF);
        address fresh = vm.addr(KEY_NEW);

        // The thief moves first and proposes a key of its own while the member is still active.
        vm.prank(stolen);
        registry.proposeKeyRotation(thief);
        assertEq(registry.pendingSignerOf(id), thief);

        // 1. Suspend: the thief's proposal is cancelled and the stolen key can do nothing any more.
        vm.prank(ADMIN);
        registry.suspendMember(id, "signing key stolen");
        assertEq(registry.pendingSignerOf(id), address(0));
        assertEq(registry.activeMemberIdOf(stolen), 0);
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNoPendingRotation.selector, id, thief)
        );
        vm.prank(thief);
        registry.acceptKeyRotation(id);
        _expectStolenKeyLockedOut(id, stolen, thief, ConsortiumRegistry.Status.Suspended);

        // 2. The admin proposes the hospital's fresh key.
        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.KeyRotationProposed(id, ADMIN, fresh);
        vm.prank(ADMIN);
        registry.adminProposeKeyRotation(id, fresh);
        // The stolen key can neither override the proposal nor accept it.
        _expectStolenKeyLockedOut(id, stolen, thief, ConsortiumRegistry.Status.Suspended);
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNoPendingRotation.selector, id, stolen)
        );
        vm.prank(stolen);
        registry.acceptKeyRotation(id);
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNoPendingRotation.selector, id, thief)
        );
        vm.prank(thief);
        registry.acceptKeyRotation(id);
        assertEq(registry.pendingSignerOf(id), fresh);

        // 3. The fresh key proves it is held by accepting.
        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.SignerRotated(id, stolen, fresh);
        vm.prank(fresh);
        registry.acceptKeyRotation(id);

        // 4. Reinstate.
        vm.prank(ADMIN);
        registry.reinstateMember(id);
        assertEq(uint8(registry.getMember(id).status), uint8(ConsortiumRegistry.Status.Active));
        assertEq(registry.signerOf(id), fresh);
        assertEq(registry.activeMemberIdOf(fresh), id);
        assertEq(registry.activeMemberCount(), 3);
        // The stolen key is no member at all now.
        assertEq(registry.memberIdOf(stolen), 0);
        assertEq(registry.activeMemberIdOf(stolen), 0);
        assertEq(registry.pendingSignerOf(id), address(0));

        // The stolen key can neither propose, nor accept, nor change the node key.
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNotSigner.selector, 0, stolen));
        vm.prank(stolen);
        registry.proposeKeyRotation(thief);
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNoPendingRotation.selector, id, stolen)
        );
        vm.prank(stolen);
        registry.acceptKeyRotation(id);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNotSigner.selector, 0, stolen));
        vm.prank(stolen);
        registry.updateNodeKey(keccak256("thief's node"));
        assertEq(registry.getMember(id).nodeKeyFingerprint, FINGERPRINT);

        // The round ledger skips the stolen key's signature and takes the fresh key's.
        uint256 round = _openRound();
        RoundLedger.SignedUpdate memory byThief = _signed(KEY_A, round);
        RoundLedger.SignedUpdate memory byHospital = _signed(KEY_NEW, round);
        _expectSkipped(round, 0, stolen, byThief.updateHash, RoundLedger.SkipReason.UnauthorizedSigner);
        _register(round, _one(byThief));
        assertFalse(ledger.hasSubmitted(round, id));
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.UpdateRegistered(
            round, id, _updateHash(KEY_NEW, round), _examples(KEY_NEW), NOT_PRIVATE, 0, NOT_PRIVATE
        );
        _register(round, _one(byHospital));
        assertTrue(ledger.hasSubmitted(round, id));

        // The member, under its fresh key, rotates and updates its node key as usual.
        bytes32 node = keccak256("new node key");
        vm.prank(fresh);
        registry.updateNodeKey(node);
        assertEq(registry.getMember(id).nodeKeyFingerprint, node);
        vm.prank(fresh);
        registry.proposeKeyRotation(vm.addr(KEY_D));
        assertEq(registry.pendingSignerOf(id), vm.addr(KEY_D));
    }

    /// @dev While its member is suspended, the stolen key can neither propose a key nor change the node key.
    function _expectStolenKeyLockedOut(uint64 id, address stolen, address thief, ConsortiumRegistry.Status status)
        private
    {
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidStatus.selector, id, status));
        vm.prank(stolen);
        registry.proposeKeyRotation(thief);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidStatus.selector, id, status));
        vm.prank(stolen);
        registry.updateNodeKey(keccak256("thief's node"));
        assertEq(registry.getMember(id).nodeKeyFingerprint, FINGERPRINT);
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
        uint64 id = _join(KEY_A, "Hospital A");
        bytes32 next = keccak256("rotated node key");
        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.NodeKeyUpdated(id, next);
        vm.prank(a);
        registry.updateNodeKey(next);
        assertEq(registry.getMember(id).nodeKeyFingerprint, next);

        vm.prank(a);
        registry.updateNodeKey(FINGERPRINT);
        assertEq(registry.getMember(id).nodeKeyFingerprint, FINGERPRINT);
    }

    function test_UpdateNodeKey_RevertsUnlessActive() public {
        uint64 id = _request(KEY_A, "Hospital A");
        bytes32 next = keccak256("rotated node key");
        // A pending member keeps the fingerprint it requested with.
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumRegistry.ConsortiumRegistryInvalidStatus.selector, id, ConsortiumRegistry.Status.Pending
            )
        );
        vm.prank(a);
        registry.updateNodeKey(next);

        vm.startPrank(ADMIN);
        registry.approveMembership(id);
        registry.suspendMember(id, "audit");
        vm.stopPrank();
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumRegistry.ConsortiumRegistryInvalidStatus.selector, id, ConsortiumRegistry.Status.Suspended
            )
        );
        vm.prank(a);
        registry.updateNodeKey(next);
        assertEq(registry.getMember(id).nodeKeyFingerprint, FINGERPRINT);

        vm.prank(ADMIN);
        registry.reinstateMember(id);
        vm.prank(a);
        registry.updateNodeKey(next);
        assertEq(registry.getMember(id).nodeKeyFingerprint, next);
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
        emit ConsortiumRegistry.GovernanceChanged(ADMIN, true, 2);
        vm.prank(ADMIN);
        registry.setGovernance(true, 2);
        (bool enabled, uint16 quorum) = registry.governance();
        assertTrue(enabled);
        assertEq(quorum, 2);

        // Turning it off (by the members' decision) stores quorum 0 whatever is passed.
        _approveDecision(_keys(KEY_A, KEY_B), registry.governanceDecision(false, 7));
        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.GovernanceChanged(STRANGER, false, 0);
        vm.prank(STRANGER);
        registry.setGovernance(false, 7);
        (enabled, quorum) = registry.governance();
        assertFalse(enabled);
        assertEq(quorum, 0);

        // While it is off, the admin switches it off again (a no-op) or on.
        vm.prank(ADMIN);
        registry.setGovernance(false, 0);
        (enabled,) = registry.governance();
        assertFalse(enabled);
    }

    function test_SetGovernance_EventNamesTheCallingAdmin() public {
        _enrolHospitals();
        vm.prank(ADMIN);
        registry.beginDefaultAdminTransfer(STRANGER);
        vm.warp(block.timestamp + ADMIN_DELAY + 1);
        vm.prank(STRANGER);
        registry.acceptDefaultAdminTransfer();
        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.GovernanceChanged(STRANGER, true, 3);
        vm.prank(STRANGER);
        registry.setGovernance(true, 3);
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
        vm.stopPrank();

        // Once on, a decision changes the quorum, within the same bounds; suspended members do not count.
        _approveDecision(_keys(KEY_A, KEY_B, KEY_C), registry.governanceDecision(true, 1));
        registry.setGovernance(true, 1);
        (, uint16 quorum) = registry.governance();
        assertEq(quorum, 1);
        vm.prank(ADMIN);
        registry.suspendMember(3, "x");
        _approveDecision(_keys(KEY_A), registry.governanceDecision(true, 3));
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidQuorum.selector, 3, 2));
        registry.setGovernance(true, 3);
        _approveDecision(_keys(KEY_A), registry.governanceDecision(true, 0));
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidQuorum.selector, 0, 2));
        registry.setGovernance(true, 0);
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

        // Nor can it leave governance mode to approve alone: that takes the members' decision.
        bytes32 off = registry.governanceDecision(false, 0);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryDecisionNotApproved.selector, off));
        vm.prank(ADMIN);
        registry.setGovernance(false, 0);
        // Once the members decided it, the admin approves again.
        _approveDecision(_keys(KEY_B), off);
        registry.setGovernance(false, 0);
        vm.prank(ADMIN);
        registry.approveMembership(id);
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

        _approveDecision(_keys(KEY_A, KEY_B, KEY_C), registry.governanceDecision(true, 2));
        registry.setGovernance(true, 2);
        assertEq(uint8(registry.getMember(id).status), uint8(ConsortiumRegistry.Status.Pending));
        vm.prank(c);
        registry.approveMembership(id);
        assertEq(uint8(registry.getMember(id).status), uint8(ConsortiumRegistry.Status.Active));
        assertEq(registry.getMember(id).approvals, 3);
    }
}
