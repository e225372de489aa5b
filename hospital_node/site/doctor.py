"""``bcfl node doctor``: the node's preflight checks, each ok, a warning, or what to fix.

Each check is a function of a :class:`Probe` (the folder, its config, what earlier checks found) that
returns its line or raises; an error raised on purpose (chain, keystore, data, TLS) becomes a failed
line with the error's message. A check that needs an earlier one that failed says so instead of
failing again. The checks themselves are in ``checks_chain`` and ``checks_local``, run by ``preflight``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import httpx

from bcfl.chain.consortium import Consortium
from bcfl.chain.exceptions import ChainError
from bcfl.chain.registry import Member
from bcfl.learning.errors import LearningError
from hospital_node.errors import HospitalNodeError
from hospital_node.site.config import NodeConfig, NodeFolder


class Status(StrEnum):
    """A check's outcome; only ``fail`` makes the doctor exit non-zero."""

    ok = "ok"
    warn = "warn"
    fail = "fail"


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    status: Status
    detail: str


class CheckError(HospitalNodeError):
    """A check's finding: what is wrong and how to fix it."""


class SkippedError(HospitalNodeError):
    """A check cannot run because an earlier one failed."""


@dataclass
class Probe:
    """What the checks share: the folder, its config, and what earlier checks established."""

    node: NodeFolder
    config: NodeConfig
    password: str | None
    consortium: Consortium | None = None
    member: Member | None = None
    ca_ok: bool = False
    found: dict[str, object] = field(default_factory=dict)

    def need_chain(self) -> Consortium:
        if self.consortium is None:
            raise SkippedError("skipped: needs the chain (see above)")
        return self.consortium

    def need_member(self) -> Member:
        if self.member is None:
            raise SkippedError("skipped: needs an active membership (see above)")
        return self.member

    def address(self) -> str:
        """The keystore's address (readable without its password)."""
        try:
            return "0x" + str(json.loads(self.node.keystore.read_text())["address"]).removeprefix("0x")
        except (OSError, ValueError, KeyError, TypeError):
            raise CheckError(
                f"cannot read {self.node.keystore}: run `bcfl node init` on the folder again"
            ) from None


CheckFn = Callable[[Probe], tuple[Status, str]]
#: What a check's own failure may be: every error the libraries raise on purpose.
EXPECTED = (ChainError, HospitalNodeError, LearningError, OSError, httpx.HTTPError, ValueError)


def run_checks(probe: Probe, checks: list[tuple[str, CheckFn]]) -> list[Check]:
    """Run ``checks`` in order; each one's line."""
    report = []
    for name, check in checks:
        try:
            status, detail = check(probe)
        except SkippedError as exc:
            status, detail = Status.fail, str(exc)
        except EXPECTED as exc:
            status, detail = Status.fail, " ".join(str(exc).split()) or type(exc).__name__
        report.append(Check(name, status, detail))
    return report


def failed(report: list[Check]) -> list[Check]:
    """The failed lines of a report."""
    return [c for c in report if c.status is Status.fail]
