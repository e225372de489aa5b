// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ConsortiumAccess} from "./ConsortiumAccess.sol";
import {ConsortiumRegistry} from "./ConsortiumRegistry.sol";
import {IExclusionOracle} from "./IExclusionOracle.sol";
import {RewardToken} from "./RewardToken.sol";
import {RoundLedger} from "./RoundLedger.sol";

/// @title RewardDistributor
/// @notice Pays each finalized round's rewards in the {RewardToken} it creates and alone mints, once
/// per round and in one transaction, only to the members whose updates entered that round's
/// aggregate, and never more than that round's budget.
/// @dev A budget change applies to rounds opened after it, so a round's budget is fixed once the
/// round is open. Three deployment parameters, which no key can change afterwards, bound what even a
/// stolen coordinator key mints: a round is paid only with at least `minParticipants` participants,
/// never to a member excluded before the round, and at most `mintLimit` tokens are minted in any
/// window of `mintWindowBlocks` consecutive blocks numbered from 0 (block.number / mintWindowBlocks).
contract RewardDistributor is ConsortiumAccess {
    struct Payout {
        bool paid;
        uint248 total;
    }

    struct BudgetChange {
        uint64 fromRound;
        uint192 amount;
    }

    RewardToken private immutable _token;
    RoundLedger private immutable _ledger;
    IExclusionOracle private immutable _exclusion;
    uint64 private immutable _minParticipants;
    uint64 private immutable _mintWindowBlocks;
    uint256 private immutable _mintLimit;
    uint256 private _mintWindow;
    uint256 private _mintedInWindow;
    BudgetChange[] private _budgets;
    mapping(uint256 round => Payout) private _payouts;

    /// @notice The round was paid already.
    error RewardDistributorAlreadyPaid(uint256 round);
    /// @notice The round is not finalized.
    error RewardDistributorRoundNotFinalized(uint256 round);
    /// @notice Member ids and amounts differ in length.
    error RewardDistributorLengthMismatch(uint256 members, uint256 amounts);
    /// @notice Member ids must be strictly ascending.
    error RewardDistributorMembersNotSorted(uint256 index);
    /// @notice The member was not a participant of the round.
    error RewardDistributorNotParticipant(uint256 round, uint64 memberId);
    /// @notice The payouts add up to more than the round budget.
    error RewardDistributorBudgetExceeded(uint256 round, uint256 total, uint256 budget);
    /// @notice The round has fewer participants than a paid round needs.
    error RewardDistributorTooFewParticipants(uint256 round, uint256 participants, uint256 minimum);
    /// @notice The member's reputation before the round was below the exclusion threshold.
    error RewardDistributorParticipantExcluded(uint256 round, uint64 memberId);
    /// @notice Paying would mint more than the limit in the current block window.
    error RewardDistributorMintLimitExceeded(uint256 window, uint256 minted, uint256 limit);
    /// @notice A deployment parameter is zero.
    error RewardDistributorInvalidParameter();

    /// @notice A member was paid for a round.
    event RewardPaid(uint256 indexed round, uint64 indexed memberId, address indexed account, uint256 amount);
    /// @notice A round's payouts are complete.
    event RoundPaid(uint256 indexed round, uint256 total, uint256 budget);
    /// @notice The per-round budget for rounds from `fromRound` on.
    event RoundBudgetSet(uint256 indexed fromRound, uint256 budget);

    /// @param tokenName Name of the reward token this contract creates.
    /// @param tokenSymbol Symbol of the reward token.
    /// @param initialRoundBudget Most tokens (in base units) paid for one round.
    /// @param exclusion_ The reputation ledger that says who was excluded before a round.
    /// @param minParticipants Fewest finalized participants a round needs to be paid (at least 1).
    /// @param mintWindowBlocks Length of a minting window in blocks (at least 1).
    /// @param mintLimit Most tokens minted in one window (at least 1).
    constructor(
        ConsortiumRegistry registry_,
        RoundLedger ledger_,
        IExclusionOracle exclusion_,
        string memory tokenName,
        string memory tokenSymbol,
        uint256 initialRoundBudget,
        uint64 minParticipants,
        uint64 mintWindowBlocks,
        uint256 mintLimit
    ) ConsortiumAccess(registry_) {
        _requireNonZero(address(ledger_));
        _requireNonZero(address(exclusion_));
        if (minParticipants == 0 || mintWindowBlocks == 0 || mintLimit == 0) {
            revert RewardDistributorInvalidParameter();
        }
        _ledger = ledger_;
        _exclusion = exclusion_;
        _minParticipants = minParticipants;
        _mintWindowBlocks = mintWindowBlocks;
        _mintLimit = mintLimit;
        _token = new RewardToken(tokenName, tokenSymbol);
        _budgets.push(BudgetChange({fromRound: 0, amount: SafeCast.toUint192(initialRoundBudget)}));
        emit RoundBudgetSet(0, initialRoundBudget);
    }

    /// @notice Pay `amounts` to `memberIds` (strictly ascending participants) for finalized `round`.
    /// @dev Tokens are minted to each member's current signer address.
    function payRound(uint256 round, uint64[] calldata memberIds, uint256[] calldata amounts)
        external
        onlyCoordinator
    {
        if (_payouts[round].paid) revert RewardDistributorAlreadyPaid(round);
        RoundLedger.Round memory record = _ledger.getRound(round);
        if (record.status != RoundLedger.RoundStatus.Finalized) revert RewardDistributorRoundNotFinalized(round);
        if (record.participantCount < _minParticipants) {
            revert RewardDistributorTooFewParticipants(round, record.participantCount, _minParticipants);
        }
        if (memberIds.length != amounts.length) revert RewardDistributorLengthMismatch(memberIds.length, amounts.length);
        uint256 budget = budgetOf(round);
        uint256 total = 0;
        uint64 last = 0;
        for (uint256 i = 0; i < memberIds.length; ++i) {
            uint64 memberId = memberIds[i];
            if (memberId <= last) revert RewardDistributorMembersNotSorted(i);
            last = memberId;
            if (!_ledger.isParticipant(round, memberId)) revert RewardDistributorNotParticipant(round, memberId);
            if (_exclusion.isExcludedBefore(round, memberId)) revert RewardDistributorParticipantExcluded(round, memberId);
            total += amounts[i];
        }
        if (total > budget) revert RewardDistributorBudgetExceeded(round, total, budget);
        _countMint(total);
        _payouts[round] = Payout({paid: true, total: SafeCast.toUint248(total)});
        ConsortiumRegistry members = registry();
        for (uint256 i = 0; i < memberIds.length; ++i) {
            if (amounts[i] == 0) continue;
            address account = members.signerOf(memberIds[i]);
            _token.mint(account, amounts[i]);
            emit RewardPaid(round, memberIds[i], account, amounts[i]);
        }
        emit RoundPaid(round, total, budget);
    }

    /// @notice Set the budget of every round opened from now on (rounds already open keep theirs).
    function setRoundBudget(uint256 newBudget) external onlyAdmin {
        uint64 fromRound = SafeCast.toUint64(_ledger.roundCount() + 1);
        uint192 amount = SafeCast.toUint192(newBudget);
        BudgetChange storage last = _budgets[_budgets.length - 1];
        if (last.fromRound == fromRound) last.amount = amount;
        else _budgets.push(BudgetChange({fromRound: fromRound, amount: amount}));
        emit RoundBudgetSet(fromRound, newBudget);
    }

    /// @notice The minting rule: fewest participants of a paid round, window length in blocks, and the most
    /// minted in one window.
    function mintingRule() external view returns (uint256 minParticipants, uint256 windowBlocks, uint256 limit) {
        return (_minParticipants, _mintWindowBlocks, _mintLimit);
    }

    /// @notice Tokens minted so far in the current block window.
    function mintedInCurrentWindow() external view returns (uint256) {
        return block.number / _mintWindowBlocks == _mintWindow ? _mintedInWindow : 0;
    }

    /// @notice Budget of rounds opened from now on, in token base units.
    function roundBudget() external view returns (uint256) {
        return _budgets[_budgets.length - 1].amount;
    }

    /// @notice Budget of `round`: the one in force when it was opened (or will be, if not yet open).
    function budgetOf(uint256 round) public view returns (uint256) {
        uint256 i = _budgets.length;
        while (i > 1 && _budgets[i - 1].fromRound > round) --i;
        return _budgets[i - 1].amount;
    }

    /// @notice Whether `round` was paid, and the total paid.
    function payoutOf(uint256 round) external view returns (bool paid, uint256 total) {
        Payout storage payout = _payouts[round];
        return (payout.paid, payout.total);
    }

    /// @notice The reward token.
    function token() external view returns (RewardToken) {
        return _token;
    }

    /// @dev Add `amount` to the current window's mint, which must stay within the limit.
    function _countMint(uint256 amount) private {
        uint256 window = block.number / _mintWindowBlocks;
        uint256 minted = window == _mintWindow ? _mintedInWindow + amount : amount;
        if (minted > _mintLimit) revert RewardDistributorMintLimitExceeded(window, minted, _mintLimit);
        _mintWindow = window;
        _mintedInWindow = minted;
    }

    /// @notice The round ledger whose participants gate payouts.
    function ledger() external view returns (RoundLedger) {
        return _ledger;
    }
}
