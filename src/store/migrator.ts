// One migration set for both databases, applied at start and by `connected-apps migrate`.
import { Migrator, type Kysely, type Migration, type MigrationProvider } from "kysely";
import * as initial from "./migrations/0001_initial.ts";
import * as rowChangeNotify from "./migrations/0002_row_change_notify.ts";
import * as loginFailures from "./migrations/0003_login_failures.ts";

// Listed here rather than read from the folder, so migrations are bundled with the code and
// their order is reviewed like code.
const migrations: Record<string, Migration> = {
  "0001_initial": initial,
  "0002_row_change_notify": rowChangeNotify,
  "0003_login_failures": loginFailures,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export async function migrateToLatest(db: Kysely<unknown>): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error");
    throw new Error(`migration ${failed?.migrationName ?? "?"} failed: ${(error as Error).message}`);
  }
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
