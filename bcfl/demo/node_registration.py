"""The demo hospitals' node keys, registered with the SuperLink so that their SuperNodes are admitted.

With ``--enable-supernode-auth`` the SuperLink admits only SuperNodes whose public key was registered
through its Control API (bcfl.flower.control). For the demo's built-in hospitals, whose memberships
onboarding approved, this registers each one's node key (the key whose fingerprint is on chain)
before their SuperNodes start; a key already registered is kept. (A service following the registry's
events will take this over: the one function below is what it replaces.)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bcfl.flower.control import ControlClient, ControlError
from bcfl.flower.node_keys import NodeKey

logger = logging.getLogger(__name__)


def register_node_keys(control: ControlClient, keys: Mapping[str, NodeKey]) -> dict[str, int]:
    """Each named node key registered (or found registered); returns each one's Flower node id."""
    listed = control.nodes()
    node_ids: dict[str, int] = {}
    for name, key in keys.items():
        found = [node for node in listed if node.has_fingerprint(key.fingerprint)]
        live = [node for node in found if node.status != "unregistered"]
        if live:
            node_ids[name] = live[0].node_id
        elif found:
            raise ControlError(
                f"{name}'s node key {key.public} was unregistered from the SuperLink and can never be "
                f"registered again: move {key.private} away; onboarding makes a new one and publishes it"
            )
        else:
            node_ids[name] = control.register(key.spki_pem, name)
    return node_ids
