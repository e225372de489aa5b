// Decoded contract events in words: a one-line summary of their arguments, and their links.

import { el, link, routes } from "./dom.js";
import { shortHash, tokenSymbol, units } from "./format.js";

const HEX = /^0x[0-9a-fA-F]{40,}$/;
// Arguments that are token amounts in base units.
const AMOUNTS = new Set(["amount", "value", "budget", "total", "totalPaid"]);

function argText(value) {
  if (typeof value === "string") return HEX.test(value) ? shortHash(value) : value;
  if (Array.isArray(value)) return `[${value.map(argText).join(", ")}]`;
  if (value && typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** The event's arguments as `key=value` pairs (long text cut), round and member left to links. */
export function argsSummary(event, max = 160) {
  const text = Object.entries(event.args || {})
    .filter(([key]) => key !== "round" && key !== "memberId")
    .map(([key, value]) => `${key}=${AMOUNTS.has(key) && /^\d+$/.test(String(value)) ? `${units(value)} ${tokenSymbol()}` : argText(value)}`)
    .join(" ");
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The member an event concerns: its memberId, else a member's signer among its addresses. */
export function eventMember(event, signers) {
  if (Number.isInteger(event.member)) return event.member;
  for (const value of Object.values(event.args || {})) {
    if (typeof value === "string" && signers.has(value.toLowerCase())) return signers.get(value.toLowerCase());
  }
  return null;
}

/** Links to the event's round, member and transaction. */
export function eventLinks(event, signers, names) {
  const out = [];
  if (Number.isInteger(event.round)) out.push(link(routes.round(event.round), `round ${event.round}`));
  const member = eventMember(event, signers);
  if (member !== null) {
    const name = names.get(member);
    out.push(link(routes.member(member), `member #${member}${name ? " " + name : ""}`));
  }
  const tx = link(routes.tx(event.tx_hash, event.block_number), "tx ", el("code", {}, shortHash(event.tx_hash)));
  tx.setAttribute("title", `transaction ${event.tx_hash}`);
  out.push(tx);
  return out;
}
