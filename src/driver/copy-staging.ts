/**
 * Transactions and COPY for the bulk engine: its work runs in the caller's transaction or one of its own, and rows
 * reach the adapter's `copyIn` (an ObjectRows source, which the shared encoder reads in place) through the host.
 */

import type { CopyInOptions } from "./adapter.js";
import type { BulkHost } from "./bulk-host.js";
import { rowArray } from "./copy-rows.js";
import type { CallDeadline } from "./deadline.js";

/**
 * The staging table's name. One fixed name keeps the CREATE and MERGE texts stable, so they stay cached as prepared
 * statements instead of churning the per-connection LRU; it is free again after each call (ON COMMIT DROP, or an
 * explicit DROP inside a caller's transaction). Stages that must outlive the call get numbered names.
 */
export const STAGE = "sqlspec_stage";

const owned = new WeakSet<BulkHost>();

/** Whether the running inTransaction call opened the transaction itself (ON COMMIT DROP then frees the stage). */
export function ownsTransaction(host: BulkHost): boolean {
  return owned.has(host);
}

/**
 * Runs fn in the caller's open transaction, or in a new one that this call commits (or rolls back on error). The
 * call's deadline bounds the BEGIN too (it can wait: SQLite's write lock, PGlite's one connection). Once BEGIN has
 * returned, a call's catalog reads are checked (host.catalogCheck): another connection may have changed the table
 * while it waited for the lock.
 */
export async function inTransaction<T>(
  host: BulkHost,
  deadline: CallDeadline | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  if (host.inTransaction) return fn();
  return host.transaction(async () => {
    await host.catalogCheck?.();
    owned.add(host);
    try {
      return await fn();
    } finally {
      owned.delete(host);
    }
  }, deadline?.next());
}

export type RowSource = AsyncIterable<Readonly<Record<string, unknown>> | readonly unknown[]>;

export async function* arraysOfAsync(
  rows: RowSource,
  columns: readonly string[],
  first: unknown,
): AsyncGenerator<unknown[]> {
  yield rowArray(first, columns);
  for await (const row of rows) yield rowArray(row, columns);
}

/** COPY through the adapter; driver errors come back typed. */
export async function copyRows(
  host: BulkHost,
  table: string,
  columns: readonly string[],
  types: readonly string[],
  source: Iterable<unknown[]> | AsyncIterable<unknown[]>,
  options?: CopyInOptions,
): Promise<number> {
  try {
    return await host.copyIn(table, [...columns], source, [...types], options);
  } catch (err) {
    throw host.mapError(err, `COPY ${table} FROM STDIN`);
  }
}
