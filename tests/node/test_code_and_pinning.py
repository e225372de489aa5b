"""The deployed-code check (immutables filled in, nothing else) and certificate pinning's rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from bcfl.chain.code import code_mismatches, runtime_matches
from bcfl.chain.consortium import Consortium
from bcfl.chain.fingerprints import certificate_fingerprint
from bcfl.flower.certs import ensure_tls
from hospital_node.site.pinning import CertificateMismatchError, PinningError, pin, split_address


def test_the_deployed_code_is_this_builds_and_a_swapped_address_is_named(deployed: Consortium) -> None:
    manifest = deployed.manifest
    assert code_mismatches(deployed.client, manifest) == []
    contracts = dict(manifest.contracts)
    token, ledger = contracts["RewardToken"], contracts["RoundLedger"]
    contracts["RewardToken"] = token.model_copy(update={"address": ledger.address})
    swapped = manifest.model_copy(update={"contracts": contracts})
    assert code_mismatches(deployed.client, swapped) == ["RewardToken"]


def test_runtime_code_may_differ_only_in_the_immutables_zero_slots() -> None:
    expected = bytes.fromhex("6080" + "00" * 32 + "5b")
    assert runtime_matches(bytes.fromhex("6080" + "11" * 32 + "5b"), expected)
    assert not runtime_matches(bytes.fromhex("6081" + "00" * 32 + "5b"), expected)
    assert not runtime_matches(expected + b"\x00", expected)


def der(path: Path) -> bytes:
    return x509.load_pem_x509_certificate(path.read_bytes()).public_bytes(serialization.Encoding.DER)


def test_pinning_takes_the_ca_only_for_the_published_certificate(tmp_path: Path) -> None:
    files, other = ensure_tls(tmp_path / "a", []), ensure_tls(tmp_path / "b", [])
    leaf, ca = der(files.server_cert), der(files.ca_cert)
    published = certificate_fingerprint(leaf)
    pinned = pin([leaf, ca], published, "h:1")
    assert pinned.ca_pem == files.ca_cert.read_bytes() and pinned.fingerprint == published
    with pytest.raises(CertificateMismatchError, match="not the consortium's SuperLink"):
        pin([der(other.server_cert), der(other.ca_cert)], published, "h:1")
    with pytest.raises(PinningError, match="has not published"):
        pin([leaf, ca], bytes(32), "h:1")
    with pytest.raises(PinningError, match="without the CA certificate that signed it"):
        pin([leaf, der(other.ca_cert)], published, "h:1")  # a CA, but not the one that signed it


@pytest.mark.parametrize("bad", ["link", "https://link:9095", "link:0", "link:port", ":9095", "link:70000"])
def test_a_superlink_address_is_host_and_port(bad: str) -> None:
    with pytest.raises(PinningError, match="must be host:port"):
        split_address(bad)
    assert split_address("[::1]:9095") == ("::1", 9095)
