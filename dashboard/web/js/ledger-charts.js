// The ledger's charts (from GET /api/v1/charts) as chart specs: metrics per round, reputation with
// the exclusion threshold and exclusions, contribution scores, payouts stacked by hospital.

import { ALERT, OVERALL, chartFigure, colorFor } from "./charts.js";

const METRIC_TITLES = { accuracy: "Accuracy", auroc: "AUROC", loss: "Loss" };
const ALWAYS = ["accuracy", "auroc"];
const HIDDEN = new Set(["num-examples"]);

function hospitals(series) {
  return series.map((s) => ({ label: s.label, values: s.values, color: colorFor(s.member_id) }));
}

/** One chart per metric: accuracy and AUROC always, any other metric the hospitals signed. */
export function metricCharts(charts) {
  const keys = [...ALWAYS, ...Object.keys(charts.metrics).filter((k) => !ALWAYS.includes(k) && !HIDDEN.has(k)).sort()];
  return keys.map((key) => {
    const series = charts.metrics[key] || [];
    const name = METRIC_TITLES[key] || key;
    return chartFigure({
      key: `metric-${key}`,
      title: `${name} per round, overall and per hospital`,
      yLabel: name,
      x: charts.rounds,
      empty: `No ${name} recorded yet: it comes from the hospitals' signed evaluations of each round's model.`,
      series: series.map((s) =>
        s.member_id === null
          ? { label: "all hospitals (aggregate)", values: s.values, color: OVERALL, width: 3 }
          : { label: s.label, values: s.values, color: colorFor(s.member_id) },
      ),
    });
  });
}

/** Marker series: where each excluded hospital stood in each round it was left out of. */
export function exclusionMarkers(rounds, reputation, excluded, threshold, names) {
  const byMember = new Map(reputation.map((s) => [s.member_id, s.values]));
  return Object.entries(excluded).map(([id, out]) => {
    const memberId = Number(id);
    const curve = byMember.get(memberId) || [];
    const values = rounds.map((round, i) => {
      if (!out.includes(round)) return null;
      for (let j = i; j >= 0; j -= 1) if (typeof curve[j] === "number") return curve[j];
      return threshold;
    });
    const name = names.get(memberId);
    return { label: `excluded: #${memberId}${name ? " " + name : ""}`, values, color: ALERT, line: false };
  });
}

export function reputationChart(charts, names) {
  const threshold = charts.threshold_bps;
  return chartFigure({
    key: "reputation",
    title: "Reputation per round per hospital, with the exclusion threshold",
    yLabel: "reputation (bps)",
    x: charts.rounds,
    empty: "No round scored yet.",
    series: [
      ...hospitals(charts.reputation),
      { label: `exclusion threshold (${threshold} bps)`, values: charts.rounds.map(() => threshold), color: ALERT, dash: [6, 4], points: false },
      ...exclusionMarkers(charts.rounds, charts.reputation, charts.excluded, threshold, names),
    ],
  });
}

export function scoreChart(charts) {
  return chartFigure({
    key: "scores",
    title: "Contribution scores per round",
    yLabel: "score (bps)",
    x: charts.rounds,
    empty: "No round scored yet.",
    series: hospitals(charts.scores),
  });
}

export function payoutChart(charts) {
  return chartFigure({
    key: "payouts",
    title: `Payouts per round, stacked by hospital (${charts.token_symbol})`,
    yLabel: charts.token_symbol,
    x: charts.rounds,
    stacked: true,
    empty: "No round paid yet.",
    series: hospitals(charts.payouts),
  });
}
