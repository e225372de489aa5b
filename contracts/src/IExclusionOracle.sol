// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title IExclusionOracle
/// @notice What the {RoundLedger} asks the reputation ledger when a round is finalized.
interface IExclusionOracle {
    /// @notice Whether `memberId`'s reputation before `round` was below the exclusion threshold.
    function isExcludedBefore(uint256 round, uint64 memberId) external view returns (bool);
}
