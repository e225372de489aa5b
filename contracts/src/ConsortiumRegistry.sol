// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";

/// @dev Role of the coordinator's account, shared with the contracts that defer to the registry.
bytes32 constant CONSORTIUM_COORDINATOR_ROLE = keccak256("COORDINATOR_ROLE");

/// @title ConsortiumRegistry
/// @notice Membership of the hospital consortium and the roles every other contract defers to.
/// @dev A hospital is a member id with one signing key at a time. The key requests membership itself;
/// the admin approves it, or, in governance mode, a quorum of active members does. Only active members
/// take part in rounds (see {activeMemberIdOf}). Roles: `DEFAULT_ADMIN_ROLE` (consortium operator, moved
/// only by a two-step transfer with a delay) and {COORDINATOR_ROLE} (the Flower coordinator's account).
/// A key holding a role can never be a member's signer, and a member's signer can never be given a role.
///
/// In governance mode the registry also counts member approvals of consortium decisions (a new model
/// lineage, an approved app, the SuperLink's certificate, a governance change, an admin transfer): each
/// decision is an opaque id the contract that acts on it computes (see {ConsortiumAccess}), approved once
/// `quorum` active members approved it. Governance is switched on by the admin, but changed or switched off
/// only by such a decision.
///
/// The registry also anchors the Flower stack's trust: each member publishes its Flower node public key,
/// which must hash to the fingerprint it named (so a service can register exactly that key with the
/// SuperLink), and the consortium pins the SuperLink's TLS certificate by fingerprint, with the
/// endpoint SuperNodes dial (so hospitals need no second channel to trust it).
contract ConsortiumRegistry is AccessControlDefaultAdminRules {
    /// @notice Role of the account that opens rounds, registers updates, scores and pays.
    bytes32 public constant COORDINATOR_ROLE = CONSORTIUM_COORDINATOR_ROLE;

    /// @notice Longest node public key {publishNodeKey} accepts, in bytes (an OpenSSH ECDSA key blob
    /// takes 104 to 172).
    uint256 public constant MAX_NODE_KEY_LENGTH = 1024;
    /// @notice Longest SuperLink endpoint {setSuperLinkCertificate} accepts, in bytes.
    uint256 public constant MAX_ENDPOINT_LENGTH = 256;

    /// @notice Life cycle of a membership.
    enum Status {
        None,
        Pending,
        Active,
        Suspended,
        Rejected
    }

    /// @notice A member as the registry stores it.
    /// @param signer Current Ethereum key of the hospital; it signs every model update.
    /// @param status Membership status.
    /// @param approvals Member approvals collected while pending (governance mode).
    /// @param requestedAt Block timestamp of the request.
    /// @param nodeKeyFingerprint Fingerprint of the hospital's Flower node public key.
    /// @param name Human-readable hospital name.
    /// @param metadataURI Free-form metadata (contact, data description), e.g. an IPFS or https URI.
    struct Member {
        address signer;
        Status status;
        uint16 approvals;
        uint64 requestedAt;
        bytes32 nodeKeyFingerprint;
        string name;
        string metadataURI;
    }

    /// @dev What the registry keeps per signing key: read once per update on the rounds' hot path, so
    /// whether the member is active is mirrored here (kept in step by {_setStatus}).
    struct SignerRecord {
        uint64 memberId;
        bool active;
    }

    uint64 private _memberCount;
    uint64 private _activeCount;
    bool private _governance;
    uint16 private _quorum;
    mapping(uint64 memberId => Member) private _members;
    mapping(address signer => SignerRecord) private _signers;
    mapping(uint64 memberId => mapping(uint64 approverId => bool)) private _approvedBy;
    mapping(uint64 memberId => address newSigner) private _pendingSigner;
    mapping(bytes32 decision => uint16 approvals) private _decisionApprovals;
    mapping(bytes32 decision => mapping(uint64 approverId => bool)) private _decisionApprovedBy;
    mapping(bytes32 subject => uint256 count) private _decisionsCarriedOut;
    mapping(bytes32 fingerprint => uint64 memberId) private _nodeKeyHolders;
    bytes32 private _superLinkCertificate;
    string private _superLinkEndpoint;

    /// @notice The account already holds a membership record.
    error ConsortiumRegistryAlreadyRegistered(address account, uint64 memberId);
    /// @notice A hospital name must not be empty.
    error ConsortiumRegistryEmptyName();
    /// @notice No member has this id.
    error ConsortiumRegistryUnknownMember(uint64 memberId);
    /// @notice The member is not in the status the call needs.
    error ConsortiumRegistryInvalidStatus(uint64 memberId, Status status);
    /// @notice The caller is not an active member.
    error ConsortiumRegistryNotActiveMember(address account);
    /// @notice The member already approved this request.
    error ConsortiumRegistryAlreadyApproved(uint64 memberId, uint64 approverId);
    /// @notice The quorum must be at least 1 and at most the number of active members.
    error ConsortiumRegistryInvalidQuorum(uint16 quorum, uint64 activeMembers);
    /// @notice The caller is not the member's current signer.
    error ConsortiumRegistryNotSigner(uint64 memberId, address account);
    /// @notice The new key is zero or already used by a member.
    error ConsortiumRegistryInvalidSigner(address account);
    /// @notice The caller is not the key proposed for this member.
    error ConsortiumRegistryNoPendingRotation(uint64 memberId, address account);

    /// @notice A key that holds a role cannot be a member's signer, nor a member's signer hold a role.
    error ConsortiumRegistryRoleKeyConflict(address account);
    /// @notice In governance mode this change needs an approved decision; without it, the admin.
    error ConsortiumRegistryDecisionNotApproved(bytes32 decision);
    /// @notice The member already approved this decision.
    error ConsortiumRegistryDecisionAlreadyApproved(bytes32 decision, uint64 approverId);
    /// @notice The call only works in governance mode.
    error ConsortiumRegistryGovernanceOff();
    /// @notice In governance mode the admin role moves only by the members' decision.
    error ConsortiumRegistryGovernanceOn();
    /// @notice A node public key must not be empty nor longer than {MAX_NODE_KEY_LENGTH} bytes.
    error ConsortiumRegistryInvalidNodeKeyLength(uint256 length);
    /// @notice The node public key's SHA-256 is not the fingerprint the member named.
    error ConsortiumRegistryNodeKeyMismatch(uint64 memberId, bytes32 expected, bytes32 actual);
    /// @notice Another member published this node key first (and was not rejected).
    error ConsortiumRegistryNodeKeyInUse(bytes32 fingerprint, uint64 holderId);
    /// @notice A certificate fingerprint must not be zero.
    error ConsortiumRegistryInvalidCertificateFingerprint();
    /// @notice A SuperLink endpoint must not be empty nor longer than {MAX_ENDPOINT_LENGTH} bytes.
    error ConsortiumRegistryInvalidEndpoint(uint256 length);

    /// @notice A hospital key asked to join.
    event MembershipRequested(
        uint64 indexed memberId, address indexed signer, string name, bytes32 nodeKeyFingerprint, string metadataURI
    );
    /// @notice An active member approved a pending request (governance mode).
    event MembershipApproved(uint64 indexed memberId, uint64 indexed approverId, uint16 approvals);
    /// @notice A member became active.
    event MemberActivated(uint64 indexed memberId, address indexed signer);
    /// @notice The admin rejected a pending request.
    event MembershipRejected(uint64 indexed memberId, string reason);
    /// @notice The admin suspended an active member.
    event MemberSuspended(uint64 indexed memberId, string reason);
    /// @notice The admin reinstated a suspended member.
    event MemberReinstated(uint64 indexed memberId);
    /// @notice The member (or the admin, for a lost key) proposed a new signing key; it takes effect
    /// once that key accepts.
    event KeyRotationProposed(uint64 indexed memberId, address indexed proposedBy, address indexed newSigner);
    /// @notice A member's signing key changed.
    event SignerRotated(uint64 indexed memberId, address indexed previousSigner, address indexed newSigner);
    /// @notice A member changed its Flower node key fingerprint.
    event NodeKeyUpdated(uint64 indexed memberId, bytes32 nodeKeyFingerprint);
    /// @notice How requests and consortium decisions are approved changed.
    event GovernanceChanged(address indexed changedBy, bool enabled, uint16 quorum);
    /// @notice An active member approved a consortium decision (governance mode).
    event DecisionApproved(bytes32 indexed decision, uint64 indexed approverId, uint16 approvals);
    /// @notice A member published the Flower node public key (OpenSSH wire-format blob) whose SHA-256
    /// is its `nodeKeyFingerprint`; the key lives in this event only.
    event NodeKeyPublished(uint64 indexed memberId, bytes32 indexed fingerprint, bytes publicKey);
    /// @notice The SuperLink's TLS certificate (SHA-256 of its DER) and the endpoint SuperNodes dial.
    event SuperLinkCertificateSet(bytes32 indexed fingerprint, string endpoint);

    /// @param adminDelay Seconds between the start of an admin transfer and when the new admin may accept.
    /// @param admin Account given `DEFAULT_ADMIN_ROLE`.
    /// @param coordinator Account given {COORDINATOR_ROLE} (none when zero).
    constructor(uint48 adminDelay, address admin, address coordinator) AccessControlDefaultAdminRules(adminDelay, admin) {
        if (coordinator != address(0)) _grantRole(COORDINATOR_ROLE, coordinator);
    }

    /// @notice Ask to join the consortium with the caller's key as the hospital's signer.
    /// @return memberId The new member's id (ids start at 1).
    function requestMembership(string calldata name, bytes32 nodeKeyFingerprint, string calldata metadataURI)
        external
        returns (uint64 memberId)
    {
        uint64 existing = _signers[msg.sender].memberId;
        if (existing != 0) revert ConsortiumRegistryAlreadyRegistered(msg.sender, existing);
        _requireNoRole(msg.sender);
        if (bytes(name).length == 0) revert ConsortiumRegistryEmptyName();
        memberId = ++_memberCount;
        Member storage member = _members[memberId];
        member.signer = msg.sender;
        member.status = Status.Pending;
        member.requestedAt = uint64(block.timestamp);
        member.nodeKeyFingerprint = nodeKeyFingerprint;
        member.name = name;
        member.metadataURI = metadataURI;
        _signers[msg.sender] = SignerRecord({memberId: memberId, active: false});
        emit MembershipRequested(memberId, msg.sender, name, nodeKeyFingerprint, metadataURI);
    }

    /// @notice Approve a pending request: by the admin when governance is off, else by an active member.
    /// @dev In governance mode the request activates once it has `quorum` member approvals.
    function approveMembership(uint64 memberId) external {
        Member storage member = _requireStatus(memberId, Status.Pending);
        if (!_governance) {
            _checkRole(DEFAULT_ADMIN_ROLE);
            _activate(memberId, member);
            return;
        }
        uint64 approverId = activeMemberIdOf(msg.sender);
        if (approverId == 0) revert ConsortiumRegistryNotActiveMember(msg.sender);
        if (_approvedBy[memberId][approverId]) revert ConsortiumRegistryAlreadyApproved(memberId, approverId);
        _approvedBy[memberId][approverId] = true;
        uint16 approvals = ++member.approvals;
        emit MembershipApproved(memberId, approverId, approvals);
        if (approvals >= _quorum) _activate(memberId, member);
    }

    /// @notice Reject a pending request; its key may request again afterwards.
    function rejectMembership(uint64 memberId, string calldata reason) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Member storage member = _requireStatus(memberId, Status.Pending);
        _setStatus(member, Status.Rejected);
        emit MembershipRejected(memberId, reason);
    }

    /// @notice Suspend an active member: it can no longer take part in rounds, nor rotate its key or
    /// change its node key; a key rotation in progress is cancelled.
    function suspendMember(uint64 memberId, string calldata reason) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Member storage member = _requireStatus(memberId, Status.Active);
        _setStatus(member, Status.Suspended);
        --_activeCount;
        delete _pendingSigner[memberId];
        emit MemberSuspended(memberId, reason);
    }

    /// @notice Reinstate a suspended member.
    function reinstateMember(uint64 memberId) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Member storage member = _requireStatus(memberId, Status.Suspended);
        _setStatus(member, Status.Active);
        ++_activeCount;
        emit MemberReinstated(memberId);
    }

    /// @notice Step 1 of key rotation, called by the current signer of an active member.
    function proposeKeyRotation(address newSigner) external {
        uint64 memberId = _signers[msg.sender].memberId;
        if (memberId == 0) revert ConsortiumRegistryNotSigner(memberId, msg.sender);
        _requireStatus(memberId, Status.Active);
        _proposeRotation(memberId, newSigner);
    }

    /// @notice Step 1 of key rotation for a member whose key is lost or stolen, by the admin; the
    /// member may be active or suspended (suspend first when the key is stolen).
    function adminProposeKeyRotation(uint64 memberId, address newSigner) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Member storage member = _requireKnown(memberId);
        if (member.status != Status.Active && member.status != Status.Suspended) {
            revert ConsortiumRegistryInvalidStatus(memberId, member.status);
        }
        _proposeRotation(memberId, newSigner);
    }

    /// @notice Step 2 of key rotation, called by the proposed key, which proves it is held.
    function acceptKeyRotation(uint64 memberId) external {
        if (_pendingSigner[memberId] != msg.sender || msg.sender == address(0)) {
            revert ConsortiumRegistryNoPendingRotation(memberId, msg.sender);
        }
        if (_signers[msg.sender].memberId != 0 || _holdsRole(msg.sender)) {
            revert ConsortiumRegistryInvalidSigner(msg.sender);
        }
        Member storage member = _members[memberId];
        address previous = member.signer;
        delete _pendingSigner[memberId];
        _signers[msg.sender] = _signers[previous];
        delete _signers[previous];
        member.signer = msg.sender;
        emit SignerRotated(memberId, previous, msg.sender);
    }

    /// @notice Record a new Flower node key fingerprint for the caller's active membership.
    function updateNodeKey(bytes32 nodeKeyFingerprint) external {
        uint64 memberId = _signers[msg.sender].memberId;
        if (memberId == 0) revert ConsortiumRegistryNotSigner(memberId, msg.sender);
        _requireStatus(memberId, Status.Active).nodeKeyFingerprint = nodeKeyFingerprint;
        emit NodeKeyUpdated(memberId, nodeKeyFingerprint);
    }

    /// @notice Publish the caller's Flower node public key, so that the SuperLink can be told to accept
    /// it: the member's signer, while pending or active. The key must hash to the member's
    /// `nodeKeyFingerprint`, which is what binds it to the member; so only the signer publishes (nobody
    /// else could publish another key, and nobody else needs to: a lost signer key is rotated first).
    /// A node key belongs to the first member that publishes it, for good (unless that member was
    /// rejected): otherwise a member naming another's key would have it unregistered from the SuperLink
    /// when it is suspended, and Flower never registers an unregistered key again.
    /// @param publicKey The key's OpenSSH wire-format blob (the base64-decoded second field of an
    /// `ecdsa-sha2-nistp384 AAAA...` line; its SHA-256 is what `ssh-keygen -l -E sha256` shows).
    function publishNodeKey(bytes calldata publicKey) external {
        uint64 memberId = _signers[msg.sender].memberId;
        if (memberId == 0) revert ConsortiumRegistryNotSigner(memberId, msg.sender);
        Member storage member = _members[memberId];
        if (member.status != Status.Pending && member.status != Status.Active) {
            revert ConsortiumRegistryInvalidStatus(memberId, member.status);
        }
        if (publicKey.length == 0 || publicKey.length > MAX_NODE_KEY_LENGTH) {
            revert ConsortiumRegistryInvalidNodeKeyLength(publicKey.length);
        }
        bytes32 fingerprint = sha256(publicKey);
        if (fingerprint != member.nodeKeyFingerprint) {
            revert ConsortiumRegistryNodeKeyMismatch(memberId, member.nodeKeyFingerprint, fingerprint);
        }
        uint64 holder = _nodeKeyHolders[fingerprint];
        if (holder != memberId) {
            if (holder != 0 && _members[holder].status != Status.Rejected) {
                revert ConsortiumRegistryNodeKeyInUse(fingerprint, holder);
            }
            _nodeKeyHolders[fingerprint] = memberId;
        }
        emit NodeKeyPublished(memberId, fingerprint, publicKey);
    }

    /// @notice Pin the SuperLink's TLS certificate and say where SuperNodes reach it: the admin while
    /// governance is off; in governance mode anyone, once the quorum approved
    /// {superLinkCertificateDecision} (a changed certificate redirects every hospital, so it is a
    /// consortium decision like an approved app).
    /// @param fingerprint SHA-256 of the certificate's DER (`openssl x509 -fingerprint -sha256`).
    /// @param endpoint `host:port` the SuperNodes dial (their `--superlink`).
    function setSuperLinkCertificate(bytes32 fingerprint, string calldata endpoint) external {
        if (_governance) _consumeDecision(abi.encode("superlink", fingerprint, endpoint));
        else _checkRole(DEFAULT_ADMIN_ROLE);
        if (fingerprint == bytes32(0)) revert ConsortiumRegistryInvalidCertificateFingerprint();
        uint256 length = bytes(endpoint).length;
        if (length == 0 || length > MAX_ENDPOINT_LENGTH) revert ConsortiumRegistryInvalidEndpoint(length);
        _superLinkCertificate = fingerprint;
        _superLinkEndpoint = endpoint;
        emit SuperLinkCertificateSet(fingerprint, endpoint);
    }

    /// @notice Switch between admin approval and k-of-n member approval. With governance off the admin
    /// decides; with it on, only a decision approved by the quorum ({governanceDecision}) changes it.
    /// @param quorum Member approvals needed when `enabled`; ignored (stored as 0) otherwise.
    function setGovernance(bool enabled, uint16 quorum) external {
        if (_governance) _consumeDecision(abi.encode("governance", enabled, quorum));
        else _checkRole(DEFAULT_ADMIN_ROLE);
        if (!enabled) quorum = 0;
        else if (quorum == 0 || quorum > _activeCount) revert ConsortiumRegistryInvalidQuorum(quorum, _activeCount);
        _governance = enabled;
        _quorum = quorum;
        emit GovernanceChanged(msg.sender, enabled, quorum);
    }

    /// @notice Recovery of a lost or compromised admin key in governance mode: once the quorum approved
    /// {adminTransferDecision}, anyone starts the transfer to `newAdmin`, who accepts after the delay.
    function governanceTransferAdmin(address newAdmin) external {
        if (!_governance) revert ConsortiumRegistryGovernanceOff();
        _consumeDecision(abi.encode("admin", newAdmin));
        _beginDefaultAdminTransfer(newAdmin);
    }

    /// @notice Approve consortium decision `decision` as an active member (governance mode only).
    function approveDecision(bytes32 decision) external {
        if (!_governance) revert ConsortiumRegistryGovernanceOff();
        uint64 approverId = activeMemberIdOf(msg.sender);
        if (approverId == 0) revert ConsortiumRegistryNotActiveMember(msg.sender);
        if (_decisionApprovedBy[decision][approverId]) revert ConsortiumRegistryDecisionAlreadyApproved(decision, approverId);
        _decisionApprovedBy[decision][approverId] = true;
        uint16 approvals = ++_decisionApprovals[decision];
        emit DecisionApproved(decision, approverId, approvals);
    }

    /// @notice Whether governance is on and `decision` has the quorum's approvals.
    function isDecided(bytes32 decision) public view returns (bool) {
        return _governance && _decisionApprovals[decision] >= _quorum;
    }

    /// @notice Member approvals of `decision` so far.
    function decisionApprovals(bytes32 decision) external view returns (uint16) {
        return _decisionApprovals[decision];
    }

    /// @notice Whether member `approverId` approved `decision`.
    function hasApprovedDecision(bytes32 decision, uint64 approverId) external view returns (bool) {
        return _decisionApprovedBy[decision][approverId];
    }

    /// @notice The decision id that lets the next {setGovernance} call set (`enabled`, `quorum`).
    function governanceDecision(bool enabled, uint16 quorum) public view returns (bytes32) {
        return _decisionId(abi.encode("governance", enabled, quorum));
    }

    /// @notice The decision id that lets the next {setSuperLinkCertificate} call pin (`fingerprint`, `endpoint`).
    function superLinkCertificateDecision(bytes32 fingerprint, string calldata endpoint) public view returns (bytes32) {
        return _decisionId(abi.encode("superlink", fingerprint, endpoint));
    }

    /// @notice The decision id that lets {governanceTransferAdmin} start a transfer to `newAdmin`.
    function adminTransferDecision(address newAdmin) public view returns (bytes32) {
        return _decisionId(abi.encode("admin", newAdmin));
    }

    /// @notice Start an admin transfer (the admin, while governance is off; in governance mode only the
    /// members' {governanceTransferAdmin} moves the role, so a stolen admin key cannot block recovery).
    function beginDefaultAdminTransfer(address newAdmin) public override {
        _requireGovernanceOff();
        super.beginDefaultAdminTransfer(newAdmin);
    }

    /// @notice Cancel a pending admin transfer (the admin, while governance is off).
    function cancelDefaultAdminTransfer() public override {
        _requireGovernanceOff();
        super.cancelDefaultAdminTransfer();
    }

    /// @notice Change the admin transfer delay (the admin, while governance is off).
    function changeDefaultAdminDelay(uint48 newDelay) public override {
        _requireGovernanceOff();
        super.changeDefaultAdminDelay(newDelay);
    }

    /// @notice Cancel a pending delay change (the admin, while governance is off).
    function rollbackDefaultAdminDelay() public override {
        _requireGovernanceOff();
        super.rollbackDefaultAdminDelay();
    }

    /// @notice The member record for `memberId`.
    function getMember(uint64 memberId) external view returns (Member memory) {
        return _requireKnown(memberId);
    }

    /// @notice Member id held by `account` in any status but rejected, or 0.
    function memberIdOf(address account) external view returns (uint64) {
        return _signers[account].memberId;
    }

    /// @notice Member id of `account` if it is an active member's current signer, else 0.
    function activeMemberIdOf(address account) public view returns (uint64) {
        SignerRecord storage record = _signers[account];
        return record.active ? record.memberId : 0;
    }

    /// @notice Current signer of `memberId` (zero for an unknown id).
    function signerOf(uint64 memberId) external view returns (address) {
        return _members[memberId].signer;
    }

    /// @notice Key proposed for `memberId` and not yet accepted (zero if none).
    function pendingSignerOf(uint64 memberId) external view returns (address) {
        return _pendingSigner[memberId];
    }

    /// @notice Whether `approverId` approved the pending request of `memberId`.
    function hasApproved(uint64 memberId, uint64 approverId) external view returns (bool) {
        return _approvedBy[memberId][approverId];
    }

    /// @notice Number of membership records ever created (the highest id).
    function memberCount() external view returns (uint64) {
        return _memberCount;
    }

    /// @notice Number of active members.
    function activeMemberCount() external view returns (uint64) {
        return _activeCount;
    }

    /// @notice Whether governance mode is on, and its quorum.
    function governance() external view returns (bool enabled, uint16 quorum) {
        return (_governance, _quorum);
    }

    /// @notice The member whose published node key has this fingerprint, or 0 (see {publishNodeKey}).
    function nodeKeyHolder(bytes32 fingerprint) external view returns (uint64) {
        return _nodeKeyHolders[fingerprint];
    }

    /// @notice The pinned SuperLink certificate's fingerprint and its endpoint (zero and empty until set).
    function superLinkCertificate() external view returns (bytes32 fingerprint, string memory endpoint) {
        return (_superLinkCertificate, _superLinkEndpoint);
    }

    function _activate(uint64 memberId, Member storage member) private {
        _setStatus(member, Status.Active);
        ++_activeCount;
        emit MemberActivated(memberId, member.signer);
    }

    /// @dev The only place a status changes, so the signer record's `active` flag stays in step.
    /// A rejected request frees its key to request again.
    function _setStatus(Member storage member, Status status) private {
        member.status = status;
        if (status == Status.Rejected) delete _signers[member.signer];
        else _signers[member.signer].active = status == Status.Active;
    }

    /// @dev Keys with a role never become member keys (see {_requireNoRole}).
    function _grantRole(bytes32 role, address account) internal override returns (bool) {
        if (_signers[account].memberId != 0) revert ConsortiumRegistryRoleKeyConflict(account);
        return super._grantRole(role, account);
    }

    /// @dev Id of the next decision on `subject`: counting those carried out makes each approval good once,
    /// while approvals of other pending decisions stay valid.
    function _decisionId(bytes memory subject) private view returns (bytes32) {
        bytes32 key = keccak256(subject);
        return keccak256(abi.encode(block.chainid, address(this), key, _decisionsCarriedOut[key]));
    }

    function _consumeDecision(bytes memory subject) private {
        bytes32 decision = _decisionId(subject);
        if (!isDecided(decision)) revert ConsortiumRegistryDecisionNotApproved(decision);
        ++_decisionsCarriedOut[keccak256(subject)];
    }

    function _requireGovernanceOff() private view {
        if (_governance) revert ConsortiumRegistryGovernanceOn();
    }

    function _holdsRole(address account) private view returns (bool) {
        return hasRole(DEFAULT_ADMIN_ROLE, account) || hasRole(COORDINATOR_ROLE, account);
    }

    function _requireNoRole(address account) private view {
        if (_holdsRole(account)) revert ConsortiumRegistryRoleKeyConflict(account);
    }

    function _proposeRotation(uint64 memberId, address newSigner) private {
        if (newSigner == address(0) || _signers[newSigner].memberId != 0 || _holdsRole(newSigner)) {
            revert ConsortiumRegistryInvalidSigner(newSigner);
        }
        _pendingSigner[memberId] = newSigner;
        emit KeyRotationProposed(memberId, msg.sender, newSigner);
    }

    function _requireKnown(uint64 memberId) private view returns (Member storage) {
        if (memberId == 0 || memberId > _memberCount) revert ConsortiumRegistryUnknownMember(memberId);
        return _members[memberId];
    }

    function _requireStatus(uint64 memberId, Status expected) private view returns (Member storage member) {
        member = _requireKnown(memberId);
        if (member.status != expected) revert ConsortiumRegistryInvalidStatus(memberId, member.status);
    }
}
