"""The event index: every consortium contract event in a database, kept up to date by :meth:`sync`.

SQLite by default (a file path), PostgreSQL through the same code (a ``postgresql://`` URL). An index
belongs to one deployment (chain id, registry address, deployment block, kept in its ``meta`` table)
and refuses another's manifest. It writes nothing but its own database.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, and_, func, select, tuple_
from sqlalchemy.exc import SQLAlchemyError

from bcfl.chain.client import ChainClient
from bcfl.chain.eip712 import SignedModelUpdate
from bcfl.chain.manifest import DeploymentManifest
from bcfl.index import tables
from bcfl.index.errors import EventIndexError
from bcfl.index.records import IndexedEvent
from bcfl.index.registrations import signed_update
from bcfl.index.sync import DEFAULT_WINDOW, SyncResult, read_meta, sync_index, write_meta


class EventIndex:
    """One deployment's events in one database. Open it with :meth:`open`."""

    def __init__(self, engine: Engine, manifest: DeploymentManifest, where: str) -> None:
        self.engine = engine
        self.manifest = manifest
        self.where = where

    @classmethod
    def open(cls, url_or_path: str, manifest: DeploymentManifest) -> EventIndex:
        """Open (creating if needed) the index at ``url_or_path`` for ``manifest``'s deployment;
        EventIndexError, in one line, for an index of another deployment or a database that cannot
        be reached."""
        engine = tables.engine_for(url_or_path)
        where = engine.url.render_as_string(hide_password=True)
        identity = _identity(manifest)
        try:
            tables.metadata.create_all(engine)
            with engine.begin() as conn:
                stored = read_meta(conn)
                if not stored:
                    write_meta(conn, identity)
        except SQLAlchemyError as exc:
            engine.dispose()
            raise EventIndexError(f"cannot open the event index at {where}: {_reason(exc)}") from None
        stored_identity = {key: stored[key] for key in identity if key in stored} if stored else identity
        if stored_identity != identity:
            engine.dispose()
            raise EventIndexError(
                f"the event index at {where} was built for another deployment ({_describe(stored)}), "
                f"not this manifest's ({_describe(identity)}): give another index or delete it"
            )
        return cls(engine, manifest, where)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> EventIndex:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def sync(
        self,
        client: ChainClient,
        *,
        confirmations: int = 0,
        progress: Callable[[int, int], None] | None = None,
        window: int = DEFAULT_WINDOW,
    ) -> SyncResult:
        """Index every block up to the chain's head less ``confirmations``: first roll back to the fork
        point if an indexed block was reorganised, then add the new blocks' events in windows, one
        database transaction each. ``progress(done, total)`` counts blocks."""
        if client.chain_id != self.manifest.chain_id:
            raise EventIndexError(
                f"the chain answers with chain id {client.chain_id}, but the index is for chain "
                f"{self.manifest.chain_id}: give the RPC URL of the deployment's chain"
            )
        try:
            return sync_index(self.engine, self.manifest, client, confirmations, progress, window)
        except SQLAlchemyError as exc:
            raise EventIndexError(
                f"the event index at {self.where} refused a write ({_reason(exc)}): is another sync "
                "running on it? Run the sync again once it is done"
            ) from None

    def last_block(self) -> int:
        """The last indexed block (the block before the deployment block if none yet)."""
        with self.engine.connect() as conn:
            return int(read_meta(conn).get("last_block", self.manifest.deployment_block - 1))

    def events(
        self,
        *,
        contract: str | None = None,
        name: str | None = None,
        round: int | None = None,
        member: int | None = None,
        from_block: int | None = None,
        to_block: int | None = None,
        tx_hash: str | None = None,
        after: tuple[int, int] | None = None,
        before: tuple[int, int] | None = None,
        limit: int | None = None,
    ) -> list[IndexedEvent]:
        """Indexed events matching every filter given, in chain order. ``contract`` is a manifest name,
        or ``""`` for events from addresses outside the manifest. ``after`` and ``before`` are
        ``(block_number, log_index)`` cursors (exclusive); with ``before``, the ``limit`` events just
        before it (still returned in chain order), else the first ``limit``."""
        e = tables.events
        conditions = [
            column == value
            for column, value in (
                (e.c.contract, contract),
                (e.c.name, name),
                (e.c.round, round),
                (e.c.member, member),
                (e.c.tx_hash, tx_hash.lower() if tx_hash else None),
            )
            if value is not None
        ]
        if from_block is not None:
            conditions.append(e.c.block_number >= from_block)
        if to_block is not None:
            conditions.append(e.c.block_number <= to_block)
        if after is not None:
            conditions.append(tuple_(e.c.block_number, e.c.log_index) > tuple_(*after))
        if before is not None:
            conditions.append(tuple_(e.c.block_number, e.c.log_index) < tuple_(*before))
        query = select(e).where(and_(True, *conditions))
        if before is not None:
            query = query.order_by(e.c.block_number.desc(), e.c.log_index.desc()).limit(limit)
        else:
            query = query.order_by(e.c.block_number, e.c.log_index).limit(limit)
        with self.engine.connect() as conn:
            found = [_event(row._mapping) for row in conn.execute(query)]
        return found[::-1] if before is not None else found

    def registrations(self, tx_hash: str) -> list[SignedModelUpdate]:
        """The entries of registration transaction ``tx_hash`` in batch order (skipped ones included),
        as :meth:`bcfl.chain.ledger.Ledger.registered_signatures` rebuilds them; empty if the index
        holds none (not a registration, or not a direct call to the RoundLedger)."""
        r = tables.registrations
        query = select(r).where(r.c.tx_hash == tx_hash.lower()).order_by(r.c.position)
        with self.engine.connect() as conn:
            return [signed_update(row._mapping) for row in conn.execute(query)]

    def all_registrations(self) -> dict[str, list[SignedModelUpdate]]:
        """Every indexed registration transaction's entries, by transaction hash (lower case), each in
        batch order: one query, for an audit that reads them all."""
        r = tables.registrations
        found: dict[str, list[SignedModelUpdate]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(select(r).order_by(r.c.tx_hash, r.c.position)):
                found.setdefault(row.tx_hash, []).append(signed_update(row._mapping))
        return found

    def count(self) -> int:
        """How many events the index holds."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(tables.events)).scalar_one())


def _reason(exc: SQLAlchemyError) -> str:
    """The database's own words, first line only."""
    return (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]


def _identity(manifest: DeploymentManifest) -> dict[str, str]:
    return {
        "schema_version": str(tables.SCHEMA_VERSION),
        "chain_id": str(manifest.chain_id),
        "registry": manifest.address("ConsortiumRegistry").lower(),
        "deployment_block": str(manifest.deployment_block),
    }


def _describe(identity: dict[str, str]) -> str:
    return (
        f"chain {identity.get('chain_id')}, registry {identity.get('registry')}, "
        f"block {identity.get('deployment_block')}, schema {identity.get('schema_version')}"
    )


def _event(row: Any) -> IndexedEvent:
    return IndexedEvent(
        contract=row["contract"],
        address=row["address"],
        name=row["name"],
        args=json.loads(row["args"]),
        block_number=int(row["block_number"]),
        block_hash=row["block_hash"],
        timestamp=int(row["timestamp"]),
        tx_hash=row["tx_hash"],
        log_index=int(row["log_index"]),
    )
