"""The HTML report: self-contained (no URL, the chart library inline), untrusted text escaped, the
verdict and every check shown, and the page's scripts run (in Node, the chart library stubbed)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bcfl.audit import report_html
from bcfl.audit.model import CheckResult
from bcfl.audit.report_charts import CHART_JS, ReportAssetError, chart_asset
from bcfl.audit.report_files import write_report
from bcfl.audit.report_html import render_html, tokens
from tests.audit.report_fixture import CHECKS, EVIL_METRIC, EVIL_NAME, EVIL_TABLE, sample_report

FAILED_CHECK = CheckResult(
    name="payouts-in-budget",
    ok=False,
    problems=("round 2 paid <i>too much</i>",),
    proves="payouts stay in budget",
)


@pytest.fixture(scope="module")
def page() -> str:
    return render_html(sample_report())


def _scripts(page: str) -> list[str]:
    return re.findall(r"<script[^>]*>(.*?)</script>", page, flags=re.DOTALL)


def test_untrusted_text_is_escaped(page: str) -> None:
    for evil in (EVIL_NAME, EVIL_TABLE, EVIL_METRIC):
        assert evil not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;/table&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    assert page.count("<script") == 3  # the chart data, the chart library, the drawing script
    assert page.count("<table") == page.count("</table>")
    assert not re.search(r"<img|<[^>]*\s(src|href|onerror)=", page)


def test_the_page_needs_no_network(page: str) -> None:
    assert "http://" not in page and "https://" not in page
    assert "@import" not in page and "url(" not in page
    library = chart_asset(CHART_JS)
    assert "uPlot" in library and len(library) > 40_000
    assert library in page


def test_header_verdict_tables_and_checks_are_shown(page: str) -> None:
    for field in ("31337", "0x5FbDB2315678afecb367f032d93F642f64180aa3", "1 to 2", "indexed to block"):
        assert field in page
    assert '<p class="verdict clean">Verdict: clean: all 2 checks passed</p>' in page
    for check in CHECKS:
        assert f'<td>{check.name}</td><td><span class="ok">ok</span></td>' in page
    assert "Round 1 (paid)" in page and "Round 2 (paid)" in page
    assert '<span class="bad">INVALID</span>' in page  # member 3's update signature in the fixture
    assert "333.333333333333333333 BCFL" in page and "1,000.00 BCFL" in page
    assert "&quot;aggregation&quot;: &quot;trimmed-mean&quot;" in page  # the config document, line by line


def test_a_failed_check_shows_failed_with_its_problems() -> None:
    page = render_html(sample_report(checks=(*CHECKS, FAILED_CHECK)))
    assert '<p class="verdict failed">Verdict: FAILED: 1 of 3 checks failed (payouts-in-budget)</p>' in page
    assert '<td>payouts-in-budget</td><td><span class="bad">FAILED</span></td>' in page
    assert "<li>round 2 paid &lt;i&gt;too much&lt;/i&gt;</li>" in page
    assert "verdict clean" not in page


def test_tokens_are_exact_whole_amounts() -> None:
    report = sample_report()
    assert tokens(str(417_330_000_000_000_000_000), report) == "417.33 BCFL"
    assert tokens(str(12 * 10**18), report) == "12.00 BCFL"
    assert tokens("1", report) == "0.000000000000000001 BCFL"
    assert tokens(None, report) == "—"


def test_the_charts_script_runs_with_the_page_data(page: str, tmp_path: Path) -> None:
    """Node runs the inlined uPlot (it must define uPlot), then the drawing script with uPlot stubbed
    (no DOM here) and records what each chart was given."""
    node = shutil.which("node")
    assert node is not None, "node is needed (make setup installs the npm tools with it)"
    data, library, draw = _scripts(page)
    harness = tmp_path / "harness.js"
    harness.write_text(
        """
const vm = require("vm");
const [data, library, draw] = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
const ctx = {}; vm.createContext(ctx);
vm.runInContext(library, ctx);
const loaded = typeof ctx.uPlot;
const hosts = {"bcfl-chart-data": {textContent: data}};
const made = [];
ctx.document = {
  getElementById: (id) => hosts[id] || (hosts[id] = {id: id, clientWidth: 800, textContent: ""}),
  body: {attrs: {}, setAttribute(k, v) { this.attrs[k] = v; }},
};
ctx.uPlot = function (opts, values, host) {
  made.push({host: host.id, labels: opts.series.map((s) => s.label), values: values});
};
vm.runInContext(draw, ctx);
console.log(JSON.stringify({loaded: loaded, made: made, body: ctx.document.body.attrs}));
"""
    )
    inputs = tmp_path / "scripts.json"
    inputs.write_text(json.dumps([data, library, draw]))
    out = subprocess.run(
        [node, str(harness), str(inputs)], capture_output=True, text=True, check=True, timeout=60
    )
    result = json.loads(out.stdout)
    assert result["loaded"] == "function"
    assert result["body"] == {"data-charts": "drawn:3"}
    metrics, reputation, payouts = result["made"]
    assert metrics["host"] == "chart-metrics" and metrics["labels"] == ["round", EVIL_METRIC, "accuracy"]
    assert metrics["values"] == [[1, 2], [0.5, 0.5], [0.71, 0.78]]
    assert reputation["labels"][1:] == [f"#1 {EVIL_NAME}", f"#2 {EVIL_TABLE}", "#3 carol"]
    assert reputation["values"][3] == [5300, None]  # member 3 has no reputation entry after round 2
    assert payouts["values"][1] == pytest.approx([1000 / 3, 500.0])


def test_a_missing_chart_library_is_one_line_naming_make_setup(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(report_html, "CHART_JS", "uPlot.missing.js")
    with pytest.raises(ReportAssetError, match=r"uPlot\.missing\.js is missing: run `make setup`$") as caught:
        write_report(sample_report(), tmp_path / "out")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "out").exists()
