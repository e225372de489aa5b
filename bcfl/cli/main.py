"""The ``bcfl`` command: one Typer app with a sub-app per area."""

from __future__ import annotations

import logging

import typer

from bcfl.cli import (
    app_approval,
    audit_events,
    audit_member,
    audit_recompute,
    audit_record,
    audit_report,
    audit_round,
    audit_sync,
    audit_verify_model,
    chain_deploy,
    chain_start,
    chain_status,
    dashboard,
    demo,
    demo_onboard,
    demo_submit,
    fleet_gateway,
    keys_new,
    lineage,
    member_admin,
    member_fund,
    member_governance,
    member_list,
    member_pending,
    member_request,
    member_rotate,
    node_check,
    node_doctor,
    node_init,
    node_join,
    node_rotate,
    node_run,
    privacy,
    superlink_certificate,
    superlink_sync,
    update_register,
)
from bcfl.cli.common import APP_SETTINGS

app = typer.Typer(
    help="Blockchain-based federated learning for hospital consortia.", no_args_is_help=True, **APP_SETTINGS
)
chain_app = typer.Typer(help="Run a local chain and deploy the consortium's contracts.", no_args_is_help=True)
keys_app = typer.Typer(help="Encrypted keystores for hospitals and the coordinator.", no_args_is_help=True)
member_app = typer.Typer(
    help="Onboard and manage member hospitals, and with them their Flower access: an active member's "
    "published node key is registered with the SuperLink, any other's is not.",
    no_args_is_help=True,
)
node_app = typer.Typer(
    help="A hospital's own node: init, join, doctor, start, stop, run, rotate-key (and check its data).",
    no_args_is_help=True,
)
app_app = typer.Typer(
    help="The Flower Apps hospitals run: only those the consortium approved on chain.", no_args_is_help=True
)
update_app = typer.Typer(help="A hospital's own signed model updates on chain.", no_args_is_help=True)
app.add_typer(chain_app, name="chain")
app.add_typer(keys_app, name="keys")
lineage_app = typer.Typer(
    help="The consortium's model lineage: its head and its starts.", no_args_is_help=True
)
privacy_app = typer.Typer(
    help="The consortium's differential-privacy budget: each member's ε per lineage, spent and left.",
    no_args_is_help=True,
)
app.add_typer(member_app, name="member")
app.add_typer(lineage_app, name="lineage")
app.add_typer(privacy_app, name="privacy")
app.add_typer(node_app, name="node")
app.add_typer(app_app, name="app")
app.add_typer(update_app, name="update")
audit_app = typer.Typer(
    help="Audit a run from the chain, its model store and its record: rounds, members, provenance, "
    "checks. Read-only: the evidence is never written.",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")

app.command("demo")(demo.demo)
app.command("dashboard")(dashboard.dashboard)
app.command("fleet-gateway")(fleet_gateway.fleet_gateway)
chain_app.command("start")(chain_start.start)
chain_app.command("deploy")(chain_deploy.deploy)
chain_app.command("status")(chain_status.status)
keys_app.command("new")(keys_new.new)
member_app.command("request")(member_request.request)
member_app.command("pending")(member_pending.pending)
lineage_app.command("show")(lineage.show)
lineage_app.command("start")(lineage.start)
lineage_app.command("approve")(lineage.approve)
privacy_app.command("show")(privacy.show)
privacy_app.command("set")(privacy.set_budget)
privacy_app.command("approve")(privacy.approve)
for action in member_admin.ACTIONS:
    member_app.command(action)(member_admin.command(action))
member_app.command("list")(member_list.list_members)
member_app.command("governance")(member_governance.governance)
member_app.command("rotate")(member_rotate.rotate)
member_app.command("fund")(member_fund.fund_command)
node_app.command("check")(node_check.check)
node_app.command("init")(node_init.init)
node_app.command("join")(node_join.join)
node_app.command("doctor")(node_doctor.doctor)
node_app.command("start")(node_run.start)
node_app.command("stop")(node_run.stop)
node_app.command("rotate-key")(node_rotate.rotate_key)
node_app.command("run")(node_run.run)
audit_app.command("sync")(audit_sync.sync)
audit_app.command("events")(audit_events.events)
audit_app.command("round")(audit_round.show_round)
audit_app.command("member")(audit_member.show_member)
audit_app.command("verify-model")(audit_verify_model.verify_model)
audit_app.command("recompute")(audit_recompute.recompute)
audit_app.command("report")(audit_report.report)
app_app.command("hash")(app_approval.app_hash_command)
app_app.command("status")(app_approval.status)
app_app.command("approve")(app_approval.approve)
update_app.command("register")(update_register.register)
audit_app.command("record")(audit_record.record)
app.command("demo-onboard", hidden=True)(demo_onboard.onboard)
app.command("demo-submit", hidden=True)(demo_submit.submit)
app.add_typer(superlink_sync.superlink_app, name="superlink")
superlink_sync.superlink_app.command("publish-certificate")(superlink_certificate.publish_certificate)


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress to stderr.")) -> None:
    """Blockchain-based federated learning for hospital consortia."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
