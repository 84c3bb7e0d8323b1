/** The indexer's query API, from the same origin that served the page. */

export class ApiError extends Error {
  /** @param {string} message @param {number} status */
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

/** GET a JSON answer; API errors (`{error:{code,message}}`) become ApiError. @param {string} path */
export async function getJson(path) {
  const response = await fetch(path, { headers: { accept: "application/json" } });
  const body = await response.json().catch(() => null);
  if (!response.ok && !(path.startsWith("/ready") && response.status === 503)) {
    const message = body?.error?.message ?? `${response.status} ${response.statusText}`;
    throw new ApiError(`${path}: ${message}`, response.status);
  }
  return body;
}

/**
 * Every page of a list endpoint, up to `max` rows.
 * @param {string} path @param {URLSearchParams} params @param {number} [max]
 */
export async function getAll(path, params, max = 1000) {
  const rows = [];
  let cursor = null;
  do {
    const query = new URLSearchParams(params);
    query.set("limit", "100");
    if (cursor !== null) query.set("cursor", cursor);
    const page = await getJson(`${path}?${query}`);
    rows.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor !== null && rows.length < max);
  return rows;
}
