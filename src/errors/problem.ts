// RFC 9457 problem details. An AppError carries a public `detail` (shown to the caller) and an
// optional private `cause` (logged, never shown), as node-oidc-provider keeps them apart.
import { errorCatalog, type ErrorCode } from "./catalog.ts";

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
}

export interface AppErrorOptions {
  /** Seconds, sent as Retry-After (provider_unavailable). */
  retryAfter?: number;
  /** Overrides the catalog status where a code covers more than one (proxy 502 vs 504). */
  status?: number;
  cause?: unknown;
}

export class AppError extends Error {
  override name = "AppError";
  readonly code: ErrorCode;
  readonly detail: string;
  readonly status: number;
  readonly retryAfter: number | undefined;

  constructor(code: ErrorCode, detail: string, opts: AppErrorOptions = {}) {
    super(`${code}: ${detail}`, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.detail = detail;
    this.status = opts.status ?? errorCatalog[code].status;
    this.retryAfter = opts.retryAfter;
  }
}

export function problemTypeUri(code: ErrorCode): string {
  return `/docs#error-${code}`;
}

export function toProblem(code: ErrorCode, detail: string, status?: number): Problem {
  const entry = errorCatalog[code];
  return { type: problemTypeUri(code), title: entry.title, status: status ?? entry.status, detail, code };
}
