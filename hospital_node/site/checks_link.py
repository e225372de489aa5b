"""The doctor's checks against the SuperLink: TLS with the published certificate, and admission."""

from __future__ import annotations

import socket
import ssl

from bcfl.chain.fingerprints import certificate_fingerprint
from hospital_node.site.admission import Admission, probe
from hospital_node.site.doctor import CheckError, CheckFn, Probe, SkippedError, Status
from hospital_node.site.pinning import CONNECT_TIMEOUT_S, fetch_presented_chain, split_address


def superlink_tls(p: Probe) -> tuple[Status, str]:
    address = p.config.superlink
    published, _endpoint = p.need_chain().registry.superlink_certificate()
    if published == bytes(32):
        raise CheckError(
            "the consortium has not published its SuperLink certificate on chain yet: ask the admin"
        )
    if not p.node.ca_cert.exists():
        raise CheckError(
            f"no pinned CA ({p.node.ca_cert.name}): run `bcfl node init` on the folder again to pin it"
        )
    presented = fetch_presented_chain(address)
    found = certificate_fingerprint(presented[0]) if presented else b""
    if found != published:
        raise CheckError(
            f"the SuperLink at {address} presents certificate 0x{found.hex()}, "
            "not the one published on chain "
            f"(0x{published.hex()}): do not start; tell the consortium admin"
        )
    host, port = split_address(address)
    context = ssl.create_default_context(cafile=str(p.node.ca_cert))
    try:
        with (
            socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S) as raw,
            context.wrap_socket(raw, server_hostname=host),
        ):
            pass
    except ssl.SSLError as exc:
        raise CheckError(
            f"the SuperLink's certificate does not verify against {p.node.ca_cert.name} ({exc.reason}): "
            "run `bcfl node init` on the folder again to pin the CA anew"
        ) from None
    p.ca_ok = True
    return (
        Status.ok,
        f"{address} answers over TLS with the certificate published on chain (0x{published.hex()[:16]}…)",
    )


def admission(p: Probe) -> tuple[Status, str]:
    if not p.ca_ok:
        raise SkippedError("skipped: needs the SuperLink over TLS (see above)")
    answer = probe(p.config.superlink, p.node.ca_cert, p.node.node_key)
    if answer is Admission.UNKNOWN_KEY:
        raise CheckError(
            "the SuperLink does not know this node's key yet: the consortium's node sync registers an "
            "active member's published key within seconds (`bcfl node join` shows both); if it stays, "
            "ask the admin to check the node-sync service"
        )
    if answer is Admission.UNAUTHENTICATED:
        raise CheckError(
            "the SuperLink refused the node's signature: check this machine's clock (NTP) and the node key"
        )
    return Status.ok, "the SuperLink admits this node's key"


LINK_CHECKS: list[tuple[str, CheckFn]] = [("superlink", superlink_tls), ("admission", admission)]
