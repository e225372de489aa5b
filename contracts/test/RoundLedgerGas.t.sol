// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {RoundLedger} from "../src/RoundLedger.sol";
import {ConsortiumFixture} from "./utils/ConsortiumFixture.sol";
import {console} from "./utils/Console.sol";
import {Vm} from "./utils/Vm.sol";

/// @title RoundLedgerGasBase
/// @notice Gas of {RoundLedger.registerUpdates} per signed update, as a hospital consortium pays it: members'
/// registry records read cold, the measured round's first registration. Members, the rounds before the
/// measured one, the open round and the signed batch are made in `setUp` (its own transaction), so nothing
/// the call touches is warm when a test makes it. Each update carries a differential-privacy ε and δ.
/// @dev Two figures per batch size: the call's own execution gas ({Vm.lastCallGas}), and the transaction's
/// gas (21,000 + calldata under EIP-7623, Prague: 4 gas a token with a floor of 10 a token, a token per zero
/// byte and four per non-zero byte, + execution). Run with `-vv` to see the figures.
abstract contract RoundLedgerGasBase is ConsortiumFixture {
    uint256 private constant MEMBERS = 100;
    /// @dev Each update's ε (0.25) and δ (1e-5) in the ledger's units, under a budget they never reach.
    uint64 private constant EPSILON = 250_000;
    uint64 private constant DELTA = 1e13;

    RoundLedger.SignedUpdate[] private _batch;

    /// @dev Rounds every member registers in, in the same lineage, before the measured one.
    function _roundsBefore() internal pure virtual returns (uint256);

    function setUp() public override {
        super.setUp();
        vm.prank(ADMIN);
        ledger.setPrivacyBudget(RoundLedger.PrivacyBudget({epsilon: 1_000_000_000, delta: DELTA}));
        uint64[] memory everyone = new uint64[](MEMBERS);
        for (uint256 i = 0; i < MEMBERS; ++i) {
            everyone[i] = _join(0x30000 + i, "Hospital");
        }
        for (uint256 k = 0; k <= _roundsBefore(); ++k) {
            uint256 round = _openRound();
            delete _batch;
            for (uint256 i = 0; i < MEMBERS; ++i) {
                RoundLedger.SignedUpdate memory u =
                    _unsigned(_updateHash(0x30000 + i, round), _examples(0x30000 + i), EPSILON, DELTA);
                _batch.push(_signPrivate(ledger, 0x30000 + i, round, _globalHash(round), u));
            }
            if (k == _roundsBefore()) break;
            _register(round, _batch);
            _finalize(round, everyone);
        }
    }

    /// @dev Register the first `count` prepared updates in one call; returns (execution, transaction) gas.
    function _measure(uint256 count) private returns (uint256 execution, uint256 transaction) {
        RoundLedger.SignedUpdate[] memory updates = new RoundLedger.SignedUpdate[](count);
        for (uint256 i = 0; i < count; ++i) {
            updates[i] = _batch[i];
        }
        uint256 round = ledger.roundCount();
        bytes memory data = abi.encodeCall(RoundLedger.registerUpdates, (round, updates));
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
        assertEq(ledger.getRound(round).updateCount, count, "all registered");
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

    function _ceiling() internal pure virtual returns (uint256);

    function test_Gas_RegisterUpdates_Batch100() public {
        uint256 perUpdate = _report(100);
        assertLe(perUpdate, _ceiling(), "transaction gas per signed update, batch of 100: ceiling");
    }

    function test_Gas_RegisterUpdates_Batch10() public {
        _report(10);
    }

    function test_Gas_RegisterUpdates_Batch1() public {
        _report(1);
    }
}

/// @title RoundLedgerGasFirstRoundTest
/// @notice The lineage's first round: every member's cumulative ε is stored for the first time.
contract RoundLedgerGasFirstRoundTest is RoundLedgerGasBase {
    function _roundsBefore() internal pure override returns (uint256) {
        return 0;
    }

    /// @dev 20,743 at the time of writing (11,914 before updates carried ε and δ).
    function _ceiling() internal pure override returns (uint256) {
        return 22_000;
    }
}

/// @title RoundLedgerGasLaterRoundTest
/// @notice A later round of the lineage: every member's cumulative ε is updated.
contract RoundLedgerGasLaterRoundTest is RoundLedgerGasBase {
    function _roundsBefore() internal pure override returns (uint256) {
        return 1;
    }

    /// @dev 16,296 at the time of writing.
    function _ceiling() internal pure override returns (uint256) {
        return 17_000;
    }
}
