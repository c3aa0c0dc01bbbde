// The callback's query string, read once. RFC 6749 §3.1: "Request and response parameters MUST
// NOT be included more than once." A repeated `code`, `state` or `iss` could make two layers read
// two different values (parameter pollution), so any repeat ends the flow before any check.
import { FlowFailure } from "../flow-failure.ts";

export type CallbackQuery = ReadonlyMap<string, string>;

/** The query of a URL as single values, or the name of the first parameter that repeats. */
export function singleValuedQuery(rawUrl: string): { params: CallbackQuery } | { repeated: string } {
  const q = rawUrl.indexOf("?");
  const params = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(q === -1 ? "" : rawUrl.slice(q + 1))) {
    if (params.has(name)) return { repeated: name };
    params.set(name, value);
  }
  return { params };
}

export function repeatedParameter(name: string): FlowFailure {
  return new FlowFailure(
    "invalid_request",
    400,
    `The address is malformed: the parameter "${name.slice(0, 50)}" appears more than once.`,
    "Start connecting again from the application. If it happens again, something between you and the provider is changing the address.",
  );
}

export function readCallbackQuery(rawUrl: string): CallbackQuery {
  const read = singleValuedQuery(rawUrl);
  if ("repeated" in read) throw repeatedParameter(read.repeated);
  return read.params;
}
