"""A finished run's chain state is evidence: ``load_state`` (``bcfl chain start --load-state``)
reopens it without ever writing it."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bcfl.chain.anvil import AnvilError, AnvilNode
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.deploy import deploy_consortium
from bcfl.cli.main import app
from tests.chain.helpers import admit
from tests.conftest import Actors


def _fingerprint(path: Path) -> tuple[str, int, int, int, int, list[str]]:
    """Content, inode, mode, mtime and ctime (any write, rename or chmod changes one) and the folder."""
    stat = path.stat()
    return (
        hashlib.sha256(path.read_bytes()).hexdigest(),
        stat.st_ino,
        stat.st_mode,
        stat.st_mtime_ns,
        stat.st_ctime_ns,
        sorted(p.name for p in path.parent.iterdir()),
    )


def test_a_read_only_load_leaves_the_state_file_byte_identical(tmp_path: Path, actors: Actors) -> None:
    chain_dir = tmp_path / "chain"
    state = chain_dir / "state.json"
    with AnvilNode(state_path=state, log_path=tmp_path / "anvil-run.log") as node:
        client = ChainClient(node.rpc_url)
        manifest = deploy_consortium(client, actors.admin, coordinator=actors.coordinator.address)
        first = admit(Consortium.connect(client, manifest), actors.admin, actors.hospitals[0], "St Mary")
        block = client.block_number()
    # Evidence: read-only for everyone, its folder too (root ignores modes: the fingerprint decides).
    state.chmod(0o444)
    chain_dir.chmod(0o555)
    before = _fingerprint(state)
    try:
        with AnvilNode(load_state=state, log_path=tmp_path / "anvil-audit.log") as node:
            client = ChainClient(node.rpc_url)
            consortium = Consortium.connect(client, manifest)
            assert client.block_number() == block
            assert [m.name for m in consortium.registry.members()] == ["St Mary"]
            # Transactions on the reopened chain, and time for several of --state's 1 s dumps.
            admit(consortium, actors.admin, actors.hospitals[1], "St Luke")
            assert client.block_number() > block
            time.sleep(2.5)
            assert _fingerprint(state) == before
        assert _fingerprint(state) == before
        # Nothing of the audit session was kept: a second load starts where the run ended.
        with AnvilNode(load_state=state, log_path=tmp_path / "anvil-audit-2.log") as node:
            client = ChainClient(node.rpc_url)
            assert client.block_number() == block
            assert [m.member_id for m in Consortium.connect(client, manifest).registry.members()] == [first]
        assert _fingerprint(state) == before
    finally:
        chain_dir.chmod(0o755)
        state.chmod(0o644)


def test_a_read_only_load_refuses_what_is_not_a_state_file(tmp_path: Path) -> None:
    with pytest.raises(AnvilError, match=r"no state file at .*missing\.json") as missing:
        AnvilNode(load_state=tmp_path / "missing.json").start()
    manifest = tmp_path / "deployment.json"
    manifest.write_text('{"chain_id": 31337}')
    with pytest.raises(AnvilError, match="not an Anvil state file") as not_state:
        AnvilNode(load_state=manifest).start()
    garbage = tmp_path / "state.json"
    garbage.write_bytes(b"\x00\x01 half-written")
    with pytest.raises(AnvilError, match="not an Anvil state file"):
        AnvilNode(load_state=garbage).start()
    assert "\n" not in str(missing.value) and "\n" not in str(not_state.value)
    with pytest.raises(AnvilError, match="not both"):
        AnvilNode(state_path=garbage, load_state=garbage)
    assert sorted(os.listdir(tmp_path)) == ["deployment.json", "state.json"]


def test_chain_start_refuses_a_missing_state_file_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["chain", "start", "--load-state", str(tmp_path / "state.json")])
    assert result.exit_code == 1
    assert "no state file at" in result.output and len(result.output.strip().splitlines()) == 1
    both = CliRunner().invoke(
        app, ["chain", "start", "--load-state", str(tmp_path / "a"), "--state", str(tmp_path / "b")]
    )
    assert both.exit_code != 0 and "not both" in both.output
    assert list(tmp_path.iterdir()) == []
