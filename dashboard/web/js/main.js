// The dashboard page: loads the ledger's view from the JSON API, routes between pages by hash
// (#/, #/rounds/N, #/members/ID, #/events, #/provenance, #/models/0x…), and stays live through the
// server-sent events of /api/v1/stream (event, snapshot, chain, nodes, reorg, lagged).

import { API, ApiError, get } from "./api.js";
import { el, facts } from "./dom.js";
import { setToken } from "./format.js";
import { mountCharts } from "./charts.js";
import { Feed } from "./feed.js";
import { namesOf } from "./views/common.js";
import { eventsPage } from "./views/events.js";
import { memberPage } from "./views/member.js";
import { overview } from "./views/overview.js";
import { provenancePage } from "./views/provenance.js";
import { roundPage } from "./views/round.js";

const app = document.getElementById("app");
const banner = document.getElementById("banner");
const notice = document.getElementById("notice");
const statusBox = document.getElementById("status");
const HASH = /^0x[0-9a-fA-F]{64}$/;
const RETRY_MS = 2000;
const STATUS_POLL_MS = 15000;

/** What the pages read: the ledger's view, and lookups of names and signers. */
const state = { status: null, members: [], rounds: [], charts: null, checks: null, names: new Map(), signers: new Map() };
const feed = new Feed(document.getElementById("feed"), state);

// -- the ledger's view -------------------------------------------------------------------------
async function loadStatus() {
  state.status = await get("/status");
  setToken(state.status.token_symbol, state.status.token_decimals);
  drawStatus();
  setChain(state.status.chain);
}

async function loadView() {
  const [members, rounds, charts, checks] = await Promise.all([get("/members"), get("/rounds"), get("/charts"), get("/checks")]);
  Object.assign(state, { members, rounds, charts, checks });
  state.names = namesOf(members);
  state.signers = new Map(members.map((m) => [m.signer.toLowerCase(), m.member_id]));
}

function drawStatus() {
  const s = state.status;
  if (!s) return;
  statusBox.replaceChildren(
    ...facts([
      ["chain", `${s.chain_id}`],
      ["head block", s.chain.head_block === null ? "–" : String(s.chain.head_block)],
      ["indexed to", String(s.indexed_block)],
      ["view at", s.snapshot_block === null ? "–" : String(s.snapshot_block)],
      ["audit", el("span", { class: s.clean ? "tag ok" : s.clean === false ? "tag bad" : "tag" }, s.clean ? "clean" : s.clean === false ? "FAILED" : "–")],
    ]).childNodes,
  );
  statusBox.setAttribute("title", s.verdict || "");
}

function setChain(chain) {
  if (chain.reachable) {
    if (!banner.hidden) scheduleRefresh();
    banner.hidden = true;
    banner.replaceChildren();
    document.body.dataset.chain = "up";
    return;
  }
  const block = state.status && state.status.snapshot_block;
  banner.replaceChildren(
    el("strong", {}, "The chain is unreachable. "),
    chain.error ? `(${chain.error}) ` : "",
    block === null || block === undefined
      ? "The dashboard shows the ledger as soon as it can read it."
      : `Showing the ledger as last read (block ${block}); the page catches up when the chain returns.`,
  );
  banner.hidden = false;
  document.body.dataset.chain = "down";
}

function setNotice(text) {
  notice.textContent = text || "";
  notice.hidden = !text;
}

// -- routes ------------------------------------------------------------------------------------
function parseRoute() {
  const raw = window.location.hash.replace(/^#/, "") || "/";
  const [path, query = ""] = raw.split("?");
  const parts = path.split("/").filter(Boolean);
  const params = new URLSearchParams(query);
  if (!parts.length) return { name: "overview", live: true };
  if (parts[0] === "rounds" && /^\d+$/.test(parts[1] || "")) return { name: "round", n: Number(parts[1]), live: true };
  if (parts[0] === "members" && /^\d+$/.test(parts[1] || "")) return { name: "member", id: Number(parts[1]), live: true };
  if (parts[0] === "events") return { name: "events", params };
  if (parts[0] === "provenance") return { name: "provenance", hash: null };
  if (parts[0] === "models" && HASH.test(parts[1] || "")) return { name: "provenance", hash: parts[1] };
  return { name: "missing" };
}

const TITLES = { overview: "Overview", round: "Round", member: "Member", events: "Events", provenance: "Provenance", missing: "Not found" };

async function build(route) {
  switch (route.name) {
    case "overview":
      return overview(state);
    case "round": {
      const r = await get(`/rounds/${route.n}`);
      return roundPage(r, state.names, state.checks, Math.max(0, ...state.rounds.map((x) => x.round)));
    }
    case "member": {
      const m = await get(`/members/${route.id}`);
      const excluded = (state.charts && state.charts.excluded[String(route.id)]) || [];
      const summary = state.members.find((x) => x.member_id === route.id);
      return memberPage(m, summary, state.charts ? state.charts.threshold_bps : 0, excluded);
    }
    case "events":
      return eventsPage(route.params, state);
    case "provenance":
      return provenancePage(route.hash, state);
    default:
      return el("div", { class: "page" }, el("h2", {}, "Not found"), el("p", {}, "No such page. "), el("a", { href: "#/" }, "Back to the overview"));
  }
}

let drawn = 0;
let current = null;

/** Draw the route's page; `navigated`: a new page (focus and scroll move), else a live refresh. */
async function render(navigated) {
  const token = ++drawn;
  const route = parseRoute();
  current = route;
  for (const a of document.querySelectorAll("nav a[data-nav]")) {
    const on = a.dataset.nav === route.name;
    if (on) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (navigated) app.setAttribute("aria-busy", "true");
  let page;
  try {
    page = await build(route);
  } catch (error) {
    page = el(
      "div",
      { class: "page", "data-page": "error" },
      el("h2", {}, error instanceof ApiError && error.status === 404 ? "Not found" : "Could not load this page"),
      el("p", { class: "error" }, error.message),
      el("p", {}, el("a", { href: "#/" }, "Back to the overview")),
    );
  }
  if (token !== drawn) return;
  const scroll = window.scrollY;
  app.replaceChildren(page);
  app.removeAttribute("aria-busy");
  mountCharts(app);
  document.title = `${TITLES[route.name] || "Dashboard"} · BCFL consortium`;
  if (navigated) {
    window.scrollTo(0, 0);
    const heading = app.querySelector("h2");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    }
  } else {
    window.scrollTo(0, scroll);
  }
  document.body.dataset.ready = String(token);
}

// -- staying live ------------------------------------------------------------------------------
let refreshing = false;
let again = false;
let timer = null;

function scheduleRefresh(delay = 250) {
  clearTimeout(timer);
  timer = setTimeout(refresh, delay);
}

/** Read the view again and redraw the page if it shows the view. */
async function refresh() {
  if (refreshing) {
    again = true;
    return;
  }
  refreshing = true;
  try {
    await loadStatus();
    await loadView();
    setNotice(null);
    if (!current || current.live) await render(false);
    feed.redraw();
  } catch (error) {
    if (error instanceof ApiError && error.status === 503) setNotice(`Waiting for the ledger: ${error.message}`);
    else setNotice(`Could not refresh: ${error.message}`);
    scheduleRefresh(RETRY_MS);
  } finally {
    refreshing = false;
    if (again) {
      again = false;
      scheduleRefresh();
    }
  }
}

async function reloadFeed() {
  try {
    const page = await get("/events", { limit: "30" });
    feed.reset(page.events);
  } catch (error) {
    setNotice(`Could not read the events: ${error.message}`);
  }
}

/** A message's JSON data, or null: a message the page cannot read is taken as a cue to ask the API. */
function dataOf(message) {
  try {
    return JSON.parse(message.data);
  } catch {
    return null;
  }
}

let catchingUp = null;
let catchUpAgain = false;

/** Read the events after the feed's newest from the API (the stream said there are some). */
function catchUp() {
  if (catchingUp) {
    catchUpAgain = true;
    return;
  }
  catchingUp = (async () => {
    try {
      const newest = feed.newest();
      const page = await get("/events", newest ? { after: newest, limit: "100" } : { limit: "30" });
      for (const event of page.events) feed.add(event);
    } catch (error) {
      setNotice(`Could not read the new events: ${error.message}`);
    } finally {
      catchingUp = null;
      if (catchUpAgain) {
        catchUpAgain = false;
        catchUp();
      }
    }
  })();
}

let source = null;
let interrupted = false;

function connect() {
  if (source) source.close();
  source = new EventSource(`${API}/stream`);
  source.addEventListener("open", () => {
    document.body.dataset.stream = "open";
    if (interrupted) {
      interrupted = false;
      setNotice(null);
      reloadFeed();
      scheduleRefresh();
    }
  });
  source.addEventListener("error", () => {
    document.body.dataset.stream = "closed";
    interrupted = true;
    setNotice("Live updates interrupted: reconnecting…");
  });
  source.addEventListener("event", (message) => {
    const event = dataOf(message);
    if (event && typeof event.cursor === "string") feed.add(event);
    else catchUp();
  });
  source.addEventListener("snapshot", () => scheduleRefresh());
  source.addEventListener("chain", (message) => {
    const chain = dataOf(message);
    if (chain && typeof chain.reachable === "boolean") setChain(chain);
    loadStatus().catch(() => {});
  });
  source.addEventListener("nodes", (message) => {
    // Every member whose Flower node the SuperLink lists, online or offline; the others unknown.
    const nodes = dataOf(message);
    if (!nodes || typeof nodes !== "object") {
      scheduleRefresh();
      return;
    }
    state.members = state.members.map((m) => ({ ...m, node: nodes[String(m.member_id)] || "unknown" }));
    if (current && current.live) render(false);
  });
  source.addEventListener("reorg", () => {
    reloadFeed();
    scheduleRefresh();
  });
  source.addEventListener("lagged", () => {
    // The server ends a lagging stream: start afresh (no replay) and reload everything.
    connect();
    reloadFeed();
    scheduleRefresh();
  });
}

async function start() {
  connect();
  window.addEventListener("hashchange", () => render(true));
  try {
    await loadStatus();
    await loadView();
  } catch (error) {
    setNotice(error instanceof ApiError && error.status === 503 ? `Waiting for the ledger: ${error.message}` : `Could not load the ledger: ${error.message}`);
    app.replaceChildren(el("p", { class: "loading" }, "Waiting for the ledger…"));
    scheduleRefresh(RETRY_MS);
  }
  setInterval(() => loadStatus().catch(() => {}), STATUS_POLL_MS);
  await reloadFeed();
  if (state.charts) await render(false);
}

start();
