// CSV built in the browser from the data behind a table or chart (whole values, not the rounded
// ones on screen). Text a spreadsheet would take for a formula gets a leading apostrophe: names
// come from other parties.

const FORMULA = /^[=+\-@\t\r]/;
const NUMBER = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i;

function cell(value) {
  if (value === null || value === undefined) return "";
  let text = typeof value === "object" ? JSON.stringify(value) : String(value);
  if (FORMULA.test(text) && !NUMBER.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** CSV text of `header` and `rows` (arrays of values). */
export function toCsv(header, rows) {
  return [header, ...rows].map((row) => row.map(cell).join(",")).join("\r\n") + "\r\n";
}

export function csvBlob(header, rows) {
  return new Blob([toCsv(header, rows)], { type: "text/csv;charset=utf-8" });
}

/** A safe file name from a title. */
export function fileName(title, extension) {
  const base = title.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "export";
  return `${base.slice(0, 60)}.${extension}`;
}
