"""A separate network host for tests: a network namespace of the test's own, joined to this machine by
a veth pair on a private /30 (iproute2's ``ip netns`` and ``ip link``; needs root, as CI has).

Processes started with :meth:`NetworkHost.command` see only the namespace's own loopback and the veth
link: they reach this machine at :attr:`NetworkHost.gateway_ip` and nothing on its 127.0.0.1, as a
hospital's machine on another network would.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class NetworkHost:
    """A network namespace ``name`` at ``ip``, reaching this machine at ``gateway_ip``."""

    name: str
    ip: str
    gateway_ip: str

    def command(self, argv: Sequence[str]) -> list[str]:
        """``argv`` run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *argv]


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@contextmanager
def network_host(tag: str = "h") -> Iterator[NetworkHost]:
    """A fresh namespace and veth pair, removed afterwards (also when the test fails)."""
    pid = os.getpid()
    name = f"bcfl-{tag}-{pid}"
    # One /30 per process (10.200-231.x.y): parallel test runs on one machine do not collide.
    octet2, octet3 = 200 + (pid >> 14) % 32, (pid >> 6) % 256
    octet4 = (pid % 64) * 4
    gateway_ip, ip = f"10.{octet2}.{octet3}.{octet4 + 1}", f"10.{octet2}.{octet3}.{octet4 + 2}"
    outside, inside = f"vb{pid % 100000}a", f"vb{pid % 100000}b"
    _ip("netns", "add", name)
    try:
        _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        _ip("link", "set", inside, "netns", name)
        _ip("addr", "add", f"{gateway_ip}/30", "dev", outside)
        _ip("link", "set", outside, "up")
        _ip("netns", "exec", name, "ip", "addr", "add", f"{ip}/30", "dev", inside)
        _ip("netns", "exec", name, "ip", "link", "set", inside, "up")
        _ip("netns", "exec", name, "ip", "link", "set", "lo", "up")
        yield NetworkHost(name, ip, gateway_ip)
    finally:
        subprocess.run(["ip", "link", "del", outside], capture_output=True, timeout=30)
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)
