"""Contract events as the API and the feed show them: JSON-safe (integers beyond JavaScript's exact
range as strings), with the round and member they concern and a cursor."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from bcfl.index.records import IndexedEvent
from bcfl.text import printable

#: The largest integer a JavaScript number holds exactly.
JS_SAFE = 2**53 - 1
#: A cursor: block number and log index, in ASCII digits (at most 19 and 10 of them).
CURSOR = re.compile(r"([0-9]{1,19})-([0-9]{1,10})", re.ASCII)
#: What the API documents: a cursor that always fits the index's columns (18 and 9 digits).
CURSOR_PATTERN = r"^[0-9]{1,18}-[0-9]{1,9}$"
#: The index keeps block numbers in a signed 64-bit column and log indices in a 32-bit one.
MAX_BLOCK = 2**63 - 1
MAX_LOG_INDEX = 2**31 - 1


class EventOut(BaseModel):
    """A decoded contract event."""

    model_config = ConfigDict(frozen=True)

    cursor: str
    contract: str
    address: str
    name: str
    args: dict[str, Any]
    round: int | None
    member: int | None
    block_number: int
    block_hash: str
    timestamp: int
    tx_hash: str
    log_index: int


def cursor_of(event: IndexedEvent) -> str:
    return f"{event.block_number}-{event.log_index}"


def parse_cursor(text: str) -> tuple[int, int]:
    """``"<block>-<log index>"`` (ASCII digits, each within a 64-bit column) as a pair; ValueError,
    in one line, for anything else."""
    found = CURSOR.fullmatch(text)
    if found is None or int(found[1]) > MAX_BLOCK or int(found[2]) > MAX_LOG_INDEX:
        raise ValueError(
            f"cursor {printable(text, 40)!r} is not <block>-<log index>: pass a cursor the API returned"
        )
    return int(found[1]), int(found[2])


def json_safe(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        return value if -JS_SAFE <= value <= JS_SAFE else str(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return str(value)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def event_out(event: IndexedEvent) -> EventOut:
    return EventOut(
        cursor=cursor_of(event),
        contract=event.contract,
        address=event.address,
        name=event.name,
        args=json_safe(dict(event.args)),
        round=_int(event.args.get("round")),
        member=_int(event.args.get("memberId")),
        block_number=event.block_number,
        block_hash=event.block_hash,
        timestamp=event.timestamp,
        tx_hash=event.tx_hash,
        log_index=event.log_index,
    )
