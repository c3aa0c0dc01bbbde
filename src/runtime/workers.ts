// The background workers every instance runs (they share work through the database).
import { startRefresher } from "../connections/refresher.ts";
import type { Context } from "../context.ts";
import { startKeyringWatcher } from "../crypto/keyring-reload.ts";
import { startOutboxWorker } from "../events/outbox-worker.ts";

export interface Worker {
  /** Resolves when in-flight work has finished or been safely abandoned. */
  stop(): Promise<void>;
}

export function startWorkers(ctx: Context): Worker[] {
  return [startRefresher(ctx), startOutboxWorker(ctx), startKeyringWatcher(ctx)];
}
