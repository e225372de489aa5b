// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ConsortiumAccess} from "../src/ConsortiumAccess.sol";
import {CONSORTIUM_COORDINATOR_ROLE, ConsortiumRegistry} from "../src/ConsortiumRegistry.sol";
import {ReputationLedger} from "../src/ReputationLedger.sol";
import {RoundLedger} from "../src/RoundLedger.sol";
import {ConsortiumFixture} from "./utils/ConsortiumFixture.sol";

/// @title ReputationLedgerTest
/// @notice The exponential moving average of {ReputationLedger}, checked value by value against
/// new = (old * (10000 - smoothing) + contribution * smoothing) / 10000 (rounded down), with its bounds,
/// submission gating and access rules, and the exclusion threshold: who is excluded, exactly where it
/// flips, and the way back for an excluded hospital that is scored well again.
contract ReputationLedgerTest is ConsortiumFixture {
    uint256 private constant MAX = 10_000;

    /// @dev Round 1: A and B submit, both aggregated. Round 2: A, B, C submit, A and C aggregated.
    /// Round 3: A submits, still open.
    function setUp() public override {
        super.setUp();
        _enrolHospitals();
        _completeRound(_keys(KEY_A, KEY_B), _ids(1, 2));
        _completeRound(_keys(KEY_A, KEY_B, KEY_C), _ids(1, 3));
        uint256 open = _openRound();
        _submit(open, _keys(KEY_A));
    }

    /// @dev The contract's formula, restated independently.
    function _ema(uint256 previous, uint256 contribution, uint256 smoothing) private pure returns (uint256) {
        return (previous * (MAX - smoothing) + contribution * smoothing) / MAX;
    }

    function _record(uint256 round, uint64[] memory ids, uint16[] memory scores) private {
        vm.prank(COORDINATOR);
        reputation.recordScores(round, ids, scores);
    }

    function _setParameters(uint16 initial, uint16 smoothing, uint16 threshold) private {
        vm.prank(ADMIN);
        reputation.setParameters(initial, smoothing, threshold);
    }

    function _assertParameters(uint16 initial, uint16 smoothing, uint16 threshold) private view {
        (uint16 actualInitial, uint16 actualSmoothing, uint16 actualThreshold) = reputation.parameters();
        assertEq(actualInitial, initial, "initial reputation");
        assertEq(actualSmoothing, smoothing, "smoothing");
        assertEq(actualThreshold, threshold, "exclusion threshold");
    }

    // ---------------------------------------------------------------- construction

    function test_Constructor_SetsParameters() public {
        _assertParameters(INITIAL_REPUTATION, SMOOTHING, EXCLUSION_THRESHOLD);
        assertEq(reputation.MAX_SCORE(), MAX);
        assertEq(address(reputation.ledger()), address(ledger));
        assertEq(address(reputation.registry()), address(registry));

        // At deployment the deployer is the one who set the parameters.
        vm.expectEmit();
        emit ReputationLedger.ReputationParametersSet(address(this), 0, 10_000, 0);
        new ReputationLedger(registry, ledger, 0, 10_000, 0);
        vm.expectEmit();
        emit ReputationLedger.ReputationParametersSet(STRANGER, 1, 1, 1);
        vm.prank(STRANGER);
        new ReputationLedger(registry, ledger, 1, 1, 1);
        // The bounds themselves are accepted: everyone starts at the top, and the top is the threshold.
        ReputationLedger strict = new ReputationLedger(registry, ledger, 10_000, 10_000, 10_000);
        (uint16 initial, uint16 smoothing, uint16 threshold) = strict.parameters();
        assertEq(initial, 10_000);
        assertEq(smoothing, 10_000);
        assertEq(threshold, 10_000);
        assertFalse(strict.isExcluded(1));
    }

    function test_Constructor_RevertsOnBadArguments() public {
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerOutOfBounds.selector, 10_001));
        new ReputationLedger(registry, ledger, 10_001, SMOOTHING, EXCLUSION_THRESHOLD);
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerOutOfBounds.selector, 0));
        new ReputationLedger(registry, ledger, INITIAL_REPUTATION, 0, EXCLUSION_THRESHOLD);
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerOutOfBounds.selector, 10_001));
        new ReputationLedger(registry, ledger, INITIAL_REPUTATION, 10_001, EXCLUSION_THRESHOLD);
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerOutOfBounds.selector, 10_001));
        new ReputationLedger(registry, ledger, 10_000, SMOOTHING, 10_001);
        vm.expectRevert(
            abi.encodeWithSelector(ReputationLedger.ReputationLedgerInitialBelowThreshold.selector, 2_999, 3_000)
        );
        new ReputationLedger(registry, ledger, 2_999, SMOOTHING, 3_000);
        vm.expectRevert(ConsortiumAccess.ConsortiumAccessZeroAddress.selector);
        new ReputationLedger(registry, RoundLedger(address(0)), INITIAL_REPUTATION, SMOOTHING, EXCLUSION_THRESHOLD);
        vm.expectRevert(ConsortiumAccess.ConsortiumAccessZeroAddress.selector);
        new ReputationLedger(ConsortiumRegistry(address(0)), ledger, INITIAL_REPUTATION, SMOOTHING, EXCLUSION_THRESHOLD);
    }

    // ---------------------------------------------------------------- arithmetic

    function test_RecordScores_FirstScoreMovesFromInitial() public {
        assertEq(reputation.reputationOf(1), INITIAL_REPUTATION);
        assertEq(reputation.lastScoredRound(1), 0);

        // (5000 * 7000 + 8000 * 3000) / 10000 = 5900; (5000 * 7000 + 2000 * 3000) / 10000 = 4100
        vm.expectEmit(true, true, true, true, address(reputation));
        emit ReputationLedger.ReputationUpdated(1, 1, 8_000, 5_000, 5_900);
        vm.expectEmit(true, true, true, true, address(reputation));
        emit ReputationLedger.ReputationUpdated(1, 2, 2_000, 5_000, 4_100);
        _record(1, _ids(1, 2), _scores(8_000, 2_000));

        assertEq(reputation.reputationOf(1), 5_900);
        assertEq(reputation.reputationOf(2), 4_100);
        assertEq(reputation.reputationOf(3), INITIAL_REPUTATION);
        assertEq(reputation.lastScoredRound(1), 1);
        assertEq(reputation.lastScoredRound(2), 1);
        assertEq(reputation.lastScoredRound(3), 0);
    }

    function test_RecordScores_MovingAverageOverRounds() public {
        _record(1, _ids(1), _scores(8_000)); // 5900
        // (5900 * 7000 + 2000 * 3000) / 10000 = 4730
        vm.expectEmit(true, true, true, true, address(reputation));
        emit ReputationLedger.ReputationUpdated(2, 1, 2_000, 5_900, 4_730);
        // C's first score: (5000 * 7000 + 10000 * 3000) / 10000 = 6500
        vm.expectEmit(true, true, true, true, address(reputation));
        emit ReputationLedger.ReputationUpdated(2, 3, 10_000, 5_000, 6_500);
        _record(2, _ids(1, 3), _scores(2_000, 10_000));
        // (4730 * 7000 + 10000 * 3000) / 10000 = 6311
        _record(3, _ids(1), _scores(10_000));
        assertEq(reputation.reputationOf(1), 6_311);
        assertEq(reputation.reputationOf(3), 6_500);
        assertEq(reputation.lastScoredRound(1), 3);
    }

    function test_RecordScores_RoundsDown() public {
        _setParameters(5_000, 3_333, EXCLUSION_THRESHOLD);
        // (5000 * 6667 + 1 * 3333) / 10000 = 3333.8333 -> 3333
        _record(1, _ids(1), _scores(1));
        assertEq(reputation.reputationOf(1), 3_333);
        // (3333 * 6667 + 9999 * 3333) / 10000 = 5554.7778 -> 5554
        _record(2, _ids(1), _scores(9_999));
        assertEq(reputation.reputationOf(1), 5_554);
        assertEq(_ema(3_333, 9_999, 3_333), 5_554);
    }

    function test_RecordScores_ExtremeParameters() public {
        // Full smoothing: the reputation becomes the latest score.
        _setParameters(10_000, 10_000, EXCLUSION_THRESHOLD);
        _record(1, _ids(1, 2), _scores(0, 10_000));
        assertEq(reputation.reputationOf(1), 0);
        assertEq(reputation.reputationOf(2), 10_000);

        // Minimal smoothing: (0 * 9999 + 10000 * 1) / 10000 = 1; (10000 * 9999 + 0) / 10000 = 9999.
        _setParameters(0, 1, 0);
        _record(2, _ids(1), _scores(10_000));
        assertEq(reputation.reputationOf(1), 1);
        _record(3, _ids(1), _scores(0));
        assertEq(reputation.reputationOf(1), 0);
        assertEq(reputation.reputationOf(2), 10_000);
    }

    // ---------------------------------------------------------------- rejections

    function test_RecordScores_RevertsOnScoreAboveMax() public {
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerOutOfBounds.selector, 10_001));
        _record(1, _ids(1, 2), _scores(10_000, 10_001));
        assertEq(reputation.lastScoredRound(1), 0);
    }

    function testFuzz_RecordScores_RevertsOnAnyScoreAboveMax(uint16 score) public {
        score = uint16(bound(score, MAX + 1, type(uint16).max));
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerOutOfBounds.selector, score));
        _record(1, _ids(1), _scores(score));
    }

    function test_RecordScores_RevertsWhenNotSubmitted() public {
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerNotSubmitted.selector, 1, 3));
        _record(1, _ids(1, 3), _scores(5_000, 5_000));
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerNotSubmitted.selector, 3, 2));
        _record(3, _ids(2), _scores(5_000));
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerNotSubmitted.selector, 0, 1));
        _record(0, _ids(1), _scores(5_000));
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerNotSubmitted.selector, 4, 1));
        _record(4, _ids(1), _scores(5_000));
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerNotSubmitted.selector, 1, 42));
        _record(1, _ids(42), _scores(5_000));
    }

    function test_RecordScores_RevertsWhenAlreadyRecorded() public {
        _record(1, _ids(1), _scores(8_000));
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerAlreadyRecorded.selector, 1, 1));
        _record(1, _ids(1), _scores(8_000));

        // The same member twice in one call.
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerAlreadyRecorded.selector, 2, 1));
        _record(2, _ids(1, 1), _scores(1_000, 2_000));
        assertEq(reputation.lastScoredRound(1), 1);

        // Scores go forward only: after round 3, round 2 cannot be scored.
        _record(3, _ids(1), _scores(0));
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerAlreadyRecorded.selector, 2, 1));
        _record(2, _ids(1), _scores(1_000));
    }

    function test_RecordScores_RevertsOnLengthMismatch() public {
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerLengthMismatch.selector, 2, 1));
        _record(1, _ids(1, 2), _scores(1));
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerLengthMismatch.selector, 1, 2));
        _record(1, _ids(1), _scores(1, 2));
    }

    function test_RecordScores_OnlyCoordinator() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumAccess.ConsortiumAccessUnauthorized.selector, ADMIN, CONSORTIUM_COORDINATOR_ROLE
            )
        );
        vm.prank(ADMIN);
        reputation.recordScores(1, _ids(1), _scores(1));
    }

    /// @dev Scoring is gated on a registered update only: neither finalization nor inclusion in the
    /// aggregate is required (round 3 is still open; B was left out of round 2's aggregate).
    function test_RecordScores_NeedsSubmissionOnly() public {
        _record(3, _ids(1), _scores(7_000));
        _record(2, _ids(2), _scores(7_000));
        assertEq(reputation.lastScoredRound(1), 3);
        assertEq(reputation.lastScoredRound(2), 2);
    }

    // ---------------------------------------------------------------- parameters

    function test_SetParameters() public {
        _record(1, _ids(1), _scores(8_000)); // 5900
        vm.expectEmit(true, true, true, true, address(reputation));
        emit ReputationLedger.ReputationParametersSet(ADMIN, 2_000, 5_000, 1_500);
        _setParameters(2_000, 5_000, 1_500);
        _assertParameters(2_000, 5_000, 1_500);

        // A scored member keeps its reputation; unscored members report the new initial value.
        assertEq(reputation.reputationOf(1), 5_900);
        assertEq(reputation.reputationOf(3), 2_000);
        // The next score uses the new smoothing: (5900 * 5000 + 0 * 5000) / 10000 = 2950.
        _record(2, _ids(1, 3), _scores(0, 10_000));
        assertEq(reputation.reputationOf(1), 2_950);
        assertEq(reputation.reputationOf(3), 6_000); // (2000 * 5000 + 10000 * 5000) / 10000
        assertFalse(reputation.isExcluded(1));
        assertFalse(reputation.isExcluded(3));
    }

    function test_SetParameters_EventNamesTheCallingAdmin() public {
        vm.prank(ADMIN);
        registry.beginDefaultAdminTransfer(STRANGER);
        vm.warp(block.timestamp + ADMIN_DELAY + 1);
        vm.prank(STRANGER);
        registry.acceptDefaultAdminTransfer();
        vm.expectEmit(true, true, true, true, address(reputation));
        emit ReputationLedger.ReputationParametersSet(STRANGER, 1_234, 4_321, 1_000);
        vm.prank(STRANGER);
        reputation.setParameters(1_234, 4_321, 1_000);
    }

    function test_SetParameters_Reverts() public {
        vm.startPrank(ADMIN);
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerOutOfBounds.selector, 10_001));
        reputation.setParameters(10_001, 1, 0);
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerOutOfBounds.selector, 0));
        reputation.setParameters(1, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerOutOfBounds.selector, 65_535));
        reputation.setParameters(1, 65_535, 0);
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerOutOfBounds.selector, 10_001));
        reputation.setParameters(10_000, 1, 10_001);
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerOutOfBounds.selector, 65_535));
        reputation.setParameters(10_000, 1, 65_535);
        // A new member must not start excluded.
        vm.expectRevert(
            abi.encodeWithSelector(ReputationLedger.ReputationLedgerInitialBelowThreshold.selector, 2_999, 3_000)
        );
        reputation.setParameters(2_999, 1, 3_000);
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerInitialBelowThreshold.selector, 0, 1));
        reputation.setParameters(0, 1, 1);
        vm.stopPrank();

        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumAccess.ConsortiumAccessUnauthorized.selector, COORDINATOR, bytes32(0))
        );
        vm.prank(COORDINATOR);
        reputation.setParameters(1, 1, 1);
        _assertParameters(INITIAL_REPUTATION, SMOOTHING, EXCLUSION_THRESHOLD);
    }

    function testFuzz_SetParameters_InitialBelowThresholdReverts(uint16 initial, uint16 threshold) public {
        threshold = uint16(bound(threshold, 1, MAX));
        initial = uint16(bound(initial, 0, threshold - 1));
        vm.expectRevert(
            abi.encodeWithSelector(ReputationLedger.ReputationLedgerInitialBelowThreshold.selector, initial, threshold)
        );
        _setParameters(initial, SMOOTHING, threshold);
        _assertParameters(INITIAL_REPUTATION, SMOOTHING, EXCLUSION_THRESHOLD);
    }

    // ---------------------------------------------------------------- exclusion

    function test_IsExcluded_FlipsExactlyAtTheThreshold() public {
        // Full smoothing makes the reputation the latest score, so it can be put anywhere.
        _setParameters(5_000, 10_000, 3_000);
        assertFalse(reputation.isExcluded(1), "a member never scored starts included");
        _record(1, _ids(1, 2), _scores(3_000, 2_999));
        assertFalse(reputation.isExcluded(1), "at the threshold: included");
        assertTrue(reputation.isExcluded(2), "one point below: excluded");
        _record(2, _ids(1), _scores(2_999));
        assertTrue(reputation.isExcluded(1));
        _record(3, _ids(1), _scores(3_000));
        assertFalse(reputation.isExcluded(1));
        assertFalse(reputation.isExcluded(3), "never scored");
        assertFalse(reputation.isExcluded(42), "not a member");

        // Moving the threshold flips exclusion at once, without any score.
        _setParameters(5_000, 10_000, 3_001);
        assertTrue(reputation.isExcluded(1));
        assertTrue(reputation.isExcluded(2));
        _setParameters(5_000, 10_000, 2_999);
        assertFalse(reputation.isExcluded(1));
        assertFalse(reputation.isExcluded(2));
        // A threshold of 0 excludes no one, even at reputation 0.
        _setParameters(0, 10_000, 0);
        assertFalse(reputation.isExcluded(3));
    }

    /// @dev The story of a poisoner with the Python deployment defaults (initial 5,000, smoothing 5,000,
    /// threshold 3,000): one round scored 0 excludes it; it keeps submitting (its updates are registered,
    /// left out of the aggregate and scored) and good scores bring it back.
    function test_Recovery_ExcludedMemberComesBackWithGoodScores() public {
        _setParameters(5_000, 5_000, 3_000);
        // Round 1: B's update scored 0: (5000 + 0) / 2 = 2500 < 3000.
        _record(1, _ids(1, 2), _scores(8_000, 0));
        assertEq(reputation.reputationOf(2), 2_500);
        assertTrue(reputation.isExcluded(2));
        assertFalse(reputation.isExcluded(1));

        // Round 2: B's update was registered but left out of the aggregate; it is scored all the same.
        // (2500 + 3000) / 2 = 2750: a score at the threshold is not enough to come back.
        assertTrue(ledger.hasSubmitted(2, 2));
        assertFalse(ledger.isParticipant(2, 2));
        _record(2, _ids(2), _scores(3_000));
        assertEq(reputation.reputationOf(2), 2_750);
        assertTrue(reputation.isExcluded(2));

        // Round 4: (2750 + 3250) / 2 = 3000: back at the threshold. Round 4 itself was decided on the
        // reputation before it (2750), so B enters the aggregate (and is paid) again from round 5.
        _finalize(3, _ids(1));
        uint256 round = _openRound();
        _submit(round, _keys(KEY_A, KEY_B));
        _record(round, _ids(2), _scores(3_250));
        assertEq(reputation.reputationOf(2), 3_000);
        assertFalse(reputation.isExcluded(2));
        assertTrue(reputation.isExcludedBefore(round, 2));
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerParticipantExcluded.selector, round, 2));
        _finalize(round, _ids(1, 2));
        _finalize(round, _ids(1));
        round = _openRound();
        _submit(round, _keys(KEY_A, KEY_B));
        assertFalse(reputation.isExcludedBefore(round, 2));
        _finalize(round, _ids(1, 2));
        assertTrue(ledger.isParticipant(round, 2));
    }

    // ---------------------------------------------------------------- reputation before a round

    function test_ReputationBefore_NeverScoredIsTheInitialReputation() public view {
        for (uint256 round = 0; round <= 4; ++round) {
            assertEq(reputation.reputationBefore(round, 3), INITIAL_REPUTATION);
            assertFalse(reputation.isExcludedBefore(round, 3));
            assertEq(reputation.reputationBefore(round, 42), INITIAL_REPUTATION, "not a member");
        }
    }

    /// @dev Scored in round 2: before round 2 it had the previous value, before later rounds the new
    /// one, and rounds before 2 are no longer known.
    function test_ReputationBefore_AroundTheLastScoredRound() public {
        _record(1, _ids(1), _scores(8_000)); // 5000 -> 5900
        assertEq(reputation.reputationBefore(1, 1), INITIAL_REPUTATION);
        assertEq(reputation.reputationBefore(2, 1), 5_900);
        _record(2, _ids(1), _scores(0)); // 5900 -> 4130
        assertEq(reputation.reputationOf(1), 4_130);
        assertEq(reputation.reputationBefore(2, 1), 5_900, "this round: the value before its score");
        assertEq(reputation.reputationBefore(3, 1), 4_130);
        assertEq(reputation.reputationBefore(99, 1), 4_130);
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerAlreadyRecorded.selector, 1, 1));
        reputation.reputationBefore(1, 1);
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerAlreadyRecorded.selector, 0, 1));
        reputation.isExcludedBefore(0, 1);
    }

    /// @dev The round that drops a member below the threshold is not the one that excludes it.
    function test_IsExcludedBefore_TheNextRoundExcludes() public {
        _setParameters(5_000, 10_000, 3_000);
        _record(2, _ids(1), _scores(1_000));
        assertTrue(reputation.isExcluded(1));
        assertFalse(reputation.isExcludedBefore(2, 1));
        assertTrue(reputation.isExcludedBefore(3, 1));
        // Raising the threshold applies to the round too: 5,000 before round 2 is below 5,001.
        _setParameters(6_000, 10_000, 5_001);
        assertTrue(reputation.isExcludedBefore(2, 1));
    }

    function testFuzz_IsExcludedBefore_MatchesThePreviousReputation(uint16 first, uint16 second, uint16 threshold)
        public
    {
        first = uint16(bound(first, 0, MAX));
        second = uint16(bound(second, 0, MAX));
        threshold = uint16(bound(threshold, 0, MAX));
        _setParameters(10_000, 10_000, threshold);
        _record(1, _ids(1), _scores(first));
        _record(2, _ids(1), _scores(second));
        assertEq(reputation.reputationBefore(2, 1), first);
        assertEq(reputation.isExcludedBefore(2, 1), first < threshold);
        assertEq(reputation.reputationBefore(3, 1), second);
        assertEq(reputation.isExcludedBefore(3, 1), second < threshold);
        assertEq(reputation.isExcluded(1), second < threshold);
    }

    /// @dev With smoothing 5,000 and threshold 3,000 one round scored s takes r to (r + s) / 2: a score of
    /// 6,000 or more brings back any member, and scores below the threshold never do.
    function testFuzz_Recovery_HalfSmoothing(uint16 start, uint16 good, uint16 bad) public {
        start = uint16(bound(start, 0, 2_999));
        good = uint16(bound(good, 6_000, MAX));
        bad = uint16(bound(bad, 0, 2_999));
        // Put member 1 at `start` with full smoothing, then switch to half smoothing.
        _setParameters(5_000, 10_000, 3_000);
        _record(1, _ids(1), _scores(start));
        assertTrue(reputation.isExcluded(1));
        _setParameters(5_000, 5_000, 3_000);

        _record(2, _ids(1), _scores(bad));
        assertEq(reputation.reputationOf(1), (uint256(start) + bad) / 2);
        assertTrue(reputation.isExcluded(1), "a score below the threshold never brings a member back");

        uint256 before = reputation.reputationOf(1);
        _record(3, _ids(1), _scores(good));
        assertEq(reputation.reputationOf(1), (before + good) / 2);
        assertFalse(reputation.isExcluded(1), "one round scored 6000 or more is enough");
    }

    // ---------------------------------------------------------------- fuzz

    function testFuzz_RecordScores_MatchesFormulaWithinBounds(
        uint16 initial,
        uint16 smoothing,
        uint16 threshold,
        uint16 s1,
        uint16 s2,
        uint16 s3
    ) public {
        initial = uint16(bound(initial, 0, MAX));
        smoothing = uint16(bound(smoothing, 1, MAX));
        threshold = uint16(bound(threshold, 0, initial));
        uint16[3] memory scores = [uint16(bound(s1, 0, MAX)), uint16(bound(s2, 0, MAX)), uint16(bound(s3, 0, MAX))];
        _setParameters(initial, smoothing, threshold);
        assertEq(reputation.reputationOf(1), initial);
        assertFalse(reputation.isExcluded(1), "a member never scored starts included");

        uint256 expected = initial;
        for (uint256 round = 1; round <= 3; ++round) {
            uint256 previous = expected;
            expected = _ema(previous, scores[round - 1], smoothing);
            _record(round, _ids(1), _scores(scores[round - 1]));
            uint256 actual = reputation.reputationOf(1);
            assertEq(actual, expected, "reputation follows the EMA formula");
            assertLe(actual, MAX, "reputation within [0, 10000]");
            assertEq(reputation.isExcluded(1), actual < threshold, "excluded iff below the threshold");
            // The average lies between the previous value and the score.
            uint256 lo = previous < scores[round - 1] ? previous : scores[round - 1];
            uint256 hi = previous < scores[round - 1] ? scores[round - 1] : previous;
            assertGe(actual, lo);
            assertLe(actual, hi);
        }
    }
}
