// A chart as a standalone SVG (for download), drawn from the same spec as the on-screen chart:
// lines, points, stacked bars, axes with round numbers, a legend. Text goes in as text nodes.

import { svg } from "./dom.js";

const W = 760;
const H = 360;
const PAD = { left: 64, right: 16, top: 40, bottom: 48 };

function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw || 1));
  const unit = [1, 2, 5, 10].find((m) => m * power >= raw) || 10;
  return unit * power;
}

function ticks(min, max, count = 5) {
  if (min === max) return [min];
  const step = niceStep(max - min, count);
  const out = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step / 1e6; v += step) out.push(+v.toPrecision(12));
  return out;
}

/** `spec`: { title, yLabel, x, series: [{ label, values, color, dash, line, points, bar }] }
 * (stacked bar series carry cumulative `top` and `bottom` arrays). */
export function chartSvg(spec) {
  const legendRows = Math.ceil(spec.series.length / 3);
  const height = H + legendRows * 18;
  const root = svg("svg", {
    xmlns: "http://www.w3.org/2000/svg",
    width: W,
    height,
    viewBox: `0 0 ${W} ${height}`,
    "font-family": "sans-serif",
    "font-size": "12",
  });
  root.append(svg("rect", { x: 0, y: 0, width: W, height, fill: "#fff" }));
  root.append(svg("text", { x: W / 2, y: 22, "text-anchor": "middle", "font-size": "15", "font-weight": "bold" }, spec.title));
  const xs = spec.x;
  const values = spec.series.flatMap((s) => (s.top ? [...s.top, ...s.bottom] : s.values)).filter((v) => typeof v === "number");
  let yMin = Math.min(...values, spec.bars ? 0 : Infinity);
  let yMax = Math.max(...values);
  if (!Number.isFinite(yMin)) [yMin, yMax] = [0, 1];
  if (yMin === yMax) [yMin, yMax] = [yMin - 1, yMax + 1];
  const span = yMax - yMin;
  if (!spec.bars) yMin -= span * 0.05;
  yMax += span * 0.05;
  const xMin = Math.min(...xs) - 0.5;
  const xMax = Math.max(...xs) + 0.5;
  const px = (x) => PAD.left + ((x - xMin) / (xMax - xMin)) * (W - PAD.left - PAD.right);
  const py = (y) => H - PAD.bottom - ((y - yMin) / (yMax - yMin)) * (H - PAD.top - PAD.bottom);
  const axes = svg("g", { stroke: "#999", fill: "#333" });
  for (const t of ticks(yMin, yMax)) {
    axes.append(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: py(t), y2: py(t), stroke: "#eee" }));
    axes.append(svg("text", { x: PAD.left - 6, y: py(t) + 4, "text-anchor": "end", stroke: "none" }, String(t)));
  }
  const xStep = Math.max(1, Math.ceil(xs.length / 12));
  xs.forEach((x, i) => {
    if (i % xStep === 0) axes.append(svg("text", { x: px(x), y: H - PAD.bottom + 16, "text-anchor": "middle", stroke: "none" }, String(x)));
  });
  axes.append(svg("line", { x1: PAD.left, x2: PAD.left, y1: PAD.top, y2: H - PAD.bottom }));
  axes.append(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: H - PAD.bottom, y2: H - PAD.bottom }));
  axes.append(svg("text", { x: W / 2, y: H - 12, "text-anchor": "middle", stroke: "none" }, "round"));
  axes.append(
    svg("text", { x: 14, y: H / 2, "text-anchor": "middle", transform: `rotate(-90 14 ${H / 2})`, stroke: "none" }, spec.yLabel),
  );
  root.append(axes);
  const barWidth = Math.min(48, ((W - PAD.left - PAD.right) / xs.length) * 0.6);
  for (const s of spec.series) {
    const g = svg("g", { "data-series": s.label });
    g.append(svg("title", {}, s.label));
    if (s.top) {
      xs.forEach((x, i) => {
        if (typeof s.top[i] !== "number" || s.top[i] === s.bottom[i]) return;
        g.append(svg("rect", { x: px(x) - barWidth / 2, y: py(s.top[i]), width: barWidth, height: py(s.bottom[i]) - py(s.top[i]), fill: s.color }));
      });
    } else {
      const points = xs.map((x, i) => [x, s.values[i]]).filter(([, v]) => typeof v === "number");
      if (s.line !== false && points.length > 1) {
        g.append(
          svg("polyline", {
            points: points.map(([x, v]) => `${px(x)},${py(v)}`).join(" "),
            fill: "none",
            stroke: s.color,
            "stroke-width": s.width || 2,
            "stroke-dasharray": s.dash ? s.dash.join(" ") : null,
          }),
        );
      }
      if (s.points !== false) {
        const r = s.line === false ? 6 : 3;
        for (const [x, v] of points) g.append(svg("circle", { cx: px(x), cy: py(v), r, fill: s.color }));
      }
    }
    root.append(g);
  }
  const legend = svg("g", {});
  spec.series.forEach((s, i) => {
    const x = PAD.left + (i % 3) * 230;
    const y = H + 4 + Math.floor(i / 3) * 18;
    legend.append(svg("rect", { x, y: y - 10, width: 12, height: 12, fill: s.color }));
    legend.append(svg("text", { x: x + 18, y }, s.label.length > 34 ? `${s.label.slice(0, 33)}…` : s.label));
  });
  root.append(legend);
  return root;
}

export function svgBlob(node) {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(node)}\n`;
  return new Blob([text], { type: "image/svg+xml" });
}
