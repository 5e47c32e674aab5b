// The page's configuration (config.json, written at deploy time) and the REST API client.

/** A failed call, classified for the person reading the page. */
export class ApiError extends Error {
  /**
   * @param {"unreachable"|"rate_limited"|"unauthorized"|"request"|"server"} kind
   * @param {string} message one line for people
   * @param {number|null} status HTTP status, null when no answer came
   */
  constructor(kind, message, status = null) {
    super(message);
    this.kind = kind;
    this.status = status;
  }
}

/** Load config.json next to the page; relative URLs resolve against the page. */
export async function loadConfig(pageUrl = document.baseURI) {
  let response;
  try {
    response = await fetch(new URL("config.json", pageUrl), { cache: "no-store" });
  } catch {
    throw new ApiError("unreachable", "Cannot load config.json: the site is unreachable.");
  }
  if (!response.ok) {
    throw new ApiError("server", `Cannot load config.json (HTTP ${response.status}).`, response.status);
  }
  const raw = await response.json();
  const apiBase = new URL(raw.apiUrl || ".", pageUrl);
  // The stage URL with or without its trailing slash: paths go after the stage either way.
  if (!apiBase.pathname.endsWith("/")) apiBase.pathname += "/";
  let streamUrl = null;
  if (raw.streamUrl) {
    const url = new URL(raw.streamUrl, pageUrl);
    if (url.protocol === "http:") url.protocol = "ws:";
    if (url.protocol === "https:") url.protocol = "wss:";
    if (raw.apiKey) url.searchParams.set("api_key", raw.apiKey);
    streamUrl = url.href;
  }
  return { apiBase: apiBase.href, streamUrl, apiKey: raw.apiKey || null };
}

/** The one-line message of an error answer: kass's `{error, message}` or API Gateway's `{message}`. */
function errorText(body, status) {
  if (body && typeof body.message === "string" && body.message) return body.message;
  return `HTTP ${status}`;
}

/** Classify an error answer the way the page explains it. */
export function errorFor(status, detail) {
  if (status === 429) {
    return new ApiError("rate_limited", `Rate limited: too many requests; wait a moment and try again (${detail}).`, status);
  }
  if (status === 401 || status === 403) {
    return new ApiError("unauthorized", `Not authorized: the API key is missing or not accepted (${detail}).`, status);
  }
  if (status >= 500) return new ApiError("server", `The kass API failed (${status}): ${detail}`, status);
  return new ApiError("request", detail, status);
}

export class Api {
  constructor(config) {
    this.config = config;
  }

  async request(method, path, body) {
    const headers = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.config.apiKey) headers["x-api-key"] = this.config.apiKey;
    let response;
    try {
      response = await fetch(new URL(path, this.config.apiBase), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError("unreachable", "Cannot reach the kass API: it is down or unreachable. Try again later.");
    }
    let parsed = null;
    try {
      parsed = await response.json();
    } catch {
      // A proxy's HTML error page: the status says enough.
    }
    if (!response.ok) throw errorFor(response.status, errorText(parsed, response.status));
    return parsed;
  }

  chat(request) {
    return this.request("POST", "chat", request);
  }

  conversations() {
    return this.request("GET", "conversations");
  }

  conversation(id) {
    return this.request("GET", `conversations/${encodeURIComponent(id)}`);
  }

  decide(actionId, verb) {
    return this.request("POST", `actions/${encodeURIComponent(actionId)}/${verb}`);
  }
}
