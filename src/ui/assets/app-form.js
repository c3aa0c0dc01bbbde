// The Connected App form's enhancements: Get OpenID Configuration without reloading, the
// template picker, and Copy. Without this script the form still works (the server does it).
const form = document.getElementById("app-form");
const csrf = form?.querySelector('input[name="_csrf"]')?.value ?? "";

function input(name) {
  return form?.elements.namedItem(name) ?? null;
}

// Get OpenID Configuration: fills the endpoints, saves nothing.
const discoverButton = document.getElementById("discover-button");
const result = document.getElementById("discovery-result");
discoverButton?.addEventListener("click", async (event) => {
  event.preventDefault();
  const url = input("discoveryUrl").value.trim();
  result.className = "discovery-result";
  if (!url) {
    result.classList.add("error");
    result.textContent = "Enter the OpenID Configuration URL first.";
    input("discoveryUrl").focus();
    return;
  }
  discoverButton.disabled = true;
  result.textContent = "Fetching the configuration…";
  try {
    const res = await fetch("/ui/discovery", {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": csrf, accept: "application/json" },
      body: JSON.stringify({ url }),
      credentials: "same-origin",
    });
    const type = res.headers.get("content-type") ?? "";
    const answer = type.includes("application/json") ? await res.json() : null;
    if (!res.ok || !answer?.metadata) {
      throw new Error(answer?.message ?? "The request was refused. Reload the page (your session may have ended) and try again.");
    }
    const m = answer.metadata;
    const fields = {
      issuer: m.issuer,
      authorizationEndpoint: m.authorizationEndpoint,
      tokenEndpoint: m.tokenEndpoint,
      revocationEndpoint: m.revocationEndpoint,
      userinfoEndpoint: m.userinfoEndpoint,
      introspectionEndpoint: m.introspectionEndpoint,
      jwksUri: m.jwksUri,
    };
    let filled = 0;
    for (const [name, value] of Object.entries(fields)) {
      const el = input(name);
      if (el && value) {
        el.value = value;
        el.removeAttribute("aria-invalid");
        filled++;
      }
    }
    if (input("scopes") && !input("scopes").value && (m.scopesSupported ?? []).includes("openid")) input("scopes").value = "openid";
    result.classList.add("found");
    result.textContent = `Found the configuration of ${m.issuer}: filled ${filled} endpoint fields. Nothing is saved until you press Save.`;
  } catch (err) {
    result.classList.add("error");
    result.textContent = err instanceof Error ? err.message : String(err);
  } finally {
    discoverButton.disabled = false;
  }
});

// Template picker: fills the form from a template's defaults, its {parameters} substituted.
const templates = JSON.parse(document.getElementById("templates-data")?.textContent ?? "[]");
const picker = document.getElementById("f-template");
const paramsBox = document.getElementById("template-params");

function textOf(value) {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.join(" ");
  if (typeof value === "object") return Object.entries(value).map(([k, v]) => `${k}=${v}`).join("\n");
  return String(value);
}

function paramValues() {
  const values = {};
  for (const el of paramsBox?.querySelectorAll("input") ?? []) values[el.dataset.param] = el.value.trim() || el.placeholder;
  return values;
}

function applyTemplate() {
  const t = templates.find((x) => x.id === picker.value);
  if (!t) return;
  const params = paramValues();
  for (const [name, value] of Object.entries(t.defaults)) {
    const el = input(name);
    if (!el || el.type === "password") continue;
    el.value = textOf(value).replace(/\{([A-Za-z0-9_]+)\}/g, (whole, p) => params[p] || whole);
  }
}

function renderParams() {
  paramsBox.replaceChildren();
  const t = templates.find((x) => x.id === picker.value);
  for (const p of t?.params ?? []) {
    const wrap = document.createElement("div");
    wrap.className = "field";
    const label = document.createElement("label");
    label.htmlFor = `tp-${p.name}`;
    label.textContent = `Template parameter ${p.name}`;
    const el = document.createElement("input");
    el.type = "text";
    el.id = `tp-${p.name}`;
    el.name = `templateParam.${p.name}`;
    el.dataset.param = p.name;
    el.placeholder = p.default ?? "";
    el.setAttribute("aria-describedby", `tp-${p.name}-hint`);
    el.addEventListener("input", applyTemplate);
    const hint = document.createElement("p");
    hint.className = "hint";
    hint.id = `tp-${p.name}-hint`;
    hint.textContent = p.description;
    wrap.append(label, el, hint);
    paramsBox.append(wrap);
  }
}

for (const el of paramsBox?.querySelectorAll("input") ?? []) el.addEventListener("input", applyTemplate);

picker?.addEventListener("change", () => {
  renderParams();
  applyTemplate();
});

// Copy the Redirect URI.
for (const button of document.querySelectorAll("[data-copy]")) {
  button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copy);
    const status = document.getElementById("copy-status");
    try {
      await navigator.clipboard.writeText(source.value);
    } catch {
      source.select();
      document.execCommand("copy");
    }
    if (status) status.textContent = "Copied.";
    button.textContent = "Copied";
    setTimeout(() => (button.textContent = "Copy"), 2000);
  });
}
