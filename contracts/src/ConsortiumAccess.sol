// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {CONSORTIUM_COORDINATOR_ROLE, ConsortiumRegistry} from "./ConsortiumRegistry.sol";

/// @title ConsortiumAccess
/// @notice Lets a consortium contract defer its access rules to the {ConsortiumRegistry}'s roles,
/// so the operator grants or revokes the coordinator in one place.
abstract contract ConsortiumAccess {
    ConsortiumRegistry private immutable _registry;

    /// @notice The caller lacks `role` in the registry.
    error ConsortiumAccessUnauthorized(address account, bytes32 role);
    /// @notice A contract address given at deployment is zero.
    error ConsortiumAccessZeroAddress();

    /// @dev Reverts unless the caller holds the registry's coordinator role.
    modifier onlyCoordinator() {
        _checkConsortiumRole(CONSORTIUM_COORDINATOR_ROLE);
        _;
    }

    /// @dev Reverts unless the caller is a consortium admin in the registry.
    modifier onlyAdmin() {
        _checkConsortiumRole(bytes32(0));
        _;
    }

    constructor(ConsortiumRegistry registry_) {
        _requireNonZero(address(registry_));
        _registry = registry_;
    }

    /// @notice The membership registry this contract defers to.
    function registry() public view returns (ConsortiumRegistry) {
        return _registry;
    }

    function _checkConsortiumRole(bytes32 role) private view {
        if (!_registry.hasRole(role, msg.sender)) revert ConsortiumAccessUnauthorized(msg.sender, role);
    }

    function _requireNonZero(address account) internal pure {
        if (account == address(0)) revert ConsortiumAccessZeroAddress();
    }
}
