"""``bcfl node init / join / doctor`` against a real Anvil, the deployed contracts, and a TLS server
presenting the consortium's certificate: the hospital IT's journey and its error cases."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.fingerprints import certificate_fingerprint
from bcfl.cli.main import app
from bcfl.demo.heart import prepare_heart_hospitals
from bcfl.flower.certs import TlsFiles, ensure_tls
from tests.chain.helpers import prepare_rounds
from tests.conftest import Actors
from tests.node.tls_server import file_names, tls_server

PASSWORD = "correct horse battery"
ENV = {"BCFL_KEYSTORE_PASSWORD": PASSWORD}


@dataclass(frozen=True)
class Site:
    """What a hospital IT has before ``init``: the manifest, the chain's URL, data and schema."""

    manifest: Path
    rpc_url: str
    data: Path
    schema: Path
    tls: TlsFiles
    consortium: Consortium

    def init_args(self, folder: Path, superlink: str) -> list[str]:
        return [
            "node", "init", str(folder), "--manifest", str(self.manifest), "--rpc-url", self.rpc_url,
            "--data", str(self.data), "--schema", str(self.schema), "--superlink", superlink,
            "--name", "St Mary",
        ]  # fmt: skip


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env if env is not None else ENV)


def one_line_error(result: Result) -> str:
    """The error of a failed command: exit 1, one line, no traceback."""
    assert result.exit_code == 1, result.output
    assert ("Traceback" not in result.output and result.exception is None) or isinstance(
        result.exception, SystemExit
    )
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


@pytest.fixture
def site(deployed: Consortium, actors: Actors, tmp_path: Path) -> Site:
    prepare_rounds(deployed, actors.admin)
    manifest = tmp_path / "given" / "deployment.json"
    deployed.manifest.save(manifest)
    (hospital,) = prepare_heart_hospitals(tmp_path / "given", ["hungary"])
    tls = ensure_tls(tmp_path / "tls", [])
    return Site(manifest, deployed.client.rpc_url, hospital.data, hospital.schema, tls, deployed)


def publish(site: Site, actors: Actors, address: str, certificate: Path | None = None) -> None:
    fingerprint = certificate_fingerprint((certificate or site.tls.server_cert).read_bytes())
    site.consortium.registry.set_superlink_certificate(actors.admin, fingerprint, address)


def test_init_pins_the_published_certificate_and_never_overwrites_a_key(
    site: Site, actors: Actors, tmp_path: Path
) -> None:
    folder = tmp_path / "node"
    with tls_server(site.tls) as address:
        publish(site, actors, address)
        result = invoke(*site.init_args(folder, address), "--format", "json")
        assert result.exit_code == 0, result.output
        made = json.loads(result.stdout)
        assert (folder / "ca.crt").read_bytes() == site.tls.ca_cert.read_bytes()
        assert made["pinned"] == site.tls.fingerprint() and made["warnings"] == []
        assert made["data"]["train_examples"] > 0 and made["next_step"] == f"bcfl node join {folder}"
        for secret in ("keystore.json", "node.key"):
            assert stat.S_IMODE((folder / secret).stat().st_mode) == 0o600
        config = json.loads((folder / "node.json").read_text())
        assert config["superlink"] == address and config["name"] == "St Mary"
        key = (folder / "node.key").read_bytes()

        again = invoke(*site.init_args(folder, address))
    assert again.exit_code == 0, again.output
    assert "reused the existing keystore" in again.output and "reused the Flower node key" in again.output
    assert (folder / "node.key").read_bytes() == key
    assert json.loads((folder / "keystore.json").read_text())["address"].lower() in made["address"].lower()


def test_init_takes_the_superlink_address_published_on_chain(
    site: Site, actors: Actors, tmp_path: Path
) -> None:
    folder = tmp_path / "node"
    with tls_server(site.tls) as address:
        publish(site, actors, address)
        args = site.init_args(folder, address)
        del args[args.index("--superlink") : args.index("--superlink") + 2]
        result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert json.loads((folder / "node.json").read_text())["superlink"] == address
    assert "next: bcfl node join" in result.output


def test_init_without_a_published_certificate_makes_the_keys_and_says_what_to_ask(
    site: Site, tmp_path: Path
) -> None:
    folder = tmp_path / "node"
    with tls_server(site.tls) as address:
        result = invoke(*site.init_args(folder, address))
    assert result.exit_code == 0, result.output
    assert "has not published its SuperLink certificate" in result.output
    assert "ca.crt" not in file_names(folder) and "node.json" in file_names(folder)


def test_init_refuses_a_certificate_that_is_not_the_published_one_and_writes_nothing(
    site: Site, actors: Actors, tmp_path: Path
) -> None:
    impostor = ensure_tls(tmp_path / "impostor", [])
    folder = tmp_path / "node"
    with tls_server(impostor) as address:
        publish(site, actors, address)
        line = one_line_error(invoke(*site.init_args(folder, address)))
    assert "not the consortium's SuperLink" in line and impostor.fingerprint()[2:] in line
    assert file_names(folder) == set()


def test_init_needs_the_ca_when_the_server_presents_its_certificate_alone(
    site: Site, actors: Actors, tmp_path: Path
) -> None:
    folder = tmp_path / "node"
    with tls_server(site.tls, with_ca=False) as address:
        publish(site, actors, address)
        warned = invoke(*site.init_args(folder, address))
        assert warned.exit_code == 0 and "without the CA certificate that signed it" in warned.output
        assert "ca.crt" not in file_names(folder)
        given = invoke(*site.init_args(folder, address), "--ca-cert", str(site.tls.ca_cert))
    assert given.exit_code == 0, given.output
    assert (folder / "ca.crt").read_bytes() == site.tls.ca_cert.read_bytes()


def test_init_errors_are_one_line_and_leave_nothing(site: Site, actors: Actors, tmp_path: Path) -> None:
    folder = tmp_path / "node"
    semicolons = tmp_path / "semicolons.csv"
    semicolons.write_text(site.data.read_text().replace(",", ";"))
    wrong_chain = tmp_path / "wrong-chain.json"
    data = json.loads(site.manifest.read_text())
    wrong_chain.write_text(json.dumps({**data, "chain_id": data["chain_id"] + 1}))
    with tls_server(site.tls) as address:
        publish(site, actors, address)
        args = site.init_args(folder, address)

        def swap(option: str, value: str) -> list[str]:
            changed = list(args)
            changed[changed.index(option) + 1] = value
            return changed

        cases = {
            "did not answer": swap("--rpc-url", "http://127.0.0.1:9"),
            "manifest is for chain id": swap("--manifest", str(wrong_chain)),
            "cannot be used for training": swap("--data", str(semicolons)),
            "cannot read deployment manifest": swap("--manifest", str(tmp_path / "missing.json")),
            "must be host:port": swap("--superlink", "https://" + address),
        }
        for expected, case in cases.items():
            line = one_line_error(invoke(*case))
            assert expected in line, (expected, line)
            assert file_names(folder) == set(), expected
        # A URL without its scheme is refused while the options are read (a usage error, exit 2).
        no_scheme = invoke(*swap("--rpc-url", "127.0.0.1:8546"))
        assert no_scheme.exit_code == 2 and "has no scheme" in no_scheme.output, no_scheme.output
        assert "Traceback" not in no_scheme.output and file_names(folder) == set()
        short = invoke(*args, env={"BCFL_KEYSTORE_PASSWORD": "short"})
        assert "at least 8 characters" in one_line_error(short) and file_names(folder) == set()
        assert invoke(*args).exit_code == 0
        before = {name: (folder / name).read_bytes() for name in file_names(folder)}
        wrong = invoke(*args, env={"BCFL_KEYSTORE_PASSWORD": "not the password"})
    assert "wrong password" in one_line_error(wrong)
    assert {name: (folder / name).read_bytes() for name in file_names(folder)} == before


def test_join_asks_for_ether_then_requests_publishes_and_follows_the_status(
    site: Site, actors: Actors, tmp_path: Path
) -> None:
    folder = tmp_path / "node"
    with tls_server(site.tls) as address:
        publish(site, actors, address)
        assert invoke(*site.init_args(folder, address)).exit_code == 0
    hospital = json.loads((folder / "keystore.json").read_text())["address"]
    line = one_line_error(invoke("node", "join", str(folder)))
    assert "no ether" in line and "bcfl member fund" in line
    registry = site.consortium.registry
    assert registry.member_count() == 0
    client: ChainClient = site.consortium.client
    client.transfer(actors.admin, client.w3.to_checksum_address("0x" + hospital.removeprefix("0x")), 10**17)

    first = invoke("node", "join", str(folder), "--format", "json")
    assert first.exit_code == 0, first.output
    status = json.loads(first.stdout)
    assert status["status"] == "pending" and status["node_key_published"] and len(status["sent"]) == 2
    member_id = status["member_id"]
    assert registry.published_node_key(member_id) is not None

    again = invoke("node", "join", str(folder))
    assert again.exit_code == 0 and "done:" not in again.output and "pending (0 approvals" in again.output
    registry.approve(actors.admin, member_id)
    approved = json.loads(invoke("node", "join", str(folder), "--format", "json").stdout)
    assert (
        approved["status"] == "active"
        and approved["sent"] == []
        and "bcfl node doctor" in approved["next_step"]
    )
    assert registry.member_count() == 1


def test_doctor_reports_each_check_and_what_to_fix(site: Site, actors: Actors, tmp_path: Path) -> None:
    folder = tmp_path / "node"
    with tls_server(site.tls) as address:
        publish(site, actors, address)
        assert invoke(*site.init_args(folder, address)).exit_code == 0
        hospital = json.loads((folder / "keystore.json").read_text())["address"]
        client = site.consortium.client
        client.transfer(
            actors.admin, client.w3.to_checksum_address("0x" + hospital.removeprefix("0x")), 10**17
        )

        def checks(env: dict[str, str] | None = None) -> tuple[int, dict[str, dict[str, str]]]:
            result = invoke("node", "doctor", str(folder), "--format", "json", env=env)
            report = json.loads(result.stdout)
            return result.exit_code, {c["name"]: c for c in report["checks"]}

        code, pending = checks()
        assert code == 1 and "bcfl node join" in pending["membership"]["detail"]
        assert pending["node key"]["detail"].startswith("skipped")
        assert invoke("node", "join", str(folder)).exit_code == 0
        site.consortium.registry.approve(actors.admin, 1)

        code, report = checks()
        for name in (
            "rpc",
            "contracts",
            "keystore",
            "membership",
            "node key",
            "apps",
            "superlink",
            "data",
            "disk",
        ):
            assert report[name]["status"] == "ok", report[name]
        assert report["clock"]["status"] in ("ok", "warn")
        # A handshake-only server is not a SuperLink: admission cannot be asked, and that is a failure.
        assert code == 1 and report["admission"]["status"] == "fail"

        code, wrong = checks({"BCFL_KEYSTORE_PASSWORD": "not the password"})
        assert wrong["keystore"]["status"] == "fail" and "wrong password" in wrong["keystore"]["detail"]
        table = invoke("node", "doctor", str(folder))
        assert table.exit_code == 1 and "ok" in table.output and "Traceback" not in table.output

    (folder / "node.json").write_text(
        (folder / "node.json").read_text().replace(site.rpc_url, "http://127.0.0.1:9")
    )
    code, down = checks()
    assert code == 1 and down["rpc"]["status"] == "fail" and "did not answer" in down["rpc"]["detail"]
    assert down["membership"]["detail"].startswith("skipped")


def test_doctor_names_a_certificate_that_changed_since_init(
    site: Site, actors: Actors, tmp_path: Path
) -> None:
    folder = tmp_path / "node"
    with tls_server(site.tls) as address:
        publish(site, actors, address)
        assert invoke(*site.init_args(folder, address)).exit_code == 0
    impostor = ensure_tls(tmp_path / "impostor", [])
    with tls_server(impostor) as other:
        config = json.loads((folder / "node.json").read_text())
        (folder / "node.json").write_text(json.dumps({**config, "superlink": other}))
        result = invoke("node", "doctor", str(folder), "--format", "json")
    report = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert result.exit_code == 1
    assert "not the one published on chain" in report["superlink"]["detail"]


def test_node_commands_on_a_folder_that_is_not_a_node(tmp_path: Path) -> None:
    for command in ("join", "doctor", "start", "stop", "rotate-key"):
        line = one_line_error(invoke("node", command, str(tmp_path)))
        assert "is not a node folder" in line and "bcfl node init" in line, command
    assert not os.listdir(tmp_path)


def test_start_refuses_when_the_superlink_is_down_and_starts_nothing(
    site: Site, actors: Actors, tmp_path: Path
) -> None:
    folder = tmp_path / "node"
    with tls_server(site.tls) as address:
        publish(site, actors, address)
        assert invoke(*site.init_args(folder, address)).exit_code == 0
    hospital = json.loads((folder / "keystore.json").read_text())["address"]
    client = site.consortium.client
    client.transfer(actors.admin, client.w3.to_checksum_address("0x" + hospital), 10**17)
    assert invoke("node", "join", str(folder)).exit_code == 0
    site.consortium.registry.approve(actors.admin, 1)
    line = one_line_error(invoke("node", "start", str(folder), "--wait", "5"))
    assert "not starting:" in line and "cannot open a TLS connection to the SuperLink" in line
    assert not any(name.endswith(".pid") for name in os.listdir(folder)) and not (folder / "logs").exists()
