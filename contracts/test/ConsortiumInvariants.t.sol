// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ConsortiumRegistry} from "../src/ConsortiumRegistry.sol";
import {ReputationLedger} from "../src/ReputationLedger.sol";
import {RewardDistributor} from "../src/RewardDistributor.sol";
import {RewardToken} from "../src/RewardToken.sol";
import {RoundLedger} from "../src/RoundLedger.sol";
import {ConsortiumFixture} from "./utils/ConsortiumFixture.sol";
import {Vm} from "./utils/Vm.sol";

/// @title ConsortiumHandler
/// @notice Drives the consortium through random but well-formed rounds for the invariant fuzzer: open a
/// round, register updates signed by a random subset of member keys, finalize with a random subset,
/// score, pay (sometimes deliberately over budget), change the budget and reputation parameters,
/// suspend or reinstate members, and rotate their keys (by the member or by the admin). It keeps ghost
/// records of what the contracts should hold, the budget of every round included.
/// @dev Each action returns early instead of reverting when its preconditions do not hold, so the fuzzer's
/// calls are spent on state changes. The handler acts through `vm.prank` as the admin or coordinator.
contract ConsortiumHandler {
    Vm private constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    uint256 private constant MAX_SCORE = 10_000;
    /// @dev Order of secp256k1: private keys lie in [1, N - 1].
    uint256 private constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    /// @notice Number of hospitals; their member ids are 1 to MEMBERS.
    uint256 public constant MEMBERS = 5;

    ConsortiumRegistry private immutable _registry;
    RoundLedger private immutable _ledger;
    ReputationLedger private immutable _reputation;
    RewardDistributor private immutable _distributor;
    address private immutable _admin;
    address private immutable _coordinator;
    uint256[] private _keys;

    /// @notice Sum, over paid rounds, of each round's budget (as the ghost model has it).
    uint256 public ghostPaidBudgetSum;
    /// @notice Sum of all payout totals.
    uint256 public ghostPaidTotal;
    /// @notice Number of rounds paid.
    uint256 public ghostRoundsPaid;
    /// @notice Largest budget ever in force.
    uint256 public ghostMaxBudget;
    /// @notice Over-budget payouts that did not revert (must stay zero).
    uint256 public ghostOverBudgetAccepted;
    /// @notice Budget of rounds opened from now on: the last one set.
    uint256 public ghostNextBudget;
    /// @notice Budget of `round`: {ghostNextBudget} when the round was opened.
    mapping(uint256 round => uint256) public ghostBudgetOfRound;
    /// @notice Tokens paid to `memberId` in total.
    mapping(uint64 memberId => uint256) public ghostRewardOf;
    /// @notice Over-budget payouts attempted and refused.
    uint256 public overBudgetRefused;
    /// @notice Key rotations a suspended member's key pushed through, or rotations accepted after a
    /// suspension cancelled them (must stay zero).
    uint256 public ghostRotationRuleBroken;
    /// @notice Every key `memberId` has held, oldest first (the last one is its current signer).
    mapping(uint64 memberId => address[]) private _signerHistory;
    /// @notice Reputation parameters with an initial reputation below the exclusion threshold that were
    /// accepted (must stay zero).
    uint256 public ghostBadParametersAccepted;
    /// @notice Successful calls per action, for inspection.
    mapping(bytes4 selector => uint256) public calls;

    uint16 private _ghostInitial;
    uint16 private _ghostSmoothing;
    uint16 private _ghostThreshold;
    mapping(uint64 memberId => uint16) private _ghostReputation;
    mapping(uint64 memberId => bool) private _ghostScored;

    constructor(
        ConsortiumRegistry registry_,
        RoundLedger ledger_,
        ReputationLedger reputation_,
        RewardDistributor distributor_,
        address admin_,
        address coordinator_,
        uint256[] memory keys_
    ) {
        require(keys_.length == MEMBERS, "handler: one key per member");
        (_registry, _ledger, _reputation, _distributor) = (registry_, ledger_, reputation_, distributor_);
        (_admin, _coordinator, _keys) = (admin_, coordinator_, keys_);
        (_ghostInitial, _ghostSmoothing, _ghostThreshold) = reputation_.parameters();
        ghostMaxBudget = distributor_.roundBudget();
        ghostNextBudget = ghostMaxBudget;
        for (uint256 i = 0; i < MEMBERS; ++i) {
            _signerHistory[uint64(i + 1)].push(vm.addr(keys_[i]));
        }
    }

    // ---------------------------------------------------------------- actions

    function openRound(uint256 seed) external {
        uint256 latest = _ledger.roundCount();
        if (latest != 0 && _status(latest) == RoundLedger.RoundStatus.Open) return;
        _open(seed);
    }

    function submitUpdates(uint256 mask, uint256 seed) external {
        uint256 round = _ledger.roundCount();
        if (round == 0 || _status(round) != RoundLedger.RoundStatus.Open) return;
        _submit(round, mask, seed);
    }

    function finalizeRound(uint256 mask, uint256 seed) external {
        uint256 round = _ledger.roundCount();
        if (round == 0 || _status(round) != RoundLedger.RoundStatus.Open) return;
        _finalize(round, mask, seed);
    }

    /// @notice A whole round in one call (open unless one is open, submit, finalize), so that runs
    /// of limited depth still reach many rounds.
    function runRound(uint256 submitMask, uint256 includeMask, uint256 seed) external {
        uint256 round = _ledger.roundCount();
        if (round == 0 || _status(round) != RoundLedger.RoundStatus.Open) round = _open(seed);
        _submit(round, submitMask, seed);
        _finalize(round, includeMask, seed);
        ++calls[this.runRound.selector];
    }

    function _open(uint256 seed) private returns (uint256 round) {
        vm.prank(_coordinator);
        round = _ledger.openRound(keccak256(abi.encode("global", seed)), keccak256(abi.encode("config", seed)));
        ghostBudgetOfRound[round] = ghostNextBudget;
        ++calls[this.openRound.selector];
    }

    function _submit(uint256 round, uint256 mask, uint256 seed) private {
        bytes32 globalModelHash = _ledger.getRound(round).globalModelHash;
        RoundLedger.SignedUpdate[] memory batch = new RoundLedger.SignedUpdate[](MEMBERS);
        uint256 count;
        for (uint256 i = 0; i < MEMBERS; ++i) {
            uint64 id = uint64(i + 1);
            if ((mask >> i) & 1 == 0 || _ledger.hasSubmitted(round, id)) continue;
            if (_registry.activeMemberIdOf(vm.addr(_keys[i])) != id) continue;
            bytes32 updateHash = keccak256(abi.encode("update", seed, i));
            uint64 examples = uint64(1 + uint256(keccak256(abi.encode("examples", seed, i))) % 10_000);
            bytes32 digest = _ledger.updateDigest(round, globalModelHash, updateHash, examples);
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(_keys[i], digest);
            batch[count++] = RoundLedger.SignedUpdate({
                updateHash: updateHash, numExamples: examples, r: r, vs: bytes32(uint256(s) | (uint256(v - 27) << 255))
            });
        }
        if (count == 0) return;
        assembly ("memory-safe") {
            mstore(batch, count)
        }
        vm.prank(_coordinator);
        _ledger.registerUpdates(round, batch);
        ++calls[this.submitUpdates.selector];
    }

    function _finalize(uint256 round, uint256 mask, uint256 seed) private {
        uint64[] memory participants = new uint64[](MEMBERS);
        uint256[] memory weights = new uint256[](MEMBERS);
        uint256 count;
        for (uint256 i = 0; i < MEMBERS; ++i) {
            uint64 id = uint64(i + 1);
            if ((mask >> i) & 1 == 0 || !_ledger.hasSubmitted(round, id)) continue;
            participants[count] = id;
            weights[count++] = 1 + uint256(keccak256(abi.encode("weight", seed, i))) % 1e6;
        }
        assembly ("memory-safe") {
            mstore(participants, count)
            mstore(weights, count)
        }
        vm.prank(_coordinator);
        _ledger.finalizeRound(
            round,
            keccak256(abi.encode("aggregate", seed)),
            keccak256(abi.encode("metrics", seed)),
            participants,
            weights
        );
        ++calls[this.finalizeRound.selector];
    }

    function recordScores(uint256 roundSeed, uint256 mask, uint256 seed) external {
        uint256 latest = _ledger.roundCount();
        if (latest == 0) return;
        uint256 round = _pickRound(roundSeed, latest);
        uint64[] memory ids = new uint64[](MEMBERS);
        uint16[] memory scores = new uint16[](MEMBERS);
        uint256 count;
        for (uint256 i = 0; i < MEMBERS; ++i) {
            uint64 id = uint64(i + 1);
            if ((mask >> i) & 1 == 0 || !_ledger.hasSubmitted(round, id)) continue;
            if (_reputation.lastScoredRound(id) >= round) continue;
            uint256 pick = (seed >> (8 * i)) & 3;
            uint256 random = uint256(keccak256(abi.encode("score", seed, i))) % (MAX_SCORE + 1);
            uint16 score = uint16(pick == 0 ? 0 : pick == 1 ? MAX_SCORE : random);
            ids[count] = id;
            scores[count++] = score;
            uint256 previous = _ghostScored[id] ? _ghostReputation[id] : _ghostInitial;
            _ghostReputation[id] =
                uint16((previous * (MAX_SCORE - _ghostSmoothing) + uint256(score) * _ghostSmoothing) / MAX_SCORE);
            _ghostScored[id] = true;
        }
        if (count == 0) return;
        assembly ("memory-safe") {
            mstore(ids, count)
            mstore(scores, count)
        }
        vm.prank(_coordinator);
        _reputation.recordScores(round, ids, scores);
        ++calls[this.recordScores.selector];
    }

    function payRound(uint256 roundSeed, uint256 mask, uint256 seed) external {
        uint256 latest = _ledger.roundCount();
        if (latest == 0) return;
        uint256 round = _pickRound(roundSeed, latest);
        (bool paid,) = _distributor.payoutOf(round);
        if (paid || _status(round) != RoundLedger.RoundStatus.Finalized) return;

        // The ghost model's budget, not the distributor's: a wrong budgetOf shows up as an accepted
        // over-budget payout or a refused one within budget.
        uint256 budget = ghostBudgetOfRound[round];
        uint64[] memory ids = new uint64[](MEMBERS);
        uint256[] memory amounts = new uint256[](MEMBERS);
        uint256 count;
        uint256 remaining = budget;
        for (uint256 i = 0; i < MEMBERS; ++i) {
            uint64 id = uint64(i + 1);
            if ((mask >> i) & 1 == 0 || !_ledger.isParticipant(round, id)) continue;
            uint256 amount = uint256(keccak256(abi.encode("amount", seed, i))) % (remaining + 1);
            if ((seed >> (8 * i)) & 7 == 0) amount = 0;
            remaining -= amount;
            ids[count] = id;
            amounts[count++] = amount;
        }
        assembly ("memory-safe") {
            mstore(ids, count)
            mstore(amounts, count)
        }

        if (count != 0 && seed % 8 == 0) {
            // Ask for one unit more than the budget: the distributor must refuse.
            amounts[count - 1] += remaining + 1;
            vm.prank(_coordinator);
            try _distributor.payRound(round, ids, amounts) {
                ++ghostOverBudgetAccepted;
                _recordPaid(round, ids, amounts);
            } catch {
                ++overBudgetRefused;
            }
            return;
        }
        vm.prank(_coordinator);
        _distributor.payRound(round, ids, amounts);
        _recordPaid(round, ids, amounts);
        ++calls[this.payRound.selector];
    }

    function setRoundBudget(uint256 budget) external {
        budget %= 1e24 + 1;
        vm.prank(_admin);
        _distributor.setRoundBudget(budget);
        ghostNextBudget = budget;
        if (budget > ghostMaxBudget) ghostMaxBudget = budget;
        ++calls[this.setRoundBudget.selector];
    }

    /// @notice Set the reputation parameters, with an exclusion threshold at most the initial reputation;
    /// one time in eight, first try a threshold above it, which the ledger must refuse.
    function setReputationParameters(uint256 initial, uint256 smoothing, uint256 threshold) external {
        uint16 newInitial = uint16(initial % (MAX_SCORE + 1));
        uint16 newSmoothing = uint16(1 + smoothing % MAX_SCORE);
        if (threshold % 8 == 0 && newInitial < MAX_SCORE) {
            uint16 tooHigh = uint16(newInitial + 1 + (threshold >> 3) % (MAX_SCORE - newInitial));
            vm.prank(_admin);
            try _reputation.setParameters(newInitial, newSmoothing, tooHigh) {
                ++ghostBadParametersAccepted;
                (_ghostInitial, _ghostSmoothing, _ghostThreshold) = (newInitial, newSmoothing, tooHigh);
            } catch {}
            return;
        }
        uint16 newThreshold = uint16(threshold % (uint256(newInitial) + 1));
        vm.prank(_admin);
        _reputation.setParameters(newInitial, newSmoothing, newThreshold);
        (_ghostInitial, _ghostSmoothing, _ghostThreshold) = (newInitial, newSmoothing, newThreshold);
        ++calls[this.setReputationParameters.selector];
    }

    function toggleSuspension(uint256 index) external {
        uint64 id = uint64(1 + index % MEMBERS);
        bool active = _registry.getMember(id).status == ConsortiumRegistry.Status.Active;
        vm.prank(_admin);
        if (active) _registry.suspendMember(id, "fuzz");
        else _registry.reinstateMember(id);
        ++calls[this.toggleSuspension.selector];
    }

    /// @notice Rotate a member's key to a fresh one: by the member's own key when it is active and
    /// `seed` says so, else by the admin (active or suspended member). Checks on the way that a
    /// suspended member's key cannot propose, and, one time in four for an active member, that
    /// suspending it between proposal and acceptance cancels the rotation (the member stays suspended).
    function rotateKey(uint256 index, uint256 seed) external {
        uint256 i = index % MEMBERS;
        uint64 id = uint64(i + 1);
        address current = vm.addr(_keys[i]);
        uint256 newKey =
            1 + uint256(keccak256(abi.encode("key", id, seed, _signerHistory[id].length))) % (SECP256K1_N - 1);
        address fresh = vm.addr(newKey);
        if (_registry.memberIdOf(fresh) != 0) return;
        ConsortiumRegistry.Status status = _registry.getMember(id).status;
        bool byMember = seed & 1 == 1;

        if (status == ConsortiumRegistry.Status.Suspended) {
            vm.prank(current);
            try _registry.proposeKeyRotation(fresh) {
                ++ghostRotationRuleBroken;
            } catch {}
            byMember = false;
        } else if ((seed >> 1) % 4 == 0) {
            vm.prank(current);
            _registry.proposeKeyRotation(fresh);
            vm.prank(_admin);
            _registry.suspendMember(id, "fuzz: suspended mid-rotation");
            vm.prank(fresh);
            try _registry.acceptKeyRotation(id) {
                ++ghostRotationRuleBroken;
                _rotated(i, id, newKey);
            } catch {}
            ++calls[this.rotateKey.selector];
            return;
        }

        if (byMember) {
            vm.prank(current);
            _registry.proposeKeyRotation(fresh);
        } else {
            vm.prank(_admin);
            _registry.adminProposeKeyRotation(id, fresh);
        }
        vm.prank(fresh);
        _registry.acceptKeyRotation(id);
        _rotated(i, id, newKey);
        ++calls[this.rotateKey.selector];
    }

    function _rotated(uint256 i, uint64 id, uint256 newKey) private {
        _keys[i] = newKey;
        _signerHistory[id].push(vm.addr(newKey));
    }

    // ---------------------------------------------------------------- views

    /// @notice Every key `memberId` has held, oldest first.
    function signerHistory(uint64 memberId) external view returns (address[] memory) {
        return _signerHistory[memberId];
    }

    /// @notice Reputation of `memberId` as the ghost model computes it.
    function expectedReputation(uint64 memberId) external view returns (uint256) {
        return _ghostScored[memberId] ? _ghostReputation[memberId] : _ghostInitial;
    }

    /// @notice The reputation parameters as the ghost model has them: initial, smoothing, exclusion threshold.
    function expectedParameters() external view returns (uint16, uint16, uint16) {
        return (_ghostInitial, _ghostSmoothing, _ghostThreshold);
    }

    /// @notice The fuzzable actions.
    function selectors() external pure returns (bytes4[] memory out) {
        out = new bytes4[](10);
        out[0] = this.openRound.selector;
        out[1] = this.submitUpdates.selector;
        out[2] = this.finalizeRound.selector;
        out[3] = this.recordScores.selector;
        out[4] = this.payRound.selector;
        out[5] = this.setRoundBudget.selector;
        out[6] = this.setReputationParameters.selector;
        out[7] = this.toggleSuspension.selector;
        out[8] = this.runRound.selector;
        out[9] = this.rotateKey.selector;
    }

    /// @dev The latest round half of the time, else any round.
    function _pickRound(uint256 seed, uint256 latest) private pure returns (uint256) {
        return seed & 1 == 0 ? latest : 1 + (seed >> 1) % latest;
    }

    function _status(uint256 round) private view returns (RoundLedger.RoundStatus) {
        return _ledger.getRound(round).status;
    }

    function _recordPaid(uint256 round, uint64[] memory ids, uint256[] memory amounts) private {
        uint256 total;
        for (uint256 i = 0; i < ids.length; ++i) {
            ghostRewardOf[ids[i]] += amounts[i];
            total += amounts[i];
        }
        ghostPaidBudgetSum += ghostBudgetOfRound[round];
        ghostPaidTotal += total;
        ++ghostRoundsPaid;
    }
}

/// @title ConsortiumInvariantTest
/// @notice Properties that hold whatever sequence of rounds, scores, payouts and admin changes the
/// {ConsortiumHandler} produces: every round's budget is the one in force when it was opened, minting
/// never outruns the budgets of paid rounds, each payout stays within its round's budget, rewards follow
/// members across key rotations, every reputation stays in [0, 10000] and matches the EMA formula, and a
/// member is excluded exactly when its reputation is below the threshold (never before it is first scored).
/// @dev Deeper runs than the project default, so that each run goes through several paid rounds.
/// forge-config: default.invariant.depth = 64
contract ConsortiumInvariantTest is ConsortiumFixture {
    ConsortiumHandler private handler;
    uint256[] private keys;

    function setUp() public override {
        super.setUp();
        for (uint256 i = 0; i < 5; ++i) {
            keys.push(0xF000 + i);
            _join(keys[i], "Hospital");
        }
        handler = new ConsortiumHandler(registry, ledger, reputation, distributor, ADMIN, COORDINATOR, keys);
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: handler.selectors()}));
    }

    function invariant_BudgetOfIsTheBudgetAtOpening() public view {
        uint256 latest = ledger.roundCount();
        for (uint256 round = 1; round <= latest; ++round) {
            assertEq(distributor.budgetOf(round), handler.ghostBudgetOfRound(round), "budget in force at opening");
        }
        assertEq(distributor.roundBudget(), handler.ghostNextBudget(), "budget of rounds opened from now on");
        assertEq(distributor.budgetOf(latest + 1), handler.ghostNextBudget(), "budget of the next round");
    }

    function invariant_SupplyWithinBudgetsOfPaidRounds() public view {
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

    function invariant_EachPayoutWithinItsBudget() public view {
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
            assertEq(uint8(ledger.getRound(round).status), uint8(RoundLedger.RoundStatus.Finalized));
            sum += total;
        }
        assertEq(sum, token.totalSupply(), "payouts add up to the supply");
        assertEq(handler.ghostOverBudgetAccepted(), 0, "over-budget payout accepted");
    }

    function invariant_ReputationWithinBoundsAndFormula() public view {
        for (uint64 id = 1; id <= 5; ++id) {
            uint256 value = reputation.reputationOf(id);
            assertLe(value, reputation.MAX_SCORE(), "reputation <= 10000");
            assertEq(value, handler.expectedReputation(id), "reputation follows the EMA");
        }
    }

    function invariant_ExcludedExactlyBelowTheThreshold() public view {
        (uint16 initial, uint16 smoothing, uint16 threshold) = reputation.parameters();
        (uint16 ghostInitial, uint16 ghostSmoothing, uint16 ghostThreshold) = handler.expectedParameters();
        assertEq(initial, ghostInitial, "initial reputation");
        assertEq(smoothing, ghostSmoothing, "smoothing");
        assertEq(threshold, ghostThreshold, "exclusion threshold");
        assertLe(threshold, initial, "a new member starts included");
        assertEq(handler.ghostBadParametersAccepted(), 0, "initial reputation below the threshold accepted");
        for (uint64 id = 1; id <= 6; ++id) {
            bool excluded = reputation.isExcluded(id);
            assertEq(excluded, reputation.reputationOf(id) < threshold, "excluded iff reputation < threshold");
            if (reputation.lastScoredRound(id) == 0) assertFalse(excluded, "never scored, never excluded");
        }
    }

    /// @dev Rewards are minted to the signer of the day, so a member's rewards are spread over the keys
    /// it has held.
    function invariant_RewardsMatchMemberBalances() public view {
        for (uint64 id = 1; id <= 5; ++id) {
            address[] memory history = handler.signerHistory(id);
            uint256 held;
            for (uint256 i = 0; i < history.length; ++i) {
                held += token.balanceOf(history[i]);
            }
            assertEq(held, handler.ghostRewardOf(id), "rewards of the member over its keys");
        }
    }

    function invariant_KeysAndStatusesConsistent() public view {
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
        assertEq(handler.ghostRotationRuleBroken(), 0, "key rotation rule broken");
    }

    function invariant_OnlyTheLatestRoundMayBeOpen() public view {
        uint256 latest = ledger.roundCount();
        for (uint256 round = 1; round < latest; ++round) {
            assertEq(uint8(ledger.getRound(round).status), uint8(RoundLedger.RoundStatus.Finalized));
        }
    }
}
