"""``bcfl chain deploy``: deploy the consortium's contracts and write the manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from bcfl.chain.client import ChainClient
from bcfl.chain.deploy import DEFAULT_PARAMETERS, deploy_consortium
from bcfl.chain.deployment import check_deployment
from bcfl.chain.manifest import DeploymentManifest, DeploymentParameters
from bcfl.chain.privacy import DEFAULT_BUDGET_DELTA, NO_BUDGET, PrivacyBudget
from bcfl.cli.common import (
    DevAccountOpt,
    Format,
    KeyEnvOpt,
    KeystoreOpt,
    OutputFormat,
    PasswordFileOpt,
    RpcUrl,
    clean_errors,
    console,
    emit,
    parse_address,
    resolve_account,
)
from bcfl.cli.settings import DEFAULTS


def deploy(
    rpc_url: RpcUrl = DEFAULTS.rpc_url,
    out: Annotated[Path, typer.Option(help="Where to write the deployment manifest.")] = Path(
        "deployment.json"
    ),
    coordinator: Annotated[str | None, typer.Option(help="Address given the coordinator role.")] = None,
    admin: Annotated[str | None, typer.Option(help="Consortium admin (default: the deployer).")] = None,
    round_budget: Annotated[int, typer.Option(help="Reward tokens (base units) per round.")] = (
        DEFAULT_PARAMETERS.round_budget
    ),
    initial_reputation: Annotated[int, typer.Option(help="New members' reputation (bps).")] = (
        DEFAULT_PARAMETERS.initial_reputation
    ),
    smoothing: Annotated[int, typer.Option(help="Weight of a new score in the EMA (bps).")] = (
        DEFAULT_PARAMETERS.smoothing
    ),
    exclusion_threshold: Annotated[
        int,
        typer.Option(help="Reputation (bps) below which a member's updates are not aggregated; 0: never."),
    ] = DEFAULT_PARAMETERS.exclusion_threshold,
    admin_delay: Annotated[
        int, typer.Option(help="Seconds between the start of an admin transfer and its acceptance.")
    ] = DEFAULT_PARAMETERS.admin_delay_s,
    min_participants: Annotated[int, typer.Option(help="Fewest participants of a paid round.")] = (
        DEFAULT_PARAMETERS.min_participants
    ),
    mint_window_blocks: Annotated[int, typer.Option(help="Blocks in one minting window.")] = (
        DEFAULT_PARAMETERS.mint_window_blocks
    ),
    mint_limit: Annotated[int, typer.Option(help="Most reward tokens (base units) minted per window.")] = (
        DEFAULT_PARAMETERS.mint_limit
    ),
    privacy_epsilon: Annotated[
        float | None,
        typer.Option(help="Each hospital's differential-privacy ε budget per lineage (default: no bound)."),
    ] = None,
    privacy_delta: Annotated[
        float, typer.Option(help="The δ each update's ε may hold at, at most (with --privacy-epsilon).")
    ] = DEFAULT_BUDGET_DELTA,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    key_env: KeyEnvOpt = None,
    dev_account: DevAccountOpt = None,
    reuse: Annotated[
        bool, typer.Option(help="If OUT already describes a live deployment on this chain, keep it.")
    ] = False,
    replace: Annotated[
        bool,
        typer.Option(help="If OUT already exists, deploy a NEW consortium anyway and overwrite OUT."),
    ] = False,
    no_coordinator: Annotated[
        bool, typer.Option(help="Deploy without a coordinator (grant the role later).")
    ] = False,
    fmt: Format = OutputFormat.table,
) -> None:
    """Deploy every contract to RPC_URL and write the manifest other components read.

    Refuses to overwrite an existing OUT (a consortium's manifest) unless told --reuse (keep it) or
    --replace (a new consortium), and to deploy without --coordinator unless told --no-coordinator."""
    with clean_errors():
        if reuse and replace:
            raise typer.BadParameter("give --reuse or --replace, not both")
        if reuse and out.exists():
            existing = DeploymentManifest.load(out)
            check_deployment(ChainClient(rpc_url), existing)
            emit(existing.model_dump(), fmt, lambda _: "reusing " + _summary(existing, out))
            return
        coordinator = parse_address(coordinator, "--coordinator")
        admin = parse_address(admin, "--admin")
        budget = privacy_budget_of(privacy_epsilon, privacy_delta)
        try:
            parameters = DeploymentParameters(
                round_budget=round_budget,
                initial_reputation=initial_reputation,
                smoothing=smoothing,
                exclusion_threshold=exclusion_threshold,
                token_name=DEFAULT_PARAMETERS.token_name,
                token_symbol=DEFAULT_PARAMETERS.token_symbol,
                admin_delay_s=admin_delay,
                min_participants=min_participants,
                mint_window_blocks=mint_window_blocks,
                mint_limit=mint_limit,
                privacy_epsilon=budget.epsilon,
                privacy_delta=budget.delta,
            )
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" if e["loc"] else e["msg"] for e in exc.errors()
            )
            raise typer.BadParameter(problems) from None
        _refuse_unasked(out, replace, coordinator, no_coordinator)
        deployer = resolve_account(keystore, password_file, key_env, dev_account)
        with console.status("deploying") as status:
            manifest = deploy_consortium(
                ChainClient(rpc_url),
                deployer,
                coordinator=coordinator,
                admin=admin,
                parameters=parameters,
                on_step=lambda step: status.update(step),
            )
        manifest.save(out)
    emit(manifest.model_dump(), fmt, lambda _: _summary(manifest, out))


def privacy_budget_of(epsilon: float | None, delta: float) -> PrivacyBudget:
    """The budget of ``--privacy-epsilon`` and ``--privacy-delta`` (none without an ε)."""
    if epsilon is None:
        return NO_BUDGET
    if not 0 < epsilon < 1_000_000:
        raise typer.BadParameter("give a positive ε below 1,000,000", param_hint="--privacy-epsilon")
    if not 0 < delta < 1:
        raise typer.BadParameter("give a δ between 0 and 1, such as 1e-5", param_hint="--privacy-delta")
    return PrivacyBudget.of(epsilon, delta)


def _refuse_unasked(out: Path, replace: bool, coordinator: str | None, no_coordinator: bool) -> None:
    """Refuse what a second run or a forgotten option would do silently."""
    if out.exists() and not replace:
        raise typer.BadParameter(
            f"{out} already exists (a consortium's manifest): give --reuse to keep that deployment, "
            "or --replace to deploy a new consortium and overwrite it",
            param_hint="--out",
        )
    if coordinator is None and not no_coordinator:
        raise typer.BadParameter(
            "give the coordinator's address (the key that opens and records rounds), or "
            "--no-coordinator to grant the role later",
            param_hint="--coordinator",
        )
    if coordinator is not None and no_coordinator:
        raise typer.BadParameter("give --coordinator or --no-coordinator, not both")


def _summary(manifest: DeploymentManifest, out: Path) -> str:
    lines = [f"deployed to chain {manifest.chain_id} from block {manifest.deployment_block}; manifest: {out}"]
    lines += [f"  {name:<20} {record.address}" for name, record in manifest.contracts.items()]
    return "\n".join(lines)
