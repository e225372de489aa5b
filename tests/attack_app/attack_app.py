"""TEST ONLY: the real coordinator and the real hospital code, with hospitals that may attack.

The ServerApp is the product coordinator (``coordinator.server_app.run_federation`` with
``LedgerStrategy``), unchanged. The ClientApp is the product hospital's: it checks the global model
against the ledger, trains (:func:`hospital_node.client_app.local_update`) and signs with the
hospital's own key (:func:`hospital_node.client_app.signed_reply`). A SuperNode set up to attack
replaces what it trained with one of the attacks of :mod:`benchmarks.attacks` before signing, so its
signature is a real member's valid signature over hostile contents:

- ``label-flip`` trains on its training split with every label flipped;
- ``sign-flip``, ``scale`` and ``noise`` turn the honest update into the attack's arrays;
- ``free-ride`` sends the global model back with a tiny jitter (it trains, and throws the result away);
- ``replay`` sends, in every later round, the update it sent in its first round, kept in
  ``Context.state``, which the SuperNode keeps for the run across messages.

Why this cannot be switched on by accident:

- the product ClientApp (``hospital_node.client_app``, the App at the repository root) has no
  attack code at all; neither it nor the coordinator imports ``benchmarks.attacks`` (only the
  benchmark and this App do), and ``benchmarks/`` is neither installed (``pip install .``) nor in
  any App bundle: this App runs only where the repository is on ``PYTHONPATH``
  (tests/federation/test_attacks.py sets it for the processes it starts);
- this App lives under ``tests/`` and runs only when it is submitted explicitly
  (``flwr run tests/attack_app``);
- even then a SuperNode attacks only with BOTH switches: the node config ``test-attack`` (one of
  :data:`benchmarks.attacks.ATTACKS`) AND ``BCFL_TEST_ATTACKS=enable`` in the SuperNode's
  environment. With the node config but not the variable the node refuses with an error
  (:class:`AttackGateError`): it neither attacks nor quietly runs honest.

With neither switch a node of this App is an honest hospital, exactly the product's.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping

import numpy as np
from flwr.app import ConfigRecord, Context, Message
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp

from bcfl.models.records import array_record, config_record, from_record, get_int, to_record
from benchmarks.attacks import ATTACKS, flip_labels, poison
from coordinator.server_app import run_federation
from coordinator.strategy import LedgerStrategy
from hospital_node import client_app as real_client
from hospital_node.client_app import LocalUpdate, local_update, signed_reply
from hospital_node.node import HospitalNode, load_node

logger = logging.getLogger(__name__)
server_app = ServerApp()
client_app = ClientApp()

#: Node config key naming the attack (``flower-supernode --node-config 'test-attack="scale"'``).
ATTACK_KEY = "test-attack"
#: The SuperNode's environment must also hold ``BCFL_TEST_ATTACKS=enable``.
ENABLE_VAR = "BCFL_TEST_ATTACKS"
ENABLE_VALUE = "enable"
#: Context.state records: the update this node sent in its first round, and that round.
EARLIER_ARRAYS = "test-attack-earlier-update"
EARLIER_ROUND = "test-attack-earlier-round"


class AttackGateError(RuntimeError):
    """A SuperNode asked to attack without both switches, or with an unknown attack."""


def configured_attack(
    node_config: Mapping[str, object], environ: Mapping[str, str] | None = None
) -> str | None:
    """The attack this SuperNode runs, or None for an honest node.

    Raises :class:`AttackGateError` when the node config names an attack but the environment lacks
    ``BCFL_TEST_ATTACKS=enable``, or when the attack is not one of :data:`ATTACKS`.
    """
    if ATTACK_KEY not in node_config:
        return None
    attack = str(node_config[ATTACK_KEY])
    if attack not in ATTACKS:
        raise AttackGateError(
            f"node config {ATTACK_KEY}={attack!r} is not an attack; choose one of {', '.join(ATTACKS)}"
        )
    value = (os.environ if environ is None else environ).get(ENABLE_VAR)
    if value != ENABLE_VALUE:
        raise AttackGateError(
            f"node config sets {ATTACK_KEY}={attack!r} but this SuperNode's environment has "
            f"{ENABLE_VAR}={value!r}, not {ENABLE_VAR}={ENABLE_VALUE}: refusing to run "
            "(a test attack needs both switches; this node neither attacks nor runs honest)"
        )
    return attack


def _earlier_update(context: Context) -> tuple[dict[str, np.ndarray] | None, int]:
    """The update this node sent in its first round of the run (and that round), if any."""
    if EARLIER_ARRAYS not in context.state:
        return None, 0
    return dict(from_record(array_record(context.state, EARLIER_ARRAYS))), get_int(
        config_record(context.state, EARLIER_ROUND), "round"
    )


def attack_update(node: HospitalNode, msg: Message, context: Context, attack: str) -> LocalUpdate:
    """The hostile update ``attack`` makes of this round's honest training."""
    if attack == "label-flip":
        flipped = flip_labels(node.data.train, node.data.spec.num_classes)
        node = dataclasses.replace(node, data=dataclasses.replace(node.data, train=flipped))
    honest = local_update(node, msg)
    global_arrays = from_record(array_record(msg.content, "arrays"))
    earlier, earlier_round = _earlier_update(context)
    seed = get_int(config_record(msg.content, "config"), "seed")
    rng = np.random.default_rng([seed, honest.chain_round, node.member_id])
    arrays = poison(attack, global_arrays, honest.arrays, rng=rng, previous=earlier)
    if earlier is None:
        context.state[EARLIER_ARRAYS] = to_record(arrays)
        context.state[EARLIER_ROUND] = ConfigRecord({"round": honest.chain_round})
    logger.warning(
        "TEST ATTACK %s by member %d in round %d (state holds this node's update of round %d)",
        attack,
        node.member_id,
        honest.chain_round,
        earlier_round or honest.chain_round,
    )
    return dataclasses.replace(honest, arrays=arrays)


@server_app.main()
def main(grid: Grid, context: Context) -> None:
    run_federation(grid, context, LedgerStrategy)


@client_app.train()
def train(msg: Message, context: Context) -> Message:
    attack = configured_attack(context.node_config)
    if attack is None:
        return real_client.train_step(msg, context)
    node = load_node(dict(context.node_config))
    return signed_reply(node, msg, attack_update(node, msg, context, attack))


@client_app.evaluate()
def evaluate(msg: Message, context: Context) -> Message:
    configured_attack(context.node_config)  # a misconfigured node refuses every message
    return real_client.evaluate_step(msg, context)
