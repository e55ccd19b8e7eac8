/**
 * `stream()`: rows in batches from a better-sqlite3 statement iterator. Apart from the statement path because an open
 * iterator pins its handle (the lease keeps the lock, writes are refused) until it is finished or broken out of.
 */
import type { JsonSerializer } from "../../core/json.js";
import type { Row } from "../../core/types.js";
import type { QueryOptions, RawResult } from "../../driver/adapter.js";
import { applyInt8, decodeRows, encodeParams, type ReadOptions, rowPlan } from "./codecs.js";
import type { SqliteConnection } from "./connection.js";
import { closedError, failedTransactionError } from "./errors.js";
import type { SqliteLock } from "./locking.js";

/** What a stream needs from its adapter; made once per adapter. */
export interface StreamHost {
  readonly lock: SqliteLock;
  /** `:memory:`: readers take the lock too (the handle is shared). */
  readonly shared: boolean;
  readonly read: ReadOptions;
  readonly serializer: JsonSerializer;
  /** The adapter's query, for a statement that returns no rows. */
  query(conn: SqliteConnection, sql: string, params: unknown[], opts: QueryOptions): Promise<RawResult>;
}

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
  const h = conn.handle;
  if (h.broken || !h.db.open) throw closedError();
  if (conn.failed) throw failedTransactionError();
  // Its own statement: a cached one may be in use by query() while this iterator is open.
  const stmt = h.db.prepare(sql);
  if (!stmt.reader) {
    const r = await host.query(conn, sql, params, opts);
    if (r.rows.length > 0) yield r.rows;
    return;
  }
  if (!conn.holdsLock && (host.shared || !stmt.readonly) && !conn.owns()) await host.lock.take(conn, opts);
  const o = host.read;
  const plan = rowPlan(stmt.columns(), o);
  stmt.safeIntegers(true);
  const values = params.length === 0 ? params : encodeParams(params, host.serializer);
  const size = Math.max(1, Math.floor(batchSize) || 1);
  conn.openStreams++;
  let it: IterableIterator<unknown> | undefined;
  try {
    it = stmt.iterate(values) as IterableIterator<unknown>;
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
