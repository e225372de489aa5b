"""The hospital's SuperExec (``bcfl-superexec``) on a real Anvil: what it refuses, and the Flower
internals it relies on (these tests fail first if Flower moves them).

The whole stack (a refused app's tasks on every hospital, the approved App training) is in
tests/federation/test_federation.py.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from flwr.proto.task_pb2 import Task
from flwr.supercore.constant import ExecutorType, TaskType
from flwr.supercore.superexec import run_superexec as flower_run_superexec
from flwr.supercore.superexec.executor import LaunchResultStatus, get_executor
from flwr.supercore.superexec.plugin import AutoExecPlugin

from bcfl.apps import hash_text
from bcfl.chain.anvil import free_port
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.ledger import Ledger
from hospital_node.app_approval import AppApproval
from hospital_node.errors import HospitalNodeError
from hospital_node.superexec import PLUGIN_ATTRIBUTE, approving_plugin, install_plugin, main
from tests.conftest import Actors

APPROVED = bytes(range(32))
UNKNOWN = bytes(range(1, 33))


def test_flowers_superexec_still_builds_its_plugin_where_bcfl_superexec_replaces_it() -> None:
    plugin = getattr(flower_run_superexec, PLUGIN_ATTRIBUTE)
    assert plugin is AutoExecPlugin and callable(getattr(AutoExecPlugin, "launch_task", None))
    source = inspect.getsource(flower_run_superexec.run_superexec)
    # The module attribute is looked up when the plugin is built, and every task goes to launch_task.
    assert f"plugin = {PLUGIN_ATTRIBUTE}(" in source
    assert "plugin.launch_task(" in source and "token=combined_res.token, task=combined_res.task" in source
    assert "fab_hash" in Task.DESCRIPTOR.fields_by_name


def test_the_plugin_is_replaced_and_a_moved_plugin_fails_closed(
    consortium: Consortium, monkeypatch: pytest.MonkeyPatch
) -> None:
    approval = AppApproval(consortium.ledger)
    monkeypatch.setattr(flower_run_superexec, PLUGIN_ATTRIBUTE, AutoExecPlugin)  # restored afterwards
    install_plugin(approval)
    installed = getattr(flower_run_superexec, PLUGIN_ATTRIBUTE)
    assert installed is not AutoExecPlugin and issubclass(installed, AutoExecPlugin)
    monkeypatch.delattr(flower_run_superexec, PLUGIN_ATTRIBUTE)
    with pytest.raises(HospitalNodeError, match="cannot check apps"):
        install_plugin(approval)


def test_only_approved_apps_pass_and_the_check_fails_closed(consortium: Consortium, actors: Actors) -> None:
    consortium.ledger.approve_app(actors.admin, APPROVED)
    approval = AppApproval(consortium.ledger)
    assert approval.refusal(APPROVED.hex()) is None
    refusal = approval.refusal(UNKNOWN.hex())
    assert refusal == (
        f"app {hash_text(UNKNOWN)} is not approved by the consortium on chain: "
        "an admin approves it with `bcfl app approve`"
    )
    for bad in ("", "not-a-hash", APPROVED.hex().upper(), APPROVED.hex()[:-2]):
        assert "names no app hash" in (approval.refusal(bad) or ""), bad
    consortium.ledger.revoke_app(actors.admin, APPROVED)
    assert "is not approved" in (approval.refusal(APPROVED.hex()) or "")
    # A chain that cannot be asked refuses too.
    dead = ChainClient(f"http://127.0.0.1:{free_port()}", retries=1, backoff_s=0.01)
    unreachable = AppApproval(Ledger(dead, consortium.ledger.address)).refusal(APPROVED.hex())
    assert unreachable is not None and "could not be checked on chain" in unreachable


def test_the_plugin_refuses_an_unapproved_task_before_launching_anything(
    consortium: Consortium, caplog: pytest.LogCaptureFixture
) -> None:
    executor = get_executor(ExecutorType.SUBPROCESS, insecure=True)
    try:
        plugin = approving_plugin(AppApproval(consortium.ledger))(
            runtime_api_address="127.0.0.1:1", insecure=True, root_certificates_path=None, executor=executor
        )
        task = Task(task_id=7, run_id=9, type=TaskType.CLIENT_APP, fab_hash=UNKNOWN.hex())
        result = plugin.launch_task(token="t", task=task)
    finally:
        executor.close()
    assert result.status is LaunchResultStatus.FAILED
    assert result.message is not None and f"app {hash_text(UNKNOWN)} is not approved" in result.message
    (record,) = [r for r in caplog.records if r.name == "hospital_node.superexec"]
    assert record.getMessage().startswith("refusing task 7 of run 9: app ")
    assert "\n" not in record.getMessage()


def test_bcfl_superexec_says_in_one_line_what_is_wrong(
    consortium: Consortium, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--node-config", 'rpc-url="http://127.0.0.1:1"', "--insecure"])
    assert exited.value.code == 1
    assert capsys.readouterr().err == (
        "bcfl-superexec: error: node config 'manifest' is missing (set it in the node's --node-config)\n"
    )
    manifest = tmp_path / "deployment.json"
    consortium.manifest.save(manifest)
    dead = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(SystemExit):
        main(["--node-config", f'rpc-url="{dead}" manifest="{manifest}"', "--insecure"])
    err = capsys.readouterr().err
    assert err.startswith("bcfl-superexec: error: ") and dead in err and err.count("\n") == 1
