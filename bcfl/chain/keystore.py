"""Encrypted Ethereum keystores (Web3 Secret Storage) and where their passwords come from."""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from bcfl.chain.exceptions import KeystoreError

#: Environment variable read for a keystore password when no password file is given.
PASSWORD_ENV = "BCFL_KEYSTORE_PASSWORD"


def read_password(password_file: Path | None = None, env_var: str = PASSWORD_ENV) -> str:
    """The keystore password from ``password_file`` or, failing that, the environment variable.

    Passwords are never taken from the command line, where other users can read them.
    """
    if password_file is not None:
        try:
            password = password_file.read_text().rstrip("\r\n")
        except OSError as exc:
            raise KeystoreError(f"cannot read password file {password_file}: {exc.strerror}") from exc
        if not password:
            raise KeystoreError(f"password file {password_file} is empty")
        return password
    password = os.environ.get(env_var, "")
    if not password:
        raise KeystoreError(f"no keystore password: set {env_var} or pass a password file")
    return password


def create_keystore(path: Path, password: str, private_key: bytes | None = None) -> LocalAccount:
    """Write a new encrypted keystore (a fresh key unless ``private_key`` is given); never overwrites."""
    if path.exists():
        raise KeystoreError(f"keystore {path} already exists; refusing to overwrite it")
    if len(password) < 8:
        raise KeystoreError("keystore password must have at least 8 characters")
    account: LocalAccount = Account.from_key(private_key) if private_key else Account.create()
    encrypted = Account.encrypt(account.key, password)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(encrypted, handle)
    return account


def load_keystore(path: Path, password: str) -> LocalAccount:
    """Unlock a keystore; a wrong password or a damaged file is a :class:`KeystoreError`."""
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise KeystoreError(f"cannot read keystore {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise KeystoreError(f"keystore {path} is not valid JSON: {exc}") from exc
    try:
        key = Account.decrypt(data, password)
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise KeystoreError(f"wrong password for keystore {path}") from exc
        raise KeystoreError(f"keystore {path} is damaged: {exc}") from exc
    except (KeyError, TypeError) as exc:
        raise KeystoreError(f"keystore {path} is missing a field: {exc}") from exc
    except NotImplementedError as exc:
        raise KeystoreError(f"keystore {path} uses an unsupported format: {exc}") from exc
    account: LocalAccount = Account.from_key(key)
    return account
