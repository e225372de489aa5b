"""The dashboard's page in real headless Chromium over a real run on the session's real Anvil: the
consortium, rounds and charts render from the API, a new contract event appears live, the round and
member pages, the exports, and text from other parties stays text. No console error and no CSP
violation on any page; a screenshot of each page is kept under build/test-artifacts/dashboard/."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from playwright.sync_api import Browser, Download, Route

from tests.audit.runs import Run
from tests.conftest import Actors
from tests.dashboard.browser import WAIT_MS, LiveServer, Watched, chromium, live_server, watched_page
from tests.dashboard.conftest import settings_for

#: The watcher's poll: small, so that a new event reaches the page quickly.
POLL_S = 0.2
HIDDEN_METRICS = {"num-examples"}
ALWAYS_CHARTED = ("accuracy", "auroc")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per module (Playwright's sync API runs one at a time)."""
    with chromium() as found:
        yield found


@pytest.fixture
def server(run: Run, tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(settings_for(run, tmp_path, poll_s=POLL_S)) as live:
        yield live


@pytest.fixture
def page(browser: Browser, server: LiveServer) -> Iterator[Watched]:
    with watched_page(browser) as watched:
        watched.goto(server.url + "/")
        yield watched
        watched.assert_clean()


def _has_data(series: list[dict[str, Any]]) -> bool:
    return any(isinstance(v, int | float) for s in series for v in s["values"])


def expected_charts(charts: dict[str, Any]) -> dict[str, bool]:
    """Each overview chart the API's data calls for, and whether it has data to draw."""
    keys = [*ALWAYS_CHARTED, *sorted(set(charts["metrics"]) - set(ALWAYS_CHARTED) - HIDDEN_METRICS)]
    drawn = {f"metric-{k}": _has_data(charts["metrics"].get(k, [])) for k in keys}
    for key in ("reputation", "scores", "payouts"):
        drawn[key] = _has_data(charts[key])
    return drawn


def table_rows(watched: Watched, name: str) -> list[list[str]]:
    rows: list[list[str]] = watched.page.eval_on_selector(
        f'table[data-table="{name}"]',
        "t => [...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.textContent.trim()))",
    )
    return rows


def downloaded(watched: Watched, selector: str) -> tuple[str, bytes]:
    with watched.page.expect_download(timeout=WAIT_MS) as info:
        watched.page.click(selector)
    download: Download = info.value
    return download.suggested_filename, Path(download.path()).read_bytes()


def test_the_overview_shows_the_consortium_rounds_and_charts(page: Watched, server: LiveServer) -> None:
    members: Any = server.get("/api/v1/members")
    rounds: Any = server.get("/api/v1/rounds")
    charts: Any = server.get("/api/v1/charts")
    shown = table_rows(page, "members")
    assert [(r[0], r[1], r[2]) for r in shown] == [
        (f"#{m['member_id']}", m["name"], m["status"]) for m in members
    ]
    assert [r[4] for r in shown] == [str(m["reputation"]) for m in members]
    # The run trained without differential privacy under no budget: unbounded ε, no bound left.
    assert [(r[8], r[9]) for r in shown] == [
        ("—", "—") if m["privacy_lineage"] is None else (f"∞ (no DP) ({m['privacy_lineage']})", "no bound")
        for m in members
    ]
    assert any(m["privacy_lineage"] is not None for m in members)
    assert [int(r[0]) for r in table_rows(page, "rounds")] == [r["round"] for r in reversed(rounds)]

    expected = expected_charts(charts)
    states = page.page.eval_on_selector_all(
        "main figure.chart", "fs => Object.fromEntries(fs.map(f => [f.dataset.chart, f.dataset.state]))"
    )
    assert states == {k: "drawn" if drawn else "empty" for k, drawn in expected.items()}
    assert page.page.locator("main figure.chart canvas").count() == sum(expected.values()) > 0

    events: Any = server.get("/api/v1/events?limit=30")
    feed = page.page.eval_on_selector_all("#feed .feed-item", "items => items.map(i => i.dataset.cursor)")
    assert feed == [e["cursor"] for e in reversed(events["events"])]
    page.screenshot("overview")


def test_every_table_and_chart_exports(page: Watched, server: LiveServer) -> None:
    members: Any = server.get("/api/v1/members")
    status: Any = server.get("/api/v1/status")
    name, body = downloaded(page, 'table[data-table="members"] >> xpath=../.. >> button')
    assert name.endswith(".csv")
    parsed = list(csv.reader(io.StringIO(body.decode())))
    assert parsed[0][:3] == ["id", "name", "status"]
    assert [(int(r[0]), r[1]) for r in parsed[1:]] == [(m["member_id"], m["name"]) for m in members]
    # The whole amount, not the rounded one on screen.
    decimals = status["token_decimals"]
    assert [Decimal(r[6]).scaleb(decimals) for r in parsed[1:]] == [Decimal(m["paid_total"]) for m in members]

    figure = 'figure[data-chart="payouts"]'
    name, body = downloaded(page, f'{figure} button:text("PNG")')
    assert name.endswith(".png") and body.startswith(b"\x89PNG\r\n\x1a\n")
    name, body = downloaded(page, f'{figure} button:text("SVG")')
    svg = ElementTree.fromstring(body)
    assert name.endswith(".svg") and svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert len(svg.findall(".//{http://www.w3.org/2000/svg}rect")) > len(members)
    name, body = downloaded(page, f'{figure} button:text("CSV")')
    parsed = list(csv.reader(io.StringIO(body.decode())))
    assert parsed[0] == ["round", *[f"#{m['member_id']} {m['name']}" for m in members]]

    report = page.page.locator('a[href="/api/v1/report.html"]').first
    assert report.get_attribute("download") is not None


def test_round_and_member_pages_show_what_the_audit_shows(
    page: Watched, server: LiveServer, run: Run
) -> None:
    chain_round: Any = server.get("/api/v1/rounds/2")
    page.route("#/rounds/2", "round")
    updates = table_rows(page, "updates")
    assert [r[0] for r in updates] == [
        f"#{u['member_id']} {u['member_name']}" for u in chain_round["updates"]
    ]
    assert [r[3] for r in updates] == [
        "valid" if u["signature_valid"] else "INVALID" for u in chain_round["updates"]
    ]
    assert [r[4] for r in updates] == [str(s["contribution"]) for s in chain_round["scores"]]
    assert len(table_rows(page, "evaluations")) == len(chain_round["evaluations"])
    assert len(table_rows(page, "payouts")) == len(chain_round["payouts"])
    assert len(table_rows(page, "weights")) == len(chain_round["participants"])
    assert len(table_rows(page, "config")) > 3
    checks: Any = server.get("/api/v1/checks")
    assert [r[0] for r in table_rows(page, "checks")] == [c["name"] for c in checks["checks"]]
    page.screenshot("round")

    member_id = run.members[0]
    member: Any = server.get(f"/api/v1/members/{member_id}")
    page.page.click(f'table[data-table="updates"] a[href="#/members/{member_id}"]')
    page.page.wait_for_selector('main .page[data-page="member"]')
    page.wait_drawn()
    assert len(table_rows(page, "history")) == len(member["history"])
    assert [int(r[0]) for r in table_rows(page, "member-updates")] == [u[0] for u in member["updates"]]
    assert [r[1] for r in table_rows(page, "member-reputation")] == [str(v) for _, v in member["reputation"]]
    assert page.page.locator('figure[data-chart="member-reputation"][data-state="drawn"] canvas').count() == 1
    page.screenshot("member")


def test_a_new_event_appears_live_and_names_stay_text(
    page: Watched, server: LiveServer, run: Run, actors: Actors
) -> None:
    page.page.evaluate("window.__sameDocument = true")
    before = page.page.locator("#feed .feed-item").count()
    name = '<img src=x onerror="window.__pwned=1">Mallory & <b>Sons</b>'
    member_id = run.consortium.registry.request_membership(actors.hospitals[3], name)

    newest = page.page.locator("#feed .feed-item").first
    newest.wait_for(state="attached")
    page.page.wait_for_function(
        "() => document.querySelector('#feed .feed-item')?.dataset.event === 'MembershipRequested'",
        timeout=WAIT_MS,
    )
    assert page.page.evaluate("window.__sameDocument") is True  # no reload
    assert newest.locator(f'a[href="#/members/{member_id}"]').count() == 1
    assert name in (newest.text_content() or "")
    assert page.page.locator("#feed .feed-item").count() >= min(before + 1, 60)

    # The next view of the ledger lists the new member, its name as text.
    page.page.wait_for_function(
        f"() => !!document.querySelector('table[data-table=members] a[href=\"#/members/{member_id}\"]')",
        timeout=WAIT_MS,
    )
    row = [r for r in table_rows(page, "members") if r[0] == f"#{member_id}"]
    assert row and row[0][1] == name and row[0][2] == "pending"
    assert page.page.locator("main img, #feed img, main b").count() == 0
    page.route(f"#/members/{member_id}", "member")
    assert page.page.locator("main h2 .member-name").text_content() == name
    assert page.page.locator("main img, main b").count() == 0
    assert page.page.evaluate("window.__pwned") is None


def test_the_page_fits_a_narrow_screen(browser: Browser, server: LiveServer) -> None:
    with watched_page(browser, width=390, height=844) as narrow:
        narrow.goto(server.url + "/")
        overflow = narrow.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        assert narrow.page.locator("main figure.chart[data-state=drawn] canvas").count() > 0
        narrow.screenshot("overview-narrow")
        narrow.assert_clean()


def lineage_nodes(watched: Watched) -> list[str]:
    found: list[str] = watched.page.eval_on_selector_all(
        "figure.graph svg g.node > title", "ts => ts.map(t => t.textContent)"
    )
    return found


def test_the_provenance_box_finds_a_models_lineage_by_hash_and_by_file(
    page: Watched, server: LiveServer, run: Run
) -> None:
    rounds: Any = server.get("/api/v1/rounds")
    last = rounds[-1]["aggregated_model_hash"]
    page.route("#/provenance", "provenance")
    page.page.fill("#model-hash", last)
    page.page.click('form.prov-form button[type="submit"]')
    result = page.page.wait_for_selector(f'.provenance-result[data-model="{last}"]', timeout=WAIT_MS)
    assert result is not None
    assert page.page.evaluate("window.location.hash") == f"#/models/{last}"
    provenance: Any = server.get(f"/api/v1/models/{last}")
    nodes = lineage_nodes(page)
    # A node per round's aggregate, one per hospital's update in it, and the lineage start.
    assert (
        len(nodes) == len(provenance["rounds"]) + sum(len(r["hospitals"]) for r in provenance["rounds"]) + 1
    )
    assert [n for n in nodes if n.startswith("0x")][: len(rounds)] == [
        r["aggregated_model_hash"] for r in reversed(rounds)
    ]
    assert nodes[-1].startswith(provenance["lineage_start"]["model_hash"])
    assert page.page.locator("figure.graph svg g.node.target").count() == 1
    lineage = table_rows(page, "lineage")
    assert len(lineage) == sum(len(r["hospitals"]) for r in provenance["rounds"])
    assert {r[2] for r in lineage} == {"valid"}
    checks = table_rows(page, "checks")
    assert [(r[0], r[1]) for r in checks] == [
        (c["name"], "passed" if c["ok"] else "FAILED") for c in provenance["checks"]
    ]
    page.screenshot("provenance")

    # A model file from the run's store: the round-2 aggregate, found by its bytes.
    middle = rounds[1]["aggregated_model_hash"]
    page.page.set_input_files("#model-file", str(run.run_dir / "models" / f"{middle}.bcfl"))
    page.page.wait_for_selector(f'.provenance-result[data-model="{middle}"]', timeout=WAIT_MS)
    found: Any = server.get(f"/api/v1/models/{middle}")
    assert len(table_rows(page, "lineage")) == sum(len(r["hospitals"]) for r in found["rounds"])
    assert "file" in (page.page.text_content("#prov-status") or "")


def test_a_long_lineage_loads_older_rounds_on_request(page: Watched, server: LiveServer) -> None:
    """Pages of one round (the browser's requests for a lineage are given ``limit=1``, as if the
    lineage were longer than a page): the graph ends in a box for the rounds not loaded, and each
    click loads the next page, down to the lineage start."""
    rounds: Any = server.get("/api/v1/rounds")
    last = rounds[-1]["aggregated_model_hash"]

    def one_round_a_page(route: Route) -> None:
        joiner = "&" if "?" in route.request.url else "?"
        route.continue_(url=f"{route.request.url}{joiner}limit=1")

    page.page.route("**/api/v1/models/0x*", one_round_a_page)
    page.route(f"#/models/{last}", "provenance")
    page.page.wait_for_selector(f'.provenance-result[data-model="{last}"]', timeout=WAIT_MS)
    for shown in range(1, len(rounds) + 1):
        page.page.wait_for_function(
            "n => document.querySelectorAll('table[data-table=lineage] tbody tr').length"
            " && new Set([...document.querySelectorAll('table[data-table=lineage] tbody tr')]"
            ".map(r => r.cells[0].textContent)).size === n",
            arg=shown,
            timeout=WAIT_MS,
        )
        nodes = lineage_nodes(page)
        older = len(rounds) - shown
        button = page.page.locator('button[data-action="older-rounds"]')
        if older:
            assert nodes[-1] == "Load them with the button under the graph"
            assert button.text_content() == f"Show older rounds ({older} not shown)"
            button.click()
        else:
            assert nodes[-1].startswith(rounds[0]["global_model_hash"])
            assert button.count() == 0
    # Every edge from a parent model, across the pages, says the round started from it.
    edges: list[str] = page.page.eval_on_selector_all(
        "figure.graph svg > text", "ts => ts.map(t => t.textContent)"
    )
    assert edges == [f"started round {r['round']}" for r in reversed(rounds)]


def test_the_feed_links_to_a_transactions_events_and_the_events_filter(
    page: Watched, server: LiveServer
) -> None:
    newest = page.page.locator("#feed .feed-item").first
    cursor = newest.get_attribute("data-cursor") or ""
    page.page.click(f'#feed .feed-item[data-cursor="{cursor}"] a[href^="#/events?tx="]')
    page.page.wait_for_selector('main .page[data-page="transaction"]')
    block = int(cursor.split("-")[0])
    events: Any = server.get(f"/api/v1/events?from_block={block}&to_block={block}&limit=500")
    tx = next(e["tx_hash"] for e in events["events"] if e["cursor"] == cursor)
    rows = table_rows(page, "events")
    assert [(int(r[0]), int(r[1])) for r in rows] == [
        (e["block_number"], e["log_index"]) for e in events["events"] if e["tx_hash"] == tx
    ]
    page.screenshot("transaction")

    page.route("#/events", "events")
    page.page.fill("#filter-round", "2")
    page.page.fill("#filter-contract", "RoundLedger")
    page.page.click('form.filters button[type="submit"]')
    page.page.wait_for_selector('main .page[data-page="events"][data-query*="round=2"]')
    expected: Any = server.get("/api/v1/events?round=2&contract=RoundLedger&limit=100")
    rows = table_rows(page, "events")
    assert [(int(r[0]), int(r[1]), r[4]) for r in rows] == [
        (e["block_number"], e["log_index"], e["name"]) for e in reversed(expected["events"])
    ]
    assert rows and {r[3] for r in rows} == {"RoundLedger"}
