/**
 * Transactions and COPY for the bulk engine: its work runs in the caller's transaction or one of its own, and rows
 * reach the adapter's `copyIn` (an ObjectRows source, which the shared encoder reads in place) through the host.
 */

import { OperationalError } from "../core/errors.js";
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
 * Thrown (and rolled back) by inTransaction when the catalog facts the bulk call read are out of date by the time its
 * transaction began; the call starts over (startingOver). Never reaches the caller.
 */
export class CatalogMoved extends Error {}

/** The host as one bulk call sees it: its transactions check the catalog generation it read its facts at. */
export function atGeneration(host: BulkHost, generation: number): BulkHost {
  return Object.create(host, { catalogGeneration: { value: generation } }) as BulkHost;
}

/** Bulk call attempts when another connection's DDL keeps landing while each waits for its lock. */
const CATALOG_ATTEMPTS = 3;

/**
 * Runs a bulk call (which reads the catalog afresh each time) again when its transaction found the catalog moved
 * (CatalogMoved: nothing was written). After CATALOG_ATTEMPTS, an OperationalError says so.
 */
export async function startingOver<T>(what: string, call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof CatalogMoved)) throw err;
      if (attempt === CATALOG_ATTEMPTS) {
        throw new OperationalError(
          `${what}: the schema changed (DDL by another connection) while it waited for its lock, ${attempt} times in a row; nothing was written`,
        );
      }
    }
  }
}

/**
 * Runs fn in the caller's open transaction, or in a new one that this call commits (or rolls back on error). The
 * call's deadline bounds the BEGIN too (it can wait: SQLite's write lock, PGlite's one connection). Once BEGIN has
 * returned (SQLite's write lock held), a call that read the catalog at `host.catalogGeneration` checks it is current.
 */
export async function inTransaction<T>(
  host: BulkHost,
  deadline: CallDeadline | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  if (host.inTransaction) return fn();
  return host.transaction(async () => {
    const generation = host.catalogGeneration;
    if (generation !== undefined && !host.catalog.isCurrent(generation)) throw new CatalogMoved();
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
