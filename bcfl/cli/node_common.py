"""What the ``bcfl node`` commands share: one-line errors, the keystore password, the folder argument."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from bcfl.chain.exceptions import ChainError, KeystoreError
from bcfl.chain.keystore import PASSWORD_ENV, read_password
from bcfl.cli.common import err_console
from bcfl.learning.errors import LearningError
from bcfl.text import markup_escaped
from hospital_node.errors import HospitalNodeError

NodeDir = Annotated[Path, typer.Argument(help="The node's folder (made by `bcfl node init`).")]


@contextmanager
def node_errors() -> Iterator[None]:
    """Every error raised on purpose below the CLI as one line and exit code 1, never a traceback."""
    try:
        yield
    except (ChainError, HospitalNodeError, LearningError) as exc:
        err_console.print(f"[bold red]error:[/] {markup_escaped(' '.join(str(exc).split()), limit=600)}")
        raise typer.Exit(1) from None
    except OSError as exc:
        err_console.print(f"[bold red]error:[/] {markup_escaped(exc, limit=400)}")
        raise typer.Exit(1) from None


def keystore_password(password_file: Path | None, *, confirm: bool = False) -> str:
    """From the file, else $BCFL_KEYSTORE_PASSWORD, else asked on the terminal (never on the command line)."""
    if password_file is not None or os.environ.get(PASSWORD_ENV):
        return read_password(password_file)
    if not sys.stdin.isatty():
        raise KeystoreError(f"no keystore password: pass --password-file or set {PASSWORD_ENV}")
    password: str = typer.prompt("Keystore password", hide_input=True, confirmation_prompt=confirm)
    return password


def optional_password(password_file: Path | None) -> str | None:
    """The password if one is given (file or environment), else None (no prompt)."""
    if password_file is None and not os.environ.get(PASSWORD_ENV):
        return None
    return read_password(password_file)
