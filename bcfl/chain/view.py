"""A read-only view of the consortium's contracts over plain JSON-RPC (:mod:`bcfl.chain.jsonrpc`): the
few reads the hospital's ClientApp makes (its membership, a round, a lineage's starts), with the same
deployment checks and answers as the web3 :class:`bcfl.chain.consortium.Consortium`, without importing
web3 (about a second of start-up, paid by every Flower message's fresh ClientApp process)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_abi.abi import decode, encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from bcfl.chain.deployment import check_deployment
from bcfl.chain.exceptions import ChainError
from bcfl.chain.jsonrpc import JsonRpc, RpcError
from bcfl.chain.log_windows import DEFAULT_CHUNK, is_range_limit
from bcfl.chain.manifest import DeploymentManifest
from bcfl.chain.privacy import PrivacyBudget
from bcfl.chain.revert import decode_revert, revert_data
from bcfl.chain.rounds import LineageStart, RoundRecord, RoundStatus

if TYPE_CHECKING:
    from bcfl.chain.eip712 import LedgerDomain

_GET_ROUND = "getRound(uint256)"
_ROUND_TYPES = [
    "bytes32",
    "bytes32",
    "bytes32",
    "uint8",
    "uint32",
    "uint32",
    "uint64",
    "uint64",
    "uint64",
    "uint64",
]
_ACTIVE_MEMBER_ID_OF = "activeMemberIdOf(address)"
_LINEAGE_STARTED = "0x" + keccak(text="LineageStarted(uint256,bytes32,address,string)").hex()


def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def _word(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


class _Reader:
    """A contract at ``address``, read through ``rpc``."""

    def __init__(self, rpc: JsonRpc, address: str, deployment_block: int) -> None:
        self.rpc = rpc
        self.address = to_checksum_address(address)
        self.deployment_block = deployment_block

    def _call(
        self, signature: str, arg_types: list[str], args: list[Any], out_types: list[str]
    ) -> tuple[Any, ...]:
        data = "0x" + (_selector(signature) + encode(arg_types, args)).hex()
        function = signature.split("(", 1)[0]
        try:
            result = self.rpc.request(
                "eth_call", [{"to": self.address, "data": data}, "latest"], f"call {function}"
            )
        except RpcError as exc:
            raw = revert_data(exc.data)
            if raw or "revert" in exc.rpc_message.lower():
                raise decode_revert(raw) from exc
            raise
        return tuple(decode(out_types, bytes.fromhex(str(result)[2:])))

    def _logs(self, event: str, topics: list[str | None], start: int, end: int) -> list[dict[str, Any]]:
        """The contract's logs matching ``topics`` in blocks [start, end], in windows the node accepts."""
        found: list[dict[str, Any]] = []
        window = DEFAULT_CHUNK
        while start <= end:
            last = min(start + window - 1, end)
            query = {"address": self.address, "topics": topics, "fromBlock": hex(start), "toBlock": hex(last)}
            try:
                logs = self.rpc.request("eth_getLogs", [query], f"eth_getLogs {event}")
            except RpcError as exc:
                if window > 1 and is_range_limit(exc.rpc_message):
                    window //= 2
                    continue
                raise ChainError(
                    f"the node refused eth_getLogs for {event} in blocks {start}-{last}: {exc.rpc_message}"
                ) from exc
            found.extend(logs)
            start = last + 1
        return found


class LedgerView(_Reader):
    """The RoundLedger's reads the hospital makes before it trains (see :mod:`hospital_node.verify`)."""

    def domain(self) -> LedgerDomain:
        """The EIP-712 domain hospitals sign under for this deployment."""
        from bcfl.chain.eip712 import LedgerDomain  # eth_account only when signing

        return LedgerDomain(chain_id=self.rpc.chain_id, verifying_contract=self.address)

    def get_round(self, round_number: int) -> RoundRecord:
        """The stored record of a round (status NONE if never opened)."""
        glob, config, aggregated, status, count, participants, opened, finalized, parent, lineage = (
            self._call(_GET_ROUND, ["uint256"], [round_number], _ROUND_TYPES)
        )
        return RoundRecord(
            round_number, glob, config, aggregated, RoundStatus(status), count, participants, opened,
            finalized, parent, lineage,
        )  # fmt: skip

    def privacy_budget(self) -> PrivacyBudget:
        """What each member may spend per lineage."""
        epsilon, delta = self._call("privacyBudget()", [], [], ["uint64", "uint64"])
        return PrivacyBudget(int(epsilon), int(delta))

    def epsilon_spent(self, lineage: int, member_id: int) -> int:
        """The member's cumulative ε in ``lineage`` (:mod:`bcfl.chain.privacy`'s units)."""
        (spent,) = self._call(
            "epsilonSpent(uint256,uint64)", ["uint256", "uint64"], [lineage, member_id], ["uint64"]
        )
        return int(spent)

    def lineage_starts(self, lineage: int | None = None) -> list[LineageStart]:
        """``LineageStarted`` records, optionally of one lineage, from the deployment block on."""
        topics: list[str | None] = [_LINEAGE_STARTED]
        if lineage is not None:
            topics.append(_word(lineage))
        logs = self._logs("LineageStarted", topics, self.deployment_block, self.rpc.block_number())
        return [_lineage_start(log) for log in logs]


def _lineage_start(log: dict[str, Any]) -> LineageStart:
    topics = [bytes.fromhex(t[2:]) for t in log["topics"]]
    (reason,) = decode(["string"], bytes.fromhex(log["data"][2:]))
    return LineageStart(
        int.from_bytes(topics[1], "big"),
        topics[2],
        to_checksum_address(topics[3][12:]),
        reason,
        int(log["blockNumber"], 16),
        log["transactionHash"],
    )


class RegistryView(_Reader):
    """The ConsortiumRegistry's membership read."""

    def active_member_id_of(self, account: str) -> int:
        """Member id of ``account`` if it is an active member's signer, else 0."""
        (member_id,) = self._call(
            _ACTIVE_MEMBER_ID_OF, ["address"], [to_checksum_address(account)], ["uint64"]
        )
        return int(member_id)


@dataclass(frozen=True)
class ConsortiumView:
    """The consortium's contracts as the ClientApp reads them."""

    rpc: JsonRpc
    manifest: DeploymentManifest
    registry: RegistryView
    ledger: LedgerView

    @classmethod
    def connect(cls, rpc: JsonRpc, manifest: DeploymentManifest, *, verify: bool = True) -> ConsortiumView:
        """Bind to a deployment; with ``verify``, the checks of :func:`bcfl.chain.deployment.check_deployment`
        (chain id, ABI hashes, code at every address) with the same messages."""
        if verify:
            check_deployment(rpc, manifest)
        block = manifest.deployment_block
        return cls(
            rpc=rpc,
            manifest=manifest,
            registry=RegistryView(rpc, manifest.address("ConsortiumRegistry"), block),
            ledger=LedgerView(rpc, manifest.address("RoundLedger"), block),
        )
