// The live feed: the newest contract events, then each new one as the server sends it.

import { el } from "./dom.js";
import { clock, when } from "./format.js";
import { argsSummary, eventLinks } from "./events-text.js";

const MAX = 60;

const order = (cursor) => cursor.split("-").map(Number);
function newer(a, b) {
  const [ab, al] = order(a);
  const [bb, bl] = order(b);
  return ab !== bb ? ab > bb : al > bl;
}

export class Feed {
  constructor(list, ctx) {
    this.list = list;
    this.ctx = ctx;
    this.events = new Map();
  }

  item(event, fresh) {
    const time = el("time", { datetime: new Date(event.timestamp * 1000).toISOString(), title: when(event.timestamp) }, clock(event.timestamp));
    return el(
      "li",
      { class: fresh ? "feed-item fresh" : "feed-item", "data-cursor": event.cursor, "data-event": event.name },
      el("div", { class: "feed-head" }, el("strong", {}, event.name), " ", el("span", { class: "contract" }, event.contract || event.address), " ", time),
      el("div", { class: "feed-args" }, argsSummary(event)),
      el("div", { class: "links" }, eventLinks(event, this.ctx.signers, this.ctx.names)),
    );
  }

  /** The newest event's cursor, or null. */
  newest() {
    const top = this.list.querySelector(".feed-item");
    return top ? top.dataset.cursor : null;
  }

  /** Replace the feed with `events` (a page from GET /events). */
  reset(events) {
    this.events = new Map(events.map((e) => [e.cursor, e]));
    this.redraw();
  }

  redraw() {
    const sorted = [...this.events.values()].sort((a, b) => (newer(a.cursor, b.cursor) ? -1 : 1)).slice(0, MAX);
    this.events = new Map(sorted.map((e) => [e.cursor, e]));
    this.list.replaceChildren(...sorted.map((e) => this.item(e, false)));
    if (!sorted.length) this.list.append(el("li", { class: "empty" }, "No contract event yet."));
  }

  /** A new event from the stream: on top when it is the newest (it is, but for a replay). */
  add(event) {
    if (this.events.has(event.cursor)) return;
    const top = this.list.querySelector(".feed-item");
    this.events.set(event.cursor, event);
    if (top && !newer(event.cursor, top.dataset.cursor)) {
      this.redraw();
      return;
    }
    this.list.querySelector(".empty")?.remove();
    this.list.prepend(this.item(event, true));
    while (this.list.children.length > MAX) {
      const last = this.list.lastElementChild;
      this.events.delete(last.dataset.cursor);
      last.remove();
    }
  }
}
