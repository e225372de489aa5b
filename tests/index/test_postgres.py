"""The event index on a real PostgreSQL server, through the same code as SQLite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.index.errors import EventIndexError
from bcfl.index.store import EventIndex
from tests.chain.helpers import deploy_ready, run_round
from tests.conftest import Actors
from tests.index.helpers import assert_matches_rescan
from tests.index.postgres import postgres_server


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


def test_the_index_on_postgresql_matches_a_full_rescan(
    postgres_url: str, client: ChainClient, consortium: Consortium, members: list[int], actors: Actors
) -> None:
    submitters = dict(zip(members, actors.hospitals, strict=False))
    run_round(consortium, actors.coordinator, submitters)
    with EventIndex.open(postgres_url, consortium.manifest) as index:
        assert index.engine.dialect.name == "postgresql"
        first = index.sync(client)
        assert first.added > 0
    run_round(consortium, actors.coordinator, submitters)
    with EventIndex.open(postgres_url, consortium.manifest) as index:  # a restart
        result = index.sync(client)
        assert result.from_block == first.to_block + 1
        assert index.sync(client).added == 0
        assert_matches_rescan(index, client, consortium)
        with index.engine.connect() as conn:
            assert conn.execute(text("select count(*) from events")).scalar_one() == index.count()
    other = deploy_ready(client, actors.admin, actors.coordinator)
    with pytest.raises(EventIndexError, match="another deployment"):
        EventIndex.open(postgres_url, other.manifest)


def test_an_unreachable_postgresql_server_is_one_line(consortium: Consortium) -> None:
    with pytest.raises(EventIndexError, match="cannot open the event index at postgresql") as refused:
        EventIndex.open("postgresql://bcfl@/postgres?host=/nonexistent&port=1", consortium.manifest)
    assert "\n" not in str(refused.value)
