// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ConsortiumRegistry} from "../src/ConsortiumRegistry.sol";
import {RoundLedger} from "../src/RoundLedger.sol";
import {ConsortiumFixture} from "./utils/ConsortiumFixture.sol";
import {ConsortiumHandler} from "./utils/ConsortiumHandler.sol";

/// @title ConsortiumInvariantTest
/// @notice Properties that hold whatever sequence of rounds, registrations, scores, payouts, lineages, app
/// approvals, governance switches and admin changes the {ConsortiumHandler} produces: every round's budget
/// is the one in force when it was opened, minting never outruns the budgets of paid rounds nor the mint
/// limit of any block window, each payout stays within its round's budget, rewards follow members across
/// key rotations, every reputation stays in [0, 10000] and matches the EMA formula, a member is excluded
/// exactly when its reputation is below the threshold, no finalized round has a participant excluded
/// before it, and every round starts from the previous round's aggregate or from a lineage's start model.
/// @dev The handler checks the exact outcome of every call it makes (`fail_on_revert = true` in
/// foundry.toml turns a surprise into a failure). Deeper runs than the project default, so that each run
/// goes through several paid rounds and mint windows (64 runs of 128 calls).
/// forge-config: default.invariant.depth = 128
contract ConsortiumInvariantTest is ConsortiumFixture {
    uint64 private constant MIN = 2;
    uint64 private constant WINDOW = 10;
    /// @dev Above one budget, below two: two full payouts in one window cannot both go through.
    uint256 private constant LIMIT = 3_000 ether;
    bytes32 private constant SECOND_APP = keccak256("second flower app bundle");

    ConsortiumHandler private handler;
    uint256[] private keys;

    function setUp() public override {
        super.setUp();
        _deployDistributor(MIN, WINDOW, LIMIT);
        for (uint256 i = 0; i < 5; ++i) {
            keys.push(0xF000 + i);
            _join(keys[i], "Hospital");
        }
        handler = new ConsortiumHandler(
            registry, ledger, reputation, distributor, ADMIN, COORDINATOR, keys, [APP, SECOND_APP]
        );
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: handler.selectors()}));
    }

    /// @notice Every property below, checked after each handler call. One invariant function rather than
    /// one per property: forge runs a campaign per invariant function, so this makes the runs deeper for
    /// the same time; a failure names its property in the assertion message.
    function invariant_ConsortiumProperties() public view {
        _checkBudgetOfIsTheBudgetAtOpening();
        _checkSupplyWithinBudgetsOfPaidRounds();
        _checkSupplyWithinTheMintLimitPerWindow();
        _checkEachPayoutWithinItsBudget();
        _checkReputationWithinBoundsAndFormula();
        _checkExcludedExactlyBelowTheThreshold();
        _checkFinalizedParticipantsWereNotExcluded();
        _checkEveryRoundStartsFromTheLineage();
        _checkOnlyTheLatestRoundMayBeOpen();
        _checkRewardsMatchMemberBalances();
        _checkKeysAndStatusesConsistent();
        _checkGovernanceAsDecided();
    }

    // ---------------------------------------------------------------- budgets and supply

    function _checkBudgetOfIsTheBudgetAtOpening() private view {
        uint256 latest = ledger.roundCount();
        for (uint256 round = 1; round <= latest; ++round) {
            assertEq(distributor.budgetOf(round), handler.ghostBudgetOfRound(round), "budget in force at opening");
        }
        assertEq(distributor.roundBudget(), handler.ghostNextBudget(), "budget of rounds opened from now on");
        assertEq(distributor.budgetOf(latest + 1), handler.ghostNextBudget(), "budget of the next round");
    }

    function _checkSupplyWithinBudgetsOfPaidRounds() private view {
        uint256 supply = token.totalSupply();
        uint256 latest = ledger.roundCount();
        uint256 paidBudgets;
        for (uint256 round = 1; round <= latest; ++round) {
            (bool paid,) = distributor.payoutOf(round);
            if (paid) paidBudgets += distributor.budgetOf(round);
        }
        assertEq(supply, handler.ghostPaidTotal(), "supply equals the recorded payouts");
        assertLe(supply, paidBudgets, "supply <= sum over paid rounds of budgetOf(round)");
        assertEq(paidBudgets, handler.ghostPaidBudgetSum(), "paid rounds' budgets match the ghost model");
        assertLe(supply, handler.ghostRoundsPaid() * handler.ghostMaxBudget(), "supply <= rounds paid * max budget");
        assertEq(token.minter(), address(distributor), "the distributor stays the only minter");
    }

    function _checkSupplyWithinTheMintLimitPerWindow() private view {
        uint256[] memory windows = handler.windowsTouched();
        uint256 sum;
        for (uint256 i = 0; i < windows.length; ++i) {
            uint256 minted = handler.ghostMintedInWindow(windows[i]);
            assertLe(minted, LIMIT, "minted in one window <= mint limit");
            sum += minted;
        }
        assertEq(sum, token.totalSupply(), "windows add up to the supply");
        assertLe(token.totalSupply(), LIMIT * windows.length, "supply <= mint limit * windows touched");
        uint256 current = block.number / WINDOW;
        uint256 expected = handler.ghostMintedInWindow(current);
        assertLe(distributor.mintedInCurrentWindow(), LIMIT);
        assertEq(distributor.mintedInCurrentWindow(), expected, "minted in the current window");
    }

    function _checkEachPayoutWithinItsBudget() private view {
        uint256 latest = ledger.roundCount();
        uint256 sum;
        for (uint256 round = 1; round <= latest; ++round) {
            (bool paid, uint256 total) = distributor.payoutOf(round);
            if (!paid) {
                assertEq(total, 0);
                continue;
            }
            assertLe(total, distributor.budgetOf(round), "payout <= budgetOf(round)");
            assertLe(total, handler.ghostBudgetOfRound(round), "payout <= budget at opening (ghost)");
            RoundLedger.Round memory r = ledger.getRound(round);
            assertEq(uint8(r.status), uint8(RoundLedger.RoundStatus.Finalized));
            assertGe(r.participantCount, MIN);
            sum += total;
        }
        assertEq(sum, token.totalSupply(), "payouts add up to the supply");
    }

    // ---------------------------------------------------------------- reputation and exclusion

    function _checkReputationWithinBoundsAndFormula() private view {
        for (uint64 id = 1; id <= 5; ++id) {
            uint256 value = reputation.reputationOf(id);
            assertLe(value, reputation.MAX_SCORE(), "reputation <= 10000");
            assertEq(value, handler.expectedReputation(id), "reputation follows the EMA");
        }
    }

    function _checkExcludedExactlyBelowTheThreshold() private view {
        (uint16 initial, uint16 smoothing, uint16 threshold) = reputation.parameters();
        (uint16 ghostInitial, uint16 ghostSmoothing, uint16 ghostThreshold) = handler.expectedParameters();
        assertEq(initial, ghostInitial, "initial reputation");
        assertEq(smoothing, ghostSmoothing, "smoothing");
        assertEq(threshold, ghostThreshold, "exclusion threshold");
        assertLe(threshold, initial, "a new member starts included");
        for (uint64 id = 1; id <= 6; ++id) {
            bool excluded = reputation.isExcluded(id);
            assertEq(excluded, reputation.reputationOf(id) < threshold, "excluded iff reputation < threshold");
            if (reputation.lastScoredRound(id) == 0) assertFalse(excluded, "never scored, never excluded");
        }
    }

    /// @dev Judged as things stood when each round was finalized (the threshold may move later).
    function _checkFinalizedParticipantsWereNotExcluded() private view {
        uint256 latest = ledger.roundCount();
        for (uint256 round = 1; round <= latest; ++round) {
            RoundLedger.Round memory r = ledger.getRound(round);
            uint256 counted;
            for (uint64 id = 1; id <= 5; ++id) {
                if (!ledger.isParticipant(round, id)) continue;
                ++counted;
                assertTrue(ledger.hasSubmitted(round, id), "a participant submitted");
                assertFalse(handler.ghostExcludedWhenFinalized(round, id), "a participant excluded before its round");
            }
            (bool paid,) = distributor.payoutOf(round);
            if (paid) assertEq(uint8(r.status), uint8(RoundLedger.RoundStatus.Finalized), "paid rounds are finalized");
            assertEq(counted, r.participantCount, "participant count");
            if (r.status != RoundLedger.RoundStatus.Finalized) assertEq(counted, 0, "no participants while open");
        }
        assertEq(handler.ghostPaidOutsiders(), 0, "a member paid for a round it was no participant of, or excluded");
    }

    // ---------------------------------------------------------------- lineage

    /// @dev Round r starts from round r - 1's aggregate (same lineage), or, with no parent, from the model
    /// its lineage started from, and then it is the first round of that lineage.
    function _checkEveryRoundStartsFromTheLineage() private view {
        uint256 latest = ledger.roundCount();
        for (uint256 round = 1; round <= latest; ++round) {
            RoundLedger.Round memory r = ledger.getRound(round);
            assertTrue(r.lineage >= 1 && r.lineage <= handler.ghostLineage(), "lineage in range");
            if (r.parentRound != 0) {
                assertEq(r.parentRound, round - 1, "parent is the previous round");
                RoundLedger.Round memory parent = ledger.getRound(r.parentRound);
                assertEq(uint8(parent.status), uint8(RoundLedger.RoundStatus.Finalized), "parent finalized");
                assertEq(r.globalModelHash, parent.aggregatedModelHash, "starts from the parent's aggregate");
                assertEq(r.lineage, parent.lineage, "same lineage as the parent");
            } else {
                assertEq(r.globalModelHash, handler.ghostLineageModel(r.lineage), "starts from the lineage's model");
                if (round > 1) assertGt(r.lineage, ledger.getRound(round - 1).lineage);
            }
        }
        (bytes32 head, uint256 headRound, uint256 lineage) = ledger.lineageHead();
        assertEq(head, handler.ghostHead(), "head model");
        assertEq(headRound, handler.ghostHeadRound(), "head round");
        assertEq(lineage, handler.ghostLineage(), "lineage count");
    }

    function _checkOnlyTheLatestRoundMayBeOpen() private view {
        uint256 latest = ledger.roundCount();
        for (uint256 round = 1; round < latest; ++round) {
            assertEq(uint8(ledger.getRound(round).status), uint8(RoundLedger.RoundStatus.Finalized));
        }
        assertEq(handler.ghostRegistrationMismatch(), 0, "registered count differs from the good entries");
    }

    // ---------------------------------------------------------------- members, keys, governance

    /// @dev Rewards are minted to the signer of the day, so a member's rewards are spread over the keys
    /// it has held.
    function _checkRewardsMatchMemberBalances() private view {
        for (uint64 id = 1; id <= 5; ++id) {
            address[] memory history = handler.signerHistory(id);
            uint256 held;
            for (uint256 i = 0; i < history.length; ++i) {
                held += token.balanceOf(history[i]);
            }
            assertEq(held, handler.ghostRewardOf(id), "rewards of the member over its keys");
        }
    }

    function _checkKeysAndStatusesConsistent() private view {
        uint64 active;
        for (uint64 id = 1; id <= 5; ++id) {
            address[] memory history = handler.signerHistory(id);
            address current = history[history.length - 1];
            ConsortiumRegistry.Member memory m = registry.getMember(id);
            bool isActive = m.status == ConsortiumRegistry.Status.Active;
            assertTrue(isActive || m.status == ConsortiumRegistry.Status.Suspended);
            if (isActive) ++active;
            assertEq(m.signer, current, "signer is the last key accepted");
            assertEq(registry.memberIdOf(current), id);
            assertEq(registry.activeMemberIdOf(current), isActive ? id : 0);
            // Rotations complete within a handler call, or are cancelled by a suspension.
            assertEq(registry.pendingSignerOf(id), address(0), "no rotation left pending");
            for (uint256 i = 0; i + 1 < history.length; ++i) {
                assertEq(registry.memberIdOf(history[i]), 0, "a rotated-out key holds no membership");
            }
        }
        assertEq(registry.activeMemberCount(), active, "active count");
        assertEq(registry.memberIdOf(COORDINATOR), 0, "the coordinator's key is no member");
        assertEq(registry.memberIdOf(ADMIN), 0, "the admin's key is no member");
    }

    function _checkGovernanceAsDecided() private view {
        (bool enabled, uint16 quorum) = registry.governance();
        assertEq(enabled, handler.ghostGovernance(), "governance switched only as the handler decided");
        assertEq(quorum, handler.ghostQuorum(), "quorum");
        if (enabled) assertLe(quorum, registry.activeMemberCount(), "the quorum can still be reached");
        assertEq(ledger.isAppApproved(APP), handler.ghostAppApproved(APP), "app approval");
        assertEq(ledger.isAppApproved(SECOND_APP), handler.ghostAppApproved(SECOND_APP), "second app approval");
        assertEq(registry.defaultAdmin(), ADMIN, "the admin never changes");
    }
}
