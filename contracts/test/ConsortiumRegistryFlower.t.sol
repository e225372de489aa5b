// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ConsortiumRegistry} from "../src/ConsortiumRegistry.sol";
import {ConsortiumFixture} from "./utils/ConsortiumFixture.sol";

/// @title ConsortiumRegistryFlowerTest
/// @notice What the registry holds for the Flower stack: each member's node public key, published by its
/// signer and accepted only when it hashes to the fingerprint the member named, and the SuperLink's TLS
/// certificate pinned by the admin (or, in governance mode, by the members' decision). Each revert is
/// matched by its exact custom error and arguments.
contract ConsortiumRegistryFlowerTest is ConsortiumFixture {
    bytes32 private constant ADMIN_ROLE = 0x00;
    /// @dev The OpenSSH wire-format blob of a real `ssh-keygen -t ecdsa -b 256` public key.
    bytes private constant NODE_KEY =
        hex"0000001365636473612d736861322d6e69737470323536000000086e6973747032353600000041048bf972907a5c19ef78ba0f053a65197a3cfd776058ac47891eb698cf2d5b813dbec9bfa2faaa1956d7c1eb49b928ef83a04ed628c8df4d1043e603b2189e8108";
    /// @dev What `ssh-keygen -l -E sha256` prints for that key (SHA256:MmZKvZmVQSPSb1b1Kb8fOV7KebkcC7xyjwUZj5mGviA).
    bytes32 private constant NODE_KEY_FINGERPRINT = 0x32664abd99954123d26f56f529bf1f395eca79b91c0bbc728f05198f9986be20;
    bytes32 private constant CERTIFICATE = keccak256("superlink certificate DER");
    string private constant ENDPOINT = "superlink.consortium.example:9093";

    address private a;

    function setUp() public override {
        super.setUp();
        a = vm.addr(KEY_A);
    }

    function _requestWithKey(uint256 key, bytes32 fingerprint) private returns (uint64 memberId) {
        vm.prank(vm.addr(key));
        memberId = registry.requestMembership("Hospital", fingerprint, "");
    }

    function _publish(address signer, bytes memory publicKey) private {
        vm.prank(signer);
        registry.publishNodeKey(publicKey);
    }

    function _status(ConsortiumRegistry.Status status, uint64 id) private pure returns (bytes memory) {
        return abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidStatus.selector, id, status);
    }

    // ---------------------------------------------------------------- node key

    function test_PublishNodeKey_WhilePendingAndActive() public {
        assertEq(sha256(NODE_KEY), NODE_KEY_FINGERPRINT);
        uint64 id = _requestWithKey(KEY_A, NODE_KEY_FINGERPRINT);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.NodeKeyPublished(id, NODE_KEY_FINGERPRINT, NODE_KEY);
        _publish(a, NODE_KEY);

        vm.prank(ADMIN);
        registry.approveMembership(id);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.NodeKeyPublished(id, NODE_KEY_FINGERPRINT, NODE_KEY);
        _publish(a, NODE_KEY);
        // Publishing stores nothing: the member record is as before.
        assertEq(registry.getMember(id).nodeKeyFingerprint, NODE_KEY_FINGERPRINT);
    }

    function test_PublishNodeKey_RevertsUnlessItHashesToTheFingerprint() public {
        uint64 id = _requestWithKey(KEY_A, NODE_KEY_FINGERPRINT);
        bytes memory other = abi.encodePacked(NODE_KEY, bytes1(0x00));
        bytes32 otherHash = sha256(other); // (a precompile call: not between a prank and its call)
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumRegistry.ConsortiumRegistryNodeKeyMismatch.selector, id, NODE_KEY_FINGERPRINT, otherHash
            )
        );
        _publish(a, other);

        // Once the member names another key, the old one is refused and the new one accepted.
        vm.prank(ADMIN);
        registry.approveMembership(id);
        vm.prank(a);
        registry.updateNodeKey(otherHash);
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumRegistry.ConsortiumRegistryNodeKeyMismatch.selector, id, otherHash, NODE_KEY_FINGERPRINT
            )
        );
        _publish(a, NODE_KEY);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.NodeKeyPublished(id, otherHash, other);
        _publish(a, other);
    }

    function test_PublishNodeKey_RevertsForAMemberWithoutAFingerprint() public {
        uint64 id = _requestWithKey(KEY_A, bytes32(0));
        vm.expectRevert(
            abi.encodeWithSelector(
                ConsortiumRegistry.ConsortiumRegistryNodeKeyMismatch.selector, id, bytes32(0), NODE_KEY_FINGERPRINT
            )
        );
        _publish(a, NODE_KEY);
    }

    function test_PublishNodeKey_BoundsTheLength() public {
        bytes memory longest = new bytes(registry.MAX_NODE_KEY_LENGTH());
        longest[0] = 0x01;
        uint64 id = _requestWithKey(KEY_A, sha256(longest));
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidNodeKeyLength.selector, 0));
        _publish(a, "");
        bytes memory tooLong = abi.encodePacked(longest, bytes1(0x00));
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidNodeKeyLength.selector, tooLong.length)
        );
        _publish(a, tooLong);

        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.NodeKeyPublished(id, sha256(longest), longest);
        _publish(a, longest);
    }

    function test_PublishNodeKey_OnlyByTheMembersSigner() public {
        uint64 id = _requestWithKey(KEY_A, NODE_KEY_FINGERPRINT);
        // Not a stranger, nor the admin on the member's behalf.
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNotSigner.selector, 0, STRANGER));
        _publish(STRANGER, NODE_KEY);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNotSigner.selector, 0, ADMIN));
        _publish(ADMIN, NODE_KEY);

        // After a key rotation the new signer publishes, the old one no longer does.
        vm.prank(ADMIN);
        registry.approveMembership(id);
        address fresh = vm.addr(0x7E57);
        vm.prank(a);
        registry.proposeKeyRotation(fresh);
        vm.prank(fresh);
        registry.acceptKeyRotation(id);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNotSigner.selector, 0, a));
        _publish(a, NODE_KEY);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.NodeKeyPublished(id, NODE_KEY_FINGERPRINT, NODE_KEY);
        _publish(fresh, NODE_KEY);
    }

    function test_PublishNodeKey_RevertsWhenSuspendedOrRejected() public {
        uint64 id = _requestWithKey(KEY_A, NODE_KEY_FINGERPRINT);
        vm.startPrank(ADMIN);
        registry.approveMembership(id);
        registry.suspendMember(id, "audit");
        vm.stopPrank();
        vm.expectRevert(_status(ConsortiumRegistry.Status.Suspended, id));
        _publish(a, NODE_KEY);

        // A rejected request frees its key, which then belongs to no member.
        uint64 rejected = _requestWithKey(KEY_B, NODE_KEY_FINGERPRINT);
        vm.prank(ADMIN);
        registry.rejectMembership(rejected, "unknown hospital");
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryNotSigner.selector, 0, vm.addr(KEY_B))
        );
        _publish(vm.addr(KEY_B), NODE_KEY);
    }

    function test_PublishNodeKey_AKeyBelongsToTheFirstMemberThatPublishedIt() public {
        uint64 id = _requestWithKey(KEY_A, NODE_KEY_FINGERPRINT);
        assertEq(registry.nodeKeyHolder(NODE_KEY_FINGERPRINT), 0);
        _publish(a, NODE_KEY);
        assertEq(registry.nodeKeyHolder(NODE_KEY_FINGERPRINT), id);

        // Another applicant naming the same key cannot publish it, not even once its holder is suspended.
        uint64 copycat = _requestWithKey(KEY_B, NODE_KEY_FINGERPRINT);
        bytes memory inUse = abi.encodeWithSelector(
            ConsortiumRegistry.ConsortiumRegistryNodeKeyInUse.selector, NODE_KEY_FINGERPRINT, id
        );
        vm.expectRevert(inUse);
        _publish(vm.addr(KEY_B), NODE_KEY);
        vm.startPrank(ADMIN);
        registry.approveMembership(id);
        registry.approveMembership(copycat);
        registry.suspendMember(id, "audit");
        vm.stopPrank();
        vm.expectRevert(inUse);
        _publish(vm.addr(KEY_B), NODE_KEY);
        assertEq(registry.nodeKeyHolder(NODE_KEY_FINGERPRINT), id);

        // The holder publishes again (the same key, after reinstatement) as often as it likes.
        vm.prank(ADMIN);
        registry.reinstateMember(id);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.NodeKeyPublished(id, NODE_KEY_FINGERPRINT, NODE_KEY);
        _publish(a, NODE_KEY);
        assertEq(registry.nodeKeyHolder(NODE_KEY_FINGERPRINT), id);
    }

    function test_PublishNodeKey_ARejectedApplicantsKeyPassesOn() public {
        uint64 rejected = _requestWithKey(KEY_A, NODE_KEY_FINGERPRINT);
        _publish(a, NODE_KEY);
        vm.prank(ADMIN);
        registry.rejectMembership(rejected, "wrong hospital");

        // The same hospital asks again with the same node key, under a new member id.
        uint64 again = _requestWithKey(KEY_A, NODE_KEY_FINGERPRINT);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.NodeKeyPublished(again, NODE_KEY_FINGERPRINT, NODE_KEY);
        _publish(a, NODE_KEY);
        assertEq(registry.nodeKeyHolder(NODE_KEY_FINGERPRINT), again);
    }

    /// @dev Any key of a valid length is accepted exactly when it hashes to the member's fingerprint.
    function testFuzz_PublishNodeKey_AcceptsOnlyTheFingerprintedKey(bytes memory named, bytes memory sent) public {
        vm.assume(named.length > 0 && named.length <= 1024 && sent.length > 0 && sent.length <= 1024);
        uint64 id = _requestWithKey(KEY_A, sha256(named));
        if (sha256(sent) != sha256(named)) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    ConsortiumRegistry.ConsortiumRegistryNodeKeyMismatch.selector, id, sha256(named), sha256(sent)
                )
            );
            _publish(a, sent);
        }
        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.NodeKeyPublished(id, sha256(named), named);
        _publish(a, named);
    }

    // ---------------------------------------------------------------- SuperLink certificate

    function test_SetSuperLinkCertificate_ByTheAdmin() public {
        (bytes32 fingerprint, string memory endpoint) = registry.superLinkCertificate();
        assertEq(fingerprint, bytes32(0));
        assertEq(endpoint, "");

        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.SuperLinkCertificateSet(CERTIFICATE, ENDPOINT);
        vm.prank(ADMIN);
        registry.setSuperLinkCertificate(CERTIFICATE, ENDPOINT);
        (fingerprint, endpoint) = registry.superLinkCertificate();
        assertEq(fingerprint, CERTIFICATE);
        assertEq(endpoint, ENDPOINT);

        // A renewed certificate replaces the pinned one.
        bytes32 renewed = keccak256("renewed certificate");
        vm.prank(ADMIN);
        registry.setSuperLinkCertificate(renewed, "10.0.0.5:9093");
        (fingerprint, endpoint) = registry.superLinkCertificate();
        assertEq(fingerprint, renewed);
        assertEq(endpoint, "10.0.0.5:9093");
    }

    function test_SetSuperLinkCertificate_RevertsForOthers() public {
        _join(KEY_A, "Hospital A");
        address[3] memory others = [STRANGER, COORDINATOR, a];
        for (uint256 i = 0; i < others.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, others[i], ADMIN_ROLE)
            );
            vm.prank(others[i]);
            registry.setSuperLinkCertificate(CERTIFICATE, ENDPOINT);
        }
        (bytes32 fingerprint,) = registry.superLinkCertificate();
        assertEq(fingerprint, bytes32(0));
    }

    function test_SetSuperLinkCertificate_ValidatesItsInput() public {
        vm.startPrank(ADMIN);
        vm.expectRevert(ConsortiumRegistry.ConsortiumRegistryInvalidCertificateFingerprint.selector);
        registry.setSuperLinkCertificate(bytes32(0), ENDPOINT);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidEndpoint.selector, 0));
        registry.setSuperLinkCertificate(CERTIFICATE, "");
        string memory longest = string(new bytes(registry.MAX_ENDPOINT_LENGTH()));
        string memory tooLong = string.concat(longest, "x");
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidEndpoint.selector, bytes(tooLong).length)
        );
        registry.setSuperLinkCertificate(CERTIFICATE, tooLong);
        registry.setSuperLinkCertificate(CERTIFICATE, longest);
        vm.stopPrank();
        (, string memory endpoint) = registry.superLinkCertificate();
        assertEq(bytes(endpoint).length, registry.MAX_ENDPOINT_LENGTH());
    }

    function test_SetSuperLinkCertificate_InGovernanceModeNeedsTheMembersDecision() public {
        _enrolHospitals();
        vm.prank(ADMIN);
        registry.setSuperLinkCertificate(CERTIFICATE, ENDPOINT);
        _enableGovernance(2);

        bytes32 renewed = keccak256("renewed certificate");
        bytes32 decision = registry.superLinkCertificateDecision(renewed, ENDPOINT);
        // The admin alone no longer pins a certificate.
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryDecisionNotApproved.selector, decision)
        );
        vm.prank(ADMIN);
        registry.setSuperLinkCertificate(renewed, ENDPOINT);
        _approveDecision(_keys(KEY_A), decision);
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryDecisionNotApproved.selector, decision)
        );
        registry.setSuperLinkCertificate(renewed, ENDPOINT);
        _approveDecision(_keys(KEY_B), decision);

        // The decision is bound to its certificate and endpoint.
        bytes32 elsewhere = registry.superLinkCertificateDecision(renewed, "evil.example:9093");
        assertTrue(elsewhere != decision);
        vm.expectRevert(
            abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryDecisionNotApproved.selector, elsewhere)
        );
        registry.setSuperLinkCertificate(renewed, "evil.example:9093");

        // Once approved, anyone carries it out, once.
        vm.expectEmit(true, true, true, true, address(registry));
        emit ConsortiumRegistry.SuperLinkCertificateSet(renewed, ENDPOINT);
        vm.prank(STRANGER);
        registry.setSuperLinkCertificate(renewed, ENDPOINT);
        (bytes32 fingerprint,) = registry.superLinkCertificate();
        assertEq(fingerprint, renewed);
        bytes32 next = registry.superLinkCertificateDecision(renewed, ENDPOINT);
        assertTrue(next != decision);
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryDecisionNotApproved.selector, next));
        registry.setSuperLinkCertificate(renewed, ENDPOINT);
    }

    function test_SetSuperLinkCertificate_ADecidedButInvalidCertificateStillReverts() public {
        _enrolHospitals();
        _enableGovernance(1);
        _approveDecision(_keys(KEY_A), registry.superLinkCertificateDecision(bytes32(0), ENDPOINT));
        vm.expectRevert(ConsortiumRegistry.ConsortiumRegistryInvalidCertificateFingerprint.selector);
        registry.setSuperLinkCertificate(bytes32(0), ENDPOINT);
        _approveDecision(_keys(KEY_A), registry.superLinkCertificateDecision(CERTIFICATE, ""));
        vm.expectRevert(abi.encodeWithSelector(ConsortiumRegistry.ConsortiumRegistryInvalidEndpoint.selector, 0));
        registry.setSuperLinkCertificate(CERTIFICATE, "");
    }
}
