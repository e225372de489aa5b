"""An app's hash as ``flwr run`` sends it, and ``bcfl app hash|status|approve`` against a real Anvil.

That each hospital's SuperNode receives exactly this hash is checked through the real stack in
tests/federation/test_federation.py.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bcfl.apps import AppBundleError, app_hash, hash_text, resolve_app
from bcfl.chain.anvil import AnvilNode
from bcfl.chain.consortium import Consortium
from bcfl.chain.devkeys import dev_account
from bcfl.cli.main import app

ROGUE_APP = Path(__file__).parent / "federation" / "rogue_app"
runner = CliRunner()


def test_the_hash_is_that_of_the_bundle_flwr_builds_and_changes_with_one_byte(tmp_path: Path) -> None:
    copy = shutil.copytree(ROGUE_APP, tmp_path / "rogue-app")  # `flwr build` wants a hyphenated name
    out = tmp_path / "out"
    out.mkdir()
    flwr = Path(sys.executable).parent / "flwr"
    built = subprocess.run([str(flwr), "build", "--app", str(copy)], cwd=out, capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    (fab,) = out.glob("*.fab")
    digest = app_hash(ROGUE_APP)
    assert hashlib.sha256(fab.read_bytes()).digest() == digest  # the folder's name and place do not count
    assert app_hash(copy) == app_hash(ROGUE_APP) == digest
    source = copy / "rogue_app.py"
    source.write_bytes(source.read_bytes().replace(b"ROGUE-CLIENTAPP-RAN", b"ROGUE-CLIENTAPP-RAM"))
    assert app_hash(copy) != digest


def test_the_products_bundle_holds_every_module_its_apps_import_and_no_tooling() -> None:
    import io
    import zipfile

    from flwr.cli.build import build_fab_from_disk

    root = Path(__file__).parent.parent
    with zipfile.ZipFile(io.BytesIO(build_fab_from_disk(root))) as fab:
        names = set(fab.namelist())
    probe = (
        "import importlib, pkgutil, sys\n"
        "import coordinator.server_app, hospital_node.client_app\n"
        "import bcfl.chain, bcfl.learning, bcfl.models, coordinator\n"  # lazily imported modules too
        "for package in (bcfl.chain, bcfl.learning, bcfl.models, coordinator):\n"
        "    for info in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "        importlib.import_module(info.name)\n"
        "for name, module in sorted(sys.modules.items()):\n"
        "    if name.partition('.')[0] in ('bcfl', 'coordinator', 'hospital_node'):\n"
        "        print(module.__file__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=300
    )
    imported = {Path(line).relative_to(root).as_posix() for line in done.stdout.split()}
    assert len(imported) > 40 and imported <= names, sorted(imported - names)
    assert {"bcfl/chain/artifacts/RoundLedger.json", "bcfl/learning/schemas/uci_heart_disease.json"} <= names
    tooling = (
        "tests/", "benchmarks/", "scripts/", "bcfl/cli/", "bcfl/demo/", "hospital_node/site/",
        "hospital_node/warm/", "hospital_node/superexec.py", "hospital_node/supernode.py",
    )  # fmt: skip
    assert not [n for n in names if n.startswith(tooling)]


def test_an_app_is_named_by_its_folder_or_its_hash(tmp_path: Path) -> None:
    digest = app_hash(ROGUE_APP)
    assert hash_text(digest) == "0x" + digest.hex()
    assert resolve_app(str(ROGUE_APP)) == digest
    assert resolve_app(hash_text(digest)) == resolve_app(digest.hex()) == digest
    with pytest.raises(AppBundleError, match=r"has no pyproject\.toml"):
        resolve_app(str(tmp_path))
    with pytest.raises(AppBundleError, match="neither a Flower App folder nor an app hash"):
        resolve_app("0x1234")


def test_cli_hashes_checks_and_approves_an_app_once(
    anvil: AnvilNode, consortium: Consortium, tmp_path: Path
) -> None:
    manifest = tmp_path / "deployment.json"
    consortium.manifest.save(manifest)
    chain = ["--rpc-url", anvil.rpc_url, "--manifest", str(manifest)]
    digest = hash_text(app_hash(ROGUE_APP))

    hashed = runner.invoke(app, ["app", "hash", str(ROGUE_APP)])
    assert hashed.exit_code == 0 and hashed.output.strip() == digest
    status = runner.invoke(app, ["app", "status", str(ROGUE_APP), *chain, "--format", "json"])
    assert status.exit_code == 0, status.output
    assert json.loads(status.output) == {"app": str(ROGUE_APP), "hash": digest, "approved": False}
    assert "NOT approved" in runner.invoke(app, ["app", "status", digest, *chain]).output

    approve = ["app", "approve", str(ROGUE_APP), *chain, "--dev-account", "0", "--format", "json"]
    first = runner.invoke(app, approve)
    assert first.exit_code == 0, first.output
    assert json.loads(first.output[first.output.index("{") :])["outcome"] == "approved now"
    assert consortium.ledger.is_app_approved(bytes.fromhex(digest[2:]))
    again = runner.invoke(app, ["app", "approve", digest, *chain, "--dev-account", "0"])
    assert again.exit_code == 0 and f"app {digest}: approved (already)" in again.output
    assert f"app {digest}: approved" in runner.invoke(app, ["app", "status", digest, *chain]).output


def test_cli_refuses_in_one_line(anvil: AnvilNode, consortium: Consortium, tmp_path: Path) -> None:
    manifest = tmp_path / "deployment.json"
    consortium.manifest.save(manifest)
    chain = ["--rpc-url", anvil.rpc_url, "--manifest", str(manifest)]
    for args in (
        ["app", "hash", str(tmp_path)],
        ["app", "status", "nonsense", *chain],
        ["app", "approve", "0x" + "ab" * 32, *chain, "--dev-account", "9"],  # not the admin
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, (args, result.output)
        lines = [line for line in result.output.splitlines() if "PUBLIC dev key" not in line]
        assert len(lines) == 1 and lines[0].startswith("error: "), result.output


def test_in_governance_mode_the_members_approve_an_app(
    anvil: AnvilNode, consortium: Consortium, members: list[int], tmp_path: Path
) -> None:
    manifest = tmp_path / "deployment.json"
    consortium.manifest.save(manifest)
    chain = ["--rpc-url", anvil.rpc_url, "--manifest", str(manifest)]
    consortium.registry.set_governance(dev_account(0), True, 2)
    digest = hash_text(app_hash(ROGUE_APP))
    alone = runner.invoke(app, ["app", "approve", digest, *chain, "--dev-account", "0"])  # the admin
    assert alone.exit_code == 1 and "ConsortiumRegistryNotActiveMember" in alone.output, alone.output
    first = runner.invoke(app, ["app", "approve", digest, *chain, "--dev-account", "2"])  # hospital 1
    assert first.exit_code == 0 and "not approved yet (1 of 2 member approvals)" in first.output, first.output
    assert not consortium.ledger.is_app_approved(bytes.fromhex(digest[2:]))
    second = runner.invoke(app, ["app", "approve", digest, *chain, "--dev-account", "3"])  # hospital 2
    assert second.exit_code == 0 and f"app {digest}: approved (approved now)" in second.output, second.output
    assert consortium.ledger.is_app_approved(bytes.fromhex(digest[2:]))
