// Tables with a caption, column headers and a CSV download of their whole data.

import { csvBlob, fileName } from "./csv.js";
import { download, el } from "./dom.js";

/**
 * columns: [{ title, value: row => raw value (CSV), cell?: row => text or node (screen),
 *             num?: true (right-aligned), wide?: true (names: not squeezed), nowrap?: true }]
 */
export function dataTable({ caption, columns, rows, empty = "Nothing yet.", name = null }) {
  const figure = el("div", { class: "table-block" });
  const table = el("table", { "data-table": name || fileName(caption, "csv").slice(0, -4) });
  table.append(el("caption", {}, caption));
  table.append(
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col", class: c.num ? "num" : null }, c.title)))),
  );
  const body = el("tbody");
  for (const row of rows) {
    body.append(
      el(
        "tr",
        {},
        columns.map((c) => {
          const shown = c.cell ? c.cell(row) : c.value(row);
          return el("td", { class: c.num ? "num" : c.wide ? "wide" : c.nowrap ? "nowrap" : null }, shown ?? "–");
        }),
      ),
    );
  }
  if (!rows.length) body.append(el("tr", {}, el("td", { colspan: columns.length, class: "empty" }, empty)));
  table.append(body);
  const csv = () =>
    download(
      csvBlob(
        columns.map((c) => c.csvTitle || c.title),
        rows.map((row) => columns.map((c) => c.value(row))),
      ),
      fileName(caption, "csv"),
    );
  figure.append(
    el("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": caption }, table),
    el("div", { class: "actions" }, el("button", { type: "button", class: "link-button", onclick: csv, "aria-label": `Download the table ${caption} as CSV` }, "CSV")),
  );
  return figure;
}
