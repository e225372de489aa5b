"""One Flower train message's ClientApp process, as ``flwr-clientapp`` runs it (a fresh process per
message): Flower's own start, the app's imports, the node's load (data, key, chain checks), the check
of the global model against the ledger, local training and the signed update. Prints its phases'
timings as one JSON line. Started by :mod:`benchmarks.client_start` as a script, so that it imports
nothing before it starts timing."""

from __future__ import annotations

import time

STARTED = (time.perf_counter(), time.process_time())

import json  # noqa: E402 (timed from the first line)
import sys  # noqa: E402


def _now() -> tuple[float, float]:
    """Wall clock and this process's CPU time (all its threads), in seconds."""
    return time.perf_counter(), time.process_time()


def _phase(name: str, start: tuple[float, float], end: tuple[float, float]) -> dict[str, float]:
    """A phase's wall (``<name>_s``) and CPU (``<name>_cpu_s``) seconds."""
    return {f"{name}_s": end[0] - start[0], f"{name}_cpu_s": end[1] - start[1]}


def main() -> None:
    """Run one train message from ``argv[1]``: ``{"node-config", "round", "arrays", "config"}``."""
    job = json.loads(sys.argv[1])
    import flwr.supernode.cli  # noqa: F401 (Flower's own start: flwr-clientapp's entry point)

    flower = _now()
    from flwr.app import ConfigRecord, Message, RecordDict
    from flwr.supercore.task_identity import TaskIdentity

    from bcfl.models.canonical import from_bytes
    from bcfl.models.records import to_record
    from hospital_node import client_app
    from hospital_node.node import load_node

    imported = _now()
    node = load_node(dict(job["node-config"]))
    loaded = _now()
    with open(job["arrays"], "rb") as stream:
        arrays = from_bytes(stream.read())
    config = ConfigRecord({"chain-round": job["round"], **job["config"]})
    # What Flower sets before it hands the message over.
    TaskIdentity.run_id, TaskIdentity.node_id, TaskIdentity.task_id = 1, 1, 1
    msg = Message(
        content=RecordDict({"config": config, "arrays": to_record(arrays)}),
        dst_node_id=1,
        message_type="train",
    )
    update = client_app.local_update(node, msg)
    client_app.sign_and_keep(node, update)
    done = _now()
    sys.stdout.write(
        json.dumps(
            {
                **_phase("flower", STARTED, flower),
                **_phase("app_import", flower, imported),
                **_phase("load_node", imported, loaded),
                **_phase("message", loaded, done),
                **_phase("total", STARTED, done),
                "train_s": float(update.metrics["train-seconds"]),
                "modules": sorted(m for m in ("web3", "requests", "pandas", "PIL") if m in sys.modules),
            }
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
