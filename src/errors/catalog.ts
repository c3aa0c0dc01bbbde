// The one error catalog: every problem the API answers comes from here, and the OpenAPI
// document, /docs and the SDK read the same table. Codes are never reused for another meaning.
export const errorCatalog = {
  invalid_request: {
    status: 400,
    title: "Invalid request",
    fix: "Correct the named field or parameter and send the request again.",
  },
  unauthorized: {
    status: 401,
    title: "Unauthorized",
    fix: "Send a valid API key as `Authorization: Bearer <key>` (create one with `connected-apps api-keys create`).",
  },
  forbidden: {
    status: 403,
    title: "Forbidden",
    fix: "Sign in with an account allowed to do this (only administrators edit apps).",
  },
  not_found: {
    status: 404,
    title: "Not found",
    fix: "Check the identifier in the path; list the collection to see what exists.",
  },
  conflict: {
    status: 409,
    title: "Conflict",
    fix: "Choose another identifier, or update the existing resource instead.",
  },
  not_connected: {
    status: 404,
    title: "Not connected",
    fix: "The user has no connection to this app yet: send them through a connect session.",
  },
  needs_reconnect: {
    status: 409,
    title: "Needs reconnect",
    fix: "The provider no longer accepts this grant: send the user through a connect session again.",
  },
  provider_error: {
    status: 502,
    title: "Provider error",
    fix: "The provider answered with something that is not valid; see detail, and check the app's endpoints and quirk fields.",
  },
  provider_unavailable: {
    status: 503,
    title: "Provider unavailable",
    fix: "The provider did not answer in time or is failing; retry after the Retry-After delay.",
  },
  internal_error: {
    status: 500,
    title: "Internal error",
    fix: "This is a bug in connected-apps: the server log has the details under the request id.",
  },
} as const satisfies Record<string, { status: number; title: string; fix: string }>;

export type ErrorCode = keyof typeof errorCatalog;

export const errorCodes = Object.keys(errorCatalog) as ErrorCode[];
