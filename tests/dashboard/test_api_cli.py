"""``bcfl dashboard``: bad input stops it with one line and exit code 1; otherwise it serves, chain
or no chain (then saying the chain is unreachable), and SIGINT or SIGTERM stops it cleanly, open live
feeds included."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from bcfl.chain.anvil import AnvilNode, free_port
from bcfl.chain.consortium import Consortium
from bcfl.cli.main import app
from tests.dashboard.conftest import wait_for

BCFL = Path(sys.executable).parent / "bcfl"
#: Generous: a busy CI machine starts Python and the app slowly.
START_S = 120.0
STOP_S = 60.0


@pytest.fixture
def manifest(deployed: Consortium, tmp_path: Path) -> Path:
    path = tmp_path / "deployment.json"
    deployed.manifest.save(path)
    return path


def refused(*args: str) -> str:
    result = CliRunner().invoke(app, ["dashboard", *args])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


def test_bad_input_stops_it_with_one_line(manifest: Path, tmp_path: Path, anvil: AnvilNode) -> None:
    index = str(tmp_path / "index.sqlite")
    common = ["--rpc-url", anvil.rpc_url, "--index", index]
    assert "no deployment manifest at" in refused("--manifest", str(tmp_path / "missing.json"), *common)
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    assert "deployment manifest" in refused("--manifest", str(garbage), *common)
    assert "no model store at" in refused(
        "--manifest", str(manifest), *common, "--store", str(tmp_path / "nope")
    )
    assert "cannot create the event index" in refused(
        "--manifest",
        str(manifest),
        "--rpc-url",
        anvil.rpc_url,
        "--index",
        str(tmp_path / "no" / "dir.sqlite"),
    )
    assert "is not a SuperLink address" in refused(
        "--manifest", str(manifest), *common, "--superlink", "no port"
    )
    assert "no CA certificate file at" in refused(
        "--manifest",
        str(manifest),
        *common,
        "--superlink",
        "h:1",
        "--superlink-root-certificates",
        "/nope.pem",
    )
    assert "bad dashboard setting poll_s" in refused("--manifest", str(manifest), *common, "--poll-s", "0")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        line = refused("--manifest", str(manifest), *common, "--port", str(port))
        assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in line


@contextmanager
def running(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    process = subprocess.Popen(
        [str(BCFL), "dashboard", *args, "--port", str(port), "--poll-s", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=STOP_S)


def answers(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return None


def stopped(process: subprocess.Popen[str], sig: signal.Signals) -> tuple[int, str, str]:
    process.send_signal(sig)
    out, err = process.communicate(timeout=STOP_S)
    return process.returncode, out, err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_it_serves_the_ledger_and_stops_cleanly_on_a_signal(
    manifest: Path, tmp_path: Path, anvil: AnvilNode, sig: signal.Signals
) -> None:
    index = str(tmp_path / "index.sqlite")
    with running("--manifest", str(manifest), "--rpc-url", anvil.rpc_url, "--index", index) as (process, url):
        wait_for(
            "the dashboard ready", lambda: answers(f"{url}/readyz") == 200, timeout_s=START_S, every_s=0.2
        )
        assert httpx.get(f"{url}/api/v1/status").json()["chain"]["reachable"] is True
        # A live feed is open while it stops: it is closed, not waited for.
        opened = threading.Event()

        def listen() -> None:
            try:
                with httpx.stream("GET", f"{url}/api/v1/stream", timeout=STOP_S) as response:
                    for _ in response.iter_lines():
                        opened.set()
            except httpx.HTTPError:
                pass

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        assert opened.wait(START_S)
        code, out, err = stopped(process, sig)
        listener.join(STOP_S)
    assert code == 0, (code, out, err)
    assert f"dashboard: {url}/ (Ctrl-C stops it)" in out
    assert "Traceback" not in err and "Traceback" not in out, err
    assert not listener.is_alive()


def test_it_starts_without_a_chain_and_says_so(manifest: Path, tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    index = str(tmp_path / "index.sqlite")
    with running("--manifest", str(manifest), "--rpc-url", nowhere, "--index", index) as (process, url):
        wait_for("the dashboard up", lambda: answers(f"{url}/healthz") == 200, timeout_s=START_S, every_s=0.2)
        ready = wait_for(
            "the chain found unreachable",
            lambda: (r := httpx.get(f"{url}/readyz")).json()["error"] != "not asked yet" and r,
            timeout_s=START_S,
        )
        assert ready.status_code == 503
        assert ready.json()["error"].startswith(f"the chain at {nowhere} did not answer")
        status = httpx.get(f"{url}/api/v1/status").json()
        assert status["chain"]["reachable"] is False and status["snapshot_block"] is None
        assert httpx.get(f"{url}/api/v1/members").status_code == 503
        code, out, err = stopped(process, signal.SIGTERM)
    assert code == 0, (code, out, err)
    assert "Traceback" not in err, err
    assert f"the chain is unreachable: the chain at {nowhere} did not answer" in err
