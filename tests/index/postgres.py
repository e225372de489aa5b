"""A real PostgreSQL server for a test, from Debian's ``postgresql`` package, on a unix socket only.

PostgreSQL refuses to run as root: the cluster belongs to the ``postgres`` user where it exists (else
``nobody``), and its binaries run through ``runuser``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bcfl.chain.anvil import free_port

#: Where Debian's postgresql-15 package puts the server's binaries.
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


def _owner() -> str:
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("no postgres or nobody user to run PostgreSQL as")


def _as(user: str, *command: str) -> list[str]:
    return command if os.geteuid() != 0 else ["runuser", "-u", user, "--", *command]  # type: ignore[return-value]


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a throw-away PostgreSQL cluster; yields its SQLAlchemy URL; stops and deletes it after."""
    user = _owner()
    root = Path(tempfile.mkdtemp(prefix="bcfl-pg-"))
    data, socket, log = root / "data", root / "socket", root / "server.log"
    socket.mkdir()
    entry = pwd.getpwnam(user)
    for path in (root, socket):
        os.chown(path, entry.pw_uid, entry.pw_gid)
        path.chmod(0o700)
    port = free_port()
    pg_ctl = str(POSTGRES_BIN / "pg_ctl")
    try:
        subprocess.run(
            _as(user, str(POSTGRES_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "bcfl", "-N"),
            check=True,
            capture_output=True,
        )
        options = f"-p {port} -k {socket} -c listen_addresses='' -c fsync=off"
        subprocess.run(
            _as(user, pg_ctl, "-D", str(data), "-o", options, "-w", "-l", str(log), "start"),
            check=True,
            capture_output=True,
        )
        try:
            yield f"postgresql://bcfl@/postgres?host={socket}&port={port}"
        finally:
            subprocess.run(
                _as(user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"),
                check=False,
                capture_output=True,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
