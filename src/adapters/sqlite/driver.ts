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
 */
import type BetterSqlite3 from "better-sqlite3";
import {
  DatabaseConnectionError,
  type DatabaseErrorFields,
  OperationCancelledError,
  PoolTimeoutError,
  QueryTimeoutError,
  SQLSpecError,
  TransactionError,
} from "../../core/errors.js";
import { ParameterStyle, type Row } from "../../core/types.js";
import { onConflictBulkSql } from "../../dialects/on-conflict-bulk.js";
import type {
  AcquireOptions,
  Adapter,
  AdapterCapabilities,
  BulkCapabilities,
  ConnectionState,
  QueryOptions,
  RawResult,
} from "../../driver/adapter.js";
import { RELEASED } from "../../driver/adapter.js";
import type { ResetOnRelease, ResolvedDriverFeatures } from "../../driver/config.js";
import { importDriver, rethrow } from "../../driver/dependencies.js";
import { AsyncLock } from "../../driver/lock.js";
import { ConnectionPool } from "../../driver/pool.js";
import { sqliteIntrospector } from "./catalog.js";
import {
  applyInt8,
  decodeRows,
  encodeParams,
  hasUnsafeNumber,
  type ReadOptions,
  type RowPlan,
  refusedValue,
  rowHasKeys,
  rowPlan,
} from "./codecs.js";
import { type CachedStatement, SqliteConnection, SqliteHandle } from "./connection.js";
import { isFatalSqliteError, mapSqliteError, SqliteBusyError } from "./errors.js";

type DatabaseConstructor = typeof BetterSqlite3;

/** The loaded driver: a dynamic import of a loaded module still costs a trip through the module loader per config. */
let loaded: DatabaseConstructor | undefined;

export async function loadBetterSqlite3(feature: string): Promise<DatabaseConstructor> {
  if (loaded !== undefined) return loaded;
  const mod = await importDriver(
    "better-sqlite3",
    feature,
    () => import("better-sqlite3").catch(rethrow) as Promise<{ default?: DatabaseConstructor }>,
  );
  loaded = (mod.default ?? mod) as DatabaseConstructor;
  return loaded;
}

/** SQLite's bound-parameter limit (SQLITE_MAX_VARIABLE_NUMBER since 3.32). */
export const SQLITE_MAX_PARAMETERS = 32_766;

export interface SqliteAdapterOptions {
  database: string;
  readonly: boolean;
  busyTimeoutMs: number;
  pragmas: Readonly<Record<string, string | number | boolean>>;
  acquireTimeoutMs: number | undefined;
  maxSize: number;
  idleTimeoutMs: number;
  statementCacheSize: number;
  resetOnRelease: ResetOnRelease;
  features: ResolvedDriverFeatures<BetterSqlite3.Database>;
}

const EMPTY_ROWS: Row[] = [];
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const EMPTY: string[] = [];
const PLAIN_BEGIN = /^\s*BEGIN(?:\s+TRANSACTION)?\s*;?\s*$/i;
const ENDS = /^\s*(?:COMMIT|END|ROLLBACK(?!\s+(?:TRANSACTION\s+)?TO\b))/i;
const INSERT = /^\s*(?:INSERT|REPLACE)\b/i;
const DDL = /^\s*(?:CREATE|ALTER|DROP)\b/i;
/** Statements that change no rows: sqlite3_changes() still holds the last INSERT/UPDATE/DELETE's count after them. */
const NOT_DML =
  /^\s*(?:CREATE|ALTER|DROP|PRAGMA|BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE|ATTACH|DETACH|VACUUM|ANALYZE|REINDEX)\b/i;
/** Per-connection pragmas read when a handle opens and restored on release after a session assigned pragmas. */
const SESSION_PRAGMAS = [
  "query_only",
  "foreign_keys",
  "defer_foreign_keys",
  "recursive_triggers",
  "busy_timeout",
  "case_sensitive_like",
  "ignore_check_constraints",
  "reverse_unordered_selects",
  "cell_size_check",
  "trusted_schema",
  "automatic_index",
] as const;
/**
 * Bumped by DDL run through any SQLite adapter of this process (another config on the same file included): cached row
 * plans of every handle are rebuilt on next use.
 */
const schemaEpoch = { value: 0 };
const SETTINGS = /^\s*(?:PRAGMA\s+[\w.]+\s*(?:=|\()|ATTACH\b|DETACH\b)/i;
const QUERY_ONLY_ON = /^\s*PRAGMA\s+query_only\s*=\s*(?:ON|1|TRUE|YES)\s*;?\s*$/i;
/** Waits between retries of a statement that found the file locked (SQLite's own busy handler's steps). */
const BUSY_STEPS_MS = [1, 2, 5, 10, 15, 20, 25];
const PRAGMA_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PRAGMA_VALUE = /^[A-Za-z0-9_.+-]+$/;

export function isMemoryDatabase(database: string): boolean {
  return database === ":memory:" || database === "" || /^file::memory:/.test(database);
}

export class SqliteAdapter implements Adapter<SqliteConnection> {
  readonly dialect = "sqlite" as const;
  readonly parameterStyle = ParameterStyle.QMARK;
  readonly databaseLabel = "SQLite";
  readonly capabilities: AdapterCapabilities;
  readonly introspector = sqliteIntrospector;
  /**
   * Bulk paths (driver/native-bulk.ts): multi-row `INSERT … VALUES … ON CONFLICT` in chunks of 200 rows, one cached
   * statement per chunk size, inside one transaction. Measured here against one prepared single-row statement looped
   * in a transaction (1.2–1.5× slower) and one JSON parameter read by json_each (2×): see bench/sqlite.ts.
   */
  readonly bulk: BulkCapabilities = {
    sql: onConflictBulkSql("sqlite"),
    maxParameters: SQLITE_MAX_PARAMETERS,
    maxPacketBytes: async () => Number.MAX_SAFE_INTEGER,
    jsonRows: false,
    largeBatch: { threshold: 0, source: "values" },
    valuesChunkRows: 200,
    checksConflictTarget: true,
    refusedValue,
  };
  readonly #o: SqliteAdapterOptions;
  readonly #Database: DatabaseConstructor;
  readonly #read: ReadOptions;
  readonly #shared: boolean;
  /** `:memory:`: the one handle. */
  readonly #handle: SqliteHandle | undefined;
  readonly #pool: ConnectionPool<SqliteHandle> | undefined;
  /** The shared handle's lock (`:memory:`), or a file database's write lock. */
  readonly #lock = new AsyncLock();

  /** @internal Made by `SqliteConfig`. */
  constructor(Database: DatabaseConstructor, o: SqliteAdapterOptions) {
    this.#Database = Database;
    this.#o = o;
    const f = o.features;
    this.#read = { int8: f.int8, timestamps: f.timestamps, json: f.enableJsonCodecs ? f.jsonDeserializer : undefined };
    this.#shared = isMemoryDatabase(o.database);
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
      this.#handle = this.#open();
    } else {
      this.#pool = new ConnectionPool<SqliteHandle>({
        create: async () => this.#open(),
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

  /** Opens and sets up a handle: busy timeout, foreign keys, WAL for files, the configured pragmas, the user's hook. */
  #open(): SqliteHandle {
    const o = this.#o;
    let db: BetterSqlite3.Database;
    try {
      // Setup may wait on the thread (switching to WAL needs the file for a moment); statements never do (below).
      db = new this.#Database(o.database, { readonly: o.readonly, timeout: o.busyTimeoutMs });
    } catch (err) {
      throw new DatabaseConnectionError(`SQLite connection error: cannot open the database`, { cause: err });
    }
    try {
      db.pragma("foreign_keys = ON");
      if (!this.#shared && !o.readonly) db.pragma("journal_mode = WAL");
      for (const [name, value] of Object.entries(o.pragmas)) db.pragma(pragmaText(name, value));
      const hook = o.features.onConnectionCreate;
      if (hook) {
        const r = hook(db);
        if (r && typeof (r as Promise<void>).then === "function") {
          throw new SQLSpecError("SQLite: onConnectionCreate must be synchronous (better-sqlite3 is)");
        }
      }
      // SQLITE_BUSY at once, retried by query() on timers: see the module comment.
      if (!this.#shared) db.pragma("busy_timeout = 0");
    } catch (err) {
      db.close();
      throw err instanceof SQLSpecError ? err : mapSqliteError(err);
    }
    const h = new SqliteHandle(db);
    // The shared handle cannot be closed on release: what a session assigned is put back to these values.
    if (this.#shared) h.pragmasAtOpen = readPragmas(db);
    return h;
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
        if (shared && h.settingsChanged && mode !== false) {
          for (const [name, value] of Object.entries(h.pragmasAtOpen ?? {})) h.db.pragma(pragmaText(name, value));
          for (const [name, value] of Object.entries(this.#o.pragmas)) h.db.pragma(pragmaText(name, value));
          h.settingsChanged = false;
        }
      }
    } catch {
      if (!shared) h.broken = true;
    } finally {
      conn.failed = false;
      if (conn.holdsLock) {
        conn.holdsLock = false;
        this.#lock.release();
      }
    }
    if (this.#pool !== undefined) {
      const mode = this.#o.resetOnRelease;
      const discard =
        h.broken ||
        conn.openStreams > 0 ||
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

  #prepare(h: SqliteHandle, sql: string): CachedStatement {
    let text = sql;
    // Two writers that both BEGIN DEFERRED deadlock on the upgrade to a write lock: a plain BEGIN takes it up front.
    if (!this.#shared && PLAIN_BEGIN.test(sql)) text = "BEGIN IMMEDIATE";
    const queryOnly = QUERY_ONLY_ON.test(sql);
    // SQLite applies a flag pragma while compiling it: read the value it replaces first.
    if (queryOnly) h.queryOnlyBefore = h.db.pragma("query_only", { simple: true }) as number;
    const stmt = h.db.prepare(text);
    const reader = stmt.reader;
    // Making the connection read-only writes nothing: it takes no write lock.
    const readonly = stmt.readonly || queryOnly;
    // INTEGERs are read as bigint where a rounded number could not be told from an exact one afterwards: in the
    // non-number modes, for writes (lastInsertRowid, RETURNING), which cannot be re-run.
    const safe = this.#read.int8 !== "number" || !readonly;
    if (safe) stmt.safeIntegers(true);
    const entry: CachedStatement = {
      stmt,
      reader,
      readonly,
      insert: INSERT.test(sql),
      ddl: !reader && DDL.test(sql),
      notDml: NOT_DML.test(sql),
      ends: ENDS.test(sql),
      settings: SETTINGS.test(sql),
      queryOnly,
      plan: reader ? rowPlan(stmt.columns(), this.#read) : undefined,
      epoch: schemaEpoch.value,
      schema: reader ? h.schemaVersion() : 0,
      safe,
      used: ++h.tick,
    };
    const max = this.#o.statementCacheSize;
    if (max > 0) {
      if (h.statements.size >= max) evictOldest(h.statements);
      h.statements.set(sql, entry);
    }
    return entry;
  }

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
   * Ends the lease's statements that have not run (the session ended): queued ones and lock waits reject with
   * OperationCancelledError and never run. A running statement cannot be interrupted (it finishes on this thread).
   */
  interrupt(conn: SqliteConnection): Promise<boolean> {
    conn.interrupted = true;
    conn.ending?.abort();
    return INTERRUPTED;
  }

  async #query(conn: SqliteConnection, sql: string, params: unknown[], opts: QueryOptions): Promise<RawResult> {
    const h = conn.handle;
    if (h.broken || !h.db.open) throw closedError();
    let e = h.statements.get(sql);
    if (e === undefined) e = this.#prepare(h, sql);
    else e.used = ++h.tick;
    let queryOnlyBefore: unknown;
    if (e.queryOnly) {
      queryOnlyBefore = h.queryOnlyBefore ?? h.db.pragma("query_only", { simple: true });
      h.queryOnlyBefore = undefined;
    }
    if (conn.failed) {
      if (!e.ends) throw failedTransactionError();
      // SQLite already rolled back: COMMIT/ROLLBACK only clear the state (the session reports the lost work).
      conn.failed = false;
      this.#afterStatement(conn);
      return { rows: EMPTY_ROWS, columns: EMPTY, rowsAffected: 0, command: "ROLLBACK" };
    }
    if (conn.openStreams > 0 && !e.readonly) throw streamOpenError();
    if (opts.timeoutMs !== undefined && opts.timeoutMs <= 0) throw timeoutError();
    if (!conn.holdsLock && (this.#shared || !e.readonly) && !conn.owns()) {
      // Taken without a turn when free: a turn would let the lease's statements issued after this one run first.
      if (this.#lock.tryAcquire()) conn.holdsLock = true;
      else {
        conn.waiting = true;
        await this.#takeLock(conn, opts);
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
      out = e.reader ? this.#rows(h, e, values) : this.#run(e, values);
      if (txScoped) h.queryOnlyTx = true;
    } catch (first) {
      let err = first;
      if (isBusy(err)) {
        conn.waiting = true;
        try {
          return await this.#retryBusy(h, e, values, opts, err);
        } catch (again) {
          err = again;
        }
      }
      if (h.queryOnlyTx && isReadonlyError(err)) err = readOnlyTransactionError(err);
      // A refused COMMIT (a deferred foreign key) leaves SQLite's transaction open; as on PostgreSQL, a COMMIT that
      // fails ends the transaction: roll it back so later statements do not run in (and vanish with) it.
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
      throw err;
    } finally {
      if (e.settings && !txScoped) h.settingsChanged = true;
      this.#afterStatement(conn);
    }
    // Completed inside a transaction: settled a turn later, so a session whose callback returned without awaiting
    // it ends first and reports it cancelled (its release rolls the transaction back) instead of a success it undoes.
    if (h.db.inTransaction) await undefined;
    return out;
  }

  /**
   * Runs a statement again after SQLITE_BUSY (another connection holds the file's lock; the failed attempt changed
   * nothing), on timers so the holder can finish, until `busyTimeoutMs` or the call's `timeoutMs`/`signal`.
   */
  async #retryBusy(
    h: SqliteHandle,
    e: CachedStatement,
    values: unknown[],
    opts: QueryOptions,
    first: unknown,
  ): Promise<RawResult> {
    const own = this.#o.busyTimeoutMs;
    const callBound = opts.timeoutMs !== undefined && opts.timeoutMs < own;
    const budget = callBound ? (opts.timeoutMs as number) : own;
    const deadline = performance.now() + budget;
    let err = first;
    for (let i = 0; ; i++) {
      const left = deadline - performance.now();
      if (left <= 0) {
        throw callBound
          ? new QueryTimeoutError(
              `SQLite query timeout: the database file stayed locked by another connection for ${budget} ms ` +
                "(timeoutMs); the statement did not run",
              { cause: err },
            )
          : busyTimeoutError(budget, { cause: err });
      }
      await pause(Math.min(BUSY_STEPS_MS[i] ?? 25, left), opts.signal);
      if (h.broken || !h.db.open) throw closedError();
      try {
        return e.reader ? this.#rows(h, e, values) : this.#run(e, values);
      } catch (again) {
        if (!isBusy(again)) throw again;
        err = again;
      }
    }
  }

  #run(e: CachedStatement, values: unknown[]): RawResult {
    const info = e.stmt.run(values);
    if (e.ddl) schemaEpoch.value++;
    const out: RawResult = { rows: EMPTY_ROWS, columns: EMPTY, rowsAffected: e.notDml ? 0 : info.changes };
    if (e.insert && info.changes > 0) out.lastInsertId = this.#rowid(info.lastInsertRowid);
    return out;
  }

  #rows(h: SqliteHandle, e: CachedStatement, values: unknown[]): RawResult {
    const o = this.#read;
    let rows = e.stmt.all(values) as Row[];
    // After DDL the statement was re-prepared by SQLite while running: its columns are known only now. DDL through
    // any adapter of this process moves the epoch; another connection's shows in the rows' shape (new names), or in
    // the schema cookie (same names, other declared types; read at most once a millisecond, every time for an empty
    // result, which has no shape to show).
    let plan = e.plan as RowPlan;
    if (
      e.epoch !== schemaEpoch.value ||
      (rows.length > 0
        ? !rowHasKeys(rows[0] as Row, plan.keys) || h.recentSchemaVersion() !== e.schema
        : h.schemaVersion() !== e.schema)
    ) {
      plan = this.#replan(h, e);
    }
    if (e.safe) {
      if (o.int8 !== "bigint") applyInt8(rows, plan.ints, o.int8);
    } else if (hasUnsafeNumber(rows, plan.ints)) {
      // A value beyond ±2^53 in an integer-capable column: an INTEGER (DataError) or a REAL that large? Read the
      // rows again with safe integers to tell (this statement is read-only, so running it again changes nothing).
      e.stmt.safeIntegers(true);
      try {
        rows = e.stmt.all(values) as Row[];
      } finally {
        e.stmt.safeIntegers(false);
      }
      applyInt8(rows, plan.ints, o.int8);
    }
    decodeRows(rows, plan, o);
    // DML with RETURNING reports the rows it changed, as on every adapter.
    if (!e.readonly) return { rows, columns: plan.names, rowsAffected: e.notDml ? 0 : h.changes() };
    return { rows, columns: plan.names, rowsAffected: 0, command: "SELECT" };
  }

  #replan(h: SqliteHandle, e: CachedStatement): RowPlan {
    e.plan = rowPlan(e.stmt.columns(), this.#read);
    e.epoch = schemaEpoch.value;
    e.schema = h.schemaVersion();
    return e.plan;
  }

  /** lastInsertRowid in the int8 mode; in "number" mode a rowid beyond 2^53 stays a bigint rather than rounding. */
  #rowid(id: number | bigint): number | bigint | string {
    const mode = this.#read.int8;
    if (mode === "string") return String(id);
    if (mode === "bigint") return BigInt(id);
    if (typeof id === "bigint") return id <= MAX_SAFE && id >= -MAX_SAFE ? Number(id) : id;
    return id;
  }

  /** Waits for the lock (shared handle, or the write lock), bounded by the call's timeout/signal and the pool's. */
  async #takeLock(conn: SqliteConnection, opts: QueryOptions): Promise<void> {
    const lock = this.#lock;
    if (opts.timeoutMs !== undefined && opts.timeoutMs <= 0) throw timeoutError();
    if (!lock.tryAcquire()) {
      const acquire = conn.wait;
      const own = this.#shared ? (acquire?.timeoutMs ?? this.#o.acquireTimeoutMs) : this.#o.busyTimeoutMs;
      const callBound = opts.timeoutMs !== undefined && (own === undefined || opts.timeoutMs < own);
      const wait = callBound ? opts.timeoutMs : own;
      // The session's end (interrupt) abandons the wait: the statement never runs.
      conn.ending ??= new AbortController();
      const signals = [opts.signal, acquire?.signal, conn.ending.signal].filter(
        (x): x is AbortSignal => x !== undefined,
      );
      await lock.acquire(
        wait,
        () =>
          callBound
            ? timeoutError()
            : this.#shared
              ? sharedTimeoutError(wait as number)
              : writeBusyError(wait as number),
        signals.length > 1 ? AbortSignal.any(signals) : signals[0],
        (reason) =>
          new OperationCancelledError("SQLite: cancelled while waiting for the database lock", { cause: reason }),
      );
    }
    conn.holdsLock = true;
  }

  /** Frees the lock once nothing holds it any more: no transaction open and no stream reading. */
  #afterStatement(conn: SqliteConnection): void {
    const h = conn.handle;
    if (h.queryOnlyTx && !h.db.inTransaction) endQueryOnly(h);
    if (conn.holdsLock && conn.openStreams === 0 && !conn.failed && !conn.db.inTransaction) {
      conn.holdsLock = false;
      this.#lock.release();
    }
  }

  // ------------------------------------------------------------------------------------------------ streaming

  /**
   * Rows in batches from a statement iterator, read with safe integers (no second pass is possible). While the
   * iterator is open the lease holds the lock on a shared handle; breaking out closes it.
   */
  async *stream(
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
      const r = await this.query(conn, sql, params, opts);
      if (r.rows.length > 0) yield r.rows;
      return;
    }
    if (!conn.holdsLock && (this.#shared || !stmt.readonly) && !conn.owns()) await this.#takeLock(conn, opts);
    const o = this.#read;
    const plan = rowPlan(stmt.columns(), o);
    stmt.safeIntegers(true);
    const values = params.length === 0 ? params : encodeParams(params, this.#o.features.jsonSerializer);
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
      this.#afterStatement(conn);
    }
  }

  mapError(err: unknown, _sql: string): SQLSpecError {
    return mapSqliteError(err);
  }
}

const INTERRUPTED = Promise.resolve(true);

function releasedBeforeStartError(): OperationCancelledError {
  return new OperationCancelledError("SQLite: the session ended before this statement started; it did not run");
}

function evictOldest(map: Map<string, CachedStatement>): void {
  let oldest: string | undefined;
  let min = Number.POSITIVE_INFINITY;
  for (const [k, v] of map) {
    if (v.used < min) {
      min = v.used;
      oldest = k;
    }
  }
  if (oldest !== undefined) map.delete(oldest);
}

/** The values of SESSION_PRAGMAS on a handle. */
function readPragmas(db: BetterSqlite3.Database): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of SESSION_PRAGMAS) {
    const v = db.pragma(name, { simple: true });
    if (typeof v === "number" || typeof v === "bigint") out[name] = Number(v);
  }
  return out;
}

/** `name = value` for db.pragma(); names and values are checked (configuration, but never pasted unchecked). */
function pragmaText(name: string, value: string | number | boolean): string {
  if (!PRAGMA_NAME.test(name)) throw new SQLSpecError(`SQLite: invalid pragma name ${JSON.stringify(name)}`);
  const v = typeof value === "boolean" ? (value ? "ON" : "OFF") : String(value);
  if (!PRAGMA_VALUE.test(v)) throw new SQLSpecError(`SQLite: invalid value for pragma ${name}`);
  return `${name} = ${v}`;
}

/** Turns off the `query_only` a read-only transaction turned on, once it has ended (by any path). */
function endQueryOnly(h: SqliteHandle): void {
  h.queryOnlyTx = false;
  try {
    h.db.pragma("query_only = OFF");
  } catch {
    // A handle that cannot run a pragma cannot be trusted with the next session either.
    h.broken = true;
  }
}

/** SQLITE_BUSY from a lock held by another connection; not BUSY_SNAPSHOT, which no wait can resolve. */
function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === "SQLITE_BUSY" || code === "SQLITE_BUSY_RECOVERY";
}

function isReadonlyError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" && code.startsWith("SQLITE_READONLY");
}

/** As PostgreSQL's 25006 (read_only_sql_transaction) maps. */
function readOnlyTransactionError(cause: unknown): TransactionError {
  return new TransactionError("SQLite: cannot write in a read-only transaction", { cause });
}

/** Resolves after ms, or rejects with OperationCancelledError when the signal fires first. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) {
    return Promise.reject(
      new OperationCancelledError("SQLite: cancelled while waiting for the database lock", { cause: signal.reason }),
    );
  }
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(
        new OperationCancelledError("SQLite: cancelled while waiting for the database lock", { cause: signal?.reason }),
      );
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function busyTimeoutError(ms: number, fields: DatabaseErrorFields): SqliteBusyError {
  return new SqliteBusyError(
    `SQLite database is busy [SQLITE_BUSY]: another connection held the database file's lock for more than ${ms} ms ` +
      "(busyTimeoutMs)",
    "SQLITE_BUSY",
    fields,
  );
}

function timeoutError(): QueryTimeoutError {
  return new QueryTimeoutError("SQLite query timeout: timeoutMs expired before the statement could start");
}

function sharedTimeoutError(ms: number): PoolTimeoutError {
  return new PoolTimeoutError(
    `Waited ${ms} ms for SQLite's shared :memory: connection: another session holds an open transaction or stream. ` +
      "Commit or roll it back, or run the nested work through the outer session.",
  );
}

function writeBusyError(ms: number): SqliteBusyError {
  return new SqliteBusyError(
    `SQLite database is busy [SQLITE_BUSY]: another session of this pool held the write lock for more than ${ms} ms ` +
      "(busyTimeoutMs)",
    "SQLITE_BUSY",
  );
}

function closedError(): DatabaseConnectionError {
  return new DatabaseConnectionError("SQLite connection error: the database handle is closed; open a new session");
}

function failedTransactionError(): TransactionError {
  return new TransactionError(
    "SQLite rolled the transaction back after an error in it; ROLLBACK (or leave transaction()) before running more " +
      "statements",
  );
}

function streamOpenError(): SQLSpecError {
  return new SQLSpecError(
    "SQLite: a stream() is still open on this session's connection; finish or break out of it before writing " +
      "(or use a second session)",
  );
}
