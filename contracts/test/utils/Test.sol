// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {Vm} from "./Vm.sol";

/// @title Test
/// @notice Minimal base contract for forge tests: the cheatcode handle, assertions, `bound` for fuzz
/// inputs, and the target declarations forge reads for invariant tests.
/// @dev Every failed assertion reverts with a message naming the assertion and both values; forge
/// reports a reverting test as failed, so no `failed()` flag is needed.
abstract contract Test {
    /// @notice A contract and the functions of it that the invariant fuzzer may call.
    /// @dev Layout and name match what forge decodes from {targetSelectors}.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    /// @notice Foundry's cheatcode handle.
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    address[] private _targetedContracts;
    FuzzSelector[] private _targetedSelectors;

    // ---------------------------------------------------------------- invariant targets

    /// @notice Contracts the invariant fuzzer calls (read by forge).
    function targetContracts() public view returns (address[] memory) {
        return _targetedContracts;
    }

    /// @notice Functions the invariant fuzzer calls, per contract (read by forge).
    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetedSelectors;
    }

    function targetContract(address target) internal {
        _targetedContracts.push(target);
    }

    function targetSelector(FuzzSelector memory selector) internal {
        _targetedSelectors.push(selector);
    }

    // ---------------------------------------------------------------- fuzz helpers

    /// @notice Map `x` into [`min`, `max`]; values already inside are kept, so edge cases survive.
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        if (x >= min && x <= max) return x;
        uint256 size = max - min;
        if (size == type(uint256).max) return x;
        return min + x % (size + 1);
    }

    // ---------------------------------------------------------------- assertions

    function fail(string memory message) internal pure {
        revert(string.concat("assertion failed: ", message));
    }

    function assertTrue(bool condition) internal pure {
        assertTrue(condition, "");
    }

    function assertTrue(bool condition, string memory message) internal pure {
        if (!condition) {
            fail(bytes(message).length == 0 ? "expected true" : string.concat(message, " (expected true)"));
        }
    }

    function assertFalse(bool condition) internal pure {
        assertFalse(condition, "");
    }

    function assertFalse(bool condition, string memory message) internal pure {
        if (condition) {
            fail(bytes(message).length == 0 ? "expected false" : string.concat(message, " (expected false)"));
        }
    }

    function assertEq(uint256 a, uint256 b) internal pure {
        assertEq(a, b, "");
    }

    function assertEq(uint256 a, uint256 b, string memory message) internal pure {
        if (a != b) _fail2("assertEq(uint256)", Strings.toString(a), "!=", Strings.toString(b), message);
    }

    function assertEq(bool a, bool b) internal pure {
        assertEq(a, b, "");
    }

    function assertEq(bool a, bool b, string memory message) internal pure {
        if (a != b) _fail2("assertEq(bool)", a ? "true" : "false", "!=", b ? "true" : "false", message);
    }

    function assertEq(address a, address b) internal pure {
        assertEq(a, b, "");
    }

    function assertEq(address a, address b, string memory message) internal pure {
        if (a != b) _fail2("assertEq(address)", Strings.toHexString(a), "!=", Strings.toHexString(b), message);
    }

    function assertEq(bytes32 a, bytes32 b) internal pure {
        assertEq(a, b, "");
    }

    function assertEq(bytes32 a, bytes32 b, string memory message) internal pure {
        if (a != b) _fail2("assertEq(bytes32)", _hex(a), "!=", _hex(b), message);
    }

    function assertEq(string memory a, string memory b) internal pure {
        if (keccak256(bytes(a)) != keccak256(bytes(b))) _fail2("assertEq(string)", a, "!=", b, "");
    }

    function assertNotEq(bytes32 a, bytes32 b) internal pure {
        if (a == b) _fail2("assertNotEq(bytes32)", _hex(a), "==", _hex(b), "");
    }

    function assertNotEq(address a, address b) internal pure {
        if (a == b) _fail2("assertNotEq(address)", Strings.toHexString(a), "==", Strings.toHexString(b), "");
    }

    function assertGt(uint256 a, uint256 b) internal pure {
        if (a <= b) _fail2("assertGt", Strings.toString(a), "<=", Strings.toString(b), "");
    }

    function assertGe(uint256 a, uint256 b) internal pure {
        if (a < b) _fail2("assertGe", Strings.toString(a), "<", Strings.toString(b), "");
    }

    function assertLe(uint256 a, uint256 b) internal pure {
        assertLe(a, b, "");
    }

    function assertLe(uint256 a, uint256 b, string memory message) internal pure {
        if (a > b) _fail2("assertLe", Strings.toString(a), ">", Strings.toString(b), message);
    }

    function _fail2(string memory what, string memory a, string memory op, string memory b, string memory message)
        private
        pure
    {
        string memory detail = string.concat(what, ": ", a, " ", op, " ", b);
        fail(bytes(message).length == 0 ? detail : string.concat(message, " (", detail, ")"));
    }

    function _hex(bytes32 value) private pure returns (string memory) {
        return Strings.toHexString(uint256(value), 32);
    }
}
