// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ConsortiumAccess} from "../src/ConsortiumAccess.sol";
import {CONSORTIUM_COORDINATOR_ROLE, ConsortiumRegistry} from "../src/ConsortiumRegistry.sol";
import {ReputationLedger} from "../src/ReputationLedger.sol";
import {RewardDistributor} from "../src/RewardDistributor.sol";
import {RewardToken} from "../src/RewardToken.sol";
import {RoundLedger} from "../src/RoundLedger.sol";
import {ConsortiumFixture} from "./utils/ConsortiumFixture.sol";
import {Vm} from "./utils/Vm.sol";

/// @title RewardDistributorTest
/// @notice {RewardToken} minting rights (its creating distributor alone, for good) and
/// {RewardDistributor} payouts: once per finalized round, only to that round's aggregated participants,
/// in ascending member order, within that round's budget (the one in force when the round was opened),
/// minted to each member's current signer.
contract RewardDistributorTest is ConsortiumFixture {
    address private a;
    address private b;

    /// @dev Round 1 (finalized): A, B and C submit; A and B are aggregated. Round 2: A submits, still open.
    function setUp() public override {
        super.setUp();
        _enrolHospitals();
        a = vm.addr(KEY_A);
        b = vm.addr(KEY_B);
        _completeRound(_keys(KEY_A, KEY_B, KEY_C), _ids(1, 2));
        uint256 open = _openRound();
        _submit(open, _keys(KEY_A));
    }

    function _pay(uint256 round, uint64[] memory ids, uint256[] memory amounts) private {
        vm.prank(COORDINATOR);
        distributor.payRound(round, ids, amounts);
    }

    function _newDistributor(uint256 budget, uint64 minParticipants, uint64 windowBlocks, uint256 limit)
        private
        returns (RewardDistributor)
    {
        return new RewardDistributor(
            registry, ledger, TOKEN_NAME, TOKEN_SYMBOL, budget, minParticipants, windowBlocks, limit
        );
    }

    function _setBudget(uint256 budget) private {
        vm.prank(ADMIN);
        distributor.setRoundBudget(budget);
    }

    /// @dev Finalize the open round 2 (A only), then complete rounds up to `last` with A and B aggregated.
    function _completeRoundsUpTo(uint256 last) private {
        _finalize(2, _ids(1));
        while (ledger.roundCount() < last) {
            _completeRound(_keys(KEY_A, KEY_B), _ids(1, 2));
        }
    }

    // ---------------------------------------------------------------- token

    function test_Token_MetadataAndMinter() public view {
        assertEq(token.name(), TOKEN_NAME);
        assertEq(token.symbol(), TOKEN_SYMBOL);
        assertEq(token.decimals(), 18);
        assertEq(token.totalSupply(), 0);
        // The distributor created the token and is its only minter.
        assertEq(address(distributor.token()), address(token));
        assertEq(token.minter(), address(distributor));
    }

    function test_Token_OnlyMinterMints() public {
        vm.expectRevert(abi.encodeWithSelector(RewardToken.RewardTokenUnauthorizedMinter.selector, STRANGER));
        vm.prank(STRANGER);
        token.mint(STRANGER, 1);
        // Not the consortium admin...
        vm.expectRevert(abi.encodeWithSelector(RewardToken.RewardTokenUnauthorizedMinter.selector, ADMIN));
        vm.prank(ADMIN);
        token.mint(ADMIN, 1);
        // ...nor the coordinator minting around the distributor, nor a member.
        vm.expectRevert(abi.encodeWithSelector(RewardToken.RewardTokenUnauthorizedMinter.selector, COORDINATOR));
        vm.prank(COORDINATOR);
        token.mint(COORDINATOR, 1);
        vm.expectRevert(abi.encodeWithSelector(RewardToken.RewardTokenUnauthorizedMinter.selector, a));
        vm.prank(a);
        token.mint(a, 1);
        // The test contract deployed the distributor, not the token.
        vm.expectRevert(abi.encodeWithSelector(RewardToken.RewardTokenUnauthorizedMinter.selector, address(this)));
        token.mint(address(this), 1);
        assertEq(token.totalSupply(), 0);

        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Transfer(address(0), a, 5);
        vm.prank(address(distributor));
        token.mint(a, 5);
        assertEq(token.balanceOf(a), 5);
    }

    /// @dev No admin, no roles: nobody can add a minter, not even the consortium admin.
    function test_Token_HasNoRolesToGrant() public {
        bytes32 minterRole = keccak256("MINTER_ROLE");
        vm.startPrank(ADMIN);
        (bool granted,) =
            address(token).call(abi.encodeWithSelector(IAccessControl.grantRole.selector, minterRole, ADMIN));
        (bool queried,) =
            address(token).call(abi.encodeWithSelector(IAccessControl.hasRole.selector, bytes32(0), ADMIN));
        vm.stopPrank();
        assertFalse(granted);
        assertFalse(queried);
        assertEq(token.minter(), address(distributor));
    }

    /// @dev Each distributor mints only its own token.
    function test_Token_AnotherDistributorCannotMint() public {
        RewardDistributor other = new RewardDistributor(
            registry, ledger, "Other", "OTH", ROUND_BUDGET, MIN_PARTICIPANTS, MINT_WINDOW_BLOCKS, MINT_LIMIT
        );
        RewardToken otherToken = other.token();
        assertNotEq(address(otherToken), address(token));
        assertEq(otherToken.minter(), address(other));
        assertEq(otherToken.name(), "Other");
        assertEq(otherToken.symbol(), "OTH");

        vm.expectRevert(abi.encodeWithSelector(RewardToken.RewardTokenUnauthorizedMinter.selector, address(other)));
        vm.prank(address(other));
        token.mint(a, 1);
        vm.expectRevert(
            abi.encodeWithSelector(RewardToken.RewardTokenUnauthorizedMinter.selector, address(distributor))
        );
        vm.prank(address(distributor));
        otherToken.mint(a, 1);
    }

    /// @dev Whoever deploys a token is its minter: a token deployed on its own is not the distributor's.
    function test_Token_CreatorIsTheMinter() public {
        vm.prank(STRANGER);
        RewardToken standalone = new RewardToken("Standalone", "STD");
        assertEq(standalone.minter(), STRANGER);
        vm.prank(STRANGER);
        standalone.mint(a, 7);
        assertEq(standalone.balanceOf(a), 7);
        vm.expectRevert(
            abi.encodeWithSelector(RewardToken.RewardTokenUnauthorizedMinter.selector, address(distributor))
        );
        vm.prank(address(distributor));
        standalone.mint(a, 1);
    }

    // ---------------------------------------------------------------- construction

    function test_Constructor() public {
        assertEq(distributor.roundBudget(), ROUND_BUDGET);
        assertEq(distributor.budgetOf(0), ROUND_BUDGET);
        assertEq(distributor.budgetOf(1), ROUND_BUDGET);
        assertEq(distributor.budgetOf(type(uint256).max), ROUND_BUDGET);
        assertEq(address(distributor.token()), address(token));
        assertEq(address(distributor.ledger()), address(ledger));
        assertEq(address(distributor.registry()), address(registry));
        (uint256 minParticipants, uint256 windowBlocks, uint256 limit) = distributor.mintingRule();
        assertEq(minParticipants, MIN_PARTICIPANTS);
        assertEq(windowBlocks, MINT_WINDOW_BLOCKS);
        assertEq(limit, MINT_LIMIT);
        assertEq(distributor.mintedInCurrentWindow(), 0);

        vm.expectEmit();
        emit RewardDistributor.RoundBudgetSet(0, 77);
        RewardDistributor fresh = _newDistributor(77, 3, 5, 11);
        (minParticipants, windowBlocks, limit) = fresh.mintingRule();
        assertEq(minParticipants, 3);
        assertEq(windowBlocks, 5);
        assertEq(limit, 11);
        assertEq(fresh.roundBudget(), 77);
        assertEq(fresh.budgetOf(1), 77);
        assertEq(fresh.token().minter(), address(fresh));
        assertEq(fresh.token().totalSupply(), 0);
    }

    function test_Constructor_RevertsOnBadArguments() public {
        vm.expectRevert(ConsortiumAccess.ConsortiumAccessZeroAddress.selector);
        new RewardDistributor(ConsortiumRegistry(address(0)), ledger, TOKEN_NAME, TOKEN_SYMBOL, 1, 1, 1, 1);
        vm.expectRevert(ConsortiumAccess.ConsortiumAccessZeroAddress.selector);
        new RewardDistributor(registry, RoundLedger(address(0)), TOKEN_NAME, TOKEN_SYMBOL, 1, 1, 1, 1);
        // No minting rule parameter may be zero.
        vm.expectRevert(RewardDistributor.RewardDistributorInvalidParameter.selector);
        _newDistributor(1, 0, 1, 1);
        vm.expectRevert(RewardDistributor.RewardDistributorInvalidParameter.selector);
        _newDistributor(1, 1, 0, 1);
        vm.expectRevert(RewardDistributor.RewardDistributorInvalidParameter.selector);
        _newDistributor(1, 1, 1, 0);
        // Budgets are stored as uint192.
        uint256 tooLarge = uint256(type(uint192).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 192, tooLarge));
        _newDistributor(tooLarge, 1, 1, 1);
        _newDistributor(type(uint192).max, 1, 1, 1);
    }

    // ---------------------------------------------------------------- pay

    function test_PayRound_PaysParticipantsUpToBudget() public {
        vm.expectEmit(true, true, true, true, address(distributor));
        emit RewardDistributor.RewardPaid(1, 1, a, 600 ether);
        vm.expectEmit(true, true, true, true, address(distributor));
        emit RewardDistributor.RewardPaid(1, 2, b, 400 ether);
        vm.expectEmit(true, true, true, true, address(distributor));
        emit RewardDistributor.RoundPaid(1, ROUND_BUDGET, ROUND_BUDGET);
        _pay(1, _ids(1, 2), _amounts(600 ether, 400 ether));

        assertEq(token.balanceOf(a), 600 ether);
        assertEq(token.balanceOf(b), 400 ether);
        assertEq(token.totalSupply(), ROUND_BUDGET);
        (bool paid, uint256 total) = distributor.payoutOf(1);
        assertTrue(paid);
        assertEq(total, ROUND_BUDGET);
        (paid, total) = distributor.payoutOf(2);
        assertFalse(paid);
        assertEq(total, 0);
    }

    function test_PayRound_SubsetOfParticipants() public {
        _pay(1, _ids(2), _amounts(10 ether));
        assertEq(token.balanceOf(a), 0);
        assertEq(token.balanceOf(b), 10 ether);
        // The round is closed for payment even though A was not paid.
        vm.expectRevert(abi.encodeWithSelector(RewardDistributor.RewardDistributorAlreadyPaid.selector, 1));
        _pay(1, _ids(1), _amounts(10 ether));
    }

    function test_PayRound_OnlyParticipants() public {
        // C submitted in round 1 but was left out of the aggregate.
        assertTrue(ledger.hasSubmitted(1, 3));
        vm.expectRevert(abi.encodeWithSelector(RewardDistributor.RewardDistributorNotParticipant.selector, 1, 3));
        _pay(1, _ids(1, 3), _amounts(1, 1));
        vm.expectRevert(abi.encodeWithSelector(RewardDistributor.RewardDistributorNotParticipant.selector, 1, 99));
        _pay(1, _ids(99), _amounts(1));
    }

    function test_PayRound_RequiresSortedIds() public {
        vm.expectRevert(abi.encodeWithSelector(RewardDistributor.RewardDistributorMembersNotSorted.selector, 1));
        _pay(1, _ids(2, 1), _amounts(1, 1));
        vm.expectRevert(abi.encodeWithSelector(RewardDistributor.RewardDistributorMembersNotSorted.selector, 1));
        _pay(1, _ids(1, 1), _amounts(1, 1));
        vm.expectRevert(abi.encodeWithSelector(RewardDistributor.RewardDistributorMembersNotSorted.selector, 0));
        _pay(1, _ids(0), _amounts(1));
    }

    function test_PayRound_RequiresFinalizedRound() public {
        vm.expectRevert(abi.encodeWithSelector(RewardDistributor.RewardDistributorRoundNotFinalized.selector, 2));
        _pay(2, _ids(1), _amounts(1));
        vm.expectRevert(abi.encodeWithSelector(RewardDistributor.RewardDistributorRoundNotFinalized.selector, 0));
        _pay(0, _ids(), new uint256[](0));
        vm.expectRevert(abi.encodeWithSelector(RewardDistributor.RewardDistributorRoundNotFinalized.selector, 9));
        _pay(9, _ids(), new uint256[](0));
    }

    function test_PayRound_OncePerRound() public {
        _pay(1, _ids(1), _amounts(1 ether));
        vm.expectRevert(abi.encodeWithSelector(RewardDistributor.RewardDistributorAlreadyPaid.selector, 1));
        _pay(1, _ids(2), _amounts(1 ether));
        vm.expectRevert(abi.encodeWithSelector(RewardDistributor.RewardDistributorAlreadyPaid.selector, 1));
        _pay(1, _ids(), new uint256[](0));
        assertEq(token.totalSupply(), 1 ether);
    }

    function test_PayRound_EmptyPayoutClosesRound() public {
        vm.expectEmit(true, true, true, true, address(distributor));
        emit RewardDistributor.RoundPaid(1, 0, ROUND_BUDGET);
        _pay(1, _ids(), new uint256[](0));
        (bool paid, uint256 total) = distributor.payoutOf(1);
        assertTrue(paid);
        assertEq(total, 0);
        vm.expectRevert(abi.encodeWithSelector(RewardDistributor.RewardDistributorAlreadyPaid.selector, 1));
        _pay(1, _ids(1), _amounts(1));
    }

    function test_PayRound_RevertsOverBudget() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                RewardDistributor.RewardDistributorBudgetExceeded.selector, 1, ROUND_BUDGET + 1, ROUND_BUDGET
            )
        );
        _pay(1, _ids(1, 2), _amounts(600 ether, 400 ether + 1));
        (bool paid,) = distributor.payoutOf(1);
        assertFalse(paid);
        assertEq(token.totalSupply(), 0);
    }

    function test_PayRound_RevertsOnLengthMismatch() public {
        vm.expectRevert(abi.encodeWithSelector(RewardDistributor.RewardDistributorLengthMismatch.selector, 2, 1));
        _pay(1, _ids(1, 2), _amounts(1));
        vm.expectRevert(abi.encodeWithSelector(RewardDistributor.RewardDistributorLengthMismatch.selector, 1, 2));
        _pay(1, _ids(1), _amounts(1, 2));
    }

    function test_PayRound_SkipsZeroAmounts() public {
        vm.recordLogs();
        _pay(1, _ids(1, 2), _amounts(0, 500 ether));
        Vm.Log[] memory logs = vm.getRecordedLogs();

        uint256 rewardEvents;
        uint256 transfers;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].topics[0] == RewardDistributor.RewardPaid.selector) {
                ++rewardEvents;
                assertEq(uint256(logs[i].topics[2]), 2, "only member 2 is paid");
            }
            if (logs[i].emitter == address(token) && logs[i].topics[0] == IERC20.Transfer.selector) ++transfers;
        }
        assertEq(rewardEvents, 1);
        assertEq(transfers, 1);
        assertEq(token.balanceOf(a), 0);
        assertEq(token.balanceOf(b), 500 ether);
        (, uint256 total) = distributor.payoutOf(1);
        assertEq(total, 500 ether);
    }

    function test_PayRound_MintsToCurrentSigner() public {
        uint256 newKey = 0xA00A;
        address fresh = vm.addr(newKey);
        vm.prank(a);
        registry.proposeKeyRotation(fresh);
        vm.prank(fresh);
        registry.acceptKeyRotation(1);

        vm.expectEmit(true, true, true, true, address(distributor));
        emit RewardDistributor.RewardPaid(1, 1, fresh, 3 ether);
        _pay(1, _ids(1), _amounts(3 ether));
        assertEq(token.balanceOf(fresh), 3 ether);
        assertEq(token.balanceOf(a), 0);
    }

    /// @dev Documents current behaviour: suspension after finalization does not stop the payout, which
    /// goes to the suspended member's current key. For a member suspended because its key was stolen,
    /// that is the thief's key until the recovery rotation is accepted.
    function test_PayRound_PaysSuspendedParticipant() public {
        vm.prank(ADMIN);
        registry.suspendMember(2, "audit");
        _pay(1, _ids(2), _amounts(1 ether));
        assertEq(token.balanceOf(b), 1 ether);
    }

    /// @dev After the admin's recovery of a stolen key (suspend, propose, accept, reinstate), a round the
    /// member took part in under the stolen key is paid to the fresh key.
    function test_PayRound_AfterStolenKeyRecoveryPaysTheFreshKey() public {
        address fresh = vm.addr(0xA00A);
        vm.startPrank(ADMIN);
        registry.suspendMember(1, "signing key stolen");
        registry.adminProposeKeyRotation(1, fresh);
        vm.stopPrank();
        vm.prank(fresh);
        registry.acceptKeyRotation(1);
        vm.prank(ADMIN);
        registry.reinstateMember(1);

        vm.expectEmit(true, true, true, true, address(distributor));
        emit RewardDistributor.RewardPaid(1, 1, fresh, 600 ether);
        _pay(1, _ids(1, 2), _amounts(600 ether, 400 ether));
        assertEq(token.balanceOf(fresh), 600 ether);
        assertEq(token.balanceOf(a), 0);
        assertEq(token.balanceOf(b), 400 ether);
    }

    function test_PayRound_OnlyCoordinator() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumAccess.ConsortiumAccessUnauthorized.selector, ADMIN, CONSORTIUM_COORDINATOR_ROLE
            )
        );
        vm.prank(ADMIN);
        distributor.payRound(1, _ids(1), _amounts(1));
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumAccess.ConsortiumAccessUnauthorized.selector, a, CONSORTIUM_COORDINATOR_ROLE
            )
        );
        vm.prank(a);
        distributor.payRound(1, _ids(1), _amounts(1));
    }

    /// @dev The largest budget (uint192) is paid out in full: the uint248 payout total cannot overflow.
    function test_PayRound_LargestBudgetPaysInFull() public {
        _deployDistributor(MIN_PARTICIPANTS, MINT_WINDOW_BLOCKS, type(uint256).max);
        uint256 max = type(uint192).max;
        _setBudget(max);
        _completeRoundsUpTo(3);
        uint256 half = max / 2;
        _pay(3, _ids(1, 2), _amounts(half, max - half));
        (bool paid, uint256 total) = distributor.payoutOf(3);
        assertTrue(paid);
        assertEq(total, max);
        assertEq(token.totalSupply(), max);
    }

    // ---------------------------------------------------------------- budget

    function test_SetRoundBudget_AppliesFromTheNextRoundOpened() public {
        // Round 2 is open, so the change applies from round 3.
        vm.expectEmit(true, true, true, true, address(distributor));
        emit RewardDistributor.RoundBudgetSet(3, 100);
        _setBudget(100);
        assertEq(distributor.roundBudget(), 100);
        assertEq(distributor.budgetOf(1), ROUND_BUDGET);
        assertEq(distributor.budgetOf(2), ROUND_BUDGET);
        assertEq(distributor.budgetOf(3), 100);
        assertEq(distributor.budgetOf(4), 100);

        // Once round 2 is finalized and none is open, the next round is still round 3.
        _finalize(2, _ids(1));
        vm.expectEmit(true, true, true, true, address(distributor));
        emit RewardDistributor.RoundBudgetSet(3, 200);
        _setBudget(200);
        assertEq(distributor.budgetOf(2), ROUND_BUDGET);
        assertEq(distributor.budgetOf(3), 200);
    }

    function test_SetRoundBudget_SecondChangeBeforeNextRoundOverwrites() public {
        _setBudget(100);
        vm.expectEmit(true, true, true, true, address(distributor));
        emit RewardDistributor.RoundBudgetSet(3, 250);
        _setBudget(250);
        assertEq(distributor.roundBudget(), 250);
        assertEq(distributor.budgetOf(2), ROUND_BUDGET);
        assertEq(distributor.budgetOf(3), 250);

        // Back to the old value: round 3 takes it, the earlier rounds keep theirs.
        _setBudget(ROUND_BUDGET);
        assertEq(distributor.budgetOf(3), ROUND_BUDGET);

        _finalize(2, _ids(1));
        _openRound();
        _setBudget(7);
        assertEq(distributor.budgetOf(3), ROUND_BUDGET);
        assertEq(distributor.budgetOf(4), 7);
    }

    /// @dev Before any round is opened, a change applies from round 1; the initial budget stays on
    /// record for round 0.
    function test_SetRoundBudget_BeforeTheFirstRound() public {
        (RoundLedger freshLedger,) = _deployLedgers(registry, INITIAL_REPUTATION, SMOOTHING, EXCLUSION_THRESHOLD);
        RewardDistributor fresh = new RewardDistributor(registry, freshLedger, TOKEN_NAME, TOKEN_SYMBOL, 10, 1, 1, 1);
        vm.expectEmit(true, true, true, true, address(fresh));
        emit RewardDistributor.RoundBudgetSet(1, 20);
        vm.prank(ADMIN);
        fresh.setRoundBudget(20);
        assertEq(fresh.budgetOf(0), 10);
        assertEq(fresh.budgetOf(1), 20);
        assertEq(fresh.roundBudget(), 20);
    }

    function test_SetRoundBudget_OnlyAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumAccess.ConsortiumAccessUnauthorized.selector, COORDINATOR, bytes32(0))
        );
        vm.prank(COORDINATOR);
        distributor.setRoundBudget(1);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumAccess.ConsortiumAccessUnauthorized.selector, a, bytes32(0)));
        vm.prank(a);
        distributor.setRoundBudget(1);
        assertEq(distributor.roundBudget(), ROUND_BUDGET);
        assertEq(distributor.budgetOf(3), ROUND_BUDGET);
    }

    function test_SetRoundBudget_RevertsAboveUint192() public {
        uint256 tooLarge = uint256(type(uint192).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 192, tooLarge));
        _setBudget(tooLarge);
        vm.expectRevert(
            abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 192, type(uint256).max)
        );
        _setBudget(type(uint256).max);
        assertEq(distributor.roundBudget(), ROUND_BUDGET);
    }

    /// @dev Raising the budget while a round is open does not raise that round's cap; the next round
    /// gets the new budget.
    function test_SetRoundBudget_RaiseDoesNotReachTheOpenRound() public {
        uint256 raised = 5 * ROUND_BUDGET;
        _setBudget(raised);
        _finalize(2, _ids(1));

        vm.expectRevert(
            abi.encodeWithSelector(
                RewardDistributor.RewardDistributorBudgetExceeded.selector, 2, ROUND_BUDGET + 1, ROUND_BUDGET
            )
        );
        _pay(2, _ids(1), _amounts(ROUND_BUDGET + 1));
        vm.expectEmit(true, true, true, true, address(distributor));
        emit RewardDistributor.RoundPaid(2, ROUND_BUDGET, ROUND_BUDGET);
        _pay(2, _ids(1), _amounts(ROUND_BUDGET));

        uint256 next = _completeRound(_keys(KEY_A, KEY_B), _ids(1, 2));
        assertEq(next, 3);
        vm.expectRevert(
            abi.encodeWithSelector(RewardDistributor.RewardDistributorBudgetExceeded.selector, 3, raised + 1, raised)
        );
        _pay(3, _ids(1, 2), _amounts(raised, 1));
        vm.expectEmit(true, true, true, true, address(distributor));
        emit RewardDistributor.RoundPaid(3, raised, raised);
        _pay(3, _ids(1, 2), _amounts(raised - 1, 1));
        assertEq(token.totalSupply(), ROUND_BUDGET + raised);
    }

    /// @dev Nor does lowering it: a round opened under a budget is paid up to that budget.
    function test_SetRoundBudget_CutDoesNotReachOpenOrFinalizedRounds() public {
        _setBudget(1);
        _finalize(2, _ids(1));
        _pay(1, _ids(1, 2), _amounts(600 ether, 400 ether));
        _pay(2, _ids(1), _amounts(ROUND_BUDGET));
        assertEq(token.totalSupply(), 2 * ROUND_BUDGET);

        _completeRound(_keys(KEY_A), _ids(1));
        vm.expectRevert(abi.encodeWithSelector(RewardDistributor.RewardDistributorBudgetExceeded.selector, 3, 2, 1));
        _pay(3, _ids(1), _amounts(2));
        _pay(3, _ids(1), _amounts(1));
    }

    /// @dev A round paid long after it closed is capped at its own budget, whatever came after.
    function test_PayRound_LateRoundKeepsItsBudget() public {
        _completeRoundsUpTo(3);
        _setBudget(10);
        _completeRound(_keys(KEY_A), _ids(1)); // round 4 at 10
        _setBudget(20);
        _completeRound(_keys(KEY_A), _ids(1)); // round 5 at 20

        vm.expectRevert(
            abi.encodeWithSelector(
                RewardDistributor.RewardDistributorBudgetExceeded.selector, 1, ROUND_BUDGET + 1, ROUND_BUDGET
            )
        );
        _pay(1, _ids(1, 2), _amounts(ROUND_BUDGET, 1));
        vm.expectEmit(true, true, true, true, address(distributor));
        emit RewardDistributor.RoundPaid(1, ROUND_BUDGET, ROUND_BUDGET);
        _pay(1, _ids(1, 2), _amounts(ROUND_BUDGET - 1, 1));
        vm.expectRevert(abi.encodeWithSelector(RewardDistributor.RewardDistributorBudgetExceeded.selector, 4, 11, 10));
        _pay(4, _ids(1), _amounts(11));
        vm.expectEmit(true, true, true, true, address(distributor));
        emit RewardDistributor.RoundPaid(5, 20, 20);
        _pay(5, _ids(1), _amounts(20));
    }

    function test_BudgetOf_SeveralChanges() public {
        // Round 2 is open. Rounds 3 and 4 get 300 (set once, overwritten once); round 5 has no change of
        // its own and inherits round 4's; round 6 is set while no round is open; round 7 gets 0.
        _setBudget(1);
        _setBudget(300); // from 3
        _finalize(2, _ids(1));
        _completeRound(_keys(KEY_A), _ids(1)); // 3
        _openRound(); // 4
        _setBudget(500); // from 5
        _finalize(4, _ids());
        _completeRound(_keys(KEY_A), _ids(1)); // 5
        _setBudget(600); // from 6, no round open
        _completeRound(_keys(KEY_A), _ids(1)); // 6
        _setBudget(0); // from 7
        _openRound(); // 7

        uint256[8] memory expected = [ROUND_BUDGET, ROUND_BUDGET, ROUND_BUDGET, 300, 300, 500, 600, 0];
        for (uint256 round = 0; round < expected.length; ++round) {
            assertEq(distributor.budgetOf(round), expected[round], "budget of round");
        }
        assertEq(distributor.budgetOf(8), 0);
        assertEq(distributor.budgetOf(1_000), 0);
        assertEq(distributor.roundBudget(), 0);

        // payRound caps each round at its own budget.
        vm.expectRevert(abi.encodeWithSelector(RewardDistributor.RewardDistributorBudgetExceeded.selector, 3, 301, 300));
        _pay(3, _ids(1), _amounts(301));
        vm.expectRevert(abi.encodeWithSelector(RewardDistributor.RewardDistributorBudgetExceeded.selector, 5, 501, 500));
        _pay(5, _ids(1), _amounts(501));
        vm.expectRevert(abi.encodeWithSelector(RewardDistributor.RewardDistributorBudgetExceeded.selector, 6, 601, 600));
        _pay(6, _ids(1), _amounts(601));
        _pay(3, _ids(1), _amounts(300));
        _pay(5, _ids(1), _amounts(500));
        _pay(6, _ids(1), _amounts(600));
        assertEq(token.totalSupply(), 1_400);
    }

    function test_SetRoundBudget_ZeroAllowsOnlyZeroPayouts() public {
        _setBudget(0);
        _completeRoundsUpTo(3);
        vm.expectRevert(abi.encodeWithSelector(RewardDistributor.RewardDistributorBudgetExceeded.selector, 3, 1, 0));
        _pay(3, _ids(1), _amounts(1));
        vm.expectEmit(true, true, true, true, address(distributor));
        emit RewardDistributor.RoundPaid(3, 0, 0);
        _pay(3, _ids(1, 2), _amounts(0, 0));
        assertEq(token.totalSupply(), 0);
    }

    // ---------------------------------------------------------------- fuzz

    /// @dev Budgets: rounds 1-2 the initial one, round 3 `b3` (set while round 2 is open), round 4 `b4`
    /// (set while no round is open). A pay of `x + y` to A and B in any of them succeeds exactly when it
    /// is within budgetOf(round), which is that model's value.
    function testFuzz_PayRound_NeverExceedsBudgetOfRound(uint256 b3, uint256 b4, uint256 round, uint256 x, uint256 y)
        public
    {
        // Mint limit out of the way: this test is about budgets.
        _deployDistributor(MIN_PARTICIPANTS, MINT_WINDOW_BLOCKS, type(uint128).max);
        b3 = bound(b3, 0, 1e30);
        b4 = bound(b4, 0, 1e30);
        round = bound(round, 1, 4);
        x = bound(x, 0, 2e30);
        y = bound(y, 0, 2e30);
        _setBudget(b3);
        _submit(2, _keys(KEY_B));
        _finalize(2, _ids(1, 2));
        _completeRound(_keys(KEY_A, KEY_B), _ids(1, 2));
        _setBudget(b4);
        _completeRound(_keys(KEY_A, KEY_B), _ids(1, 2));

        uint256 budget = round <= 2 ? ROUND_BUDGET : round == 3 ? b3 : b4;
        assertEq(distributor.budgetOf(round), budget);
        if (x + y > budget) {
            vm.expectRevert(
                abi.encodeWithSelector(RewardDistributor.RewardDistributorBudgetExceeded.selector, round, x + y, budget)
            );
        }
        _pay(round, _ids(1, 2), _amounts(x, y));

        uint256 supply = token.totalSupply();
        assertLe(supply, distributor.budgetOf(round), "minted within the round's budget");
        (bool paid, uint256 total) = distributor.payoutOf(round);
        assertEq(paid, x + y <= budget);
        assertEq(total, supply);
        if (paid) {
            assertEq(supply, x + y);
            assertEq(token.balanceOf(a), x);
            assertEq(token.balanceOf(b), y);
        }
    }

    /// @dev Random interleavings of budget changes and round openings: budgetOf(round) is always the
    /// last budget set before the round was opened (the initial one if none was).
    function testFuzz_BudgetOf_IsTheBudgetInForceAtOpening(uint256 seed) public {
        _finalize(2, _ids(1));
        uint256 next = ROUND_BUDGET;
        uint256[] memory expected = new uint256[](12);
        (expected[1], expected[2]) = (ROUND_BUDGET, ROUND_BUDGET);
        for (uint256 step = 0; step < 24; ++step) {
            uint256 r = uint256(keccak256(abi.encode(seed, step)));
            uint256 round = ledger.roundCount();
            if (r & 1 == 0) {
                next = (r >> 8) % 1e24;
                _setBudget(next);
                assertEq(distributor.roundBudget(), next);
                assertEq(distributor.budgetOf(round + 1), next);
            } else if (round < expected.length - 1) {
                if (ledger.getRound(round).status == RoundLedger.RoundStatus.Open) _finalize(round, _ids());
                else expected[_openRound()] = next;
            }
        }
        uint256 latest = ledger.roundCount();
        for (uint256 round = 1; round <= latest; ++round) {
            assertEq(distributor.budgetOf(round), expected[round], "budget in force at opening");
        }
        assertEq(distributor.budgetOf(latest + 1), next);
    }
}
