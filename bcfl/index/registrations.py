"""The signed entries of ``registerUpdates`` transactions, decoded from their input as
:meth:`bcfl.chain.ledger.Ledger.registered_signatures` does, kept as rows of the index.

Only a direct call to the manifest's RoundLedger is decoded; a registration that went through another
contract has no entries here, so the audit finds its updates unsigned and says so.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from eth_abi import abi
from eth_abi.exceptions import DecodingError
from eth_utils.abi import function_abi_to_4byte_selector
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes

from bcfl.chain.artifacts import abi_of
from bcfl.chain.eip712 import ModelUpdate, SignedModelUpdate
from bcfl.index.rawlogs import abi_type

logger = logging.getLogger(__name__)

#: The events that mark a registration transaction.
REGISTRATION_EVENTS = frozenset({"UpdateRegistered", "UpdateSkipped"})


class RegistrationDecoder:
    """Decodes the input of registration transactions sent to one RoundLedger."""

    def __init__(self, ledger_address: str) -> None:
        self.ledger_address = to_checksum_address(ledger_address)
        function = next(e for e in abi_of("RoundLedger") if e.get("name") == "registerUpdates")
        self.selector = "0x" + function_abi_to_4byte_selector(function).hex()  # type: ignore[arg-type]
        self.types = [abi_type(i) for i in function["inputs"]]
        self.names = [i["name"] for i in function["inputs"]]
        self.entry_fields = [c["name"] for c in function["inputs"][1]["components"]]

    def rows(
        self, tx: Mapping[str, Any], block_number: int, global_model_hash: Mapping[int, str]
    ) -> list[dict[str, Any]]:
        """The transaction's entries as ``registrations`` rows, in batch order; none for a transaction
        that is not a direct ``registerUpdates`` call to the ledger. ``global_model_hash`` maps a
        round to the global model it was opened with (its ``RoundOpened`` event)."""
        tx_hash = HexBytes(tx["hash"]).to_0x_hex()
        if str(tx.get("to") or "").lower() != self.ledger_address.lower():
            logger.warning("registration %s was not sent to the RoundLedger: no signatures kept", tx_hash)
            return []
        data = str(tx.get("input") or "0x")
        try:
            if not data.startswith(self.selector):
                raise ValueError("another function")
            decoded = dict(zip(self.names, abi.decode(self.types, bytes.fromhex(data[10:])), strict=True))
        except (DecodingError, ValueError):
            logger.warning("registration %s is no registerUpdates call: no signatures kept", tx_hash)
            return []
        args = {
            "round": decoded["round"],
            "updates": [dict(zip(self.entry_fields, u, strict=True)) for u in decoded["updates"]],
        }
        round_number = int(args["round"])
        if round_number not in global_model_hash:
            logger.warning("registration %s: round %d never opened; no signatures", tx_hash, round_number)
            return []
        return [
            {
                "tx_hash": tx_hash,
                "position": position,
                "block_number": block_number,
                "round": round_number,
                "global_model_hash": global_model_hash[round_number],
                "update_hash": HexBytes(u["updateHash"]).to_0x_hex(),
                "num_examples": int(u["numExamples"]),
                "epsilon_spent": str(int(u["epsilonSpent"])),
                "delta_spent": str(int(u["deltaSpent"])),
                "r": HexBytes(u["r"]).to_0x_hex(),
                "vs": HexBytes(u["vs"]).to_0x_hex(),
            }
            for position, u in enumerate(args["updates"])
        ]


def signed_update(row: Mapping[Any, Any]) -> SignedModelUpdate:
    """A ``registrations`` row as the signed update the contract verified."""
    update = ModelUpdate(
        int(row["round"]),
        bytes(HexBytes(row["global_model_hash"])),
        bytes(HexBytes(row["update_hash"])),
        int(row["num_examples"]),
        int(row["epsilon_spent"]),
        int(row["delta_spent"]),
    )
    return SignedModelUpdate(update, bytes(HexBytes(row["r"])), bytes(HexBytes(row["vs"])))
