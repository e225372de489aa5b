// The provenance box: a model hash pasted, or a model file chosen or dropped (hashed by the API,
// never kept), and its lineage drawn back to the lineage start with every check's result.

import { ApiError, get, postFile } from "../api.js";
import { badge, download, el, facts, link, routes, section } from "../dom.js";
import { fileName } from "../csv.js";
import { tokens, units } from "../format.js";
import { lineageGraph } from "../lineage.js";
import { svgBlob } from "../svgchart.js";
import { dataTable } from "../table.js";
import { checksTable, hashText, memberLink, memberText, modelLink } from "./common.js";

const HASH = /^0x[0-9a-fA-F]{64}$/;

// A lineage can be thousands of rounds long: the API answers a page of it (newest first) and the
// page loads older ones on request, drawing the graph again with every round loaded so far.
function olderButton(p, more) {
  if (p.next_before === null) return null;
  const button = el(
    "button",
    { type: "button", class: "link-button", "data-action": "older-rounds" },
    `Show older rounds (${p.older_rounds} not shown)`,
  );
  button.addEventListener("click", () => {
    button.disabled = true;
    more(p);
  });
  return button;
}

function result(p, names, more) {
  const graph = lineageGraph(p);
  const hospitals = p.rounds.flatMap((r) => r.hospitals.map((h) => ({ ...h, round: r.round })));
  const symbol = p.token.symbol;
  const failed = p.checks.filter((c) => !c.ok);
  return el(
    "div",
    { class: "provenance-result", "data-model": p.model_hash },
    el(
      "p",
      { class: failed.length ? "verdict bad" : "verdict ok" },
      badge(!failed.length, "checks passed", "checks FAILED"),
      ` Model `,
      el("code", { class: "wrap" }, p.model_hash),
      ` descends from lineage ${p.lineage_start ? p.lineage_start.lineage : "?"} through ${p.lineage_rounds} round${p.lineage_rounds === 1 ? "" : "s"}`,
      p.older_rounds ? ` (the newest ${p.rounds.length} shown).` : ".",
    ),
    dataTable({
      caption: "Where the chain registered this model",
      name: "locations",
      columns: [
        { title: "as", value: (l) => l.role },
        { title: "round", num: true, value: (l) => l.round, cell: (l) => (l.round === null ? "–" : link(routes.round(l.round), String(l.round))) },
        {
          title: "member",
          value: (l) => (l.member_id === null ? null : memberText(l.member_id, names)),
          cell: (l) => (l.member_id === null ? "–" : memberLink(l.member_id, names)),
        },
        { title: "block", num: true, value: (l) => l.block_number },
      ],
      rows: p.locations,
    }),
    el(
      "figure",
      { class: "graph", "data-graph": "lineage" },
      el("figcaption", {}, "Lineage graph: each round's aggregated model (left), the hospitals' signed updates that went in (right), back to the lineage start"),
      el("div", { class: "graph-scroll", tabindex: "0", role: "region", "aria-label": "Lineage graph" }, graph),
      el(
        "div",
        { class: "actions" },
        el(
          "button",
          { type: "button", class: "link-button", "aria-label": "Download the lineage graph as SVG", onclick: () => download(svgBlob(graph), fileName(`lineage ${p.model_hash}`, "svg")) },
          "SVG",
        ),
        olderButton(p, more),
      ),
    ),
    p.lineage_start
      ? facts([
          ["lineage", String(p.lineage_start.lineage)],
          ["start model", modelLink(p.lineage_start.model_hash)],
          ["started by", hashText(p.lineage_start.started_by)],
          ["reason", p.lineage_start.reason],
          ["block", String(p.lineage_start.block_number)],
        ])
      : el("p", { class: "note" }, "No lineage start was found for this model."),
    dataTable({
      caption: "The lineage round by round, newest first",
      name: "lineage",
      columns: [
        { title: "round", num: true, value: (h) => h.round, cell: (h) => link(routes.round(h.round), String(h.round)) },
        { title: "hospital", wide: true, value: (h) => `#${h.member_id} ${h.name}`, cell: (h) => link(routes.member(h.member_id), `#${h.member_id} ${h.name}`) },
        { title: "signature", value: (h) => (h.signature_valid ? "valid" : "INVALID"), cell: (h) => badge(h.signature_valid) },
        { title: "aggregated", value: (h) => (h.aggregated ? "yes" : "no") },
        { title: "score (bps)", num: true, value: (h) => h.score },
        { title: `paid (${symbol})`, num: true, value: (h) => units(h.paid, null), cell: (h) => tokens(h.paid) },
      ],
      rows: hospitals,
      empty: "The model is a lineage start: no round made it.",
    }),
    checksTable(p.checks, p.not_run, "The audit's checks over the history this model comes from"),
  );
}

export function provenancePage(hash, ctx) {
  const status = el("p", { id: "prov-status", class: "prov-status", role: "status", "aria-live": "polite" });
  const output = el("div", { id: "prov-result" });
  const input = el("input", {
    id: "model-hash",
    name: "hash",
    type: "text",
    required: true,
    spellcheck: "false",
    autocomplete: "off",
    pattern: "0x[0-9a-fA-F]{64}",
    placeholder: "0x followed by 64 hex digits",
    value: hash || "",
    "aria-describedby": "model-hash-help",
  });
  const hashForm = el(
    "form",
    { class: "prov-form", "aria-label": "Look up a model by its hash" },
    el("label", { for: "model-hash" }, "Model hash"),
    el("div", { class: "inline" }, input, el("button", { type: "submit" }, "Look up")),
    el("p", { id: "model-hash-help", class: "hint" }, "A model's 0x hash, as the chain, the CLI or a round page shows it."),
  );
  hashForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (!HASH.test(value)) {
      show(status, "error", "A model hash is 0x followed by 64 hex digits.");
      return;
    }
    if (routes.model(value) === window.location.hash) lookup(value);
    else window.location.hash = routes.model(value);
  });
  const fileInput = el("input", { id: "model-file", name: "file", type: "file", accept: ".bcfl,application/octet-stream" });
  const drop = el(
    "div",
    { class: "drop", "data-drop": "model" },
    el("label", { for: "model-file" }, "Or choose a model file (.bcfl)"),
    fileInput,
    el("p", { class: "hint" }, "…or drop it here. The dashboard hashes it in memory and keeps nothing."),
  );
  fileInput.addEventListener("change", () => fileInput.files.length && verify(fileInput.files[0]));
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) verify(file);
  });

  async function show_(promise, what) {
    show(status, "busy", `Looking up ${what}…`);
    output.replaceChildren();
    try {
      const p = await promise;
      output.replaceChildren(result(p, ctx.names, more));
      show(status, "done", what.startsWith("file") ? `Found ${what}: model ${p.model_hash}.` : `Found ${what}.`);
    } catch (error) {
      show(status, "error", error instanceof ApiError ? error.message : `The lookup failed: ${error.message}`);
    }
  }
  async function more(p) {
    show(status, "busy", "Loading older rounds…");
    try {
      const next = await get(`/models/${p.model_hash}?before=${p.next_before}`);
      const merged = { ...next, rounds: [...p.rounds, ...next.rounds] };
      output.replaceChildren(result(merged, ctx.names, more));
      show(status, "done", `Loaded ${merged.rounds.length} of ${merged.lineage_rounds} rounds.`);
    } catch (error) {
      show(status, "error", error instanceof ApiError ? error.message : `The lookup failed: ${error.message}`);
    }
  }
  const lookup = (value) => show_(get(`/models/${value}`), `model ${value}`);
  const verify = (file) => show_(postFile("/models/verify", file), `file ${file.name}`);
  if (hash) lookup(hash);

  return el(
    "div",
    { class: "page", "data-page": "provenance" },
    el("h2", {}, "Model provenance"),
    el("p", {}, "Where a model comes from: the rounds, hospitals and signatures behind it, back to its lineage's start, with the audit's checks."),
    section("Find a model", 3, el("div", { class: "prov-box" }, hashForm, drop), status),
    output,
  );
}

function show(node, kind, text) {
  node.className = `prov-status ${kind}`;
  node.textContent = text;
}
