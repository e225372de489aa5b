"""The index's tables (SQLAlchemy Core, the same for SQLite and PostgreSQL) and how a URL opens them.

- ``meta``: the deployment the index belongs to (chain id, registry address, deployment block), the
  schema version and the last indexed block.
- ``blocks``: hash and time of every block that holds an event, and of each last indexed block: what a
  reorganisation is detected by.
- ``events``: one row per log, keyed by ``(block_number, log_index)`` so nothing is counted twice.
- ``registrations``: the entries of each ``registerUpdates`` transaction, decoded from its input (events
  carry no signature), so the audit needs no transaction lookups after a sync.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from bcfl.index.errors import EventIndexError

#: Bumped whenever a table changes: an index of another version is rebuilt from scratch by its owner.
#: 2: registrations keep each update's ε and δ.
SCHEMA_VERSION = 2

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

blocks = Table(
    "blocks",
    metadata,
    Column("number", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", String(66), nullable=False),
    Column("timestamp", BigInteger, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("block_number", BigInteger, primary_key=True, autoincrement=False),
    Column("log_index", Integer, primary_key=True, autoincrement=False),
    Column("block_hash", String(66), nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("tx_hash", String(66), nullable=False),
    Column("contract", String(64), nullable=False),
    Column("address", String(42), nullable=False),
    Column("name", String(64), nullable=False),
    # ``args.round`` and ``args.memberId`` when they fit a 64-bit column (a contract's rounds and
    # member ids always do; an impostor's uint256 may not: then only ``args`` holds it).
    Column("round", BigInteger, nullable=True),
    Column("member", BigInteger, nullable=True),
    Column("args", Text, nullable=False),
    Index("events_by_name", "name", "block_number"),
    Index("events_by_round", "round"),
    Index("events_by_member", "member"),
    Index("events_by_tx", "tx_hash"),
)

registrations = Table(
    "registrations",
    metadata,
    Column("tx_hash", String(66), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("block_number", BigInteger, nullable=False),
    Column("round", BigInteger, nullable=False),
    Column("global_model_hash", String(66), nullable=False),
    Column("update_hash", String(66), nullable=False),
    Column("num_examples", BigInteger, nullable=False),
    # Decimal text: an unsigned 64-bit value (NOT_PRIVATE is 2**64 - 1) fits no SQL integer type.
    Column("epsilon_spent", String(20), nullable=False),
    Column("delta_spent", String(20), nullable=False),
    Column("r", String(66), nullable=False),
    Column("vs", String(66), nullable=False),
    Index("registrations_by_block", "block_number"),
)


def database_url(url_or_path: str) -> URL:
    """A SQLAlchemy URL from a URL (``postgresql://…`` gets the psycopg 3 driver) or a file path
    (an embedded SQLite database). EventIndexError, in one line, for a malformed URL."""
    if "://" not in url_or_path:
        path = Path(url_or_path).expanduser()
        if not path.parent.is_dir():
            raise EventIndexError(
                f"cannot create the event index {path}: folder {path.parent} does not exist"
            )
        return URL.create("sqlite", database=str(path.resolve()))
    try:
        url = make_url(url_or_path)
    except (ArgumentError, ValueError):
        raise EventIndexError(
            f"{url_or_path!r} is not a database URL: give a file path or e.g. postgresql://user@host/db"
        ) from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise EventIndexError(
            f"the event index lives in SQLite or PostgreSQL, not {url.get_backend_name()}: "
            "give a file path or a postgresql:// URL"
        )
    return url


def engine_for(url_or_path: str) -> Engine:
    """An engine on the index's database (no connection made yet)."""
    url = database_url(url_or_path)
    try:
        engine = create_engine(url)
    except (ArgumentError, ImportError) as exc:
        raise EventIndexError(f"cannot open the event index at {url_or_path!r}: {exc}") from None
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
