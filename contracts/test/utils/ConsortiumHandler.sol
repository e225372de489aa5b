// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ConsortiumAccess} from "../../src/ConsortiumAccess.sol";
import {ConsortiumRegistry} from "../../src/ConsortiumRegistry.sol";
import {ReputationLedger} from "../../src/ReputationLedger.sol";
import {RewardDistributor} from "../../src/RewardDistributor.sol";
import {RoundLedger} from "../../src/RoundLedger.sol";
import {Vm} from "./Vm.sol";

/// @title ConsortiumHandler
/// @notice Drives the whole consortium for the invariant fuzzer: rounds (opened from the lineage head,
/// sometimes from another model or with an unapproved app), batches mixing good and bad signed updates,
/// finalizations (sometimes with an excluded member), scores, payouts of any finalized round, late ones
/// included (sometimes over budget, over the mint limit, for too few participants or to a member that is
/// no participant, such as an excluded one), budget and reputation changes, suspensions, key rotations,
/// new lineages, app approvals and governance switched on and off, with the decisions approved by the
/// members' quorum while it is on (and the admin's key refused an admin transfer then). Blocks advance so
/// that payouts spread over several mint windows.
/// @dev Every call goes through {_call}, which knows the exact revert (selector and arguments) the ghost
/// model predicts, or none: an unexpected revert, a missing one or a different one reverts the handler,
/// which `fail_on_revert = true` turns into a failed run. Inputs are bounded so that every action does
/// something. Ghost records mirror what the contracts should hold, for the invariants to compare.
contract ConsortiumHandler {
    Vm private constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    uint256 private constant MAX_SCORE = 10_000;
    /// @dev Order of secp256k1: private keys lie in [1, N - 1].
    uint256 private constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    /// @notice Number of hospitals; their member ids are 1 to MEMBERS.
    uint256 public constant MEMBERS = 5;
    /// @notice The most a round's budget is set to (the mint limit is above one budget, below two).
    uint256 public constant MAX_BUDGET = 2_000 ether;
    uint256 private constant OUTSIDER_KEY = 0x0DD0;
    address private constant STRANGER = address(0x5E11);

    /// @notice The call reverted where the ghost model expected success, or the other way round, or with
    /// other revert data.
    error HandlerUnexpectedOutcome(string action, bytes expected, bytes actual, bool succeeded);

    ConsortiumRegistry private immutable _registry;
    RoundLedger private immutable _ledger;
    ReputationLedger private immutable _reputation;
    RewardDistributor private immutable _distributor;
    address private immutable _admin;
    address private immutable _coordinator;
    uint256 private immutable _minParticipants;
    uint256 private immutable _windowBlocks;
    uint256 private immutable _mintLimit;
    uint256[] private _keys;
    bytes32[2] private _apps;
    uint256 private _blockNumber;

    // ---------------------------------------------------------------- ghost: budgets and payouts

    /// @notice Sum, over paid rounds, of each round's budget (as the ghost model has it).
    uint256 public ghostPaidBudgetSum;
    /// @notice Sum of all payout totals.
    uint256 public ghostPaidTotal;
    /// @notice Number of rounds paid.
    uint256 public ghostRoundsPaid;
    /// @notice Largest budget ever in force.
    uint256 public ghostMaxBudget;
    /// @notice Budget of rounds opened from now on: the last one set.
    uint256 public ghostNextBudget;
    /// @notice Budget of `round`: {ghostNextBudget} when the round was opened.
    mapping(uint256 round => uint256) public ghostBudgetOfRound;
    /// @notice Tokens paid to `memberId` in total.
    mapping(uint64 memberId => uint256) public ghostRewardOf;

    // ---------------------------------------------------------------- ghost: mint windows

    /// @notice Tokens minted in block window `window`.
    mapping(uint256 window => uint256) public ghostMintedInWindow;
    /// @notice Windows in which something was minted, in order.
    uint256[] private _windowsTouched;
    uint256 private _lastWindow;
    uint256 private _lastWindowMinted;

    // ---------------------------------------------------------------- ghost: reputation

    uint16 private _ghostInitial;
    uint16 private _ghostSmoothing;
    uint16 private _ghostThreshold;
    mapping(uint64 memberId => uint16) private _ghostReputation;
    mapping(uint64 memberId => uint16) private _ghostPrevious;
    mapping(uint64 memberId => uint256) private _ghostLastRound;

    // ---------------------------------------------------------------- ghost: rounds and lineages

    /// @notice Whether `memberId` was excluded before `round` (ghost model) when `round` was finalized with it.
    mapping(uint256 round => mapping(uint64 memberId => bool)) public ghostExcludedWhenFinalized;
    /// @notice Whether `round` was finalized with `memberId` among its participants (ghost model).
    mapping(uint256 round => mapping(uint64 memberId => bool)) public ghostParticipant;
    /// @notice Members paid for a round they were no participant of, or were excluded before: must stay 0.
    uint256 public ghostPaidOutsiders;
    /// @notice Rounds paid after one of their participants was scored in a later round (for inspection).
    uint256 public ghostLatePayments;
    /// @notice The model lineage `lineage` started from.
    mapping(uint256 lineage => bytes32) public ghostLineageModel;
    /// @notice The lineage head: model, round that produced it (0 at a lineage start), lineage.
    bytes32 public ghostHead;
    uint256 public ghostHeadRound;
    uint256 public ghostLineage;
    /// @notice Registrations whose count of registered updates differed from the good entries sent.
    uint256 public ghostRegistrationMismatch;

    // ---------------------------------------------------------------- ghost: keys and governance

    /// @notice Every key `memberId` has held, oldest first (the last one is its current signer).
    mapping(uint64 memberId => address[]) private _signerHistory;
    bool public ghostGovernance;
    uint16 public ghostQuorum;
    mapping(bytes32 app => bool) public ghostAppApproved;

    /// @notice Successful calls per action, and expected reverts per error selector, for inspection.
    mapping(bytes4 selector => uint256) public calls;
    mapping(bytes4 selector => uint256) public expectedReverts;

    constructor(
        ConsortiumRegistry registry_,
        RoundLedger ledger_,
        ReputationLedger reputation_,
        RewardDistributor distributor_,
        address admin_,
        address coordinator_,
        uint256[] memory keys_,
        bytes32[2] memory apps_
    ) {
        require(keys_.length == MEMBERS, "handler: one key per member");
        (_registry, _ledger, _reputation, _distributor) = (registry_, ledger_, reputation_, distributor_);
        (_admin, _coordinator, _keys, _apps) = (admin_, coordinator_, keys_, apps_);
        (_minParticipants, _windowBlocks, _mintLimit) = distributor_.mintingRule();
        (_ghostInitial, _ghostSmoothing, _ghostThreshold) = reputation_.parameters();
        ghostMaxBudget = distributor_.roundBudget();
        ghostNextBudget = ghostMaxBudget;
        (ghostHead, ghostHeadRound, ghostLineage) = ledger_.lineageHead();
        ghostLineageModel[ghostLineage] = ghostHead;
        for (uint256 i = 0; i < apps_.length; ++i) {
            ghostAppApproved[apps_[i]] = ledger_.isAppApproved(apps_[i]);
        }
        for (uint256 i = 0; i < MEMBERS; ++i) {
            _signerHistory[uint64(i + 1)].push(vm.addr(keys_[i]));
        }
        _blockNumber = block.number;
    }

    /// @dev Block numbers set by one handler call are not guaranteed to last into the next: each action
    /// starts at the handler's own block.
    modifier atBlock() {
        vm.roll(_blockNumber);
        _;
    }

    // ---------------------------------------------------------------- the outcome check

    /// @dev Call `target` with `data` as `caller` and require the ghost model's outcome: success when
    /// `expected` is empty, else a revert with exactly `expected`.
    function _call(string memory action, address caller, address target, bytes memory data, bytes memory expected)
        private
        returns (bool ok)
    {
        vm.prank(caller);
        bytes memory actual;
        (ok, actual) = target.call(data);
        bool asExpected = expected.length == 0 ? ok : !ok && keccak256(actual) == keccak256(expected);
        if (!asExpected) revert HandlerUnexpectedOutcome(action, expected, actual, ok);
        if (!ok) ++expectedReverts[bytes4(expected)];
    }

    // ---------------------------------------------------------------- rounds

    function openRound(uint256 seed) external atBlock {
        uint256 latest = _ledger.roundCount();
        if (_isOpen(latest)) {
            bytes memory still = abi.encodeWithSelector(RoundLedger.RoundLedgerRoundStillOpen.selector, latest);
            _call("open while open", _coordinator, address(_ledger), _openData(ghostHead, _apps[0]), still);
            return;
        }
        if (seed % 8 == 1) {
            bytes32 other = keccak256(abi.encode("off-lineage model", seed));
            bytes memory err = abi.encodeWithSelector(RoundLedger.RoundLedgerNotOnLineage.selector, other, ghostHead);
            _call("open off lineage", _coordinator, address(_ledger), _openData(other, _apps[0]), err);
            return;
        }
        if (seed % 8 == 2) {
            bytes32 unknown = keccak256(abi.encode("unapproved app", seed));
            bytes memory err = abi.encodeWithSelector(RoundLedger.RoundLedgerAppNotApproved.selector, unknown);
            _call("open unapproved app", _coordinator, address(_ledger), _openData(ghostHead, unknown), err);
            return;
        }
        _open(seed);
    }

    function submitUpdates(uint256 mask, uint256 badMask, uint256 seed) external atBlock {
        uint256 round = _ledger.roundCount();
        if (!_isOpen(round)) round = _open(seed);
        if (round != 0) _submit(round, mask, badMask, seed);
    }

    function finalizeRound(uint256 mask, uint256 seed) external atBlock {
        uint256 round = _ledger.roundCount();
        if (!_isOpen(round)) return;
        _finalize(round, mask, seed);
    }

    /// @notice A whole round in one call (open unless one is open, submit, finalize), so that runs of
    /// limited depth still reach many rounds.
    function runRound(uint256 submitMask, uint256 includeMask, uint256 seed) external atBlock {
        uint256 round = _ledger.roundCount();
        if (!_isOpen(round)) round = _open(seed);
        if (round == 0) return;
        // Mostly every active member submits, and everyone that submitted (and is not excluded) is a
        // participant, so that rounds have enough participants to be paid.
        _submit(round, submitMask % 4 == 0 ? submitMask >> 2 : type(uint256).max, 0, seed);
        _finalize(round, includeMask % 4 == 0 ? includeMask >> 2 : type(uint256).max, seed | 1);
        ++calls[this.runRound.selector];
    }

    function _openData(bytes32 model, bytes32 app) private pure returns (bytes memory) {
        return abi.encodeCall(RoundLedger.openRound, (model, keccak256("config"), app));
    }

    /// @dev Open from the head with an approved app; with none approved, check that opening is refused.
    function _open(uint256 seed) private returns (uint256 round) {
        bytes32 app = ghostAppApproved[_apps[seed % 2]] ? _apps[seed % 2] : _apps[1 - seed % 2];
        if (!ghostAppApproved[app]) {
            bytes memory err = abi.encodeWithSelector(RoundLedger.RoundLedgerAppNotApproved.selector, app);
            _call("open without app", _coordinator, address(_ledger), _openData(ghostHead, app), err);
            return 0;
        }
        _call("open", _coordinator, address(_ledger), _openData(ghostHead, app), "");
        round = _ledger.roundCount();
        ghostBudgetOfRound[round] = ghostNextBudget;
        ++calls[this.openRound.selector];
    }

    /// @dev A batch with the masked members' good updates and, per `badMask`, entries that must be skipped:
    /// an outsider's, a duplicate, an empty one, a suspended member's.
    function _submit(uint256 round, uint256 mask, uint256 badMask, uint256 seed) private {
        bytes32 globalModelHash = _ledger.getRound(round).globalModelHash;
        RoundLedger.SignedUpdate[] memory batch = new RoundLedger.SignedUpdate[](MEMBERS + 4);
        uint256 count;
        uint256 good;
        for (uint256 i = 0; i < MEMBERS; ++i) {
            uint64 id = uint64(i + 1);
            if ((mask >> i) & 1 == 0 || _ledger.hasSubmitted(round, id)) continue;
            bool active = _registry.activeMemberIdOf(vm.addr(_keys[i])) == id;
            if (!active && (badMask >> 3) & 1 == 0) continue; // a suspended member's entry, only sometimes
            batch[count++] = _signUpdate(_keys[i], round, globalModelHash, seed, i);
            if (active) ++good;
        }
        if (badMask & 1 == 1) batch[count++] = _signUpdate(OUTSIDER_KEY, round, globalModelHash, seed, 99);
        if ((badMask >> 1) & 1 == 1 && count != 0) batch[count++] = batch[0];
        if ((badMask >> 2) & 1 == 1) {
            batch[count] = _signUpdate(_keys[0], round, globalModelHash, seed, 98);
            batch[count++].updateHash = bytes32(0);
        }
        if (count == 0) return;
        assembly ("memory-safe") {
            mstore(batch, count)
        }
        uint256 before = _ledger.getRound(round).updateCount;
        _call("register", STRANGER, address(_ledger), abi.encodeCall(RoundLedger.registerUpdates, (round, batch)), "");
        if (_ledger.getRound(round).updateCount != before + good) ++ghostRegistrationMismatch;
        ++calls[this.submitUpdates.selector];
    }

    function _signUpdate(uint256 key, uint256 round, bytes32 globalModelHash, uint256 seed, uint256 salt)
        private
        view
        returns (RoundLedger.SignedUpdate memory)
    {
        bytes32 updateHash = keccak256(abi.encode("update", seed, salt));
        uint64 examples = uint64(1 + uint256(keccak256(abi.encode("examples", seed, salt))) % 10_000);
        RoundLedger.SignedUpdate memory u = RoundLedger.SignedUpdate({
            updateHash: updateHash, numExamples: examples, epsilonSpent: type(uint64).max, deltaSpent: 0, r: 0, vs: 0
        });
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, _ledger.updateDigest(round, globalModelHash, u));
        (u.r, u.vs) = (r, bytes32(uint256(s) | (uint256(v - 27) << 255)));
        return u;
    }

    /// @dev Finalize with the masked members that submitted, leaving out the excluded ones, except one time
    /// in four when an excluded one is kept: then the ledger must refuse the first one.
    function _finalize(uint256 round, uint256 mask, uint256 seed) private {
        bool keepExcluded = seed % 4 == 0;
        uint64[] memory participants = new uint64[](MEMBERS);
        uint256[] memory weights = new uint256[](MEMBERS);
        uint256 count;
        uint64 firstExcluded;
        for (uint256 i = 0; i < MEMBERS; ++i) {
            uint64 id = uint64(i + 1);
            if ((mask >> i) & 1 == 0 || !_ledger.hasSubmitted(round, id)) continue;
            bool excluded = _excludedBefore(round, id);
            if (excluded && !keepExcluded) continue;
            if (excluded && firstExcluded == 0) firstExcluded = id;
            participants[count] = id;
            weights[count++] = 1 + uint256(keccak256(abi.encode("weight", seed, i))) % 1e6;
        }
        assembly ("memory-safe") {
            mstore(participants, count)
            mstore(weights, count)
        }
        bytes32 aggregate = keccak256(abi.encode("aggregate", round, seed));
        bytes memory data = abi.encodeCall(
            RoundLedger.finalizeRound, (round, aggregate, keccak256(abi.encode("metrics", seed)), participants, weights)
        );
        bytes memory expected = firstExcluded == 0
            ? bytes("")
            : abi.encodeWithSelector(RoundLedger.RoundLedgerParticipantExcluded.selector, round, firstExcluded);
        if (!_call("finalize", _coordinator, address(_ledger), data, expected)) return;
        for (uint256 i = 0; i < count; ++i) {
            ghostExcludedWhenFinalized[round][participants[i]] = _excludedBefore(round, participants[i]);
            ghostParticipant[round][participants[i]] = true;
        }
        (ghostHead, ghostHeadRound) = (aggregate, round);
        ++calls[this.finalizeRound.selector];
    }

    // ---------------------------------------------------------------- lineages and apps

    /// @notice Start a lineage from a fresh model or from an earlier round's aggregate (a rollback), by the
    /// admin or the members' decision; sometimes by someone not allowed, or while a round is open.
    function startLineage(uint256 seed) external atBlock {
        uint256 latest = _ledger.roundCount();
        bytes32 model = keccak256(abi.encode("fresh model", seed));
        if (seed % 2 == 0 && latest != 0) {
            uint256 round = 1 + (seed >> 1) % latest;
            if (_ledger.getRound(round).status == RoundLedger.RoundStatus.Finalized) {
                model = _ledger.getRound(round).aggregatedModelHash;
            }
        }
        string memory reason = seed % 3 == 0 ? "rollback" : "restart";
        bytes32 decision = _ledger.lineageDecision(model, reason);
        bytes memory data = abi.encodeCall(RoundLedger.startLineage, (model, reason));
        (address caller, bytes memory denied) = _authorize(decision, seed);
        if (denied.length != 0) {
            _call("lineage unauthorized", caller, address(_ledger), data, denied);
            return;
        }
        if (_isOpen(latest)) {
            bytes memory still = abi.encodeWithSelector(RoundLedger.RoundLedgerRoundStillOpen.selector, latest);
            _call("lineage while open", caller, address(_ledger), data, still);
            return;
        }
        _call("lineage", caller, address(_ledger), data, "");
        ++ghostLineage;
        ghostLineageModel[ghostLineage] = model;
        (ghostHead, ghostHeadRound) = (model, 0);
        ++calls[this.startLineage.selector];
    }

    /// @notice Approve or revoke one of the two apps, by the admin or the members' decision.
    function setApp(uint256 seed) external atBlock {
        bytes32 app = _apps[seed % 2];
        bool approve = (seed >> 1) % 4 != 0; // revoke one time in four
        bytes32 decision = _ledger.appDecision(app, approve);
        bytes memory data =
            approve ? abi.encodeCall(RoundLedger.approveApp, (app)) : abi.encodeCall(RoundLedger.revokeApp, (app));
        (address caller, bytes memory denied) = _authorize(decision, seed >> 2);
        if (!_call("app", caller, address(_ledger), data, denied)) return;
        ghostAppApproved[app] = approve;
        ++calls[this.setApp.selector];
    }

    /// @dev Who carries out `decision` and the revert to expect: the admin (governance off) or anyone once
    /// the quorum approved it (on); one time in eight, someone it must refuse.
    function _authorize(bytes32 decision, uint256 seed) private returns (address caller, bytes memory denied) {
        bool refuse = seed % 8 == 7;
        if (!ghostGovernance) {
            if (!refuse) return (_admin, "");
            return (
                STRANGER,
                abi.encodeWithSelector(ConsortiumAccess.ConsortiumAccessUnauthorized.selector, STRANGER, bytes32(0))
            );
        }
        if (refuse && !_registry.isDecided(decision)) {
            return
                (
                    _admin,
                    abi.encodeWithSelector(ConsortiumAccess.ConsortiumAccessDecisionNotApproved.selector, decision)
                );
        }
        _decide(decision);
        return (STRANGER, "");
    }

    /// @dev Active members approve `decision` until it has the quorum (skipping those that already did).
    function _decide(bytes32 decision) private {
        for (uint256 i = 0; i < MEMBERS && _registry.decisionApprovals(decision) < ghostQuorum; ++i) {
            uint64 id = uint64(i + 1);
            address signer = vm.addr(_keys[i]);
            if (_registry.activeMemberIdOf(signer) != id || _registry.hasApprovedDecision(decision, id)) continue;
            _call(
                "approve decision",
                signer,
                address(_registry),
                abi.encodeCall(ConsortiumRegistry.approveDecision, (decision)),
                ""
            );
        }
        require(_registry.isDecided(decision), "handler: quorum not reached");
    }

    /// @notice Switch governance on (the admin, with a quorum within the active members) or off (the
    /// members' decision); one time in four, the admin tries to switch it off alone and must be refused,
    /// and one time in four it tries to start or cancel an admin transfer or change the delay, refused too.
    function toggleGovernance(uint256 seed) external atBlock {
        uint64 active = _registry.activeMemberCount();
        if (!ghostGovernance) {
            uint16 quorum = uint16(active == 0 ? 1 : 1 + seed % active);
            bytes memory data = abi.encodeCall(ConsortiumRegistry.setGovernance, (true, quorum));
            bytes memory expected = active == 0
                ? abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidQuorum.selector, quorum, active)
                : bytes("");
            if (!_call("governance on", _admin, address(_registry), data, expected)) return;
            (ghostGovernance, ghostQuorum) = (true, quorum);
            ++calls[this.toggleGovernance.selector];
            return;
        }
        if (seed % 4 == 1) {
            // The admin's key alone moves nothing about the admin role in governance mode.
            bytes memory on = abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryGovernanceOn.selector);
            address registry_ = address(_registry);
            _call(
                "admin transfer", _admin, registry_, abi.encodeCall(_registry.beginDefaultAdminTransfer, (_admin)), on
            );
            _call("admin cancel", _admin, registry_, abi.encodeCall(_registry.cancelDefaultAdminTransfer, ()), on);
            _call("admin delay", _admin, registry_, abi.encodeCall(_registry.changeDefaultAdminDelay, (0)), on);
            _call("admin rollback", _admin, registry_, abi.encodeCall(_registry.rollbackDefaultAdminDelay, ()), on);
            return;
        }
        bytes32 off = _registry.governanceDecision(false, 0);
        bytes memory offData = abi.encodeCall(ConsortiumRegistry.setGovernance, (false, 0));
        if (seed % 4 == 0 && !_registry.isDecided(off)) {
            bytes memory err =
                abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryDecisionNotApproved.selector, off);
            _call("admin governance off", _admin, address(_registry), offData, err);
            return;
        }
        _decide(off);
        _call("governance off", STRANGER, address(_registry), offData, "");
        (ghostGovernance, ghostQuorum) = (false, 0);
        ++calls[this.toggleGovernance.selector];
    }

    // ---------------------------------------------------------------- reputation

    function recordScores(uint256 roundSeed, uint256 mask, uint256 seed) external atBlock {
        uint256 latest = _ledger.roundCount();
        if (latest == 0) return;
        uint256 round = _pickRound(roundSeed, latest);
        uint64[] memory ids = new uint64[](MEMBERS);
        uint16[] memory scores = new uint16[](MEMBERS);
        uint256 count;
        for (uint256 i = 0; i < MEMBERS; ++i) {
            uint64 id = uint64(i + 1);
            if ((mask >> i) & 1 == 0 || !_ledger.hasSubmitted(round, id)) continue;
            if (_ghostLastRound[id] >= round) continue;
            uint256 pick = (seed >> (8 * i)) & 3;
            uint256 random = uint256(keccak256(abi.encode("score", seed, i))) % (MAX_SCORE + 1);
            uint16 score = uint16(pick == 0 ? 0 : pick == 1 ? MAX_SCORE : random);
            ids[count] = id;
            scores[count++] = score;
        }
        if (count == 0) return;
        assembly ("memory-safe") {
            mstore(ids, count)
            mstore(scores, count)
        }
        _call(
            "score",
            _coordinator,
            address(_reputation),
            abi.encodeCall(ReputationLedger.recordScores, (round, ids, scores)),
            ""
        );
        for (uint256 i = 0; i < count; ++i) {
            uint64 id = ids[i];
            uint256 previous = _reputationOf(id);
            _ghostPrevious[id] = uint16(previous);
            _ghostReputation[id] =
                uint16((previous * (MAX_SCORE - _ghostSmoothing) + uint256(scores[i]) * _ghostSmoothing) / MAX_SCORE);
            _ghostLastRound[id] = round;
        }
        ++calls[this.recordScores.selector];
    }

    /// @notice Set the reputation parameters, with an exclusion threshold at most the initial reputation;
    /// one time in eight, first try a threshold above it, which the ledger must refuse.
    function setReputationParameters(uint256 initial, uint256 smoothing, uint256 threshold) external atBlock {
        uint16 newInitial = uint16(initial % (MAX_SCORE + 1));
        uint16 newSmoothing = uint16(1 + smoothing % MAX_SCORE);
        if (threshold % 8 == 0 && newInitial < MAX_SCORE) {
            uint16 tooHigh = uint16(newInitial + 1 + (threshold >> 3) % (MAX_SCORE - newInitial));
            bytes memory err = abi.encodeWithSelector(
                ReputationLedger.ReputationLedgerInitialBelowThreshold.selector, newInitial, tooHigh
            );
            _call(
                "bad parameters",
                _admin,
                address(_reputation),
                abi.encodeCall(ReputationLedger.setParameters, (newInitial, newSmoothing, tooHigh)),
                err
            );
            return;
        }
        uint16 newThreshold = uint16(threshold % (uint256(newInitial) + 1));
        _call(
            "parameters",
            _admin,
            address(_reputation),
            abi.encodeCall(ReputationLedger.setParameters, (newInitial, newSmoothing, newThreshold)),
            ""
        );
        (_ghostInitial, _ghostSmoothing, _ghostThreshold) = (newInitial, newSmoothing, newThreshold);
        ++calls[this.setReputationParameters.selector];
    }

    // ---------------------------------------------------------------- payouts

    function payRound(uint256 roundSeed, uint256 mask, uint256 seed) external atBlock {
        uint256 latest = _ledger.roundCount();
        if (latest == 0) return;
        uint256 round = _pickRound(roundSeed, latest);
        (bool paid,) = _distributor.payoutOf(round);
        if (paid || _ledger.getRound(round).status != RoundLedger.RoundStatus.Finalized) return;

        // The ghost model's budget, not the distributor's: a wrong budgetOf shows up as an unexpected outcome.
        uint256 budget = ghostBudgetOfRound[round];
        // Mostly all participants, so that payouts add up to most of the budget and the mint limit bites.
        mask = mask % 4 == 0 ? mask >> 2 : type(uint256).max;
        // One time in eight, a member that is no participant (left out, or excluded before the round) too.
        (uint64[] memory ids, uint256[] memory amounts, uint256 total, uint64 outsider) =
            _payouts(round, mask, seed, budget, seed % 8 == 1);
        if (ids.length != 0 && seed % 8 >= 4) {
            // Half the time the whole budget, so that two payouts in one window pass the mint limit.
            amounts[ids.length - 1] += budget - total;
            total = budget;
        }
        if (ids.length != 0 && seed % 8 == 0) {
            // One unit more than the budget: the distributor must refuse (unless something comes first).
            amounts[ids.length - 1] += budget - total + 1;
            total = budget + 1;
        }
        bytes memory expected = _expectedPayRevert(round, outsider, total, budget);
        bytes memory data = abi.encodeCall(RewardDistributor.payRound, (round, ids, amounts));
        if (!_call("pay", _coordinator, address(_distributor), data, expected)) return;
        _recordPaid(round, ids, amounts, total);
        ++calls[this.payRound.selector];
    }

    /// @dev The masked participants with random amounts within `budget`; with `addOutsider`, also the first
    /// member that is no participant (`outsider`, 0 if every member is one), in id order.
    function _payouts(uint256 round, uint256 mask, uint256 seed, uint256 budget, bool addOutsider)
        private
        view
        returns (uint64[] memory ids, uint256[] memory amounts, uint256 total, uint64 outsider)
    {
        ids = new uint64[](MEMBERS);
        amounts = new uint256[](MEMBERS);
        uint256 count;
        for (uint256 i = 0; i < MEMBERS; ++i) {
            uint64 id = uint64(i + 1);
            bool participant = _ledger.isParticipant(round, id);
            if (addOutsider && !participant && outsider == 0) {
                outsider = id;
            } else if ((mask >> i) & 1 == 0 || !participant) {
                continue;
            }
            uint256 amount = uint256(keccak256(abi.encode("amount", seed, i))) % (budget - total + 1);
            if ((seed >> (8 * i)) & 7 == 0) amount = 0;
            total += amount;
            ids[count] = id;
            amounts[count++] = amount;
        }
        assembly ("memory-safe") {
            mstore(ids, count)
            mstore(amounts, count)
        }
    }

    /// @dev The revert {RewardDistributor.payRound} must give, in the order it checks, or none. Payment
    /// does not depend on reputation: a round paid late, after its participants were scored again, goes
    /// through; the only member refused is one that is no participant (`outsider`), which the ghost model
    /// knows from the finalization.
    function _expectedPayRevert(uint256 round, uint64 outsider, uint256 total, uint256 budget)
        private
        view
        returns (bytes memory)
    {
        uint256 participants = _ledger.getRound(round).participantCount;
        if (participants < _minParticipants) {
            return abi.encodeWithSelector(
                RewardDistributor.RewardDistributorTooFewParticipants.selector, round, participants, _minParticipants
            );
        }
        if (outsider != 0) {
            return abi.encodeWithSelector(RewardDistributor.RewardDistributorNotParticipant.selector, round, outsider);
        }
        if (total > budget) {
            return
                abi.encodeWithSelector(RewardDistributor.RewardDistributorBudgetExceeded.selector, round, total, budget);
        }
        uint256 window = block.number / _windowBlocks;
        uint256 minted = (window == _lastWindow ? _lastWindowMinted : 0) + total;
        if (minted > _mintLimit) {
            return abi.encodeWithSelector(
                RewardDistributor.RewardDistributorMintLimitExceeded.selector, window, minted, _mintLimit
            );
        }
        return "";
    }

    function _recordPaid(uint256 round, uint64[] memory ids, uint256[] memory amounts, uint256 total) private {
        bool late;
        for (uint256 i = 0; i < ids.length; ++i) {
            ghostRewardOf[ids[i]] += amounts[i];
            if (!ghostParticipant[round][ids[i]] || ghostExcludedWhenFinalized[round][ids[i]]) ++ghostPaidOutsiders;
            if (_ghostLastRound[ids[i]] > round) late = true;
        }
        if (late) ++ghostLatePayments;
        uint256 window = block.number / _windowBlocks;
        _lastWindowMinted = (window == _lastWindow ? _lastWindowMinted : 0) + total;
        _lastWindow = window;
        if (total != 0) {
            if (ghostMintedInWindow[window] == 0) _windowsTouched.push(window);
            ghostMintedInWindow[window] += total;
        }
        ghostPaidBudgetSum += ghostBudgetOfRound[round];
        ghostPaidTotal += total;
        ++ghostRoundsPaid;
    }

    function setRoundBudget(uint256 budget) external atBlock {
        budget %= MAX_BUDGET + 1;
        _call("budget", _admin, address(_distributor), abi.encodeCall(RewardDistributor.setRoundBudget, (budget)), "");
        ghostNextBudget = budget;
        if (budget > ghostMaxBudget) ghostMaxBudget = budget;
        ++calls[this.setRoundBudget.selector];
    }

    /// @notice Move on by 1 to 3 mint windows' worth of blocks at most.
    function advanceBlocks(uint256 blocks) external {
        _blockNumber += 1 + blocks % (3 * _windowBlocks);
        vm.roll(_blockNumber);
        ++calls[this.advanceBlocks.selector];
    }

    // ---------------------------------------------------------------- membership

    /// @notice Suspend an active member or reinstate a suspended one; with governance on, never below the
    /// quorum's number of active members.
    function toggleSuspension(uint256 index) external atBlock {
        uint64 id = uint64(1 + index % MEMBERS);
        bool active = _registry.getMember(id).status == ConsortiumRegistry.Status.Active;
        if (active && !_canSuspend()) return;
        bytes memory data = active
            ? abi.encodeCall(ConsortiumRegistry.suspendMember, (id, "fuzz"))
            : abi.encodeCall(ConsortiumRegistry.reinstateMember, (id));
        _call("suspension", _admin, address(_registry), data, "");
        ++calls[this.toggleSuspension.selector];
    }

    function _canSuspend() private view returns (bool) {
        return !ghostGovernance || _registry.activeMemberCount() > ghostQuorum;
    }

    /// @notice Rotate a member's key to a fresh one: by the member's own key when it is active and
    /// `seed` says so, else by the admin (active or suspended member). Checks on the way that a
    /// suspended member's key cannot propose, and, one time in four for an active member, that
    /// suspending it between proposal and acceptance cancels the rotation (the member stays suspended).
    function rotateKey(uint256 index, uint256 seed) external atBlock {
        uint256 i = index % MEMBERS;
        uint64 id = uint64(i + 1);
        address current = vm.addr(_keys[i]);
        uint256 newKey =
            1 + uint256(keccak256(abi.encode("key", id, seed, _signerHistory[id].length))) % (SECP256K1_N - 1);
        address fresh = vm.addr(newKey);
        if (_registry.memberIdOf(fresh) != 0) return;
        ConsortiumRegistry.Status status = _registry.getMember(id).status;
        bool byMember = seed & 1 == 1;
        bytes memory propose = abi.encodeCall(ConsortiumRegistry.proposeKeyRotation, (fresh));
        bytes memory accept = abi.encodeCall(ConsortiumRegistry.acceptKeyRotation, (id));

        if (status == ConsortiumRegistry.Status.Suspended) {
            bytes memory err = abi.encodeWithSelector(
                ConsortiumRegistry.ConsortiumRegistryInvalidStatus.selector, id, ConsortiumRegistry.Status.Suspended
            );
            _call("suspended propose", current, address(_registry), propose, err);
            byMember = false;
        } else if ((seed >> 1) % 4 == 0 && _canSuspend()) {
            _call("propose", current, address(_registry), propose, "");
            _call(
                "suspend",
                _admin,
                address(_registry),
                abi.encodeCall(ConsortiumRegistry.suspendMember, (id, "mid-rotation")),
                ""
            );
            bytes memory cancelled =
                abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNoPendingRotation.selector, id, fresh);
            _call("accept cancelled", fresh, address(_registry), accept, cancelled);
            ++calls[this.rotateKey.selector];
            return;
        }

        if (byMember) {
            _call("propose", current, address(_registry), propose, "");
        } else {
            _call(
                "admin propose",
                _admin,
                address(_registry),
                abi.encodeCall(ConsortiumRegistry.adminProposeKeyRotation, (id, fresh)),
                ""
            );
        }
        _call("accept", fresh, address(_registry), accept, "");
        _keys[i] = newKey;
        _signerHistory[id].push(fresh);
        ++calls[this.rotateKey.selector];
    }

    // ---------------------------------------------------------------- ghost reputation

    function _reputationOf(uint64 id) private view returns (uint256) {
        return _ghostLastRound[id] == 0 ? _ghostInitial : _ghostReputation[id];
    }

    function _excludedBefore(uint256 round, uint64 id) private view returns (bool) {
        uint256 before = _ghostLastRound[id] == round && round != 0 ? _ghostPrevious[id] : _reputationOf(id);
        return before < _ghostThreshold;
    }

    // ---------------------------------------------------------------- views

    /// @notice Every key `memberId` has held, oldest first.
    function signerHistory(uint64 memberId) external view returns (address[] memory) {
        return _signerHistory[memberId];
    }

    /// @notice Windows in which something was minted.
    function windowsTouched() external view returns (uint256[] memory) {
        return _windowsTouched;
    }

    /// @notice Reputation of `memberId` as the ghost model computes it.
    function expectedReputation(uint64 memberId) external view returns (uint256) {
        return _reputationOf(memberId);
    }

    /// @notice The reputation parameters as the ghost model has them: initial, smoothing, exclusion threshold.
    function expectedParameters() external view returns (uint16, uint16, uint16) {
        return (_ghostInitial, _ghostSmoothing, _ghostThreshold);
    }

    /// @notice The fuzzable actions.
    function selectors() external pure returns (bytes4[] memory out) {
        out = new bytes4[](16);
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
        out[10] = this.startLineage.selector;
        out[11] = this.setApp.selector;
        out[12] = this.toggleGovernance.selector;
        out[13] = this.advanceBlocks.selector;
        // Twice as likely: rounds and payouts are what the other actions act on.
        out[14] = this.runRound.selector;
        out[15] = this.payRound.selector;
    }

    /// @dev The latest finalized round half of the time, else any round.
    function _pickRound(uint256 seed, uint256 latest) private view returns (uint256) {
        if (seed & 1 == 1) return 1 + (seed >> 1) % latest;
        return _isOpen(latest) && latest > 1 ? latest - 1 : latest;
    }

    function _isOpen(uint256 round) private view returns (bool) {
        return round != 0 && _ledger.getRound(round).status == RoundLedger.RoundStatus.Open;
    }
}
