import { sql, type Kysely } from "kysely";
import { isPostgres } from "../dialect.ts";

// PostgreSQL: every update or delete of an app or a connection NOTIFYs its cache key on commit,
// so each instance's read cache drops the row (src/store/change-feed.ts). NOTIFY is
// transactional: a rolled-back write says nothing. SQLite gets the same from TEMP triggers set
// up per connection by the change feed, so it needs no schema change here.
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`
    create or replace function connected_apps_row_changed() returns trigger language plpgsql as $$
    begin
      if TG_TABLE_NAME = 'apps' then
        perform pg_notify('connected_apps_rows', 'apps:' || OLD.id);
      else
        perform pg_notify('connected_apps_rows', 'connections:' || OLD.app_id || '/' || OLD.user_id);
      end if;
      return null;
    end $$`.execute(db);
  await sql`create trigger apps_row_changed after update or delete on apps for each row execute function connected_apps_row_changed()`.execute(db);
  await sql`create trigger connections_row_changed after update or delete on connections for each row execute function connected_apps_row_changed()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`drop trigger if exists connections_row_changed on connections`.execute(db);
  await sql`drop trigger if exists apps_row_changed on apps`.execute(db);
  await sql`drop function if exists connected_apps_row_changed()`.execute(db);
}
