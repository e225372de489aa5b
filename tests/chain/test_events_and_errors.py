"""Event windows that shrink when a node caps eth_getLogs, malformed revert data, redacted URLs."""

from __future__ import annotations

from typing import Any

import pytest
from web3.exceptions import Web3RPCError

from bcfl.chain import events
from bcfl.chain.consortium import Consortium
from bcfl.chain.exceptions import ChainError, UnknownRevertError, redact_url
from bcfl.chain.revert import decode_revert
from tests.conftest import Actors


def test_a_capped_node_gets_smaller_log_windows(
    consortium: Consortium, actors: Actors, members: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A node that refuses spans over 3 blocks (a fake cap on the real node) still yields every event."""
    real = events._get_logs
    spans: list[int] = []

    def capped(contract: Any, event: str, filters: Any, start: int, end: int) -> Any:
        spans.append(end - start + 1)
        if end - start + 1 > 3:
            raise Web3RPCError("query exceeds max block range 3")
        return real(contract, event, filters, start, end)

    expected = consortium.registry.events("MemberActivated")
    monkeypatch.setattr(events, "_get_logs", capped)
    assert consortium.registry.events("MemberActivated", from_block=0) == expected
    assert len(expected) == len(members) and max(spans) > 3 and spans[-1] <= 3


def test_other_log_errors_are_chain_errors(consortium: Consortium, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any) -> Any:
        raise Web3RPCError("internal error")

    monkeypatch.setattr(events, "_get_logs", broken)
    with pytest.raises(ChainError, match="refused eth_getLogs"):
        consortium.registry.events("MemberActivated")


def test_malformed_revert_data_is_an_unknown_revert() -> None:
    from bcfl.chain.errors import RoundLedgerNotSubmitted

    truncated = RoundLedgerNotSubmitted.selector + b"\x00" * 7
    error = decode_revert(truncated)
    assert isinstance(error, UnknownRevertError) and "malformed" in str(error)
    assert isinstance(decode_revert(b""), UnknownRevertError)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
        ("https://mainnet.example.io/v3/SECRETKEY", "https://mainnet.example.io/…"),
        ("https://user:pass@node.example:8443/", "https://node.example:8443/…"),
        ("https://node.example/?apikey=SECRET", "https://node.example/…"),
    ],
)
def test_urls_in_messages_hide_credentials(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert "SECRET" not in redact_url(url) and "pass" not in redact_url(url)
