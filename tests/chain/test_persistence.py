"""Every consortium record survives an Anvil restart on its state file."""

from __future__ import annotations

from pathlib import Path

from bcfl.chain.anvil import AnvilNode
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.deploy import deploy_consortium
from bcfl.chain.ledger import RoundStatus
from bcfl.chain.registry import MemberStatus
from tests.chain.helpers import admit, prepare_rounds, run_round
from tests.conftest import Actors


def test_records_survive_a_restart(tmp_path: Path, actors: Actors) -> None:
    state = tmp_path / "state.json"
    first_node = AnvilNode(state_path=state, log_path=tmp_path / "anvil-1.log")
    with first_node:
        client = ChainClient(first_node.rpc_url)
        manifest = deploy_consortium(client, actors.admin, coordinator=actors.coordinator.address)
        consortium = Consortium.connect(client, manifest)
        prepare_rounds(consortium, actors.admin)
        keys = actors.hospitals[:4]
        ids = [admit(consortium, actors.admin, k, f"Hospital {i}") for i, k in enumerate(keys)]
        consortium.registry.suspend(actors.admin, ids[3], "audit")
        round_number = run_round(
            consortium, actors.coordinator, dict(zip(ids[:3], keys[:3], strict=True)), ids[:2]
        )
        consortium.reputation.record_scores(actors.coordinator, round_number, ids[:3], [9_000, 4_000, 100])
        consortium.distributor.pay_round(actors.coordinator, round_number, ids[:2], [7, 11])
        consortium.registry.set_governance(actors.admin, True, 2)
        consortium.registry.propose_key_rotation(keys[2], actors.hospitals[4].address)

        members_before = consortium.registry.members()
        history_before = consortium.registry.membership_history()
        round_before = consortium.ledger.get_round(round_number)
        head_before = consortium.ledger.lineage_head()
        updates_before = consortium.ledger.updates()
        finalized_before = consortium.ledger.finalized_rounds()
        reputation_before = [consortium.reputation.reputation_of(m) for m in ids]
        reputation_history_before = consortium.reputation.history()
        balances_before = [consortium.token.balance_of(k.address) for k in keys]
        payments_before = consortium.distributor.payments()
        block_before = client.block_number()
        latest_hash = client.w3.eth.get_block("latest")["hash"]
    assert not first_node.running
    assert state.exists() and state.stat().st_size > 0

    second_node = AnvilNode(state_path=state, log_path=tmp_path / "anvil-2.log")
    with second_node:
        client = ChainClient(second_node.rpc_url)
        consortium = Consortium.connect(client, manifest)  # verifies chain id and contract code

        assert client.block_number() == block_before
        assert client.w3.eth.get_block(block_before)["hash"] == latest_hash
        assert consortium.registry.members() == members_before
        assert [m.status for m in members_before] == [MemberStatus.ACTIVE] * 3 + [MemberStatus.SUSPENDED]
        assert consortium.registry.membership_history() == history_before
        assert consortium.registry.is_coordinator(actors.coordinator.address)
        assert consortium.ledger.round_count() == round_number
        assert consortium.ledger.get_round(round_number) == round_before
        assert round_before.status is RoundStatus.FINALIZED
        assert consortium.ledger.lineage_head() == head_before
        assert head_before.round == round_number and head_before.lineage == 1
        assert consortium.ledger.updates() == updates_before
        assert len(updates_before) == 3
        assert consortium.ledger.updates(member_id=ids[1]) == [updates_before[1]]
        assert consortium.ledger.finalized_rounds() == finalized_before
        assert [consortium.ledger.is_participant(round_number, m) for m in ids] == [True, True, False, False]
        assert [consortium.reputation.reputation_of(m) for m in ids] == reputation_before
        assert consortium.reputation.history() == reputation_history_before
        assert [consortium.token.balance_of(k.address) for k in keys] == balances_before == [7, 11, 0, 0]
        assert consortium.token.total_supply() == 18
        assert consortium.distributor.payout_of(round_number) == (True, 18)
        assert consortium.distributor.payments() == payments_before
        assert consortium.registry.governance() == (True, 2)

        # A key rotation proposed before the restart completes after it.
        consortium.registry.accept_key_rotation(actors.hospitals[4], ids[2])
        keys = (*keys[:2], actors.hospitals[4], keys[3])
        assert consortium.registry.active_member_id_of(actors.hospitals[4].address) == ids[2]

        # The consortium carries on where it stopped: from the lineage's head, without the member
        # excluded by its score of 100 (reputation 2,550, below the threshold of 3,000).
        consortium.registry.reinstate(actors.admin, ids[3])
        assert consortium.reputation.is_excluded(ids[2])
        included = [ids[0], ids[1], ids[3]]
        next_round = run_round(consortium, actors.coordinator, dict(zip(ids, keys, strict=True)), included)
        assert next_round == round_number + 1
        consortium.reputation.record_scores(actors.coordinator, next_round, ids, [1, 2, 3, 4])
        consortium.distributor.pay_round(actors.coordinator, next_round, included, [1, 1, 1])
        assert consortium.token.balance_of(keys[0].address) == 8
        assert len(consortium.ledger.updates()) == 7
        assert consortium.ledger.get_round(next_round).global_model_hash == head_before.model_hash
        assert consortium.ledger.get_round(next_round).parent_round == round_number
