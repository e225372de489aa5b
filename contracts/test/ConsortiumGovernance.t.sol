// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {
    IAccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/IAccessControlDefaultAdminRules.sol";
import {CONSORTIUM_COORDINATOR_ROLE, ConsortiumRegistry} from "../src/ConsortiumRegistry.sol";
import {ConsortiumFixture} from "./utils/ConsortiumFixture.sol";

/// @title ConsortiumGovernanceTest
/// @notice The registry's rules on who decides: member decisions (approved by the quorum, each approval
/// good once), governance switched on by the admin but changed or switched off only by a decision, role
/// keys and member keys kept apart, the admin moved only by a two-step transfer with a delay, and the
/// members' recovery of a lost admin key.
contract ConsortiumGovernanceTest is ConsortiumFixture {
    bytes32 private constant ADMIN_ROLE = 0x00;
    bytes32 private constant SOME_DECISION = keccak256("some decision");
    address private constant NEW_ADMIN = address(0xAD2);
    uint256 private constant KEY_D = 0xD004;
    uint256 private constant KEY_NEW = 0x7E57;

    function setUp() public override {
        super.setUp();
        _enrolHospitals();
    }

    function _governance() private view returns (bool enabled, uint16 quorum) {
        return registry.governance();
    }

    // ---------------------------------------------------------------- decisions

    function test_ApproveDecision_CountsMembersOnce() public {
        _enableGovernance(2);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.DecisionApproved(SOME_DECISION, 1, 1);
        vm.prank(vm.addr(KEY_A));
        registry.approveDecision(SOME_DECISION);
        assertEq(registry.decisionApprovals(SOME_DECISION), 1);
        assertTrue(registry.hasApprovedDecision(SOME_DECISION, 1));
        assertFalse(registry.hasApprovedDecision(SOME_DECISION, 2));
        assertFalse(registry.isDecided(SOME_DECISION));

        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumRegistry.ConsortiumRegistryDecisionAlreadyApproved.selector, SOME_DECISION, 1
            )
        );
        vm.prank(vm.addr(KEY_A));
        registry.approveDecision(SOME_DECISION);

        // Approvals are per member, not per key: a rotated key cannot approve again.
        vm.prank(vm.addr(KEY_A));
        registry.proposeKeyRotation(vm.addr(KEY_NEW));
        vm.prank(vm.addr(KEY_NEW));
        registry.acceptKeyRotation(1);
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumRegistry.ConsortiumRegistryDecisionAlreadyApproved.selector, SOME_DECISION, 1
            )
        );
        vm.prank(vm.addr(KEY_NEW));
        registry.approveDecision(SOME_DECISION);

        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.DecisionApproved(SOME_DECISION, 3, 2);
        vm.prank(vm.addr(KEY_C));
        registry.approveDecision(SOME_DECISION);
        assertTrue(registry.isDecided(SOME_DECISION));
    }

    function test_ApproveDecision_OnlyActiveMembers() public {
        _enableGovernance(1);
        address[3] memory outsiders = [ADMIN, COORDINATOR, STRANGER];
        for (uint256 i = 0; i < outsiders.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNotActiveMember.selector, outsiders[i])
            );
            vm.prank(outsiders[i]);
            registry.approveDecision(SOME_DECISION);
        }
        _request(KEY_D, "Hospital D");
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNotActiveMember.selector, vm.addr(KEY_D))
        );
        vm.prank(vm.addr(KEY_D));
        registry.approveDecision(SOME_DECISION);
        vm.prank(ADMIN);
        registry.suspendMember(2, "audit");
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNotActiveMember.selector, vm.addr(KEY_B))
        );
        vm.prank(vm.addr(KEY_B));
        registry.approveDecision(SOME_DECISION);
        assertEq(registry.decisionApprovals(SOME_DECISION), 0);
    }

    function test_ApproveDecision_RevertsWithGovernanceOff() public {
        vm.expectRevert(ConsortiumRegistry.ConsortiumRegistryGovernanceOff.selector);
        vm.prank(vm.addr(KEY_A));
        registry.approveDecision(SOME_DECISION);
    }

    /// @dev Approvals collected while governance was on decide nothing once it is off.
    function test_IsDecided_FalseWithGovernanceOff() public {
        _enableGovernance(1);
        _approveDecision(_keys(KEY_A), SOME_DECISION);
        assertTrue(registry.isDecided(SOME_DECISION));
        _approveDecision(_keys(KEY_A), registry.governanceDecision(false, 0));
        registry.setGovernance(false, 0);
        assertFalse(registry.isDecided(SOME_DECISION));
        assertEq(registry.decisionApprovals(SOME_DECISION), 1);
    }

    // ---------------------------------------------------------------- switching governance

    function test_SetGovernance_OnlyByDecisionOnceOn() public {
        _enableGovernance(2);
        bytes32 lower = registry.governanceDecision(true, 1);
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryDecisionNotApproved.selector, lower)
        );
        vm.prank(ADMIN);
        registry.setGovernance(true, 1);

        _approveDecision(_keys(KEY_A, KEY_B), lower);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.GovernanceChanged(STRANGER, true, 1);
        vm.prank(STRANGER);
        registry.setGovernance(true, 1);
        (bool enabled, uint16 quorum) = _governance();
        assertTrue(enabled);
        assertEq(quorum, 1);

        // The decision is spent: the same change needs a new id.
        bytes32 again = registry.governanceDecision(true, 1);
        assertNotEq(again, lower);
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryDecisionNotApproved.selector, again)
        );
        registry.setGovernance(true, 1);
    }

    /// @dev A decision names what it changes: approving quorum 3 does not allow switching off.
    function test_SetGovernance_DecisionIsBoundToItsSettings() public {
        _enableGovernance(1);
        _approveDecision(_keys(KEY_A), registry.governanceDecision(true, 3));
        bytes32 off = registry.governanceDecision(false, 0);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryDecisionNotApproved.selector, off));
        registry.setGovernance(false, 0);
        bytes32 offSeven = registry.governanceDecision(false, 7);
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryDecisionNotApproved.selector, offSeven)
        );
        registry.setGovernance(false, 7);
        registry.setGovernance(true, 3);
        (, uint16 quorum) = _governance();
        assertEq(quorum, 3);
    }

    /// @dev The issue's scenario: an admin who wants to decide alone switches governance off, approves,
    /// and switches it back on. Each step fails: switching off needs the members' decision, the admin
    /// cannot approve a decision (it is no member, and no member key can be an admin), and governance
    /// stays on with its quorum.
    function test_Scenario_AdminCannotSwitchGovernanceOffToDecideAlone() public {
        _enableGovernance(2);
        uint64 pending = _request(KEY_D, "Hospital D (the admin's friend)");

        bytes32 off = registry.governanceDecision(false, 0);
        vm.startPrank(ADMIN);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryDecisionNotApproved.selector, off));
        registry.setGovernance(false, 0);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNotActiveMember.selector, ADMIN));
        registry.approveDecision(off);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNotActiveMember.selector, ADMIN));
        registry.approveMembership(pending);
        bytes32 on = registry.governanceDecision(true, 2);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryDecisionNotApproved.selector, on));
        registry.setGovernance(true, 2);
        // The admin's key cannot become a member to vote either.
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryRoleKeyConflict.selector, ADMIN));
        registry.requestMembership("Admin's hospital", FINGERPRINT, "");
        vm.stopPrank();

        (bool enabled, uint16 quorum) = _governance();
        assertTrue(enabled);
        assertEq(quorum, 2);
        assertEq(uint8(registry.getMember(pending).status), uint8(ConsortiumRegistry.Status.Pending));
        // One member alone cannot switch it off either.
        _approveDecision(_keys(KEY_A), off);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryDecisionNotApproved.selector, off));
        vm.prank(ADMIN);
        registry.setGovernance(false, 0);
    }

    // ---------------------------------------------------------------- role keys and member keys

    function test_RoleKeys_CannotRequestMembership() public {
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryRoleKeyConflict.selector, COORDINATOR)
        );
        vm.prank(COORDINATOR);
        registry.requestMembership("Coordinator's hospital", FINGERPRINT, "");
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryRoleKeyConflict.selector, ADMIN));
        vm.prank(ADMIN);
        registry.requestMembership("Admin's hospital", FINGERPRINT, "");
        // Once the role is revoked, the key is an ordinary key again.
        vm.startPrank(ADMIN);
        registry.revokeRole(CONSORTIUM_COORDINATOR_ROLE, COORDINATOR);
        vm.stopPrank();
        vm.prank(COORDINATOR);
        assertEq(registry.requestMembership("Former coordinator", FINGERPRINT, ""), 4);
    }

    function test_RoleKeys_MemberKeysGetNoRole() public {
        address b = vm.addr(KEY_B);
        vm.startPrank(ADMIN);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryRoleKeyConflict.selector, b));
        registry.grantRole(CONSORTIUM_COORDINATOR_ROLE, b);
        // A pending or suspended member's key neither.
        vm.stopPrank();
        _request(KEY_D, "Hospital D");
        vm.startPrank(ADMIN);
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryRoleKeyConflict.selector, vm.addr(KEY_D))
        );
        registry.grantRole(CONSORTIUM_COORDINATOR_ROLE, vm.addr(KEY_D));
        registry.suspendMember(2, "audit");
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryRoleKeyConflict.selector, b));
        registry.grantRole(CONSORTIUM_COORDINATOR_ROLE, b);
        // A rejected request frees the key for a role.
        registry.rejectMembership(4, "no");
        registry.grantRole(CONSORTIUM_COORDINATOR_ROLE, vm.addr(KEY_D));
        vm.stopPrank();
        assertTrue(registry.hasRole(CONSORTIUM_COORDINATOR_ROLE, vm.addr(KEY_D)));
        assertFalse(registry.hasRole(CONSORTIUM_COORDINATOR_ROLE, b));
    }

    function test_RoleKeys_CannotBecomeASignerByRotation() public {
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidSigner.selector, COORDINATOR)
        );
        vm.prank(vm.addr(KEY_A));
        registry.proposeKeyRotation(COORDINATOR);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidSigner.selector, ADMIN));
        vm.prank(ADMIN);
        registry.adminProposeKeyRotation(1, ADMIN);

        // A key given a role between proposal and acceptance cannot accept.
        address fresh = vm.addr(KEY_NEW);
        vm.prank(vm.addr(KEY_A));
        registry.proposeKeyRotation(fresh);
        vm.startPrank(ADMIN);
        registry.grantRole(CONSORTIUM_COORDINATOR_ROLE, fresh);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidSigner.selector, fresh));
        vm.prank(fresh);
        registry.acceptKeyRotation(1);
        assertEq(registry.signerOf(1), vm.addr(KEY_A));
    }

    /// @dev A member key proposed as the next admin cannot accept: it would hold a role.
    function test_RoleKeys_MemberKeyCannotBecomeAdmin() public {
        address a = vm.addr(KEY_A);
        vm.prank(ADMIN);
        registry.beginDefaultAdminTransfer(a);
        vm.warp(block.timestamp + ADMIN_DELAY + 1);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryRoleKeyConflict.selector, a));
        vm.prank(a);
        registry.acceptDefaultAdminTransfer();
        assertEq(registry.defaultAdmin(), ADMIN);
    }

    /// @dev The issue's scenario, registry side: a coordinator that wants to pay itself needs a member key,
    /// and its own key can never be one.
    function test_Scenario_CoordinatorKeyIsNeverAMember() public {
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryRoleKeyConflict.selector, COORDINATOR)
        );
        vm.prank(COORDINATOR);
        registry.requestMembership("Sybil", FINGERPRINT, "");
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidSigner.selector, COORDINATOR)
        );
        vm.prank(vm.addr(KEY_C));
        registry.proposeKeyRotation(COORDINATOR);
        assertEq(registry.memberIdOf(COORDINATOR), 0);
        assertEq(registry.activeMemberIdOf(COORDINATOR), 0);
    }

    // ---------------------------------------------------------------- admin transfer

    function test_AdminTransfer_TwoStepsWithDelay() public {
        vm.warp(1_000);
        vm.prank(ADMIN);
        registry.beginDefaultAdminTransfer(NEW_ADMIN);
        (address pendingAdmin, uint48 schedule) = registry.pendingDefaultAdmin();
        assertEq(pendingAdmin, NEW_ADMIN);
        assertEq(schedule, 1_000 + ADMIN_DELAY);

        vm.warp(1_000 + ADMIN_DELAY);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminDelay.selector, schedule
            )
        );
        vm.prank(NEW_ADMIN);
        registry.acceptDefaultAdminTransfer();
        vm.warp(1_000 + ADMIN_DELAY + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControlDefaultAdminRules.AccessControlInvalidDefaultAdmin.selector, STRANGER)
        );
        vm.prank(STRANGER);
        registry.acceptDefaultAdminTransfer();

        vm.prank(NEW_ADMIN);
        registry.acceptDefaultAdminTransfer();
        assertEq(registry.defaultAdmin(), NEW_ADMIN);
        assertTrue(registry.hasRole(ADMIN_ROLE, NEW_ADMIN));
        assertFalse(registry.hasRole(ADMIN_ROLE, ADMIN));
        // The old admin is out everywhere, the new one in.
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, ADMIN, ADMIN_ROLE)
        );
        vm.prank(ADMIN);
        registry.setGovernance(true, 1);
        vm.prank(NEW_ADMIN);
        ledger.approveApp(keccak256("app approved by the new admin"));
    }

    function test_AdminTransfer_NoShortcuts() public {
        vm.startPrank(ADMIN);
        vm.expectRevert(IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminRules.selector);
        registry.grantRole(ADMIN_ROLE, NEW_ADMIN);
        vm.expectRevert(IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminRules.selector);
        registry.revokeRole(ADMIN_ROLE, ADMIN);
        vm.stopPrank();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, STRANGER, ADMIN_ROLE)
        );
        vm.prank(STRANGER);
        registry.beginDefaultAdminTransfer(STRANGER);
        assertEq(registry.defaultAdmin(), ADMIN);
    }

    // ---------------------------------------------------------------- recovery by governance

    /// @dev The admin key is lost: the members approve a transfer to a new admin, anyone starts it, and the
    /// new admin accepts after the delay. The decision is good once.
    function test_GovernanceTransferAdmin_RecoversALostAdminKey() public {
        _enableGovernance(2);
        bytes32 decision = registry.adminTransferDecision(NEW_ADMIN);
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryDecisionNotApproved.selector, decision)
        );
        registry.governanceTransferAdmin(NEW_ADMIN);
        _approveDecision(_keys(KEY_A, KEY_C), decision);
        // The decision names the new admin.
        bytes32 other = registry.adminTransferDecision(STRANGER);
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryDecisionNotApproved.selector, other)
        );
        registry.governanceTransferAdmin(STRANGER);

        vm.warp(5_000);
        vm.prank(STRANGER);
        registry.governanceTransferAdmin(NEW_ADMIN);
        (address pendingAdmin, uint48 schedule) = registry.pendingDefaultAdmin();
        assertEq(pendingAdmin, NEW_ADMIN);
        assertEq(schedule, 5_000 + ADMIN_DELAY);
        bytes32 replay = registry.adminTransferDecision(NEW_ADMIN);
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryDecisionNotApproved.selector, replay)
        );
        registry.governanceTransferAdmin(NEW_ADMIN);

        vm.warp(5_000 + ADMIN_DELAY + 1);
        vm.prank(NEW_ADMIN);
        registry.acceptDefaultAdminTransfer();
        assertEq(registry.defaultAdmin(), NEW_ADMIN);
    }

    function test_GovernanceTransferAdmin_RevertsWithGovernanceOff() public {
        vm.expectRevert(ConsortiumRegistry.ConsortiumRegistryGovernanceOff.selector);
        registry.governanceTransferAdmin(NEW_ADMIN);
        vm.expectRevert(ConsortiumRegistry.ConsortiumRegistryGovernanceOff.selector);
        vm.prank(ADMIN);
        registry.governanceTransferAdmin(NEW_ADMIN);
    }

    /// @dev A thief holds the admin key while the members recover: in governance mode the key can neither
    /// cancel the members' transfer, nor start its own, nor change (or roll back) the delay, nor renounce the
    /// role to leave the consortium without an admin; the recovered admin accepts after the delay.
    function test_GovernanceTransferAdmin_StolenAdminKeyCannotBlockRecovery() public {
        address thief = ADMIN;
        _enableGovernance(2);
        _approveDecision(_keys(KEY_A, KEY_B), registry.adminTransferDecision(NEW_ADMIN));
        vm.warp(10_000);
        registry.governanceTransferAdmin(NEW_ADMIN);
        uint48 schedule = 10_000 + ADMIN_DELAY;

        vm.startPrank(thief);
        vm.expectRevert(ConsortiumRegistry.ConsortiumRegistryGovernanceOn.selector);
        registry.cancelDefaultAdminTransfer();
        vm.expectRevert(ConsortiumRegistry.ConsortiumRegistryGovernanceOn.selector);
        registry.beginDefaultAdminTransfer(thief);
        vm.expectRevert(ConsortiumRegistry.ConsortiumRegistryGovernanceOn.selector);
        registry.beginDefaultAdminTransfer(address(0));
        vm.expectRevert(ConsortiumRegistry.ConsortiumRegistryGovernanceOn.selector);
        registry.changeDefaultAdminDelay(30 days);
        vm.expectRevert(ConsortiumRegistry.ConsortiumRegistryGovernanceOn.selector);
        registry.rollbackDefaultAdminDelay();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminDelay.selector, schedule
            )
        );
        registry.renounceRole(ADMIN_ROLE, thief);
        vm.stopPrank();

        (address pendingAdmin, uint48 pendingSchedule) = registry.pendingDefaultAdmin();
        assertEq(pendingAdmin, NEW_ADMIN);
        assertEq(pendingSchedule, schedule);
        assertEq(registry.defaultAdminDelay(), ADMIN_DELAY);
        (uint48 pendingDelay,) = registry.pendingDefaultAdminDelay();
        assertEq(pendingDelay, 0, "no delay change pending");

        vm.warp(schedule);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminDelay.selector, schedule
            )
        );
        vm.prank(NEW_ADMIN);
        registry.acceptDefaultAdminTransfer();
        vm.warp(schedule + 1);
        vm.prank(NEW_ADMIN);
        registry.acceptDefaultAdminTransfer();
        assertEq(registry.defaultAdmin(), NEW_ADMIN);
        assertFalse(registry.hasRole(ADMIN_ROLE, thief));
    }

    /// @dev With governance off the admin keeps the whole default-admin toolset: change the delay and roll
    /// the change back, start a transfer and cancel it.
    function test_AdminTransfer_AdminToolsWithGovernanceOff() public {
        vm.startPrank(ADMIN);
        registry.changeDefaultAdminDelay(1 days);
        (uint48 newDelay, uint48 effect) = registry.pendingDefaultAdminDelay();
        assertEq(newDelay, 1 days);
        assertGt(effect, 0);
        registry.rollbackDefaultAdminDelay();
        (newDelay, effect) = registry.pendingDefaultAdminDelay();
        assertEq(newDelay, 0);
        assertEq(effect, 0);
        registry.beginDefaultAdminTransfer(NEW_ADMIN);
        (address pendingAdmin,) = registry.pendingDefaultAdmin();
        assertEq(pendingAdmin, NEW_ADMIN);
        registry.cancelDefaultAdminTransfer();
        (pendingAdmin,) = registry.pendingDefaultAdmin();
        assertEq(pendingAdmin, address(0));
        vm.stopPrank();
        assertEq(registry.defaultAdminDelay(), ADMIN_DELAY);
        assertEq(registry.defaultAdmin(), ADMIN);
    }

    /// @dev Registry decisions are counted per subject too: a quorum change and an admin transfer approved
    /// together are both carried out without new approvals, and neither can be replayed.
    function test_Decisions_PendingOnesSurviveEachOther() public {
        _enableGovernance(2);
        bytes32 quorum = registry.governanceDecision(true, 1);
        bytes32 transfer = registry.adminTransferDecision(NEW_ADMIN);
        _approveDecision(_keys(KEY_A, KEY_B), transfer);
        _approveDecision(_keys(KEY_B, KEY_C), quorum);

        registry.setGovernance(true, 1);
        (bool enabled, uint16 current) = _governance();
        assertTrue(enabled);
        assertEq(current, 1);
        assertEq(registry.adminTransferDecision(NEW_ADMIN), transfer, "the transfer decision is untouched");
        bytes32 nextQuorum = registry.governanceDecision(true, 1);
        assertNotEq(nextQuorum, quorum);
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryDecisionNotApproved.selector, nextQuorum)
        );
        registry.setGovernance(true, 1);

        registry.governanceTransferAdmin(NEW_ADMIN);
        (address pendingAdmin,) = registry.pendingDefaultAdmin();
        assertEq(pendingAdmin, NEW_ADMIN);
        bytes32 nextTransfer = registry.adminTransferDecision(NEW_ADMIN);
        assertNotEq(nextTransfer, transfer);
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryDecisionNotApproved.selector, nextTransfer)
        );
        registry.governanceTransferAdmin(NEW_ADMIN);
        assertEq(registry.governanceDecision(true, 1), nextQuorum, "nor did the transfer revive the quorum one");
    }
}
