/**
 * `stream()`: rows in batches from a better-sqlite3 statement iterator. Apart from the statement path because an open
 * iterator pins its handle (the lease keeps the lock, writes are refused) until it is finished or broken out of. It
 * opens in the lease's issue order, as the adapter's query does: after the statements issued before it that still
 * wait, before those issued after it.
 */

import type BetterSqlite3 from "better-sqlite3";
import type { JsonSerializer } from "../../core/json.js";
import type { Row } from "../../core/types.js";
import type { QueryOptions, RawResult } from "../../driver/adapter.js";
import { applyInt8, decodeRows, encodeParams, type ReadOptions, rowPlan } from "./codecs.js";
import type { SqliteConnection } from "./connection.js";
import { closedError, failedTransactionError, releasedBeforeStartError } from "./errors.js";
import type { SqliteLock } from "./locking.js";
import { SPREAD_MAX } from "./statements.js";

/** What a stream needs from its adapter; made once per adapter. */
export interface StreamHost {
  readonly lock: SqliteLock;
  /** `:memory:`: readers take the lock too (the handle is shared). */
  readonly shared: boolean;
  readonly read: ReadOptions;
  readonly serializer: JsonSerializer;
  /**
   * The adapter's query for a statement that returns no rows, run now (the stream already has its turn): sets
   * `conn.waiting` when it has to wait, as the adapter's query reads.
   */
  runNow(conn: SqliteConnection, sql: string, params: unknown[], opts: QueryOptions): Promise<RawResult>;
}

/** An opened stream's statement, or the result of a statement that returns no rows. */
type Opened = { stmt: BetterSqlite3.Statement; result?: undefined } | { stmt?: undefined; result: RawResult };

/**
 * Rows in batches from a statement iterator, read with safe integers (no second pass is possible). While the
 * iterator is open the lease holds the lock on a shared handle; breaking out closes it.
 */
export async function* streamRows(
  host: StreamHost,
  conn: SqliteConnection,
  sql: string,
  params: unknown[],
  batchSize: number,
  opts: QueryOptions,
): AsyncIterable<Row[]> {
  let opening: Promise<Opened>;
  if (conn.queue === undefined) {
    opening = open(host, conn, sql, params, opts);
    // It has to wait (the lock, a file locked elsewhere): the lease's later statements queue behind it.
    if (conn.waiting) {
      conn.waiting = false;
      conn.queueBehind(opening);
    }
  } else {
    opening = conn.queue.then(() => {
      if (conn.interrupted) throw releasedBeforeStartError();
      const p = open(host, conn, sql, params, opts);
      conn.waiting = false;
      return p;
    });
    conn.queueBehind(opening);
  }
  const { stmt, result } = await opening;
  if (result !== undefined) {
    if (result.rows.length > 0) yield result.rows;
    return;
  }
  const o = host.read;
  const plan = rowPlan(stmt.columns(), o);
  stmt.safeIntegers(true);
  const values = params.length === 0 ? params : encodeParams(params, host.serializer);
  const size = Math.max(1, Math.floor(batchSize) || 1);
  conn.openStreams++;
  let it: IterableIterator<unknown> | undefined;
  try {
    it = (values.length <= SPREAD_MAX ? stmt.iterate(...values) : stmt.iterate(values)) as IterableIterator<unknown>;
    for (;;) {
      const batch: Row[] = [];
      let done = false;
      while (batch.length < size) {
        const next = it.next();
        if (next.done) {
          done = true;
          break;
        }
        batch.push(next.value as Row);
      }
      if (batch.length > 0) {
        if (o.int8 !== "bigint") applyInt8(batch, plan.ints, o.int8);
        decodeRows(batch, plan, o);
        yield batch;
      }
      if (done) break;
    }
  } finally {
    it?.return?.();
    conn.openStreams--;
    host.lock.afterStatement(conn);
  }
}

/** Checks the lease, prepares the statement and takes the lock it needs; runs a statement that returns no rows. */
async function open(
  host: StreamHost,
  conn: SqliteConnection,
  sql: string,
  params: unknown[],
  opts: QueryOptions,
): Promise<Opened> {
  const h = conn.handle;
  if (h.broken || !h.db.open) throw closedError();
  if (conn.failed) throw failedTransactionError();
  // Its own statement: a cached one may be in use by query() while this iterator is open.
  const stmt = h.db.prepare(sql);
  if (!stmt.reader) return { result: await host.runNow(conn, sql, params, opts) };
  if (!conn.holdsLock && (host.shared || !stmt.readonly) && !conn.owns() && !host.lock.tryTake(conn)) {
    conn.waiting = true;
    await host.lock.take(conn, opts);
  }
  return { stmt };
}
