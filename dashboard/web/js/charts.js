// Charts drawn with uPlot (served from /vendor), each with PNG, SVG and CSV downloads. A chart is
// built as a <figure> first and drawn once it is in the page (uPlot needs its width).

import { csvBlob, fileName } from "./csv.js";
import { download, el } from "./dom.js";
import { chartSvg, svgBlob } from "./svgchart.js";

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
export const OVERALL = "#111111";
export const ALERT = "#c0152f";
const HEIGHT = 260;

/** A hospital's colour, the same in every chart. */
export const colorFor = (memberId) =>
  Number.isInteger(memberId) ? PALETTE[(memberId - 1 + PALETTE.length * 10) % PALETTE.length] : OVERALL;

const pending = new WeakMap();
const hasNumber = (values) => values.some((v) => typeof v === "number");

/**
 * spec: { key, title, yLabel, x: rounds, stacked?: bool, empty?: text, series: [{ label, values,
 * color, width?, dash?, line?: false (points only), points?: bool }] }
 */
export function chartFigure(spec) {
  const figure = el("figure", { class: "chart", "data-chart": spec.key }, el("figcaption", {}, spec.title));
  if (!spec.x.length || !spec.series.some((s) => hasNumber(s.values))) {
    figure.dataset.state = "empty";
    figure.append(el("p", { class: "empty" }, spec.empty || "No data yet."));
    return figure;
  }
  figure.dataset.state = "pending";
  const prepared = spec.stacked ? stack(spec) : spec;
  const plot = el("div", { class: "plot" });
  const actions = el("div", { class: "actions" });
  figure.append(plot, actions);
  let chart = null;
  const button = (label, what, onclick) =>
    el("button", { type: "button", class: "link-button", onclick, "aria-label": `Download the chart ${spec.title} as ${what}` }, label);
  actions.append(
    button("PNG", "a PNG image", () => chart && png(chart, prepared)),
    button("SVG", "an SVG image", () => download(svgBlob(chartSvg(prepared)), fileName(spec.title, "svg"))),
    button("CSV", "CSV", () => download(chartCsv(spec), fileName(spec.title, "csv"))),
  );
  pending.set(figure, () => {
    chart = draw(figure, plot, prepared);
  });
  return figure;
}

/** Draw every chart under `root` that is waiting for its place in the page. */
export function mountCharts(root) {
  for (const figure of root.querySelectorAll('figure.chart[data-state="pending"]')) {
    const mount = pending.get(figure);
    pending.delete(figure);
    if (mount) mount();
  }
}

function stack(spec) {
  let below = spec.x.map(() => 0);
  const layers = spec.series.map((s) => {
    const bottom = below;
    const top = s.values.map((v, i) => bottom[i] + (typeof v === "number" ? v : 0));
    below = top;
    return { ...s, bottom, top };
  });
  return { ...spec, bars: true, series: layers };
}

function chartCsv(spec) {
  const header = ["round", ...spec.series.map((s) => s.label)];
  const rows = spec.x.map((x, i) => [x, ...spec.series.map((s) => s.values[i])]);
  return csvBlob(header, rows);
}

function widthOf(figure) {
  return Math.max(260, Math.floor(figure.clientWidth - 16));
}

function uSeries(s, U, stacked) {
  if (stacked) {
    return {
      label: s.label,
      stroke: s.color,
      fill: s.color,
      width: 0,
      paths: U.paths.bars({ size: [0.6, 48] }),
      points: { show: false },
      value: (u, v, si, idx) => (idx === null || idx === undefined ? "–" : formatValue(s.values[idx])),
    };
  }
  if (s.line === false) {
    return {
      label: s.label,
      stroke: s.color,
      width: 0,
      paths: () => null,
      points: { show: true, size: 12, width: 2, stroke: s.color, fill: "#ffffff" },
    };
  }
  return {
    label: s.label,
    stroke: s.color,
    width: s.width || 2,
    dash: s.dash,
    spanGaps: true,
    points: { show: s.points !== false, size: 6 },
  };
}

function formatValue(v) {
  if (typeof v !== "number") return "–";
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}

function draw(figure, plot, spec) {
  const U = window.uPlot;
  if (!U) {
    figure.dataset.state = "error";
    plot.textContent = "The chart library did not load: use the CSV download.";
    return null;
  }
  // Stacked bars: the tallest (the sum) is drawn first, each hospital's share over it.
  const layers = spec.bars ? [...spec.series].reverse() : spec.series;
  const data = [spec.x, ...layers.map((s) => (spec.bars ? s.top : s.values))];
  const opts = {
    width: widthOf(figure),
    height: HEIGHT,
    legend: { live: true },
    scales: {
      x: { time: false, range: (u, min, max) => [min - 0.5, max + 0.5] },
      y: spec.bars ? { range: (u, min, max) => [0, max > 0 ? max * 1.08 : 1] } : { auto: true },
    },
    axes: [
      {
        label: "round",
        incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
        values: (u, vals) => vals.map((v) => (Number.isInteger(v) ? String(v) : "")),
      },
      { label: spec.yLabel, size: 64 },
    ],
    series: [{ label: "round" }, ...layers.map((s) => uSeries(s, U, spec.bars))],
  };
  const chart = new U(opts, data, plot);
  const canvas = chart.root.querySelector("canvas");
  if (canvas) {
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", `${spec.title}: ${spec.series.map((s) => s.label).join(", ")} by round`);
  }
  figure.dataset.state = "drawn";
  let last = opts.width;
  const observer = new ResizeObserver(() => {
    if (!figure.isConnected) {
      observer.disconnect();
      chart.destroy();
      return;
    }
    const width = widthOf(figure);
    if (Math.abs(width - last) > 4) {
      last = width;
      chart.setSize({ width, height: HEIGHT });
    }
  });
  observer.observe(figure);
  return chart;
}

/** The chart as a PNG: its canvas under the title, the legend drawn below. */
function png(chart, spec) {
  const source = chart.ctx.canvas;
  const ratio = source.width / chart.width || 1;
  const columns = 3;
  const rows = Math.ceil(spec.series.length / columns);
  const head = 34 * ratio;
  const line = 18 * ratio;
  const out = document.createElement("canvas");
  out.width = source.width;
  out.height = source.height + head + rows * line + 10 * ratio;
  const ctx = out.getContext("2d");
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = "#111111";
  ctx.font = `bold ${15 * ratio}px sans-serif`;
  ctx.textAlign = "center";
  ctx.fillText(spec.title, out.width / 2, 22 * ratio);
  ctx.drawImage(source, 0, head);
  ctx.textAlign = "left";
  ctx.font = `${12 * ratio}px sans-serif`;
  const cell = out.width / columns;
  spec.series.forEach((s, i) => {
    const x = (i % columns) * cell + 12 * ratio;
    const y = source.height + head + Math.floor(i / columns) * line + 14 * ratio;
    ctx.fillStyle = s.color;
    ctx.fillRect(x, y - 10 * ratio, 12 * ratio, 12 * ratio);
    ctx.fillStyle = "#111111";
    ctx.fillText(s.label, x + 18 * ratio, y, cell - 36 * ratio);
  });
  out.toBlob((blob) => blob && download(blob, fileName(spec.title, "png")), "image/png");
}
