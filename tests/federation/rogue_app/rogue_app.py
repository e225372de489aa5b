"""TEST ONLY: an app no hospital may run. Its ServerApp sends a train message to every connected
SuperNode and reports the replies; its ClientApp, were it started, would read the hospital's data and
leave a marker file beside it."""

from __future__ import annotations

from logging import WARNING
from pathlib import Path

from flwr.app import Context, Message, MessageType, RecordDict
from flwr.clientapp import ClientApp
from flwr.common.logger import log
from flwr.serverapp import Grid, ServerApp

server_app = ServerApp()
client_app = ClientApp()
#: What the ClientApp writes beside the hospital's data, and logs, if it ever runs.
MARKER = "ROGUE-CLIENTAPP-RAN"


@server_app.main()
def main(grid: Grid, context: Context) -> None:
    wait_s = float(context.run_config["wait-s"])
    nodes = list(grid.get_node_ids())
    messages = [
        Message(RecordDict(), dst_node_id=node, message_type=MessageType.TRAIN, ttl=wait_s + 30)
        for node in nodes
    ]
    replies = list(grid.send_and_receive(messages, timeout=wait_s))
    # Flower's logger: what `flwr run --stream` shows.
    log(WARNING, "ROGUE SERVERAPP: %d nodes asked, %d replies", len(nodes), len(replies))


@client_app.train()
def train(message: Message, context: Context) -> Message:
    data = Path(str(context.node_config["data-path"]))
    (data.parent / MARKER).write_text(f"read {len(data.read_bytes())} bytes of {data}\n")
    log(WARNING, "%s on node %d", MARKER, context.node_id)
    return Message(RecordDict(), reply_to=message)
