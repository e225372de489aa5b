"""What the registry holds for the Flower stack, on a real Anvil: members' published node keys (bound
to the fingerprints they named) and the SuperLink's pinned certificate."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bcfl.chain import errors
from bcfl.chain.consortium import Consortium
from bcfl.chain.fingerprints import (
    certificate_fingerprint,
    node_key_fingerprint,
    openssh_key_blob,
    openssh_line,
)
from bcfl.chain.registry import ADMIN_ROLE, MemberStatus
from tests.chain.helpers import names
from tests.chain.trust import openssh_public, self_signed
from tests.conftest import Actors

ENDPOINT = "superlink.consortium.example:9093"


def test_a_member_publishes_the_node_key_it_named(consortium: Consortium, actors: Actors) -> None:
    registry = consortium.registry
    hospital = actors.hospitals[0]
    line = openssh_public(ec.SECP384R1())
    blob = openssh_key_blob(line)
    member_id = registry.request_membership(hospital, "St. Mary", node_key_fingerprint(line))
    assert registry.published_node_key(member_id) is None
    assert registry.published_node_keys() == {}

    registry.publish_node_key(hospital, blob)  # while pending, so it can be registered on approval
    assert registry.published_node_key(member_id) == blob
    assert openssh_line(blob) == line
    assert registry.published_node_keys() == {member_id: blob}
    (publication,) = registry.node_key_publications(member_id)
    assert (publication.member_id, publication.fingerprint, publication.public_key) == (
        member_id,
        node_key_fingerprint(line),
        blob,
    )
    assert names(registry.membership_history(member_id)) == ["MembershipRequested", "NodeKeyPublished"]

    # A wrong key is refused with both fingerprints, and nothing is published.
    other = openssh_key_blob(openssh_public(ec.SECP384R1()))
    with pytest.raises(errors.ConsortiumRegistryNodeKeyMismatch) as exc:
        registry.publish_node_key(hospital, other)
    assert exc.value.args_by_name == {
        "memberId": member_id,
        "expected": node_key_fingerprint(line),
        "actual": node_key_fingerprint(openssh_line(other)),
    }
    assert len(registry.node_key_publications()) == 1
    assert registry.node_key_holder(node_key_fingerprint(line)) == member_id


def test_a_node_key_another_member_published_is_refused(consortium: Consortium, actors: Actors) -> None:
    registry = consortium.registry
    line = openssh_public(ec.SECP256R1())
    holder = registry.request_membership(actors.hospitals[0], "Holder", node_key_fingerprint(line))
    copycat = registry.request_membership(actors.hospitals[1], "Copycat", node_key_fingerprint(line))
    assert registry.node_key_holder(node_key_fingerprint(line)) == 0
    registry.publish_node_key(actors.hospitals[0], openssh_key_blob(line))
    with pytest.raises(errors.ConsortiumRegistryNodeKeyInUse) as exc:
        registry.publish_node_key(actors.hospitals[1], openssh_key_blob(line))
    assert exc.value.args_by_name == {"fingerprint": node_key_fingerprint(line), "holderId": holder}
    assert registry.published_node_key(holder) == openssh_key_blob(line)
    assert registry.published_node_key(copycat) is None


def test_a_new_node_key_replaces_the_published_one_once_published(
    consortium: Consortium, actors: Actors
) -> None:
    registry = consortium.registry
    first, second = actors.hospitals[0], actors.hospitals[1]
    old_line, new_line, other_line = (
        openssh_public(c) for c in (ec.SECP256R1(), ec.SECP384R1(), ec.SECP384R1())
    )
    member_id = registry.request_membership(first, "First", node_key_fingerprint(old_line))
    other_id = registry.request_membership(second, "Second", node_key_fingerprint(other_line))
    registry.approve(actors.admin, member_id)
    registry.publish_node_key(first, openssh_key_blob(old_line))
    registry.publish_node_key(second, openssh_key_blob(other_line))

    registry.update_node_key(first, node_key_fingerprint(new_line))
    # The old key no longer counts; the new one does once the member publishes it.
    assert registry.published_node_key(member_id) is None
    assert registry.published_node_keys() == {other_id: openssh_key_blob(other_line)}
    registry.publish_node_key(first, openssh_key_blob(new_line))
    assert registry.published_node_key(member_id) == openssh_key_blob(new_line)
    assert registry.published_node_keys() == {
        member_id: openssh_key_blob(new_line),
        other_id: openssh_key_blob(other_line),
    }
    mine = registry.node_key_publications(member_id)
    assert [p.fingerprint for p in mine] == [node_key_fingerprint(old_line), node_key_fingerprint(new_line)]
    by_fingerprint = registry.node_key_publications(fingerprint=node_key_fingerprint(other_line))
    assert [p.member_id for p in by_fingerprint] == [other_id]
    # The old key stays the member's: nobody else may take it up.
    assert registry.node_key_holder(node_key_fingerprint(old_line)) == member_id


def test_only_the_members_signer_publishes_while_pending_or_active(
    consortium: Consortium, actors: Actors
) -> None:
    registry = consortium.registry
    hospital = actors.hospitals[0]
    line = openssh_public(ec.SECP384R1())
    member_id = registry.request_membership(hospital, "Hospital", node_key_fingerprint(line))
    for stranger in (actors.admin, actors.outsider):
        with pytest.raises(errors.ConsortiumRegistryNotSigner) as exc:
            registry.publish_node_key(stranger, openssh_key_blob(line))
        assert exc.value.args_by_name == {"memberId": 0, "account": stranger.address}
    with pytest.raises(errors.ConsortiumRegistryInvalidNodeKeyLength) as too_long:
        registry.publish_node_key(hospital, b"\x01" * 1025)
    assert too_long.value.args_by_name == {"length": 1025}

    registry.approve(actors.admin, member_id)
    registry.suspend(actors.admin, member_id, "audit")
    with pytest.raises(errors.ConsortiumRegistryInvalidStatus) as suspended:
        registry.publish_node_key(hospital, openssh_key_blob(line))
    assert suspended.value.args_by_name == {"memberId": member_id, "status": MemberStatus.SUSPENDED}
    assert registry.node_key_publications() == []


def test_the_admin_pins_the_superlink_certificate(consortium: Consortium, actors: Actors) -> None:
    registry = consortium.registry
    assert registry.superlink_certificate() == (bytes(32), "")
    pem = self_signed().public_bytes(serialization.Encoding.PEM)
    fingerprint = certificate_fingerprint(pem)
    registry.set_superlink_certificate(actors.admin, fingerprint, ENDPOINT)
    assert registry.superlink_certificate() == (fingerprint, ENDPOINT)
    (event,) = registry.events("SuperLinkCertificateSet")
    assert event.args == {"fingerprint": fingerprint, "endpoint": ENDPOINT}
    # Filtered on the indexed fingerprint.
    assert registry.events("SuperLinkCertificateSet", filters={"fingerprint": fingerprint}) == [event]

    with pytest.raises(errors.AccessControlUnauthorizedAccount) as exc:
        registry.set_superlink_certificate(actors.coordinator, b"\x01" * 32, ENDPOINT)
    assert exc.value.args_by_name == {"account": actors.coordinator.address, "neededRole": ADMIN_ROLE}
    with pytest.raises(errors.ConsortiumRegistryInvalidEndpoint) as empty:
        registry.set_superlink_certificate(actors.admin, fingerprint, "")
    assert empty.value.args_by_name == {"length": 0}
    with pytest.raises(errors.ConsortiumRegistryInvalidCertificateFingerprint):
        registry.set_superlink_certificate(actors.admin, bytes(32), ENDPOINT)
    assert registry.superlink_certificate() == (fingerprint, ENDPOINT)


def test_in_governance_mode_the_members_decide_the_certificate(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    registry = consortium.registry
    registry.set_governance(actors.admin, True, 2)
    fingerprint = certificate_fingerprint(self_signed().public_bytes(serialization.Encoding.DER))
    decision = registry.superlink_certificate_decision(fingerprint, ENDPOINT)
    with pytest.raises(errors.ConsortiumRegistryDecisionNotApproved) as exc:
        registry.set_superlink_certificate(actors.admin, fingerprint, ENDPOINT)
    assert exc.value.args_by_name == {"decision": decision}

    assert not registry.support(actors.hospitals[0], decision)
    assert registry.support(actors.hospitals[1], decision)
    registry.set_superlink_certificate(actors.outsider, fingerprint, ENDPOINT)
    assert registry.superlink_certificate() == (fingerprint, ENDPOINT)
    # Carried out once: the same change needs a new decision.
    assert registry.superlink_certificate_decision(fingerprint, ENDPOINT) != decision
