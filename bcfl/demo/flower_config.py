"""The Flower CLI's configuration (``$FLWR_HOME/config.toml``), written in one place."""

from __future__ import annotations

from pathlib import Path


def write_flower_config(flwr_home: Path, superlink: str) -> Path:
    """A Flower CLI configuration whose default connection is ``superlink`` (no TLS: demo only)."""
    flwr_home.mkdir(parents=True, exist_ok=True)
    config = flwr_home / "config.toml"
    config.write_text(
        f'[superlink]\ndefault = "bcfl"\n\n[superlink.bcfl]\naddress = "{superlink}"\ninsecure = true\n'
    )
    return config
