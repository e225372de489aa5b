"""The hospital's Flower ClientApp: verify the global model, train locally, have the update and the
evaluation signed by the hospital's signing agent (this process never holds the key)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
from flwr.app import ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from bcfl.chain.eip712 import EvaluationReport, ModelUpdate, SignedModelUpdate
from bcfl.chain.proof import UpdateProof, save_proof
from bcfl.learning.privacy import train_private
from bcfl.learning.task import build_model, evaluate, get_arrays, set_arrays, train
from bcfl.models.canonical import document_hash, model_hash
from bcfl.models.records import (
    array_record,
    config_record,
    from_record,
    get_float,
    get_int,
    to_record,
    uint64_bytes,
)
from hospital_node.node import HospitalNode, load_node
from hospital_node.privacy import RoundPrivacy, plan_round
from hospital_node.verify import check_global_model

logger = logging.getLogger(__name__)
app = ClientApp()


@dataclass(frozen=True)
class LocalUpdate:
    """One round's local training: the chain round, the checked global model's hash, the result."""

    chain_round: int
    global_hash: bytes
    arrays: dict[str, np.ndarray]
    metrics: dict[str, float | int]
    #: The differential privacy the round was trained with, and the ε and δ its update declares.
    privacy: RoundPrivacy


def local_update(node: HospitalNode, msg: Message) -> LocalUpdate:
    """Check the received model against the ledger and the round against the hospital's privacy
    budget, then train on the hospital's data (with DP-SGD when the run asks for it)."""
    config = config_record(msg.content, "config")
    chain_round = get_int(config, "chain-round")
    arrays = from_record(array_record(msg.content, "arrays"))
    global_hash = check_global_model(node.consortium.ledger, chain_round, arrays)
    epochs, batch_size = get_int(config, "local-epochs"), get_int(config, "batch-size")
    lr, seed = get_float(config, "learning-rate"), get_int(config, "seed") + chain_round
    privacy = plan_round(node, config, chain_round, batch_size=batch_size, epochs=epochs)
    model = build_model(node.data.spec)
    set_arrays(model, arrays)
    before = evaluate(model, node.data.test)
    started = time.perf_counter()
    if privacy.step is None:
        loss = train(model, node.data.train, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed)
    else:
        # Batches and noise from fresh OS randomness, never the run's public seed (bcfl.learning.privacy).
        loss = train_private(
            model, node.data.train, step=privacy.step, max_grad_norm=privacy.max_grad_norm, lr=lr, seed=None
        )
    metrics: dict[str, float | int] = {
        "num-examples": len(node.data.train),
        "train-loss": loss,
        "train-seconds": time.perf_counter() - started,
        "global-test-accuracy": before["accuracy"],
    }
    return LocalUpdate(chain_round, global_hash, dict(get_arrays(model)), metrics, privacy)


def sign_and_keep(node: HospitalNode, update: LocalUpdate) -> SignedModelUpdate:
    """Have the hospital's signing agent sign the update (EIP-712, what the ledger verifies) and keep
    the signed proof in the node's proofs folder."""
    examples = int(update.metrics["num-examples"])
    signed = node.signer.sign_update(
        node.consortium.ledger.domain(),
        ModelUpdate(
            update.chain_round,
            update.global_hash,
            model_hash(update.arrays),
            examples,
            update.privacy.epsilon_spent,
            update.privacy.delta_spent,
        ),
    )
    logger.info(
        "round %d: trained on %d examples, update 0x%s",
        update.chain_round,
        examples,
        signed.update.update_hash.hex(),
    )
    keep_proof(node, signed)
    return signed


def signed_reply(node: HospitalNode, msg: Message, update: LocalUpdate) -> Message:
    """Sign the update (keeping its proof) and reply with it."""
    signed = sign_and_keep(node, update)
    content = RecordDict(
        {
            "arrays": to_record(update.arrays),
            "metrics": MetricRecord(dict(update.metrics)),
            "proof": proof_record(signed, node.address),
        }
    )
    return Message(content=content, reply_to=msg)


def proof_record(signed: SignedModelUpdate, signer: str) -> ConfigRecord:
    """The reply's ``proof``: what the coordinator needs to rebuild and check the signed update."""
    return ConfigRecord(
        {
            "update-hash": signed.update.update_hash,
            "signature": signed.signature,
            "signer": signer,
            "epsilon-spent": uint64_bytes(signed.update.epsilon_spent),
            "delta-spent": uint64_bytes(signed.update.delta_spent),
        }
    )


def keep_proof(node: HospitalNode, signed: SignedModelUpdate) -> None:
    """Keep the signed update, so that the hospital can register it itself if the coordinator leaves
    it out (``bcfl update register --proof``). Not being able to keep it does not stop the round."""
    proof = UpdateProof.of(node.consortium.ledger.domain(), signed, node.address)
    try:
        path = save_proof(node.proofs, proof)
    except OSError as exc:
        logger.warning("round %d: could not keep the update's proof in %s: %s", proof.round, node.proofs, exc)
        return
    logger.info("round %d: kept the signed update's proof in %s", proof.round, path)


@app.train()
def train_step(msg: Message, context: Context) -> Message:
    """Check the model against the ledger, train on local data, return the signed update."""
    node = load_node(dict(context.node_config))
    return signed_reply(node, msg, local_update(node, msg))


def signed_evaluation(node: HospitalNode, msg: Message) -> Message:
    """Evaluate the round's aggregated model on the held-out split and sign what was measured.

    The signature (EIP-712, the ledger's domain) covers the chain round, the hash of the model
    evaluated and the hash of the metrics, so the accuracy an auditor reads in the round's record
    is the hospital's own, about that model.
    """
    chain_round = get_int(config_record(msg.content, "config"), "chain-round")
    arrays = from_record(array_record(msg.content, "arrays"))
    model = build_model(node.data.spec)
    set_arrays(model, arrays)
    examples = len(node.data.test)
    metrics: dict[str, float | int] = {"num-examples": examples, **evaluate(model, node.data.test)}
    report = EvaluationReport(chain_round, model_hash(arrays), document_hash(metrics), examples)
    signature = node.signer.sign_evaluation(node.consortium.ledger.domain(), report)
    proof = ConfigRecord({"model-hash": report.model_hash, "signature": signature, "signer": node.address})
    content = RecordDict({"metrics": MetricRecord(dict(metrics)), "proof": proof})
    return Message(content=content, reply_to=msg)


@app.evaluate()
def evaluate_step(msg: Message, context: Context) -> Message:
    """Evaluate the round's aggregated model on the hospital's held-out split; sign the result."""
    return signed_evaluation(load_node(dict(context.node_config)), msg)
