// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title console
/// @notice The one `console.log` overload the suite prints with (forge-std is not vendored): forge shows
/// these calls to its console address with `-vv`.
library console {
    address private constant CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;

    function log(string memory label, uint256 value) internal view {
        (bool ok,) = CONSOLE.staticcall(abi.encodeWithSignature("log(string,uint256)", label, value));
        ok;
    }
}
