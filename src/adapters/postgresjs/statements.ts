/**
 * The statement paths on postgres.js: one statement (prepared within the connection's budget, retried once unprepared
 * when its prepared form went stale), executeMany and executeStack pipelined (every statement written before any
 * answer is read), and streams through a postgres.js cursor.
 */
import { OperationCancelledError, QueryTimeoutError, type SQLSpecError } from "../../core/errors.js";
import type { JsonSerializer } from "../../core/json.js";
import type { Row } from "../../core/types.js";
import type { QueryOptions, RawResult, StackStatement } from "../../driver/adapter.js";
import { StackFailure } from "../../driver/adapter.js";
import { StatementCancel } from "../postgres-common/cancel.js";
import { encodeTextParams } from "../postgres-common/codecs.js";
import { changesSchema, rowsAffectedFor } from "../postgres-common/command-tag.js";
import { cancelledBeforeSent, isStaleStatementError } from "../postgres-common/errors.js";
import { statementChangesSettings } from "../postgres-common/session-state.js";
import { StatementCache } from "../postgres-common/statement-cache.js";
import {
  lastOf,
  type PjsQuery,
  type PjsResult,
  type PostgresJsConnection,
  toRaw,
  type Unsafe,
  withoutStaleSlots,
} from "./connection.js";
import { armCancel, cancelRunning, checkUsable, statementError } from "./running.js";
import type { PostgresJsTypes } from "./types.js";

export class PostgresJsStatements {
  readonly #types: PostgresJsTypes;
  readonly #jsonSerializer: JsonSerializer;
  readonly #cacheSize: number;
  readonly #cacheBytes: number;

  constructor(types: PostgresJsTypes, jsonSerializer: JsonSerializer, cacheSize: number, cacheBytes: number) {
    this.#types = types;
    this.#jsonSerializer = jsonSerializer;
    this.#cacheSize = cacheSize;
    this.#cacheBytes = cacheBytes;
  }

  /** Bound values as sqlspec documents them (postgres-common/codecs), never typed by postgres.js from the JS value. */
  #encode(params: unknown[]): unknown[] {
    return encodeTextParams(params, this.#jsonSerializer);
  }

  #start(conn: PostgresJsConnection, sql: string, params: unknown[], prepare: boolean): PjsQuery {
    return this.#send(conn, sql, params.length > 0 ? this.#encode(params) : params, prepare);
  }

  /** Sends a statement whose values are already encoded. */
  #send(conn: PostgresJsConnection, sql: string, values: unknown[], prepare: boolean): PjsQuery {
    const params = values;
    let p = false;
    if (prepare && params.length > 0 && this.#cacheSize > 0 && !conn.staleStatements) {
      const seen = conn.prepared;
      if (seen.has(sql)) p = true;
      else if (
        seen.size < this.#cacheSize &&
        StatementCache.fits(sql, this.#cacheBytes) &&
        conn.preparedBytes + sql.length <= this.#cacheBytes
      ) {
        // postgres.js keeps what it prepared for the connection's life: past the budget, statements run unnamed.
        seen.add(sql);
        conn.preparedBytes += sql.length;
        p = true;
      }
    }
    // simple: false — postgres.js sends a statement without values over the simple protocol, which runs stacked ones.
    return (conn.sql as unknown as Unsafe).unsafe(sql, values, { prepare: p, simple: false });
  }

  async query(conn: PostgresJsConnection, sql: string, params: unknown[], opts: QueryOptions): Promise<RawResult> {
    checkUsable(conn, sql);
    const reused = conn.prepared.has(sql) && !conn.staleStatements;
    const idle = conn.wire.status === 73;
    let res: PjsResult;
    try {
      res = await this.#run(conn, this.#start(conn, sql, params, opts.prepare !== false), opts);
    } catch (err) {
      const cause = (err as SQLSpecError).cause ?? err;
      if (!reused || !isStaleStatementError(cause)) throw err;
      const code = (cause as { code?: string }).code;
      if (code === "0A000" || code === "26000") conn.staleStatements = true;
      // Retried once, unprepared, outside a transaction (inside one the failure aborted it). Only when the unprepared
      // statement runs was the prepared one stale; the same error again is the data's (invalid input stays cheap).
      if (!idle || conn.broken || opts.signal?.aborted) throw err;
      res = await this.#run(conn, this.#start(conn, sql, params, false), opts);
      conn.staleStatements = true;
    }
    // A multi-statement simple query answers with a plain array of results; the last one is the answer.
    const last = withoutStaleSlots(res.command === undefined ? lastOf(res) : res);
    const late = this.#types.lateColumns(last);
    if (late !== undefined) await this.#types.finish(conn, last, late);
    const raw = toRaw(last);
    if (opts.onColumnTypes !== undefined) opts.onColumnTypes(this.#types.columnTypes(last));
    if (!conn.settingsSet && statementChangesSettings(raw.command ?? "", sql)) conn.settingsSet = true;
    // postgres.js cannot drop a prepared statement: after a schema change this connection prepares nothing more
    // (statements re-parse unnamed) and is discarded on release.
    if (conn.prepared.size > 0 && opts.tempStage !== true && changesSchema(raw.command ?? undefined)) {
      conn.staleStatements = true;
    }
    return raw;
  }

  async #run(conn: PostgresJsConnection, q: PjsQuery, opts: QueryOptions): Promise<PjsResult> {
    if (opts.signal !== undefined || opts.timeoutMs !== undefined) return this.#cancellable(conn, q, opts);
    try {
      return await q;
    } catch (err) {
      throw statementError(conn, err, undefined);
    }
  }

  /**
   * Per-call timeout and AbortSignal. The CancelRequest goes out only while the server is still running this
   * statement (its ReadyForQuery not yet seen), never through postgres.js's own cancel, which can hit a finished
   * statement's successor or, fired before the query is dispatched, leave the connection marked busy for good. The
   * statement settles only once a cancel sent for it is resolved; one that cannot be resolved discards the connection.
   */
  async #cancellable(conn: PostgresJsConnection, q: PjsQuery, opts: QueryOptions): Promise<PjsResult> {
    const signal = opts.signal;
    if (signal?.aborted) {
      q.catch(() => {});
      throw cancelledBeforeSent(signal);
    }
    const state = { settled: false };
    const cancel = armCancel(conn, q, opts, state);
    try {
      return await q;
    } catch (err) {
      throw statementError(conn, err, cancel.kind);
    } finally {
      state.settled = true;
      if (!(await cancel.done())) conn.broken = true;
    }
  }

  /** All sets are written before any answer is read (postgres.js pipelining): one round trip's latency in total. */
  async queryMany(
    conn: PostgresJsConnection,
    sql: string,
    paramSets: unknown[][],
    opts: QueryOptions,
  ): Promise<RawResult> {
    checkUsable(conn, sql);
    if (opts.signal?.aborted) throw cancelledBeforeSent(opts.signal);
    const ready = conn.wire.readyCount;
    const pending = paramSets.map((p) => this.#start(conn, sql, p, opts.prepare !== false));
    const state = { settled: false };
    const first = pending[0];
    const cancel =
      first !== undefined && (opts.signal !== undefined || opts.timeoutMs !== undefined)
        ? new StatementCancel(opts, () => cancelRunning(conn.wire, first, state, ready, pending.length))
        : undefined;
    let results: PjsResult[];
    try {
      results = await Promise.all(pending);
    } catch (err) {
      for (const p of pending) p.catch(() => {});
      // The sets after a failed one still answer: wait for them before the connection is used again.
      await Promise.allSettled(pending);
      throw statementError(conn, err, cancel?.kind);
    } finally {
      state.settled = true;
      if (cancel !== undefined && !(await cancel.done())) conn.broken = true;
    }
    let total = 0;
    let rows: Row[] = [];
    let last: RawResult | undefined;
    // The sets share the statement's columns: a type first met here is looked up once, but every set's rows were read
    // without its parser, so each is read again (asked before the first lookup installs the parser on the columns).
    const late = results.map((r) => this.#types.lateColumns(withoutStaleSlots(r)));
    // Every set's rows (RETURNING), in set order, as the other adapters return them.
    for (let i = 0; i < results.length; i++) {
      const r = results[i] as PjsResult;
      total += rowsAffectedFor(r.command ?? undefined, r.count);
      const l = late[i];
      if (l !== undefined) await this.#types.finish(conn, r, l);
      last = toRaw(r);
      if (last.rows.length > 0) rows = rows.length === 0 ? last.rows : rows.concat(last.rows);
    }
    return { ...(last as RawResult), rows, rowsAffected: total };
  }

  /**
   * executeStack: every statement is written before any answer is read (postgres.js pipelining). Each carries its own
   * Sync, so the session runs the stack inside a transaction when it must be atomic. Values are encoded first: one
   * that cannot be encoded fails before anything is sent.
   */
  async queryStack(
    conn: PostgresJsConnection,
    statements: readonly StackStatement[],
    opts: QueryOptions,
  ): Promise<RawResult[]> {
    checkUsable(conn);
    const encoded = statements.map((s, i) => {
      try {
        return s.values.length > 0 ? this.#encode(s.values) : s.values;
      } catch (err) {
        throw new StackFailure(i, statementError(conn, err, undefined));
      }
    });
    const pending = statements.map((s, i) => this.#send(conn, s.sql, encoded[i] as unknown[], opts.prepare !== false));
    const settled = await Promise.allSettled(pending);
    for (let i = 0; i < settled.length; i++) {
      const r = settled[i] as PromiseSettledResult<PjsResult>;
      if (r.status === "rejected") throw new StackFailure(i, statementError(conn, r.reason, undefined));
    }
    const results = settled.map((r) => {
      const v = (r as PromiseFulfilledResult<PjsResult>).value;
      return withoutStaleSlots(v.command === undefined ? lastOf(v) : v);
    });
    // Asked of every result before any lookup installs a parser on columns the same statement's results share.
    const lates = results.map((res) => this.#types.lateColumns(res));
    const out: RawResult[] = [];
    for (let i = 0; i < results.length; i++) {
      const res = results[i] as PjsResult;
      const late = lates[i];
      if (late !== undefined) await this.#types.finish(conn, res, late);
      const raw = toRaw(res);
      if (!conn.settingsSet && statementChangesSettings(raw.command ?? "", (statements[i] as StackStatement).sql))
        conn.settingsSet = true;
      out.push(raw);
    }
    return out;
  }

  /**
   * postgres.js cursor (a portal read batchSize rows at a time); breaking out closes it. While it is open the
   * connection belongs to the portal, so other statements on the same session raise instead of waiting forever.
   */
  async *stream(
    conn: PostgresJsConnection,
    sql: string,
    params: unknown[],
    batchSize: number,
    opts: QueryOptions,
  ): AsyncIterable<Row[]> {
    checkUsable(conn, sql);
    const q = this.#start(conn, sql, params, false);
    const state = { settled: false };
    const cancel = armCancel(conn, q, opts, state);
    conn.openCursors++;
    let unknownTypes: number[] | undefined;
    try {
      for await (const batch of q.cursor(Math.max(1, Math.floor(batchSize)))) {
        if (cancel.kind !== undefined) throw stoppedError(cancel.kind);
        withoutStaleSlots(batch);
        unknownTypes ??= this.#types.forStream(conn, batch);
        if (opts.onColumnTypes !== undefined) opts.onColumnTypes(this.#types.columnTypes(batch));
        yield batch;
      }
    } catch (err) {
      throw statementError(conn, err, cancel.kind);
    } finally {
      conn.openCursors--;
      state.settled = true;
      if (!(await cancel.done())) conn.broken = true;
    }
    // A type first met inside a cursor cannot be looked up while the cursor holds the connection: it read as text
    // this once, and is looked up now for every later statement.
    if (unknownTypes !== undefined && unknownTypes.length > 0) {
      await this.#types.resolve(conn, unknownTypes).catch(() => {});
    }
  }
}

function stoppedError(kind: "timeout" | "cancel"): SQLSpecError {
  return kind === "cancel"
    ? new OperationCancelledError("PostgreSQL stream cancelled")
    : new QueryTimeoutError("PostgreSQL stream timed out");
}
