// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ConsortiumRegistry} from "../../src/ConsortiumRegistry.sol";
import {IExclusionOracle} from "../../src/IExclusionOracle.sol";
import {ReputationLedger} from "../../src/ReputationLedger.sol";
import {RewardDistributor} from "../../src/RewardDistributor.sol";
import {RewardToken} from "../../src/RewardToken.sol";
import {RoundLedger} from "../../src/RoundLedger.sol";
import {Test} from "./Test.sol";

/// @title ConsortiumFixture
/// @notice Deploys the whole consortium (registry, round ledger, reputation, distributor and the token
/// it creates) wired as in production, and offers helpers to enrol hospitals, sign model updates and
/// drive rounds.
/// @dev Hospitals are secp256k1 keys so their EIP-712 signatures can be made with `vm.sign`; the
/// signatures are submitted in ERC-2098 compact form, as the ledger takes them.
abstract contract ConsortiumFixture is Test {
    address internal constant ADMIN = address(0xAD);
    address internal constant COORDINATOR = address(0xC0);
    address internal constant STRANGER = address(0x5E);

    /// @dev Seconds between the start of an admin transfer and when the new admin may accept it.
    uint48 internal constant ADMIN_DELAY = 2 days;
    uint16 internal constant INITIAL_REPUTATION = 5_000;
    uint16 internal constant SMOOTHING = 3_000;
    uint16 internal constant EXCLUSION_THRESHOLD = 3_000;
    uint256 internal constant ROUND_BUDGET = 1_000 ether;
    /// @dev Minting rule of the fixture's distributor: one participant is enough, and at most ten round
    /// budgets are minted per window of 100 blocks.
    uint64 internal constant MIN_PARTICIPANTS = 1;
    uint64 internal constant MINT_WINDOW_BLOCKS = 100;
    uint256 internal constant MINT_LIMIT = 10 * ROUND_BUDGET;
    string internal constant TOKEN_NAME = "BCFL Reward";
    string internal constant TOKEN_SYMBOL = "BCFLR";

    /// @dev The model the fixture's first lineage starts from, and the app (Flower App bundle hash) the
    /// fixture approves and opens every round with.
    bytes32 internal constant GENESIS = keccak256("genesis model");
    bytes32 internal constant APP = keccak256("approved flower app bundle");
    bytes32 internal constant CONFIG = keccak256("config");

    /// @dev Keys of three hospitals enrolled by {_enrolHospitals} as members 1, 2 and 3.
    uint256 internal constant KEY_A = 0xA001;
    uint256 internal constant KEY_B = 0xB002;
    uint256 internal constant KEY_C = 0xC003;
    /// @dev A key that never joins.
    uint256 internal constant KEY_OUTSIDER = 0x0DD;

    bytes32 internal constant FINGERPRINT = keccak256("flower node key");

    /// @dev The ε of an update trained without differential privacy, and the fixture's privacy budget
    /// (none: ε and δ unbounded) until a test sets one.
    uint64 internal constant NOT_PRIVATE = type(uint64).max;

    ConsortiumRegistry internal registry;
    RoundLedger internal ledger;
    ReputationLedger internal reputation;
    RewardToken internal token;
    RewardDistributor internal distributor;

    /// @dev Deploys as production does: the registry (admin and coordinator roles in its constructor), the
    /// round ledger told the reputation ledger's address before it exists (the next CREATE address), the
    /// reputation ledger, the distributor (which creates the token); then the admin starts the first
    /// lineage from {GENESIS} and approves {APP}.
    function setUp() public virtual {
        registry = new ConsortiumRegistry(ADMIN_DELAY, ADMIN, COORDINATOR);
        (ledger, reputation) = _deployLedgers(registry, INITIAL_REPUTATION, SMOOTHING, EXCLUSION_THRESHOLD);
        _deployDistributor(MIN_PARTICIPANTS, MINT_WINDOW_BLOCKS, MINT_LIMIT);

        vm.startPrank(ADMIN);
        ledger.startLineage(GENESIS, "genesis");
        ledger.approveApp(APP);
        vm.stopPrank();

        vm.label(ADMIN, "admin");
        vm.label(COORDINATOR, "coordinator");
        vm.label(STRANGER, "stranger");
        vm.label(address(registry), "registry");
        vm.label(address(ledger), "ledger");
        vm.label(address(reputation), "reputation");
        vm.label(vm.addr(KEY_A), "hospitalA");
        vm.label(vm.addr(KEY_B), "hospitalB");
        vm.label(vm.addr(KEY_C), "hospitalC");
        vm.label(vm.addr(KEY_OUTSIDER), "outsider");
    }

    /// @dev A round ledger and its reputation ledger on `registry_`: the round ledger is deployed with the
    /// address the reputation ledger then lands at (this contract's next CREATE address).
    function _deployLedgers(ConsortiumRegistry registry_, uint16 initial, uint16 smoothing, uint16 threshold)
        internal
        returns (RoundLedger ledger_, ReputationLedger reputation_)
    {
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
        ledger_ = new RoundLedger(registry_, IExclusionOracle(predicted), _noBudget());
        reputation_ = new ReputationLedger(registry_, ledger_, initial, smoothing, threshold);
        assertEq(address(reputation_), predicted, "reputation ledger at the predicted address");
    }

    /// @dev A privacy budget that bounds nothing.
    function _noBudget() internal pure returns (RoundLedger.PrivacyBudget memory) {
        return RoundLedger.PrivacyBudget({epsilon: NOT_PRIVATE, delta: NOT_PRIVATE});
    }

    /// @dev Replace {distributor} (and {token}) with one on {ledger} with this minting rule.
    function _deployDistributor(uint64 minParticipants, uint64 windowBlocks, uint256 mintLimit) internal {
        distributor = new RewardDistributor(
            registry, ledger, TOKEN_NAME, TOKEN_SYMBOL, ROUND_BUDGET, minParticipants, windowBlocks, mintLimit
        );
        // The distributor creates the token and is its only minter: no role to grant.
        token = distributor.token();
        vm.label(address(distributor), "distributor");
        vm.label(address(token), "token");
    }

    // ---------------------------------------------------------------- membership

    /// @dev Enrol hospitals A, B and C (member ids 1, 2, 3) through the admin.
    function _enrolHospitals() internal {
        _join(KEY_A, "Hospital A");
        _join(KEY_B, "Hospital B");
        _join(KEY_C, "Hospital C");
    }

    function _request(uint256 key, string memory name) internal returns (uint64 memberId) {
        vm.prank(vm.addr(key));
        memberId = registry.requestMembership(name, FINGERPRINT, "ipfs://metadata");
    }

    /// @dev Request with `key` and approve as the admin (governance must be off).
    function _join(uint256 key, string memory name) internal returns (uint64 memberId) {
        memberId = _request(key, name);
        vm.prank(ADMIN);
        registry.approveMembership(memberId);
    }

    // ---------------------------------------------------------------- signing

    /// @dev ERC-2098 compact form of an ECDSA signature: `v` (27 or 28) goes into the top bit of `s`.
    function _compact(uint8 v, bytes32 r, bytes32 s) internal pure returns (bytes32, bytes32 vs) {
        vs = bytes32(uint256(s) | (uint256(v - 27) << 255));
        return (r, vs);
    }

    /// @dev `key`'s signature of an update, over the digest `target` computes now (its chain and address).
    function _sign(
        RoundLedger target,
        uint256 key,
        uint256 round,
        bytes32 globalModelHash,
        bytes32 updateHash,
        uint64 numExamples
    ) internal view returns (RoundLedger.SignedUpdate memory u) {
        return _signPrivate(target, key, round, globalModelHash, _unsigned(updateHash, numExamples, NOT_PRIVATE, 0));
    }

    /// @dev `key`'s signature of `u` (its ε and δ included) in `round` of `target`.
    function _signPrivate(
        RoundLedger target,
        uint256 key,
        uint256 round,
        bytes32 globalModelHash,
        RoundLedger.SignedUpdate memory u
    ) internal view returns (RoundLedger.SignedUpdate memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, target.updateDigest(round, globalModelHash, u));
        (u.r, u.vs) = _compact(v, r, s);
        return u;
    }

    /// @dev An update with these fields and no signature yet.
    function _unsigned(bytes32 updateHash, uint64 numExamples, uint64 epsilon, uint64 delta)
        internal
        pure
        returns (RoundLedger.SignedUpdate memory)
    {
        return RoundLedger.SignedUpdate({
            updateHash: updateHash, numExamples: numExamples, epsilonSpent: epsilon, deltaSpent: delta, r: 0, vs: 0
        });
    }

    /// @dev The digest `target` has signed for a non-private update with these fields.
    function _digest(RoundLedger target, uint256 round, bytes32 globalModelHash, bytes32 updateHash, uint64 examples)
        internal
        view
        returns (bytes32)
    {
        return target.updateDigest(round, globalModelHash, _unsigned(updateHash, examples, NOT_PRIVATE, 0));
    }

    /// @dev `key`'s signature of its canonical update for `round` of {ledger}, over the round's global model.
    function _signed(uint256 key, uint256 round) internal view returns (RoundLedger.SignedUpdate memory) {
        return _sign(ledger, key, round, _globalHash(round), _updateHash(key, round), _examples(key));
    }

    /// @dev Address that `u` recovers to over `digest` with the raw precompile (zero if invalid).
    function _recover(bytes32 digest, RoundLedger.SignedUpdate memory u) internal pure returns (address) {
        uint8 v = uint8(uint256(u.vs) >> 255) + 27;
        bytes32 s = bytes32(uint256(u.vs) & ~(uint256(1) << 255));
        return ecrecover(digest, v, u.r, s);
    }

    /// @dev Global model of `round` of {ledger}: the one it was opened from, or for a round not yet opened
    /// the lineage head it would open from.
    function _globalHash(uint256 round) internal view returns (bytes32) {
        RoundLedger.Round memory r = ledger.getRound(round);
        if (r.status != RoundLedger.RoundStatus.None) return r.globalModelHash;
        (bytes32 head,,) = ledger.lineageHead();
        return head;
    }

    /// @dev The aggregate {_finalize} closes `round` with.
    function _aggregateHash(uint256 round) internal pure returns (bytes32) {
        return keccak256(abi.encode("aggregate", round));
    }

    function _updateHash(uint256 key, uint256 round) internal pure returns (bytes32) {
        return keccak256(abi.encode("model update", key, round));
    }

    function _examples(uint256 key) internal pure returns (uint64) {
        return uint64(100 + key % 900);
    }

    // ---------------------------------------------------------------- rounds

    /// @dev Open the next round of {ledger} from its lineage head, running {APP}.
    function _openRound() internal returns (uint256 round) {
        (bytes32 head,,) = ledger.lineageHead();
        vm.prank(COORDINATOR);
        round = ledger.openRound(head, CONFIG, APP);
    }

    function _register(uint256 round, RoundLedger.SignedUpdate[] memory updates) internal {
        vm.prank(COORDINATOR);
        ledger.registerUpdates(round, updates);
    }

    /// @dev Register the canonical updates of `keys` in `round`, one batch.
    function _submit(uint256 round, uint256[] memory keys) internal {
        RoundLedger.SignedUpdate[] memory updates = new RoundLedger.SignedUpdate[](keys.length);
        for (uint256 i = 0; i < keys.length; ++i) {
            updates[i] = _signed(keys[i], round);
        }
        _register(round, updates);
    }

    /// @dev Finalize `round` with `participants`, each weighted 1.
    function _finalize(uint256 round, uint64[] memory participants) internal {
        uint256[] memory weights = new uint256[](participants.length);
        for (uint256 i = 0; i < weights.length; ++i) {
            weights[i] = 1;
        }
        vm.prank(COORDINATOR);
        ledger.finalizeRound(round, _aggregateHash(round), keccak256("metrics"), participants, weights);
    }

    /// @dev Open a round, register the updates of `submitters`, finalize with `participants`.
    function _completeRound(uint256[] memory submitters, uint64[] memory participants)
        internal
        returns (uint256 round)
    {
        round = _openRound();
        _submit(round, submitters);
        _finalize(round, participants);
    }

    /// @dev Expect {RoundLedger.UpdateSkipped} for entry `index` of the next batch.
    function _expectSkipped(
        uint256 round,
        uint256 index,
        address signer,
        bytes32 updateHash,
        RoundLedger.SkipReason reason
    ) internal {
        vm.expectEmit(true, true, true, true, address(ledger));
        emit RoundLedger.UpdateSkipped(round, index, signer, updateHash, reason);
    }

    // ---------------------------------------------------------------- governance

    /// @dev Switch governance on with `quorum` (the admin, while it is off).
    function _enableGovernance(uint16 quorum) internal {
        vm.prank(ADMIN);
        registry.setGovernance(true, quorum);
    }

    /// @dev Each of `keys` (active members' signers) approves `decision`.
    function _approveDecision(uint256[] memory keys, bytes32 decision) internal {
        for (uint256 i = 0; i < keys.length; ++i) {
            vm.prank(vm.addr(keys[i]));
            registry.approveDecision(decision);
        }
    }

    // ---------------------------------------------------------------- array literals

    function _keys(uint256 a) internal pure returns (uint256[] memory out) {
        out = new uint256[](1);
        out[0] = a;
    }

    function _keys(uint256 a, uint256 b) internal pure returns (uint256[] memory out) {
        out = new uint256[](2);
        (out[0], out[1]) = (a, b);
    }

    function _keys(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory out) {
        out = new uint256[](3);
        (out[0], out[1], out[2]) = (a, b, c);
    }

    function _ids() internal pure returns (uint64[] memory out) {
        out = new uint64[](0);
    }

    function _ids(uint64 a) internal pure returns (uint64[] memory out) {
        out = new uint64[](1);
        out[0] = a;
    }

    function _ids(uint64 a, uint64 b) internal pure returns (uint64[] memory out) {
        out = new uint64[](2);
        (out[0], out[1]) = (a, b);
    }

    function _ids(uint64 a, uint64 b, uint64 c) internal pure returns (uint64[] memory out) {
        out = new uint64[](3);
        (out[0], out[1], out[2]) = (a, b, c);
    }

    function _amounts(uint256 a) internal pure returns (uint256[] memory out) {
        out = new uint256[](1);
        out[0] = a;
    }

    function _amounts(uint256 a, uint256 b) internal pure returns (uint256[] memory out) {
        out = new uint256[](2);
        (out[0], out[1]) = (a, b);
    }

    function _amounts(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory out) {
        out = new uint256[](3);
        (out[0], out[1], out[2]) = (a, b, c);
    }

    function _scores(uint16 a) internal pure returns (uint16[] memory out) {
        out = new uint16[](1);
        out[0] = a;
    }

    function _scores(uint16 a, uint16 b) internal pure returns (uint16[] memory out) {
        out = new uint16[](2);
        (out[0], out[1]) = (a, b);
    }

    function _one(RoundLedger.SignedUpdate memory u) internal pure returns (RoundLedger.SignedUpdate[] memory out) {
        out = new RoundLedger.SignedUpdate[](1);
        out[0] = u;
    }

    function _two(RoundLedger.SignedUpdate memory u, RoundLedger.SignedUpdate memory w)
        internal
        pure
        returns (RoundLedger.SignedUpdate[] memory out)
    {
        out = new RoundLedger.SignedUpdate[](2);
        (out[0], out[1]) = (u, w);
    }
}
