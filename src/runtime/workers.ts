// The background workers every instance runs (they share work through the database).
import type { Context } from "../context.ts";

export interface Worker {
  /** Resolves when in-flight work has finished or been safely abandoned. */
  stop(): Promise<void>;
}

export function startWorkers(_ctx: Context): Worker[] {
  return [];
}
