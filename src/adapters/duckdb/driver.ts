/**
 * The @duckdb/node-api adapter: one DuckDB instance per database file in the process, a pooled connection per session.
 *
 * - Every statement is prepared (so a stacked `SELECT 1; DROP …` is refused) and cached per connection in an LRU of
 *   `statementCacheSize`; values are bound, never pasted.
 * - DuckDB aborts the whole transaction on any error inside it: the connection reports "failed" until ROLLBACK, and a
 *   COMMIT of a failed transaction rolls back and is reported as such. Whether a transaction is open is tracked from
 *   the transaction statements that succeeded (the driver exposes no flag), and asked of DuckDB after an error inside
 *   one (a COMMIT that fails has ended it).
 * - `timeoutMs` / `signal` call `connection.interrupt()`, which stops the running statement; the connection stays
 *   usable.
 * - DuckDB has no SAVEPOINT: `capabilities.savepoints` is false, so a nested `transaction()` raises instead of
 *   flattening into the outer one.
 */
import type * as DuckDB from "@duckdb/node-api";
import { transactionControlOf } from "../../core/compiler.js";
import {
  DatabaseConnectionError,
  DataError,
  OperationCancelledError,
  QueryTimeoutError,
  SQLSpecError,
} from "../../core/errors.js";
import { parseName } from "../../core/identifiers.js";
import { ParameterStyle, type Row } from "../../core/types.js";
import { loneSurrogateReason } from "../../core/values.js";
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
import type { ResolvedDriverFeatures } from "../../driver/config.js";
import { importDriver, rethrow } from "../../driver/dependencies.js";
import { evictLeastRecentlyUsed } from "../../driver/lru.js";
import { ConnectionPool, type PoolResource } from "../../driver/pool.js";
import { appendRows, columnAppenders } from "./appender.js";
import { duckdbIntrospector } from "./catalog.js";
import { type DuckdbModule, encodeParams, jsonColumns, parseJsonColumns, resultConverter } from "./codecs.js";
import { isFatalDuckdbError, mapDuckdbError, rowSourceError } from "./errors.js";
import { duckdbResultColumnTypes } from "./result-types.js";

export async function loadDuckdb(feature: string): Promise<DuckdbModule> {
  const mod = await importDriver(
    "@duckdb/node-api",
    feature,
    () => import("@duckdb/node-api").catch(rethrow) as Promise<DuckdbModule & { default?: DuckdbModule }>,
  );
  return (mod.default?.DuckDBInstance ? mod.default : mod) as DuckdbModule;
}

export interface DuckdbAdapterOptions {
  database: string;
  config: Record<string, string>;
  maxSize: number;
  acquireTimeoutMs: number | undefined;
  idleTimeoutMs: number;
  statementCacheSize: number;
  features: ResolvedDriverFeatures<DuckDB.DuckDBConnection>;
}

const EMPTY: string[] = [];
const EMPTY_ROWS: Row[] = [];
const BEGINS = new Set(["BEGIN", "START"]);
const ENDS = new Set(["COMMIT", "END", "ROLLBACK", "ABORT"]);

/**
 * A transaction statement's first keyword (`BEGIN`, `COMMIT`, …), read past comments by the shared lexer-based
 * classifier (`/* x *\/ BEGIN` opens a transaction too); "" for any other statement.
 */
function leadingWord(sql: string): string {
  const control = transactionControlOf(sql, "duckdb");
  return control === undefined ? "" : (control.split(" ", 1)[0] as string);
}

interface Cached {
  readonly stmt: DuckDB.DuckDBPreparedStatement;
  used: number;
}

/** Settings epochs handed out in this process (DuckdbConnection.settingsEpoch). */
let settingsEpochs = 0;

/** A pooled DuckDB connection and what sqlspec tracks for it. */
export class DuckdbConnection implements PoolResource {
  /** @internal Set when the connection failed: it is discarded on release. */
  broken = false;
  /** @internal When the connection was opened (ms since the epoch). */
  readonly createdAt = Date.now();
  /** @internal A transaction is open (BEGIN succeeded, no COMMIT/ROLLBACK since). */
  inTransaction = false;
  /** @internal A statement failed inside the transaction: DuckDB aborted it; only ROLLBACK/COMMIT are accepted. */
  failed = false;
  /** @internal Result streams open on the connection. */
  openStreams = 0;
  /** @internal A `SET`/`PRAGMA`/`ATTACH` ran: the connection is closed rather than reused. */
  settingsChanged = false;
  /**
   * @internal Which settings this connection reads the catalog under: 0 as opened, a new number after each
   * `SET`/`PRAGMA`/`ATTACH` (SET default_collation changes how its keys compare). The catalog cache follows it.
   */
  settingsEpoch = 0;
  /** @internal Prepared statements by SQL text. */
  readonly statements = new Map<string, Cached>();
  /** @internal Pool bookkeeping. */
  tick = 0;

  /** @internal Made by the adapter's pool. */
  constructor(
    /** The @duckdb/node-api connection; use it for anything sqlspec does not wrap. */
    readonly connection: DuckDB.DuckDBConnection,
  ) {}

  /** @internal Closes the connection; the pool calls it. */
  destroy(): void {
    this.broken = true;
    for (const c of this.statements.values()) c.stmt.destroySync();
    this.statements.clear();
    this.connection.closeSync();
  }
}

/** The DuckDB adapter, made by `DuckdbConfig`: a DuckDB instance (shared by the configs on its file), a pool of its connections. */
export class DuckdbAdapter implements Adapter<DuckdbConnection> {
  readonly dialect = "duckdb" as const;
  readonly parameterStyle = ParameterStyle.QMARK;
  readonly databaseLabel = "DuckDB";
  /** MERGE needs DuckDB ≥ 1.4: builders render with the version in hand. */
  readonly renderNeedsServer = true;
  readonly capabilities: AdapterCapabilities = {
    cancel: true,
    // The Appender, through `copyIn` (bulk upsert stages and loadRecords).
    copy: true,
    pipeline: "none",
    cursors: "native",
    savepoints: false,
    transactionalDdl: true,
    maxParameters: 65_535,
    sharedConnection: false,
    bulkCopyThreshold: undefined,
    resultColumnTypes: true,
  };
  readonly introspector = duckdbIntrospector;
  /**
   * Bulk paths (driver/native-bulk.ts): multi-row VALUES under a few rows, the Appender into a temporary stage and one
   * INSERT … SELECT … ON CONFLICT above. Multi-row VALUES is slow on DuckDB (a 1,000-row statement binds 5,000
   * parameters one by one): ~14 s for 10k rows against ~0.9 s through the Appender, measured here.
   */
  readonly bulk: BulkCapabilities = {
    sql: onConflictBulkSql("duckdb"),
    maxParameters: 65_535,
    maxPacketBytes: async () => Number.MAX_SAFE_INTEGER,
    jsonRows: false,
    largeBatch: { threshold: 0, source: "copy" },
    valuesChunkRows: 1000,
    loaderIntoTarget: true,
    // DuckDB stores NaN; a lone surrogate would become U+FFFD.
    refusedValue: (v) => (typeof v === "string" ? loneSurrogateReason(v) : undefined),
  };
  /** The DuckDB instance every connection of the config belongs to (the same one for every config on its file). */
  readonly instance: DuckDB.DuckDBInstance;
  readonly #duck: DuckdbModule;
  readonly #o: DuckdbAdapterOptions;
  readonly #pool: ConnectionPool<DuckdbConnection>;
  readonly #convert: DuckDB.DuckDBValueConverter<unknown>;

  /** @internal Made by `DuckdbConfig`. */
  constructor(duck: DuckdbModule, instance: DuckDB.DuckDBInstance, o: DuckdbAdapterOptions) {
    this.#duck = duck;
    this.instance = instance;
    this.#o = o;
    const f = o.features;
    this.#convert = resultConverter(duck, {
      int8: f.int8,
      timestamps: f.timestamps,
      json: f.enableJsonCodecs ? f.jsonDeserializer : undefined,
    });
    this.#pool = new ConnectionPool<DuckdbConnection>({
      create: () => this.#connect(),
      maxSize: o.maxSize,
      minSize: 0,
      acquireTimeoutMs: o.acquireTimeoutMs,
      idleTimeoutMs: o.idleTimeoutMs,
      maxLifetimeMs: undefined,
      label: "DuckDB",
      aborted: (reason) => new OperationCancelledError("DuckDB pool: acquire aborted (AbortSignal)", { cause: reason }),
    });
  }

  get #hasTimeZone(): boolean {
    return Object.keys(this.#o.config).some((k) => k.toLowerCase() === "timezone");
  }

  async #connect(): Promise<DuckdbConnection> {
    let connection: DuckDB.DuckDBConnection;
    try {
      connection = await this.instance.connect();
    } catch (err) {
      throw new DatabaseConnectionError("DuckDB connection error: cannot connect", { cause: err });
    }
    const conn = new DuckdbConnection(connection);
    try {
      // TIMESTAMPTZ ↔ TIMESTAMP/DATE casts follow the connection's TimeZone, which starts as the process's: a bound Date
      // (TIMESTAMPTZ) would land in a TIMESTAMP or DATE column in local time. UTC, as on every adapter, unless the
      // instance config names a zone.
      if (!this.#hasTimeZone) await connection.run("SET TimeZone = 'UTC'");
      const hook = this.#o.features.onConnectionCreate;
      if (hook) await hook(connection);
    } catch (err) {
      conn.destroy();
      throw mapDuckdbError(err);
    }
    return conn;
  }

  acquire(options?: AcquireOptions<DuckdbConnection>): Promise<DuckdbConnection> {
    return this.#pool.acquire(options?.signal, options?.timeoutMs);
  }

  state(conn: DuckdbConnection): ConnectionState {
    return {
      transaction: conn.failed ? "failed" : conn.inTransaction ? "active" : "idle",
      openCursors: conn.openStreams,
      preparedStatements: conn.statements.size,
      settingsChanged: conn.settingsChanged,
    };
  }

  /** Rolls back an open or failed transaction; a connection whose settings changed, or that broke, is closed. */
  release(conn: DuckdbConnection, error?: unknown): Promise<void> {
    // Released as broken (a drain that did not settle, a caller that saw it break): state unknown, never reused.
    const discard =
      conn.broken ||
      conn.openStreams > 0 ||
      error instanceof DatabaseConnectionError ||
      (error !== undefined && isFatalDuckdbError(error));
    if (!discard && (conn.inTransaction || conn.failed)) return this.#rollBackAndRelease(conn);
    // Nothing to roll back: back in the pool (or closed) at once.
    // SET / PRAGMA / ATTACH outlive the session: such a connection is closed rather than reset.
    this.#pool.release(conn, discard || conn.settingsChanged);
    return RELEASED;
  }

  async #rollBackAndRelease(conn: DuckdbConnection): Promise<void> {
    let discard = false;
    try {
      await conn.connection.run("ROLLBACK");
      conn.inTransaction = false;
      conn.failed = false;
    } catch {
      discard = true;
    }
    // SET / PRAGMA / ATTACH outlive the session: such a connection is closed rather than reset.
    if (conn.settingsChanged) discard = true;
    this.#pool.release(conn, discard);
  }

  async close(): Promise<void> {
    await this.#pool.close();
    // Drops this config's hold on a shared instance; DuckDB closes the file when the last holder lets go.
    this.instance.closeSync();
  }

  // ------------------------------------------------------------------------------------------------ statements

  /**
   * The statement, and whether it is cached. Only statements with parameters are: DuckDB plans those again at each
   * execution, but keeps the first plan of one without parameters, made with the table statistics of that moment
   * (a filter the statistics ruled out stays pruned, sorted strings stay compressed for the old lengths: wrong rows).
   */
  async #prepared(conn: DuckdbConnection, sql: string): Promise<[DuckDB.DuckDBPreparedStatement, boolean]> {
    const hit = conn.statements.get(sql);
    if (hit !== undefined) {
      hit.used = ++conn.tick;
      return [hit.stmt, true];
    }
    const stmt = await conn.connection.prepare(sql);
    const max = this.#o.statementCacheSize;
    if (max === 0 || stmt.parameterCount === 0) return [stmt, false];
    if (conn.statements.size >= max) evictLeastRecentlyUsed(conn.statements)?.stmt.destroySync();
    conn.statements.set(sql, { stmt, used: ++conn.tick });
    return [stmt, true];
  }

  checkParams(params: unknown[]): void {
    encodeParams(this.#duck, params, this.#o.features.jsonSerializer);
  }

  async query(conn: DuckdbConnection, sql: string, params: unknown[], opts: QueryOptions): Promise<RawResult> {
    if (conn.broken) throw brokenError();
    if (conn.openStreams > 0) throw streamOpenError();
    if (conn.failed && ENDS.has(leadingWord(sql))) {
      // DuckDB aborted the transaction already: end it, and say the work was rolled back.
      await conn.connection.run("ROLLBACK");
      conn.failed = false;
      conn.inTransaction = false;
      return { rows: EMPTY_ROWS, columns: EMPTY, rowsAffected: 0, command: "ROLLBACK" };
    }
    checkNotExpired(opts);
    const watch = opts.timeoutMs !== undefined || opts.signal !== undefined ? new Interrupter(conn, opts) : undefined;
    let once: DuckDB.DuckDBPreparedStatement | undefined;
    try {
      const [stmt, cached] = await this.#prepared(conn, sql);
      if (!cached) once = stmt;
      if (params.length > 0) stmt.bind(encodeParams(this.#duck, params, this.#o.features.jsonSerializer));
      else if (stmt.parameterCount > 0) stmt.clearBindings();
      if (watch?.kind !== undefined) throw new Error("INTERRUPT Error: Interrupted before the statement started");
      const result = await stmt.run();
      const raw = await this.#shape(conn, result, sql);
      if (opts.onColumnTypes !== undefined) opts.onColumnTypes(this.#columnTypes(result));
      return raw;
    } catch (err) {
      watch?.done();
      if (conn.inTransaction) await this.#afterError(conn);
      if (isFatalDuckdbError(err)) conn.broken = true;
      throw mapDuckdbError(err, watch?.kind);
    } finally {
      watch?.done();
      once?.destroySync();
    }
  }

  /**
   * After an error inside a transaction, where DuckDB left it: running (a parse error), aborted (most errors: only
   * ROLLBACK is accepted), or ended (a COMMIT that failed rolled back). The driver exposes no flag: a statement fails
   * in an aborted transaction, and `txid_current()` stays the same across statements only inside a transaction.
   */
  async #afterError(conn: DuckdbConnection): Promise<void> {
    const txid = async (): Promise<unknown> =>
      (await conn.connection.run("SELECT txid_current()")).getRows().then((rows) => rows[0]?.[0]);
    let first: unknown;
    let second: unknown;
    try {
      first = await txid();
      second = await txid();
    } catch {
      conn.failed = true;
      return;
    }
    conn.failed = false;
    conn.inTransaction = first === second;
  }

  async #shape(conn: DuckdbConnection, result: DuckDB.DuckDBMaterializedResult, sql: string): Promise<RawResult> {
    const ST = this.#duck.StatementType;
    const type = result.statementType;
    if (type === ST.TRANSACTION) {
      const word = leadingWord(sql);
      if (BEGINS.has(word)) conn.inTransaction = true;
      else if (ENDS.has(word)) {
        conn.inTransaction = false;
        conn.failed = false;
      }
      return { rows: EMPTY_ROWS, columns: EMPTY, rowsAffected: 0 };
    }
    if (type === ST.SET || type === ST.VARIABLE_SET || type === ST.ATTACH || type === ST.DETACH || type === ST.PRAGMA) {
      conn.settingsChanged = true;
      conn.settingsEpoch = ++settingsEpochs;
    }
    const returns = result.returnType;
    if (returns !== this.#duck.ResultReturnType.QUERY_RESULT) {
      return { rows: EMPTY_ROWS, columns: EMPTY, rowsAffected: returns === 1 ? result.rowsChanged : 0 };
    }
    const rows = (await result.convertRowObjects(this.#convert)) as Row[];
    const columns = result.columnNames();
    this.#parseJson(result, rows);
    const dml = type === ST.INSERT || type === ST.UPDATE || type === ST.DELETE || type === ST.MERGE_INTO;
    // DML with RETURNING reports no count of its own: one returned row per changed row.
    return dml ? { rows, columns, rowsAffected: rows.length } : { rows, columns, rowsAffected: 0, command: "SELECT" };
  }

  #columnTypes(result: DuckDB.DuckDBResult): ReturnType<typeof duckdbResultColumnTypes> {
    const query = result.returnType === this.#duck.ResultReturnType.QUERY_RESULT;
    return query ? duckdbResultColumnTypes(this.#duck, result.columnTypes(), this.#o.features.timestamps) : [];
  }

  #parseJson(result: DuckDB.DuckDBResult, rows: Row[]): void {
    const f = this.#o.features;
    if (!f.enableJsonCodecs || rows.length === 0) return;
    const json = jsonColumns(result);
    if (json === undefined) return;
    try {
      parseJsonColumns(rows, json, f.jsonDeserializer);
    } catch (err) {
      // The deserializer's error (JSON.parse's by default), not DuckDB's.
      throw new DataError("DuckDB: a JSON column value could not be parsed by the JSON deserializer", { cause: err });
    }
  }

  // ------------------------------------------------------------------------------------------------ streaming

  /** DuckDB's streaming result: chunks (2,048 rows each) are fetched as the consumer asks for batches. */
  async *stream(
    conn: DuckdbConnection,
    sql: string,
    params: unknown[],
    batchSize: number,
    opts: QueryOptions,
  ): AsyncIterable<Row[]> {
    if (conn.broken) throw brokenError();
    if (conn.openStreams > 0) throw streamOpenError();
    if (conn.failed) throw mapDuckdbError(new Error("TransactionContext Error: Current transaction is aborted"));
    checkNotExpired(opts);
    const size = Math.max(1, Math.floor(batchSize) || 1);
    const watch = opts.timeoutMs !== undefined || opts.signal !== undefined ? new Interrupter(conn, opts) : undefined;
    conn.openStreams++;
    try {
      let result: DuckDB.DuckDBResult;
      try {
        const values =
          params.length > 0 ? encodeParams(this.#duck, params, this.#o.features.jsonSerializer) : undefined;
        result = await conn.connection.stream(sql, values);
      } catch (err) {
        throw mapDuckdbError(err, watch?.kind);
      }
      let batch: Row[] = [];
      try {
        if (opts.onColumnTypes !== undefined) opts.onColumnTypes(this.#columnTypes(result));
        for await (const rows of result.yieldConvertedRowObjects(this.#convert)) {
          this.#parseJson(result, rows as Row[]);
          for (const row of rows) {
            batch.push(row as Row);
            if (batch.length >= size) {
              // The time can run out while the consumer holds a batch: checked before each one, not only when the
              // next chunk is fetched (2,048 rows later).
              if (watch?.kind !== undefined) throw new Error("INTERRUPT Error: Interrupted while the result was read");
              const out = batch;
              batch = [];
              yield out;
            }
          }
        }
        // An interrupted fetch returns an empty chunk, which reads as the end of the result: rows would be missing.
        if (watch?.kind !== undefined) throw new Error("INTERRUPT Error: Interrupted while the result was read");
      } catch (err) {
        watch?.done();
        if (conn.inTransaction) await this.#afterError(conn);
        throw mapDuckdbError(err, watch?.kind);
      }
      if (batch.length > 0) yield batch;
    } finally {
      watch?.done();
      conn.openStreams--;
    }
  }

  // ------------------------------------------------------------------------------------------------ bulk

  /**
   * The Appender: rows (value arrays in the table's column order) appended to `table`, which must have exactly these
   * columns (the bulk engine's stage does). Returns the rows appended. A bad row fails the whole call; the caller runs
   * it inside a transaction, so nothing is kept.
   */
  async copyIn(
    conn: DuckdbConnection,
    table: string,
    columns: string[],
    rows: AsyncIterable<unknown[]> | Iterable<unknown[]>,
  ): Promise<number> {
    if (conn.broken) throw brokenError();
    const parts = parseName(table, "table name");
    const name = parts[parts.length - 1] as string;
    const schema = parts.length >= 2 ? (parts[parts.length - 2] as string) : null;
    // A temporary table (the bulk stage) lives in the "temp" catalog: ask where the name resolves.
    const where = await conn.connection.run(
      "SELECT database_name AS c, schema_name AS s FROM duckdb_tables() WHERE table_name = ? AND (? IS NULL OR schema_name = ?) ORDER BY temporary DESC LIMIT 1",
      [name, schema, schema],
    );
    const loc = (await where.getRowObjects())[0] as { c: string; s: string } | undefined;
    // Errors the caller's own row source throws: they are not DuckDB's.
    const source = { failed: false };
    const appender = await conn.connection.createAppender(name, loc?.s ?? schema, loc?.c ?? null);
    let n: number;
    try {
      if (appender.columnCount !== columns.length) {
        throw new SQLSpecError(
          `DuckDB Appender: ${table} has ${appender.columnCount} columns and the rows have ${columns.length}`,
        );
      }
      const appends = columnAppenders(this.#duck, appender, columns.length, this.#o.features.jsonSerializer);
      n = await appendRows(appender, appends, rows, source);
      appender.closeSync();
    } catch (err) {
      try {
        // Drop the rows still buffered first: closing a failed appender fails again and keeps them, and the
        // garbage collector's destroy of the appender then flushes them into whatever transaction the connection
        // has open by then (a later load's was aborted, or took them).
        appender.clear();
        appender.closeSync();
      } catch {
        // The append already failed; its error is the one to report.
      }
      if (source.failed) throw rowSourceError(err);
      throw mapDuckdbError(err);
    }
    return n;
  }

  mapError(err: unknown, _sql: string): SQLSpecError {
    return mapDuckdbError(err);
  }
}

/**
 * `timeoutMs` / `signal` for one statement (or stream): on expiry, `connection.interrupt()`, repeated every 20 ms
 * until the statement settles, because an interrupt that lands before DuckDB starts executing is cleared when it
 * starts. An interrupt after the statement finished is cleared the same way, so it never reaches the next one.
 */
class Interrupter {
  kind: "timeout" | "cancel" | undefined;
  readonly #conn: DuckdbConnection;
  readonly #signal: AbortSignal | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #repeat: ReturnType<typeof setInterval> | undefined;
  readonly #onAbort = (): void => this.#fire("cancel");

  constructor(conn: DuckdbConnection, opts: QueryOptions) {
    this.#conn = conn;
    this.#signal = opts.signal;
    if (opts.timeoutMs !== undefined) this.#timer = setTimeout(() => this.#fire("timeout"), opts.timeoutMs);
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  #fire(kind: "timeout" | "cancel"): void {
    if (this.kind !== undefined) return;
    this.kind = kind;
    const interrupt = (): void => this.#conn.connection.interrupt();
    interrupt();
    this.#repeat = setInterval(interrupt, 20);
  }

  done(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#repeat !== undefined) clearInterval(this.#repeat);
    this.#timer = undefined;
    this.#repeat = undefined;
    this.#signal?.removeEventListener("abort", this.#onAbort);
  }
}

/** A signal that already aborted or a `timeoutMs` already spent: the statement is not started. */
function checkNotExpired(opts: QueryOptions): void {
  if (opts.signal?.aborted) {
    throw new OperationCancelledError("DuckDB query cancelled before it was sent", { cause: opts.signal.reason });
  }
  if (opts.timeoutMs !== undefined && opts.timeoutMs <= 0) {
    throw new QueryTimeoutError("DuckDB query timeout: timeoutMs expired before the statement could start");
  }
}

function brokenError(): DatabaseConnectionError {
  return new DatabaseConnectionError("DuckDB connection error: the connection is closed; open a new session");
}

function streamOpenError(): SQLSpecError {
  return new SQLSpecError(
    "DuckDB: a stream() is still open on this session's connection; finish or break out of it first",
  );
}
