/**
 * The mysql2 adapter (MySQL 8, MariaDB 10.6+):
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
 *
 * Here: the Adapter contract, each part handed to its module: pool.ts (connection options and setup, acquire, release
 * and reset, interrupt, close), statements.ts (query, its cancel, result shape, stream), bulk.ts (bulk capabilities
 * and LOAD DATA as copyIn), running.ts (what every statement goes through: KILL QUERY, failure mapping, control
 * statements), connection.ts (MysqlConnection and its tracked state).
 */

import type * as Mysql2 from "mysql2";
import type { SQLSpecError } from "../../core/errors.js";
import { ParameterStyle, type Row } from "../../core/types.js";
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
import type { ResolvedDriverFeatures } from "../../driver/config.js";
import { importDriver, rethrow } from "../../driver/dependencies.js";
import type { ConnectionPool } from "../../driver/pool.js";
import { MysqlBulk } from "./bulk.js";
import { type MysqlServer, mysqlIntrospector } from "./catalog.js";
import type { MysqlDriverFeatures, MysqlPoolConfig } from "./config.js";
import { type MysqlConnection, STATUS_IN_TRANS } from "./connection.js";
import { mapMysqlError } from "./errors.js";
import { MysqlConnections } from "./pool.js";
import { MysqlStatements } from "./statements.js";

type Mysql2Module = typeof Mysql2;

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

  readonly #connections: MysqlConnections;
  readonly #statements: MysqlStatements;
  readonly #bulk: MysqlBulk;

  /** @internal Made by `MysqlConfig`. */
  constructor(mysql2: Mysql2Module, o: MysqlAdapterOptions) {
    const label = (): string => this.databaseLabel;
    this.#connections = new MysqlConnections(mysql2, o.pool, o.features, o.mysql, o.statementCacheSize);
    this.pool = this.#connections.pool;
    this.#statements = new MysqlStatements(this.#connections.killer, o.features, o.mysql, label);
    this.#bulk = new MysqlBulk(o.features.jsonSerializer, label);
  }

  /**
   * Bulk upsert/load paths (driver/native-bulk.ts): multi-row VALUES, a JSON_TABLE source (MySQL ≥ 8.0.4, MariaDB
   * ≥ 10.6) and LOAD DATA LOCAL INFILE through `copyIn`.
   */
  get bulk(): BulkCapabilities {
    return this.#bulk.capabilities(this.#connections.server);
  }

  /** "MariaDB" or "MySQL", once a connection has told which. */
  get databaseLabel(): string {
    return this.#connections.label;
  }

  /**
   * @internal Flavor and version from the handshake (undefined before the first connection); see
   * `dataDictionary.getVersion()`.
   */
  get server(): MysqlServer | undefined {
    return this.#connections.server;
  }

  // ------------------------------------------------------------------------------------------------ connections

  acquire(options?: AcquireOptions<MysqlConnection>): Promise<MysqlConnection> {
    return this.#connections.acquire(options);
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
  interrupt(conn: MysqlConnection): Promise<boolean> {
    return this.#connections.interrupt(conn);
  }

  release(conn: MysqlConnection, error?: unknown): Promise<void> {
    return this.#connections.release(conn, error);
  }

  /**
   * COM_RESET_CONNECTION: rolls back, drops temporary tables, user variables and prepared statements, releases
   * GET_LOCK locks, restores session variables; then sqlspec's own settings are applied again.
   */
  reset(conn: MysqlConnection): Promise<void> {
    return this.#connections.reset(conn);
  }

  poolStats(): PoolStats {
    return this.#connections.stats();
  }

  close(): Promise<void> {
    return this.#connections.close();
  }

  // ------------------------------------------------------------------------------------------------ statements

  query(conn: MysqlConnection, sql: string, params: unknown[], opts: QueryOptions): Promise<RawResult> {
    return this.#statements.query(conn, sql, params, opts);
  }

  /**
   * mysql2's row events with backpressure: the socket is paused while a batch is handed out, so memory stays at
   * about one batch. Breaking out early kills the statement on the server and drains what was already sent.
   */
  stream(
    conn: MysqlConnection,
    sql: string,
    params: unknown[],
    batchSize: number,
    opts: QueryOptions,
  ): AsyncIterable<Row[]> {
    return this.#statements.stream(conn, sql, params, batchSize, opts);
  }

  // ------------------------------------------------------------------------------------------------ bulk

  /**
   * `LOAD DATA LOCAL INFILE` from sqlspec's own stream: the rows are encoded here (one value encoder), and the
   * stream factory only ever answers the file name sqlspec generated, never a path from a user's statement.
   * Returns the rows loaded. The server counts conversions it had to make as warnings; any warning fails the load.
   */
  copyIn(
    conn: MysqlConnection,
    table: string,
    columns: string[],
    rows: AsyncIterable<unknown[]> | Iterable<unknown[]>,
  ): Promise<number> {
    return this.#bulk.copyIn(conn, table, columns, rows);
  }

  mapError(err: unknown, _sql: string): SQLSpecError {
    return mapMysqlError(err, this.databaseLabel);
  }
}
