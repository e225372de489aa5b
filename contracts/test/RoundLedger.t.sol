// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {CONSORTIUM_COORDINATOR_ROLE} from "../src/ConsortiumRegistry.sol";
import {ConsortiumAccess} from "../src/ConsortiumAccess.sol";
import {ConsortiumRegistry} from "../src/ConsortiumRegistry.sol";
import {RoundLedger} from "../src/RoundLedger.sol";
import {ConsortiumFixture} from "./utils/ConsortiumFixture.sol";
import {Vm} from "./utils/Vm.sol";

/// @title RoundLedgerTest
/// @notice Round life cycle of {RoundLedger} and the checks on hospitals' EIP-712 update signatures:
/// only an active member's signature over this round, this global model, this chain and this contract
/// registers an update, once per member and round.
contract RoundLedgerTest is ConsortiumFixture {
    bytes32 private constant CONFIG = keccak256("config");
    bytes32 private constant GLOBAL = keccak256("global model v1");
    bytes32 private constant UPDATE = keccak256("update");
    uint64 private constant EXAMPLES = 1_234;

    function setUp() public override {
        super.setUp();
        _enrolHospitals();
    }

    // ---------------------------------------------------------------- domain

    function test_Digest_IsEip712OverTheModelUpdate() public view {
        bytes32 typeHash =
            keccak256("ModelUpdate(uint256 round,bytes32 globalModelHash,bytes32 updateHash,uint64 numExamples)");
        assertEq(ledger.MODEL_UPDATE_TYPEHASH(), typeHash);
        bytes32 domainSeparator = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("BCFL RoundLedger"),
                keccak256("1"),
                block.chainid,
                address(ledger)
            )
        );
        bytes32 structHash = keccak256(abi.encode(typeHash, 7, GLOBAL, UPDATE, EXAMPLES));
        bytes32 expected = keccak256(abi.encodePacked("\x19\x01", domainSeparator, structHash));
        assertEq(ledger.updateDigest(7, GLOBAL, UPDATE, EXAMPLES), expected);
        (, string memory name, string memory version, uint256 chainId, address verifying,,) = ledger.eip712Domain();
        assertEq(name, "BCFL RoundLedger");
        assertEq(version, "1");
        assertEq(chainId, block.chainid);
        assertEq(verifying, address(ledger));
        assertEq(address(ledger.registry()), address(registry));
    }

    function test_Constructor_RevertsOnZeroRegistry() public {
        vm.expectRevert(ConsortiumAccess.ConsortiumAccessZeroAddress.selector);
        new RoundLedger(ConsortiumRegistry(address(0)));
    }

    // ---------------------------------------------------------------- life cycle

    function test_LifeCycle_OpenRegisterFinalize() public {
        vm.roll(100);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.RoundOpened(1, GLOBAL, CONFIG);
        vm.prank(COORDINATOR);
        uint256 round = ledger.openRound(GLOBAL, CONFIG);
        assertEq(round, 1);
        assertEq(ledger.roundCount(), 1);
        RoundLedger.Round memory r = ledger.getRound(1);
        assertEq(r.globalModelHash, GLOBAL);
        assertEq(r.configHash, CONFIG);
        assertEq(uint8(r.status), uint8(RoundLedger.RoundStatus.Open));
        assertEq(r.openedAtBlock, 100);
        assertEq(r.finalizedAtBlock, 0);
        assertEq(r.updateCount, 0);

        RoundLedger.SignedUpdate memory ua = _sign(ledger, KEY_A, 1, GLOBAL, UPDATE, EXAMPLES);
        RoundLedger.SignedUpdate memory ub = _sign(ledger, KEY_B, 1, GLOBAL, keccak256("update b"), 99);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.UpdateRegistered(1, 1, vm.addr(KEY_A), UPDATE, EXAMPLES);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.UpdateRegistered(1, 2, vm.addr(KEY_B), keccak256("update b"), 99);
        _register(1, _two(ua, ub));
        // A later batch in the same round adds to the count.
        RoundLedger.SignedUpdate memory uc = _sign(ledger, KEY_C, 1, GLOBAL, keccak256("update c"), 5);
        _register(1, _one(uc));

        assertTrue(ledger.hasSubmitted(1, 1));
        assertTrue(ledger.hasSubmitted(1, 2));
        assertTrue(ledger.hasSubmitted(1, 3));
        assertFalse(ledger.hasSubmitted(1, 4));
        assertFalse(ledger.hasSubmitted(2, 1));
        assertEq(ledger.getRound(1).updateCount, 3);

        vm.roll(105);
        uint64[] memory participants = _ids(1, 3);
        uint256[] memory weights = _amounts(EXAMPLES, 5);
        bytes32 aggregate = keccak256("aggregate 1");
        bytes32 metrics = keccak256("metrics 1");
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.RoundFinalized(1, aggregate, metrics, participants, weights);
        vm.prank(COORDINATOR);
        ledger.finalizeRound(1, aggregate, metrics, participants, weights);

        r = ledger.getRound(1);
        assertEq(uint8(r.status), uint8(RoundLedger.RoundStatus.Finalized));
        assertEq(r.aggregatedModelHash, aggregate);
        assertEq(r.metricsHash, metrics);
        assertEq(r.participantsHash, keccak256(abi.encode(participants, weights)));
        assertEq(r.finalizedAtBlock, 105);
        assertEq(r.openedAtBlock, 100);
        assertTrue(ledger.isParticipant(1, 1));
        assertFalse(ledger.isParticipant(1, 2)); // submitted, left out of the aggregate
        assertTrue(ledger.isParticipant(1, 3));

        // The next round starts from the aggregate.
        vm.prank(COORDINATOR);
        assertEq(ledger.openRound(aggregate, CONFIG), 2);
        assertEq(ledger.roundCount(), 2);
    }

    function test_FinalizeRound_WithNoParticipants() public {
        uint256 round = _openRound();
        _finalize(round, _ids());
        assertEq(uint8(ledger.getRound(round).status), uint8(RoundLedger.RoundStatus.Finalized));
        assertEq(ledger.getRound(round).participantsHash, keccak256(abi.encode(_ids(), new uint256[](0))));
    }

    function test_RegisterUpdates_EmptyBatchIsNoop() public {
        uint256 round = _openRound();
        _register(round, new RoundLedger.SignedUpdate[](0));
        assertEq(ledger.getRound(round).updateCount, 0);
    }

    // ---------------------------------------------------------------- open

    function test_OpenRound_Reverts() public {
        vm.startPrank(COORDINATOR);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerEmptyValue.selector, 0));
        ledger.openRound(bytes32(0), CONFIG);
        ledger.openRound(GLOBAL, CONFIG);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerRoundStillOpen.selector, 1));
        ledger.openRound(GLOBAL, CONFIG);
        vm.stopPrank();
    }

    function test_OnlyCoordinator() public {
        bytes memory denied = abi.encodeWithSelector(
            ConsortiumAccess.ConsortiumAccessUnauthorized.selector, ADMIN, CONSORTIUM_COORDINATOR_ROLE
        );
        vm.expectRevert(denied);
        vm.prank(ADMIN);
        ledger.openRound(GLOBAL, CONFIG);

        uint256 round = _openRound();
        RoundLedger.SignedUpdate memory u = _signed(KEY_A, round);
        // Hospitals cannot register their own updates either: the coordinator submits them.
        address hospital = vm.addr(KEY_A);
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumAccess.ConsortiumAccessUnauthorized.selector, hospital, CONSORTIUM_COORDINATOR_ROLE
            )
        );
        vm.prank(hospital);
        ledger.registerUpdates(round, _one(u));

        _register(round, _one(u));
        vm.expectRevert(denied);
        vm.prank(ADMIN);
        ledger.finalizeRound(round, GLOBAL, bytes32(0), _ids(1), _amounts(1));

        // Revoking the role in the registry takes effect at once.
        vm.startPrank(ADMIN);
        registry.revokeRole(CONSORTIUM_COORDINATOR_ROLE, COORDINATOR);
        vm.stopPrank();
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumAccess.ConsortiumAccessUnauthorized.selector, COORDINATOR, CONSORTIUM_COORDINATOR_ROLE
            )
        );
        vm.prank(COORDINATOR);
        ledger.finalizeRound(round, GLOBAL, bytes32(0), _ids(1), _amounts(1));
    }

    // ---------------------------------------------------------------- register: round state

    function test_RegisterUpdates_RevertsWhenRoundNotOpen() public {
        RoundLedger.SignedUpdate[] memory none = new RoundLedger.SignedUpdate[](0);
        vm.startPrank(COORDINATOR);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerRoundNotOpen.selector, 0));
        ledger.registerUpdates(0, none);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerRoundNotOpen.selector, 1));
        ledger.registerUpdates(1, none);
        vm.stopPrank();

        uint256 round = _completeRound(_keys(KEY_A), _ids(1));
        RoundLedger.SignedUpdate memory late = _signed(KEY_B, round);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerRoundNotOpen.selector, round));
        _register(round, _one(late));
        // A future round is not open either.
        RoundLedger.SignedUpdate memory early = _signed(KEY_B, round + 1);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerRoundNotOpen.selector, round + 1));
        _register(round + 1, _one(early));
    }

    // ---------------------------------------------------------------- register: empty values

    function test_RegisterUpdates_RevertsOnEmptyValues() public {
        uint256 round = _openRound();
        bytes32 g = _globalHash(round);
        RoundLedger.SignedUpdate memory good = _signed(KEY_A, round);
        RoundLedger.SignedUpdate memory noHash = _sign(ledger, KEY_B, round, g, bytes32(0), 10);
        RoundLedger.SignedUpdate memory noExamples = _sign(ledger, KEY_B, round, g, UPDATE, 0);

        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerEmptyValue.selector, 1));
        _register(round, _two(good, noHash));
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerEmptyValue.selector, 0));
        _register(round, _two(noExamples, good));
        // Nothing from the reverted batches was kept.
        assertFalse(ledger.hasSubmitted(round, 1));
        assertEq(ledger.getRound(round).updateCount, 0);
    }

    // ---------------------------------------------------------------- register: signatures

    function test_RegisterUpdates_RejectsForgedSignature() public {
        uint256 round = _openRound();
        bytes32 digest = ledger.updateDigest(round, _globalHash(round), UPDATE, EXAMPLES);

        // Arbitrary (r, vs) that nobody produced by signing.
        RoundLedger.SignedUpdate memory forged = RoundLedger.SignedUpdate({
            updateHash: UPDATE, numExamples: EXAMPLES, r: keccak256("r"), vs: bytes32(uint256(keccak256("s")) >> 2)
        });
        address recovered = _recover(digest, forged);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerUnauthorizedSigner.selector, 0, recovered));
        _register(round, _one(forged));

        // r = 0 does not recover at all.
        forged.r = bytes32(0);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerUnauthorizedSigner.selector, 0, address(0)));
        _register(round, _one(forged));

        // A genuine signature with one bit of r flipped recovers to someone else.
        RoundLedger.SignedUpdate memory tampered = _sign(ledger, KEY_A, round, _globalHash(round), UPDATE, EXAMPLES);
        tampered.r = bytes32(uint256(tampered.r) ^ 1);
        recovered = _recover(digest, tampered);
        assertNotEq(recovered, vm.addr(KEY_A));
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerUnauthorizedSigner.selector, 0, recovered));
        _register(round, _one(tampered));
    }

    function test_RegisterUpdates_RejectsHighS() public {
        uint256 round = _openRound();
        bytes32 g = _globalHash(round);
        bytes32 digest = ledger.updateDigest(round, g, UPDATE, EXAMPLES);
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
            updateHash: UPDATE, numExamples: EXAMPLES, r: r, vs: bytes32(twinS | (uint256(twinV - 27) << 255))
        });
        address recovered = _recover(digest, twin);
        assertNotEq(recovered, vm.addr(KEY_A));
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerUnauthorizedSigner.selector, 0, recovered));
        _register(round, _one(twin));

        // An s above n/2 that fits the compact form is refused by the high-s check (no signer at all).
        RoundLedger.SignedUpdate memory high =
            RoundLedger.SignedUpdate({updateHash: UPDATE, numExamples: EXAMPLES, r: r, vs: bytes32(n / 2 + 1)});
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerUnauthorizedSigner.selector, 0, address(0)));
        _register(round, _one(high));
    }

    function test_RegisterUpdates_RejectsAlteredFields() public {
        uint256 round = _openRound();
        bytes32 g = _globalHash(round);
        RoundLedger.SignedUpdate memory u = _sign(ledger, KEY_A, round, g, UPDATE, EXAMPLES);

        // The coordinator cannot change the update hash...
        RoundLedger.SignedUpdate memory altered = u;
        altered.updateHash = keccak256("other update");
        address recovered = _recover(ledger.updateDigest(round, g, altered.updateHash, EXAMPLES), altered);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerUnauthorizedSigner.selector, 0, recovered));
        _register(round, _one(altered));

        // ...nor inflate the example count.
        altered = _sign(ledger, KEY_A, round, g, UPDATE, EXAMPLES);
        altered.numExamples = EXAMPLES * 10;
        recovered = _recover(ledger.updateDigest(round, g, UPDATE, EXAMPLES * 10), altered);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerUnauthorizedSigner.selector, 0, recovered));
        _register(round, _one(altered));

        _register(round, _one(_sign(ledger, KEY_A, round, g, UPDATE, EXAMPLES)));
        assertTrue(ledger.hasSubmitted(round, 1));
    }

    function test_RegisterUpdates_RejectsNonMemberSigner() public {
        uint256 round = _openRound();
        RoundLedger.SignedUpdate memory u = _signed(KEY_OUTSIDER, round);
        vm.expectRevert(
            abi.encodeWithSelector(RoundLedger.RoundLedgerUnauthorizedSigner.selector, 0, vm.addr(KEY_OUTSIDER))
        );
        _register(round, _one(u));

        // A pending member is not allowed either.
        uint256 pendingKey = 0xE005;
        _request(pendingKey, "Hospital E");
        RoundLedger.SignedUpdate[] memory batch = _two(_signed(KEY_A, round), _signed(pendingKey, round));
        vm.expectRevert(
            abi.encodeWithSelector(RoundLedger.RoundLedgerUnauthorizedSigner.selector, 1, vm.addr(pendingKey))
        );
        _register(round, batch);
    }

    function test_RegisterUpdates_RejectsSuspendedMember() public {
        uint256 round = _openRound();
        RoundLedger.SignedUpdate memory u = _signed(KEY_B, round);
        vm.prank(ADMIN);
        registry.suspendMember(2, "audit");
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerUnauthorizedSigner.selector, 0, vm.addr(KEY_B)));
        _register(round, _one(u));

        vm.prank(ADMIN);
        registry.reinstateMember(2);
        _register(round, _one(u));
        assertTrue(ledger.hasSubmitted(round, 2));
    }

    function test_RegisterUpdates_RejectsRotatedOutKey() public {
        uint256 round = _openRound();
        uint256 newKey = 0xB0B2;
        RoundLedger.SignedUpdate memory old = _signed(KEY_B, round);
        vm.prank(vm.addr(KEY_B));
        registry.proposeKeyRotation(vm.addr(newKey));
        vm.prank(vm.addr(newKey));
        registry.acceptKeyRotation(2);

        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerUnauthorizedSigner.selector, 0, vm.addr(KEY_B)));
        _register(round, _one(old));

        RoundLedger.SignedUpdate memory fresh = _signed(newKey, round);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.UpdateRegistered(round, 2, vm.addr(newKey), _updateHash(newKey, round), _examples(newKey));
        _register(round, _one(fresh));
    }

    function test_RegisterUpdates_RejectsSignatureForAnotherRound() public {
        // Same global model in both rounds, so only the round number differs.
        vm.prank(COORDINATOR);
        ledger.openRound(GLOBAL, CONFIG);
        RoundLedger.SignedUpdate memory forRound1 = _sign(ledger, KEY_A, 1, GLOBAL, UPDATE, EXAMPLES);
        RoundLedger.SignedUpdate memory forRound2 = _sign(ledger, KEY_A, 2, GLOBAL, UPDATE, EXAMPLES);

        address recovered = _recover(ledger.updateDigest(1, GLOBAL, UPDATE, EXAMPLES), forRound2);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerUnauthorizedSigner.selector, 0, recovered));
        _register(1, _one(forRound2));

        _register(1, _one(forRound1));
        _finalize(1, _ids(1));
        vm.prank(COORDINATOR);
        ledger.openRound(GLOBAL, CONFIG);

        // Replaying round 1's signature in round 2 fails.
        recovered = _recover(ledger.updateDigest(2, GLOBAL, UPDATE, EXAMPLES), forRound1);
        assertNotEq(recovered, vm.addr(KEY_A));
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerUnauthorizedSigner.selector, 0, recovered));
        _register(2, _one(forRound1));
        _register(2, _one(forRound2));
    }

    function test_RegisterUpdates_RejectsSignatureForAnotherGlobalModel() public {
        uint256 round = _openRound();
        bytes32 stale = keccak256("stale global model");
        RoundLedger.SignedUpdate memory u = _sign(ledger, KEY_A, round, stale, UPDATE, EXAMPLES);
        address recovered = _recover(ledger.updateDigest(round, _globalHash(round), UPDATE, EXAMPLES), u);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerUnauthorizedSigner.selector, 0, recovered));
        _register(round, _one(u));
    }

    function test_RegisterUpdates_RejectsSignatureForAnotherChain() public {
        uint256 round = _openRound();
        bytes32 g = _globalHash(round);
        uint256 home = block.chainid;
        RoundLedger.SignedUpdate memory signedHome = _sign(ledger, KEY_A, round, g, UPDATE, EXAMPLES);
        bytes32 digestHome = ledger.updateDigest(round, g, UPDATE, EXAMPLES);

        vm.chainId(137);
        bytes32 digestFork = ledger.updateDigest(round, g, UPDATE, EXAMPLES);
        assertNotEq(digestHome, digestFork);
        address recovered = _recover(digestFork, signedHome);
        assertNotEq(recovered, vm.addr(KEY_A));
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerUnauthorizedSigner.selector, 0, recovered));
        _register(round, _one(signedHome));

        // The other way round: a signature made for chain 137 fails back on the home chain.
        RoundLedger.SignedUpdate memory signedFork = _sign(ledger, KEY_A, round, g, UPDATE, EXAMPLES);
        vm.chainId(home);
        assertEq(ledger.updateDigest(round, g, UPDATE, EXAMPLES), digestHome);
        recovered = _recover(digestHome, signedFork);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerUnauthorizedSigner.selector, 0, recovered));
        _register(round, _one(signedFork));

        _register(round, _one(signedHome));
        assertTrue(ledger.hasSubmitted(round, 1));
    }

    function test_RegisterUpdates_RejectsSignatureForAnotherLedger() public {
        RoundLedger other = new RoundLedger(registry);
        vm.startPrank(COORDINATOR);
        ledger.openRound(GLOBAL, CONFIG);
        other.openRound(GLOBAL, CONFIG);
        vm.stopPrank();

        RoundLedger.SignedUpdate memory forOther = _sign(other, KEY_A, 1, GLOBAL, UPDATE, EXAMPLES);
        bytes32 digest = ledger.updateDigest(1, GLOBAL, UPDATE, EXAMPLES);
        assertNotEq(other.updateDigest(1, GLOBAL, UPDATE, EXAMPLES), digest);
        address recovered = _recover(digest, forOther);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerUnauthorizedSigner.selector, 0, recovered));
        _register(1, _one(forOther));

        // The same signature is good where it was meant to go.
        vm.prank(COORDINATOR);
        other.registerUpdates(1, _one(forOther));
        assertTrue(other.hasSubmitted(1, 1));
        assertFalse(ledger.hasSubmitted(1, 1));
    }

    // ---------------------------------------------------------------- register: duplicates

    function test_RegisterUpdates_RejectsDuplicateInOneBatch() public {
        uint256 round = _openRound();
        RoundLedger.SignedUpdate memory first = _signed(KEY_A, round);
        RoundLedger.SignedUpdate memory second = _sign(ledger, KEY_A, round, _globalHash(round), UPDATE, 7);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerDuplicateUpdate.selector, round, 1));
        _register(round, _two(first, second));
        // The identical entry twice is caught the same way.
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerDuplicateUpdate.selector, round, 1));
        _register(round, _two(first, first));
    }

    function test_RegisterUpdates_RejectsDuplicateAcrossBatches() public {
        uint256 round = _openRound();
        RoundLedger.SignedUpdate memory first = _signed(KEY_A, round);
        _register(round, _one(first));
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerDuplicateUpdate.selector, round, 1));
        _register(round, _one(first));
        RoundLedger.SignedUpdate memory retry =
            _sign(ledger, KEY_A, round, _globalHash(round), keccak256("second try"), 3);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerDuplicateUpdate.selector, round, 1));
        _register(round, _one(retry));
        assertEq(ledger.getRound(round).updateCount, 1);
    }

    function test_RegisterUpdates_RejectsDuplicateUnderRotatedKey() public {
        uint256 round = _openRound();
        _register(round, _one(_signed(KEY_A, round)));
        uint256 newKey = 0xA00A;
        vm.prank(vm.addr(KEY_A));
        registry.proposeKeyRotation(vm.addr(newKey));
        vm.prank(vm.addr(newKey));
        registry.acceptKeyRotation(1);
        RoundLedger.SignedUpdate memory again = _signed(newKey, round);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerDuplicateUpdate.selector, round, 1));
        _register(round, _one(again));
    }

    // ---------------------------------------------------------------- finalize

    function test_FinalizeRound_Reverts() public {
        vm.startPrank(COORDINATOR);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerRoundNotOpen.selector, 1));
        ledger.finalizeRound(1, GLOBAL, bytes32(0), _ids(), new uint256[](0));
        vm.stopPrank();

        uint256 round = _openRound();
        _submit(round, _keys(KEY_A, KEY_B));
        bytes32 agg = keccak256("aggregate");

        vm.startPrank(COORDINATOR);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerEmptyValue.selector, 0));
        ledger.finalizeRound(round, bytes32(0), bytes32(0), _ids(1), _amounts(1));
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerLengthMismatch.selector, 2, 1));
        ledger.finalizeRound(round, agg, bytes32(0), _ids(1, 2), _amounts(1));
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerLengthMismatch.selector, 1, 2));
        ledger.finalizeRound(round, agg, bytes32(0), _ids(1), _amounts(1, 1));
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerParticipantsNotSorted.selector, 1));
        ledger.finalizeRound(round, agg, bytes32(0), _ids(2, 1), _amounts(1, 1));
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerParticipantsNotSorted.selector, 1));
        ledger.finalizeRound(round, agg, bytes32(0), _ids(1, 1), _amounts(1, 1));
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerParticipantsNotSorted.selector, 0));
        ledger.finalizeRound(round, agg, bytes32(0), _ids(0), _amounts(1));
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerNotSubmitted.selector, round, 3));
        ledger.finalizeRound(round, agg, bytes32(0), _ids(1, 2, 3), _amounts(1, 1, 1));
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerNotSubmitted.selector, round, 9));
        ledger.finalizeRound(round, agg, bytes32(0), _ids(9), _amounts(1));

        ledger.finalizeRound(round, agg, bytes32(0), _ids(1, 2), _amounts(1, 1));
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerRoundNotOpen.selector, round));
        ledger.finalizeRound(round, agg, bytes32(0), _ids(1, 2), _amounts(1, 1));
        vm.stopPrank();
    }

    function test_FinalizeRound_SuspensionAfterSubmissionKeepsParticipation() public {
        uint256 round = _openRound();
        _submit(round, _keys(KEY_A, KEY_B));
        vm.prank(ADMIN);
        registry.suspendMember(2, "late suspension");
        // The update was valid when registered, so it may still enter the aggregate.
        _finalize(round, _ids(1, 2));
        assertTrue(ledger.isParticipant(round, 2));
    }

    // ---------------------------------------------------------------- batches

    /// @dev 300 members in one batch: crosses the 256-member words of the per-round bitmaps.
    function test_RegisterUpdates_BatchOfManyMembers() public {
        uint256 count = 300;
        uint256[] memory keys = new uint256[](count);
        (keys[0], keys[1], keys[2]) = (KEY_A, KEY_B, KEY_C);
        for (uint256 i = 3; i < count; ++i) {
            keys[i] = 0x10000 + i;
            assertEq(_join(keys[i], "Hospital"), i + 1);
        }
        uint256 round = _openRound();
        vm.recordLogs();
        _submit(round, keys);
        Vm.Log[] memory logs = vm.getRecordedLogs();

        assertEq(logs.length, count);
        for (uint256 i = 0; i < count; ++i) {
            assertEq(logs[i].topics[0], RoundLedger.UpdateRegistered.selector);
            assertEq(uint256(logs[i].topics[2]), i + 1, "member id in event");
            assertTrue(ledger.hasSubmitted(round, uint64(i + 1)));
        }
        assertEq(ledger.getRound(round).updateCount, count);
        assertFalse(ledger.hasSubmitted(round, uint64(count + 1)));

        uint64[] memory participants = new uint64[](count / 2);
        for (uint256 i = 0; i < participants.length; ++i) {
            participants[i] = uint64(2 * i + 2); // even ids 2..300
        }
        _finalize(round, participants);
        assertFalse(ledger.isParticipant(round, 255));
        assertTrue(ledger.isParticipant(round, 256));
        assertFalse(ledger.isParticipant(round, 257));
        assertTrue(ledger.isParticipant(round, 258));
        assertTrue(ledger.isParticipant(round, 300));
    }

    function test_RegisterUpdates_BatchRevertsAsAWhole() public {
        uint256 round = _openRound();
        RoundLedger.SignedUpdate[] memory updates = new RoundLedger.SignedUpdate[](3);
        updates[0] = _signed(KEY_A, round);
        updates[1] = _signed(KEY_B, round);
        updates[2] = _signed(KEY_OUTSIDER, round);
        vm.expectRevert(
            abi.encodeWithSelector(RoundLedger.RoundLedgerUnauthorizedSigner.selector, 2, vm.addr(KEY_OUTSIDER))
        );
        _register(round, updates);
        assertFalse(ledger.hasSubmitted(round, 1));
        assertFalse(ledger.hasSubmitted(round, 2));
    }

    // ---------------------------------------------------------------- gas sanity

    /// @dev A coarse ceiling (about 10.8k gas per update measured with solc 0.8.30, optimizer 200 runs) that
    /// catches an accidental extra storage write per update, not an exact gas figure.
    function test_Gas_BatchRegistrationScales() public {
        uint256 count = 32;
        uint256[] memory keys = new uint256[](count);
        (keys[0], keys[1], keys[2]) = (KEY_A, KEY_B, KEY_C);
        for (uint256 i = 3; i < count; ++i) {
            keys[i] = 0x20000 + i;
            _join(keys[i], "Hospital");
        }
        uint256 round = _openRound();
        RoundLedger.SignedUpdate[] memory updates = new RoundLedger.SignedUpdate[](count);
        for (uint256 i = 0; i < count; ++i) {
            updates[i] = _signed(keys[i], round);
        }
        vm.prank(COORDINATOR);
        uint256 before = gasleft();
        ledger.registerUpdates(round, updates);
        uint256 used = before - gasleft();
        assertLe(used / count, 16_000, "gas per registered update");
    }
}
