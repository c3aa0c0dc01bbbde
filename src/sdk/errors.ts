// What the SDK throws. The API answered with a problem: ConnectedAppsError, carrying the problem's
// `code`, `status` and `detail`. The API could not be reached at all: ConnectedAppsNetworkError,
// so a caller can tell "the service said no" from "the service did not answer".
import type { ErrorCode, Problem } from "./types.ts";

export class ConnectedAppsError extends Error {
  override name = "ConnectedAppsError";
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string;
  /** Seconds to wait before retrying, from Retry-After (provider_unavailable); else undefined. */
  readonly retryAfter: number | undefined;

  constructor(problem: { code: ErrorCode; status: number; detail: string }, retryAfter?: number) {
    super(`${problem.code} (${problem.status}): ${problem.detail}`);
    this.code = problem.code;
    this.status = problem.status;
    this.detail = problem.detail;
    this.retryAfter = retryAfter;
  }
}

export class ConnectedAppsNetworkError extends Error {
  override name = "ConnectedAppsNetworkError";
  readonly method: string;
  readonly url: string;

  constructor(method: string, url: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`connected-apps did not answer ${method} ${url}: ${reason}`, { cause });
    this.method = method;
    this.url = url;
  }
}

// A Record, so that a code added to ErrorCode and not here fails the type check.
const KNOWN_CODES: Record<ErrorCode, true> = {
  invalid_request: true,
  unauthorized: true,
  forbidden: true,
  not_found: true,
  conflict: true,
  not_connected: true,
  needs_reconnect: true,
  provider_error: true,
  provider_unavailable: true,
  internal_error: true,
};

// An answer that is not a problem document (a reverse proxy's error page, say) still gets a code,
// read from its status as the catalog assigns them.
function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 409:
      return "conflict";
    case 502:
      return "provider_error";
    case 503:
      return "provider_unavailable";
    case 504:
      return "provider_unavailable";
  }
  return status >= 500 ? "internal_error" : "invalid_request";
}

/** RFC 9110 §10.2.3: Retry-After is either delay-seconds or an HTTP-date. */
export function parseRetryAfter(header: string | null, now: Date = new Date()): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now.getTime()) / 1000));
}

function isProblem(body: unknown): body is Pick<Problem, "code"> & Partial<Problem> {
  return typeof body === "object" && body !== null && Object.hasOwn(KNOWN_CODES, String((body as { code?: unknown }).code));
}

/** Turns a non-2xx answer of the API into a ConnectedAppsError. */
export async function errorFromResponse(res: Response): Promise<ConnectedAppsError> {
  const text = await res.text().catch(() => "");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const retryAfter = parseRetryAfter(res.headers.get("retry-after"));
  if (isProblem(body)) {
    const detail = typeof body.detail === "string" ? body.detail : (body.title ?? res.statusText);
    return new ConnectedAppsError({ code: body.code, status: res.status, detail }, retryAfter);
  }
  const type = res.headers.get("content-type") ?? "no content type";
  const detail = `the service answered ${res.status} ${res.statusText} (${type}), not a problem document`;
  return new ConnectedAppsError({ code: codeForStatus(res.status), status: res.status, detail }, retryAfter);
}
