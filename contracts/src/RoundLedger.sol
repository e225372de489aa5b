// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

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
/// - spend more of a hospital's privacy than the consortium agreed: each update also carries the
///   differential-privacy ε and δ its hospital signed for that round; the ledger keeps each member's
///   cumulative ε per lineage and skips an update that would take it past the consortium's budget
///   ({PrivacyBudgetSpent}, {setPrivacyBudget});
/// - leave the lineage: a round starts from the previous round's aggregated model, or from the start of
///   a new lineage that the admin (or the members' quorum in governance mode) approved, with a reason;
/// - run an app the consortium did not approve, or finalize an excluded member as a participant.
/// Update hashes live in {UpdateRegistered} events; the contract keeps one bit per member and round.
contract RoundLedger is ConsortiumAccess, EIP712 {
    /// @notice EIP-712 type of what a hospital signs for each update.
    bytes32 public constant MODEL_UPDATE_TYPEHASH = keccak256(
        "ModelUpdate(uint256 round,bytes32 globalModelHash,bytes32 updateHash,uint64 numExamples,"
        "uint64 epsilonSpent,uint64 deltaSpent)"
    );
    /// @notice Fixed-point scale of ε: an `epsilonSpent` of 1_000_000 is ε = 1.
    uint64 public constant EPSILON_UNIT = 1e6;
    /// @notice Fixed-point scale of δ: a `deltaSpent` of 1e18 is δ = 1.
    uint64 public constant DELTA_UNIT = 1e18;
    /// @notice The ε of an update trained without differential privacy (no bound), and of a budget that
    /// sets none: cumulative ε saturates at it.
    uint64 public constant NOT_PRIVATE = type(uint64).max;

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

    /// @dev A storage word a registration batch keeps in memory while consecutive entries use it.
    struct CachedWord {
        uint256 index;
        uint256 word;
    }

    /// @dev What a registration batch keeps in memory: the round's lineage and global model, the budget, and the bitmap
    /// word and ε word in use.
    struct Batch {
        uint256 lineage;
        bytes32 globalModelHash;
        PrivacyBudget budget;
        CachedWord bits;
        CachedWord epsilons;
    }

    /// @notice Why {registerUpdates} skipped an entry.
    enum SkipReason {
        EmptyValue,
        UnauthorizedSigner,
        DuplicateUpdate,
        PrivacyBudgetExceeded
    }

    /// @notice The privacy each member may spend per lineage, in {EPSILON_UNIT} and {DELTA_UNIT}:
    /// cumulative ε at most `epsilon` (NOT_PRIVATE: no bound), and each round's δ at most `delta`.
    struct PrivacyBudget {
        uint64 epsilon;
        uint64 delta;
    }

    /// @notice One hospital's update as the coordinator submits it.
    /// @param updateHash Hash of the serialized model update.
    /// @param numExamples Training examples behind the update, as the hospital signed it.
    /// @param epsilonSpent The ε the hospital's privacy accountant spent on this update, in {EPSILON_UNIT}
    /// ({NOT_PRIVATE} for training without differential privacy).
    /// @param deltaSpent The δ that ε holds at, in {DELTA_UNIT}.
    /// @param r Signature `r`.
    /// @param vs Compact signature `s` with `v` in the top bit (ERC-2098).
    struct SignedUpdate {
        bytes32 updateHash;
        uint64 numExamples;
        uint64 epsilonSpent;
        uint64 deltaSpent;
        bytes32 r;
        bytes32 vs;
    }

    /// @dev A {CachedWord} index that holds no word.
    uint256 private constant _NO_WORD = type(uint256).max;
    /// @dev What {_admit} returns for an update it registers (any other value is a {SkipReason}).
    uint256 private constant _REGISTERED = type(uint256).max;

    uint256 private _roundCount;
    IExclusionOracle private immutable _exclusion;
    bytes32 private _head;
    uint64 private _lineageCount;
    uint64 private _headRound;
    PrivacyBudget private _privacyBudget;
    mapping(bytes32 appHash => bool) private _approvedApps;
    /// @dev Cumulative ε per lineage and member, four members (64 bits each) a word.
    mapping(uint256 lineage => mapping(uint256 word => uint256 lanes)) private _epsilonSpent;
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
    /// @notice A hospital's signed update was registered. The signer is the member's key at this block
    /// (the registry's `MemberActivated` and `SignerRotated` events), and the signature is in the
    /// transaction's input, for anyone to recover again. The update spent `epsilonSpent` at `deltaSpent`,
    /// and the member's cumulative ε in the round's lineage is now `epsilonTotal` ({EPSILON_UNIT},
    /// {DELTA_UNIT}).
    event UpdateRegistered(
        uint256 indexed round,
        uint64 indexed memberId,
        bytes32 updateHash,
        uint64 numExamples,
        uint64 epsilonSpent,
        uint64 deltaSpent,
        uint64 epsilonTotal
    );
    /// @notice Entry `index` of a registration batch did not verify and was left out.
    event UpdateSkipped(uint256 indexed round, uint256 index, address signer, bytes32 updateHash, SkipReason reason);
    /// @notice The consortium set the privacy budget each member may spend per lineage.
    event PrivacyBudgetChanged(uint64 epsilon, uint64 delta, address indexed changedBy);
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
    /// @param privacyBudget_ Each member's privacy budget per lineage ({PrivacyBudget}).
    constructor(ConsortiumRegistry registry_, IExclusionOracle exclusion_, PrivacyBudget memory privacyBudget_)
        ConsortiumAccess(registry_)
        EIP712("BCFL RoundLedger", "1")
    {
        _requireNonZero(address(exclusion_));
        _exclusion = exclusion_;
        _privacyBudget = privacyBudget_;
        emit PrivacyBudgetChanged(privacyBudget_.epsilon, privacyBudget_.delta, msg.sender);
    }

    /// @notice Set the privacy budget each member may spend per lineage, from the next registration on;
    /// ε already spent stays counted. Needs the admin, or the members' approval of {privacyBudgetDecision}.
    function setPrivacyBudget(PrivacyBudget calldata budget) external {
        _authorizeDecision("privacy-budget", abi.encode(budget.epsilon, budget.delta));
        _privacyBudget = budget;
        emit PrivacyBudgetChanged(budget.epsilon, budget.delta, msg.sender);
    }

    /// @notice Start a new lineage from `modelHash`: the next round must open from it. Needs the admin,
    /// or, in governance mode, the members' approval of {lineageDecision}; no round may be open.
    function startLineage(bytes32 modelHash, string calldata reason) external {
        _authorizeDecision("lineage", abi.encode(modelHash, reason));
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
        _authorizeDecision("app", abi.encode(appHash, true));
        _approvedApps[appHash] = true;
        emit AppApproved(appHash, msg.sender);
    }

    /// @notice Withdraw the approval of `appHash` (admin, or the members' {appDecision} in governance mode).
    function revokeApp(bytes32 appHash) external {
        _authorizeDecision("app", abi.encode(appHash, false));
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
    /// key, a member's second update, or one that would take the member's cumulative ε in the lineage past
    /// the budget (or whose δ exceeds it) is skipped with {UpdateSkipped}; the others are registered.
    function registerUpdates(uint256 round, SignedUpdate[] calldata updates) external {
        Round storage r = _openRound(round);
        Batch memory batch = Batch({
            lineage: r.lineage,
            globalModelHash: r.globalModelHash,
            budget: _privacyBudget,
            bits: CachedWord(_NO_WORD, 0),
            epsilons: CachedWord(_NO_WORD, 0)
        });
        uint256 registered = 0;
        for (uint256 i = 0; i < updates.length; ++i) {
            SignedUpdate calldata u = updates[i];
            (address signer, uint64 memberId, uint64 total, uint256 outcome) = _admit(batch, round, u);
            if (outcome != _REGISTERED) {
                emit UpdateSkipped(round, i, signer, u.updateHash, SkipReason(outcome));
                continue;
            }
            ++registered;
            emit UpdateRegistered(round, memberId, u.updateHash, u.numExamples, u.epsilonSpent, u.deltaSpent, total);
        }
        _use(batch.bits, _submitted[round], _NO_WORD);
        _use(batch.epsilons, _epsilonSpent[batch.lineage], _NO_WORD);
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

    /// @notice The privacy budget each member may spend per lineage.
    function privacyBudget() external view returns (PrivacyBudget memory) {
        return _privacyBudget;
    }

    /// @notice Member `memberId`'s cumulative ε in `lineage`, in {EPSILON_UNIT} ({NOT_PRIVATE} once it
    /// registered an update trained without differential privacy).
    function epsilonSpent(uint256 lineage, uint64 memberId) external view returns (uint64) {
        return uint64(_epsilonSpent[lineage][memberId >> 2] >> ((memberId & 3) << 6));
    }

    /// @notice The decision id members approve to let {setPrivacyBudget} set `budget`.
    function privacyBudgetDecision(PrivacyBudget calldata budget) external view returns (bytes32) {
        return _decisionId("privacy-budget", abi.encode(budget.epsilon, budget.delta));
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

    /// @notice The EIP-712 digest a hospital signs for `u` (its signature fields are ignored) in `round`
    /// from `globalModelHash` (for off-chain tools).
    function updateDigest(uint256 round, bytes32 globalModelHash, SignedUpdate calldata u)
        external
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    MODEL_UPDATE_TYPEHASH,
                    round,
                    globalModelHash,
                    u.updateHash,
                    u.numExamples,
                    u.epsilonSpent,
                    u.deltaSpent
                )
            )
        );
    }

    /// @dev Signer of `u`, or zero when the signature is malformed: the EIP-712 digest and the ecrecover
    /// call built in scratch memory; a high `s` (the malleable twin of a signature) recovers no one.
    function _recoverSigner(uint256 round, bytes32 globalModelHash, SignedUpdate calldata u)
        private
        view
        returns (address signer)
    {
        bytes32 domain = _domainSeparatorV4();
        bytes32 typeHash = MODEL_UPDATE_TYPEHASH;
        bytes32 updateHash = u.updateHash;
        uint64 numExamples = u.numExamples;
        uint64 epsilon = u.epsilonSpent;
        uint64 delta = u.deltaSpent;
        bytes32 r = u.r;
        bytes32 vs = u.vs;
        bytes32 s = vs & bytes32(0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff);
        if (uint256(s) > 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0) return address(0);
        uint256 v = (uint256(vs) >> 255) + 27;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, typeHash)
            mstore(add(ptr, 0x20), round)
            mstore(add(ptr, 0x40), globalModelHash)
            mstore(add(ptr, 0x60), updateHash)
            mstore(add(ptr, 0x80), numExamples)
            mstore(add(ptr, 0xa0), epsilon)
            mstore(add(ptr, 0xc0), delta)
            let structHash := keccak256(ptr, 0xe0)
            mstore(ptr, hex"1901")
            mstore(add(ptr, 0x02), domain)
            mstore(add(ptr, 0x22), structHash)
            let digest := keccak256(ptr, 0x42)
            mstore(ptr, digest)
            mstore(add(ptr, 0x20), v)
            mstore(add(ptr, 0x40), r)
            mstore(add(ptr, 0x60), s)
            mstore(0x00, 0)
            pop(staticcall(gas(), 1, ptr, 0x80, 0x00, 0x20))
            signer := mload(0x00)
        }
    }

    /// @dev `ConsortiumRegistry.activeMemberIdOf(signer)` as a bare static call (the hot path of a batch):
    /// 0 for a key that is not an active member's current signer.
    function _activeMemberIdOf(address members, address signer) private view returns (uint64 memberId) {
        bytes4 selector = ConsortiumRegistry.activeMemberIdOf.selector;
        assembly ("memory-safe") {
            mstore(0x00, selector)
            mstore(0x04, signer)
            if iszero(staticcall(gas(), members, 0x00, 0x24, 0x00, 0x20)) { revert(0, 0) }
            memberId := and(mload(0x00), 0xffffffffffffffff)
        }
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

    /// @dev `total + epsilon`, saturating at {NOT_PRIVATE}.
    function _addEpsilon(uint64 total, uint64 epsilon) private pure returns (uint64) {
        unchecked {
            uint64 sum = total + epsilon;
            return sum < total ? NOT_PRIVATE : sum;
        }
    }

    /// @dev Whether `u` is registered in `round` ({_REGISTERED}) or why not (a {SkipReason}); its signer,
    /// member and the member's cumulative ε with it. Marks a registered update in the batch's cached words.
    function _admit(Batch memory batch, uint256 round, SignedUpdate calldata u)
        private
        returns (address signer, uint64 memberId, uint64 total, uint256 outcome)
    {
        if (u.updateHash == bytes32(0) || u.numExamples == 0) {
            return (address(0), 0, 0, uint256(SkipReason.EmptyValue));
        }
        signer = _recoverSigner(round, batch.globalModelHash, u);
        memberId = _activeMemberIdOf(address(registry()), signer);
        if (memberId == 0) return (signer, 0, 0, uint256(SkipReason.UnauthorizedSigner));
        (uint256 index, uint256 mask) = _bitOf(memberId);
        _use(batch.bits, _submitted[round], index);
        if (batch.bits.word & mask != 0) return (signer, memberId, 0, uint256(SkipReason.DuplicateUpdate));
        _use(batch.epsilons, _epsilonSpent[batch.lineage], memberId >> 2);
        uint256 shift = (memberId & 3) << 6;
        total = _addEpsilon(uint64(batch.epsilons.word >> shift), u.epsilonSpent);
        if (total > batch.budget.epsilon || u.deltaSpent > batch.budget.delta) {
            return (signer, memberId, total, uint256(SkipReason.PrivacyBudgetExceeded));
        }
        batch.epsilons.word = (batch.epsilons.word & ~(uint256(type(uint64).max) << shift)) | (uint256(total) << shift);
        batch.bits.word |= mask;
        outcome = _REGISTERED;
    }

    /// @dev Make `cached` hold word `index` of `words`, first writing back the word it held (none when its
    /// index is {_NO_WORD}); `index` {_NO_WORD} only writes back.
    function _use(CachedWord memory cached, mapping(uint256 => uint256) storage words, uint256 index) private {
        if (cached.index == index) return;
        if (cached.index != _NO_WORD) words[cached.index] = cached.word;
        cached.index = index;
        if (index != _NO_WORD) cached.word = words[index];
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
