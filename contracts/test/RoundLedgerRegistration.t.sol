// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ConsortiumRegistry} from "../src/ConsortiumRegistry.sol";
import {RoundLedger} from "../src/RoundLedger.sol";
import {ConsortiumFixture} from "./utils/ConsortiumFixture.sol";
import {Vm} from "./utils/Vm.sol";
import {console} from "./utils/Console.sol";

/// @title RoundLedgerRegistrationTest
/// @notice {RoundLedger.registerUpdates}: anyone may submit hospitals' signed updates while a round is
/// open; only an active member's current key signing over this round, this global model, this chain and
/// this contract registers an update, once per member and round. An entry that fails any check is skipped
/// with {RoundLedger.UpdateSkipped} (its index, the recovered signer, its update hash and the reason) and
/// the rest of the batch registers.
contract RoundLedgerRegistrationTest is ConsortiumFixture {
    bytes32 private constant UPDATE = keccak256("update");
    uint64 private constant EXAMPLES = 1_234;
    /// @dev Order of secp256k1, and the largest `s` the ledger accepts (n / 2, the low-s rule).
    uint256 private constant N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    uint256 private constant HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    /// @notice What one gas-limited registration did, reported by {attemptWithGas} as its revert.
    error Attempt(bool succeeded, bool registered, uint256 updateCount);

    function setUp() public override {
        super.setUp();
        _enrolHospitals();
    }

    /// @dev Number of {RoundLedger.UpdateRegistered} and {RoundLedger.UpdateSkipped} logs {ledger} emitted
    /// in `logs` (the test's own `emit` after `vm.expectEmit` is recorded too, from this contract).
    function _countOutcomes(Vm.Log[] memory logs) private view returns (uint256 registered, uint256 skipped) {
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter != address(ledger)) continue;
            if (logs[i].topics[0] == RoundLedger.UpdateRegistered.selector) ++registered;
            if (logs[i].topics[0] == RoundLedger.UpdateSkipped.selector) ++skipped;
        }
    }

    /// @dev Register `u` alone, expecting it skipped as entry 0 for `reason` with `signer` recovered.
    function _expectSkippedAlone(
        uint256 round,
        RoundLedger.SignedUpdate memory u,
        address signer,
        RoundLedger.SkipReason reason
    ) private {
        uint256 before = ledger.getRound(round).updateCount;
        vm.recordLogs();
        _expectSkipped(round, 0, signer, u.updateHash, reason);
        _register(round, _one(u));
        (uint256 registered, uint256 skipped) = _countOutcomes(vm.getRecordedLogs());
        assertEq(registered, 0, "nothing registered");
        assertEq(skipped, 1, "one entry skipped");
        assertEq(ledger.getRound(round).updateCount, before, "update count unchanged");
    }

    // ---------------------------------------------------------------- who may register

    /// @dev The hospital's signature is the authority: the hospital itself registers the update the
    /// coordinator left out, and so may anyone else holding it.
    function test_RegisterUpdates_AnyoneMayRegister() public {
        uint256 round = _openRound();
        address hospital = vm.addr(KEY_A);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.UpdateRegistered(
            round, 1, _updateHash(KEY_A, round), _examples(KEY_A), NOT_PRIVATE, 0, NOT_PRIVATE
        );
        vm.prank(hospital);
        ledger.registerUpdates(round, _one(_signed(KEY_A, round)));
        assertTrue(ledger.hasSubmitted(round, 1));

        // A stranger relays B's signed update, and the admin C's.
        vm.prank(STRANGER);
        ledger.registerUpdates(round, _one(_signed(KEY_B, round)));
        vm.prank(ADMIN);
        ledger.registerUpdates(round, _one(_signed(KEY_C, round)));
        assertTrue(ledger.hasSubmitted(round, 2));
        assertTrue(ledger.hasSubmitted(round, 3));
        assertEq(ledger.getRound(round).updateCount, 3);

        // The coordinator finalizes with the update a hospital registered itself.
        _finalize(round, _ids(1, 2, 3));
        assertTrue(ledger.isParticipant(round, 1));
    }

    /// @dev What a non-member submits is skipped: registering is open, being registered is not.
    function test_RegisterUpdates_StrangerCannotRegisterItsOwnUpdate() public {
        uint256 round = _openRound();
        RoundLedger.SignedUpdate memory own = _signed(KEY_OUTSIDER, round);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.UpdateSkipped(
            round, 0, vm.addr(KEY_OUTSIDER), own.updateHash, RoundLedger.SkipReason.UnauthorizedSigner
        );
        vm.prank(vm.addr(KEY_OUTSIDER));
        ledger.registerUpdates(round, _one(own));
        assertEq(ledger.getRound(round).updateCount, 0);
    }

    function test_RegisterUpdates_EmptyBatchIsNoop() public {
        uint256 round = _openRound();
        vm.recordLogs();
        _register(round, new RoundLedger.SignedUpdate[](0));
        assertEq(vm.getRecordedLogs().length, 0);
        assertEq(ledger.getRound(round).updateCount, 0);
    }

    // ---------------------------------------------------------------- round state

    function test_RegisterUpdates_RevertsWhenRoundNotOpen() public {
        RoundLedger.SignedUpdate[] memory none = new RoundLedger.SignedUpdate[](0);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerRoundNotOpen.selector, 0));
        ledger.registerUpdates(0, none);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerRoundNotOpen.selector, 1));
        ledger.registerUpdates(1, none);

        uint256 round = _completeRound(_keys(KEY_A), _ids(1));
        RoundLedger.SignedUpdate memory late = _signed(KEY_B, round);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerRoundNotOpen.selector, round));
        _register(round, _one(late));
        // A hospital cannot register late on its own either.
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerRoundNotOpen.selector, round));
        vm.prank(vm.addr(KEY_B));
        ledger.registerUpdates(round, _one(late));
        // A future round is not open either.
        RoundLedger.SignedUpdate memory early = _signed(KEY_B, round + 1);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerRoundNotOpen.selector, round + 1));
        _register(round + 1, _one(early));
    }

    // ---------------------------------------------------------------- skipped: empty values

    function test_RegisterUpdates_SkipsEmptyValues() public {
        uint256 round = _openRound();
        bytes32 g = _globalHash(round);
        RoundLedger.SignedUpdate memory good = _signed(KEY_A, round);
        RoundLedger.SignedUpdate memory noHash = _sign(ledger, KEY_B, round, g, bytes32(0), 10);
        RoundLedger.SignedUpdate memory noExamples = _sign(ledger, KEY_B, round, g, UPDATE, 0);

        _expectSkipped(round, 0, address(0), UPDATE, RoundLedger.SkipReason.EmptyValue);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.UpdateRegistered(round, 1, good.updateHash, good.numExamples, NOT_PRIVATE, 0, NOT_PRIVATE);
        _expectSkipped(round, 2, address(0), bytes32(0), RoundLedger.SkipReason.EmptyValue);
        RoundLedger.SignedUpdate[] memory batch = new RoundLedger.SignedUpdate[](3);
        (batch[0], batch[1], batch[2]) = (noExamples, good, noHash);
        _register(round, batch);
        assertTrue(ledger.hasSubmitted(round, 1));
        assertFalse(ledger.hasSubmitted(round, 2), "an empty entry does not use up the member's update");
        assertEq(ledger.getRound(round).updateCount, 1);

        // B's real update still registers afterwards.
        _register(round, _one(_signed(KEY_B, round)));
        assertTrue(ledger.hasSubmitted(round, 2));
    }

    // ---------------------------------------------------------------- skipped: signatures

    function test_RegisterUpdates_SkipsForgedSignature() public {
        uint256 round = _openRound();
        bytes32 digest = _digest(ledger, round, _globalHash(round), UPDATE, EXAMPLES);

        // Arbitrary (r, vs) that nobody produced by signing.
        RoundLedger.SignedUpdate memory forged = RoundLedger.SignedUpdate({
            updateHash: UPDATE,
            numExamples: EXAMPLES,
            epsilonSpent: NOT_PRIVATE,
            deltaSpent: 0,
            r: keccak256("r"),
            vs: bytes32(uint256(keccak256("s")) >> 2)
        });
        address recovered = _recover(digest, forged);
        _expectSkippedAlone(round, forged, recovered, RoundLedger.SkipReason.UnauthorizedSigner);

        // r = 0 does not recover at all.
        forged.r = bytes32(0);
        _expectSkippedAlone(round, forged, address(0), RoundLedger.SkipReason.UnauthorizedSigner);

        // A genuine signature with one bit of r flipped recovers to someone else.
        RoundLedger.SignedUpdate memory tampered = _sign(ledger, KEY_A, round, _globalHash(round), UPDATE, EXAMPLES);
        tampered.r = bytes32(uint256(tampered.r) ^ 1);
        recovered = _recover(digest, tampered);
        assertNotEq(recovered, vm.addr(KEY_A));
        _expectSkippedAlone(round, tampered, recovered, RoundLedger.SkipReason.UnauthorizedSigner);
        assertFalse(ledger.hasSubmitted(round, 1));
    }

    function test_RegisterUpdates_SkipsHighS() public {
        uint256 round = _openRound();
        bytes32 g = _globalHash(round);
        bytes32 digest = _digest(ledger, round, g, UPDATE, EXAMPLES);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(KEY_A, digest);
        uint256 n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
        assertLe(uint256(s), n / 2, "vm.sign returns low-s");

        // The signature's high-s twin (r, n - s, v ^ 1) is valid for ecrecover, but its s has the top bit
        // set, which the compact form reserves for v: once encoded it means another signature.
        uint8 twinV = v == 27 ? 28 : 27;
        uint256 twinS = n - uint256(s);
        assertEq(ecrecover(digest, twinV, r, bytes32(twinS)), vm.addr(KEY_A));
        assertGt(twinS, type(uint256).max >> 1);
        RoundLedger.SignedUpdate memory twin = RoundLedger.SignedUpdate({
            updateHash: UPDATE,
            numExamples: EXAMPLES,
            epsilonSpent: NOT_PRIVATE,
            deltaSpent: 0,
            r: r,
            vs: bytes32(twinS | (uint256(twinV - 27) << 255))
        });
        address recovered = _recover(digest, twin);
        assertNotEq(recovered, vm.addr(KEY_A));
        _expectSkippedAlone(round, twin, recovered, RoundLedger.SkipReason.UnauthorizedSigner);

        // An s above n/2 that fits the compact form is refused by the high-s check (no signer at all).
        RoundLedger.SignedUpdate memory high = RoundLedger.SignedUpdate({
            updateHash: UPDATE,
            numExamples: EXAMPLES,
            epsilonSpent: NOT_PRIVATE,
            deltaSpent: 0,
            r: r,
            vs: bytes32(n / 2 + 1)
        });
        _expectSkippedAlone(round, high, address(0), RoundLedger.SkipReason.UnauthorizedSigner);
    }

    function test_RegisterUpdates_SkipsAlteredFields() public {
        uint256 round = _openRound();
        bytes32 g = _globalHash(round);
        RoundLedger.SignedUpdate memory u = _sign(ledger, KEY_A, round, g, UPDATE, EXAMPLES);

        // The coordinator cannot change the update hash...
        RoundLedger.SignedUpdate memory altered = u;
        altered.updateHash = keccak256("other update");
        address recovered = _recover(_digest(ledger, round, g, altered.updateHash, EXAMPLES), altered);
        _expectSkippedAlone(round, altered, recovered, RoundLedger.SkipReason.UnauthorizedSigner);

        // ...nor inflate the example count.
        altered = _sign(ledger, KEY_A, round, g, UPDATE, EXAMPLES);
        altered.numExamples = EXAMPLES * 10;
        recovered = _recover(_digest(ledger, round, g, UPDATE, EXAMPLES * 10), altered);
        _expectSkippedAlone(round, altered, recovered, RoundLedger.SkipReason.UnauthorizedSigner);

        _register(round, _one(_sign(ledger, KEY_A, round, g, UPDATE, EXAMPLES)));
        assertTrue(ledger.hasSubmitted(round, 1));
    }

    function test_RegisterUpdates_SkipsNonMemberAndPendingSigners() public {
        uint256 round = _openRound();
        _expectSkippedAlone(
            round, _signed(KEY_OUTSIDER, round), vm.addr(KEY_OUTSIDER), RoundLedger.SkipReason.UnauthorizedSigner
        );

        // A pending member is not allowed either; the active member beside it in the batch registers.
        uint256 pendingKey = 0xE005;
        _request(pendingKey, "Hospital E");
        RoundLedger.SignedUpdate memory pending = _signed(pendingKey, round);
        _expectSkipped(round, 1, vm.addr(pendingKey), pending.updateHash, RoundLedger.SkipReason.UnauthorizedSigner);
        _register(round, _two(_signed(KEY_A, round), pending));
        assertTrue(ledger.hasSubmitted(round, 1));
        assertFalse(ledger.hasSubmitted(round, 4));
    }

    /// @dev A member suspended between signing and registration is skipped; reinstated, its same
    /// signature registers.
    function test_RegisterUpdates_SkipsSuspendedMember() public {
        uint256 round = _openRound();
        RoundLedger.SignedUpdate memory u = _signed(KEY_B, round);
        vm.prank(ADMIN);
        registry.suspendMember(2, "audit");
        _expectSkippedAlone(round, u, vm.addr(KEY_B), RoundLedger.SkipReason.UnauthorizedSigner);

        vm.prank(ADMIN);
        registry.reinstateMember(2);
        _register(round, _one(u));
        assertTrue(ledger.hasSubmitted(round, 2));
    }

    /// @dev The key rotates between the coordinator's check and its transaction: the old key's update is
    /// skipped, the rest of the batch registers, and the member may still register under its new key.
    function test_RegisterUpdates_SkipsKeyRotatedBeforeTheTransaction() public {
        uint256 round = _openRound();
        uint256 newKey = 0xB0B2;
        RoundLedger.SignedUpdate[] memory batch = new RoundLedger.SignedUpdate[](3);
        (batch[0], batch[1], batch[2]) = (_signed(KEY_A, round), _signed(KEY_B, round), _signed(KEY_C, round));
        // Checked by the coordinator: all three are active members' keys. Then B rotates.
        assertEq(registry.activeMemberIdOf(vm.addr(KEY_B)), 2);
        vm.prank(vm.addr(KEY_B));
        registry.proposeKeyRotation(vm.addr(newKey));
        vm.prank(vm.addr(newKey));
        registry.acceptKeyRotation(2);

        _expectSkipped(round, 1, vm.addr(KEY_B), batch[1].updateHash, RoundLedger.SkipReason.UnauthorizedSigner);
        _register(round, batch);
        assertTrue(ledger.hasSubmitted(round, 1));
        assertFalse(ledger.hasSubmitted(round, 2));
        assertTrue(ledger.hasSubmitted(round, 3));
        assertEq(ledger.getRound(round).updateCount, 2);

        RoundLedger.SignedUpdate memory fresh = _signed(newKey, round);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.UpdateRegistered(
            round, 2, _updateHash(newKey, round), _examples(newKey), NOT_PRIVATE, 0, NOT_PRIVATE
        );
        _register(round, _one(fresh));
        assertEq(ledger.getRound(round).updateCount, 3);
    }

    function test_RegisterUpdates_SkipsSignatureForAnotherRound() public {
        // Round 2 opens from round 1's aggregate; a signature over round 2 with that model is not good for
        // round 1, and round 1's is not good for round 2.
        uint256 first = _openRound();
        bytes32 agg = _aggregateHash(first);
        RoundLedger.SignedUpdate memory forRound1 = _sign(ledger, KEY_A, 1, GENESIS, UPDATE, EXAMPLES);
        RoundLedger.SignedUpdate memory forRound2OnGenesis = _sign(ledger, KEY_A, 2, GENESIS, UPDATE, EXAMPLES);
        address recovered = _recover(_digest(ledger, 1, GENESIS, UPDATE, EXAMPLES), forRound2OnGenesis);
        _expectSkippedAlone(1, forRound2OnGenesis, recovered, RoundLedger.SkipReason.UnauthorizedSigner);

        _register(1, _one(forRound1));
        _finalize(1, _ids(1));
        _openRound();
        assertEq(_globalHash(2), agg);

        // Replaying round 1's signature in round 2 fails.
        recovered = _recover(_digest(ledger, 2, agg, UPDATE, EXAMPLES), forRound1);
        assertNotEq(recovered, vm.addr(KEY_A));
        _expectSkippedAlone(2, forRound1, recovered, RoundLedger.SkipReason.UnauthorizedSigner);
        _register(2, _one(_sign(ledger, KEY_A, 2, agg, UPDATE, EXAMPLES)));
        assertTrue(ledger.hasSubmitted(2, 1));
    }

    function test_RegisterUpdates_SkipsSignatureForAnotherGlobalModel() public {
        uint256 round = _openRound();
        bytes32 stale = keccak256("stale global model");
        RoundLedger.SignedUpdate memory u = _sign(ledger, KEY_A, round, stale, UPDATE, EXAMPLES);
        address recovered = _recover(_digest(ledger, round, _globalHash(round), UPDATE, EXAMPLES), u);
        _expectSkippedAlone(round, u, recovered, RoundLedger.SkipReason.UnauthorizedSigner);
    }

    function test_RegisterUpdates_SkipsSignatureForAnotherChain() public {
        uint256 round = _openRound();
        bytes32 g = _globalHash(round);
        uint256 home = block.chainid;
        RoundLedger.SignedUpdate memory signedHome = _sign(ledger, KEY_A, round, g, UPDATE, EXAMPLES);
        bytes32 digestHome = _digest(ledger, round, g, UPDATE, EXAMPLES);

        vm.chainId(137);
        bytes32 digestFork = _digest(ledger, round, g, UPDATE, EXAMPLES);
        assertNotEq(digestHome, digestFork);
        address recovered = _recover(digestFork, signedHome);
        assertNotEq(recovered, vm.addr(KEY_A));
        _expectSkippedAlone(round, signedHome, recovered, RoundLedger.SkipReason.UnauthorizedSigner);

        // The other way round: a signature made for chain 137 fails back on the home chain.
        RoundLedger.SignedUpdate memory signedFork = _sign(ledger, KEY_A, round, g, UPDATE, EXAMPLES);
        vm.chainId(home);
        assertEq(_digest(ledger, round, g, UPDATE, EXAMPLES), digestHome);
        recovered = _recover(digestHome, signedFork);
        _expectSkippedAlone(round, signedFork, recovered, RoundLedger.SkipReason.UnauthorizedSigner);

        _register(round, _one(signedHome));
        assertTrue(ledger.hasSubmitted(round, 1));
    }

    function test_RegisterUpdates_SkipsSignatureForAnotherLedger() public {
        (RoundLedger other,) = _deployLedgers(registry, INITIAL_REPUTATION, SMOOTHING, EXCLUSION_THRESHOLD);
        vm.startPrank(ADMIN);
        other.startLineage(GENESIS, "genesis");
        other.approveApp(APP);
        vm.stopPrank();
        vm.startPrank(COORDINATOR);
        ledger.openRound(GENESIS, CONFIG, APP);
        other.openRound(GENESIS, CONFIG, APP);
        vm.stopPrank();

        RoundLedger.SignedUpdate memory forOther = _sign(other, KEY_A, 1, GENESIS, UPDATE, EXAMPLES);
        bytes32 digest = _digest(ledger, 1, GENESIS, UPDATE, EXAMPLES);
        assertNotEq(_digest(other, 1, GENESIS, UPDATE, EXAMPLES), digest);
        address recovered = _recover(digest, forOther);
        _expectSkippedAlone(1, forOther, recovered, RoundLedger.SkipReason.UnauthorizedSigner);

        // The same signature is good where it was meant to go.
        other.registerUpdates(1, _one(forOther));
        assertTrue(other.hasSubmitted(1, 1));
        assertFalse(ledger.hasSubmitted(1, 1));
    }

    // ---------------------------------------------------------------- skipped: duplicates

    function test_RegisterUpdates_SkipsDuplicateInOneBatch() public {
        uint256 round = _openRound();
        RoundLedger.SignedUpdate memory first = _signed(KEY_A, round);
        RoundLedger.SignedUpdate memory second = _sign(ledger, KEY_A, round, _globalHash(round), UPDATE, 7);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.UpdateRegistered(round, 1, first.updateHash, first.numExamples, NOT_PRIVATE, 0, NOT_PRIVATE);
        _expectSkipped(round, 1, vm.addr(KEY_A), UPDATE, RoundLedger.SkipReason.DuplicateUpdate);
        _register(round, _two(first, second));
        // The identical entry twice is caught the same way.
        _expectSkippedAlone(round, first, vm.addr(KEY_A), RoundLedger.SkipReason.DuplicateUpdate);
        assertEq(ledger.getRound(round).updateCount, 1);
    }

    function test_RegisterUpdates_SkipsDuplicateAcrossBatches() public {
        uint256 round = _openRound();
        RoundLedger.SignedUpdate memory first = _signed(KEY_A, round);
        _register(round, _one(first));
        _expectSkippedAlone(round, first, vm.addr(KEY_A), RoundLedger.SkipReason.DuplicateUpdate);
        RoundLedger.SignedUpdate memory retry =
            _sign(ledger, KEY_A, round, _globalHash(round), keccak256("second try"), 3);
        _expectSkippedAlone(round, retry, vm.addr(KEY_A), RoundLedger.SkipReason.DuplicateUpdate);
        assertEq(ledger.getRound(round).updateCount, 1);
    }

    function test_RegisterUpdates_SkipsDuplicateUnderRotatedKey() public {
        uint256 round = _openRound();
        _register(round, _one(_signed(KEY_A, round)));
        uint256 newKey = 0xA00A;
        vm.prank(vm.addr(KEY_A));
        registry.proposeKeyRotation(vm.addr(newKey));
        vm.prank(vm.addr(newKey));
        registry.acceptKeyRotation(1);
        _expectSkippedAlone(round, _signed(newKey, round), vm.addr(newKey), RoundLedger.SkipReason.DuplicateUpdate);
    }

    // ---------------------------------------------------------------- mixed batches

    /// @dev One batch with every kind of bad entry between good ones: each bad one is skipped with its
    /// index and reason, every good one registers, and the count is the good ones only.
    function test_RegisterUpdates_BadEntriesDoNotStopTheBatch() public {
        uint256 round = _openRound();
        uint256 suspendedKey = 0xD004;
        _join(suspendedKey, "Hospital D");
        vm.prank(ADMIN);
        registry.suspendMember(4, "audit");

        RoundLedger.SignedUpdate[] memory batch = new RoundLedger.SignedUpdate[](6);
        batch[0] = _signed(KEY_A, round);
        batch[1] = _signed(KEY_OUTSIDER, round);
        batch[2] = _signed(KEY_B, round);
        batch[3] = _signed(KEY_A, round);
        batch[4] = _signed(suspendedKey, round);
        batch[5] = _signed(KEY_C, round);
        batch[5].numExamples = 0; // empty: skipped before any signature check

        vm.recordLogs();
        _register(round, batch);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        (uint256 registered, uint256 skipped) = _countOutcomes(logs);
        assertEq(registered, 2);
        assertEq(skipped, 4);
        // Outcomes come out in batch order.
        uint8[6] memory reasons = [
            255,
            uint8(RoundLedger.SkipReason.UnauthorizedSigner),
            255,
            uint8(RoundLedger.SkipReason.DuplicateUpdate),
            uint8(RoundLedger.SkipReason.UnauthorizedSigner),
            uint8(RoundLedger.SkipReason.EmptyValue)
        ];
        for (uint256 i = 0; i < logs.length; ++i) {
            if (reasons[i] == 255) {
                assertEq(logs[i].topics[0], RoundLedger.UpdateRegistered.selector);
                continue;
            }
            assertEq(logs[i].topics[0], RoundLedger.UpdateSkipped.selector);
            (uint256 index,,, RoundLedger.SkipReason reason) =
                abi.decode(logs[i].data, (uint256, address, bytes32, RoundLedger.SkipReason));
            assertEq(index, i, "skipped index");
            assertEq(uint8(reason), reasons[i], "skip reason");
        }
        assertTrue(ledger.hasSubmitted(round, 1));
        assertTrue(ledger.hasSubmitted(round, 2));
        assertFalse(ledger.hasSubmitted(round, 3));
        assertFalse(ledger.hasSubmitted(round, 4));
        assertEq(ledger.getRound(round).updateCount, 2);
    }

    /// @dev Random batches of good, foreign, duplicate and empty entries: the registered count is the
    /// number of distinct active members with a good entry, whatever the order.
    function testFuzz_RegisterUpdates_CountsOnlyGoodEntries(uint256 seed) public {
        uint256 round = _openRound();
        uint256[4] memory pool = [KEY_A, KEY_B, KEY_C, KEY_OUTSIDER];
        uint256 size = 1 + seed % 8;
        RoundLedger.SignedUpdate[] memory batch = new RoundLedger.SignedUpdate[](size);
        bool[4] memory seen;
        uint256 expected;
        for (uint256 i = 0; i < size; ++i) {
            uint256 pick = uint256(keccak256(abi.encode(seed, i)));
            uint256 who = pick % 4;
            batch[i] = _signed(pool[who], round);
            bool empty = (pick >> 8) % 5 == 0;
            if (empty) batch[i].updateHash = bytes32(0);
            if (!empty && who < 3 && !seen[who]) {
                seen[who] = true;
                ++expected;
            }
        }
        vm.recordLogs();
        _register(round, batch);
        (uint256 registered, uint256 skipped) = _countOutcomes(vm.getRecordedLogs());
        assertEq(registered, expected);
        assertEq(skipped, size - expected);
        assertEq(ledger.getRound(round).updateCount, expected);
        for (uint256 who = 0; who < 3; ++who) {
            assertEq(ledger.hasSubmitted(round, uint64(who + 1)), seen[who]);
        }
    }

    // ---------------------------------------------------------------- the low-s rule

    /// @dev The boundary of the low-s rule: `s` = n / 2 goes on to ecrecover (here it recovers some key that
    /// is no member's), `s` = n / 2 + 1 recovers no one in the ledger although the precompile would take it.
    function test_RegisterUpdates_LowSBoundary() public {
        assertEq(HALF_N, N / 2);
        uint256 round = _openRound();
        bytes32 digest = _digest(ledger, round, _globalHash(round), UPDATE, EXAMPLES);
        (, bytes32 r,) = vm.sign(KEY_A, digest); // a valid r: the x of a point on the curve
        for (uint256 v = 0; v < 2; ++v) {
            RoundLedger.SignedUpdate memory atHalf = RoundLedger.SignedUpdate({
                updateHash: UPDATE,
                numExamples: EXAMPLES,
                epsilonSpent: NOT_PRIVATE,
                deltaSpent: 0,
                r: r,
                vs: bytes32(HALF_N | v << 255)
            });
            address recovered = _recover(digest, atHalf);
            assertTrue(recovered != address(0), "s = n / 2 recovers a key");
            _expectSkippedAlone(round, atHalf, recovered, RoundLedger.SkipReason.UnauthorizedSigner);

            RoundLedger.SignedUpdate memory above = atHalf;
            above.vs = bytes32((HALF_N + 1) | v << 255);
            assertTrue(_recover(digest, above) != address(0), "the precompile takes s = n / 2 + 1");
            _expectSkippedAlone(round, above, address(0), RoundLedger.SkipReason.UnauthorizedSigner);
        }
    }

    // ---------------------------------------------------------------- bitmap words

    /// @dev Member ids 1 to 255 share the round's first bitmap word, 256 and up the second. A batch that goes
    /// back and forth between the words registers each member once, skips duplicates in either word, and
    /// leaves both words stored: a later batch sees its duplicates, and finalization its participants.
    function test_RegisterUpdates_BatchSpanningTwoBitmapWords() public {
        for (uint64 id = 4; id <= 260; ++id) {
            assertEq(_join(0x50000 + id, "Hospital"), id);
        }
        uint256 round = _openRound();
        RoundLedger.SignedUpdate[] memory batch = new RoundLedger.SignedUpdate[](8);
        batch[0] = _signed(KEY_A, round); // member 1, word 0
        batch[1] = _signed(0x50000 + 256, round); // word 1
        batch[2] = _signed(KEY_B, round); // member 2, word 0
        batch[3] = _signed(0x50000 + 257, round); // word 1
        batch[4] = batch[0]; // duplicate in word 0
        batch[5] = batch[1]; // duplicate in word 1
        batch[6] = _signed(0x50000 + 255, round); // the last bit of word 0
        batch[7] = _signed(0x50000 + 258, round);
        vm.recordLogs();
        _expectSkipped(round, 4, vm.addr(KEY_A), batch[4].updateHash, RoundLedger.SkipReason.DuplicateUpdate);
        _expectSkipped(round, 5, vm.addr(0x50000 + 256), batch[5].updateHash, RoundLedger.SkipReason.DuplicateUpdate);
        _register(round, batch);
        (uint256 registered, uint256 skipped) = _countOutcomes(vm.getRecordedLogs());
        assertEq(registered, 6);
        assertEq(skipped, 2);
        assertEq(ledger.getRound(round).updateCount, 6);
        uint64[6] memory submitted = [uint64(1), 2, 255, 256, 257, 258];
        for (uint256 i = 0; i < 6; ++i) {
            assertTrue(ledger.hasSubmitted(round, submitted[i]), "submitted");
        }
        assertFalse(ledger.hasSubmitted(round, 3));
        assertFalse(ledger.hasSubmitted(round, 254));
        assertFalse(ledger.hasSubmitted(round, 259));

        // A second batch: a duplicate in word 1, then new members in word 1 and word 0.
        vm.recordLogs();
        _expectSkipped(round, 0, vm.addr(0x50000 + 257), batch[3].updateHash, RoundLedger.SkipReason.DuplicateUpdate);
        _register(round, _three(batch[3], _signed(0x50000 + 259, round), _signed(KEY_C, round)));
        (registered, skipped) = _countOutcomes(vm.getRecordedLogs());
        assertEq(registered, 2);
        assertEq(skipped, 1);
        assertEq(ledger.getRound(round).updateCount, 8);
        assertTrue(ledger.hasSubmitted(round, 3));
        assertTrue(ledger.hasSubmitted(round, 259));
        assertFalse(ledger.hasSubmitted(round, 260));

        // Finalization reads both words: 260 (word 1) never submitted, the other nine did.
        uint64[] memory participants = new uint64[](9);
        (participants[0], participants[1], participants[2], participants[3]) = (1, 2, 3, 255);
        (participants[4], participants[5], participants[6], participants[7]) = (256, 257, 258, 259);
        participants[8] = 260;
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerNotSubmitted.selector, round, 260));
        _finalize(round, participants);
        assembly ("memory-safe") {
            mstore(participants, 8)
        }
        _finalize(round, participants);
        assertEq(ledger.getRound(round).participantCount, 8);
        assertTrue(ledger.isParticipant(round, 255));
        assertTrue(ledger.isParticipant(round, 259));
        assertFalse(ledger.isParticipant(round, 260));
    }

    function _three(
        RoundLedger.SignedUpdate memory u,
        RoundLedger.SignedUpdate memory w,
        RoundLedger.SignedUpdate memory x
    ) private pure returns (RoundLedger.SignedUpdate[] memory out) {
        out = new RoundLedger.SignedUpdate[](3);
        (out[0], out[1], out[2]) = (u, w, x);
    }

    // ---------------------------------------------------------------- the member lookup

    /// @dev The registry lookup is a bare static call: should it fail, the whole batch reverts (no data)
    /// rather than skip the entry as an unknown signer. The registry's lookup itself never reverts: it fails
    /// only when starved of gas ({test_RegisterUpdates_TooLittleGasRevertsRatherThanSkips} gets there, for a
    /// few gas limits only); a mocked revert stands for any failure here.
    function test_RegisterUpdates_RevertsWholeBatchWhenTheMemberLookupFails() public {
        uint256 round = _openRound();
        RoundLedger.SignedUpdate[] memory batch = _two(_signed(KEY_A, round), _signed(KEY_B, round));
        vm.mockCallRevert(
            address(registry), abi.encodeWithSelector(ConsortiumRegistry.activeMemberIdOf.selector), "registry down"
        );
        vm.expectRevert(bytes(""));
        _register(round, batch);
        vm.clearMockedCalls();
        assertEq(ledger.getRound(round).updateCount, 0);
        assertFalse(ledger.hasSubmitted(round, 1));
        _register(round, batch);
        assertEq(ledger.getRound(round).updateCount, 2);
    }

    /// @dev Register A's update for `round` with exactly `gasLimit` gas, then revert with what happened
    /// ({Attempt}), so that nothing stays: each attempt starts from the same state.
    function attemptWithGas(uint256 round, bytes calldata data, uint256 gasLimit) external {
        (bool ok,) = address(ledger).call{gas: gasLimit}(data);
        revert Attempt(ok, ledger.hasSubmitted(round, 1), ledger.getRound(round).updateCount);
    }

    function _attempt(uint256 round, bytes memory data, uint256 gasLimit)
        private
        returns (bool succeeded, bool registered, uint256 count)
    {
        try this.attemptWithGas(round, data, gasLimit) {
            revert("attemptWithGas always reverts");
        } catch (bytes memory reason) {
            assertTrue(bytes4(reason) == Attempt.selector, "the attempt's report");
            assembly ("memory-safe") {
                // Skip the selector: the three words after it are the error's arguments.
                mstore(add(reason, 4), sub(mload(reason), 4))
                reason := add(reason, 4)
            }
            (succeeded, registered, count) = abi.decode(reason, (bool, bool, uint256));
        }
    }

    /// @dev Whatever gas a relayer gives the call, a good entry is registered or the whole call reverts: a
    /// sub-call starved of gas (the ecrecover precompile, whose failure reads as "no signer", or the registry
    /// lookup) leaves the ledger 1/64 of the gas, too little to go on and record a skip. Finds the least gas
    /// that succeeds (about 36,000 here), then tries every 5th gas limit below it, which goes through the
    /// windows where either sub-call starves.
    function test_RegisterUpdates_TooLittleGasRevertsRatherThanSkips() public {
        uint256 round = _openRound();
        bytes memory data = abi.encodeCall(RoundLedger.registerUpdates, (round, _one(_signed(KEY_A, round))));
        (uint256 low, uint256 high) = (0, 1_000_000);
        (bool ok, bool registered,) = _attempt(round, data, high);
        assertTrue(ok && registered, "enough gas registers the update");
        while (high - low > 1) {
            uint256 middle = (low + high) / 2;
            (ok,,) = _attempt(round, data, middle);
            if (ok) high = middle;
            else low = middle;
        }
        uint256 count;
        console.log("least gas for one update", high);
        for (uint256 gasLimit = 0; gasLimit < high; gasLimit += 5) {
            (ok, registered, count) = _attempt(round, data, gasLimit);
            if (ok) {
                assertTrue(registered, "a call that succeeds registered the good entry");
                assertEq(count, 1);
            } else {
                assertFalse(registered);
                assertEq(count, 0);
            }
        }
        (ok, registered, count) = _attempt(round, data, high);
        assertTrue(ok && registered && count == 1, "the least gas that succeeds registers");
    }
}
