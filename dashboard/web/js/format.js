// Formatting: token amounts (decimal strings of base units, beyond JavaScript's exact integers),
// hashes, times, ratios.

let token = { symbol: "", decimals: 18 };

export function setToken(symbol, decimals) {
  if (symbol) token = { symbol, decimals: Number.isInteger(decimals) ? decimals : 18 };
}

export const tokenSymbol = () => token.symbol;

/** `amount` base units in whole tokens, `places` decimals at most (all of them when null). */
export function units(amount, places = 2) {
  if (amount === null || amount === undefined || amount === "") return "";
  let value;
  try {
    value = BigInt(amount);
  } catch {
    return String(amount);
  }
  const negative = value < 0n;
  if (negative) value = -value;
  const scale = 10n ** BigInt(token.decimals);
  const whole = value / scale;
  let fraction = (value % scale).toString().padStart(token.decimals, "0");
  if (places !== null) fraction = fraction.slice(0, places);
  if (places === null) fraction = fraction.replace(/0+$/, "");
  const head = places === null ? whole.toString() : whole.toLocaleString("en-US");
  return `${negative ? "-" : ""}${head}${fraction ? "." + fraction : ""}`;
}

/** A token amount for a table: rounded, the symbol after it. */
export const tokens = (amount) => (amount === null || amount === undefined ? "–" : `${units(amount)} ${token.symbol}`);

// An ε for people: null is an update trained without differential privacy (no bound).
export function epsilonText(epsilon) {
  return epsilon === null || epsilon === undefined ? "∞ (no DP)" : fourDigits(epsilon);
}

// What the privacy budget leaves: null is no bound.
export function leftText(epsilon) {
  return epsilon === null || epsilon === undefined ? "no bound" : fourDigits(epsilon);
}

// Four significant digits, without trailing zeros after the point (1000 stays 1000, 0.2500 is 0.25).
function fourDigits(value) {
  return String(Number(Number(value).toPrecision(4)));
}

export function shortHash(hash) {
  return typeof hash === "string" && hash.length > 14 ? `${hash.slice(0, 8)}…${hash.slice(-6)}` : String(hash ?? "");
}

export function when(seconds) {
  if (!Number.isFinite(seconds) || seconds <= 0) return "";
  return new Date(seconds * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

export function clock(seconds) {
  return Number.isFinite(seconds) ? new Date(seconds * 1000).toISOString().slice(11, 19) : "";
}

/** A metric on screen: whole numbers as they are, others to 4 decimals. */
export const metric = (value) =>
  typeof value !== "number" ? "–" : Number.isInteger(value) ? String(value) : value.toFixed(4);

export const ratio = (value) => (typeof value === "number" ? value.toFixed(3) : "–");
