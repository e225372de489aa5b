"""The Flower CLI's configuration (``$FLWR_HOME/config.toml``), written in one place."""

from __future__ import annotations

from pathlib import Path


def write_flower_config(flwr_home: Path, superlink: str, root_certificates: Path | None = None) -> Path:
    """A Flower CLI configuration whose default connection is ``superlink``: over TLS checked against
    ``root_certificates`` (the consortium's CA), or without TLS if none (``--insecure``, debugging only)."""
    flwr_home.mkdir(parents=True, exist_ok=True)
    config = flwr_home / "config.toml"
    security = (
        "insecure = true"
        if root_certificates is None
        else f'root-certificates = "{root_certificates.resolve()}"'
    )
    config.write_text(
        f'[superlink]\ndefault = "bcfl"\n\n[superlink.bcfl]\naddress = "{superlink}"\n{security}\n'
    )
    return config
