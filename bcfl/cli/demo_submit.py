"""``bcfl demo-submit``: submit a federated run to a SuperLink with ``flwr run --stream`` and wait for it.

``flwr run --stream`` prints the run's logs but exits 0 whether the ServerApp completed or failed,
so this command then asks the SuperLink (``flwr ls --run-id``) how the run ended and exits 1 unless
it completed. The compose file's one-shot ``submit`` service runs it (``python -m bcfl.cli.demo_submit``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

from bcfl.cli.common import console, err_console, run_alone
from bcfl.cli.settings import DEFAULTS, envvar
from bcfl.demo.flower_config import write_flower_config

BIN = Path(sys.executable).parent
STARTED = re.compile(r"Successfully started run (\d+)")


def run_status(run_id: int, env: dict[str, str]) -> str:
    """The SuperLink's status of a run, e.g. ``finished:completed`` (``unknown`` if it cannot say)."""
    listed = subprocess.run(
        [str(BIN / "flwr"), "ls", "--run-id", str(run_id), "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        runs = json.loads(listed.stdout)["runs"]
        return str(runs[0]["status"])
    except (ValueError, KeyError, IndexError, TypeError):
        return "unknown"


def submit(
    rounds: Annotated[int, typer.Option(help="Federated rounds (the run's num-server-rounds).", min=1)] = 3,
    min_nodes: Annotated[int, typer.Option(help="Hospitals sampled each round (min-nodes).", min=1)] = 3,
    superlink: Annotated[
        str, typer.Option(envvar=envvar("superlink"), help="The SuperLink's address, host:port.")
    ] = DEFAULTS.superlink,
    root_certificates: Annotated[
        Path | None,
        typer.Option(help="The consortium's CA certificate (TLS); without it, plain HTTP (--insecure demo)."),
    ] = None,
    app_dir: Annotated[Path, typer.Option(help="The Flower App to run.")] = Path("."),
    run_config: Annotated[
        list[str] | None, typer.Option(help="More run-config overrides, key=value (repeatable).")
    ] = None,
    timeout_s: Annotated[float, typer.Option(help="Give up waiting for the run's end after this.")] = 3600,
) -> None:
    """Submit the Flower App in APP_DIR to SUPERLINK, stream its logs, exit 0 only if it completed."""
    env = dict(os.environ)
    if "FLWR_HOME" not in env:
        env["FLWR_HOME"] = tempfile.mkdtemp(prefix="flwr-home-")
    if root_certificates is not None and not root_certificates.is_file():
        raise typer.BadParameter(f"no CA certificate at {root_certificates}")
    write_flower_config(Path(env["FLWR_HOME"]), superlink, root_certificates)
    config = " ".join([f"num-server-rounds={rounds}", f"min-nodes={min_nodes}", *(run_config or [])])
    command = [str(BIN / "flwr"), "run", str(app_dir), "--stream", "--run-config", config]
    console.print(f"submitting {app_dir.resolve()} to {superlink}: {config}", soft_wrap=True)
    run_id: int | None = None
    with subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            if run_id is None and (found := STARTED.search(line)):
                run_id = int(found.group(1))
    if process.returncode != 0 or run_id is None:
        err_console.print(f"[bold red]error:[/] flwr run failed (exit code {process.returncode})")
        raise typer.Exit(1)
    deadline = time.monotonic() + timeout_s
    status = run_status(run_id, env)
    while not status.startswith("finished") and time.monotonic() < deadline:
        time.sleep(2)
        status = run_status(run_id, env)
    if status != "finished:completed":
        err_console.print(f"[bold red]error:[/] run {run_id} ended as {status}")
        raise typer.Exit(1)
    console.print(f"run {run_id} {status}", soft_wrap=True)


def main() -> None:
    """Entry point for ``python -m bcfl.cli.demo_submit``."""
    run_alone(submit)


if __name__ == "__main__":
    main()
