"""``bcfl superlink publish-certificate``: pin the certificate hospitals' SuperNodes see, on chain.

Hospitals pin the Fleet endpoint's TLS certificate by its SHA-256 fingerprint read from the registry
(``bcfl node init`` and ``bcfl node doctor``), so they need no second channel to trust it. The admin
publishes it; in governance mode each member runs the same command and the approval that reaches the
quorum also publishes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from bcfl.chain.exceptions import KeyFormatError
from bcfl.chain.fingerprints import certificate_fingerprint
from bcfl.cli.common import (
    DevAccountOpt,
    Format,
    KeyEnvOpt,
    KeystoreOpt,
    ManifestPath,
    OutputFormat,
    PasswordFileOpt,
    RpcUrl,
    clean_errors,
    connect,
    emit,
    host_port,
    resolve_account,
)
from bcfl.cli.settings import DEFAULTS
from bcfl.text import markup_escaped

#: The longest endpoint the contract accepts (ConsortiumRegistry.MAX_ENDPOINT_LENGTH).
MAX_ENDPOINT_LENGTH = 256


def check_endpoint(endpoint: str) -> str:
    """``host:port`` the contract stores, or a one-line :class:`typer.BadParameter`."""
    host_port(endpoint)
    if len(endpoint.encode()) > MAX_ENDPOINT_LENGTH:
        raise typer.BadParameter(f"longer than {MAX_ENDPOINT_LENGTH} bytes")
    return endpoint


def publish_certificate(
    certificate: Annotated[
        Path,
        typer.Argument(
            help="The certificate SuperNodes are served (PEM or DER): the Fleet gateway's server.pem.",
            exists=True,
            dir_okay=False,
        ),
    ],
    endpoint: Annotated[
        str, typer.Option(help="host:port the hospitals' SuperNodes dial.", callback=check_endpoint)
    ],
    manifest: ManifestPath,
    rpc_url: RpcUrl = DEFAULTS.rpc_url,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    key_env: KeyEnvOpt = None,
    dev_account: DevAccountOpt = None,
    fmt: Format = OutputFormat.table,
) -> None:
    """Publish the Fleet endpoint's certificate fingerprint and address on chain (admin; members in
    governance mode)."""
    try:
        fingerprint = certificate_fingerprint(certificate.read_bytes())
    except (KeyFormatError, OSError) as exc:
        raise typer.BadParameter(f"{certificate} is not a certificate: {exc}") from None
    data: dict[str, Any] = {"fingerprint": "0x" + fingerprint.hex(), "endpoint": endpoint}
    with clean_errors():
        registry = connect(rpc_url, manifest).registry
        if registry.superlink_certificate() == (fingerprint, endpoint):
            emit({**data, "changed": False, "published": True}, fmt, _line)
            return
        account = resolve_account(keystore, password_file, key_env, dev_account)
        short = registry.shortfall(
            account, lambda: registry.superlink_certificate_decision(fingerprint, endpoint)
        )
        if short is not None:
            approvals, needed = short
            emit(
                {**data, "changed": False, "published": False, "approvals": approvals, "needed": needed},
                fmt,
                _line,
            )
            return
        registry.set_superlink_certificate(account, fingerprint, endpoint)
    emit({**data, "changed": True, "published": True}, fmt, _line)


def _line(data: dict[str, Any]) -> str:
    what = f"certificate {data['fingerprint']} at {markup_escaped(data['endpoint'])}"
    if not data["published"]:
        return f"approved: {data['approvals']} of {data['needed']} member approvals to publish {what}"
    if not data["changed"]:
        return f"already published: {what}"
    return f"published {what}: hospitals' `bcfl node init` and `bcfl node doctor` now pin it"
