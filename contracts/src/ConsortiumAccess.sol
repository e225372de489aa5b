// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {CONSORTIUM_COORDINATOR_ROLE, ConsortiumRegistry} from "./ConsortiumRegistry.sol";

/// @title ConsortiumAccess
/// @notice Lets a consortium contract defer its access rules to the {ConsortiumRegistry}'s roles and
/// governance, so the operator grants or revokes the coordinator in one place, and consortium
/// decisions need the admin, or the members' quorum once governance is on.
abstract contract ConsortiumAccess {
    ConsortiumRegistry private immutable _registry;
    uint64 private _decisionNonce;

    /// @notice The caller lacks `role` in the registry.
    error ConsortiumAccessUnauthorized(address account, bytes32 role);
    /// @notice A contract address given at deployment is zero.
    error ConsortiumAccessZeroAddress();
    /// @notice Governance is on and the members have not approved `decision`.
    error ConsortiumAccessDecisionNotApproved(bytes32 decision);

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

    /// @dev The id members approve (registry `approveDecision`) for the next decision of this contract on
    /// `action` with `payload`; a nonce makes every approval good for one decision only.
    function _decisionId(string memory action, bytes memory payload) internal view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), _decisionNonce, action, payload));
    }

    /// @dev With governance off the caller must be the admin; with it on, anyone may carry out a decision
    /// the members approved, once.
    function _authorizeDecision(bytes32 decision) internal {
        (bool governance,) = _registry.governance();
        if (!governance) {
            _checkConsortiumRole(bytes32(0));
            return;
        }
        if (!_registry.isDecided(decision)) revert ConsortiumAccessDecisionNotApproved(decision);
        ++_decisionNonce;
    }

    function _checkConsortiumRole(bytes32 role) private view {
        if (!_registry.hasRole(role, msg.sender)) revert ConsortiumAccessUnauthorized(msg.sender, role);
    }

    function _requireNonZero(address account) internal pure {
        if (account == address(0)) revert ConsortiumAccessZeroAddress();
    }
}
