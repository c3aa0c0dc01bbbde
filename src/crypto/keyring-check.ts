// A wrong or missing key must stop the start, not return garbage later. The meta table keeps a
// canary sealed with the primary key of the first start (re-sealed by rotation); if the ring
// cannot open it, the keys do not belong to this database.
import type { Kysely } from "kysely";
import type { Database } from "../store/schema.ts";
import type { Keyring } from "./keyring.ts";
import { KeyringError } from "./keyring.ts";
import { open, seal, sealedKid, SealError } from "./seal.ts";

const CANARY_KEY = "keyring_canary";
const CANARY_TEXT = "connected-apps keyring canary";
const binding = { table: "meta", id: CANARY_KEY, field: "value" } as const;

/** True when this database already holds data sealed by some keyring. */
export async function databaseHasSealedData(db: Kysely<Database>): Promise<boolean> {
  const row = await db.selectFrom("meta").select("key").where("key", "=", CANARY_KEY).executeTakeFirst();
  return row !== undefined;
}

export async function checkKeyringAgainstDatabase(db: Kysely<Database>, keyring: Keyring): Promise<void> {
  const row = await db.selectFrom("meta").select("value").where("key", "=", CANARY_KEY).executeTakeFirst();
  if (!row) {
    await db
      .insertInto("meta")
      .values({ key: CANARY_KEY, value: seal(keyring, CANARY_TEXT, binding) })
      .onConflict((oc) => oc.column("key").doNothing())
      .execute();
    return;
  }
  try {
    if (open(keyring, row.value, binding) !== CANARY_TEXT) throw new SealError("canary mismatch");
  } catch {
    let kid = "?";
    try {
      kid = sealedKid(row.value);
    } catch {}
    throw new KeyringError(
      `CONNECTED_APPS_KEYS: this database's secrets are sealed with key "${kid}", which the keyring does not hold (or holds with another value); start with the keys this database was created with`,
    );
  }
}

/** Re-seals the canary with the current primary key (after rotation). */
export async function resealKeyringCanary(db: Kysely<Database>, keyring: Keyring): Promise<void> {
  await db.updateTable("meta").set({ value: seal(keyring, CANARY_TEXT, binding) }).where("key", "=", CANARY_KEY).execute();
}
