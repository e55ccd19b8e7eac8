/**
 * The better-sqlite3 adapter. better-sqlite3 is synchronous: a statement runs to completion on the calling thread,
 * so what sqlspec adds is who may run a statement when, decided before the statement starts:
 *
 * - `:memory:` is one handle shared by every session (`capabilities.sharedConnection`). Sessions interleave statement
 *   by statement; a session whose statement leaves a transaction open (or a stream) holds the lock until it ends, and
 *   the others wait for it up to `acquireTimeoutMs` (PoolTimeoutError). A session opened inside another session's
 *   callback shares that session's lock and transaction (its own `transaction()` nests as a savepoint).
 * - A file database pools handles (readers in parallel under WAL). Writers are serialized by one in-process write lock
 *   taken before a write statement or `BEGIN IMMEDIATE` (what a plain `BEGIN` runs as) and held until the transaction
 *   ends: SQLite's own busy wait would block the thread while the lock's holder, on the same thread, can never finish.
 * - Statements are prepared once per handle (an LRU of `statementCacheSize`), with their row plan (declared types →
 *   conversions) computed at prepare time, so a repeated statement allocates nothing but its rows.
 * - Handles run with SQLite's busy timeout at 0: a statement that finds the file locked by another connection (a
 *   second config on the same file, another process) gets SQLITE_BUSY at once and is retried here on timers, up to
 *   `busyTimeoutMs`. SQLite's own busy wait sleeps on the thread, where the lock's holder (often this same process)
 *   could never finish.
 * - A running statement cannot be interrupted from the same thread: `timeoutMs`/`signal` bound only the waits for a
 *   lock (the shared handle, this pool's write lock, a lock held elsewhere), and reject before the statement starts
 *   when already expired.
 * - A read-only transaction is `BEGIN DEFERRED` plus `PRAGMA query_only = ON`, turned off when it ends.
 *
 * Here: the adapter's leases (acquire, state, release) and the statement entry (per-lease order, failed transactions,
 * errors). Beside it: open.ts (opening a handle, pragmas), statements.ts (cache and run), locking.ts (the lock and
 * busy retry), stream.ts, errors.ts.
 */
import { DatabaseConnectionError, OperationCancelledError, type SQLSpecError } from "../../core/errors.js";
import { ParameterStyle, type Row } from "../../core/types.js";
import { onConflictBulkSql } from "../../dialects/on-conflict-bulk.js";
import type {
  AcquireOptions,
  Adapter,
  AdapterCapabilities,
  AtomicFailure,
  BulkCapabilities,
  ConnectionState,
  QueryOptions,
  RawResult,
} from "../../driver/adapter.js";
import { RELEASED } from "../../driver/adapter.js";
import { ConnectionPool } from "../../driver/pool.js";
import { sqliteIntrospector } from "./catalog.js";
import { encodeParams, encodeValue, type ReadOptions, refusedValue } from "./codecs.js";
import { type CachedStatement, SqliteConnection, type SqliteHandle } from "./connection.js";
import {
  closedError,
  failedTransactionError,
  isBusy,
  isFatalSqliteError,
  isReadonlyError,
  mapSqliteError,
  readOnlyTransactionError,
  releasedBeforeStartError,
  streamOpenError,
  timeoutError,
} from "./errors.js";
import { retryBusy, SqliteLock } from "./locking.js";
import {
  type DatabaseConstructor,
  endQueryOnly,
  isMemoryDatabase,
  openHandle,
  restorePragmas,
  type SqliteAdapterOptions,
} from "./open.js";
import {
  EMPTY_ROWS,
  NO_COLUMNS,
  runAtomically,
  runStatement,
  type StatementSettings,
  statementFor,
} from "./statements.js";
import { type StreamHost, streamRows } from "./stream.js";

/** SQLite's bound-parameter limit (SQLITE_MAX_VARIABLE_NUMBER since 3.32). */
export const SQLITE_MAX_PARAMETERS = 32_766;

const INTERRUPTED = Promise.resolve(true);
/** ATTACH or DETACH: the schema cookies the catalog reads change with the attached databases. */
const ATTACHES = /^\s*(?:ATTACH|DETACH)\b/i;

export class SqliteAdapter implements Adapter<SqliteConnection> {
  readonly dialect = "sqlite" as const;
  readonly parameterStyle = ParameterStyle.QMARK;
  readonly databaseLabel = "SQLite";
  readonly capabilities: AdapterCapabilities;
  readonly introspector = sqliteIntrospector;
  /**
   * Bulk paths (driver/native-bulk.ts): multi-row `INSERT … VALUES … ON CONFLICT` in chunks of 64 rows, one cached
   * statement per chunk size, inside one transaction. Measured here against one prepared single-row statement looped
   * in a transaction (1.2–1.5× slower) and one JSON parameter read by json_each (2×): see bench/sqlite.ts. Chunks of
   * 50–64 rows ran ~3% faster than 200-row ones at 1k, 10k and 100k rows (SQLite's program per statement grows with
   * its rows); below 50 the per-statement cost shows again.
   */
  readonly bulk: BulkCapabilities = {
    sql: onConflictBulkSql("sqlite"),
    maxParameters: SQLITE_MAX_PARAMETERS,
    maxPacketBytes: async () => Number.MAX_SAFE_INTEGER,
    jsonRows: false,
    largeBatch: { threshold: 0, source: "values" },
    valuesChunkRows: 64,
    checksConflictTarget: true,
    refusedValue,
    encodeValue: (v) => encodeValue(v, this.#o.features.jsonSerializer),
  };
  readonly #o: SqliteAdapterOptions;
  readonly #Database: DatabaseConstructor;
  readonly #read: ReadOptions;
  readonly #settings: StatementSettings;
  readonly #shared: boolean;
  /** `:memory:`: the one handle. */
  readonly #handle: SqliteHandle | undefined;
  readonly #pool: ConnectionPool<SqliteHandle> | undefined;
  /** The shared handle's lock (`:memory:`), or a file database's write lock. */
  readonly #lock: SqliteLock;
  readonly #streamHost: StreamHost;

  /** @internal Made by `SqliteConfig`. */
  constructor(Database: DatabaseConstructor, o: SqliteAdapterOptions) {
    this.#Database = Database;
    this.#o = o;
    const f = o.features;
    this.#read = { int8: f.int8, timestamps: f.timestamps, json: f.enableJsonCodecs ? f.jsonDeserializer : undefined };
    this.#shared = isMemoryDatabase(o.database);
    this.#settings = {
      shared: this.#shared,
      read: this.#read,
      cacheSize: o.statementCacheSize,
      serializer: f.jsonSerializer,
    };
    this.#lock = new SqliteLock(this.#shared, o.acquireTimeoutMs, o.busyTimeoutMs);
    this.#streamHost = {
      lock: this.#lock,
      shared: this.#shared,
      read: this.#read,
      serializer: f.jsonSerializer,
      runNow: (conn, sql, params, opts) => this.#query(conn, sql, params, opts),
    };
    this.capabilities = {
      cancel: false,
      copy: false,
      pipeline: "none",
      cursors: "native",
      savepoints: true,
      transactionalDdl: true,
      maxParameters: SQLITE_MAX_PARAMETERS,
      sharedConnection: this.#shared,
      bulkCopyThreshold: undefined,
    };
    if (this.#shared) {
      this.#handle = openHandle(this.#Database, o, true);
    } else {
      this.#pool = new ConnectionPool<SqliteHandle>({
        create: async () => openHandle(this.#Database, o, false),
        maxSize: o.maxSize,
        minSize: 0,
        acquireTimeoutMs: o.acquireTimeoutMs,
        idleTimeoutMs: o.idleTimeoutMs,
        maxLifetimeMs: undefined,
        label: "SQLite",
        aborted: (reason) =>
          new OperationCancelledError("SQLite pool: acquire aborted (AbortSignal)", { cause: reason }),
      });
    }
  }

  // ------------------------------------------------------------------------------------------------ connections

  async acquire(options?: AcquireOptions<SqliteConnection>): Promise<SqliteConnection> {
    if (options?.signal?.aborted) {
      throw new OperationCancelledError("SQLite acquire cancelled", { cause: options.signal.reason });
    }
    if (this.#handle !== undefined) {
      if (this.#handle.broken) throw closedError();
      const parent = options?.parent;
      const conn = new SqliteConnection(this.#handle, parent?.handle === this.#handle ? parent : undefined);
      // Waiting for the shared connection is waiting for the lock: the session's acquire options bound each wait.
      if (options?.signal !== undefined || options?.timeoutMs !== undefined) {
        conn.wait = { timeoutMs: options.timeoutMs, signal: options.signal };
      }
      return conn;
    }
    const pool = this.#pool as ConnectionPool<SqliteHandle>;
    return new SqliteConnection(await pool.acquire(options?.signal, options?.timeoutMs), undefined);
  }

  state(conn: SqliteConnection): ConnectionState {
    const inTx = conn.db.open && conn.db.inTransaction;
    let transaction: ConnectionState["transaction"] = "idle";
    if (conn.failed) transaction = "failed";
    else if (inTx && (!this.#shared || conn.owns())) transaction = "active";
    return {
      transaction,
      openCursors: conn.openStreams,
      preparedStatements: conn.handle.statements.size,
      settingsChanged: conn.handle.settingsChanged,
    };
  }

  /**
   * Rolls back what the lease left open and frees the lock. A lease that shares its parent's transaction leaves it
   * alone. A file handle whose settings changed (`resetOnRelease` "auto") or any file handle (`true`) is closed
   * rather than reset; the shared `:memory:` handle cannot be closed, so its pragmas are applied again. Never rejects.
   */
  release(conn: SqliteConnection, error?: unknown): Promise<void> {
    // Every step is synchronous (better-sqlite3): the session need not wait a turn for it.
    try {
      this.#release(conn, error);
    } catch (err) {
      return Promise.reject(err);
    }
    return RELEASED;
  }

  #release(conn: SqliteConnection, error: unknown): void {
    const h = conn.handle;
    const shared = this.#shared;
    const sharesParent = shared && !conn.holdsLock && conn.owns();
    try {
      if (!sharesParent && h.db.open) {
        if (h.db.inTransaction && (!shared || conn.holdsLock)) h.db.prepare("ROLLBACK").run();
        if (h.queryOnlyTx && !h.db.inTransaction) endQueryOnly(h);
        const mode = this.#o.resetOnRelease;
        if (shared && h.settingsChanged && mode !== false) restorePragmas(h, this.#o.pragmas);
      }
    } catch {
      if (!shared) h.broken = true;
    } finally {
      conn.failed = false;
      this.#lock.drop(conn);
    }
    if (this.#pool !== undefined) {
      const mode = this.#o.resetOnRelease;
      const discard =
        h.broken ||
        conn.openStreams > 0 ||
        // Released as broken (a drain that did not settle, a caller that saw it break): state unknown, never reused.
        error instanceof DatabaseConnectionError ||
        (error !== undefined && isFatalSqliteError((error as { cause?: unknown }).cause ?? error)) ||
        mode === true ||
        (mode === "auto" && h.settingsChanged);
      this.#pool.release(h, discard);
    }
  }

  async close(): Promise<void> {
    if (this.#pool !== undefined) await this.#pool.close();
    this.#handle?.destroy();
  }

  // ------------------------------------------------------------------------------------------------ statements

  /**
   * Runs a statement at once when it can (better-sqlite3 is synchronous). The statements of one lease run in the
   * order they were issued: while one waits (for the lock, or on a file another connection holds), the lease's later
   * statements queue behind it instead of overtaking it.
   */
  query(conn: SqliteConnection, sql: string, params: unknown[], opts: QueryOptions): Promise<RawResult> {
    if (conn.queue !== undefined) return this.#queued(conn, sql, params, opts);
    const p = this.#query(conn, sql, params, opts);
    if (conn.waiting) {
      conn.waiting = false;
      conn.queueBehind(p);
    }
    return p;
  }

  #queued(conn: SqliteConnection, sql: string, params: unknown[], opts: QueryOptions): Promise<RawResult> {
    const p = (conn.queue as Promise<void>).then(() => {
      if (conn.interrupted) throw releasedBeforeStartError();
      const q = this.#query(conn, sql, params, opts);
      conn.waiting = false;
      return q;
    });
    conn.queueBehind(p);
    return p;
  }

  /**
   * Ends the lease's statements that have not run (the session ended): queued ones, lock waits and retries on a file
   * locked elsewhere reject with OperationCancelledError and never run. A running statement cannot be interrupted (it
   * finishes on this thread).
   */
  interrupt(conn: SqliteConnection): Promise<boolean> {
    conn.interrupted = true;
    conn.ending?.abort();
    return INTERRUPTED;
  }

  /**
   * A bulk statement at once, when nothing could make it wait: the lease holds the write lock inside its open
   * transaction, nothing of it is queued, waiting or streaming, and its session has not ended. Statements with side
   * rules (transaction control, settings, query_only, reads) keep to query().
   */
  querySync(conn: SqliteConnection, sql: string, params: unknown[], opts: QueryOptions): RawResult | undefined {
    const h = conn.handle;
    if (
      !conn.holdsLock ||
      conn.queue !== undefined ||
      conn.waiting ||
      conn.interrupted ||
      conn.failed ||
      conn.streaming() ||
      h.broken ||
      (opts.timeoutMs !== undefined && opts.timeoutMs <= 0) ||
      !h.db.inTransaction
    ) {
      return undefined;
    }
    const e = h.statements.get(sql);
    if (e === undefined || e.reader || e.ends || e.settings || e.queryOnly || e.ddl) return undefined;
    e.used = ++h.tick;
    const values = params.length === 0 ? params : encodeParams(params, this.#o.features.jsonSerializer);
    try {
      return runStatement(h, e, values, this.#read);
    } catch (err) {
      // Inside the transaction with the write lock held, SQLITE_BUSY cannot occur: no retry to wait for.
      throw failed(conn, e, err, true);
    } finally {
      this.#lock.afterStatement(conn);
    }
  }

  /**
   * Bulk statements as one transaction at once (see Adapter.runAtomicSync): only a lease of its own (not one sharing
   * its parent's transaction) with nothing open, queued or waiting, and only when the lock is free now. A lock held by
   * another connection at BEGIN or COMMIT leaves nothing written; the bulk engine then takes the general path, which
   * waits for it.
   */
  runAtomicSync(
    conn: SqliteConnection,
    statements: Iterable<{ sql: string; values: unknown[] }>,
    current?: () => boolean,
  ): number | AtomicFailure | undefined {
    const h = conn.handle;
    if (
      conn.parent !== undefined ||
      conn.holdsLock ||
      conn.queue !== undefined ||
      conn.waiting ||
      conn.interrupted ||
      conn.failed ||
      conn.openStreams > 0 ||
      h.broken ||
      !h.db.open ||
      h.db.inTransaction ||
      !this.#lock.tryTake(conn)
    ) {
      return undefined;
    }
    try {
      return runAtomically(h, statements, this.#settings, current);
    } finally {
      this.#lock.afterStatement(conn);
    }
  }

  async #query(conn: SqliteConnection, sql: string, params: unknown[], opts: QueryOptions): Promise<RawResult> {
    const h = conn.handle;
    if (h.broken || !h.db.open) throw closedError();
    const e = statementFor(h, sql, this.#settings);
    let queryOnlyBefore: unknown;
    if (e.queryOnly) {
      queryOnlyBefore = h.queryOnlyBefore ?? h.db.pragma("query_only", { simple: true });
      h.queryOnlyBefore = undefined;
    }
    if (conn.failed) {
      if (!e.ends) throw failedTransactionError();
      // SQLite already rolled back: COMMIT/ROLLBACK only clear the state (the session reports the lost work).
      conn.failed = false;
      this.#lock.afterStatement(conn);
      return { rows: EMPTY_ROWS, columns: NO_COLUMNS, rowsAffected: 0, command: "ROLLBACK" };
    }
    // better-sqlite3 runs nothing but reads while an iterator is open (SAVEPOINT and BEGIN count as read-only to SQLite).
    if (conn.streaming() && !(e.reader && e.readonly)) throw streamOpenError();
    if (opts.timeoutMs !== undefined && opts.timeoutMs <= 0) throw timeoutError();
    if (!conn.holdsLock && (this.#shared || !e.readonly) && !conn.owns()) {
      // Taken without a turn when free: a turn would let the lease's statements issued after this one run first.
      if (!this.#lock.tryTake(conn)) {
        conn.waiting = true;
        await this.#lock.take(conn, opts);
      }
    }
    if (conn.interrupted) throw releasedBeforeStartError();
    const values = params.length === 0 ? params : encodeParams(params, this.#o.features.jsonSerializer);
    const wasInTx = h.db.inTransaction;
    // `query_only` for one read-only transaction is not a setting that outlives the session.
    let txScoped = false;
    if (queryOnlyBefore !== undefined) txScoped = wasInTx && !h.queryOnlyTx && queryOnlyBefore === 0;
    let out: RawResult;
    try {
      out = runStatement(h, e, values, this.#read);
      if (txScoped) h.queryOnlyTx = true;
    } catch (first) {
      let err = first;
      if (isBusy(err)) {
        conn.waiting = true;
        try {
          return await retryBusy(conn, e, values, this.#read, this.#o.busyTimeoutMs, opts, err);
        } catch (again) {
          err = again;
        }
      }
      throw failed(conn, e, err, wasInTx);
    } finally {
      if (e.settings && !txScoped) h.settingsChanged = true;
      if (e.settings && ATTACHES.test(sql)) h.attachmentsChanged();
      this.#lock.afterStatement(conn);
    }
    // Completed inside a transaction: settled a turn later, so a session whose callback returned without awaiting
    // it ends first and reports it cancelled (its release rolls the transaction back) instead of a success it undoes.
    if (h.db.inTransaction) await undefined;
    return out;
  }

  // ------------------------------------------------------------------------------------------------ streaming

  /**
   * Rows in batches from a statement iterator (stream.ts). While the iterator is open the lease holds the lock on a
   * shared handle; breaking out closes it.
   */
  stream(
    conn: SqliteConnection,
    sql: string,
    params: unknown[],
    batchSize: number,
    opts: QueryOptions,
  ): AsyncIterable<Row[]> {
    return streamRows(this.#streamHost, conn, sql, params, batchSize, opts);
  }

  mapError(err: unknown, _sql: string): SQLSpecError {
    return mapSqliteError(err);
  }
}

/**
 * A statement's error, after what it did to the connection: a refused COMMIT is rolled back (as on PostgreSQL a COMMIT
 * that fails ends the transaction), a statement whose error made SQLite roll the transaction back fails it, a fatal
 * error breaks the handle.
 */
function failed(conn: SqliteConnection, e: CachedStatement, first: unknown, wasInTx: boolean): unknown {
  const h = conn.handle;
  let err = first;
  if (h.queryOnlyTx && isReadonlyError(err)) err = readOnlyTransactionError(err);
  // A refused COMMIT (a deferred foreign key) leaves SQLite's transaction open; roll it back so later statements do
  // not run in (and vanish with) it.
  if (e.ends && h.db.inTransaction && !isFatalSqliteError(err)) {
    try {
      h.db.prepare("ROLLBACK").run();
    } catch {
      h.broken = true;
    }
  }
  // An error that made SQLite roll the transaction back (SQLITE_FULL, BUSY on COMMIT, …): fail it loudly.
  if (wasInTx && !h.db.inTransaction && !e.ends) conn.failed = true;
  if (isFatalSqliteError(err)) h.broken = true;
  return err;
}
