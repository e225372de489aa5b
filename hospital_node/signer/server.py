"""The agent's Unix socket server: one thread per connection, each checked by the peer's uid.

The socket lives in a directory of its own, mode 0700 and owned by the agent's user; the socket file
itself is mode 0600. A lock file beside it (``agent.lock``, ``flock``-ed for the agent's life) tells a
live agent from a stale socket file: a second agent for the same socket refuses to start, and a socket
file left by one that died is replaced. A connection that stalls, sends garbage or vanishes midway
costs only its own thread: the agent logs it and keeps serving the others.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import socketserver
import stat
import threading
from contextlib import suppress
from pathlib import Path

from hospital_node.errors import HospitalNodeError
from hospital_node.signer.peer import peer_credentials, refusal, supported
from hospital_node.signer.protocol import (
    ErrorReply,
    IdentityReply,
    ProtocolError,
    SignatureReply,
    recv_frame,
    send_frame,
)
from hospital_node.signer.signing import Signer

logger = logging.getLogger(__name__)
#: The longest path an AF_UNIX socket address holds on Linux (108 bytes with the final NUL).
MAX_SOCKET_PATH = 107
#: Seconds a connection may stay silent (between or inside requests) before the agent closes it.
IDLE_TIMEOUT_S = 60.0
LOCK_NAME = "agent.lock"
#: How often the serving thread looks for a stop request.
POLL_INTERVAL_S = 0.2


class SignerStartError(HospitalNodeError):
    """The agent cannot start (the message says why and what to do)."""


class _Handler(socketserver.BaseRequestHandler):
    server: _UnixServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(self.server.idle_timeout)
        peer = peer_credentials(sock)
        refused = refusal(peer, self.server.allowed_uids)
        if refused is not None:
            logger.warning("refused a connection from pid %d (uid %d)", peer.pid, peer.uid)
            # Its first frame is taken (bounded, never parsed) so that it reads the refusal rather
            # than a broken pipe.
            with suppress(OSError, ProtocolError):
                recv_frame(sock)
            _reply_quietly(sock, ErrorReply(error=refused))
            return
        while True:
            try:
                data = recv_frame(sock)
            except ProtocolError as exc:
                logger.warning("pid %d: %s; closing its connection", peer.pid, exc)
                _reply_quietly(sock, ErrorReply(error=str(exc)))
                return
            except TimeoutError:
                logger.warning("pid %d sent nothing for %.0f s; closing", peer.pid, self.server.idle_timeout)
                return
            except OSError as exc:
                logger.warning("pid %d's connection failed: %s", peer.pid, exc.strerror or exc)
                return
            if data is None:
                return
            if not _reply_quietly(sock, self.server.signer.answer(data)):
                logger.warning("pid %d left before its reply", peer.pid)
                return


def _reply_quietly(sock: socket.socket, reply: SignatureReply | IdentityReply | ErrorReply) -> bool:
    """Send ``reply``; False if the peer is gone (it may have crashed: not the agent's problem)."""
    try:
        send_frame(sock, reply)
    except OSError:
        return False
    return True


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False
    #: The listen backlog: a Unix socket refuses a connect (EAGAIN) once it is full, and every
    #: ClientApp of a busy node may ask at once (socketserver's default is 5).
    request_queue_size = 128

    def __init__(self, path: Path, signer: Signer, allowed_uids: frozenset[int], idle_timeout: float) -> None:
        self.signer = signer
        self.allowed_uids = allowed_uids
        self.idle_timeout = idle_timeout
        super().__init__(str(path), _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        logger.exception("a connection's handler failed; the agent goes on serving")


class SigningAgent:
    """The agent's server: :meth:`start` binds the socket and serves in a thread, :meth:`stop` stops
    serving and removes the socket. Also a context manager."""

    def __init__(
        self,
        signer: Signer,
        socket_path: Path,
        *,
        allowed_uids: frozenset[int] | None = None,
        idle_timeout: float = IDLE_TIMEOUT_S,
    ) -> None:
        self.signer = signer
        self.socket_path = socket_path.absolute()
        self.allowed_uids = allowed_uids if allowed_uids is not None else frozenset({os.geteuid()})
        self.idle_timeout = idle_timeout
        self._lock_fd: int | None = None
        self._server: _UnixServer | None = None
        self._thread: threading.Thread | None = None
        self._inode: int | None = None

    def __enter__(self) -> SigningAgent:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Take the socket's lock, replace a stale socket file, bind (0600) and serve in a thread."""
        if not supported():
            raise SignerStartError("the signing agent needs SO_PEERCRED (Linux) to check who connects")
        if len(os.fsencode(self.socket_path)) > MAX_SOCKET_PATH:
            raise SignerStartError(
                f"the agent's socket path {self.socket_path} is over {MAX_SOCKET_PATH} bytes, the most a "
                "Unix socket address holds: use a node folder with a shorter path"
            )
        private_directory(self.socket_path.parent)
        self._lock_fd = _take_lock(self.socket_path)
        try:
            _remove_stale(self.socket_path)
            self._server = _UnixServer(self.socket_path, self.signer, self.allowed_uids, self.idle_timeout)
            os.chmod(self.socket_path, 0o600)
            self._inode = os.stat(self.socket_path).st_ino
        except BaseException:
            self._release()
            raise
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(POLL_INTERVAL_S,), name="signer", daemon=True
        )
        self._thread.start()
        logger.info(
            "signing agent for %s (chain %d, ledger %s) listening on %s",
            self.signer.address,
            self.signer.domain.chain_id,
            self.signer.domain.verifying_contract,
            self.socket_path,
        )

    def stop(self) -> None:
        """Stop serving, remove the socket file (if still this agent's) and release the lock."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        try:
            if self._inode is not None and os.stat(self.socket_path).st_ino == self._inode:
                self.socket_path.unlink()
        except FileNotFoundError:
            pass
        self._inode = None
        self._release()
        logger.info("signing agent stopped; removed %s", self.socket_path)

    def _release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def private_directory(folder: Path, name: str = "the agent's folder", remedy: str | None = None) -> None:
    """Make ``folder`` (mode 0700) or check that it is a directory of this user's that no one else can
    enter: an existing one is never loosened nor tightened behind the user's back. ``name`` is what
    the one-line errors call it; ``remedy``, if given, is the fix they name for a folder of another
    user or open to others."""
    try:
        folder.mkdir(mode=0o700)
        os.chmod(folder, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise SignerStartError(f"cannot make {name} {folder}: {exc.strerror}") from None
    info = os.lstat(folder)
    owner_fix = remedy or "run the agent as the node's user"
    mode_fix = remedy or f"`chmod 700 {folder}`"
    if not stat.S_ISDIR(info.st_mode):
        raise SignerStartError(f"{name} {folder} is not a directory")
    if info.st_uid != os.geteuid():
        raise SignerStartError(
            f"{name} {folder} belongs to uid {info.st_uid}, not to this agent's user "
            f"(uid {os.geteuid()}): {owner_fix}"
        )
    if info.st_mode & 0o077:
        raise SignerStartError(
            f"{name} {folder} is open to other users (mode {stat.S_IMODE(info.st_mode):o}): {mode_fix}"
        )


def _take_lock(socket_path: Path) -> int:
    lock = socket_path.parent / LOCK_NAME
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise SignerStartError(
            f"a signing agent already runs on {socket_path} (pid {holder}): stop it first"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _remove_stale(socket_path: Path) -> None:
    """Remove a socket file no live agent holds (the caller has the lock); refuse any other file."""
    try:
        info = os.lstat(socket_path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise SignerStartError(f"{socket_path} exists and is not a socket: remove it or pick another path")
    logger.info("replacing the stale socket %s (no agent holds it)", socket_path)
    socket_path.unlink()
