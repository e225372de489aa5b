// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {RoundLedger} from "../src/RoundLedger.sol";
import {ConsortiumFixture} from "./utils/ConsortiumFixture.sol";
import {console} from "./utils/Console.sol";
import {Vm} from "./utils/Vm.sol";

/// @title RoundLedgerGasTest
/// @notice Gas of {RoundLedger.registerUpdates} per signed update, as a hospital consortium pays it: fresh
/// members, the round's first registration, so every member's registry record is read cold. Members, the
/// open round and the signed batch are made in `setUp` (its own transaction), so nothing the call touches
/// is warm when a test makes it.
/// @dev Two figures per batch size: the call's own execution gas ({Vm.lastCallGas}), and the transaction's
/// gas (21,000 + calldata under EIP-7623, Prague: 4 gas a token with a floor of 10 a token, a token per zero
/// byte and four per non-zero byte, + execution). The goal (12,000) and the ceiling (15,000) are on the
/// transaction's gas per update in a batch of 100; run with `-vv` to see the figures.
contract RoundLedgerGasTest is ConsortiumFixture {
    uint256 private constant MEMBERS = 100;
    /// @dev The goal per update in a batch of 100, which the contract meets (11,914 at the time of writing;
    /// 13,410 before the assembly digest, the bitmap word kept across the batch and 100,000 optimizer runs).
    uint256 private constant GOAL = 12_000;
    /// @dev The earlier ceiling per update, kept as a coarser guard.
    uint256 private constant CEILING = 15_000;

    RoundLedger.SignedUpdate[] private _batch;

    function setUp() public override {
        super.setUp();
        for (uint256 i = 0; i < MEMBERS; ++i) {
            _join(0x30000 + i, "Hospital");
        }
        uint256 round = _openRound();
        for (uint256 i = 0; i < MEMBERS; ++i) {
            _batch.push(_signed(0x30000 + i, round));
        }
    }

    /// @dev Register the first `count` prepared updates in one call; returns (execution, transaction) gas.
    function _measure(uint256 count) private returns (uint256 execution, uint256 transaction) {
        RoundLedger.SignedUpdate[] memory updates = new RoundLedger.SignedUpdate[](count);
        for (uint256 i = 0; i < count; ++i) {
            updates[i] = _batch[i];
        }
        bytes memory data = abi.encodeCall(RoundLedger.registerUpdates, (1, updates));
        vm.prank(vm.addr(0x30000)); // a hospital submits: anyone may
        (bool ok,) = address(ledger).call(data);
        assertTrue(ok, "registerUpdates");
        Vm.Gas memory gas = vm.lastCallGas();
        execution = gas.gasTotalUsed;
        uint256 tokens;
        for (uint256 i = 0; i < data.length; ++i) {
            tokens += data[i] == 0 ? 1 : 4;
        }
        uint256 standard = 4 * tokens + execution;
        uint256 floor = 10 * tokens;
        transaction = 21_000 + (standard > floor ? standard : floor);
        assertEq(ledger.getRound(1).updateCount, count, "all registered");
    }

    function _report(uint256 count) private returns (uint256 perUpdate) {
        (uint256 execution, uint256 transaction) = _measure(count);
        perUpdate = transaction / count;
        console.log("updates in the batch", count);
        console.log("execution gas", execution);
        console.log("transaction gas", transaction);
        console.log("execution gas per update", execution / count);
        console.log("transaction gas per update", perUpdate);
    }

    function test_Gas_RegisterUpdates_Batch100() public {
        uint256 perUpdate = _report(100);
        assertLe(perUpdate, CEILING, "transaction gas per signed update, batch of 100, cold: ceiling");
        assertLe(perUpdate, GOAL, "transaction gas per signed update, batch of 100, cold: goal");
    }

    function test_Gas_RegisterUpdates_Batch10() public {
        _report(10);
    }

    function test_Gas_RegisterUpdates_Batch1() public {
        _report(1);
    }
}
