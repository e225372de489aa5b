// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title RewardToken
/// @notice ERC-20 token in which the consortium pays hospitals for their contributions.
/// @dev Created by the {RewardDistributor}, which is its only minter for good: no admin can add
/// another, so every token in existence was paid for a round within that round's budget.
contract RewardToken is ERC20 {
    address private immutable _minter;

    /// @notice Only the distributor that created the token can mint.
    error RewardTokenUnauthorizedMinter(address account);

    /// @dev The deploying contract becomes the only minter.
    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_) {
        _minter = msg.sender;
    }

    /// @notice Mint `amount` to `to` (the distributor only).
    function mint(address to, uint256 amount) external {
        if (msg.sender != _minter) revert RewardTokenUnauthorizedMinter(msg.sender);
        _mint(to, amount);
    }

    /// @notice The only account allowed to mint.
    function minter() external view returns (address) {
        return _minter;
    }
}
