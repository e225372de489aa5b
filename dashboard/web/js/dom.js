// Building the page with DOM APIs only: every piece of data goes in as text (textContent, text
// nodes, attributes set one by one), never as HTML. Names, reasons and metric keys come from
// other parties.

/** An element: `attrs` are attributes (`class`, `href`, `data-*`, `aria-*`...; `on*` keys are
 * event listeners), `children` strings (as text), numbers, nodes, arrays or null. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

/** An SVG element, built the same way. */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

function setAttrs(node, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A link inside the page (hash route); `route` is built by the `routes` helpers below. */
export function link(route, ...children) {
  return route ? el("a", { href: route }, ...children) : el("span", {}, ...children);
}

const HASH = /^0x[0-9a-fA-F]{64}$/;
const isId = (n) => Number.isSafeInteger(n) && n >= 0;

/** Hash routes, only ever built from validated numbers and hashes. */
export const routes = {
  round: (n) => (isId(n) ? `#/rounds/${n}` : null),
  member: (id) => (isId(id) ? `#/members/${id}` : null),
  model: (hash) => (HASH.test(hash || "") ? `#/models/${hash.toLowerCase()}` : null),
  tx: (hash, block) => (HASH.test(hash || "") && isId(block) ? `#/events?tx=${hash}&block=${block}` : null),
  events: (filters) => `#/events?${new URLSearchParams(filters)}`,
};

/** A section with a heading (its level given) and an id for the heading. */
export function section(title, level, ...children) {
  const id = `s-${title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  return el("section", { "aria-labelledby": id }, el(`h${level}`, { id }, title), ...children);
}

/** A definition list from [term, value] pairs (value: text or nodes; null pairs skipped). */
export function facts(pairs, cls = "facts") {
  const dl = el("dl", { class: cls });
  for (const pair of pairs) {
    if (!pair) continue;
    dl.append(el("dt", {}, pair[0]), el("dd", {}, pair[1]));
  }
  return dl;
}

/** A yes/no badge (its text says it, colour only repeats it). */
export function badge(ok, yes = "valid", no = "INVALID") {
  return el("span", { class: ok ? "badge ok" : "badge bad" }, ok ? yes : no);
}

/** Start a download of `blob` as `filename`. */
export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: filename, class: "visually-hidden" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
