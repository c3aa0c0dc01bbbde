// The only reader of process.env: the environment of SPEC §2, validated once at start.
// A bad value stops the start with a one-line message naming the variable (ConfigError).
import { z } from "zod";
import { parseKeyring } from "../crypto/keyring.ts";

export class ConfigError extends Error {
  override name = "ConfigError";
}

const booleanFlag = z
  .enum(["true", "false", "1", "0", ""])
  .transform((v) => v === "true" || v === "1");

const databaseUrl = z.string().refine(
  (v) => /^sqlite:.+/.test(v) || /^postgres(ql)?:\/\/[^\s]+$/.test(v) && URL.canParse(v),
  { message: "must be sqlite:PATH or postgres://user@host:port/db" },
);

const environment = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  HOST: z.string().min(1).default("127.0.0.1"),
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  DATABASE_URL: databaseUrl.default("sqlite:./data/connected-apps.db"),
  CONNECTED_APPS_KEYS: z.string().min(1).optional(),
  CONNECTED_APPS_ALLOW_PRIVATE_URLS: booleanFlag.default(false),
  CONNECTED_APPS_BOOTSTRAP_API_KEY: z.string().min(16, "must be at least 16 characters").optional(),
  CONNECTED_APPS_DATA_DIR: z.string().min(1).default("./data"),
  WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  WEBHOOK_SECRET: z.string().min(1).optional(),
  CONNECTED_APPS_PROXY_TIMEOUT_SECONDS: z.coerce.number().positive().max(600).default(30),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export interface Config {
  port: number;
  host: string;
  /** Origin users and providers reach us at, without a trailing slash. */
  publicUrl: string;
  databaseUrl: string;
  /** Raw keyring text from the environment; undefined means "use the keys file". */
  keysFromEnv: string | undefined;
  allowPrivateUrls: boolean;
  bootstrapApiKey: string | undefined;
  dataDir: string;
  webhookUrl: string | undefined;
  webhookSecret: string | undefined;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** How long a proxied API call may take before it answers 504. */
  proxyTimeoutMs: number;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings count as unset, as shells and .env files tend to produce them.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = environment.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${String(issue.path[0])}: ${issue.message}`);
  }
  const e = parsed.data;
  if (e.WEBHOOK_URL && !e.WEBHOOK_SECRET) {
    throw new ConfigError("WEBHOOK_SECRET: must be set when WEBHOOK_URL is set");
  }
  // Parsed here as well as where the keyring is loaded, so every command (migrate too) refuses a
  // malformed key at start; throws a KeyringError naming CONNECTED_APPS_KEYS.
  if (e.CONNECTED_APPS_KEYS !== undefined) parseKeyring(e.CONNECTED_APPS_KEYS);
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, "");
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    databaseUrl: e.DATABASE_URL,
    keysFromEnv: e.CONNECTED_APPS_KEYS,
    allowPrivateUrls: e.CONNECTED_APPS_ALLOW_PRIVATE_URLS,
    bootstrapApiKey: e.CONNECTED_APPS_BOOTSTRAP_API_KEY,
    dataDir: e.CONNECTED_APPS_DATA_DIR,
    webhookUrl: e.WEBHOOK_URL,
    webhookSecret: e.WEBHOOK_SECRET,
    logLevel: e.LOG_LEVEL,
    proxyTimeoutMs: e.CONNECTED_APPS_PROXY_TIMEOUT_SECONDS * 1000,
  };
}
