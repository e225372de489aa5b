"""The hospital's Flower ClientApp: verify the global model, train locally, sign the update."""

from __future__ import annotations

import logging
import time

from flwr.app import ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from bcfl.chain.eip712 import ModelUpdate, sign_update
from bcfl.models.canonical import model_hash
from bcfl.models.records import array_record, config_record, from_record, get_float, get_int, to_record
from hospital_node.node import load_node
from hospital_node.task import build_model, evaluate, get_arrays, set_arrays, train
from hospital_node.verify import check_global_model

logger = logging.getLogger(__name__)
app = ClientApp()


@app.train()
def train_step(msg: Message, context: Context) -> Message:
    """Check the model against the ledger, train on local data, return the signed update."""
    node = load_node(dict(context.node_config))
    config = config_record(msg.content, "config")
    chain_round = get_int(config, "chain-round")
    arrays = from_record(array_record(msg.content, "arrays"))
    global_hash = check_global_model(node.consortium.ledger, chain_round, arrays)

    model = build_model(node.data.spec)
    set_arrays(model, arrays)
    before = evaluate(model, node.data.test)
    started = time.perf_counter()
    loss = train(
        model,
        node.data.train,
        epochs=get_int(config, "local-epochs"),
        lr=get_float(config, "learning-rate"),
        batch_size=get_int(config, "batch-size"),
        seed=get_int(config, "seed") + chain_round,
    )
    train_seconds = time.perf_counter() - started
    update = get_arrays(model)
    examples = len(node.data.train)
    signed = sign_update(
        node.account,
        node.consortium.ledger.domain(),
        ModelUpdate(chain_round, global_hash, model_hash(update), examples),
    )
    logger.info(
        "round %d: trained on %d examples, update 0x%s",
        chain_round,
        examples,
        signed.update.update_hash.hex(),
    )
    content = RecordDict(
        {
            "arrays": to_record(update),
            "metrics": MetricRecord(
                {
                    "num-examples": examples,
                    "train-loss": loss,
                    "train-seconds": train_seconds,
                    "global-test-accuracy": before["accuracy"],
                }
            ),
            "proof": ConfigRecord(
                {
                    "update-hash": signed.update.update_hash,
                    "signature": signed.signature,
                    "signer": node.account.address,
                }
            ),
        }
    )
    return Message(content=content, reply_to=msg)


@app.evaluate()
def evaluate_step(msg: Message, context: Context) -> Message:
    """Evaluate the candidate global model on the hospital's held-out split."""
    node = load_node(dict(context.node_config))
    model = build_model(node.data.spec)
    set_arrays(model, from_record(array_record(msg.content, "arrays")))
    metrics = evaluate(model, node.data.test)
    record = MetricRecord({"num-examples": len(node.data.test), **metrics})
    return Message(content=RecordDict({"metrics": record}), reply_to=msg)
