// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ConsortiumAccess} from "./ConsortiumAccess.sol";
import {ConsortiumRegistry} from "./ConsortiumRegistry.sol";
import {IExclusionOracle} from "./IExclusionOracle.sol";

/// @title RoundLedger
/// @notice The public record of every federated round: the global model it starts from, the hash of
/// every hospital's model update with the hospital's own EIP-712 signature checked on chain, and the
/// aggregated model, participants and weights it ends with.
/// @dev What the coordinator cannot do, whatever key it holds:
/// - forge or alter a hospital's record: each update is accepted only with a signature by an active
///   member's key over (round, global model, update hash, example count), under a domain bound to this
///   chain and this contract. Anyone may register a signed update (a hospital left out registers its
///   own); an entry that does not verify is skipped with {UpdateSkipped}, never aborting the batch;
/// - leave the lineage: a round starts from the previous round's aggregated model, or from the start of
///   a new lineage that the admin (or the members' quorum in governance mode) approved, with a reason;
/// - run an app the consortium did not approve, or finalize an excluded member as a participant.
/// Update hashes live in {UpdateRegistered} events; the contract keeps one bit per member and round.
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
    /// @param configHash Hash of the round's config document (aggregation rule and parameters, learning
    /// settings, app hash); the metrics hash and the participants are in {RoundFinalized}.
    /// @param aggregatedModelHash Hash of the model aggregated at the end of the round.
    /// @param status Round status.
    /// @param updateCount Number of updates registered.
    /// @param participantCount Number of members finalized as participants.
    /// @param openedAtBlock Block in which the round was opened.
    /// @param finalizedAtBlock Block in which the round was finalized (0 while open).
    /// @param parentRound The round whose aggregate this round starts from (0 at a lineage start).
    /// @param lineage The lineage the round belongs to (lineages start at 1).
    struct Round {
        bytes32 globalModelHash;
        bytes32 configHash;
        bytes32 aggregatedModelHash;
        RoundStatus status;
        uint32 updateCount;
        uint32 participantCount;
        uint64 openedAtBlock;
        uint64 finalizedAtBlock;
        uint64 parentRound;
        uint64 lineage;
    }

    /// @notice Why {registerUpdates} skipped an entry.
    enum SkipReason {
        EmptyValue,
        UnauthorizedSigner,
        DuplicateUpdate
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
    IExclusionOracle private immutable _exclusion;
    bytes32 private _head;
    uint64 private _lineageCount;
    uint64 private _headRound;
    mapping(bytes32 appHash => bool) private _approvedApps;
    mapping(uint256 round => Round) private _rounds;
    mapping(uint256 round => mapping(uint256 word => uint256 bits)) private _submitted;
    mapping(uint256 round => mapping(uint256 word => uint256 bits)) private _participants;

    /// @notice The previous round is still open.
    error RoundLedgerRoundStillOpen(uint256 round);
    /// @notice The round is not open.
    error RoundLedgerRoundNotOpen(uint256 round);
    /// @notice A model hash is zero.
    error RoundLedgerEmptyValue(uint256 index);
    /// @notice The round's global model is not the head of the approved lineage.
    error RoundLedgerNotOnLineage(bytes32 globalModelHash, bytes32 head);
    /// @notice The app hash is not approved by the consortium.
    error RoundLedgerAppNotApproved(bytes32 appHash);
    /// @notice A participant's reputation before the round was below the exclusion threshold.
    error RoundLedgerParticipantExcluded(uint256 round, uint64 memberId);
    /// @notice Participants and weights differ in length.
    error RoundLedgerLengthMismatch(uint256 participants, uint256 weights);
    /// @notice Participants must be strictly ascending member ids.
    error RoundLedgerParticipantsNotSorted(uint256 index);
    /// @notice A participant has no registered update in this round.
    error RoundLedgerNotSubmitted(uint256 round, uint64 memberId);

    /// @notice The coordinator opened a round from the head of lineage `lineage`.
    event RoundOpened(
        uint256 indexed round,
        bytes32 indexed globalModelHash,
        bytes32 configHash,
        bytes32 appHash,
        uint256 parentRound,
        uint256 lineage
    );
    /// @notice A new lineage starts from `modelHash` (a fresh model, or a rollback to an earlier one).
    event LineageStarted(uint256 indexed lineage, bytes32 indexed modelHash, address indexed startedBy, string reason);
    /// @notice The consortium approved an app (the sha256 of its Flower App bundle).
    event AppApproved(bytes32 indexed appHash, address indexed approvedBy);
    /// @notice The consortium withdrew its approval of an app.
    event AppRevoked(bytes32 indexed appHash, address indexed revokedBy);
    /// @notice A hospital's signed update was registered.
    event UpdateRegistered(
        uint256 indexed round, uint64 indexed memberId, address signer, bytes32 updateHash, uint64 numExamples
    );
    /// @notice Entry `index` of a registration batch did not verify and was left out.
    event UpdateSkipped(
        uint256 indexed round, uint256 index, address signer, bytes32 updateHash, SkipReason reason
    );
    /// @notice The coordinator closed a round with its aggregated model.
    event RoundFinalized(
        uint256 indexed round,
        bytes32 indexed aggregatedModelHash,
        bytes32 metricsHash,
        uint64[] participants,
        uint256[] weights
    );

    /// @param exclusion_ The reputation ledger whose exclusions {finalizeRound} enforces (deployed after this
    /// contract, at an address known in advance).
    constructor(ConsortiumRegistry registry_, IExclusionOracle exclusion_)
        ConsortiumAccess(registry_)
        EIP712("BCFL RoundLedger", "1")
    {
        _requireNonZero(address(exclusion_));
        _exclusion = exclusion_;
    }

    /// @notice Start a new lineage from `modelHash`: the next round must open from it. Needs the admin,
    /// or, in governance mode, the members' approval of {lineageDecision}; no round may be open.
    function startLineage(bytes32 modelHash, string calldata reason) external {
        _authorizeDecision(lineageDecision(modelHash, reason));
        uint256 latest = _roundCount;
        if (latest != 0 && _rounds[latest].status == RoundStatus.Open) revert RoundLedgerRoundStillOpen(latest);
        if (modelHash == bytes32(0)) revert RoundLedgerEmptyValue(0);
        uint64 lineage = ++_lineageCount;
        _head = modelHash;
        _headRound = 0;
        emit LineageStarted(lineage, modelHash, msg.sender, reason);
    }

    /// @notice Approve the Flower App whose bundle hashes to `appHash`, for rounds opened from now on.
    /// Needs the admin, or the members' approval of {appDecision} in governance mode.
    function approveApp(bytes32 appHash) external {
        _authorizeDecision(appDecision(appHash, true));
        _approvedApps[appHash] = true;
        emit AppApproved(appHash, msg.sender);
    }

    /// @notice Withdraw the approval of `appHash` (admin, or the members' {appDecision} in governance mode).
    function revokeApp(bytes32 appHash) external {
        _authorizeDecision(appDecision(appHash, false));
        delete _approvedApps[appHash];
        emit AppRevoked(appHash, msg.sender);
    }

    /// @notice Open the next round from the lineage's head model, running approved app `appHash`; the
    /// previous round must be finalized.
    /// @return round The new round's number (rounds start at 1).
    function openRound(bytes32 globalModelHash, bytes32 configHash, bytes32 appHash)
        external
        onlyCoordinator
        returns (uint256 round)
    {
        uint256 previous = _roundCount;
        if (previous != 0 && _rounds[previous].status == RoundStatus.Open) revert RoundLedgerRoundStillOpen(previous);
        if (globalModelHash == bytes32(0) || globalModelHash != _head) {
            revert RoundLedgerNotOnLineage(globalModelHash, _head);
        }
        if (!_approvedApps[appHash]) revert RoundLedgerAppNotApproved(appHash);
        round = previous + 1;
        _roundCount = round;
        Round storage r = _rounds[round];
        r.globalModelHash = globalModelHash;
        r.configHash = configHash;
        r.status = RoundStatus.Open;
        r.openedAtBlock = uint64(block.number);
        r.parentRound = _headRound;
        r.lineage = _lineageCount;
        emit RoundOpened(round, globalModelHash, configHash, appHash, _headRound, _lineageCount);
    }

    /// @notice Register hospitals' signed updates for an open round, any number in one transaction.
    /// Anyone may call it: the hospitals' signatures are the authority, so a hospital whose update the
    /// coordinator left out registers it itself while the round is open.
    /// @dev An entry with an empty value, a signature that does not recover to an active member's current
    /// key, or a member's second update is skipped with {UpdateSkipped}; the others are registered.
    function registerUpdates(uint256 round, SignedUpdate[] calldata updates) external {
        Round storage r = _openRound(round);
        bytes32 globalModelHash = r.globalModelHash;
        ConsortiumRegistry members = registry();
        mapping(uint256 => uint256) storage submitted = _submitted[round];
        uint256 registered = 0;
        for (uint256 i = 0; i < updates.length; ++i) {
            SignedUpdate calldata u = updates[i];
            if (u.updateHash == bytes32(0) || u.numExamples == 0) {
                emit UpdateSkipped(round, i, address(0), u.updateHash, SkipReason.EmptyValue);
                continue;
            }
            address signer = _recoverSigner(round, globalModelHash, u);
            uint64 memberId = members.activeMemberIdOf(signer);
            if (memberId == 0) {
                emit UpdateSkipped(round, i, signer, u.updateHash, SkipReason.UnauthorizedSigner);
                continue;
            }
            (uint256 index, uint256 mask) = _bitOf(memberId);
            uint256 word = submitted[index];
            if (word & mask != 0) {
                emit UpdateSkipped(round, i, signer, u.updateHash, SkipReason.DuplicateUpdate);
                continue;
            }
            submitted[index] = word | mask;
            ++registered;
            emit UpdateRegistered(round, memberId, signer, u.updateHash, u.numExamples);
        }
        r.updateCount += uint32(registered);
    }

    /// @notice Close an open round with its aggregated model, evaluation metrics and the members whose
    /// updates the aggregation rule considered, with the weights it gave them (see the round's config
    /// document); the aggregate becomes the lineage's head.
    /// @param participants Strictly ascending member ids, each with a registered update in this round and
    /// a reputation before the round at or above the exclusion threshold.
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
        _recordParticipants(round, participants);
        r.aggregatedModelHash = aggregatedModelHash;
        r.participantCount = uint32(participants.length);
        r.status = RoundStatus.Finalized;
        r.finalizedAtBlock = uint64(block.number);
        _head = aggregatedModelHash;
        _headRound = uint64(round);
        emit RoundFinalized(round, aggregatedModelHash, metricsHash, participants, weights);
    }

    /// @notice Number of rounds opened so far (the latest round's number).
    function roundCount() external view returns (uint256) {
        return _roundCount;
    }

    /// @notice The model the next round must open from, the round that produced it (0 at a lineage start)
    /// and the current lineage (0 before the first).
    function lineageHead() external view returns (bytes32 modelHash, uint256 round, uint256 lineage) {
        return (_head, _headRound, _lineageCount);
    }

    /// @notice Whether the consortium approved the app whose bundle hashes to `appHash`.
    function isAppApproved(bytes32 appHash) external view returns (bool) {
        return _approvedApps[appHash];
    }

    /// @notice The reputation ledger whose exclusions finalization enforces.
    function exclusionOracle() external view returns (IExclusionOracle) {
        return _exclusion;
    }

    /// @notice The decision id members approve to let {startLineage} start a lineage from `modelHash`.
    function lineageDecision(bytes32 modelHash, string calldata reason) public view returns (bytes32) {
        return _decisionId("lineage", abi.encode(modelHash, reason));
    }

    /// @notice The decision id members approve to let {approveApp} (`approved`) or {revokeApp} act on `appHash`.
    function appDecision(bytes32 appHash, bool approved) public view returns (bytes32) {
        return _decisionId("app", abi.encode(appHash, approved));
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

    /// @dev Mark `participants` (strictly ascending, each submitted and not excluded) in the round's bitmap.
    function _recordParticipants(uint256 round, uint64[] calldata participants) private {
        mapping(uint256 => uint256) storage submitted = _submitted[round];
        mapping(uint256 => uint256) storage included = _participants[round];
        IExclusionOracle exclusion = _exclusion;
        uint64 last = 0;
        for (uint256 i = 0; i < participants.length; ++i) {
            uint64 memberId = participants[i];
            if (memberId <= last) revert RoundLedgerParticipantsNotSorted(i);
            last = memberId;
            (uint256 index, uint256 mask) = _bitOf(memberId);
            if (submitted[index] & mask == 0) revert RoundLedgerNotSubmitted(round, memberId);
            if (exclusion.isExcludedBefore(round, memberId)) revert RoundLedgerParticipantExcluded(round, memberId);
            included[index] |= mask;
        }
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
