// The frame of every page: header with the signed-in user and sign-out, a main landmark, our own
// stylesheet and script (no CDN: the service may run where nothing outside is reachable).
import type { User } from "../accounts/user-store.ts";
import { html, type SafeHtml } from "./html.ts";

export interface PageFrame {
  title: string;
  /** Present on pages for a signed-in user: shows their email, the nav and Sign out. */
  user?: { user: User; csrfToken: string } | undefined;
  /** Extra scripts under /ui/assets/ that this page needs. */
  scripts?: string[];
}

export function layout(frame: PageFrame, body: SafeHtml): string {
  const signedIn = frame.user;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${frame.title} · connected-apps</title>
<link rel="stylesheet" href="/ui/assets/app.css">
${(frame.scripts ?? []).map((s) => html`<script type="module" src="/ui/assets/${s}"></script>`)}
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="topbar">
  <div class="topbar-inner">
    <a class="brand" href="/"><span class="brand-mark" aria-hidden="true"></span>connected-apps</a>
    ${signedIn
      ? html`<nav aria-label="Main">
      <a href="/">Connections</a>
      ${signedIn.user.isAdmin ? html`<a href="/apps/new">New app</a>` : null}
    </nav>
    <div class="who">
      <span class="who-email">${signedIn.user.email}${signedIn.user.isAdmin ? html` <span class="badge">admin</span>` : null}</span>
      <form method="post" action="/logout" class="inline">
        <input type="hidden" name="_csrf" value="${signedIn.csrfToken}">
        <button type="submit" class="button ghost small">Sign out</button>
      </form>
    </div>`
      : null}
  </div>
</header>
<main id="main" tabindex="-1">
${body}
</main>
</body>
</html>
`.text;
}

/** A notice at the top of a page; `role` alert for errors so screen readers announce it. */
export function notice(kind: "success" | "error" | "info", text: string | SafeHtml): SafeHtml {
  return html`<div class="notice ${kind}" role="${kind === "error" ? "alert" : "status"}">${text}</div>`;
}
