"""The privacy budget on a real Anvil, through the Python bindings: set at deployment, each signed
update's ε added to the member's total in the lineage, an update past the budget skipped, the
budget changed by the admin with an event; and the fixed-point units."""

from __future__ import annotations

import math

import pytest

from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.deploy import DEFAULT_PARAMETERS, deploy_consortium
from bcfl.chain.eip712 import ModelUpdate, SignedModelUpdate, sign_update
from bcfl.chain.jsonrpc import JsonRpc
from bcfl.chain.ledger import SkipReason
from bcfl.chain.privacy import (
    NO_BUDGET,
    NOT_PRIVATE,
    PrivacyBudget,
    delta_units,
    epsilon_units,
    epsilon_value,
)
from bcfl.chain.view import ConsortiumView
from tests.chain.helpers import global_hash_of, h, open_next, prepare_rounds
from tests.conftest import Actors

BUDGET = PrivacyBudget.of(4.0, 1e-5)


def test_units_round_up_and_mark_no_privacy() -> None:
    assert epsilon_units(1.5) == 1_500_000
    assert epsilon_units(1.0000001) == 1_000_001, "rounded up: the ledger never counts less"
    assert epsilon_units(math.inf) == NOT_PRIVATE
    assert epsilon_value(NOT_PRIVATE) == math.inf
    assert delta_units(1e-5) == 10**13
    assert PrivacyBudget(4_000_000, 10**13) == BUDGET
    assert BUDGET.describe() == "ε ≤ 4 at δ ≤ 1e-05"
    assert NO_BUDGET.describe() == "no bound"
    for bad in (-1.0, math.nan):
        with pytest.raises(ValueError, match="ε must be"):
            epsilon_units(bad)
    with pytest.raises(ValueError, match="δ must lie"):
        delta_units(2.0)


@pytest.fixture
def private(client: ChainClient, actors: Actors) -> Consortium:
    """A consortium deployed with a budget of ε = 4 at δ = 1e-5, two hospitals admitted."""
    parameters = DEFAULT_PARAMETERS.model_copy(
        update={"privacy_epsilon": BUDGET.epsilon, "privacy_delta": BUDGET.delta}
    )
    manifest = deploy_consortium(
        client, actors.admin, coordinator=actors.coordinator.address, parameters=parameters
    )
    consortium = Consortium.connect(client, manifest)
    prepare_rounds(consortium, actors.admin)
    for index, hospital in enumerate(actors.hospitals[:2]):
        member_id = consortium.registry.request_membership(hospital, f"Hospital {index + 1}")
        consortium.registry.approve(actors.admin, member_id)
    return consortium


def _spending(
    consortium: Consortium, actors: Actors, index: int, round_number: int, epsilon: float
) -> SignedModelUpdate:
    update = ModelUpdate(
        round_number,
        global_hash_of(consortium, round_number),
        h(f"update {index} {round_number}"),
        10,
        epsilon_units(epsilon),
        BUDGET.delta,
    )
    return sign_update(actors.hospitals[index], consortium.ledger.domain(), update)


def test_the_ledger_enforces_the_deployed_budget(
    client: ChainClient, private: Consortium, actors: Actors
) -> None:
    ledger = private.ledger
    view = ConsortiumView.connect(JsonRpc(client.rpc_url), private.manifest).ledger
    assert ledger.privacy_budget() == BUDGET
    assert view.privacy_budget() == BUDGET
    assert private.manifest.parameters.privacy_budget == BUDGET

    first = open_next(private, actors.coordinator)
    ledger.register_updates(actors.coordinator, first, [_spending(private, actors, 0, first, 2.5)])
    ledger.finalize_round(actors.coordinator, first, h("aggregate"), h("metrics"), [1], [1])
    assert ledger.epsilon_spent(1, 1) == 2_500_000
    [registered] = ledger.updates(round_number=first)
    assert (registered.epsilon_spent, registered.delta_spent, registered.epsilon_total) == (
        2_500_000,
        BUDGET.delta,
        2_500_000,
    )

    round_number = open_next(private, actors.coordinator)
    over = _spending(private, actors, 0, round_number, 1.6)  # 4.1 in all
    within = _spending(private, actors, 1, round_number, 1.6)
    not_private = sign_update(
        actors.hospitals[1],
        ledger.domain(),
        ModelUpdate(round_number, global_hash_of(private, round_number), h("plain"), 10),
    )
    receipt = ledger.register_updates(actors.coordinator, round_number, [over, within])
    assert [(s.index, s.reason) for s in ledger.skipped_in(receipt)] == [
        (0, SkipReason.PRIVACY_BUDGET_EXCEEDED)
    ]
    assert SkipReason.PRIVACY_BUDGET_EXCEEDED.text == "privacy budget exceeded"
    assert ledger.epsilon_spent(1, 1) == 2_500_000, "the skipped update spent nothing"
    assert ledger.epsilon_spent(1, 2) == 1_600_000
    assert ledger.has_submitted(round_number, 2)
    assert not ledger.has_submitted(round_number, 1)
    # An update trained without differential privacy never fits a budget.
    receipt = ledger.register_updates(actors.coordinator, round_number, [not_private])
    assert [s.reason for s in ledger.skipped_in(receipt)] == [SkipReason.DUPLICATE_UPDATE]

    # The admin raises the budget (an event): the hospital's update now fits.
    raised = PrivacyBudget.of(8.0, 1e-5)
    receipt = ledger.set_privacy_budget(actors.admin, raised)
    [changed] = ledger.contract.events.PrivacyBudgetChanged().process_receipt(receipt)
    assert (changed.args["epsilon"], changed.args["delta"], changed.args["changedBy"]) == (
        8_000_000,
        10**13,
        actors.admin.address,
    )
    assert ledger.privacy_budget() == raised
    ledger.register_updates(actors.coordinator, round_number, [over])
    assert ledger.epsilon_spent(1, 1) == 4_100_000
    # The hospital's light view reads the same.
    assert view.privacy_budget() == raised
    assert [view.epsilon_spent(1, m) for m in (1, 2, 3)] == [4_100_000, 1_600_000, 0]


def test_a_default_deployment_bounds_nothing(deployed: Consortium) -> None:
    assert deployed.ledger.privacy_budget() == NO_BUDGET
    assert not NO_BUDGET.bounded
