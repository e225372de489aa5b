// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title Vm
/// @notice The subset of Foundry's cheatcodes that this test suite uses (forge-std is not vendored).
/// @dev Forge serves these at `address(uint160(uint256(keccak256("hevm cheat code"))))`; see {Test.vm}.
/// Signatures match Foundry's cheatcode definitions, so selectors resolve as in forge-std.
interface Vm {
    /// @notice One log captured after {recordLogs}.
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    /// @notice Make `msgSender` the caller of the next call only.
    function prank(address msgSender) external;
    /// @notice Make `msgSender` the caller of every call until {stopPrank}.
    function startPrank(address msgSender) external;
    /// @notice End a {startPrank}.
    function stopPrank() external;

    /// @notice Expect the next call to revert with exactly `revertData`.
    function expectRevert(bytes calldata revertData) external;
    /// @notice Expect the next call to revert with exactly the argument-less error `revertData`.
    function expectRevert(bytes4 revertData) external;

    /// @notice Expect the next event to match every topic and the data of the event emitted next in the test.
    function expectEmit() external;
    /// @notice Like {expectEmit} with the checks chosen and the emitting contract pinned.
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData, address emitter) external;

    /// @notice Start capturing emitted logs.
    function recordLogs() external;
    /// @notice Logs captured since {recordLogs} (or the previous read), which this call consumes.
    function getRecordedLogs() external returns (Log[] memory logs);

    /// @notice Address of the secp256k1 key `privateKey`.
    function addr(uint256 privateKey) external pure returns (address keyAddr);
    /// @notice Sign `digest` with `privateKey` (v is 27 or 28).
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);

    /// @notice Set `block.chainid`.
    function chainId(uint256 newChainId) external;
    /// @notice Set `block.number`.
    function roll(uint256 newHeight) external;
    /// @notice Set `block.timestamp`.
    function warp(uint256 newTimestamp) external;

    /// @notice Name `account` in traces.
    function label(address account, string calldata newLabel) external;

    /// @notice Address a contract created by `deployer` with CREATE at `nonce` gets.
    function computeCreateAddress(address deployer, uint256 nonce) external pure returns (address);
    /// @notice Current nonce of `account`.
    function getNonce(address account) external view returns (uint64 nonce);

    /// @notice Make every call to `callee` whose calldata starts with `data` revert with `revertData`.
    function mockCallRevert(address callee, bytes calldata data, bytes calldata revertData) external;
    /// @notice Remove every mocked call.
    function clearMockedCalls() external;

    /// @notice Discard the current fuzz input unless `condition` holds.
    function assume(bool condition) external pure;

    /// @notice Gas figures of the last call frame the test made.
    struct Gas {
        uint64 gasLimit;
        uint64 gasTotalUsed;
        uint64 gasMemoryUsed;
        int64 gasRefunded;
        uint64 gasRemaining;
    }

    /// @notice Gas used by the last call the test made (its own frame, without the 21,000 intrinsic gas
    /// nor calldata).
    function lastCallGas() external view returns (Gas memory gas);
}
