// Small pieces several pages share.
import { html, type SafeHtml } from "../html.ts";

export function initial(name: string): string {
  return (name.trim()[0] ?? "?").toUpperCase();
}

export function formatTime(iso: string): string {
  return iso.replace("T", " ").replace(/\.\d+Z$/, " UTC").replace(/Z$/, " UTC");
}

/**
 * A real button (SPEC §5 calls it one) that navigates to /connect/{appId}?returnTo=...: a GET form,
 * so it needs no script and no CSRF token (starting a flow changes nothing until the provider answers).
 */
export function connectButton(appId: string, returnTo: string, label: string, opts: { primary?: boolean; newTab?: boolean } = {}): SafeHtml {
  return html`<form method="get" action="/connect/${appId}" class="inline"${opts.newTab ? html` target="_blank"` : null}>
  <input type="hidden" name="returnTo" value="${returnTo}">
  <button type="submit" class="button${opts.primary === false ? " secondary" : ""}">${label}</button>
</form>`;
}
