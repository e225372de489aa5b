"""Every ``bcfl`` command, found by walking the Typer app (hidden and future ones included), given
malformed input: a non-zero exit and a short error, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import typer.main
from typer.testing import CliRunner

from bcfl.cli.common import APP_SETTINGS
from bcfl.cli.main import app

runner = CliRunner()
#: The most lines an error may take: Click's usage line, its hint and a boxed one-line message.
MAX_LINES = 6
#: A closed port: a command that dials it gets "did not answer", never a live chain.
CLOSED_RPC = "http://127.0.0.1:9"


def commands() -> Iterator[tuple[list[str], click.Command]]:
    """Every leaf command of ``bcfl`` with the words that invoke it."""

    def walk(command: click.Command, path: list[str]) -> Iterator[tuple[list[str], click.Command]]:
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                yield from walk(sub, [*path, name])
        else:
            yield path, command

    yield from walk(typer.main.get_command(app), [])


def _is_int(param: click.Parameter) -> bool:
    return isinstance(param.type, click.types.IntParamType)


def _is_path(param: click.Parameter) -> bool:
    return isinstance(param.type, click.Path)


def _words(param: click.Parameter, value: str) -> list[str]:
    return [value] if isinstance(param, click.Argument) else [param.opts[0], value]


def required_words(command: click.Command, garbage: Path, but: str = "") -> list[str]:
    """Plausible values for the command's required parameters (except ``but``): ids 1, words "x",
    files that exist (and hold garbage)."""
    words: list[str] = []
    for param in command.params:
        if not param.required or param.name == but:
            continue
        value = "1" if _is_int(param) else str(garbage) if _is_path(param) else "x"
        words += _words(param, value)
    return words


def malformed_cases(command: click.Command, garbage: Path, missing: Path) -> Iterator[tuple[str, list[str]]]:
    """(what is wrong, arguments) for each kind of malformed input the command takes."""
    names = {param.name: param for param in command.params}
    rpc = ["--rpc-url", CLOSED_RPC] if "rpc_url" in names else []
    if "rpc_url" in names:
        yield "RPC URL without scheme", [*required_words(command, garbage), "--rpc-url", "127.0.0.1:8546"]
    for param in command.params:
        if _is_int(param):
            yield (
                f"non-numeric {param.name}",
                [*required_words(command, garbage, but=str(param.name)), *_words(param, "not-a-number")],
            )
            break
    if "manifest" in names:
        yield (
            "missing manifest",
            [*required_words(command, garbage, but="manifest"), *rpc, "--manifest", str(missing)],
        )
    if any(_is_path(p) and p.required for p in command.params):
        yield "garbage file", [*required_words(command, garbage), *rpc]


def all_cases(garbage: Path, missing: Path) -> Iterator[tuple[str, str, list[str]]]:
    for path, command in commands():
        found = list(malformed_cases(command, garbage, missing))
        assert found, f"bcfl {' '.join(path)} takes no input this test can malform: add a case"
        for what, args in found:
            yield " ".join(path), what, [*path, *args]


@pytest.mark.timeout(900)
def test_every_command_refuses_malformed_input_in_a_few_lines(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b'{"truncated": [1, 2,\x00\xff garbage')
    missing = tmp_path / "nowhere" / "deployment.json"
    env = {"COLUMNS": "200", "BCFL_RPC_URL": CLOSED_RPC, "BCFL_KEYSTORE_PASSWORD": "long enough"}
    failures = []
    cases = list(all_cases(garbage, missing))
    for name, what, args in cases:
        result = runner.invoke(app, args, env=env)
        lines = [line for line in result.output.splitlines() if line.strip()]
        clean = result.exception is None or isinstance(result.exception, SystemExit)
        if result.exit_code == 0 or not clean or "Traceback" in result.output or len(lines) > MAX_LINES:
            failures.append(
                f"bcfl {name} ({what}): exit {result.exit_code}, {result.exception!r}\n"
                f"{args}\n{result.output[-2000:]}"
            )
    assert not failures, "\n\n".join(failures)
    assert len(cases) >= 60


def test_tracebacks_never_show_local_variables() -> None:
    assert APP_SETTINGS["pretty_exceptions_show_locals"] is False
    assert app.pretty_exceptions_show_locals is False
