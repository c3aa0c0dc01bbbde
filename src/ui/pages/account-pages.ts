// Pages of local accounts: first-run setup, sign-in, sign-out confirmation, and the refusals.
import type { SignedIn } from "../../accounts/web-session.ts";
import { html, type SafeHtml } from "../html.ts";
import { layout, notice } from "../layout.ts";

export interface CredentialsForm {
  csrfToken: string;
  email: string;
  error?: string | undefined;
  info?: string | undefined;
  fieldErrors?: { email?: string | undefined; password?: string | undefined };
}

function credentialFields(form: CredentialsForm, passwordAutocomplete: "new-password" | "current-password"): SafeHtml {
  const errors = form.fieldErrors ?? {};
  return html`<input type="hidden" name="_csrf" value="${form.csrfToken}">
<div class="field">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required value="${form.email}"
    ${errors.email ? html`aria-invalid="true" aria-describedby="email-error"` : null}>
  ${errors.email ? html`<p class="error" id="email-error">${errors.email}</p>` : null}
</div>
<div class="field">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="${passwordAutocomplete}" required
    ${passwordAutocomplete === "new-password" ? html`minlength="8" aria-describedby="password-hint${errors.password ? " password-error" : ""}"` : null}
    ${errors.password ? html`aria-invalid="true"` : null}>
  ${passwordAutocomplete === "new-password" ? html`<p class="hint" id="password-hint">At least 8 characters.</p>` : null}
  ${errors.password ? html`<p class="error" id="password-error">${errors.password}</p>` : null}
</div>`;
}

export function setupPage(form: CredentialsForm): string {
  return layout(
    { title: "Set up" },
    html`<section class="card auth-card" aria-labelledby="setup-title">
<h1 id="setup-title">Welcome</h1>
<p class="lead">No account exists yet. Create the first administrator: it registers the Connected Apps that people connect their accounts to.</p>
${form.error ? notice("error", form.error) : null}
<form method="post" action="/setup" novalidate>
${credentialFields(form, "new-password")}
<button type="submit" class="button wide">Create administrator</button>
</form>
</section>`,
  );
}

export function loginPage(form: CredentialsForm & { returnTo: string | null }): string {
  return layout(
    { title: "Sign in" },
    html`<section class="card auth-card" aria-labelledby="login-title">
<h1 id="login-title">Sign in</h1>
<p class="lead">Sign in to connect your accounts.</p>
${form.info ? notice("success", form.info) : null}
${form.error ? notice("error", form.error) : null}
<form method="post" action="/login">
${form.returnTo ? html`<input type="hidden" name="returnTo" value="${form.returnTo}">` : null}
${credentialFields(form, "current-password")}
<button type="submit" class="button wide">Sign in</button>
</form>
</section>`,
  );
}

export function logoutPage(signedIn: SignedIn): string {
  return layout(
    { title: "Sign out", user: { user: signedIn.user, csrfToken: signedIn.session.csrfToken } },
    html`<section class="card auth-card" aria-labelledby="logout-title">
<h1 id="logout-title">Sign out?</h1>
<p class="lead">You are signed in as ${signedIn.user.email}.</p>
<form method="post" action="/logout">
<input type="hidden" name="_csrf" value="${signedIn.session.csrfToken}">
<button type="submit" class="button wide">Sign out</button>
</form>
</section>`,
  );
}

/** A refusal (403, 404, 400...) as a page: what happened and where to go. */
export function refusalPage(title: string, message: string, signedIn?: SignedIn): string {
  return layout(
    { title, user: signedIn && { user: signedIn.user, csrfToken: signedIn.session.csrfToken } },
    html`<section class="card auth-card" aria-labelledby="refusal-title">
<h1 id="refusal-title">${title}</h1>
<p role="alert">${message}</p>
<p><a href="/">Back to the start page</a></p>
</section>`,
  );
}
