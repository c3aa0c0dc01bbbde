// The minimal pages that end a flow or refuse to start one, for a browser that has no returnTo.
// Everything that came from outside (provider error text, account names) is escaped.
import type { ProviderAccount } from "../oauth/token-set.ts";
import type { FlowFailure } from "./flow-failure.ts";

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}code{word-break:break-all}</style>
</head><body><main>${body}</main></body></html>`;
}

export function connectedPage(appName: string, account: ProviderAccount): string {
  const who = account.email ?? account.name ?? account.sub;
  const naming = who === null ? "" : ` as <strong>${escapeHtml(who)}</strong>`;
  return page(`Connected to ${appName}`, `<h1>Connected to ${escapeHtml(appName)}</h1>
<p role="status">Your ${escapeHtml(appName)} account is connected${naming}. You can close this page.</p>`);
}

export function failurePage(failure: FlowFailure): string {
  return page("Could not connect", `<h1>Could not connect</h1>
<p role="alert">${escapeHtml(failure.summary)}</p>
<p>${escapeHtml(failure.advice)}</p>
<p><small>Error code: <code>${escapeHtml(failure.code)}</code></small></p>`);
}
