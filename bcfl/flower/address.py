"""A Flower address (``host:port``, as SuperNodes, the gateway and the Control API take it), checked
in one place."""

from __future__ import annotations


class AddressError(ValueError):
    """Not a ``host:port`` address."""


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` (IPv6 in brackets) as a host and a port; :class:`AddressError` otherwise (a URL
    with a scheme, no port, a port out of range)."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or "/" in address or not port.isdigit() or not 0 < int(port) < 65536:
        raise AddressError(f"{address!r} must be host:port (no https://), e.g. link.example.org:9095")
    return host.strip("[]"), int(port)
