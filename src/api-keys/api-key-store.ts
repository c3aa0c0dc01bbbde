// ApiKeyStore: api_keys rows hold only the SHA-256 of each key (crypto/api-key-hash.ts).
import type { Kysely } from "kysely";
import type { ApiKeysTable, Database } from "../store/schema.ts";

export class ApiKeyStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: ApiKeysTable): Promise<void> {
    await this.db.insertInto("api_keys").values(row).execute();
  }

  async upsertBootstrap(row: ApiKeysTable): Promise<void> {
    await this.db
      .insertInto("api_keys")
      .values(row)
      .onConflict((oc) => oc.column("id").doUpdateSet({ hash: row.hash }))
      .execute();
  }

  async findByHash(hash: string): Promise<ApiKeysTable | undefined> {
    return this.db.selectFrom("api_keys").selectAll().where("hash", "=", hash).executeTakeFirst();
  }

  async list(): Promise<Omit<ApiKeysTable, "hash">[]> {
    return this.db.selectFrom("api_keys").select(["id", "name", "created_at", "last_used_at"]).orderBy("created_at").execute();
  }
}
