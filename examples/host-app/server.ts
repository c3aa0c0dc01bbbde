// Runs the example host app: see README.md. Reads its settings from the environment.
import { ConnectedApps } from "../../src/sdk/index.ts";
import { createHostApp } from "./host-app.ts";
import { Accounts, parseUsers } from "./users.ts";

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is required (see examples/host-app/README.md)`);
    process.exit(2);
  }
  return value;
}

const port = Number(process.env.HOST_APP_PORT ?? 3000);
const publicUrl = (process.env.HOST_APP_URL ?? `http://localhost:${port}`).replace(/\/+$/, "");
const ca = new ConnectedApps({
  baseUrl: process.env.CONNECTED_APPS_URL ?? "http://localhost:8000",
  apiKey: required("CONNECTED_APPS_API_KEY"),
});
const accounts = new Accounts(parseUsers(process.env.HOST_APP_USERS ?? "alice@example.com:alice-password,bob@example.com:bob-password"));
const { server } = createHostApp({ ca, accounts, publicUrl, webhookSecret: required("WEBHOOK_SECRET") });

server.listen(port, "127.0.0.1", () => console.log(`host app on ${publicUrl} (webhooks: ${publicUrl}/webhooks)`));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => server.close(() => process.exit(0)));
