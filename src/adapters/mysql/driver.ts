/**
 * The mysql2 adapter (MySQL 8, MariaDB 10.6+). Everything here is the Adapter contract plus connection state:
 *
 * - Statements with values run as server-side prepared statements (COM_STMT_PREPARE/EXECUTE through mysql2's
 *   `execute`), cached per connection in mysql2's bounded LRU, whose evictions send COM_STMT_CLOSE. mysql2's
 *   `query()` with values interpolates on the client and is never used; parameterless statements use the text
 *   protocol (nothing to bind, and some statements cannot be prepared), with multi-statements off so a stacked
 *   `; DROP …` is rejected by the server.
 * - Transaction status comes from the server: the status flags of every OK packet (SERVER_STATUS_IN_TRANS), and
 *   `@@in_transaction` when the last statement failed or returned rows with autocommit off.
 * - Cancellation is `KILL QUERY <thread id>` from a separate connection. The session's connection is not used again
 *   until the KILL has settled, and a KILL that lands after the statement already finished is absorbed.
 */
import type * as Mysql2 from "mysql2";
import { builtOperationType } from "../../core/compiler.js";
import {
  DatabaseConnectionError,
  DataError,
  OperationCancelledError,
  SQLSpecError,
  TransactionError,
} from "../../core/errors.js";
import { quoteIdent } from "../../core/identifiers.js";
import { ParameterStyle, type Row } from "../../core/types.js";
import { loadDataSql, mysqlBulkSql } from "../../dialects/mysql.js";
import type {
  AcquireOptions,
  Adapter,
  AdapterCapabilities,
  BulkCapabilities,
  ConnectionState,
  Introspector,
  NamedLockSql,
  PoolStats,
  QueryOptions,
  RawResult,
} from "../../driver/adapter.js";
import { RELEASED } from "../../driver/adapter.js";
import type { ResolvedDriverFeatures } from "../../driver/config.js";
import { importDriver, rethrow } from "../../driver/dependencies.js";
import { ConnectionPool } from "../../driver/pool.js";
import { QueryKiller } from "./cancel.js";
import { type MysqlServer, mysqlIntrospector, parseServerVersion } from "./catalog.js";
import { decodeRows, duplicateSplit, encodeParams, type Field, type OkPacket, timeZoneOffset } from "./codecs.js";
import type { MysqlDriverFeatures, MysqlPoolConfig } from "./config.js";
import {
  ENDS_TRANSACTION,
  MysqlConnection,
  type Outcome,
  run,
  STATUS_AUTOCOMMIT,
  STATUS_IN_TRANS,
} from "./connection.js";
import { ErrNo, isFatalMysqlError, mapMysqlError } from "./errors.js";
import { encodeLoadDataRows } from "./load-data.js";

type Mysql2Module = typeof Mysql2;

const EMPTY: string[] = [];

export interface MysqlAdapterOptions {
  pool: MysqlPoolConfig;
  features: ResolvedDriverFeatures<Mysql2.Connection>;
  mysql: Required<Pick<MysqlDriverFeatures, "int8" | "timestamps" | "tinyInt1AsBoolean">>;
  statementCacheSize: number;
}

export async function loadMysql2(feature: string): Promise<Mysql2Module> {
  const mod = await importDriver(
    "mysql2",
    feature,
    () => import("mysql2").catch(rethrow) as Promise<Mysql2Module & { default?: Mysql2Module }>,
  );
  return mod.default ?? mod;
}

/** The MySQL/MariaDB adapter, made by `MysqlConfig`: a pool of mysql2 connections. */
export class MysqlAdapter implements Adapter<MysqlConnection> {
  readonly dialect = "mysql" as const;
  readonly parameterStyle = ParameterStyle.QMARK;
  /** ON DUPLICATE KEY UPDATE takes a row alias on MySQL ≥ 8.0.19 and VALUES() on MariaDB: builders need the server. */
  readonly renderNeedsServer = true;
  /**
   * KILL QUERY cancels a running statement; nested transactions are SAVEPOINTs; LOAD DATA LOCAL INFILE is the COPY
   * equivalent; mysql2's row events stream; DDL commits implicitly (a failed script keeps what ran before it).
   */
  readonly capabilities: AdapterCapabilities = {
    cancel: true,
    copy: true,
    pipeline: "none",
    cursors: "native",
    savepoints: true,
    transactionalDdl: false,
    maxParameters: 65_535,
    sharedConnection: false,
    // Upsert sources are chosen by `bulk.largeBatch` (driver/native-bulk.ts), not the PostgreSQL COPY threshold.
    bulkCopyThreshold: undefined,
  };
  readonly introspector = mysqlIntrospector as Introspector<MysqlConnection>;
  /** GET_LOCK names are server-wide and at most 64 characters: the database and name go in hashed. */
  readonly namedLock: NamedLockSql = {
    tryAcquire: "SELECT GET_LOCK(CONCAT('sqlspec:', SHA1(CONCAT(DATABASE(), '.', ?))), 0)",
    release: "SELECT RELEASE_LOCK(CONCAT('sqlspec:', SHA1(CONCAT(DATABASE(), '.', ?))))",
  };
  /** @internal The connection pool; sessions are the supported way to use its connections. */
  readonly pool: ConnectionPool<MysqlConnection>;

  readonly #mysql2: Mysql2Module;
  readonly #o: MysqlAdapterOptions;
  readonly #connectionOptions: Mysql2.ConnectionOptions;
  readonly #killer = new QueryKiller(() => this.#openClient());
  /** Learned from the first handshake. */
  #server: MysqlServer | undefined;
  readonly #setupSql: (server: MysqlServer) => string;

  /** @internal Made by `MysqlConfig`. */
  constructor(mysql2: Mysql2Module, o: MysqlAdapterOptions) {
    this.#mysql2 = mysql2;
    this.#o = o;
    const p = o.pool;
    const zone = timeZoneOffset(p.timezone ?? "UTC");
    const m = o.mysql;
    const options: Mysql2.ConnectionOptions = {
      ...(p.connectionString !== undefined ? { uri: p.connectionString } : {}),
      charset: p.charset ?? "utf8mb4",
      timezone: zone === "+00:00" ? "Z" : zone,
      connectTimeout: p.connectTimeoutMs ?? 10_000,
      supportBigNumbers: true,
      bigNumberStrings: m.int8 !== "number",
      dateStrings: m.timestamps === "string",
      decimalNumbers: false,
      jsonStrings: true,
      multipleStatements: false,
      namedPlaceholders: false,
      maxPreparedStatements: Math.max(1, o.statementCacheSize),
      // affectedRows is what the server changed: an UPDATE counts changed rows, ON DUPLICATE KEY UPDATE counts 1 per
      // inserted row, 2 per updated and 0 per unchanged one (mysql2 asks for found rows by default).
      flags: ["-FOUND_ROWS"],
    };
    if (p.host !== undefined) options.host = p.host;
    if (p.port !== undefined) options.port = p.port;
    if (p.user !== undefined) options.user = p.user;
    if (p.password !== undefined) options.password = p.password;
    if (p.database !== undefined) options.database = p.database;
    if (p.ssl !== undefined && p.ssl !== false) options.ssl = (p.ssl === true ? {} : p.ssl) as Mysql2.SslOptions;
    this.#connectionOptions = options;
    this.#setupSql = (server) => {
      // session_track_state_change: the server flags every OK packet after any change to session state (a SET of any
      // variable, a user variable, a temporary table, USE): resetOnRelease "auto" resets exactly those connections.
      let sql = `SET time_zone = '${zone}', session_track_state_change = ON`;
      const t = p.statementTimeoutMs;
      if (t !== undefined && t > 0) {
        // MariaDB: max_statement_time (seconds, any statement); MySQL: max_execution_time (ms, SELECT only).
        sql +=
          server.flavor === "mariadb" ? `, max_statement_time = ${t / 1000}` : `, max_execution_time = ${Math.ceil(t)}`;
      }
      return sql;
    };
    this.pool = new ConnectionPool<MysqlConnection>({
      create: () => this.#connect(),
      maxSize: p.maxSize ?? 10,
      minSize: p.minSize ?? 0,
      acquireTimeoutMs: p.acquireTimeoutMs,
      idleTimeoutMs: p.idleTimeoutMs ?? 10_000,
      maxLifetimeMs: p.maxLifetimeMs,
      label: "MySQL",
      aborted: (reason) => new OperationCancelledError("MySQL pool: acquire aborted (AbortSignal)", { cause: reason }),
    });
  }

  #maxPacket: Promise<number> | undefined;

  /**
   * Bulk upsert/load paths (driver/native-bulk.ts): multi-row VALUES, a JSON_TABLE source (MySQL ≥ 8.0.4, MariaDB
   * ≥ 10.6) and LOAD DATA LOCAL INFILE through `copyIn`.
   */
  get bulk(): BulkCapabilities {
    const s = this.#server;
    const jsonRows = s === undefined || (s.flavor === "mariadb" ? s.versionNum >= 100600 : s.versionNum >= 80004);
    return {
      sql: mysqlBulkSql,
      maxParameters: 65_535,
      jsonRows,
      // MariaDB 10.11 here: JSON_TABLE (1,000-row documents) leads up to ~10k rows; multi-row VALUES (3,000-row
      // chunks) above. See the table in driver/native-bulk.ts.
      largeBatch: { threshold: 20_000, source: "values" },
      maxPacketBytes: (conn) => {
        this.#maxPacket ??= this.#text(conn as MysqlConnection, "SELECT @@max_allowed_packet AS m").then(
          (rows) => Number((rows as { m: number | string }[])[0]?.m ?? 4_194_304),
          (err) => {
            this.#maxPacket = undefined;
            throw err;
          },
        );
        return this.#maxPacket;
      },
    };
  }

  /** "MariaDB" or "MySQL", once a connection has told which. */
  get databaseLabel(): string {
    return this.#server?.flavor === "mariadb" ? "MariaDB" : "MySQL";
  }

  /**
   * @internal Flavor and version from the handshake (undefined before the first connection); see
   * `dataDictionary.getVersion()`.
   */
  get server(): MysqlServer | undefined {
    return this.#server;
  }

  // ------------------------------------------------------------------------------------------------ connections

  #openClient(extra?: Partial<Mysql2.ConnectionOptions>): Promise<Mysql2.Connection> {
    return new Promise<Mysql2.Connection>((resolve, reject) => {
      const client = this.#mysql2.createConnection({ ...this.#connectionOptions, ...extra });
      client.connect((err) => {
        if (err) {
          client.destroy();
          reject(err);
        } else resolve(client);
      });
    });
  }

  async #connect(): Promise<MysqlConnection> {
    let client: Mysql2.Connection;
    try {
      client = await this.#openClient();
    } catch (err) {
      throw this.#mapConnectError(err);
    }
    const conn = new MysqlConnection(client, client.threadId as number);
    // While idle in the pool or checked out, a dying socket must not become an uncaught 'error'.
    client.on("error", () => {
      conn.broken = true;
    });
    client.on("end", () => {
      conn.broken = true;
    });
    try {
      this.#server ??= parseServerVersion(serverVersionOf(client));
      await this.#text(conn, this.#setupSql(this.#server));
      const mode = (await run(client, "SELECT @@session.sql_mode AS m", undefined)).result as { m: unknown }[];
      conn.initialSqlMode = String(mode[0]?.m ?? "");
      if (this.#o.features.onConnectionCreate) await this.#o.features.onConnectionCreate(client);
      conn.stateChanged = false;
    } catch (err) {
      conn.destroy();
      throw this.mapError(err, "");
    }
    return conn;
  }

  #mapConnectError(err: unknown): SQLSpecError {
    const mapped = mapMysqlError(err, this.databaseLabel);
    if ((err as { code?: string }).code === "ETIMEDOUT" && !(mapped instanceof DatabaseConnectionError)) {
      return new DatabaseConnectionError(`${this.databaseLabel} connection error: connect timeout`, { cause: err });
    }
    return mapped;
  }

  async acquire(options?: AcquireOptions<MysqlConnection>): Promise<MysqlConnection> {
    const conn = await this.pool.acquire(options?.signal, options?.timeoutMs);
    refSocket(conn, true);
    return conn;
  }

  /** The connection's state as the server last reported it (no I/O). */
  state(conn: MysqlConnection): ConnectionState {
    return {
      transaction: conn.failed ? "failed" : (conn.status & STATUS_IN_TRANS) !== 0 ? "active" : "idle",
      openCursors: conn.openStreams,
      preparedStatements: (conn.client as unknown as { _statements?: { size: number } })._statements?.size ?? 0,
      settingsChanged: conn.stateChanged,
    };
  }

  /**
   * Always resets before the pool gets the connection back: waits for a cancel in flight, rolls back an open or failed
   * transaction, and per `resetOnRelease` ("auto" by default: only when the server reported changed session state)
   * runs COM_RESET_CONNECTION and re-applies sqlspec's settings. A connection that broke, still has a stream open or
   * cannot be reset is discarded. Never rejects.
   */
  /**
   * KILL QUERY for what the connection runs, then one throwaway statement (queued behind the session's own) absorbs a
   * KILL that found the thread idle, so it never interrupts the reset or the next borrower.
   */
  async interrupt(conn: MysqlConnection): Promise<boolean> {
    await this.#kill(conn);
    await this.#settleCancel(conn, true);
    return !conn.broken;
  }

  release(conn: MysqlConnection, error?: unknown): Promise<void> {
    const discard = conn.broken || conn.openStreams > 0 || (error !== undefined && isFatalMysqlError(error));
    const mode = this.#o.pool.resetOnRelease ?? "auto";
    if (
      !discard &&
      (conn.pendingCancel !== undefined ||
        mode === true ||
        (mode === "auto" && conn.stateChanged) ||
        conn.failed ||
        (conn.status & STATUS_IN_TRANS) !== 0)
    ) {
      return this.#resetAndRelease(conn);
    }
    // Broken, or nothing to reset: back in the pool (or destroyed) at once.
    if (!discard) refSocket(conn, false);
    this.pool.release(conn, discard);
    return RELEASED;
  }

  async #resetAndRelease(conn: MysqlConnection): Promise<void> {
    let discard: boolean;
    try {
      if (conn.pendingCancel) await conn.pendingCancel;
      if (conn.broken) throw brokenError(this.databaseLabel);
      const mode = this.#o.pool.resetOnRelease ?? "auto";
      if (mode === true || (mode === "auto" && conn.stateChanged)) {
        await this.reset(conn);
      } else if (conn.failed || (conn.status & STATUS_IN_TRANS) !== 0) {
        // Never hand a connection that is inside a transaction to the next user.
        await this.#text(conn, "ROLLBACK");
      }
      discard = conn.broken || conn.failed || (conn.status & STATUS_IN_TRANS) !== 0;
    } catch {
      discard = true;
    }
    if (!discard) refSocket(conn, false);
    this.pool.release(conn, discard);
  }

  /**
   * COM_RESET_CONNECTION: rolls back, drops temporary tables, user variables and prepared statements, releases
   * GET_LOCK locks, restores session variables; then sqlspec's own settings are applied again.
   */
  async reset(conn: MysqlConnection): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      conn.client.reset((err: unknown) => (err ? reject(err) : resolve()));
    });
    conn.failed = false;
    conn.status = STATUS_AUTOCOMMIT;
    // COM_RESET_CONNECTION keeps the default database a USE chose: go back to the configured one, or, with none
    // configured, discard a connection that has one now (a USE cannot be undone).
    const home = (conn.client.config as { database?: string | undefined }).database;
    if (home) await this.#text(conn, `USE ${quoteIdent(home, "mysql")}`);
    else {
      const rows = (await run(conn.client, "SELECT DATABASE() AS d", undefined)).result as { d: unknown }[];
      if (rows[0]?.d != null) throw new DatabaseConnectionError("MySQL connection chose a database with USE");
    }
    await this.#text(
      conn,
      `${this.#setupSql(this.#server as MysqlServer)}, sql_mode = '${conn.initialSqlMode.replace(/[^A-Z0-9_,]/gi, "")}'`,
    );
    conn.stateChanged = false;
  }

  poolStats(): PoolStats {
    const idle = this.pool.idleCount;
    return { idle, used: this.pool.size - idle, pending: this.pool.pendingCount };
  }

  async close(): Promise<void> {
    await this.pool.close();
    this.#killer.close();
  }

  // ------------------------------------------------------------------------------------------------ statements

  async query(conn: MysqlConnection, sql: string, params: unknown[], opts: QueryOptions): Promise<RawResult> {
    if (conn.broken) throw brokenError(this.databaseLabel);
    // mysql2 would queue this behind the paused stream, which waits for this very caller: it would never settle.
    if (conn.openStreams > 0) throw streamOpenError(this.databaseLabel);
    if (conn.pendingCancel) await conn.pendingCancel;
    if (conn.broken) throw brokenError(this.databaseLabel);
    if (conn.failed && !ENDS_TRANSACTION.test(sql)) throw failedTransactionError(this.databaseLabel);
    const values = params.length > 0 ? encodeParams(params, this.#o.features.jsonSerializer) : undefined;
    conn.noteStatement(sql);
    if (opts.signal !== undefined || opts.timeoutMs !== undefined) return this.#cancellable(conn, sql, values, opts);
    let outcome: Outcome;
    try {
      outcome = await run(conn.client, sql, values);
    } catch (err) {
      throw await this.#fail(conn, err, undefined);
    }
    return this.#shape(conn, outcome, sql);
  }

  /**
   * Maps a failed statement and brings the connection's state up to date. An error inside a transaction (or with
   * autocommit off) may have ended or begun one, which no packet reports: `@@in_transaction` says which.
   */
  async #fail(conn: MysqlConnection, err: unknown, kind: "timeout" | "cancel" | undefined): Promise<SQLSpecError> {
    const mapped = mapMysqlError(err, this.databaseLabel, kind);
    if (isFatalMysqlError(err) || mapped instanceof DatabaseConnectionError) {
      conn.broken = true;
      return mapped;
    }
    const wasIn = (conn.status & STATUS_IN_TRANS) !== 0;
    if (wasIn || (conn.status & STATUS_AUTOCOMMIT) === 0) {
      try {
        if (conn.pendingCancel) await conn.pendingCancel;
        if (conn.broken) throw brokenError(this.databaseLabel);
        const rows = (await run(conn.client, "SELECT @@in_transaction AS t", undefined)).result as { t: number }[];
        const isIn = Number(rows[0]?.t ?? 0) === 1;
        conn.status = isIn ? conn.status | STATUS_IN_TRANS : conn.status & ~STATUS_IN_TRANS;
        if (wasIn && !isIn) conn.failed = true;
      } catch {
        conn.broken = true;
      }
    }
    return mapped;
  }

  /** A parameterless statement over the text protocol, for sqlspec's own control statements. */
  #text(conn: MysqlConnection, sql: string): Promise<unknown> {
    return run(conn.client, sql, undefined).then(
      (r) => {
        if (!Array.isArray(r.result)) conn.track(r.result as OkPacket, sql);
        return r.result;
      },
      (err) => {
        if (isFatalMysqlError(err)) conn.broken = true;
        throw err;
      },
    );
  }

  #shape(conn: MysqlConnection, r: Outcome, sql: string): RawResult {
    const { result, fields } = r;
    if (!Array.isArray(result)) {
      const ok = result as OkPacket;
      conn.track(ok, sql);
      const out: RawResult = { rows: [], columns: EMPTY, rowsAffected: ok.affectedRows };
      const id = ok.insertId;
      if (id !== 0 && id !== "0" && id !== undefined) out.lastInsertId = id;
      const split = duplicateSplit(ok);
      if (split !== undefined) (out as RawResult & { metadata?: unknown }).metadata = split;
      return out;
    }
    conn.afterRows();
    // CALL returns several result sets (the last is the OK packet): the first set of rows is the answer.
    let rows = result as Row[];
    let fieldList = fields as Field[] | undefined;
    if (Array.isArray(fieldList) && Array.isArray(fieldList[0])) {
      rows = (result as unknown[])[0] as Row[];
      fieldList = fieldList[0] as unknown as Field[];
    }
    if (fieldList === undefined) return { rows, columns: EMPTY, rowsAffected: 0, command: "SELECT" };
    const columns = new Array<string>(fieldList.length);
    for (let i = 0; i < fieldList.length; i++) columns[i] = (fieldList[i] as Field).name;
    if (rows.length === 0) return { rows, columns, rowsAffected: 0, command: "SELECT" };
    decodeRows(rows, fieldList, this.#o.features, this.#o.mysql);
    // MariaDB's INSERT/REPLACE/DELETE … RETURNING answers with the rows alone (no OK packet reaches us): each row
    // returned is a row changed.
    const op = builtOperationType(sql);
    if (op === "INSERT" || op === "DELETE") return { rows, columns, rowsAffected: rows.length };
    return { rows, columns, rowsAffected: 0, command: "SELECT" };
  }

  // ------------------------------------------------------------------------------------------------ cancellation

  /** Per-call timeout and AbortSignal: KILL QUERY from another connection; this connection stays usable. */
  async #cancellable(
    conn: MysqlConnection,
    sql: string,
    values: unknown[] | undefined,
    opts: QueryOptions,
  ): Promise<RawResult> {
    const signal = opts.signal;
    if (signal?.aborted) {
      throw new OperationCancelledError(`${this.databaseLabel} query cancelled before it was sent`, {
        cause: signal.reason,
      });
    }
    let kind: "timeout" | "cancel" | undefined;
    let running = true;
    const fire = (k: "timeout" | "cancel"): void => {
      if (kind !== undefined || !running) return;
      kind = k;
      void this.#kill(conn);
    };
    const onAbort = (): void => fire("cancel");
    const timer = opts.timeoutMs !== undefined ? setTimeout(fire, opts.timeoutMs, "timeout") : undefined;
    signal?.addEventListener("abort", onAbort, { once: true });
    let outcome: Outcome | undefined;
    let failure: unknown;
    try {
      outcome = await run(conn.client, sql, values);
    } catch (err) {
      failure = err;
    } finally {
      running = false;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
    if (kind !== undefined) await this.#settleCancel(conn, failure === undefined);
    if (failure !== undefined) throw await this.#fail(conn, failure, kind);
    // A statement that finished before the KILL reached it keeps its result: the work was done.
    const raw = this.#shape(conn, outcome as Outcome, sql);
    return raw;
  }

  /**
   * Waits for the KILL to finish. When the statement completed before the KILL arrived, the KILL may have marked the
   * idle thread: one throwaway statement absorbs that mark so it never interrupts the next caller's statement.
   */
  async #settleCancel(conn: MysqlConnection, completed: boolean): Promise<void> {
    const pending = conn.pendingCancel;
    if (pending === undefined) return;
    try {
      await pending;
      if (completed && !conn.broken) {
        await run(conn.client, "DO 0", undefined).catch((err) => {
          if ((err as { errno?: number }).errno !== ErrNo.QUERY_INTERRUPTED) throw err;
        });
      }
    } catch {
      conn.broken = true;
    } finally {
      if (conn.pendingCancel === pending) conn.pendingCancel = undefined;
    }
  }

  /** Starts a KILL QUERY for the connection's statement; the connection runs nothing else until it settled. */
  #kill(conn: MysqlConnection): Promise<void> {
    const pending = this.#killer.kill(conn.threadId).then((sent) => {
      // Undelivered: the statement may still be running, so the connection cannot be trusted again.
      if (!sent) conn.broken = true;
    });
    conn.pendingCancel = pending;
    return pending;
  }

  // ------------------------------------------------------------------------------------------------ streaming

  /**
   * mysql2's row events with backpressure: the socket is paused while a batch is handed out, so memory stays at
   * about one batch. Breaking out early kills the statement on the server and drains what was already sent.
   */
  async *stream(
    conn: MysqlConnection,
    sql: string,
    params: unknown[],
    batchSize: number,
    opts: QueryOptions,
  ): AsyncIterable<Row[]> {
    if (conn.broken) throw brokenError(this.databaseLabel);
    if (conn.pendingCancel) await conn.pendingCancel;
    if (conn.broken) throw brokenError(this.databaseLabel);
    if (conn.failed) throw failedTransactionError(this.databaseLabel);
    if (conn.openStreams > 0) throw streamOpenError(this.databaseLabel);
    conn.noteStatement(sql);
    const size = Math.max(1, Math.floor(batchSize) || 1);
    const values = params.length > 0 ? encodeParams(params, this.#o.features.jsonSerializer) : undefined;
    const client = conn.client as Mysql2.Connection & { pause(): void; resume(): void };
    let batch: Row[] = [];
    let fields: Field[] | undefined;
    let done = false;
    let failure: unknown;
    let wake: (() => void) | undefined;
    const notify = (): void => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const cmd = (values !== undefined
      ? client.execute(sql, values as never)
      : client.query(sql)) as unknown as NodeJS.EventEmitter;
    cmd.on("fields", (f: Field[]) => {
      fields = f;
    });
    cmd.on("result", (row: Row | OkPacket) => {
      if (fields === undefined) {
        conn.track(row as OkPacket, sql);
        return;
      }
      batch.push(row as Row);
      if (batch.length >= size) {
        client.pause();
        notify();
      }
    });
    cmd.on("end", () => {
      done = true;
      notify();
    });
    cmd.on("error", (err: unknown) => {
      failure = err;
      done = true;
      notify();
    });
    let kind: "timeout" | "cancel" | undefined;
    const fire = (k: "timeout" | "cancel"): void => {
      if (kind !== undefined || done) return;
      kind = k;
      void this.#kill(conn);
    };
    const onAbort = (): void => fire("cancel");
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    // timeoutMs bounds the whole stream, the time the consumer spends between batches included.
    const timer = opts.timeoutMs !== undefined ? setTimeout(fire, opts.timeoutMs, "timeout") : undefined;
    let finished = false;
    conn.openStreams++;
    try {
      for (;;) {
        if (!done && batch.length < size) {
          await new Promise<void>((r) => {
            wake = r;
          });
        }
        if (failure !== undefined) throw await this.#fail(conn, failure, kind);
        if (batch.length > 0) {
          const out = batch;
          batch = [];
          if (fields !== undefined) decodeRows(out, fields, this.#o.features, this.#o.mysql);
          client.resume();
          yield out;
        }
        if (done && batch.length === 0) {
          if (failure !== undefined) throw await this.#fail(conn, failure, kind);
          break;
        }
      }
      finished = true;
      conn.afterRows();
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
      if (timer !== undefined) clearTimeout(timer);
      if (!finished && !done) {
        // Abandoned mid-result: stop the statement and read what is still in flight, so the connection is clean.
        kind ??= "cancel";
        if (conn.pendingCancel === undefined) void this.#kill(conn);
        batch = [];
        cmd.removeAllListeners("result");
        cmd.on("result", () => {});
        const drained = new Promise<void>((r) => {
          if (done) r();
          else wake = r;
        });
        client.resume();
        await drained;
        await this.#settleCancel(conn, failure === undefined);
        conn.afterRows();
      } else if (kind !== undefined) {
        await this.#settleCancel(conn, failure === undefined);
      }
      conn.openStreams--;
    }
  }

  // ------------------------------------------------------------------------------------------------ bulk

  /**
   * `LOAD DATA LOCAL INFILE` from sqlspec's own stream: the rows are encoded here (one value encoder), and the
   * stream factory only ever answers the file name sqlspec generated, never a path from a user's statement.
   * Returns the rows loaded. The server counts conversions it had to make as warnings; any warning fails the load.
   */
  async copyIn(
    conn: MysqlConnection,
    table: string,
    columns: string[],
    rows: AsyncIterable<unknown[]> | Iterable<unknown[]>,
  ): Promise<number> {
    if (conn.broken) throw brokenError(this.databaseLabel);
    const token = `sqlspec-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const sql = loadDataSql(table, columns, token);
    const { Readable } = await import("node:stream");
    const serializer = this.#o.features.jsonSerializer;
    const factory = (name: string): NodeJS.ReadableStream => {
      if (name !== token) throw new Error("sqlspec: LOAD DATA LOCAL INFILE is only served for sqlspec's own stream");
      return Readable.from(encodeLoadDataRows(rows, columns.length, serializer));
    };
    let ok: OkPacket;
    try {
      ok = await new Promise<OkPacket>((resolve, reject) => {
        conn.client.query({ sql, infileStreamFactory: factory } as unknown as Mysql2.QueryOptions, (err, result) => {
          if (err) reject(err);
          else resolve(result as unknown as OkPacket);
        });
      });
    } catch (err) {
      throw await this.#fail(conn, err, undefined);
    }
    conn.track(ok, sql);
    if ((ok.warningStatus ?? 0) > 0) {
      throw new DataError(
        `${this.databaseLabel} LOAD DATA: the server converted ${ok.warningStatus} value(s) with warnings; nothing was kept`,
      );
    }
    return ok.affectedRows;
  }

  mapError(err: unknown, _sql: string): SQLSpecError {
    return mapMysqlError(err, this.databaseLabel);
  }
}

function failedTransactionError(label: string): SQLSpecError {
  return new TransactionError(
    `${label}: the transaction was rolled back by the server after an error in it; ` +
      "ROLLBACK (or leave transaction()) before running more statements",
    { sqlState: "25P02" },
  );
}

function streamOpenError(label: string): SQLSpecError {
  return new SQLSpecError(
    `${label}: a stream() is still open on this session's connection; finish or break out of it before running ` +
      "another statement (or use a second session)",
  );
}

function brokenError(label: string): SQLSpecError {
  return new DatabaseConnectionError(`${label} connection error: the connection was lost; open a new session`);
}

function serverVersionOf(client: Mysql2.Connection): string {
  const c = client as unknown as { serverVersion?: string; _handshakePacket?: { serverVersion?: string } };
  return c._handshakePacket?.serverVersion ?? c.serverVersion ?? "";
}

/** Idle pooled sockets must not keep a script alive after its work is done. */
function refSocket(conn: MysqlConnection, on: boolean): void {
  const s = (conn.client as unknown as { stream?: { ref?: () => void; unref?: () => void } }).stream;
  if (on) s?.ref?.();
  else s?.unref?.();
}
