// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ConsortiumAccess} from "../src/ConsortiumAccess.sol";
import {IExclusionOracle} from "../src/IExclusionOracle.sol";
import {RoundLedger} from "../src/RoundLedger.sol";
import {ConsortiumFixture} from "./utils/ConsortiumFixture.sol";

/// @title RoundLedgerPrivacyTest
/// @notice The privacy budget: each update carries the ε and δ its hospital signed; the ledger adds the ε
/// to the member's total in the round's lineage, skips an update that would pass the budget (or whose δ
/// exceeds it), and the budget is set at deployment and changed by the admin or a members' decision.
contract RoundLedgerPrivacyTest is ConsortiumFixture {
    /// @dev ε = 4 and δ = 1e-5 in the ledger's fixed-point units.
    uint64 private constant EPSILON_BUDGET = 4_000_000;
    uint64 private constant DELTA_BUDGET = 1e13;

    function setUp() public override {
        super.setUp();
        _enrolHospitals();
        vm.prank(ADMIN);
        ledger.setPrivacyBudget(RoundLedger.PrivacyBudget({epsilon: EPSILON_BUDGET, delta: DELTA_BUDGET}));
    }

    /// @dev `key`'s canonical update for `round` spending `epsilon` at the budget's δ.
    function _spending(uint256 key, uint256 round, uint64 epsilon)
        private
        view
        returns (RoundLedger.SignedUpdate memory)
    {
        return _spendingAt(key, round, epsilon, DELTA_BUDGET);
    }

    function _spendingAt(uint256 key, uint256 round, uint64 epsilon, uint64 delta)
        private
        view
        returns (RoundLedger.SignedUpdate memory)
    {
        RoundLedger.SignedUpdate memory u = _unsigned(_updateHash(key, round), _examples(key), epsilon, delta);
        return _signPrivate(ledger, key, round, _globalHash(round), u);
    }

    /// @dev Open a round, register `key`'s update spending `epsilon`, finalize with it if it registered.
    function _round(uint256 key, uint64 epsilon) private returns (uint256 round) {
        round = _openRound();
        _register(round, _one(_spending(key, round, epsilon)));
        _finalize(round, ledger.hasSubmitted(round, 1) ? _ids(1) : _ids());
    }

    function test_Constants_AreTheDocumentedUnits() public view {
        assertEq(ledger.EPSILON_UNIT(), 1e6);
        assertEq(ledger.DELTA_UNIT(), 1e18);
        assertEq(ledger.NOT_PRIVATE(), type(uint64).max);
    }

    function test_Register_AddsEachUpdatesEpsilonToTheMembersLineageTotal() public {
        uint256 round = _openRound();
        RoundLedger.SignedUpdate memory u = _spending(KEY_A, round, 1_500_000);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.UpdateRegistered(round, 1, u.updateHash, u.numExamples, 1_500_000, DELTA_BUDGET, 1_500_000);
        _register(round, _one(u));
        _finalize(round, _ids(1));

        round = _openRound();
        u = _spending(KEY_A, round, 1_250_000);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.UpdateRegistered(round, 1, u.updateHash, u.numExamples, 1_250_000, DELTA_BUDGET, 2_750_000);
        _register(round, _one(u));
        assertEq(ledger.epsilonSpent(1, 1), 2_750_000);
        assertEq(ledger.epsilonSpent(1, 2), 0, "another member spent nothing");
    }

    function test_Register_AcceptsAnUpdateThatReachesTheBudgetExactly() public {
        _round(KEY_A, 3_000_000);
        uint256 round = _round(KEY_A, 1_000_000);
        assertTrue(ledger.hasSubmitted(round, 1));
        assertEq(ledger.epsilonSpent(1, 1), EPSILON_BUDGET);
    }

    function test_Register_SkipsAnUpdateThatWouldPassTheBudgetAndKeepsTheOthers() public {
        _round(KEY_A, 3_000_000);
        uint256 round = _openRound();
        RoundLedger.SignedUpdate[] memory batch = new RoundLedger.SignedUpdate[](2);
        batch[0] = _spending(KEY_A, round, 1_000_001);
        batch[1] = _spending(KEY_B, round, 1_000_001);
        _expectSkipped(round, 0, vm.addr(KEY_A), batch[0].updateHash, RoundLedger.SkipReason.PrivacyBudgetExceeded);
        _register(round, batch);
        assertFalse(ledger.hasSubmitted(round, 1), "over budget: not registered");
        assertTrue(ledger.hasSubmitted(round, 2));
        assertEq(ledger.getRound(round).updateCount, 1);
        assertEq(ledger.epsilonSpent(1, 1), 3_000_000, "a skipped update spends nothing");
        assertEq(ledger.epsilonSpent(1, 2), 1_000_001);
    }

    function test_Register_SkipsAnUpdateWhoseDeltaExceedsTheBudget() public {
        uint256 round = _openRound();
        RoundLedger.SignedUpdate memory u = _spendingAt(KEY_A, round, 1, DELTA_BUDGET + 1);
        _expectSkipped(round, 0, vm.addr(KEY_A), u.updateHash, RoundLedger.SkipReason.PrivacyBudgetExceeded);
        _register(round, _one(u));
        assertFalse(ledger.hasSubmitted(round, 1));
        assertEq(ledger.epsilonSpent(1, 1), 0);
    }

    function test_Register_SkipsAnUpdateTrainedWithoutPrivacyUnderABudget() public {
        uint256 round = _openRound();
        RoundLedger.SignedUpdate memory u = _signed(KEY_A, round);
        _expectSkipped(round, 0, vm.addr(KEY_A), u.updateHash, RoundLedger.SkipReason.PrivacyBudgetExceeded);
        _register(round, _one(u));
        assertFalse(ledger.hasSubmitted(round, 1));
    }

    function test_Register_WithoutABudgetSaturatesTheTotalAtNotPrivate() public {
        vm.prank(ADMIN);
        ledger.setPrivacyBudget(_noBudget());
        _round(KEY_A, 2_000_000);
        uint256 round = _openRound();
        RoundLedger.SignedUpdate memory u = _signed(KEY_A, round);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.UpdateRegistered(round, 1, u.updateHash, u.numExamples, NOT_PRIVATE, 0, NOT_PRIVATE);
        _register(round, _one(u));
        assertEq(ledger.epsilonSpent(1, 1), NOT_PRIVATE);
    }

    function test_Register_ADuplicateSpendsNothing() public {
        uint256 round = _openRound();
        RoundLedger.SignedUpdate[] memory batch = new RoundLedger.SignedUpdate[](2);
        batch[0] = _spending(KEY_A, round, 1_000_000);
        batch[1] = _spending(KEY_A, round, 2_000_000);
        _expectSkipped(round, 1, vm.addr(KEY_A), batch[1].updateHash, RoundLedger.SkipReason.DuplicateUpdate);
        _register(round, batch);
        assertEq(ledger.epsilonSpent(1, 1), 1_000_000);
    }

    function test_Register_TheSignatureCoversEpsilonAndDelta() public {
        uint256 round = _openRound();
        RoundLedger.SignedUpdate memory lowered = _spending(KEY_A, round, 3_000_000);
        lowered.epsilonSpent = 1; // a coordinator understating what the hospital spent
        RoundLedger.SignedUpdate memory delta = _spending(KEY_B, round, 1);
        delta.deltaSpent = 0;
        RoundLedger.SignedUpdate[] memory batch = new RoundLedger.SignedUpdate[](2);
        (batch[0], batch[1]) = (lowered, delta);
        _register(round, batch);
        assertEq(ledger.getRound(round).updateCount, 0, "neither recovers to its member");
        assertEq(ledger.epsilonSpent(1, 1), 0);
        assertEq(ledger.epsilonSpent(1, 2), 0);
    }

    function test_Register_CountsEachLineageApart() public {
        _round(KEY_A, 3_500_000);
        vm.prank(ADMIN);
        ledger.startLineage(keccak256("rollback"), "rollback");
        uint256 round = _round(KEY_A, 3_500_000);
        assertTrue(ledger.hasSubmitted(round, 1), "a new lineage has its own total");
        assertEq(ledger.epsilonSpent(1, 1), 3_500_000);
        assertEq(ledger.epsilonSpent(2, 1), 3_500_000);
    }

    function test_SetPrivacyBudget_ByTheAdminIsAnEventAndLetsASkippedMemberGoOn() public {
        _round(KEY_A, EPSILON_BUDGET);
        uint256 round = _openRound();
        RoundLedger.SignedUpdate memory u = _spending(KEY_A, round, 1);
        _register(round, _one(u));
        assertFalse(ledger.hasSubmitted(round, 1));
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.PrivacyBudgetChanged(8_000_000, DELTA_BUDGET, ADMIN);
        vm.prank(ADMIN);
        ledger.setPrivacyBudget(RoundLedger.PrivacyBudget({epsilon: 8_000_000, delta: DELTA_BUDGET}));
        (uint64 epsilon, uint64 delta) = _budget();
        assertEq(epsilon, 8_000_000);
        assertEq(delta, DELTA_BUDGET);
        _register(round, _one(u));
        assertTrue(ledger.hasSubmitted(round, 1));
        assertEq(ledger.epsilonSpent(1, 1), EPSILON_BUDGET + 1);
    }

    function test_SetPrivacyBudget_RevertsForAnyoneButTheAdmin() public {
        RoundLedger.PrivacyBudget memory budget = _noBudget();
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumAccess.ConsortiumAccessUnauthorized.selector, COORDINATOR, bytes32(0))
        );
        vm.prank(COORDINATOR);
        ledger.setPrivacyBudget(budget);
    }

    function test_SetPrivacyBudget_InGovernanceNeedsTheMembersDecision() public {
        _enableGovernance(2);
        RoundLedger.PrivacyBudget memory budget = RoundLedger.PrivacyBudget({epsilon: 2_000_000, delta: 1e12});
        bytes32 decision = ledger.privacyBudgetDecision(budget);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumAccess.ConsortiumAccessDecisionNotApproved.selector, decision));
        vm.prank(ADMIN);
        ledger.setPrivacyBudget(budget);
        _approveDecision(_keys(KEY_A, KEY_B), decision);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.PrivacyBudgetChanged(2_000_000, 1e12, STRANGER);
        vm.prank(STRANGER);
        ledger.setPrivacyBudget(budget);
        (uint64 epsilon,) = _budget();
        assertEq(epsilon, 2_000_000);
        assertNotEq(ledger.privacyBudgetDecision(budget), decision);
    }

    function test_Constructor_SetsTheBudgetWithAnEvent() public {
        RoundLedger.PrivacyBudget memory budget = RoundLedger.PrivacyBudget({epsilon: 7, delta: 9});
        vm.expectEmit(true, true, true, true, vm.computeCreateAddress(address(this), vm.getNonce(address(this))));
        emit RoundLedger.PrivacyBudgetChanged(7, 9, address(this));
        RoundLedger other = new RoundLedger(registry, IExclusionOracle(address(reputation)), budget);
        RoundLedger.PrivacyBudget memory stored = other.privacyBudget();
        assertEq(stored.epsilon, 7);
        assertEq(stored.delta, 9);
    }

    /// @dev Members 1-3 share one storage word of totals; each keeps its own sum, capped at
    /// {NOT_PRIVATE}, whatever the order and sizes of their updates.
    function testFuzz_Register_KeepsEachMembersSumInASharedWord(uint64[6] memory epsilons) public {
        vm.prank(ADMIN);
        ledger.setPrivacyBudget(_noBudget());
        uint256[3] memory keys = [KEY_A, KEY_B, KEY_C];
        uint256[3] memory expected;
        for (uint256 r = 0; r < 2; ++r) {
            uint256 round = _openRound();
            RoundLedger.SignedUpdate[] memory batch = new RoundLedger.SignedUpdate[](3);
            for (uint256 m = 0; m < 3; ++m) {
                uint256 member = r == 0 ? m : 2 - m; // both orders
                batch[m] = _spendingAt(keys[member], round, epsilons[r * 3 + m], 0);
                expected[member] += epsilons[r * 3 + m];
            }
            _register(round, batch);
            _finalize(round, _ids(1, 2, 3));
        }
        for (uint256 m = 0; m < 3; ++m) {
            uint256 want = expected[m] > NOT_PRIVATE ? NOT_PRIVATE : expected[m];
            assertEq(ledger.epsilonSpent(1, uint64(m + 1)), want);
        }
    }

    function _budget() private view returns (uint64 epsilon, uint64 delta) {
        RoundLedger.PrivacyBudget memory budget = ledger.privacyBudget();
        return (budget.epsilon, budget.delta);
    }
}
