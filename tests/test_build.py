"""The build: pinned solc, generated artifacts current, named errors generated, and the Flower App
bundle."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bcfl.build.compile import ARTIFACT_DIR, CONTRACTS, ERRORS_MODULE, compile_contracts, stale_files
from bcfl.build.solc import SOLC_VERSION, find_solc, solc_version
from bcfl.chain import errors
from bcfl.chain.artifacts import abi_hash, load_artifact
from bcfl.chain.revert import decode_revert

#: What a checkout holds beside its sources (environments, caches, build and run outputs).
LOCAL_ONLY = (".git", ".venv", "node_modules", "*_cache", "__pycache__", "build", "runs", "*.egg-info")


@pytest.fixture(scope="module")
def fresh_build() -> dict[Path, str]:
    return compile_contracts().files


def test_pinned_solc_is_found() -> None:
    assert solc_version(find_solc()) == SOLC_VERSION


def test_committed_artifacts_match_a_fresh_compile(fresh_build: dict[Path, str]) -> None:
    expected = {ARTIFACT_DIR / f"{name}.json" for name in CONTRACTS} | {ERRORS_MODULE}
    assert set(fresh_build) == expected
    stale = [str(p) for p, text in fresh_build.items() if p.read_text() != text]
    assert stale == [], f"run `make contracts`: stale generated files {stale}"


def test_stale_files_detects_a_hand_edit(fresh_build: dict[Path, str], tmp_path: Path) -> None:
    from bcfl.build.compile import BuildOutput

    target = tmp_path / "RoundLedger.json"
    target.write_text(fresh_build[ARTIFACT_DIR / "RoundLedger.json"].replace("RoundOpened", "RoundOpenedX"))
    assert stale_files(BuildOutput({target: fresh_build[ARTIFACT_DIR / "RoundLedger.json"]})) == [target]


def test_artifacts_are_headed_as_generated() -> None:
    for name in CONTRACTS:
        artifact = load_artifact(name)
        assert artifact["_generated"].startswith("GENERATED")
        assert artifact["bytecode"].startswith("0x") and len(artifact["bytecode"]) > 1000
        assert abi_hash(name).startswith("0x") and len(abi_hash(name)) == 66
    assert ERRORS_MODULE.read_text().startswith("# GENERATED")


def test_every_custom_error_in_the_abis_has_a_named_exception() -> None:
    names = {
        item["name"] for name in CONTRACTS for item in load_artifact(name)["abi"] if item["type"] == "error"
    }
    assert names <= set(dir(errors))
    assert len(errors.ERRORS_BY_SELECTOR) >= len(names)


def test_revert_data_decodes_into_the_named_exception_with_arguments() -> None:
    from eth_abi.abi import encode

    data = errors.RoundLedgerParticipantExcluded.selector + encode(["uint256", "uint64"], [7, 3])
    exc = decode_revert(data)
    assert isinstance(exc, errors.RoundLedgerParticipantExcluded)
    assert exc.args_by_name == {"round": 7, "memberId": 3}
    assert "below the exclusion threshold" in str(exc)


def test_solc_shim_speaks_the_native_cli(repo_root: Path) -> None:
    shim = repo_root / "scripts" / "solc"
    out = subprocess.run([str(shim), "--version"], capture_output=True, text=True, check=True).stdout
    assert f"Version: {SOLC_VERSION}+commit." in out
    source = (
        "// SPDX-License-Identifier: MIT\npragma solidity 0.8.30;\ncontract A { function f() external {} }"
    )
    request = {
        "language": "Solidity",
        "sources": {"A.sol": {"content": source}},
        "settings": {"outputSelection": {"*": {"*": ["abi"]}}},
    }
    result = subprocess.run(
        [str(shim), "--standard-json", "--allow-paths", str(repo_root)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=True,
    )
    output = json.loads(result.stdout)
    assert output["contracts"]["A.sol"]["A"]["abi"][0]["name"] == "f"
    bad = subprocess.run([str(shim), "--bogus"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unsupported option --bogus" in bad.stderr


def test_the_app_bundle_holds_the_product_and_no_test_apps(repo_root: Path, tmp_path: Path) -> None:
    """What ``flwr run`` ships to the SuperLink and SuperNodes: never the test-only attack app."""
    flwr = Path(sys.executable).with_name("flwr")
    result = subprocess.run(
        [str(flwr), "build", "--app", str(repo_root)], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (fab,) = tmp_path.glob("*.fab")
    names = zipfile.ZipFile(fab).namelist()
    top = {n.split("/")[0] for n in names}
    assert top == {".info", "bcfl", "coordinator", "hospital_node", "pyproject.toml"}
    assert "hospital_node/client_app.py" in names and "coordinator/server_app.py" in names
    assert "bcfl/learning/schemas/uci_heart_disease.json" in names
    assert "bcfl/chain/artifacts/RoundLedger.json" in names
    assert not [n for n in names if "attack" in n or n.startswith(("tests/", "benchmarks/"))]
    assert not [n for n in names if n.startswith("bcfl/audit/assets/")]  # the report charts: not the apps


def test_the_installed_package_holds_no_attack_or_benchmark_code(repo_root: Path, tmp_path: Path) -> None:
    """What ``pip install .`` installs: the product packages, never the benchmark harness and its
    attack functions (benchmarks/) nor the test-only apps. Built from a clean copy of the checkout, so
    nothing a local build left behind (build/) can hide or add a file."""
    source = tmp_path / "source"
    shutil.copytree(repo_root, source, ignore=shutil.ignore_patterns(*LOCAL_ONLY))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(source), "-w", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = tmp_path.glob("bcfl-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.startswith("bcfl-")}
    assert top == {"bcfl", "coordinator", "hospital_node", "dashboard"}
    assert "coordinator/rounds/service.py" in names and "hospital_node/client_app.py" in names
    assert not [n for n in names if "attack" in n or "bench" in n or n.startswith("tests/")]
    assert {"bcfl/audit/assets/uPlot.iife.min.js", "bcfl/audit/assets/uPlot.min.css"} <= set(names)
