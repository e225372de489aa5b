// A model's lineage as a graph (SVG built with DOM APIs): each round's aggregated model, newest at
// the top, fed by its hospitals' updates, down to the lineage's start. Every edge from a parent
// model says whether the round really started from it.

import { svg } from "./dom.js";
import { shortHash } from "./format.js";
import { colorFor } from "./charts.js";

const ROW = 104;
const MODEL_W = 260;
const NODE_H = 60;
const HOSPITAL_W = 178;
const GAP = 12;
const LEFT = 16;
const HOSPITALS_X = LEFT + MODEL_W + 56;
// Where the hospitals' updates join before entering their round's aggregate.
const JOIN_X = LEFT + MODEL_W + 28;
const OK = "#2b7a3d";
const BAD = "#c0152f";
const INK = "#1b1f24";

const cut = (text, n) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

function box(x, y, w, lines, { target = false, stroke = INK, fill = "#ffffff", href = null, title = "" } = {}) {
  const g = svg("g", { class: target ? "node target" : "node" });
  if (title) g.append(svg("title", {}, title));
  g.append(svg("rect", { x, y, width: w, height: NODE_H, rx: 6, fill, stroke, "stroke-width": target ? 3 : 1.2 }));
  lines.forEach((line, i) => {
    g.append(
      svg(
        "text",
        { x: x + 10, y: y + 18 + i * 16, fill: line.color || INK, "font-weight": i === 0 ? "bold" : null, "font-size": i === 0 ? 13 : 12 },
        line.text,
      ),
    );
  });
  if (!href) return g;
  const a = svg("a", { href });
  a.append(g);
  return a;
}

function edge(x1, y1, x2, y2, { ok = true, dashed = false, arrow = true } = {}) {
  return path([[x1, y1], [x2, y2]], { ok, dashed, arrow });
}

function path(points, { ok = true, dashed = false, arrow = false } = {}) {
  return svg("polyline", {
    points: points.map(([x, y]) => `${x},${y}`).join(" "),
    fill: "none",
    stroke: ok ? "#6b7280" : BAD,
    "stroke-width": ok ? 1.5 : 2.5,
    "stroke-dasharray": dashed || !ok ? "5 4" : null,
    "marker-end": arrow ? (ok ? "url(#arrow)" : "url(#arrow-bad)") : null,
  });
}

function marker(id, color) {
  const m = svg("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
  m.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: color }));
  return m;
}

/** The SVG of provenance `p` (GET /api/v1/models/{hash}); `target` is the model asked about. */
export function lineageGraph(p) {
  const target = p.model_hash.toLowerCase();
  const updateAt = p.locations.find((l) => l.role === "update");
  const widest = Math.max(0, ...p.rounds.map((r) => r.hospitals.length));
  const width = Math.max(HOSPITALS_X + widest * (HOSPITAL_W + GAP), LEFT + MODEL_W + 40);
  const rows = p.rounds.length + 1;
  const height = (rows - 1) * ROW + NODE_H + 16;
  const root = svg("svg", {
    xmlns: "http://www.w3.org/2000/svg",
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    "font-family": "sans-serif",
    role: "img",
    "aria-label": p.older_rounds
      ? `Lineage of model ${p.model_hash}: its newest ${p.rounds.length} of ${p.lineage_rounds} rounds`
      : `Lineage of model ${p.model_hash}: ${p.rounds.length} rounds back to the lineage start`,
    class: "lineage-graph",
  });
  const defs = svg("defs", {});
  defs.append(marker("arrow", "#6b7280"), marker("arrow-bad", BAD));
  root.append(defs, svg("rect", { x: 0, y: 0, width, height, fill: "#ffffff" }));
  const modelY = (i) => 8 + i * ROW;
  p.rounds.forEach((r, i) => {
    const y = modelY(i);
    const hash = (r.aggregated_model_hash || "").toLowerCase();
    root.append(
      box(
        LEFT,
        y,
        MODEL_W,
        [
          { text: r.aggregated_model_hash ? `Round ${r.round}: aggregated model` : `Round ${r.round}: not aggregated yet` },
          { text: r.aggregated_model_hash ? shortHash(r.aggregated_model_hash) : "" },
          { text: `${r.hospitals.filter((h) => h.aggregated).length} of ${r.hospitals.length} updates aggregated` },
        ],
        { target: hash === target, href: `#/rounds/${r.round}`, title: r.aggregated_model_hash || `round ${r.round}` },
      ),
    );
    // Each update drops to a line under its row that runs into the round's aggregate: dashed when
    // the update was left out, red when its signature is not valid.
    const bus = y + NODE_H + 14;
    if (r.hospitals.length) {
      const far = HOSPITALS_X + (r.hospitals.length - 1) * (HOSPITAL_W + GAP) + HOSPITAL_W / 2;
      root.append(
        path([[far, bus], [JOIN_X, bus], [JOIN_X, y + NODE_H / 2]]),
        edge(JOIN_X, y + NODE_H / 2, LEFT + MODEL_W + 2, y + NODE_H / 2),
      );
    }
    r.hospitals.forEach((h, j) => {
      const x = HOSPITALS_X + j * (HOSPITAL_W + GAP);
      const isTarget = updateAt && updateAt.round === r.round && updateAt.member_id === h.member_id;
      root.append(
        path([[x + HOSPITAL_W / 2, y + NODE_H], [x + HOSPITAL_W / 2, bus]], { ok: h.signature_valid, dashed: !h.aggregated }),
        box(
          x,
          y,
          HOSPITAL_W,
          [
            { text: cut(`#${h.member_id} ${h.name}`, 20) },
            h.signature_valid ? { text: "✓ signature valid", color: OK } : { text: "✗ signature INVALID", color: BAD },
            { text: `score ${h.score ?? "–"} · ${h.aggregated ? "aggregated" : "left out"}` },
          ],
          { target: isTarget, stroke: colorFor(h.member_id), href: `#/members/${h.member_id}`, title: `#${h.member_id} ${h.name}` },
        ),
      );
    });
    // The edge from the model this round started from (the row below) up to its aggregate.
    const below = p.rounds[i + 1];
    const parentHash = below
      ? below.aggregated_model_hash
      : p.older_rounds
        ? p.older_model_hash
        : p.lineage_start
          ? p.lineage_start.model_hash
          : null;
    const ok = !!parentHash && parentHash.toLowerCase() === r.global_model_hash.toLowerCase();
    const x = LEFT + MODEL_W / 2;
    root.append(
      edge(x, modelY(i + 1), x, y + NODE_H + 2, { ok }),
      svg(
        "text",
        { x: x + 8, y: y + NODE_H + (ROW - NODE_H) / 2 + 4, "font-size": 11, fill: ok ? "#4b5563" : BAD },
        ok ? `started round ${r.round}` : `round ${r.round} started from ${shortHash(r.global_model_hash)}: NOT this model`,
      ),
    );
  });
  const start = p.lineage_start;
  const y = modelY(p.rounds.length);
  if (p.older_rounds) {
    // A page of a long lineage: the rounds below this one are not loaded (yet).
    root.append(
      box(
        LEFT,
        y,
        MODEL_W,
        [
          { text: `${p.older_rounds} older round${p.older_rounds === 1 ? "" : "s"} not shown` },
          { text: p.older_model_hash ? shortHash(p.older_model_hash) : "" },
          { text: start ? `down to lineage ${start.lineage}'s start` : "" },
        ],
        { fill: "#f3f4f6", title: "Load them with the button under the graph" },
      ),
    );
    return root;
  }
  root.append(
    start
      ? box(
          LEFT,
          y,
          MODEL_W,
          [
            { text: `Lineage ${start.lineage} start (block ${start.block_number})` },
            { text: shortHash(start.model_hash) },
            { text: cut(`reason: ${start.reason}`, 36) },
          ],
          { target: start.model_hash.toLowerCase() === target, fill: "#f3f4f6", title: `${start.model_hash}, started by ${start.started_by}: ${start.reason}` },
        )
      : box(LEFT, y, MODEL_W, [{ text: "No lineage start found", color: BAD }], { stroke: BAD }),
  );
  return root;
}
