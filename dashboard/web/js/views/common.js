// Pieces several pages share: member labels, model and transaction links, the checks table.

import { badge, el, link, routes } from "../dom.js";
import { shortHash } from "../format.js";
import { dataTable } from "../table.js";

/** `#id name`, linked to the member's page. */
export function memberLink(id, names) {
  const name = names.get(id);
  return link(routes.member(id), `#${id}`, name ? ` ${name}` : "");
}

export const memberText = (id, names) => `#${id}${names.get(id) ? " " + names.get(id) : ""}`;

/** A model hash, shortened on screen (whole in its title), linked to its provenance. */
export function modelLink(hash) {
  if (!hash) return "–";
  const a = link(routes.model(hash), el("code", {}, shortHash(hash)));
  a.setAttribute("title", hash);
  return a;
}

export function txLink(hash, block) {
  const a = link(routes.tx(hash, block), el("code", {}, shortHash(hash)));
  a.setAttribute("title", `transaction ${hash}`);
  return a;
}

export function hashText(hash) {
  return hash ? el("code", { title: hash }, shortHash(hash)) : "–";
}

export function checksTable(checks, notRun, caption = "Audit checks") {
  const block = el("div", {});
  block.append(
    dataTable({
      caption,
      name: "checks",
      columns: [
        { title: "check", value: (c) => c.name, cell: (c) => el("code", {}, c.name) },
        { title: "result", value: (c) => (c.ok ? "passed" : "FAILED"), cell: (c) => badge(c.ok, "passed", "FAILED") },
        {
          title: "problems",
          value: (c) => c.problems.join(" | "),
          cell: (c) => (c.problems.length ? el("ul", { class: "problems" }, c.problems.map((p) => el("li", {}, p))) : "none"),
        },
        { title: "what passing proves", value: (c) => c.proves },
      ],
      rows: checks,
    }),
  );
  if (notRun.length) {
    block.append(el("p", { class: "note" }, "Not run: "), el("ul", { class: "problems" }, notRun.map((n) => el("li", {}, n))));
  }
  return block;
}

export function namesOf(members) {
  return new Map((members || []).map((m) => [m.member_id, m.name]));
}
