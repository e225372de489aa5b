"""The dashboard's one writer: a thread that keeps the event index up to the chain and tells the live
feed, and a second one that takes a new snapshot when the index moved (a snapshot of a long history
takes seconds: syncing and publishing events never wait for one; indexes that move while one is being
built are coalesced into the next). It writes nothing but the index (never the chain: it holds no
key). While the chain is unreachable it keeps the last snapshot, says so, and tries again every poll;
when the chain is back it catches up."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from bcfl.audit.context import AuditContext
from bcfl.audit.source import IndexSource
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.exceptions import ChainError
from bcfl.chain.manifest import DeploymentManifest
from bcfl.index.errors import EventIndexError
from bcfl.index.store import EventIndex
from bcfl.models.store import ModelStore
from bcfl.text import printable
from dashboard.events import event_out
from dashboard.feed import Feed, Message
from dashboard.nodes import NodesAnswer, NodeState, SuperLinkNodes, member_states
from dashboard.settings import DashboardSettings
from dashboard.snapshot import Caches, Snapshot, take_snapshot

logger = logging.getLogger(__name__)

#: Seconds a JSON-RPC request may take before the chain counts as unreachable.
RPC_TIMEOUT_S = 10.0
#: Events a sync hands to the feed at most; more than that and streams are told to reload.
FEED_BATCH = 500


@dataclass(frozen=True)
class ChainStatus:
    """What the watcher last learnt of the chain."""

    reachable: bool
    error: str | None
    head_block: int | None
    checked_at: float


class LedgerWatcher:
    """Keeps ``snapshot`` and ``chain`` current; :meth:`step` is one round of work, :meth:`run` loops."""

    def __init__(self, settings: DashboardSettings, feed: Feed) -> None:
        self.settings = settings
        self.feed = feed
        self.manifest = DeploymentManifest.load(settings.manifest)
        self.index = EventIndex.open(settings.audit_index, self.manifest)
        self.store = ModelStore(settings.store) if settings.store is not None else None
        self.snapshot: Snapshot | None = None
        self.chain = ChainStatus(False, "not asked yet", None, 0.0)
        #: The last indexed block, as of the last sync (requests read this, not the database).
        self.indexed_block = self.index.last_block()
        self.superlink = SuperLinkNodes(settings.superlink, settings.superlink_root_certificates)
        self._nodes: dict[int, NodeState] = {}
        self._consortium: Consortium | None = None
        self._caches = Caches()
        #: Set when the chain rolled back since the last snapshot: its caches are then emptied.
        self._rolled_back = threading.Event()
        #: Set when the index moved since the last snapshot (or there is none yet).
        self._wanted = threading.Event()
        self._wanted.set()
        #: The last bug logged by each thread ("sync", "snapshot"), so that each is logged once.
        self._last_bug: dict[str, str | None] = {}
        self._thread: threading.Thread | None = None
        self._snapshots: threading.Thread | None = None
        self._stop = threading.Event()

    # -- the loop ------------------------------------------------------------------------------
    def start(self) -> None:
        self._snapshots = threading.Thread(target=self._snapshot_loop, name="ledger-snapshots", daemon=True)
        self._snapshots.start()
        self._thread = threading.Thread(target=self.run, name="ledger-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wanted.set()  # wakes the snapshot thread
        for thread in (self._thread, self._snapshots):
            if thread is not None:
                thread.join(timeout=30)
        self.superlink.close()
        self.index.close()

    def run(self) -> None:
        while not self._stop.is_set():
            self.step()
            self._stop.wait(self.settings.poll_s)

    def step(self) -> None:
        """Sync, then ask the SuperLink for its nodes if it is time; without the snapshot thread
        (:meth:`start` not called: tests step the watcher by hand) also take a snapshot if the index
        changed since the last one. Any failure is recorded (the last snapshot stays), never raised."""
        self._sync()
        if self._snapshots is None:
            self._snapshot_if_wanted()
        try:
            if self.superlink.poll():
                self._update_nodes()
        except Exception:  # the thread must live on
            logger.exception("the dashboard's watcher failed to ask the SuperLink")

    def _sync(self) -> None:
        try:
            consortium = self._connect()
            before = self.index.last_block()
            result = self.index.sync(consortium.client)
            self.indexed_block = self.index.last_block()
            self._set_chain(ChainStatus(True, None, result.to_block, time.time()))
            if result.rolled_back_to is not None:
                self._rolled_back.set()
                self.feed.publish(Message("reorg", {"rolled_back_to": result.rolled_back_to}))
            if result.added:
                self._publish_events(before, result.rolled_back_to)
            if result.added or result.rolled_back_to is not None:
                self._wanted.set()
            self._last_bug["sync"] = None
        except (ChainError, EventIndexError, OSError) as exc:
            self._set_chain(ChainStatus(False, printable(str(exc), 300), None, time.time()))
        except Exception as exc:  # the thread must live on: a bug is logged, the page keeps its snapshot
            self._bug("sync", exc)

    def _snapshot_loop(self) -> None:
        while not self._stop.is_set():
            self._wanted.wait()
            if self._stop.is_set():
                return
            if not self._snapshot_if_wanted():
                self._stop.wait(self.settings.poll_s)  # then try again

    def _snapshot_if_wanted(self) -> bool:
        """Take a snapshot if the index moved since the last one; False if that failed (the last
        snapshot stays, and one is still wanted)."""
        if not self._wanted.is_set():
            return True
        if self._consortium is None or not self.chain.reachable:
            return False
        self._wanted.clear()
        try:
            self._take_snapshot(self._consortium)
            self._last_bug["snapshot"] = None
            return True
        except (ChainError, EventIndexError, OSError) as exc:
            logger.warning("the dashboard's snapshot failed: %s", printable(str(exc), 300))
        except Exception as exc:  # the thread must live on: a bug is logged, the page keeps its snapshot
            self._bug("snapshot", exc)
        self._wanted.set()
        return False

    def _bug(self, where: str, exc: Exception) -> None:
        bug = f"{type(exc).__name__}: {exc}"
        if bug != self._last_bug.get(where):  # once, not at every poll
            logger.exception("the dashboard's watcher failed a step (%s)", where)
            self._last_bug[where] = bug
        error = "the dashboard failed to read the ledger: see its log"
        self._set_chain(ChainStatus(self.chain.reachable, error, self.chain.head_block, time.time()))

    def nodes(self) -> dict[int, NodeState]:
        """Each member's Flower node, ``online`` or ``offline``, where the SuperLink can be asked and
        lists a node with the member's key (others are ``unknown``; see dashboard.nodes)."""
        return self._nodes

    @property
    def nodes_answer(self) -> NodesAnswer:
        return self.superlink.answer

    def _update_nodes(self) -> None:
        snapshot = self.snapshot
        states = member_states(self.superlink.answer, snapshot.node_keys if snapshot else {})
        if states != self._nodes:
            self._nodes = states
            self.feed.publish(Message("nodes", {str(m): state for m, state in sorted(states.items())}))

    # -- parts ---------------------------------------------------------------------------------
    def _connect(self) -> Consortium:
        if self._consortium is None:
            client = ChainClient(self.settings.rpc_url, timeout_s=RPC_TIMEOUT_S, retries=0, outage_s=0.0)
            self._consortium = Consortium.connect(client, self.manifest)
        return self._consortium

    def _set_chain(self, status: ChainStatus) -> None:
        changed = (status.reachable, status.error) != (self.chain.reachable, self.chain.error)
        self.chain = status
        if changed:
            if status.reachable:
                logger.info("the chain answers again")
            else:
                logger.warning("the chain is unreachable: %s", status.error)
            self.feed.publish(Message("chain", {"reachable": status.reachable, "error": status.error}))

    def _publish_events(self, before: int, rolled_back_to: int | None) -> None:
        start = (min(before, rolled_back_to) if rolled_back_to is not None else before) + 1
        fresh = self.index.events(from_block=start, limit=FEED_BATCH + 1)
        if len(fresh) > FEED_BATCH:
            self.feed.publish(Message("lagged", {"reason": "many new events at once: reload"}))
            return
        for event in fresh:
            out = event_out(event)
            self.feed.publish(Message("event", out.model_dump(mode="json"), out.cursor))

    def _take_snapshot(self, consortium: Consortium) -> None:
        started = time.perf_counter()
        if self._rolled_back.is_set():
            self._rolled_back.clear()
            self._caches.clear()
        block = self.index.last_block()
        source = IndexSource(consortium, self.index)
        context = AuditContext.load(source, self.store, self._caches.signatures)
        self.snapshot = take_snapshot(context, block, self._caches)
        logger.info("snapshot at block %d in %.2fs", block, time.perf_counter() - started)
        self.feed.publish(Message("snapshot", {"block": block}))
        self._update_nodes()
