// The overview: the consortium, the learning and the ledger's charts, the rounds, the checks.

import { badge, el, link, routes, section } from "../dom.js";
import { epsilonText, leftText, ratio, tokens, units, tokenSymbol } from "../format.js";
import { metricCharts, payoutChart, reputationChart, scoreChart } from "../ledger-charts.js";
import { dataTable } from "../table.js";
import { checksTable, hashText, memberLink, memberText, modelLink, namesOf } from "./common.js";

const NODE_TEXT = { online: "online", offline: "offline", unknown: "unknown" };

export function membersTable(members) {
  const symbol = tokenSymbol();
  return dataTable({
    caption: "Members of the consortium",
    name: "members",
    empty: "No member yet.",
    columns: [
      { title: "id", num: true, value: (m) => m.member_id, cell: (m) => link(routes.member(m.member_id), `#${m.member_id}`) },
      { title: "name", wide: true, value: (m) => m.name, cell: (m) => link(routes.member(m.member_id), m.name) },
      { title: "status", value: (m) => m.status, cell: (m) => el("span", { class: `tag status-${m.status.replace(/[^a-z]/gi, "")}` }, m.status) },
      {
        title: "node",
        value: (m) => m.node,
        cell: (m) => el("span", { class: `tag node-${NODE_TEXT[m.node] || "unknown"}` }, NODE_TEXT[m.node] || "unknown"),
      },
      { title: "reputation (bps)", num: true, value: (m) => m.reputation },
      { title: "updates", num: true, value: (m) => m.updates },
      { title: `paid (${symbol})`, num: true, value: (m) => units(m.paid_total, null), cell: (m) => tokens(m.paid_total) },
      { title: `balance (${symbol})`, num: true, value: (m) => units(m.balance, null), cell: (m) => tokens(m.balance) },
      { title: "ε spent (lineage)", num: true, value: (m) => m.epsilon_spent, cell: (m) => (m.privacy_lineage === null ? "—" : `${epsilonText(m.epsilon_spent)} (${m.privacy_lineage})`) },
      { title: "ε left", num: true, value: (m) => m.epsilon_left, cell: (m) => (m.privacy_lineage === null ? "—" : leftText(m.epsilon_left)) },
      { title: "signer", value: (m) => m.signer, cell: (m) => hashText(m.signer) },
    ],
    rows: members,
  });
}

export function roundsTable(rounds, names) {
  const symbol = tokenSymbol();
  return dataTable({
    caption: "Rounds",
    name: "rounds",
    empty: "No round yet.",
    columns: [
      { title: "round", num: true, value: (r) => r.round, cell: (r) => link(routes.round(r.round), String(r.round)) },
      { title: "status", value: (r) => r.status },
      { title: "lineage", num: true, value: (r) => r.lineage },
      { title: "accuracy", num: true, value: (r) => r.accuracy, cell: (r) => ratio(r.accuracy) },
      { title: "AUROC", num: true, value: (r) => r.auroc, cell: (r) => ratio(r.auroc) },
      { title: "updates", num: true, value: (r) => r.updates },
      { title: "aggregated", num: true, value: (r) => r.participants },
      {
        title: "excluded",
        value: (r) => r.excluded.map((id) => memberText(id, names)).join("; "),
        cell: (r) => (r.excluded.length ? r.excluded.flatMap((id, i) => [i ? ", " : "", memberLink(id, names)]) : "none"),
      },
      { title: `paid (${symbol})`, num: true, value: (r) => units(r.total_paid, null), cell: (r) => tokens(r.total_paid) },
      { title: "aggregated model", value: (r) => r.aggregated_model_hash, cell: (r) => modelLink(r.aggregated_model_hash) },
    ],
    rows: [...rounds].reverse(),
  });
}

export function overview(state) {
  const names = namesOf(state.members);
  const { status, charts, checks } = state;
  const verdict = checks
    ? el("p", { class: checks.clean ? "verdict ok" : "verdict bad" }, badge(checks.clean, "clean", "FAILED"), " ", checks.verdict)
    : null;
  return el(
    "div",
    { class: "page", "data-page": "overview" },
    el("h2", { class: "visually-hidden" }, "Overview"),
    section("Consortium", 2, membersTable(state.members)),
    section(
      "Learning",
      2,
      el("p", { class: "hint" }, "Each round's aggregated model as the hospitals evaluated it (signed evaluations), overall and per hospital."),
      el("div", { class: "chart-grid" }, metricCharts(charts)),
    ),
    section(
      "Reputation, scores and payouts",
      2,
      el("p", { class: "hint" }, "Hospitals whose reputation falls below the threshold are excluded from aggregation and payouts (ringed markers)."),
      el("div", { class: "chart-grid" }, reputationChart(charts, names), scoreChart(charts), payoutChart(charts)),
    ),
    section("Rounds", 2, roundsTable(state.rounds, names)),
    section(
      "Audit",
      2,
      verdict,
      el(
        "p",
        {},
        `The audit's checks over the whole history, as of block ${checks ? checks.block : status.snapshot_block}. Download the report: `,
        el("a", { href: "/api/v1/report.html", download: "" }, "HTML"),
        ", ",
        el("a", { href: "/api/v1/report.json", download: "" }, "JSON"),
        ".",
      ),
      checks ? checksTable(checks.checks, checks.not_run) : null,
    ),
  );
}
