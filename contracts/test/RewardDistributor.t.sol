// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ConsortiumAccess} from "../src/ConsortiumAccess.sol";
import {CONSORTIUM_COORDINATOR_ROLE, ConsortiumRegistry} from "../src/ConsortiumRegistry.sol";
import {RewardDistributor} from "../src/RewardDistributor.sol";
import {RewardToken} from "../src/RewardToken.sol";
import {RoundLedger} from "../src/RoundLedger.sol";
import {ConsortiumFixture} from "./utils/ConsortiumFixture.sol";
import {Vm} from "./utils/Vm.sol";

/// @title RewardDistributorTest
/// @notice {RewardToken} minting rights and {RewardDistributor} payouts: once per finalized round,
/// only to that round's aggregated participants, in ascending member order, within the budget in
/// force when paid, minted to each member's current signer.
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

    function _setBudget(uint256 budget) private {
        vm.prank(ADMIN);
        distributor.setRoundBudget(budget);
    }

    // ---------------------------------------------------------------- token

    function test_Token_MetadataAndRoles() public view {
        assertEq(token.name(), "BCFL Reward");
        assertEq(token.symbol(), "BCFLR");
        assertEq(token.decimals(), 18);
        assertEq(token.totalSupply(), 0);
        assertEq(token.MINTER_ROLE(), keccak256("MINTER_ROLE"));
        assertTrue(token.hasRole(token.MINTER_ROLE(), address(distributor)));
        assertTrue(token.hasRole(bytes32(0), ADMIN));
        assertFalse(token.hasRole(token.MINTER_ROLE(), ADMIN));
    }

    function test_Token_OnlyMinterMints() public {
        bytes32 minter = token.MINTER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, STRANGER, minter)
        );
        vm.prank(STRANGER);
        token.mint(STRANGER, 1);
        // The token admin grants the role but does not hold it.
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, ADMIN, minter));
        vm.prank(ADMIN);
        token.mint(ADMIN, 1);
        // Nor can the coordinator mint around the distributor.
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, COORDINATOR, minter)
        );
        vm.prank(COORDINATOR);
        token.mint(COORDINATOR, 1);

        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Transfer(address(0), a, 5);
        vm.prank(address(distributor));
        token.mint(a, 5);
        assertEq(token.balanceOf(a), 5);
    }

    // ---------------------------------------------------------------- construction

    function test_Constructor() public {
        assertEq(distributor.roundBudget(), ROUND_BUDGET);
        assertEq(address(distributor.token()), address(token));
        assertEq(address(distributor.ledger()), address(ledger));
        assertEq(address(distributor.registry()), address(registry));

        vm.expectEmit();
        emit RewardDistributor.RoundBudgetSet(0, 77);
        new RewardDistributor(registry, ledger, token, 77);
    }

    function test_Constructor_RevertsOnZeroAddresses() public {
        vm.expectRevert(ConsortiumAccess.ConsortiumAccessZeroAddress.selector);
        new RewardDistributor(ConsortiumRegistry(address(0)), ledger, token, 1);
        vm.expectRevert(ConsortiumAccess.ConsortiumAccessZeroAddress.selector);
        new RewardDistributor(registry, RoundLedger(address(0)), token, 1);
        vm.expectRevert(ConsortiumAccess.ConsortiumAccessZeroAddress.selector);
        new RewardDistributor(registry, ledger, RewardToken(address(0)), 1);
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

    /// @dev Documents current behaviour: suspension after finalization does not stop the payout.
    function test_PayRound_PaysSuspendedParticipant() public {
        vm.prank(ADMIN);
        registry.suspendMember(2, "audit");
        _pay(1, _ids(2), _amounts(1 ether));
        assertEq(token.balanceOf(b), 1 ether);
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

    function test_PayRound_RevertsWithoutMinterRole() public {
        bytes32 minter = token.MINTER_ROLE();
        vm.prank(ADMIN);
        token.revokeRole(minter, address(distributor));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, address(distributor), minter
            )
        );
        _pay(1, _ids(1), _amounts(1));
        (bool paid,) = distributor.payoutOf(1);
        assertFalse(paid);
    }

    /// @dev Payout totals are stored as uint248: a budget above that range cannot be paid out in full.
    function test_PayRound_TotalAboveUint248Reverts() public {
        _setBudget(type(uint256).max);
        uint256 half = uint256(type(uint248).max) / 2 + 1;
        vm.expectRevert(abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 248, 2 * half));
        _pay(1, _ids(1, 2), _amounts(half, half));
    }

    // ---------------------------------------------------------------- budget

    function test_SetRoundBudget() public {
        vm.expectEmit(true, true, true, true, address(distributor));
        emit RewardDistributor.RoundBudgetSet(ROUND_BUDGET, 100);
        _setBudget(100);
        assertEq(distributor.roundBudget(), 100);
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
    }

    function test_SetRoundBudget_AppliesWhenPaid() public {
        _finalize(2, _ids(1));
        _pay(1, _ids(1), _amounts(ROUND_BUDGET));
        _setBudget(100);
        vm.expectRevert(abi.encodeWithSelector(RewardDistributor.RewardDistributorBudgetExceeded.selector, 2, 101, 100));
        _pay(2, _ids(1), _amounts(101));
        vm.expectEmit(true, true, true, true, address(distributor));
        emit RewardDistributor.RoundPaid(2, 100, 100);
        _pay(2, _ids(1), _amounts(100));
        assertEq(token.totalSupply(), ROUND_BUDGET + 100);
    }

    function test_SetRoundBudget_ZeroAllowsOnlyZeroPayouts() public {
        _setBudget(0);
        vm.expectRevert(abi.encodeWithSelector(RewardDistributor.RewardDistributorBudgetExceeded.selector, 1, 1, 0));
        _pay(1, _ids(1), _amounts(1));
        _pay(1, _ids(1, 2), _amounts(0, 0));
        assertEq(token.totalSupply(), 0);
    }

    // ---------------------------------------------------------------- fuzz

    function testFuzz_PayRound_NeverExceedsBudget(uint256 budget, uint256 x, uint256 y) public {
        budget = bound(budget, 0, 1e30);
        x = bound(x, 0, 1e30);
        y = bound(y, 0, 1e30);
        _setBudget(budget);
        if (x + y > budget) {
            vm.expectRevert(
                abi.encodeWithSelector(RewardDistributor.RewardDistributorBudgetExceeded.selector, 1, x + y, budget)
            );
        }
        _pay(1, _ids(1, 2), _amounts(x, y));

        uint256 supply = token.totalSupply();
        assertLe(supply, budget, "minted within the budget");
        (bool paid, uint256 total) = distributor.payoutOf(1);
        assertEq(paid, x + y <= budget);
        assertEq(total, supply);
        if (paid) {
            assertEq(supply, x + y);
            assertEq(token.balanceOf(a), x);
            assertEq(token.balanceOf(b), y);
        }
    }
}
