"""``bcfl keys new``: create a hospital's or coordinator's encrypted keystore."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bcfl.chain.keystore import create_keystore, read_password
from bcfl.cli.common import Format, OutputFormat, PasswordFileOpt, clean_errors, emit


def new(
    out: Annotated[Path, typer.Argument(help="Keystore file to create (never overwritten).")],
    password_file: PasswordFileOpt = None,
    fmt: Format = OutputFormat.table,
) -> None:
    """Create a fresh key in an encrypted keystore; prints only its address."""
    with clean_errors():
        account = create_keystore(out, read_password(password_file))
    emit(
        {"address": account.address, "keystore": str(out)},
        fmt,
        lambda d: f"created {d['keystore']}: {d['address']}",
    )
