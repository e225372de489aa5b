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
/// history recoverable from logs.
/// @dev new = (old * (MAX_SCORE - smoothing) + contribution * smoothing) / MAX_SCORE, rounded down.
/// A member never scored has the initial reputation.
contract ReputationLedger is ConsortiumAccess {
    /// @notice Upper bound of scores and reputations (basis points).
    uint16 public constant MAX_SCORE = 10_000;

    struct Record {
        uint16 reputation;
        uint64 lastRound;
    }

    RoundLedger private immutable _ledger;
    uint16 private _initialReputation;
    uint16 private _smoothing;
    mapping(uint64 memberId => Record) private _records;

    /// @notice A score or parameter is above {MAX_SCORE}, or the smoothing factor is zero.
    error ReputationLedgerOutOfBounds(uint256 value);
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
    event ReputationParametersSet(address indexed setBy, uint16 initialReputation, uint16 smoothing);

    /// @param initialReputation Reputation of a member never scored, in basis points.
    /// @param smoothing Weight of a new score in the moving average, in basis points (1 to 10,000).
    constructor(ConsortiumRegistry registry_, RoundLedger ledger_, uint16 initialReputation, uint16 smoothing)
        ConsortiumAccess(registry_)
    {
        _requireNonZero(address(ledger_));
        _ledger = ledger_;
        _setParameters(initialReputation, smoothing);
    }

    /// @notice Record contribution scores (basis points) of members that submitted in `round`, and
    /// move their reputations.
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
            record.lastRound = SafeCast.toUint64(round);
            emit ReputationUpdated(round, memberId, contribution, previous, current);
        }
    }

    /// @notice Change the initial reputation and the smoothing factor. Recorded reputations keep their
    /// values; the new smoothing applies from the next recorded score, and members never scored take the
    /// new initial reputation at once.
    function setParameters(uint16 initialReputation, uint16 smoothing) external onlyAdmin {
        _setParameters(initialReputation, smoothing);
    }

    /// @notice Current reputation of `memberId` in basis points.
    function reputationOf(uint64 memberId) external view returns (uint16) {
        Record storage record = _records[memberId];
        return record.lastRound == 0 ? _initialReputation : record.reputation;
    }

    /// @notice Last round in which `memberId` was scored (0 if never).
    function lastScoredRound(uint64 memberId) external view returns (uint64) {
        return _records[memberId].lastRound;
    }

    /// @notice Initial reputation and smoothing factor, in basis points.
    function parameters() external view returns (uint16 initialReputation, uint16 smoothing) {
        return (_initialReputation, _smoothing);
    }

    /// @notice The round ledger whose submissions gate scoring.
    function ledger() external view returns (RoundLedger) {
        return _ledger;
    }

    function _setParameters(uint16 initialReputation, uint16 smoothing) private {
        if (initialReputation > MAX_SCORE) revert ReputationLedgerOutOfBounds(initialReputation);
        if (smoothing == 0 || smoothing > MAX_SCORE) revert ReputationLedgerOutOfBounds(smoothing);
        _initialReputation = initialReputation;
        _smoothing = smoothing;
        emit ReputationParametersSet(msg.sender, initialReputation, smoothing);
    }
}
