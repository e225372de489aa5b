"""``bcfl demo --insecure`` (debugging only) still trains end to end: the old plain-HTTP stack, with no
TLS, no SuperNode authentication, no Fleet gateway and no node sync, and every update still on chain
(the ledger's checks do not depend on Flower's transport)."""

from __future__ import annotations

from pathlib import Path

from bcfl.demo.federation import start_federation
from bcfl.demo.topology import GATEWAY, NODE_SYNC

HOSPITALS = ["cleveland", "hungary"]


def test_the_insecure_stack_trains_a_round_with_every_update_on_chain(tmp_path: Path) -> None:
    run = start_federation(tmp_path / "run", HOSPITALS, insecure=True)
    try:
        names = {p.name for p in run.flower.processes}
        assert GATEWAY not in names and NODE_SYNC not in names and run.ca_cert is None
        (superlink,) = [p for p in run.flower.processes if p.name == "superlink"]
        arguments = Path(f"/proc/{superlink.process.pid}/cmdline").read_bytes().split(b"\0")
        assert b"--insecure" in arguments and b"--enable-supernode-auth" not in arguments
        assert run.flwr_run(1) == 0
        consortium = run.consortium()
        chain_round = consortium.ledger.round_count()
        assert consortium.ledger.get_round(chain_round).status.name == "FINALIZED"
        members = sorted(u.member_id for u in consortium.ledger.updates(round_number=chain_round))
        assert members == sorted(h.member_id for h in run.hospitals)
    finally:
        run.stop()
