// The page reads the JSON API (/api/v1) only.

export const API = "/api/v1";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function parse(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const detail = body && body.detail;
    const message =
      typeof detail === "string"
        ? detail
        : Array.isArray(detail)
          ? detail.map((d) => d.msg).join("; ")
          : `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, message);
  }
  return body;
}

/** GET `path` (under /api/v1) with query `params`, as JSON. */
export async function get(path, params = null) {
  const query = params ? `?${new URLSearchParams(params)}` : "";
  return parse(await fetch(`${API}${path}${query}`, { headers: { Accept: "application/json" } }));
}

/** POST a file as multipart field `file`. */
export async function postFile(path, file) {
  const form = new FormData();
  form.append("file", file);
  return parse(await fetch(`${API}${path}`, { method: "POST", body: form }));
}
