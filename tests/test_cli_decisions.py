"""``bcfl member governance`` and ``bcfl lineage`` against a real Anvil: the admin decides while
governance is off; once it is on, only the members' quorum does, each running the same command."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bcfl.chain.anvil import AnvilNode
from bcfl.chain.consortium import Consortium
from bcfl.cli.main import app
from tests.chain.helpers import h
from tests.conftest import Actors

runner = CliRunner()
ADMIN, HOSPITALS = "0", ("2", "3", "4")  # Anvil dev account indices, as tests.conftest.Actors has them


def invoke(consortium: Consortium, anvil: AnvilNode, tmp_path: Path, *args: str) -> tuple[int, str]:
    manifest = tmp_path / "deployment.json"
    if not manifest.exists():
        consortium.manifest.save(manifest)
    result = runner.invoke(app, [*args, "--rpc-url", anvil.rpc_url, "--manifest", str(manifest)])
    return result.exit_code, result.output


def test_governance_changes_need_the_members_once_it_is_on(
    consortium: Consortium, anvil: AnvilNode, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    registry = consortium.registry
    code, out = invoke(
        consortium, anvil, tmp_path, "member", "governance", "--quorum", "2", "--dev-account", ADMIN
    )
    assert code == 0 and "2 member approvals" in out, out
    # The admin alone can no longer switch it off: its key is no member's.
    code, out = invoke(
        consortium, anvil, tmp_path, "member", "governance", "--quorum", "0", "--dev-account", ADMIN
    )
    assert code == 1 and "ConsortiumRegistryNotActiveMember" in out and "Traceback" not in out, out
    assert registry.governance() == (True, 2)
    code, out = invoke(
        consortium, anvil, tmp_path, "member", "governance", "--quorum", "0", "--dev-account", HOSPITALS[0]
    )
    assert code == 0 and "1 of 2 member approvals" in out, out
    assert registry.governance() == (True, 2)
    code, out = invoke(
        consortium, anvil, tmp_path, "member", "governance", "--quorum", "0", "--dev-account", HOSPITALS[1]
    )
    assert code == 0 and "governance: admin approval" in out, out
    assert registry.governance() == (False, 0)


def test_a_new_lineage_by_the_admin_then_by_the_members(
    consortium: Consortium, anvil: AnvilNode, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    rollback = "0x" + h("an earlier aggregate").hex()
    code, out = invoke(
        consortium,
        anvil,
        tmp_path,
        "lineage",
        "start",
        rollback,
        "--reason",
        "rollback",
        "--dev-account",
        ADMIN,
    )
    assert code == 0 and f"lineage 2 starts from {rollback}" in out, out
    code, out = invoke(consortium, anvil, tmp_path, "lineage", "show", "--format", "json")
    assert code == 0, out
    shown = json.loads(out)
    assert shown["head"] == {"model_hash": rollback, "round": 0, "lineage": 2}
    assert [(s["lineage"], s["reason"], s["started_by"]) for s in shown["starts"]][-1] == (
        2, "rollback", actors.admin.address,
    )  # fmt: skip
    consortium.registry.set_governance(actors.admin, True, 2)
    fresh = "0x" + h("a fresh model").hex()
    code, out = invoke(
        consortium, anvil, tmp_path, "lineage", "start", fresh, "--reason", "fresh", "--dev-account", ADMIN
    )
    assert code == 1 and "ConsortiumAccessDecisionNotApproved" in out, out
    for hospital, expected in zip(HOSPITALS[:2], ("1 of 2", "2 of 2"), strict=True):
        code, out = invoke(
            consortium,
            anvil,
            tmp_path,
            "lineage",
            "approve",
            fresh,
            "--reason",
            "fresh",
            "--dev-account",
            hospital,
        )
        assert code == 0 and f"{expected} approvals" in out, out
    code, out = invoke(
        consortium, anvil, tmp_path, "lineage", "start", fresh, "--reason", "fresh", "--dev-account", ADMIN
    )
    assert code == 0 and f"lineage 3 starts from {fresh}" in out, out
    # The approval was good once: the same start again needs new approvals.
    code, out = invoke(
        consortium, anvil, tmp_path, "lineage", "start", fresh, "--reason", "fresh", "--dev-account", ADMIN
    )
    assert code == 1 and "ConsortiumAccessDecisionNotApproved" in out, out


def test_the_privacy_budget_by_the_admin_then_by_the_members(
    consortium: Consortium, anvil: AnvilNode, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    code, out = invoke(consortium, anvil, tmp_path, "privacy", "show", "--format", "json")
    assert code == 0, out
    shown = json.loads(out)
    assert shown["budget"]["text"] == "no bound" and shown["lineage"] == 1
    assert [(m["member_id"], m["epsilon_spent"], m["epsilon_left"]) for m in shown["members"]] == [
        (m, 0.0, None) for m in members
    ]
    code, out = invoke(
        consortium, anvil, tmp_path, "privacy", "set", "--epsilon", "4", "--dev-account", ADMIN
    )
    assert code == 0 and "privacy budget: ε ≤ 4 at δ ≤ 1e-05 per member and lineage" in out, out
    code, out = invoke(consortium, anvil, tmp_path, "privacy", "show", "--format", "json")
    assert [m["epsilon_left"] for m in json.loads(out)["members"]] == [4.0, 4.0, 4.0]
    code, out = invoke(
        consortium, anvil, tmp_path, "privacy", "set", "--epsilon", "-1", "--dev-account", ADMIN
    )
    assert code != 0 and "give a positive ε" in out and "Traceback" not in out, out

    invoke(consortium, anvil, tmp_path, "member", "governance", "--quorum", "2", "--dev-account", ADMIN)
    code, out = invoke(
        consortium, anvil, tmp_path, "privacy", "set", "--epsilon", "8", "--dev-account", ADMIN
    )
    assert code == 1 and "ConsortiumAccessDecisionNotApproved" in out and "Traceback" not in out, out
    for hospital, approvals in zip(HOSPITALS[:2], ("1 of 2", "2 of 2"), strict=True):
        code, out = invoke(
            consortium, anvil, tmp_path, "privacy", "approve", "--epsilon", "8", "--dev-account", hospital
        )
        assert code == 0 and f"{approvals} approvals" in out, out
    code, out = invoke(
        consortium, anvil, tmp_path, "privacy", "set", "--epsilon", "8", "--dev-account", HOSPITALS[2]
    )
    assert code == 0 and "ε ≤ 8 at δ ≤ 1e-05" in out, out
