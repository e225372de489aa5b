// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ConsortiumAccess} from "./ConsortiumAccess.sol";
import {ConsortiumRegistry} from "./ConsortiumRegistry.sol";
import {RewardToken} from "./RewardToken.sol";
import {RoundLedger} from "./RoundLedger.sol";

/// @title RewardDistributor
/// @notice Pays each finalized round's rewards in the {RewardToken}, once per round and in one
/// transaction, only to the members whose updates entered that round's aggregate, and never more
/// than the round budget in force when paid.
contract RewardDistributor is ConsortiumAccess {
    struct Payout {
        bool paid;
        uint248 total;
    }

    RewardToken private immutable _token;
    RoundLedger private immutable _ledger;
    uint256 private _roundBudget;
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

    /// @notice A member was paid for a round.
    event RewardPaid(uint256 indexed round, uint64 indexed memberId, address indexed account, uint256 amount);
    /// @notice A round's payouts are complete.
    event RoundPaid(uint256 indexed round, uint256 total, uint256 budget);
    /// @notice The admin changed the per-round budget.
    event RoundBudgetSet(uint256 previous, uint256 current);

    /// @param initialRoundBudget Most tokens (in base units) paid for one round.
    constructor(ConsortiumRegistry registry_, RoundLedger ledger_, RewardToken token_, uint256 initialRoundBudget)
        ConsortiumAccess(registry_)
    {
        _requireNonZero(address(ledger_));
        _requireNonZero(address(token_));
        _ledger = ledger_;
        _token = token_;
        _roundBudget = initialRoundBudget;
        emit RoundBudgetSet(0, initialRoundBudget);
    }

    /// @notice Pay `amounts` to `memberIds` (strictly ascending participants) for finalized `round`.
    /// @dev Tokens are minted to each member's current signer address.
    function payRound(uint256 round, uint64[] calldata memberIds, uint256[] calldata amounts)
        external
        onlyCoordinator
    {
        if (_payouts[round].paid) revert RewardDistributorAlreadyPaid(round);
        if (_ledger.getRound(round).status != RoundLedger.RoundStatus.Finalized) {
            revert RewardDistributorRoundNotFinalized(round);
        }
        if (memberIds.length != amounts.length) revert RewardDistributorLengthMismatch(memberIds.length, amounts.length);
        uint256 budget = _roundBudget;
        uint256 total = 0;
        uint64 last = 0;
        for (uint256 i = 0; i < memberIds.length; ++i) {
            uint64 memberId = memberIds[i];
            if (memberId <= last) revert RewardDistributorMembersNotSorted(i);
            last = memberId;
            if (!_ledger.isParticipant(round, memberId)) revert RewardDistributorNotParticipant(round, memberId);
            total += amounts[i];
        }
        if (total > budget) revert RewardDistributorBudgetExceeded(round, total, budget);
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

    /// @notice Change the per-round budget for rounds paid from now on.
    function setRoundBudget(uint256 newBudget) external onlyAdmin {
        uint256 previous = _roundBudget;
        _roundBudget = newBudget;
        emit RoundBudgetSet(previous, newBudget);
    }

    /// @notice Current per-round budget in token base units.
    function roundBudget() external view returns (uint256) {
        return _roundBudget;
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

    /// @notice The round ledger whose participants gate payouts.
    function ledger() external view returns (RoundLedger) {
        return _ledger;
    }
}
