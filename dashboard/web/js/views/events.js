// The events page: every decoded contract event, filtered and paged by cursor; a transaction's
// events (the feed's transaction links) are its block's events from that transaction.

import { get } from "../api.js";
import { el, link, routes, section } from "../dom.js";
import { when } from "../format.js";
import { argsSummary, eventLinks } from "../events-text.js";
import { dataTable } from "../table.js";

const FILTERS = [
  ["contract", "Contract", "text", "e.g. RoundLedger"],
  ["name", "Event", "text", "e.g. RoundFinalized"],
  ["round", "Round", "number", ""],
  ["member", "Member id", "number", ""],
  ["from_block", "From block", "number", ""],
  ["to_block", "To block", "number", ""],
];
const TX = /^0x[0-9a-fA-F]{64}$/;

function filterForm(query) {
  const form = el("form", { class: "filters", role: "search", "aria-label": "Filter events" });
  for (const [key, label, type, placeholder] of FILTERS) {
    const id = `filter-${key}`;
    form.append(
      el(
        "div",
        { class: "field" },
        el("label", { for: id }, label),
        el("input", { id, name: key, type, min: type === "number" ? "0" : null, placeholder: placeholder || null, value: query.get(key) || "" }),
      ),
    );
  }
  form.append(el("div", { class: "field" }, el("button", { type: "submit" }, "Filter")), el("a", { href: "#/events" }, "Clear"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = {};
    for (const [key, value] of new FormData(form)) if (String(value).trim()) params[key] = String(value).trim();
    window.location.hash = routes.events(params);
  });
  return form;
}

/** The API's parameters from the page's query (a transaction: its block). */
function apiParams(query) {
  const params = { limit: "100" };
  for (const [key] of FILTERS) if (query.get(key)) params[key] = query.get(key);
  for (const key of ["after", "before"]) if (query.get(key)) params[key] = query.get(key);
  const tx = query.get("tx");
  if (tx && TX.test(tx) && /^\d+$/.test(query.get("block") || "")) {
    params.from_block = query.get("block");
    params.to_block = query.get("block");
    params.limit = "500";
  }
  return params;
}

export async function eventsPage(query, ctx) {
  const tx = query.get("tx");
  const page = await get("/events", apiParams(query));
  const events = tx ? page.events.filter((e) => e.tx_hash.toLowerCase() === tx.toLowerCase()) : page.events;
  const pager = el("nav", { class: "pager", "aria-label": "Pages of events" });
  if (!tx) {
    const base = Object.fromEntries([...query].filter(([k]) => k !== "after" && k !== "before"));
    if (page.previous) pager.append(link(routes.events({ ...base, before: page.previous }), "← Older"));
    if (page.next && (query.get("after") || query.get("before"))) pager.append(link(routes.events({ ...base, after: page.next }), "Newer →"));
  }
  const title = tx ? "Transaction" : "Events";
  return el(
    "div",
    { class: "page", "data-page": tx ? "transaction" : "events", "data-query": query.toString() },
    el("h2", {}, title),
    tx
      ? el(
          "p",
          {},
          "The contract events of transaction ",
          el("code", { class: "wrap" }, tx),
          ` in block ${query.get("block")}.`,
        )
      : filterForm(query),
    section(
      tx ? "Its events" : "Matching events",
      3,
      dataTable({
        caption: tx ? `Events of transaction ${tx}, in log order` : "Contract events, newest first",
        name: "events",
        columns: [
          { title: "block", num: true, value: (e) => e.block_number },
          { title: "log", num: true, value: (e) => e.log_index },
          { title: "time", nowrap: true, value: (e) => when(e.timestamp) },
          { title: "contract", value: (e) => e.contract || e.address },
          { title: "event", value: (e) => e.name, cell: (e) => el("strong", {}, e.name) },
          { title: "arguments", value: (e) => JSON.stringify(e.args), cell: (e) => argsSummary(e, 240) },
          {
            title: "links",
            value: (e) => e.tx_hash,
            cell: (e) => el("span", { class: "links" }, eventLinks(e, ctx.signers, ctx.names)),
          },
        ],
        rows: tx ? events : [...events].reverse(),
        empty: "No event matches.",
      }),
      pager,
    ),
  );
}
