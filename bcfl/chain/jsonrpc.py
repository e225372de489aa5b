"""A plain JSON-RPC client over the standard library (``urllib``), for processes that only read the
chain and must start fast (the hospital's ClientApp, started afresh for every Flower message): no web3,
no requests. Unreachable endpoints are retried and named as :class:`bcfl.chain.client.ChainClient`
does (:mod:`bcfl.chain.retry`, shared)."""

from __future__ import annotations

import itertools
import json
import logging
import urllib.error
import urllib.request
from typing import Any

from bcfl.chain.endpoint import check_rpc_url
from bcfl.chain.exceptions import ChainError, redact_url
from bcfl.chain.retry import OUTAGE_S, Retrier

logger = logging.getLogger(__name__)


class RpcError(ChainError):
    """The node answered a request with a JSON-RPC error object."""

    def __init__(self, method: str, code: int, message: str, data: object) -> None:
        super().__init__(f"{method} failed: {message} (code {code})")
        self.code = code
        self.rpc_message = message
        self.data = data


class JsonRpc:
    """One JSON-RPC endpoint, asked with HTTP POSTs; ``retries``, ``backoff_s`` and ``outage_s`` as
    ChainClient's."""

    def __init__(
        self,
        rpc_url: str,
        *,
        retries: int = 5,
        backoff_s: float = 0.2,
        timeout_s: float = 30.0,
        outage_s: float = OUTAGE_S,
    ) -> None:
        self.rpc_url = check_rpc_url(rpc_url)
        self._retrier = Retrier(
            self.rpc_url, (urllib.error.URLError, ConnectionError, TimeoutError), retries, backoff_s, outage_s
        )
        self.timeout_s = timeout_s
        self._ids = itertools.count(1)
        self._chain_id: int | None = None

    def request(self, method: str, params: list[Any], what: str | None = None) -> Any:
        """The ``result`` of ``method``; :class:`RpcError` for an error answer, retries while unreachable."""
        what = what or method
        return self._retrier(what, lambda: self._answered(method, params, what))

    def _answered(self, method: str, params: list[Any], what: str) -> Any:
        """:meth:`_post`, an HTTP error status (an answer, not an outage) as a ChainError."""
        try:
            return self._post(method, params)
        except urllib.error.HTTPError as exc:
            raise ChainError(
                f"the chain at {redact_url(self.rpc_url)} answered {what} with HTTP {exc.code}"
            ) from None

    def _post(self, method: str, params: list[Any]) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params})
        request = urllib.request.Request(
            self.rpc_url, data=body.encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
            text = response.read()
        try:
            answer = json.loads(text)
        except ValueError:
            raise ChainError(
                f"the chain at {redact_url(self.rpc_url)} answered {method} with non-JSON"
            ) from None
        if not isinstance(answer, dict):
            raise ChainError(
                f"the chain at {redact_url(self.rpc_url)} answered {method} with a malformed reply"
            )
        error = answer.get("error")
        if error is not None:
            if not isinstance(error, dict):
                error = {"message": str(error)}
            raise RpcError(
                method, int(error.get("code", 0)), str(error.get("message", "")), error.get("data")
            )
        return answer.get("result")

    @property
    def chain_id(self) -> int:
        """The chain id (read once)."""
        if self._chain_id is None:
            self._chain_id = int(self.request("eth_chainId", []), 16)
        return self._chain_id

    def block_number(self) -> int:
        """The latest block number."""
        return int(self.request("eth_blockNumber", []), 16)

    def get_code(self, address: str) -> bytes:
        """The code deployed at ``address`` (empty if none)."""
        return bytes.fromhex(str(self.request("eth_getCode", [address, "latest"]))[2:])
