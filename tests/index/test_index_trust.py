"""The registry's Flower trust events (published node keys, the pinned SuperLink certificate) are
indexed like every other event, and the audit's history files them."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bcfl.audit.context import AuditContext
from bcfl.audit.history import History
from bcfl.audit.source import IndexSource
from bcfl.audit.views import member_view
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.fingerprints import certificate_fingerprint, node_key_fingerprint, openssh_key_blob
from bcfl.index.store import EventIndex
from tests.chain.trust import openssh_public, self_signed
from tests.conftest import Actors


def test_published_node_keys_and_the_pinned_certificate_are_indexed_and_filed(
    tmp_path: Path, client: ChainClient, consortium: Consortium, actors: Actors
) -> None:
    registry = consortium.registry
    hospital = actors.hospitals[0]
    line = openssh_public(ec.SECP384R1())
    member_id = registry.request_membership(hospital, "St. Mary", node_key_fingerprint(line))
    registry.publish_node_key(hospital, openssh_key_blob(line))
    certificate = certificate_fingerprint(self_signed().public_bytes(serialization.Encoding.PEM))
    registry.set_superlink_certificate(actors.admin, certificate, "superlink.example:9093")

    with EventIndex.open(str(tmp_path / "index.sqlite"), consortium.manifest) as index:
        index.sync(client)
        (published,) = index.events(name="NodeKeyPublished", member=member_id)
        (pinned,) = index.events(name="SuperLinkCertificateSet")
        events = index.events()
        context = AuditContext.load(IndexSource(consortium, index))
    assert published.contract == pinned.contract == "ConsortiumRegistry"
    assert published.args == {
        "memberId": member_id,
        "fingerprint": "0x" + node_key_fingerprint(line).hex(),
        "publicKey": "0x" + openssh_key_blob(line).hex(),
    }
    assert pinned.args == {"fingerprint": "0x" + certificate.hex(), "endpoint": "superlink.example:9093"}

    history = History.of(events)
    assert [e.name for e in history.membership[member_id]] == ["MembershipRequested", "NodeKeyPublished"]
    assert history.superlink_certificates == [pinned]
    assert history.member_name(member_id) == "St. Mary"
    # The audit's member view says what happened.
    details = [(step.event, step.detail) for step in member_view(context, member_id).history]
    assert details[1] == ("NodeKeyPublished", f"node key 0x{node_key_fingerprint(line).hex()} published")
