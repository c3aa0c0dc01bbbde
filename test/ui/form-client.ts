// A minimal browser for inject() tests of the web UI: keeps cookies, reads the CSRF token of the
// last page, posts forms as application/x-www-form-urlencoded.
import type { FastifyInstance, LightMyRequestResponse } from "fastify";

export class FormClient {
  readonly cookies = new Map<string, string>();
  lastCsrf: string | undefined;

  constructor(private readonly server: FastifyInstance) {}

  private remember(res: LightMyRequestResponse): LightMyRequestResponse {
    for (const c of res.cookies as Array<{ name: string; value: string; maxAge?: number; expires?: Date }>) {
      if (c.value === "" || c.maxAge === 0 || (c.expires && c.expires.getTime() < Date.now())) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    const token = /name="_csrf" value="([^"]+)"/.exec(res.body)?.[1];
    if (token) this.lastCsrf = token;
    return res;
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.remember(await this.server.inject({ method: "GET", url, cookies: Object.fromEntries(this.cookies), headers }));
  }

  /** Posts `form`; `_csrf` is the last page's token unless the form sets it (or `null` leaves it out). */
  async post(url: string, form: Record<string, string | null>, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const fields: Record<string, string> = {};
    if (!("_csrf" in form) && this.lastCsrf) fields._csrf = this.lastCsrf;
    for (const [k, v] of Object.entries(form)) if (v !== null) fields[k] = v;
    return this.remember(
      await this.server.inject({
        method: "POST",
        url,
        cookies: Object.fromEntries(this.cookies),
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        payload: new URLSearchParams(fields).toString(),
      }),
    );
  }
}
