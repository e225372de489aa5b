"""``bcfl superlink publish-certificate``: the admin pins the Fleet endpoint's certificate on chain, and
``bcfl node init`` then accepts that endpoint; bad input is one line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bcfl.chain.consortium import Consortium
from bcfl.chain.fingerprints import certificate_fingerprint
from bcfl.cli.main import app
from bcfl.flower.certs import ensure_tls
from tests.conftest import Actors


def publish(consortium: Consortium, manifest: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        [
            "superlink",
            "publish-certificate",
            *args,
            "--manifest",
            str(manifest),
            "--rpc-url",
            consortium.client.rpc_url,
        ],
    )
    return result.exit_code, " ".join(result.output.replace("│", " ").split())


def test_the_admin_publishes_once_and_others_cannot(
    deployed: Consortium, actors: Actors, tmp_path: Path
) -> None:
    manifest = tmp_path / "deployment.json"
    deployed.manifest.save(manifest)
    tls = ensure_tls(tmp_path / "tls", ["gateway.example.org"])
    cert = str(tls.server_cert)

    code, output = publish(
        deployed,
        manifest,
        cert,
        "--endpoint",
        "gateway.example.org:9443",
        "--dev-account",
        "0",
        "--format",
        "json",
    )
    assert code == 0, output
    data = json.loads(output[output.index("{") :])  # after the dev-key warning (stderr)
    assert data["changed"] and data["fingerprint"] == tls.fingerprint()
    fingerprint = certificate_fingerprint(tls.server_cert.read_bytes())
    assert deployed.registry.superlink_certificate() == (fingerprint, "gateway.example.org:9443")

    code, output = publish(
        deployed, manifest, cert, "--endpoint", "gateway.example.org:9443", "--dev-account", "0"
    )
    assert code == 0 and "already published" in output

    # A hospital's key is not the admin: refused, on chain nothing changed.
    code, output = publish(
        deployed, manifest, cert, "--endpoint", "other.example.org:9443", "--dev-account", "3"
    )
    assert code == 1 and "admin" in output and "Traceback" not in output, output
    assert deployed.registry.superlink_certificate() == (fingerprint, "gateway.example.org:9443")


def test_bad_input_is_one_line(deployed: Consortium, tmp_path: Path) -> None:
    manifest = tmp_path / "deployment.json"
    deployed.manifest.save(manifest)
    not_a_cert = tmp_path / "server.pem"
    not_a_cert.write_text("-----BEGIN CERTIFICATE-----\ntruncated\n")
    tls = ensure_tls(tmp_path / "tls", [])
    cases = [
        ([str(not_a_cert), "--endpoint", "h:1"], "is not a certificate"),
        ([str(tls.server_cert), "--endpoint", "https://h:9443"], "must be host:port"),
        ([str(tls.server_cert), "--endpoint", "h:99999"], "must be host:port"),
    ]
    for args, expected in cases:
        code, output = publish(deployed, manifest, *args, "--dev-account", "0")
        assert code != 0 and expected in output and "Traceback" not in output, output
    assert deployed.registry.superlink_certificate()[0] == bytes(32)
