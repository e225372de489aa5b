// A round's page: everything `bcfl audit round N` shows.

import { badge, el, facts, link, routes, section } from "../dom.js";
import { metric, ratio, tokens, units, when, tokenSymbol } from "../format.js";
import { dataTable } from "../table.js";
import { checksTable, hashText, memberLink, memberText, modelLink, txLink } from "./common.js";

/** A nested config document as (dotted key, value) rows. */
function flatten(value, prefix = "", rows = []) {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, rows);
  } else {
    rows.push([prefix, Array.isArray(value) ? JSON.stringify(value) : value]);
  }
  return rows;
}

function metricKeys(evaluations) {
  return [...new Set(evaluations.flatMap((e) => Object.keys(e.metrics)))].sort();
}

export function roundPage(r, names, checks, lastRound) {
  const symbol = tokenSymbol();
  const scores = new Map(r.scores.map((s) => [s.member_id, s]));
  const weights = new Map(r.participants.map((w) => [w.member_id, w.weight]));
  const paid = new Map(r.payouts.map((p) => [p.member_id, p.amount]));
  const keys = metricKeys(r.evaluations);
  const metrics = r.aggregate_metrics || {};
  const nav = el(
    "nav",
    { class: "pager", "aria-label": "Other rounds" },
    r.round > 1 ? link(routes.round(r.round - 1), `← Round ${r.round - 1}`) : null,
    r.round < lastRound ? link(routes.round(r.round + 1), `Round ${r.round + 1} →`) : null,
    link(routes.events({ round: r.round }), "This round's events"),
  );
  return el(
    "div",
    { class: "page", "data-page": "round", "data-round": r.round },
    el("h2", {}, `Round ${r.round} `, el("span", { class: `tag status-${r.status}` }, r.status)),
    nav,
    section(
      "Models and documents",
      3,
      facts([
        ["lineage", String(r.lineage)],
        ["parent round", r.parent_round ? link(routes.round(r.parent_round), String(r.parent_round)) : "none (lineage start)"],
        ["opened", `block ${r.opened_block}, ${when(r.opened_at)}`],
        ["finalized", r.finalized_block === null ? "not yet" : `block ${r.finalized_block}`],
        ["global model", modelLink(r.global_model_hash)],
        ["aggregated model", r.aggregated_model_hash ? modelLink(r.aggregated_model_hash) : "not yet"],
        ["config document", hashText(r.config_hash)],
        ["app", hashText(r.app_hash)],
        ["metrics document", r.metrics_hash ? hashText(r.metrics_hash) : "not yet"],
        ["aggregate metrics", Object.keys(metrics).length ? Object.entries(metrics).map(([k, v]) => `${k} ${ratio(v)}`).join(", ") : "none"],
        ["budget", r.budget === null ? "not paid yet" : tokens(r.budget)],
        ["paid", r.total_paid === null ? "not paid yet" : tokens(r.total_paid)],
      ]),
    ),
    section(
      "Updates",
      3,
      dataTable({
        caption: `Updates registered in round ${r.round}`,
        name: "updates",
        columns: [
          { title: "member", wide: true, value: (u) => memberText(u.member_id, names), cell: (u) => memberLink(u.member_id, names) },
          { title: "name on the update", wide: true, value: (u) => u.member_name },
          { title: "examples", num: true, value: (u) => u.num_examples },
          { title: "signature", value: (u) => (u.signature_valid ? "valid" : "INVALID"), cell: (u) => badge(u.signature_valid) },
          { title: "score (bps)", num: true, value: (u) => scores.get(u.member_id)?.contribution ?? null },
          {
            title: "reputation (bps)",
            value: (u) => {
              const s = scores.get(u.member_id);
              return s ? `${s.reputation_before} -> ${s.reputation_after}` : null;
            },
          },
          {
            title: "aggregated",
            value: (u) => (weights.has(u.member_id) ? "yes" : scores.get(u.member_id)?.excluded_before ? "excluded" : "no"),
          },
          { title: `paid (${symbol})`, num: true, value: (u) => units(paid.get(u.member_id), null), cell: (u) => tokens(paid.get(u.member_id)) },
          { title: "update", value: (u) => u.update_hash, cell: (u) => modelLink(u.update_hash) },
          { title: "signer", value: (u) => u.signer, cell: (u) => hashText(u.signer) },
          { title: "block", num: true, value: (u) => u.block_number },
          { title: "transaction", value: (u) => u.tx_hash, cell: (u) => txLink(u.tx_hash, u.block_number) },
        ],
        rows: r.updates,
        empty: "No update registered.",
      }),
      r.skipped.length
        ? dataTable({
            caption: "Entries the ledger skipped",
            name: "skipped",
            columns: [
              { title: "entry", num: true, value: (s) => s.index },
              { title: "signer", value: (s) => s.signer, cell: (s) => hashText(s.signer) },
              { title: "update", value: (s) => s.update_hash, cell: (s) => hashText(s.update_hash) },
              { title: "reason", value: (s) => s.reason },
              { title: "transaction", value: (s) => s.tx_hash, cell: (s) => hashText(s.tx_hash) },
            ],
            rows: r.skipped,
          })
        : el("p", { class: "note" }, "No entry skipped."),
    ),
    section(
      "Scores and reputation",
      3,
      dataTable({
        caption: `Contribution scores and reputation in round ${r.round}`,
        name: "scores",
        columns: [
          { title: "member", wide: true, value: (s) => memberText(s.member_id, names), cell: (s) => memberLink(s.member_id, names) },
          { title: "score (bps)", num: true, value: (s) => s.contribution },
          { title: "reputation before (bps)", num: true, value: (s) => s.reputation_before },
          { title: "reputation after (bps)", num: true, value: (s) => s.reputation_after },
          { title: "excluded before", value: (s) => (s.excluded_before ? "yes" : "no") },
        ],
        rows: r.scores,
        empty: "Not scored yet.",
      }),
      el(
        "p",
        { class: "excluded" },
        "Excluded from aggregation: ",
        r.excluded.length ? r.excluded.flatMap((id, i) => [i ? ", " : "", memberLink(id, names)]) : "none",
        ".",
      ),
      dataTable({
        caption: `Aggregation weights in round ${r.round}`,
        name: "weights",
        columns: [
          { title: "member", wide: true, value: (w) => memberText(w.member_id, names), cell: (w) => memberLink(w.member_id, names) },
          { title: "weight", num: true, value: (w) => w.weight },
        ],
        rows: r.participants,
        empty: "Not aggregated yet.",
      }),
    ),
    section(
      "Evaluations",
      3,
      dataTable({
        caption: `Signed evaluations of round ${r.round}'s aggregated model`,
        name: "evaluations",
        columns: [
          { title: "member", wide: true, value: (e) => memberText(e.member_id, names), cell: (e) => memberLink(e.member_id, names) },
          { title: "signature", value: (e) => (e.signature_valid ? "valid" : "INVALID"), cell: (e) => badge(e.signature_valid) },
          ...keys.map((key) => ({ title: key, num: true, value: (e) => e.metrics[key] ?? null, cell: (e) => metric(e.metrics[key]) })),
          { title: "signer", value: (e) => e.signer, cell: (e) => hashText(e.signer) },
        ],
        rows: r.evaluations,
        empty: "No signed evaluation.",
      }),
    ),
    section(
      "Payouts",
      3,
      dataTable({
        caption: `Payouts of round ${r.round}`,
        name: "payouts",
        columns: [
          { title: "member", wide: true, value: (p) => memberText(p.member_id, names), cell: (p) => memberLink(p.member_id, names) },
          { title: "account", value: (p) => p.account, cell: (p) => hashText(p.account) },
          { title: `amount (${symbol})`, num: true, value: (p) => units(p.amount, null), cell: (p) => tokens(p.amount) },
        ],
        rows: r.payouts,
        empty: "Not paid yet.",
      }),
    ),
    section(
      "Config",
      3,
      dataTable({
        caption: `Round ${r.round}'s config document`,
        name: "config",
        columns: [
          { title: "setting", value: (row) => row[0], cell: (row) => el("code", {}, row[0]) },
          { title: "value", value: (row) => row[1] },
        ],
        rows: r.config ? flatten(r.config) : [],
        empty: "The config document is not in the store (the dashboard was given none, or the file is missing).",
      }),
    ),
    checks
      ? section(
          "Checks",
          3,
          el("p", { class: "hint" }, "The audit's checks run over the whole history, this round included."),
          checksTable(checks.checks, checks.not_run, "Audit checks over the whole history"),
        )
      : null,
  );
}
