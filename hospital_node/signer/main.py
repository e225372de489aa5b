"""``bcfl-signer``: a hospital's signing agent in the foreground until SIGTERM or SIGINT.

It unlocks the keystore once (the password from ``--password-file``, else $BCFL_KEYSTORE_PASSWORD;
never from the command line), reads the ledger's EIP-712 domain from the deployment manifest (its
chain id and RoundLedger address) and serves signatures on ``--socket``. Bad input is one line on
stderr and exit code 1; a stop signal removes the socket and exits 0.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from bcfl.chain.eip712 import LedgerDomain
from bcfl.chain.exceptions import ChainError
from bcfl.chain.keystore import load_keystore, read_password
from bcfl.chain.manifest import DeploymentManifest
from hospital_node.errors import HospitalNodeError
from hospital_node.signer.server import SigningAgent
from hospital_node.signer.signing import Signer

logger = logging.getLogger(__name__)
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bcfl-signer", description="Serve the hospital's EIP-712 signatures on a Unix socket."
    )
    parser.add_argument("--socket", type=Path, required=True, help="The socket (its folder: mode 0700).")
    parser.add_argument("--keystore", type=Path, required=True, help="The hospital's encrypted keystore.")
    parser.add_argument("--manifest", type=Path, required=True, help="The consortium's deployment manifest.")
    parser.add_argument(
        "--password-file", type=Path, help="The keystore password (else $BCFL_KEYSTORE_PASSWORD)."
    )
    return parser.parse_args(argv)


def load_signer(keystore: Path, password_file: Path | None, manifest: Path) -> Signer:
    """The hospital's key, unlocked, bound to the consortium ledger's domain."""
    account = load_keystore(keystore, read_password(password_file))
    deployment = DeploymentManifest.load(manifest)
    return Signer(account, LedgerDomain(deployment.chain_id, deployment.address("RoundLedger")))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the agent until a stop signal; 0 after a clean stop, 1 for an error (one line)."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The stop signals are taken by sigwait below: blocked before any thread starts, so none gets them.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        agent = SigningAgent(load_signer(args.keystore, args.password_file, args.manifest), args.socket)
        agent.start()
    except (ChainError, HospitalNodeError) as exc:
        sys.stderr.write(f"bcfl-signer: error: {' '.join(str(exc).split())}\n")
        return 1
    except OSError as exc:
        sys.stderr.write(f"bcfl-signer: error: {exc}\n")
        return 1
    received = signal.sigwait(STOP_SIGNALS)
    logger.info("received %s: stopping", signal.Signals(received).name)
    agent.stop()
    return 0
