// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ConsortiumAccess} from "./ConsortiumAccess.sol";
import {ConsortiumRegistry} from "./ConsortiumRegistry.sol";

/// @title RoundLedger
/// @notice The public record of every federated round: the global model it starts from, the hash of
/// every hospital's model update with the hospital's own EIP-712 signature checked on chain, and the
/// aggregated model, participants and weights it ends with.
/// @dev The coordinator cannot forge or alter a hospital's record: each update is accepted only with a
/// signature by an active member's key over (round, global model, update hash, example count), under a
/// domain bound to this chain and this contract. Update hashes live in {UpdateRegistered} events; the
/// contract keeps one bit per member and round, which makes batches cheap.
contract RoundLedger is ConsortiumAccess, EIP712 {
    /// @notice EIP-712 type of what a hospital signs for each update.
    bytes32 public constant MODEL_UPDATE_TYPEHASH =
        keccak256("ModelUpdate(uint256 round,bytes32 globalModelHash,bytes32 updateHash,uint64 numExamples)");

    /// @notice Life cycle of a round.
    enum RoundStatus {
        None,
        Open,
        Finalized
    }

    /// @notice A round as the ledger stores it.
    /// @param globalModelHash Hash of the global model the hospitals train from.
    /// @param configHash Hash of the round's run configuration.
    /// @param aggregatedModelHash Hash of the model aggregated at the end of the round.
    /// @param metricsHash Hash of the round's evaluation metrics record.
    /// @param participantsHash keccak256(abi.encode(participants, weights)) as finalized.
    /// @param status Round status.
    /// @param updateCount Number of updates registered.
    /// @param openedAtBlock Block in which the round was opened.
    /// @param finalizedAtBlock Block in which the round was finalized (0 while open).
    struct Round {
        bytes32 globalModelHash;
        bytes32 configHash;
        bytes32 aggregatedModelHash;
        bytes32 metricsHash;
        bytes32 participantsHash;
        RoundStatus status;
        uint32 updateCount;
        uint64 openedAtBlock;
        uint64 finalizedAtBlock;
    }

    /// @notice One hospital's update as the coordinator submits it.
    /// @param updateHash Hash of the serialized model update.
    /// @param numExamples Training examples behind the update, as the hospital signed it.
    /// @param r Signature `r`.
    /// @param vs Compact signature `s` with `v` in the top bit (ERC-2098).
    struct SignedUpdate {
        bytes32 updateHash;
        uint64 numExamples;
        bytes32 r;
        bytes32 vs;
    }

    uint256 private _roundCount;
    mapping(uint256 round => Round) private _rounds;
    mapping(uint256 round => mapping(uint256 word => uint256 bits)) private _submitted;
    mapping(uint256 round => mapping(uint256 word => uint256 bits)) private _participants;

    /// @notice The previous round is still open.
    error RoundLedgerRoundStillOpen(uint256 round);
    /// @notice The round is not open.
    error RoundLedgerRoundNotOpen(uint256 round);
    /// @notice A model or update hash is zero, or an update claims no examples.
    error RoundLedgerEmptyValue(uint256 index);
    /// @notice The signature at `index` does not recover to an active member's key.
    error RoundLedgerUnauthorizedSigner(uint256 index, address signer);
    /// @notice The member already has an update in this round.
    error RoundLedgerDuplicateUpdate(uint256 round, uint64 memberId);
    /// @notice Participants and weights differ in length.
    error RoundLedgerLengthMismatch(uint256 participants, uint256 weights);
    /// @notice Participants must be strictly ascending member ids.
    error RoundLedgerParticipantsNotSorted(uint256 index);
    /// @notice A participant has no registered update in this round.
    error RoundLedgerNotSubmitted(uint256 round, uint64 memberId);

    /// @notice The coordinator opened a round.
    event RoundOpened(uint256 indexed round, bytes32 indexed globalModelHash, bytes32 configHash);
    /// @notice A hospital's signed update was registered.
    event UpdateRegistered(
        uint256 indexed round, uint64 indexed memberId, address indexed signer, bytes32 updateHash, uint64 numExamples
    );
    /// @notice The coordinator closed a round with its aggregated model.
    event RoundFinalized(
        uint256 indexed round,
        bytes32 indexed aggregatedModelHash,
        bytes32 metricsHash,
        uint64[] participants,
        uint256[] weights
    );

    constructor(ConsortiumRegistry registry_) ConsortiumAccess(registry_) EIP712("BCFL RoundLedger", "1") {}

    /// @notice Open the next round from `globalModelHash`; the previous round must be finalized.
    /// @return round The new round's number (rounds start at 1).
    function openRound(bytes32 globalModelHash, bytes32 configHash)
        external
        onlyCoordinator
        returns (uint256 round)
    {
        uint256 previous = _roundCount;
        if (previous != 0 && _rounds[previous].status == RoundStatus.Open) revert RoundLedgerRoundStillOpen(previous);
        if (globalModelHash == bytes32(0)) revert RoundLedgerEmptyValue(0);
        round = previous + 1;
        _roundCount = round;
        Round storage r = _rounds[round];
        r.globalModelHash = globalModelHash;
        r.configHash = configHash;
        r.status = RoundStatus.Open;
        r.openedAtBlock = uint64(block.number);
        emit RoundOpened(round, globalModelHash, configHash);
    }

    /// @notice Register hospitals' signed updates for an open round, any number in one transaction.
    /// @dev Reverts as a whole on the first bad entry; the coordinator checks signatures off chain first.
    function registerUpdates(uint256 round, SignedUpdate[] calldata updates)
        external
        onlyCoordinator
    {
        Round storage r = _openRound(round);
        bytes32 globalModelHash = r.globalModelHash;
        ConsortiumRegistry members = registry();
        mapping(uint256 => uint256) storage submitted = _submitted[round];
        for (uint256 i = 0; i < updates.length; ++i) {
            SignedUpdate calldata u = updates[i];
            if (u.updateHash == bytes32(0) || u.numExamples == 0) revert RoundLedgerEmptyValue(i);
            address signer = _recoverSigner(round, globalModelHash, u);
            uint64 memberId = members.activeMemberIdOf(signer);
            if (memberId == 0) revert RoundLedgerUnauthorizedSigner(i, signer);
            (uint256 index, uint256 mask) = _bitOf(memberId);
            uint256 word = submitted[index];
            if (word & mask != 0) revert RoundLedgerDuplicateUpdate(round, memberId);
            submitted[index] = word | mask;
            emit UpdateRegistered(round, memberId, signer, u.updateHash, u.numExamples);
        }
        r.updateCount += uint32(updates.length);
    }

    /// @notice Close an open round with its aggregated model, evaluation metrics and the members whose
    /// updates entered the aggregate, with their aggregation weights.
    /// @param participants Strictly ascending member ids, each with a registered update in this round.
    function finalizeRound(
        uint256 round,
        bytes32 aggregatedModelHash,
        bytes32 metricsHash,
        uint64[] calldata participants,
        uint256[] calldata weights
    ) external onlyCoordinator {
        Round storage r = _openRound(round);
        if (aggregatedModelHash == bytes32(0)) revert RoundLedgerEmptyValue(0);
        if (participants.length != weights.length) {
            revert RoundLedgerLengthMismatch(participants.length, weights.length);
        }
        mapping(uint256 => uint256) storage submitted = _submitted[round];
        mapping(uint256 => uint256) storage included = _participants[round];
        uint64 last = 0;
        for (uint256 i = 0; i < participants.length; ++i) {
            uint64 memberId = participants[i];
            if (memberId <= last) revert RoundLedgerParticipantsNotSorted(i);
            last = memberId;
            (uint256 index, uint256 mask) = _bitOf(memberId);
            if (submitted[index] & mask == 0) revert RoundLedgerNotSubmitted(round, memberId);
            included[index] |= mask;
        }
        r.aggregatedModelHash = aggregatedModelHash;
        r.metricsHash = metricsHash;
        r.participantsHash = keccak256(abi.encode(participants, weights));
        r.status = RoundStatus.Finalized;
        r.finalizedAtBlock = uint64(block.number);
        emit RoundFinalized(round, aggregatedModelHash, metricsHash, participants, weights);
    }

    /// @notice Number of rounds opened so far (the latest round's number).
    function roundCount() external view returns (uint256) {
        return _roundCount;
    }

    /// @notice The stored record of `round` (all zero for a round never opened).
    function getRound(uint256 round) external view returns (Round memory) {
        return _rounds[round];
    }

    /// @notice Whether `memberId` has a registered update in `round`.
    function hasSubmitted(uint256 round, uint64 memberId) external view returns (bool) {
        (uint256 index, uint256 mask) = _bitOf(memberId);
        return _submitted[round][index] & mask != 0;
    }

    /// @notice Whether `memberId` was among the finalized participants of `round`.
    function isParticipant(uint256 round, uint64 memberId) external view returns (bool) {
        (uint256 index, uint256 mask) = _bitOf(memberId);
        return _participants[round][index] & mask != 0;
    }

    /// @notice The EIP-712 digest a hospital signs for an update (for off-chain tools).
    function updateDigest(uint256 round, bytes32 globalModelHash, bytes32 updateHash, uint64 numExamples)
        external
        view
        returns (bytes32)
    {
        return _updateDigest(round, globalModelHash, updateHash, numExamples);
    }

    function _updateDigest(uint256 round, bytes32 globalModelHash, bytes32 updateHash, uint64 numExamples)
        private
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(abi.encode(MODEL_UPDATE_TYPEHASH, round, globalModelHash, updateHash, numExamples))
        );
    }

    /// @dev Signer of `u`, or zero when the signature is malformed.
    function _recoverSigner(uint256 round, bytes32 globalModelHash, SignedUpdate calldata u)
        private
        view
        returns (address signer)
    {
        ECDSA.RecoverError err;
        (signer, err,) = ECDSA.tryRecover(_updateDigest(round, globalModelHash, u.updateHash, u.numExamples), u.r, u.vs);
        if (err != ECDSA.RecoverError.NoError) signer = address(0);
    }

    /// @dev Word index and bit mask of a member in a per-round bitmap (256 members a word).
    function _bitOf(uint64 memberId) private pure returns (uint256 index, uint256 mask) {
        index = memberId >> 8;
        mask = uint256(1) << (memberId & 0xff);
    }

    function _openRound(uint256 round) private view returns (Round storage r) {
        r = _rounds[round];
        if (r.status != RoundStatus.Open) revert RoundLedgerRoundNotOpen(round);
    }
}
