"""Common plumbing of the typed contract wrappers."""

from __future__ import annotations

from typing import Any, ClassVar

from eth_account.signers.local import LocalAccount
from web3.logs import DISCARD
from web3.types import TxReceipt

from bcfl.chain.client import ChainClient
from bcfl.chain.events import ChainEvent, query_events


class ContractBinding:
    """A deployed contract of kind ``CONTRACT`` reached through a :class:`ChainClient`."""

    CONTRACT: ClassVar[str]

    def __init__(self, client: ChainClient, address: str, deployment_block: int = 0) -> None:
        self.client = client
        self.contract = client.contract(self.CONTRACT, address)
        self.address = self.contract.address
        self.deployment_block = deployment_block

    def _call(self, function: str, *args: Any) -> Any:
        return self.client.call(getattr(self.contract.functions, function)(*args))

    def _transact(self, sender: LocalAccount, function: str, *args: Any) -> TxReceipt:
        return self.client.transact(getattr(self.contract.functions, function)(*args), sender)

    def _receipt_events(self, receipt: TxReceipt, event: str) -> list[dict[str, Any]]:
        logs = getattr(self.contract.events, event)().process_receipt(receipt, errors=DISCARD)
        return [dict(log["args"]) for log in logs]

    def events(
        self,
        event: str,
        *,
        filters: dict[str, Any] | None = None,
        from_block: int | None = None,
        to_block: int | None = None,
    ) -> list[ChainEvent]:
        """Decoded ``event`` logs, by default from the deployment block to the latest block."""
        return query_events(
            self.client,
            self.CONTRACT,
            self.contract,
            event,
            filters=filters,
            from_block=self.deployment_block if from_block is None else from_block,
            to_block=to_block,
        )

    def round_member_events(
        self,
        event: str,
        round_number: int | None,
        member_id: int | None,
        from_block: int | None = None,
        to_block: int | None = None,
    ) -> list[ChainEvent]:
        """``event`` logs filtered on their indexed ``round`` and/or ``memberId``."""
        filters: dict[str, int] = {}
        if round_number is not None:
            filters["round"] = round_number
        if member_id is not None:
            filters["memberId"] = member_id
        return self.events(event, filters=filters, from_block=from_block, to_block=to_block)
