// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ConsortiumAccess} from "../src/ConsortiumAccess.sol";
import {ConsortiumRegistry} from "../src/ConsortiumRegistry.sol";
import {RoundLedger} from "../src/RoundLedger.sol";
import {ConsortiumFixture} from "./utils/ConsortiumFixture.sol";

/// @title RoundLedgerLineageTest
/// @notice Model lineage and approved apps of {RoundLedger}: every round opens from the lineage head (the
/// previous round's aggregate, or the model a new lineage starts from), and a lineage or an app changes
/// only by the admin while governance is off, or by a decision the members' quorum approved while it is
/// on, each approval good for one decision.
contract RoundLedgerLineageTest is ConsortiumFixture {
    bytes32 private constant OTHER_APP = keccak256("another flower app bundle");
    bytes32 private constant FRESH = keccak256("freshly initialised model");

    function setUp() public override {
        super.setUp();
        _enrolHospitals();
    }

    function _startLineage(bytes32 model, string memory reason) private {
        vm.prank(ADMIN);
        ledger.startLineage(model, reason);
    }

    function _assertHead(bytes32 model, uint256 round, uint256 lineage) private view {
        (bytes32 head, uint256 headRound, uint256 headLineage) = ledger.lineageHead();
        assertEq(head, model, "head model");
        assertEq(headRound, round, "head round");
        assertEq(headLineage, lineage, "lineage");
    }

    // ---------------------------------------------------------------- lineage, admin mode

    function test_Lineage_NoneBeforeTheFirstStart() public {
        (RoundLedger fresh,) = _deployLedgers(registry, INITIAL_REPUTATION, SMOOTHING, EXCLUSION_THRESHOLD);
        (bytes32 head, uint256 round, uint256 lineage) = fresh.lineageHead();
        assertEq(head, bytes32(0));
        assertEq(round, 0);
        assertEq(lineage, 0);
        vm.prank(ADMIN);
        fresh.approveApp(APP);
        // No model to open from, not even the zero hash.
        vm.startPrank(COORDINATOR);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerNotOnLineage.selector, bytes32(0), bytes32(0)));
        fresh.openRound(bytes32(0), CONFIG, APP);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerNotOnLineage.selector, GENESIS, bytes32(0)));
        fresh.openRound(GENESIS, CONFIG, APP);
        vm.stopPrank();

        vm.expectEmit(true, true, true, true, address(fresh));
        emit RoundLedger.LineageStarted(1, GENESIS, ADMIN, "genesis");
        vm.prank(ADMIN);
        fresh.startLineage(GENESIS, "genesis");
        (head, round, lineage) = fresh.lineageHead();
        assertEq(head, GENESIS);
        assertEq(lineage, 1);
    }

    function test_Lineage_FixtureStartsFromGenesis() public view {
        _assertHead(GENESIS, 0, 1);
    }

    /// @dev Once a round is finalized its aggregate is the only model to open from: not the older head.
    function test_OpenRound_FromANonHeadModelReverts() public {
        uint256 round = _completeRound(_keys(KEY_A), _ids(1));
        bytes32 agg = _aggregateHash(round);
        _assertHead(agg, round, 1);
        vm.startPrank(COORDINATOR);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerNotOnLineage.selector, GENESIS, agg));
        ledger.openRound(GENESIS, CONFIG, APP);
        bytes32 outside = keccak256("a model from outside the consortium");
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerNotOnLineage.selector, outside, agg));
        ledger.openRound(outside, CONFIG, APP);
        vm.stopPrank();
    }

    function testFuzz_OpenRound_OnlyFromTheHead(bytes32 model) public {
        uint256 round = _completeRound(_keys(KEY_A), _ids(1));
        bytes32 agg = _aggregateHash(round);
        vm.assume(model != agg);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerNotOnLineage.selector, model, agg));
        vm.prank(COORDINATOR);
        ledger.openRound(model, CONFIG, APP);
    }

    /// @dev A rollback: round 2's aggregate is bad, so the admin starts lineage 2 from round 1's aggregate;
    /// round 3 opens from it with no parent, and round 4 follows round 3.
    function test_StartLineage_RollbackByTheAdmin() public {
        _completeRound(_keys(KEY_A), _ids(1));
        _completeRound(_keys(KEY_A), _ids(1));
        bytes32 good = _aggregateHash(1);
        _assertHead(_aggregateHash(2), 2, 1);

        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.LineageStarted(2, good, ADMIN, "rollback: round 2 poisoned");
        _startLineage(good, "rollback: round 2 poisoned");
        _assertHead(good, 0, 2);

        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerNotOnLineage.selector, _aggregateHash(2), good));
        vm.prank(COORDINATOR);
        ledger.openRound(_aggregateHash(2), CONFIG, APP);

        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.RoundOpened(3, good, CONFIG, APP, 0, 2);
        uint256 round = _openRound();
        assertEq(round, 3);
        RoundLedger.Round memory r = ledger.getRound(3);
        assertEq(r.globalModelHash, good);
        assertEq(r.parentRound, 0);
        assertEq(r.lineage, 2);
        _submit(round, _keys(KEY_A));
        _finalize(round, _ids(1));
        _openRound();
        r = ledger.getRound(4);
        assertEq(r.globalModelHash, _aggregateHash(3));
        assertEq(r.parentRound, 3);
        assertEq(r.lineage, 2);
        // Earlier rounds keep their lineage.
        assertEq(ledger.getRound(2).lineage, 1);
        assertEq(ledger.getRound(2).parentRound, 1);
    }

    /// @dev A fresh model restarts training from scratch, and the same model may start a lineage again.
    function test_StartLineage_FreshModelAndRepeat() public {
        _startLineage(FRESH, "new architecture");
        _assertHead(FRESH, 0, 2);
        _startLineage(FRESH, "new architecture");
        _assertHead(FRESH, 0, 3);
        assertEq(_openRound(), 1);
        assertEq(ledger.getRound(1).lineage, 3);
    }

    function test_StartLineage_RevertsWhileARoundIsOpen() public {
        uint256 round = _openRound();
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerRoundStillOpen.selector, round));
        _startLineage(FRESH, "mid-round switch");
        _assertHead(GENESIS, 0, 1);
        _finalize(round, _ids());
        _startLineage(FRESH, "after the round");
        _assertHead(FRESH, 0, 2);
    }

    function test_StartLineage_RevertsOnZeroModel() public {
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerEmptyValue.selector, 0));
        _startLineage(bytes32(0), "nothing");
    }

    function test_StartLineage_OnlyTheAdmin() public {
        address[3] memory callers = [COORDINATOR, STRANGER, vm.addr(KEY_A)];
        for (uint256 i = 0; i < callers.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(ConsortiumAccess.ConsortiumAccessUnauthorized.selector, callers[i], bytes32(0))
            );
            vm.prank(callers[i]);
            ledger.startLineage(FRESH, "not mine to start");
        }
        _assertHead(GENESIS, 0, 1);
    }

    // ---------------------------------------------------------------- lineage, governance mode

    function test_StartLineage_ByGovernanceQuorum() public {
        _completeRound(_keys(KEY_A), _ids(1));
        _enableGovernance(2);
        string memory reason = "rollback to genesis";
        bytes32 decision = ledger.lineageDecision(GENESIS, reason);

        // The admin alone can no longer do it.
        vm.expectRevert(abi.encodeWithSelector(ConsortiumAccess.ConsortiumAccessDecisionNotApproved.selector, decision));
        _startLineage(GENESIS, reason);
        // One approval is not the quorum.
        _approveDecision(_keys(KEY_A), decision);
        assertFalse(registry.isDecided(decision));
        vm.expectRevert(abi.encodeWithSelector(ConsortiumAccess.ConsortiumAccessDecisionNotApproved.selector, decision));
        vm.prank(STRANGER);
        ledger.startLineage(GENESIS, reason);

        _approveDecision(_keys(KEY_C), decision);
        assertTrue(registry.isDecided(decision));
        assertEq(registry.decisionApprovals(decision), 2);
        // Anyone carries out an approved decision.
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.LineageStarted(2, GENESIS, STRANGER, reason);
        vm.prank(STRANGER);
        ledger.startLineage(GENESIS, reason);
        _assertHead(GENESIS, 0, 2);
        assertEq(_openRound(), 2);
        assertEq(ledger.getRound(2).globalModelHash, GENESIS);
    }

    /// @dev Each approval is good for one decision: after it is carried out the same call needs a new id,
    /// which nobody approved, and the old id's approvals are spent.
    function test_StartLineage_DecisionCannotBeReplayed() public {
        _enableGovernance(2);
        bytes32 decision = ledger.lineageDecision(FRESH, "restart");
        _approveDecision(_keys(KEY_A, KEY_B), decision);
        ledger.startLineage(FRESH, "restart");
        _assertHead(FRESH, 0, 2);

        bytes32 next = ledger.lineageDecision(FRESH, "restart");
        assertNotEq(next, decision);
        assertTrue(registry.isDecided(decision), "the old id keeps its approvals...");
        vm.expectRevert(abi.encodeWithSelector(ConsortiumAccess.ConsortiumAccessDecisionNotApproved.selector, next));
        ledger.startLineage(FRESH, "restart");
        _assertHead(FRESH, 0, 2);

        // ...and a member cannot approve it again either.
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryDecisionAlreadyApproved.selector, decision, 1)
        );
        vm.prank(vm.addr(KEY_A));
        registry.approveDecision(decision);
    }

    /// @dev A decision names its model and reason: approving a rollback to one model starts no other.
    function test_StartLineage_DecisionIsBoundToModelAndReason() public {
        _enableGovernance(1);
        bytes32 decision = ledger.lineageDecision(FRESH, "restart");
        assertNotEq(ledger.lineageDecision(GENESIS, "restart"), decision);
        assertNotEq(ledger.lineageDecision(FRESH, "restart!"), decision);
        _approveDecision(_keys(KEY_A), decision);
        bytes32 other = ledger.lineageDecision(GENESIS, "restart");
        vm.expectRevert(abi.encodeWithSelector(ConsortiumAccess.ConsortiumAccessDecisionNotApproved.selector, other));
        ledger.startLineage(GENESIS, "restart");
        // Nor is a lineage decision an app decision.
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumAccess.ConsortiumAccessDecisionNotApproved.selector, ledger.appDecision(FRESH, true)
            )
        );
        ledger.approveApp(FRESH);
        ledger.startLineage(FRESH, "restart");
        _assertHead(FRESH, 0, 2);
    }

    /// @dev An approved decision cannot start a lineage while a round is open; it stays good for when the
    /// round is finalized.
    function test_StartLineage_ApprovedDecisionWaitsForTheOpenRound() public {
        _enableGovernance(2);
        uint256 round = _openRound();
        bytes32 decision = ledger.lineageDecision(FRESH, "restart");
        _approveDecision(_keys(KEY_B, KEY_C), decision);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerRoundStillOpen.selector, round));
        ledger.startLineage(FRESH, "restart");
        _finalize(round, _ids());
        ledger.startLineage(FRESH, "restart");
        _assertHead(FRESH, 0, 2);
    }

    /// @dev Decisions live on the contract that computes them: the same approvals on another ledger's id
    /// do nothing here.
    function test_LineageDecision_IsBoundToTheLedgerAndChain() public {
        (RoundLedger other,) = _deployLedgers(registry, INITIAL_REPUTATION, SMOOTHING, EXCLUSION_THRESHOLD);
        assertNotEq(other.lineageDecision(FRESH, "x"), ledger.lineageDecision(FRESH, "x"));
        bytes32 here = ledger.lineageDecision(FRESH, "x");
        vm.chainId(block.chainid + 1);
        assertNotEq(ledger.lineageDecision(FRESH, "x"), here);
    }

    // ---------------------------------------------------------------- apps

    function test_Apps_AdminApprovesAndRevokes() public {
        assertTrue(ledger.isAppApproved(APP));
        assertFalse(ledger.isAppApproved(OTHER_APP));
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerAppNotApproved.selector, OTHER_APP));
        vm.prank(COORDINATOR);
        ledger.openRound(GENESIS, CONFIG, OTHER_APP);

        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.AppApproved(OTHER_APP, ADMIN);
        vm.prank(ADMIN);
        ledger.approveApp(OTHER_APP);
        assertTrue(ledger.isAppApproved(OTHER_APP));
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.RoundOpened(1, GENESIS, CONFIG, OTHER_APP, 0, 1);
        vm.prank(COORDINATOR);
        ledger.openRound(GENESIS, CONFIG, OTHER_APP);
        _finalize(1, _ids());

        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.AppRevoked(APP, ADMIN);
        vm.prank(ADMIN);
        ledger.revokeApp(APP);
        assertFalse(ledger.isAppApproved(APP));
        (bytes32 head,,) = ledger.lineageHead();
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerAppNotApproved.selector, APP));
        vm.prank(COORDINATOR);
        ledger.openRound(head, CONFIG, APP);
    }

    /// @dev Revoking an app does not touch the round already open with it.
    function test_Apps_RevokeLeavesTheOpenRound() public {
        uint256 round = _openRound();
        vm.prank(ADMIN);
        ledger.revokeApp(APP);
        _submit(round, _keys(KEY_A));
        _finalize(round, _ids(1));
        assertEq(uint8(ledger.getRound(round).status), uint8(RoundLedger.RoundStatus.Finalized));
    }

    function test_Apps_OnlyTheAdmin() public {
        address[2] memory callers = [COORDINATOR, vm.addr(KEY_A)];
        for (uint256 i = 0; i < callers.length; ++i) {
            bytes memory denied =
                abi.encodeWithSelector(ConsortiumAccess.ConsortiumAccessUnauthorized.selector, callers[i], bytes32(0));
            vm.expectRevert(denied);
            vm.prank(callers[i]);
            ledger.approveApp(OTHER_APP);
            vm.expectRevert(denied);
            vm.prank(callers[i]);
            ledger.revokeApp(APP);
        }
        assertTrue(ledger.isAppApproved(APP));
        assertFalse(ledger.isAppApproved(OTHER_APP));
    }

    function test_Apps_ByGovernanceQuorum() public {
        _enableGovernance(2);
        bytes32 approve = ledger.appDecision(OTHER_APP, true);
        bytes32 revoke = ledger.appDecision(APP, false);
        assertNotEq(approve, ledger.appDecision(OTHER_APP, false));

        vm.expectRevert(abi.encodeWithSelector(ConsortiumAccess.ConsortiumAccessDecisionNotApproved.selector, approve));
        vm.prank(ADMIN);
        ledger.approveApp(OTHER_APP);
        _approveDecision(_keys(KEY_A, KEY_B), approve);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.AppApproved(OTHER_APP, STRANGER);
        vm.prank(STRANGER);
        ledger.approveApp(OTHER_APP);
        assertTrue(ledger.isAppApproved(OTHER_APP));

        // The revoke id computed before the approval was carried out still holds: decisions are counted per
        // subject, and approving another app is another subject.
        assertEq(ledger.appDecision(APP, false), revoke);
        // An approval to approve is no approval to revoke.
        _approveDecision(_keys(KEY_B, KEY_C), ledger.appDecision(APP, true));
        vm.expectRevert(abi.encodeWithSelector(ConsortiumAccess.ConsortiumAccessDecisionNotApproved.selector, revoke));
        ledger.revokeApp(APP);
        _approveDecision(_keys(KEY_A, KEY_C), revoke);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.AppRevoked(APP, address(this));
        ledger.revokeApp(APP);
        assertFalse(ledger.isAppApproved(APP));

        // Replaying the revoke does nothing: the next id is unapproved.
        bytes32 next = ledger.appDecision(APP, false);
        assertNotEq(next, revoke);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumAccess.ConsortiumAccessDecisionNotApproved.selector, next));
        ledger.revokeApp(APP);
        // The approval of APP the members gave meanwhile is still pending, and brings it back.
        ledger.approveApp(APP);
        assertTrue(ledger.isAppApproved(APP));
    }

    /// @dev Two decisions pending at once (approve an app, start a lineage) are both carried out, one after
    /// the other and in either order, without the members approving again; a decision carried out cannot be
    /// replayed, whether right away or after the other one.
    function test_Decisions_PendingOnesSurviveEachOther() public {
        _enableGovernance(2);
        bytes32 app = ledger.appDecision(OTHER_APP, true);
        bytes32 lineage = ledger.lineageDecision(FRESH, "restart");
        _approveDecision(_keys(KEY_A, KEY_B), app);
        _approveDecision(_keys(KEY_B, KEY_C), lineage);

        vm.prank(STRANGER);
        ledger.startLineage(FRESH, "restart");
        _assertHead(FRESH, 0, 2);
        assertEq(ledger.appDecision(OTHER_APP, true), app, "the app decision is untouched by the lineage one");
        bytes32 nextLineage = ledger.lineageDecision(FRESH, "restart");
        assertNotEq(nextLineage, lineage);
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumAccess.ConsortiumAccessDecisionNotApproved.selector, nextLineage)
        );
        ledger.startLineage(FRESH, "restart");

        vm.prank(STRANGER);
        ledger.approveApp(OTHER_APP);
        assertTrue(ledger.isAppApproved(OTHER_APP));
        bytes32 nextApp = ledger.appDecision(OTHER_APP, true);
        assertNotEq(nextApp, app);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumAccess.ConsortiumAccessDecisionNotApproved.selector, nextApp));
        ledger.approveApp(OTHER_APP);
        // Carrying out the app decision did not revive the lineage one either.
        assertEq(ledger.lineageDecision(FRESH, "restart"), nextLineage);
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumAccess.ConsortiumAccessDecisionNotApproved.selector, nextLineage)
        );
        ledger.startLineage(FRESH, "restart");
        _assertHead(FRESH, 0, 2);
        assertEq(_openRound(), 1);
        assertEq(ledger.getRound(1).globalModelHash, FRESH);
    }

    /// @dev Leaving governance (by a decision) gives the admin its say back.
    function test_Apps_AdminActsAgainAfterGovernanceIsSwitchedOff() public {
        _enableGovernance(2);
        bytes32 off = registry.governanceDecision(false, 0);
        _approveDecision(_keys(KEY_A, KEY_B), off);
        registry.setGovernance(false, 0);
        vm.prank(ADMIN);
        ledger.approveApp(OTHER_APP);
        assertTrue(ledger.isAppApproved(OTHER_APP));
    }

    /// @dev The reputation ledger's parameters stay with the admin in both modes (not a decision).
    function test_ReputationParameters_StayWithTheAdminUnderGovernance() public {
        _enableGovernance(3);
        vm.prank(ADMIN);
        reputation.setParameters(4_000, SMOOTHING, 2_000);
        (uint16 initial,, uint16 threshold) = reputation.parameters();
        assertEq(initial, 4_000);
        assertEq(threshold, 2_000);
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumAccess.ConsortiumAccessUnauthorized.selector, vm.addr(KEY_A), bytes32(0))
        );
        vm.prank(vm.addr(KEY_A));
        reputation.setParameters(4_000, SMOOTHING, 2_000);
    }
}
