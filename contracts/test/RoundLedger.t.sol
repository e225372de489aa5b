// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {CONSORTIUM_COORDINATOR_ROLE} from "../src/ConsortiumRegistry.sol";
import {ConsortiumAccess} from "../src/ConsortiumAccess.sol";
import {ConsortiumRegistry} from "../src/ConsortiumRegistry.sol";
import {IExclusionOracle} from "../src/IExclusionOracle.sol";
import {RoundLedger} from "../src/RoundLedger.sol";
import {ConsortiumFixture} from "./utils/ConsortiumFixture.sol";
import {Vm} from "./utils/Vm.sol";

/// @title RoundLedgerTest
/// @notice Round life cycle of {RoundLedger}: open from the lineage head with an approved app, register,
/// finalize with the members that submitted and were not excluded before the round. Registration's
/// signature checks are in RoundLedgerRegistration.t.sol, lineages and apps in RoundLedgerLineage.t.sol.
contract RoundLedgerTest is ConsortiumFixture {
    bytes32 private constant UPDATE = keccak256("update");
    uint64 private constant EXAMPLES = 1_234;

    function setUp() public override {
        super.setUp();
        _enrolHospitals();
    }

    // ---------------------------------------------------------------- domain

    function test_Digest_IsEip712OverTheModelUpdate() public view {
        bytes32 typeHash = keccak256(
            "ModelUpdate(uint256 round,bytes32 globalModelHash,bytes32 updateHash,uint64 numExamples,"
            "uint64 epsilonSpent,uint64 deltaSpent)"
        );
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
        bytes32 structHash = keccak256(abi.encode(typeHash, 7, GENESIS, UPDATE, EXAMPLES, NOT_PRIVATE, 0));
        bytes32 expected = keccak256(abi.encodePacked("\x19\x01", domainSeparator, structHash));
        assertEq(_digest(ledger, 7, GENESIS, UPDATE, EXAMPLES), expected);
        (, string memory name, string memory version, uint256 chainId, address verifying,,) = ledger.eip712Domain();
        assertEq(name, "BCFL RoundLedger");
        assertEq(version, "1");
        assertEq(chainId, block.chainid);
        assertEq(verifying, address(ledger));
        assertEq(address(ledger.registry()), address(registry));
        assertEq(address(ledger.exclusionOracle()), address(reputation));
    }

    function test_Constructor_RevertsOnZeroAddresses() public {
        vm.expectRevert(ConsortiumAccess.ConsortiumAccessZeroAddress.selector);
        new RoundLedger(ConsortiumRegistry(address(0)), IExclusionOracle(address(reputation)), _noBudget());
        vm.expectRevert(ConsortiumAccess.ConsortiumAccessZeroAddress.selector);
        new RoundLedger(registry, IExclusionOracle(address(0)), _noBudget());
    }

    // ---------------------------------------------------------------- life cycle

    function test_LifeCycle_OpenRegisterFinalize() public {
        vm.roll(100);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.RoundOpened(1, GENESIS, CONFIG, APP, 0, 1);
        vm.prank(COORDINATOR);
        uint256 round = ledger.openRound(GENESIS, CONFIG, APP);
        assertEq(round, 1);
        assertEq(ledger.roundCount(), 1);
        RoundLedger.Round memory r = ledger.getRound(1);
        assertEq(r.globalModelHash, GENESIS);
        assertEq(r.configHash, CONFIG);
        assertEq(r.aggregatedModelHash, bytes32(0));
        assertEq(uint8(r.status), uint8(RoundLedger.RoundStatus.Open));
        assertEq(r.openedAtBlock, 100);
        assertEq(r.finalizedAtBlock, 0);
        assertEq(r.updateCount, 0);
        assertEq(r.participantCount, 0);
        assertEq(r.parentRound, 0, "the first round of a lineage has no parent");
        assertEq(r.lineage, 1);

        RoundLedger.SignedUpdate memory ua = _sign(ledger, KEY_A, 1, GENESIS, UPDATE, EXAMPLES);
        RoundLedger.SignedUpdate memory ub = _sign(ledger, KEY_B, 1, GENESIS, keccak256("update b"), 99);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.UpdateRegistered(1, 1, UPDATE, EXAMPLES, NOT_PRIVATE, 0, NOT_PRIVATE);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.UpdateRegistered(1, 2, keccak256("update b"), 99, NOT_PRIVATE, 0, NOT_PRIVATE);
        _register(1, _two(ua, ub));
        // A later batch in the same round adds to the count.
        RoundLedger.SignedUpdate memory uc = _sign(ledger, KEY_C, 1, GENESIS, keccak256("update c"), 5);
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
        assertEq(r.participantCount, 2);
        assertEq(r.finalizedAtBlock, 105);
        assertEq(r.openedAtBlock, 100);
        assertTrue(ledger.isParticipant(1, 1));
        assertFalse(ledger.isParticipant(1, 2)); // submitted, left out of the aggregate
        assertTrue(ledger.isParticipant(1, 3));

        // The aggregate is the lineage's head, and the next round starts from it.
        (bytes32 head, uint256 headRound, uint256 lineage) = ledger.lineageHead();
        assertEq(head, aggregate);
        assertEq(headRound, 1);
        assertEq(lineage, 1);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.RoundOpened(2, aggregate, CONFIG, APP, 1, 1);
        vm.prank(COORDINATOR);
        assertEq(ledger.openRound(aggregate, CONFIG, APP), 2);
        assertEq(ledger.roundCount(), 2);
        assertEq(ledger.getRound(2).parentRound, 1);
        assertEq(ledger.getRound(2).lineage, 1);
    }

    function test_FinalizeRound_WithNoParticipants() public {
        uint256 round = _openRound();
        _finalize(round, _ids());
        assertEq(uint8(ledger.getRound(round).status), uint8(RoundLedger.RoundStatus.Finalized));
        assertEq(ledger.getRound(round).participantCount, 0);
    }

    // ---------------------------------------------------------------- open

    function test_OpenRound_Reverts() public {
        bytes32 other = keccak256("some other model");
        vm.startPrank(COORDINATOR);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerNotOnLineage.selector, bytes32(0), GENESIS));
        ledger.openRound(bytes32(0), CONFIG, APP);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerNotOnLineage.selector, other, GENESIS));
        ledger.openRound(other, CONFIG, APP);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerAppNotApproved.selector, other));
        ledger.openRound(GENESIS, CONFIG, other);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerAppNotApproved.selector, bytes32(0)));
        ledger.openRound(GENESIS, CONFIG, bytes32(0));
        assertEq(ledger.roundCount(), 0);
        ledger.openRound(GENESIS, CONFIG, APP);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerRoundStillOpen.selector, 1));
        ledger.openRound(GENESIS, CONFIG, APP);
        vm.stopPrank();
    }

    function test_OnlyCoordinatorOpensAndFinalizes() public {
        bytes memory denied = abi.encodeWithSelector(
            ConsortiumAccess.ConsortiumAccessUnauthorized.selector, ADMIN, CONSORTIUM_COORDINATOR_ROLE
        );
        vm.expectRevert(denied);
        vm.prank(ADMIN);
        ledger.openRound(GENESIS, CONFIG, APP);

        uint256 round = _openRound();
        _register(round, _one(_signed(KEY_A, round)));
        vm.expectRevert(denied);
        vm.prank(ADMIN);
        ledger.finalizeRound(round, GENESIS, bytes32(0), _ids(1), _amounts(1));
        // A hospital cannot finalize either.
        address hospital = vm.addr(KEY_A);
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumAccess.ConsortiumAccessUnauthorized.selector, hospital, CONSORTIUM_COORDINATOR_ROLE
            )
        );
        vm.prank(hospital);
        ledger.finalizeRound(round, GENESIS, bytes32(0), _ids(1), _amounts(1));

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
        ledger.finalizeRound(round, GENESIS, bytes32(0), _ids(1), _amounts(1));
    }

    // ---------------------------------------------------------------- finalize

    function test_FinalizeRound_Reverts() public {
        vm.startPrank(COORDINATOR);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerRoundNotOpen.selector, 1));
        ledger.finalizeRound(1, GENESIS, bytes32(0), _ids(), new uint256[](0));
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

    // ---------------------------------------------------------------- exclusion at finalize

    /// @dev Full smoothing makes a member's reputation its latest score. B is scored 0 in round 1: that
    /// round's exclusion is decided on its reputation before the round (5,000), so it stays a participant of
    /// round 1; in round 2 its reputation before the round is 0 and finalization refuses it, whatever round
    /// 2's own score; round 3 takes it back after a good round-2 score.
    function test_FinalizeRound_RefusesMemberExcludedBeforeTheRound() public {
        vm.prank(ADMIN);
        reputation.setParameters(INITIAL_REPUTATION, 10_000, EXCLUSION_THRESHOLD);
        uint256 round = _openRound();
        _submit(round, _keys(KEY_A, KEY_B));
        vm.prank(COORDINATOR);
        reputation.recordScores(round, _ids(1, 2), _scores(8_000, 0));
        assertTrue(reputation.isExcluded(2), "excluded from now on");
        assertFalse(reputation.isExcludedBefore(round, 2), "not in the round that dropped it");
        _finalize(round, _ids(1, 2));
        assertTrue(ledger.isParticipant(round, 2));

        round = _openRound();
        _submit(round, _keys(KEY_A, KEY_B));
        // Its update is registered and scored (its way back), but it cannot be a participant.
        vm.prank(COORDINATOR);
        reputation.recordScores(round, _ids(2), _scores(9_000));
        assertFalse(reputation.isExcluded(2));
        assertTrue(reputation.isExcludedBefore(round, 2));
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerParticipantExcluded.selector, round, 2));
        _finalize(round, _ids(1, 2));
        _finalize(round, _ids(1));
        assertFalse(ledger.isParticipant(round, 2));

        round = _openRound();
        _submit(round, _keys(KEY_B));
        assertFalse(reputation.isExcludedBefore(round, 2));
        _finalize(round, _ids(2));
        assertTrue(ledger.isParticipant(round, 2));
    }

    /// @dev A member never scored is never excluded; a member scored in an earlier round is judged on the
    /// reputation it has now (its reputation before this round).
    function test_FinalizeRound_ExclusionUsesTheCurrentThreshold() public {
        uint256 round = _completeRound(_keys(KEY_A, KEY_B), _ids(1, 2));
        vm.prank(COORDINATOR);
        reputation.recordScores(round, _ids(1), _scores(10_000)); // 6,500
        round = _openRound();
        _submit(round, _keys(KEY_A, KEY_B));
        // Raising the threshold to 6,501 excludes A (6,500) but not B (never scored, initial reputation).
        vm.prank(ADMIN);
        reputation.setParameters(7_000, SMOOTHING, 6_501);
        vm.expectRevert(abi.encodeWithSelector(RoundLedger.RoundLedgerParticipantExcluded.selector, round, 1));
        _finalize(round, _ids(1, 2));
        _finalize(round, _ids(2));
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
        assertEq(ledger.getRound(round).participantCount, count / 2);
        assertFalse(ledger.isParticipant(round, 255));
        assertTrue(ledger.isParticipant(round, 256));
        assertFalse(ledger.isParticipant(round, 257));
        assertTrue(ledger.isParticipant(round, 258));
        assertTrue(ledger.isParticipant(round, 300));
    }
}
