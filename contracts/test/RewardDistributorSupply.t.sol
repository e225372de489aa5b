// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ConsortiumRegistry} from "../src/ConsortiumRegistry.sol";
import {ReputationLedger} from "../src/ReputationLedger.sol";
import {RewardDistributor} from "../src/RewardDistributor.sol";
import {RoundLedger} from "../src/RoundLedger.sol";
import {ConsortiumFixture} from "./utils/ConsortiumFixture.sol";

/// @title RewardDistributorSupplyTest
/// @notice What bounds the supply whatever the coordinator's key does: a paid round needs
/// `minParticipants` finalized participants, only participants are paid (and the round ledger admits no
/// member excluded before the round as one), and at most
/// `mintLimit` tokens are minted per window of `mintWindowBlocks` blocks (block.number / windowBlocks).
contract RewardDistributorSupplyTest is ConsortiumFixture {
    uint64 private constant MIN = 2;
    uint64 private constant WINDOW = 10;
    uint256 private constant LIMIT = 1_500 ether;

    function setUp() public override {
        super.setUp();
        _enrolHospitals();
        _deployDistributor(MIN, WINDOW, LIMIT);
    }

    function _pay(uint256 round, uint64[] memory ids, uint256[] memory amounts) private {
        vm.prank(COORDINATOR);
        distributor.payRound(round, ids, amounts);
    }

    function _expectMintLimit(uint256 window, uint256 minted) private {
        vm.expectRevert(
            abi.encodeWithSelector(RewardDistributor.RewardDistributorMintLimitExceeded.selector, window, minted, LIMIT)
        );
    }

    // ---------------------------------------------------------------- minimum participants

    function test_PayRound_NeedsMinimumParticipants() public {
        uint256 none = _completeRound(_keys(KEY_A), _ids());
        uint256 one = _completeRound(_keys(KEY_A, KEY_B), _ids(1));
        uint256 two = _completeRound(_keys(KEY_A, KEY_B), _ids(1, 2));
        vm.expectRevert(
            abi.encodeWithSelector(RewardDistributor.RewardDistributorTooFewParticipants.selector, none, 0, MIN)
        );
        _pay(none, _ids(), new uint256[](0));
        vm.expectRevert(
            abi.encodeWithSelector(RewardDistributor.RewardDistributorTooFewParticipants.selector, one, 1, MIN)
        );
        _pay(one, _ids(1), _amounts(1 ether));
        (bool paid,) = distributor.payoutOf(one);
        assertFalse(paid);
        // Two participants: paid, even to one of them only.
        _pay(two, _ids(2), _amounts(1 ether));
        assertEq(token.balanceOf(vm.addr(KEY_B)), 1 ether);
    }

    // ---------------------------------------------------------------- mint limit

    function test_PayRound_MintLimitPerWindow() public {
        vm.roll(20); // window 2: blocks 20 to 29
        uint256 r1 = _completeRound(_keys(KEY_A, KEY_B), _ids(1, 2));
        uint256 r2 = _completeRound(_keys(KEY_A, KEY_B), _ids(1, 2));
        uint256 r3 = _completeRound(_keys(KEY_A, KEY_B), _ids(1, 2));
        _pay(r1, _ids(1, 2), _amounts(600 ether, 400 ether));
        assertEq(distributor.mintedInCurrentWindow(), 1_000 ether);

        _expectMintLimit(2, 1_600 ether);
        _pay(r2, _ids(1, 2), _amounts(300 ether, 300 ether));
        // Up to the limit exactly is fine.
        _pay(r2, _ids(1, 2), _amounts(250 ether, 250 ether));
        assertEq(distributor.mintedInCurrentWindow(), LIMIT);
        assertEq(token.totalSupply(), LIMIT);

        // The last block of the window is still full; an empty payout still closes a round.
        vm.roll(29);
        _expectMintLimit(2, LIMIT + 1);
        _pay(r3, _ids(1), _amounts(1));
        assertEq(distributor.mintedInCurrentWindow(), LIMIT);

        // The next window starts from zero.
        vm.roll(30);
        assertEq(distributor.mintedInCurrentWindow(), 0);
        _pay(r3, _ids(1, 2), _amounts(600 ether, 400 ether));
        assertEq(distributor.mintedInCurrentWindow(), ROUND_BUDGET);
        assertEq(token.totalSupply(), LIMIT + ROUND_BUDGET);
    }

    /// @dev A window with no payment in between does not carry anything over, and an empty payout counts 0.
    function test_PayRound_MintLimitSkipsIdleWindows() public {
        uint256 r1 = _completeRound(_keys(KEY_A, KEY_B), _ids(1, 2));
        uint256 r2 = _completeRound(_keys(KEY_A, KEY_B), _ids(1, 2));
        uint256 r3 = _completeRound(_keys(KEY_A, KEY_B), _ids(1, 2));
        // Two full budgets are more than the limit in one window, not in two.
        _pay(r1, _ids(1), _amounts(ROUND_BUDGET));
        vm.roll(block.number + 10 * WINDOW);
        _pay(r2, _ids(), new uint256[](0));
        assertEq(distributor.mintedInCurrentWindow(), 0);
        _pay(r3, _ids(1), _amounts(ROUND_BUDGET));
        assertEq(token.totalSupply(), 2 * ROUND_BUDGET);
    }

    function testFuzz_PayRound_NeverMoreThanTheLimitPerWindow(uint256 seed) public {
        _deployDistributor(1, WINDOW, LIMIT);
        uint256 minted;
        uint256 window = block.number / WINDOW;
        for (uint256 i = 0; i < 12; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            if (r % 3 == 0) vm.roll(block.number + (r >> 8) % (2 * WINDOW));
            if (block.number / WINDOW != window) (window, minted) = (block.number / WINDOW, 0);
            uint256 round = _completeRound(_keys(KEY_A), _ids(1));
            uint256 amount = (r >> 16) % (ROUND_BUDGET + 1);
            if (minted + amount > LIMIT) {
                _expectMintLimit(window, minted + amount);
                _pay(round, _ids(1), _amounts(amount));
                continue;
            }
            _pay(round, _ids(1), _amounts(amount));
            minted += amount;
            assertEq(distributor.mintedInCurrentWindow(), minted);
            assertLe(minted, LIMIT);
        }
    }

    /// @dev The issue's scenario: a stolen coordinator key opens, finalizes and pays 25 rounds in one
    /// block, each at full budget, to the members (its own key can be no member). At most the limit is
    /// minted; every payout past it reverts.
    function test_Scenario_TwentyFiveRoundsInOneBlockMintAtMostTheLimit() public {
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryRoleKeyConflict.selector, COORDINATOR)
        );
        vm.prank(COORDINATOR);
        registry.requestMembership("coordinator as a hospital", FINGERPRINT, "");
        vm.roll(1_000);
        uint256 paidRounds;
        for (uint256 i = 0; i < 25; ++i) {
            uint256 round = _completeRound(_keys(KEY_A, KEY_B), _ids(1, 2));
            uint256 minted = distributor.mintedInCurrentWindow();
            if (minted + ROUND_BUDGET > LIMIT) {
                _expectMintLimit(100, minted + ROUND_BUDGET);
                _pay(round, _ids(1, 2), _amounts(ROUND_BUDGET / 2, ROUND_BUDGET / 2));
                continue;
            }
            _pay(round, _ids(1, 2), _amounts(ROUND_BUDGET / 2, ROUND_BUDGET / 2));
            ++paidRounds;
        }
        assertEq(ledger.roundCount(), 25);
        assertEq(paidRounds, 1);
        assertLe(token.totalSupply(), LIMIT);
        assertEq(token.totalSupply(), ROUND_BUDGET);
    }

    // ---------------------------------------------------------------- exclusion and late payment

    /// @dev A member whose own score in a round drops it below the threshold is still paid for that round.
    function test_PayRound_PaysTheRoundThatDroppedAMember() public {
        vm.prank(ADMIN);
        reputation.setParameters(INITIAL_REPUTATION, 10_000, EXCLUSION_THRESHOLD);
        uint256 round = _openRound();
        _submit(round, _keys(KEY_A, KEY_B));
        vm.prank(COORDINATOR);
        reputation.recordScores(round, _ids(1, 2), _scores(9_000, 0));
        _finalize(round, _ids(1, 2));
        assertTrue(reputation.isExcluded(2));
        _pay(round, _ids(1, 2), _amounts(1 ether, 1 ether));
        assertEq(token.balanceOf(vm.addr(KEY_B)), 1 ether);
    }

    /// @dev A member excluded before a round is no participant of it: finalize refuses it, so payRound has
    /// no way to pay it, and says why.
    function test_PayRound_ExcludedMemberIsNoParticipantAndCannotBePaid() public {
        for (uint256 i = 0; i < 2; ++i) {
            uint256 scored = _completeRound(_keys(KEY_A, KEY_B), _ids(1, 2));
            vm.prank(COORDINATOR);
            reputation.recordScores(scored, _ids(1, 2), _scores(9_000, 0)); // B: 3,500 then 2,450
        }
        assertTrue(reputation.isExcluded(2));
        uint256 round = _openRound();
        _submit(round, _keys(KEY_A, KEY_B));
        assertTrue(ledger.hasSubmitted(round, 2), "an excluded member may still submit");
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerParticipantExcluded.selector, round, 2));
        _finalize(round, _ids(1, 2));
        // With a minimum of two participants the round cannot be paid at all; with one, only member 1.
        _finalize(round, _ids(1));
        _deployDistributor(1, WINDOW, LIMIT);
        assertFalse(ledger.isParticipant(round, 2));
        vm.expectRevert(abi.encodeWithSelector(RewardDistributor.RewardDistributorNotParticipant.selector, round, 2));
        _pay(round, _ids(1, 2), _amounts(1 ether, 1 ether));
        vm.expectRevert(abi.encodeWithSelector(RewardDistributor.RewardDistributorNotParticipant.selector, round, 2));
        _pay(round, _ids(2), _amounts(1 ether));
        _pay(round, _ids(1), _amounts(1 ether));
        assertEq(token.balanceOf(vm.addr(KEY_A)), 1 ether);
        assertEq(token.balanceOf(vm.addr(KEY_B)), 0);
    }

    /// @dev Participation is settled when the round is finalized: raising the threshold afterwards does not
    /// take a participant's payment back (it excludes the member from the rounds that follow).
    function test_PayRound_ParticipationIsSettledAtFinalization() public {
        uint256 first = _completeRound(_keys(KEY_A, KEY_B), _ids(1, 2));
        vm.prank(COORDINATOR);
        reputation.recordScores(first, _ids(2), _scores(0)); // 3,500
        uint256 round = _completeRound(_keys(KEY_A, KEY_B), _ids(1, 2));
        vm.prank(ADMIN);
        reputation.setParameters(INITIAL_REPUTATION, SMOOTHING, 4_000);
        assertTrue(reputation.isExcludedBefore(round, 2), "excluded before the round by today's threshold");
        _pay(round, _ids(1, 2), _amounts(1 ether, 1 ether));
        assertEq(token.balanceOf(vm.addr(KEY_B)), 1 ether);
        uint256 next = _openRound();
        _submit(next, _keys(KEY_A, KEY_B));
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerParticipantExcluded.selector, next, 2));
        _finalize(next, _ids(1, 2));
    }

    /// @dev The bug the review found: a round left unpaid (say, refused by the mint limit) whose participants
    /// were then scored in a later round can still be paid, since payment no longer asks for the reputation
    /// before the round (unknown once a later round is scored); it relies on participation alone.
    function test_PayRound_LateAfterALaterScoreSucceeds() public {
        vm.roll(100); // window 10
        uint256 round = _completeRound(_keys(KEY_A, KEY_B), _ids(1, 2));
        uint256 filler = _completeRound(_keys(KEY_A, KEY_B), _ids(1, 2));
        _pay(filler, _ids(1, 2), _amounts(ROUND_BUDGET / 2, ROUND_BUDGET / 2));
        _expectMintLimit(10, ROUND_BUDGET + ROUND_BUDGET);
        _pay(round, _ids(1, 2), _amounts(ROUND_BUDGET / 2, ROUND_BUDGET / 2));

        // Both participants are scored in a later round before the payment is retried.
        uint256 next = _openRound();
        _submit(next, _keys(KEY_A, KEY_B));
        vm.prank(COORDINATOR);
        reputation.recordScores(next, _ids(1, 2), _scores(5_000, 1_000));
        vm.expectRevert(abi.encodeWithSelector(ReputationLedger.ReputationLedgerAlreadyRecorded.selector, round, 1));
        reputation.isExcludedBefore(round, 1);

        vm.roll(110); // window 11
        _pay(round, _ids(1, 2), _amounts(ROUND_BUDGET / 2, ROUND_BUDGET / 2));
        (bool paid, uint256 total) = distributor.payoutOf(round);
        assertTrue(paid);
        assertEq(total, ROUND_BUDGET);
        assertEq(token.balanceOf(vm.addr(KEY_A)), ROUND_BUDGET);
        assertEq(token.balanceOf(vm.addr(KEY_B)), ROUND_BUDGET);
    }
}
