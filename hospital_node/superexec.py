"""``bcfl-superexec``: a hospital's SuperExec, which starts only apps the consortium approved on chain.

A hospital's ``flower-supernode --isolation=process`` starts no app itself: this process asks it for
tasks and starts each task's process (the ClientApp, with the hospital's data and key in reach). It
is Flower's own ``flower-superexec`` with one change: before a task's process starts, the task's app
hash (the SHA-256 of the app's bundle, which the SuperNode checked) is looked up on chain
(``RoundLedger.isAppApproved``); an app the consortium did not approve is refused with one log line
and no process of it starts. The chain's address and the deployment manifest come from the
hospital's node config (``--node-config``, the value its SuperNode gets); every other argument is
``flower-superexec``'s.

ClientApps start warm (:mod:`hospital_node.warm`): a server started with the SuperExec has imported
their libraries once and forks each task's process from there, instead of a cold ``flwr-clientapp``
that imports torch and Flower for every message; ``--cold-start`` turns that off.

The one use of Flower internals, kept in this module: Flower 1.41's ``run_superexec`` builds its
plugin from the module attribute ``flwr.supercore.superexec.run_superexec.AutoExecPlugin``, and
calls ``plugin.launch_task(token, task)`` for every task it acquires; it builds its executor with the
module attribute ``get_executor``. :func:`main` replaces the first with a subclass whose
``launch_task`` checks the app first (``LaunchResult.failed`` refuses it), the second with one that
returns the warm executor, then runs ``flower-superexec``'s command line unchanged.
``tests/hospital/test_superexec.py`` fails if Flower moves either.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from flwr.common.config import parse_config_args
from flwr.proto.task_pb2 import Task
from flwr.supercore.cli.flower_superexec import flower_superexec
from flwr.supercore.constant import ExecutorType
from flwr.supercore.superexec import run_superexec as flower_run_superexec
from flwr.supercore.superexec.executor import Executor, LaunchResult
from flwr.supercore.superexec.plugin import AutoExecPlugin

from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.exceptions import ChainError
from bcfl.chain.manifest import DeploymentManifest
from hospital_node.app_approval import AppApproval
from hospital_node.errors import HospitalNodeError
from hospital_node.settings import parse_chain_settings
from hospital_node.warm.executor import WarmExecutor

logger = logging.getLogger(__name__)
#: The attribute of ``flwr.supercore.superexec.run_superexec`` replaced by :func:`approving_plugin`.
PLUGIN_ATTRIBUTE = "AutoExecPlugin"
#: The attribute of ``flwr.supercore.superexec.run_superexec`` replaced by :func:`install_warm_start`.
EXECUTOR_ATTRIBUTE = "get_executor"


def approving_plugin(approval: AppApproval) -> type[AutoExecPlugin]:
    """Flower's SuperExec plugin, starting a task only if ``approval`` allows its app."""

    class ApprovedAppPlugin(AutoExecPlugin):
        """Flower's ``AutoExecPlugin`` behind the consortium's app approvals."""

        def launch_task(self, token: str, task: Task) -> LaunchResult:
            refusal = approval.refusal(task.fab_hash)
            if refusal is not None:
                logger.error("refusing task %d of run %d: %s", task.task_id, task.run_id, refusal)
                return LaunchResult.failed(refusal)
            logger.info(
                "app 0x%s is approved on chain: starting task %d of run %d",
                task.fab_hash,
                task.task_id,
                task.run_id,
            )
            return super().launch_task(token, task)

    return ApprovedAppPlugin


def connect_approval(node_config: str) -> AppApproval:
    """The approvals on the chain the node config names (the deployment checked first)."""
    settings = parse_chain_settings(parse_config_args([node_config]))
    consortium = Consortium.connect(ChainClient(settings.rpc_url), DeploymentManifest.load(settings.manifest))
    return AppApproval(consortium.ledger)


def install_plugin(approval: AppApproval) -> None:
    """Make Flower's ``run_superexec`` build the approving plugin (fails if Flower moved it)."""
    current = getattr(flower_run_superexec, PLUGIN_ATTRIBUTE, None)
    if not (isinstance(current, type) and issubclass(current, AutoExecPlugin)):
        raise HospitalNodeError(
            "this Flower version does not build its SuperExec plugin from "
            f"run_superexec.{PLUGIN_ATTRIBUTE}: bcfl-superexec cannot check apps with it "
            "(install the Flower version of requirements.lock)"
        )
    setattr(flower_run_superexec, PLUGIN_ATTRIBUTE, approving_plugin(approval))


def install_warm_start() -> None:
    """Make Flower's ``run_superexec`` use the warm executor for its default (subprocess) executor."""
    flower_get_executor = getattr(flower_run_superexec, EXECUTOR_ATTRIBUTE, None)
    if not callable(flower_get_executor):
        raise HospitalNodeError(
            "this Flower version does not build its SuperExec executor with "
            f"run_superexec.{EXECUTOR_ATTRIBUTE}: run bcfl-superexec with --cold-start "
            "(or install the Flower version of requirements.lock)"
        )

    def get_executor(executor_type: ExecutorType, *args: object, **kwargs: object) -> Executor:
        if executor_type == ExecutorType.SUBPROCESS:
            return WarmExecutor()
        executor: Executor = flower_get_executor(executor_type, *args, **kwargs)
        return executor

    setattr(flower_run_superexec, EXECUTOR_ATTRIBUTE, get_executor)


def main(argv: Sequence[str] | None = None) -> None:
    """``bcfl-superexec --node-config '...' FLOWER_SUPEREXEC_ARGS...``."""
    parser = argparse.ArgumentParser(
        prog="bcfl-superexec",
        description="flower-superexec that starts only apps the consortium approved on chain; "
        "every other argument is flower-superexec's (flower-superexec --help).",
    )
    parser.add_argument(
        "--node-config",
        required=True,
        help="The hospital's node config (its SuperNode's); this reads its rpc-url and manifest.",
    )
    parser.add_argument(
        "--cold-start",
        action="store_true",
        help="Start every ClientApp as a fresh flwr-clientapp process (Flower's default), "
        "instead of forking it from a server that has imported its libraries once.",
    )
    args, flower_args = parser.parse_known_args(argv)
    try:
        approval = connect_approval(args.node_config)
        install_plugin(approval)
        if not args.cold_start:
            install_warm_start()
    except (HospitalNodeError, ChainError) as exc:
        sys.stderr.write(f"bcfl-superexec: error: {exc}\n")
        raise SystemExit(1) from None
    _log_to_stderr()
    logger.info("starting only apps approved on chain (RoundLedger %s)", approval.ledger.address)
    sys.argv = ["flower-superexec", *flower_args]  # flower-superexec parses sys.argv
    flower_superexec()


def _log_to_stderr() -> None:
    """This process's own lines (approvals, refusals) on stderr, beside Flower's."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    package_logger = logging.getLogger("hospital_node")
    package_logger.addHandler(handler)
    package_logger.setLevel(logging.INFO)
    package_logger.propagate = False


if __name__ == "__main__":
    main()
