"""Load the generated contract artifacts (ABI and bytecode) shipped in bcfl/chain/artifacts."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from eth_utils.crypto import keccak


@cache
def load_artifact(name: str) -> dict[str, Any]:
    """The artifact of contract ``name`` (e.g. ``RoundLedger``)."""
    text = resources.files("bcfl.chain").joinpath("artifacts", f"{name}.json").read_text()
    artifact: dict[str, Any] = json.loads(text)
    return artifact


def abi_of(name: str) -> list[dict[str, Any]]:
    """The ABI of contract ``name``."""
    abi: list[dict[str, Any]] = load_artifact(name)["abi"]
    return abi


def abi_hash(name: str) -> str:
    """keccak256 of the canonical JSON of the ABI, as recorded in deployment manifests."""
    canonical = json.dumps(abi_of(name), sort_keys=True, separators=(",", ":"))
    return "0x" + keccak(text=canonical).hex()
