// A member's page: membership history, updates, reputation curve, payouts and balance.

import { ALERT, chartFigure, colorFor } from "../charts.js";
import { el, facts, link, routes, section } from "../dom.js";
import { epsilonText, leftText, tokens, units, when, tokenSymbol } from "../format.js";
import { dataTable } from "../table.js";
import { modelLink, txLink } from "./common.js";

export function memberPage(m, summary, threshold, excludedRounds) {
  const symbol = tokenSymbol();
  const label = `#${m.member_id} ${m.name}`;
  const rounds = m.reputation.map(([round]) => round);
  const paidRounds = m.payouts.map(([round]) => round);
  const markers = rounds.map((round, i) => (excludedRounds.includes(round) ? m.reputation[i][1] : null));
  return el(
    "div",
    { class: "page", "data-page": "member", "data-member": m.member_id },
    el("h2", {}, `Member #${m.member_id}: `, el("span", { class: "member-name" }, m.name)),
    el("nav", { class: "pager", "aria-label": "This member elsewhere" }, link(routes.events({ member: m.member_id }), "This member's events")),
    facts([
      ["status", el("span", { class: `tag status-${m.status.replace(/[^a-z]/gi, "")}` }, m.status)],
      ["node", summary ? el("span", { class: `tag node-${summary.node}` }, summary.node) : "unknown"],
      ["signer", el("code", {}, m.signer)],
      ["reputation", m.reputation.length ? `${m.reputation[m.reputation.length - 1][1]} bps` : "not scored yet"],
      ["updates", String(m.updates.length)],
      ["paid in total", tokens(m.paid_total)],
      ["balance", tokens(m.balance)],
    ]),
    section(
      "Reputation and payouts",
      3,
      el(
        "div",
        { class: "chart-grid" },
        chartFigure({
          key: "member-reputation",
          title: `Reputation of ${label} per round`,
          yLabel: "reputation (bps)",
          x: rounds,
          empty: "Not scored yet.",
          series: [
            { label, values: m.reputation.map(([, v]) => v), color: colorFor(m.member_id) },
            { label: `exclusion threshold (${threshold} bps)`, values: rounds.map(() => threshold), color: ALERT, dash: [6, 4], points: false },
            ...(markers.some((v) => v !== null) ? [{ label: "excluded", values: markers, color: ALERT, line: false }] : []),
          ],
        }),
        chartFigure({
          key: "member-payouts",
          title: `Payouts to ${label} per round (${symbol})`,
          yLabel: symbol,
          x: paidRounds,
          stacked: true,
          empty: "Not paid yet.",
          series: [{ label, values: m.payouts.map(([, amount]) => Number(units(amount, null))), color: colorFor(m.member_id) }],
        }),
      ),
    ),
    section(
      "Membership history",
      3,
      dataTable({
        caption: `Membership history of ${label}`,
        name: "history",
        columns: [
          { title: "block", num: true, value: (h) => h.block_number },
          { title: "time", nowrap: true, value: (h) => when(h.timestamp) },
          { title: "event", value: (h) => h.event },
          { title: "detail", value: (h) => h.detail },
          { title: "transaction", value: (h) => h.tx_hash, cell: (h) => txLink(h.tx_hash, h.block_number) },
        ],
        rows: m.history,
      }),
    ),
    section(
      "Updates",
      3,
      dataTable({
        caption: `Updates by ${label}`,
        name: "member-updates",
        columns: [
          { title: "round", num: true, value: (u) => u[0], cell: (u) => link(routes.round(u[0]), String(u[0])) },
          { title: "update", value: (u) => u[1], cell: (u) => modelLink(u[1]) },
          { title: "examples", num: true, value: (u) => u[2] },
        ],
        rows: m.updates,
        empty: "No update yet.",
      }),
    ),
    section(
      "Differential privacy",
      3,
      dataTable({
        caption: `ε spent by ${label}'s updates, per lineage, and what the consortium's budget leaves`,
        name: "member-privacy",
        columns: [
          { title: "lineage", num: true, value: (p) => p.lineage },
          { title: "updates", num: true, value: (p) => p.updates },
          { title: "ε spent", num: true, value: (p) => p.epsilon_spent, cell: (p) => epsilonText(p.epsilon_spent) },
          { title: "ε left", num: true, value: (p) => p.epsilon_left, cell: (p) => leftText(p.epsilon_left) },
        ],
        rows: m.privacy,
        empty: "No update yet.",
      }),
    ),
    section(
      "Reputation",
      3,
      dataTable({
        caption: `Reputation of ${label} after each round`,
        name: "member-reputation",
        columns: [
          { title: "round", num: true, value: (r) => r[0], cell: (r) => link(routes.round(r[0]), String(r[0])) },
          { title: "reputation (bps)", num: true, value: (r) => r[1] },
          { title: "excluded", value: (r) => (excludedRounds.includes(r[0]) ? "yes" : "no") },
        ],
        rows: m.reputation,
        empty: "Not scored yet.",
      }),
    ),
    section(
      "Payouts",
      3,
      dataTable({
        caption: `Payouts to ${label}`,
        name: "member-payouts",
        columns: [
          { title: "round", num: true, value: (p) => p[0], cell: (p) => link(routes.round(p[0]), String(p[0])) },
          { title: `amount (${symbol})`, num: true, value: (p) => units(p[1], null), cell: (p) => tokens(p[1]) },
        ],
        rows: m.payouts,
        empty: "Not paid yet.",
      }),
    ),
  );
}
