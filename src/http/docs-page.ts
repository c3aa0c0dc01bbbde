// GET /docs: how to call the API, and the error catalog (the same table problem details use).
import type { FastifyPluginAsync } from "fastify";
import { errorCatalog, errorCodes } from "../errors/catalog.ts";

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderDocsPage(): string {
  const rows = errorCodes
    .map((code) => {
      const e = errorCatalog[code];
      return `<tr id="error-${code}"><td><code>${code}</code></td><td>${e.status}</td><td>${escape(e.title)}</td><td>${escape(e.fix)}</td></tr>`;
    })
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>connected-apps API</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2328}
code{background:#f6f8fa;padding:.1em .3em;border-radius:4px}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #d0d7de;padding:.4rem;text-align:left;vertical-align:top}
tr:target{background:#fff8c5}
</style></head><body>
<h1>connected-apps API</h1>
<p>Every <code>/api/v1</code> route takes <code>Authorization: Bearer &lt;api key&gt;</code>.
Create a key with <code>connected-apps api-keys create --name my-backend</code>.</p>
<ul>
<li><a href="/docs/api">Interactive reference</a> (Swagger UI)</li>
<li><a href="/openapi.json">OpenAPI 3.1 document</a></li>
</ul>
<h2 id="errors">Errors</h2>
<p>Errors are RFC 9457 problem details (<code>application/problem+json</code>) with a stable <code>code</code>:</p>
<table><thead><tr><th>code</th><th>status</th><th>title</th><th>what to do</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>`;
}

export const docsPage: FastifyPluginAsync = async (app) => {
  const html = renderDocsPage();
  app.get("/docs", { schema: { hide: true } }, async (_req, reply) => reply.type("text/html; charset=utf-8").send(html));
};
