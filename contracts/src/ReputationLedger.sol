// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ConsortiumAccess} from "./ConsortiumAccess.sol";
import {ConsortiumRegistry} from "./ConsortiumRegistry.sol";
import {RoundLedger} from "./RoundLedger.sol";

/// @title ReputationLedger
/// @notice Per-hospital reputation in basis points (0 to 10,000), moved each round towards the
/// hospital's contribution score by an exponential moving average computed on chain, so anyone can
/// check the arithmetic. Every change is an indexed {ReputationUpdated} event, which makes the whole
/// history recoverable from logs. A hospital whose reputation is below the exclusion threshold is
/// excluded ({isExcluded}): its updates no longer enter the aggregate, and so are not paid.
/// @dev new = (old * (MAX_SCORE - smoothing) + contribution * smoothing) / MAX_SCORE, rounded down.
/// A member never scored has the initial reputation, which is never below the threshold, so a new
/// member starts included.
///
/// The way back: exclusion is not suspension. An excluded hospital stays an active member, keeps
/// training and sending signed updates, and the coordinator keeps registering them in the
/// {RoundLedger} and scoring them here; they are only left out of the aggregate (and so of the
/// round's participants, which are the only members paid). Good scores move the reputation back up
/// by the same moving average, and as soon as it is at or above the threshold the hospital's
/// updates are aggregated again, with no admin action. With a = smoothing / MAX_SCORE and a constant
/// score s above the threshold T, a reputation r below T comes back after about
/// n = log((s - r) / (s - T)) / log(1 / (1 - a)) rounds, since the average closes a fraction a of the
/// gap to s each round. Rounding down stalls it a little below s (it moves only while
/// (s - r) * smoothing >= MAX_SCORE), so the way back is sure for s >= T + ceil(MAX_SCORE / smoothing) - 1,
/// and scores below T never bring a hospital back. For example, with smoothing 5,000 and threshold 3,000
/// one round scored s takes r to (r + s) / 2 (rounded down): a poisoner at 5,000 scored 0 falls to 2,500
/// and is excluded after one round; any score above 3,000 brings it back in time, one round scored 6,000
/// or more brings back any hospital at once ((0 + 6,000) / 2 = 3,000), and from 2,500 a single 3,500 is
/// enough. A threshold of 0 excludes no one.
contract ReputationLedger is ConsortiumAccess {
    /// @notice Upper bound of scores and reputations (basis points).
    uint16 public constant MAX_SCORE = 10_000;

    struct Record {
        uint16 reputation;
        uint16 previous;
        uint64 lastRound;
    }

    RoundLedger private immutable _ledger;
    uint16 private _initialReputation;
    uint16 private _smoothing;
    uint16 private _exclusionThreshold;
    mapping(uint64 memberId => Record) private _records;

    /// @notice A score or parameter is above {MAX_SCORE}, or the smoothing factor is zero.
    error ReputationLedgerOutOfBounds(uint256 value);
    /// @notice The initial reputation is below the exclusion threshold: new members would start excluded.
    error ReputationLedgerInitialBelowThreshold(uint16 initialReputation, uint16 exclusionThreshold);
    /// @notice Member ids and scores differ in length.
    error ReputationLedgerLengthMismatch(uint256 members, uint256 scores);
    /// @notice The member has no registered update in this round.
    error ReputationLedgerNotSubmitted(uint256 round, uint64 memberId);
    /// @notice The member was already scored for this round or a later one.
    error ReputationLedgerAlreadyRecorded(uint256 round, uint64 memberId);

    /// @notice A member's reputation moved after a round's contribution score.
    event ReputationUpdated(
        uint256 indexed round, uint64 indexed memberId, uint16 contribution, uint16 previous, uint16 current
    );
    /// @notice The reputation parameters were set (at deployment, or later by an admin).
    event ReputationParametersSet(
        address indexed setBy, uint16 initialReputation, uint16 smoothing, uint16 exclusionThreshold
    );

    /// @param initialReputation Reputation of a member never scored, in basis points (at least
    /// `exclusionThreshold`).
    /// @param smoothing Weight of a new score in the moving average, in basis points (1 to 10,000).
    /// @param exclusionThreshold Reputation below which a member is excluded from aggregation, in basis
    /// points (0 to 10,000; 0 excludes no one).
    constructor(
        ConsortiumRegistry registry_,
        RoundLedger ledger_,
        uint16 initialReputation,
        uint16 smoothing,
        uint16 exclusionThreshold
    ) ConsortiumAccess(registry_) {
        _requireNonZero(address(ledger_));
        _ledger = ledger_;
        _setParameters(initialReputation, smoothing, exclusionThreshold);
    }

    /// @notice Record contribution scores (basis points) of members that submitted in `round`, and
    /// move their reputations. Excluded members are scored like any other: that is their way back.
    function recordScores(uint256 round, uint64[] calldata memberIds, uint16[] calldata contributions)
        external
        onlyCoordinator
    {
        if (memberIds.length != contributions.length) {
            revert ReputationLedgerLengthMismatch(memberIds.length, contributions.length);
        }
        uint256 keep = MAX_SCORE - _smoothing;
        uint256 smoothing = _smoothing;
        for (uint256 i = 0; i < memberIds.length; ++i) {
            uint64 memberId = memberIds[i];
            uint16 contribution = contributions[i];
            if (contribution > MAX_SCORE) revert ReputationLedgerOutOfBounds(contribution);
            if (!_ledger.hasSubmitted(round, memberId)) revert ReputationLedgerNotSubmitted(round, memberId);
            Record storage record = _records[memberId];
            if (record.lastRound >= round) revert ReputationLedgerAlreadyRecorded(round, memberId);
            uint16 previous = record.lastRound == 0 ? _initialReputation : record.reputation;
            uint16 current = uint16((previous * keep + contribution * smoothing) / MAX_SCORE);
            record.reputation = current;
            record.previous = previous;
            record.lastRound = SafeCast.toUint64(round);
            emit ReputationUpdated(round, memberId, contribution, previous, current);
        }
    }

    /// @notice Change the initial reputation, the smoothing factor and the exclusion threshold. Recorded
    /// reputations keep their values; the new smoothing applies from the next recorded score, members
    /// never scored take the new initial reputation at once, and {isExcluded} compares with the new
    /// threshold at once (raising it may exclude members, lowering it may bring them back).
    /// @param initialReputation Reputation of a member never scored (bps), at least `exclusionThreshold`.
    /// @param smoothing Weight of a new score in the moving average (bps, 1 to 10,000).
    /// @param exclusionThreshold Reputation below which a member is excluded (bps, 0 to 10,000).
    function setParameters(uint16 initialReputation, uint16 smoothing, uint16 exclusionThreshold) external onlyAdmin {
        _setParameters(initialReputation, smoothing, exclusionThreshold);
    }

    /// @notice Current reputation of `memberId` in basis points.
    function reputationOf(uint64 memberId) public view returns (uint16) {
        Record storage record = _records[memberId];
        return record.lastRound == 0 ? _initialReputation : record.reputation;
    }

    /// @notice Whether `memberId`'s updates are to be left out of aggregation: its reputation is below
    /// the exclusion threshold. It flips back as soon as good scores lift the reputation to the threshold.
    function isExcluded(uint64 memberId) external view returns (bool) {
        return reputationOf(memberId) < _exclusionThreshold;
    }

    /// @notice Reputation of `memberId` as it stood when `round` was assessed, before that round's score:
    /// what the round's exclusion is decided on. Unknown (reverts) for a round before the last scored one.
    function reputationBefore(uint256 round, uint64 memberId) public view returns (uint16) {
        Record storage record = _records[memberId];
        if (record.lastRound > round) revert ReputationLedgerAlreadyRecorded(round, memberId);
        return record.lastRound == round && round != 0 ? record.previous : reputationOf(memberId);
    }

    /// @notice Whether `memberId` is excluded from `round`: its reputation before the round is below the
    /// exclusion threshold. {RoundLedger.finalizeRound} and {RewardDistributor.payRound} refuse it.
    function isExcludedBefore(uint256 round, uint64 memberId) external view returns (bool) {
        return reputationBefore(round, memberId) < _exclusionThreshold;
    }

    /// @notice Last round in which `memberId` was scored (0 if never).
    function lastScoredRound(uint64 memberId) external view returns (uint64) {
        return _records[memberId].lastRound;
    }

    /// @notice Initial reputation, smoothing factor and exclusion threshold, in basis points.
    function parameters()
        external
        view
        returns (uint16 initialReputation, uint16 smoothing, uint16 exclusionThreshold)
    {
        return (_initialReputation, _smoothing, _exclusionThreshold);
    }

    /// @notice The round ledger whose submissions gate scoring.
    function ledger() external view returns (RoundLedger) {
        return _ledger;
    }

    function _setParameters(uint16 initialReputation, uint16 smoothing, uint16 exclusionThreshold) private {
        if (initialReputation > MAX_SCORE) revert ReputationLedgerOutOfBounds(initialReputation);
        if (smoothing == 0 || smoothing > MAX_SCORE) revert ReputationLedgerOutOfBounds(smoothing);
        if (exclusionThreshold > MAX_SCORE) revert ReputationLedgerOutOfBounds(exclusionThreshold);
        if (initialReputation < exclusionThreshold) {
            revert ReputationLedgerInitialBelowThreshold(initialReputation, exclusionThreshold);
        }
        _initialReputation = initialReputation;
        _smoothing = smoothing;
        _exclusionThreshold = exclusionThreshold;
        emit ReputationParametersSet(msg.sender, initialReputation, smoothing, exclusionThreshold);
    }
}
