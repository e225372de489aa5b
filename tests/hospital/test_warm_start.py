"""The warm start of ClientApps (hospital_node.warm): Flower's command line, one forked process per
request running Flower's own ``flwr-clientapp``, the app's code from its bundle, and the cold start
whenever the server is gone. The whole stack (every federation test's ClientApps start warm) is in
tests/federation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flwr.supercore.constant import ExecutorType, TaskType
from flwr.supercore.superexec import run_superexec as flower_run_superexec
from flwr.supercore.superexec.executor import ExecutionSpec, LaunchResult, SubprocessExecutor

from hospital_node.errors import HospitalNodeError
from hospital_node.superexec import EXECUTOR_ATTRIBUTE, install_warm_start
from hospital_node.warm import server
from hospital_node.warm.executor import WarmExecutor, command_line


def spec(task_type: TaskType = TaskType.CLIENT_APP, **changes: Any) -> ExecutionSpec:
    fields: dict[str, Any] = {
        "task_type": task_type,
        "runtime_api_address": "127.0.0.1:9094",
        "token": "t0k3n",
        "insecure": False,
        "root_certificates_path": "/certs/ca.pem",
        "runtime_dependency_install": False,
        "parent_pid": 4242,
        "suppress_output": True,
        "task_id": 7,
    }
    return ExecutionSpec(**{**fields, **changes})


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"insecure": True},
        {"root_certificates_path": None, "parent_pid": None},
        {"runtime_dependency_install": True},
    ],
)
def test_the_command_line_is_the_one_flowers_subprocess_executor_runs(
    changes: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[list[str]] = []
    monkeypatch.setattr(subprocess, "Popen", lambda args, **kwargs: started.append(list(args)))
    task = spec(**changes)
    SubprocessExecutor().launch(task)
    assert started == [command_line(task)]


@pytest.mark.parametrize(
    "line", ["not json", "[]", '{"argv": []}', '{"argv": ["a", 1]}', '{"argv": ["a"], "quiet": "yes"}']
)
def test_a_malformed_request_is_refused(line: str) -> None:
    with pytest.raises(ValueError):
        server.parse_request(line)


def test_each_request_forks_a_process_that_runs_flowers_flwr_clientapp() -> None:
    requests = [{"argv": ["flwr-clientapp", "--help"], "quiet": False}] * 2 + [
        {"argv": ["flwr-clientapp", "--help"], "quiet": True}
    ]
    done = subprocess.run(
        [sys.executable, "-m", "hospital_node.warm.server"],
        input="".join(json.dumps(r) + "\n" for r in requests) + "garbage\n",
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # Flower's own parser answered twice; the quiet request's output went nowhere.
    assert done.stdout.count("usage: flwr-clientapp") == 2
    assert "--runtime-api-address" in done.stdout
    assert "ignoring a malformed request" in done.stderr


def test_a_child_loads_the_apps_modules_from_the_bundle_not_the_servers(tmp_path: Path) -> None:
    bundle = tmp_path / "fab"
    (bundle / "hospital_node").mkdir(parents=True)
    (bundle / "hospital_node" / "__init__.py").write_text("")
    (bundle / "hospital_node" / "client_app.py").write_text("FROM_BUNDLE = True\n")
    assert "hospital_node" in sys.modules  # the test process imported the installed package
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: what run_child does before Flower loads the app from its bundle
        os.close(read)
        server.forget_project_modules()
        sys.path.insert(0, str(bundle))
        import importlib

        module = importlib.import_module("hospital_node.client_app")
        os.write(write, json.dumps([module.__file__, getattr(module, "FROM_BUNDLE", False)]).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        loaded_from, from_bundle = json.loads(pipe.read())
    os.waitpid(pid, 0)
    assert Path(loaded_from).is_relative_to(bundle) and from_bundle


def test_without_its_server_a_task_starts_cold(monkeypatch: pytest.MonkeyPatch) -> None:
    cold: list[ExecutionSpec] = []

    def launch_cold(self: SubprocessExecutor, task: ExecutionSpec) -> LaunchResult:
        cold.append(task)
        return LaunchResult.accepted()

    monkeypatch.setattr(SubprocessExecutor, "launch", launch_cold)
    executor = WarmExecutor()
    try:
        other = spec(TaskType.SERVER_APP)
        assert executor.launch(other).status == "accepted" and cold == [other]
        assert executor._server is not None
        executor._server.kill()
        executor._server.wait()
        task = spec()
        assert executor.launch(task).status == "accepted" and cold == [other, task]
    finally:
        executor.close()


def test_the_executor_is_replaced_and_a_moved_one_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    flowers = getattr(flower_run_superexec, EXECUTOR_ATTRIBUTE)
    monkeypatch.setattr(flower_run_superexec, EXECUTOR_ATTRIBUTE, flowers)  # restored afterwards
    install_warm_start()
    warm = getattr(flower_run_superexec, EXECUTOR_ATTRIBUTE)(ExecutorType.SUBPROCESS)
    try:
        assert isinstance(warm, WarmExecutor)
    finally:
        warm.close()
    monkeypatch.delattr(flower_run_superexec, EXECUTOR_ATTRIBUTE)
    with pytest.raises(HospitalNodeError, match="--cold-start"):
        install_warm_start()


def test_the_server_keeps_the_apps_libraries_and_none_of_the_projects_modules() -> None:
    probe = (
        "import sys\n"
        "from hospital_node.warm import server\n"
        "failed = server.preload(server.PRELOAD)\n"
        "server.forget_project_modules()\n"
        "project = sorted(m for m in sys.modules if m.partition('.')[0] in server.PROJECT_PACKAGES)\n"
        "print(failed, project, all(m in sys.modules for m in ('torch', 'numpy', 'eth_account', 'httpx')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=True
    )
    assert done.stdout.split() == ["[]", "[]", "True"]
