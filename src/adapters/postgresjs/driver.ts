/**
 * The postgres.js adapter. Each pooled connection is a single-connection postgres.js instance (`max: 1`), so sqlspec
 * owns the pool: acquire timeouts, discarding broken connections and running `onConnectionCreate` on every physical
 * connection are exact, and a dead connection is never silently reconnected in the middle of a session's transaction.
 * Within a connection postgres.js pipelines (executeMany sends every set before reading any answer) and prepares
 * statements itself; its sockets get TCP_NODELAY (without it every COPY stalls ~40 ms on delayed ACKs).
 *
 * Here: the Adapter contract, each part handed to its module: connect.ts (opening a connection: socket, TLS, codecs,
 * onConnectionCreate), pool.ts (acquire, release and reset, shared one-shot connections, close), types.ts (the pool's
 * type table), statements.ts (query, queryMany, queryStack, stream), copy.ts, running.ts (what every statement goes
 * through: checks, cancel, errors), connection.ts (the connection and postgres.js's result shapes).
 */
import type { SQLSpecError } from "../../core/errors.js";
import { ParameterStyle, type Row } from "../../core/types.js";
import type {
  AcquireOptions,
  Adapter,
  AdapterCapabilities,
  ConnectionState,
  CopyInOptions,
  Introspector,
  PoolStats,
  QueryOptions,
  RawResult,
  StackStatement,
} from "../../driver/adapter.js";
import type { PoolConfig, ResolvedDriverFeatures } from "../../driver/config.js";
import { sendCancelRequest } from "../postgres-common/cancel.js";
import { postgresIntrospector } from "../postgres-common/catalog.js";
import { mapPostgresError } from "../postgres-common/errors.js";
import { POSTGRES_MAX_PARAMETERS } from "../postgres-common/limits.js";
import { POSTGRES_SERVER_NAMED_LOCK } from "../postgres-common/lock.js";
import { type PostgresFn, PostgresJsConnector } from "./connect.js";
import { PostgresJsConnection, type PostgresSql } from "./connection.js";
import { copyFromStdin, copyRowsIn, copyToStdout } from "./copy.js";
import { PostgresJsPool } from "./pool.js";
import { PostgresJsStatements } from "./statements.js";
import { PostgresJsTypes } from "./types.js";

export { loadPostgres } from "./connect.js";
export { PostgresJsConnection, type PostgresSql };

export interface PostgresJsAdapterOptions {
  pool: PoolConfig;
  features: ResolvedDriverFeatures<PostgresSql>;
  statementCacheSize: number;
  /** Characters of SQL text the statements postgres.js prepares on one connection may hold (it cannot evict). */
  statementCacheBytes: number;
}

export class PostgresJsAdapter implements Adapter<PostgresJsConnection> {
  readonly dialect = "postgres" as const;
  readonly parameterStyle = ParameterStyle.NUMERIC;
  readonly databaseLabel = "PostgreSQL";
  readonly capabilities: AdapterCapabilities = {
    cancel: true,
    copy: true,
    // Every set is written before any answer is read, but each carries its own Sync (commits on its own).
    pipeline: "pipelined",
    cursors: "native",
    savepoints: true,
    transactionalDdl: true,
    // postgres.js refuses 65,534 parameters and more itself (one below the protocol's 65,535).
    maxParameters: POSTGRES_MAX_PARAMETERS - 2,
    sharedConnection: false,
    unpreparedParameters: true,
    resultColumnTypes: true,
    // Measured crossover of one JSON parameter vs COPY staging on PostgreSQL 15 (see driver/upsert.ts).
    bulkCopyThreshold: 2000,
  };
  readonly introspector = postgresIntrospector as Introspector<PostgresJsConnection>;
  readonly namedLock = POSTGRES_SERVER_NAMED_LOCK;

  readonly #features: ResolvedDriverFeatures<PostgresSql>;
  readonly #pool: PostgresJsPool;
  readonly #statements: PostgresJsStatements;

  /** @internal Made by `PostgresJsConfig`. */
  constructor(postgres: PostgresFn, opts: PostgresJsAdapterOptions) {
    const f = opts.features;
    this.#features = f;
    const types = new PostgresJsTypes(f);
    const connector = new PostgresJsConnector(postgres, opts.pool, f, types, opts.statementCacheSize > 0);
    this.#pool = new PostgresJsPool(opts.pool, () => connector.open());
    this.#statements = new PostgresJsStatements(
      types,
      f.jsonSerializer,
      opts.statementCacheSize,
      opts.statementCacheBytes,
    );
    for (let i = 0; i < (opts.pool.minSize ?? 0); i++) {
      // Background warm-up; a failure surfaces on the first real acquire.
      this.acquire().then(
        (c) => this.release(c),
        () => {},
      );
    }
  }

  poolStats(): PoolStats {
    return this.#pool.stats();
  }

  // ------------------------------------------------------------------------------------------------ pool

  acquire(options?: AcquireOptions<PostgresJsConnection>): Promise<PostgresJsConnection> {
    return this.#pool.acquire(options);
  }

  state(conn: PostgresJsConnection): ConnectionState {
    return conn;
  }

  /** Cancels what the server runs for the connection (a backend reading its next command ignores a cancel). */
  async interrupt(conn: PostgresJsConnection): Promise<boolean> {
    const wire = conn.wire;
    if (wire.lost) return false;
    if (wire.pid === 0) return true;
    return sendCancelRequest(wire.host, wire.port, wire.pid, wire.secret);
  }

  /**
   * A connection for one statement outside a session, which other such statements may use at the same time:
   * postgres.js pipelines them. The caller sends only a single SELECT/INSERT/UPDATE/DELETE/MERGE without a signal or
   * timeoutMs (a cancel could hit a neighbour's statement); a set_config() call, or resetOnRelease: true (state the
   * protocol does not show), takes a connection of its own instead (undefined). A statement joins a busy connection
   * only when none is idle or can be opened and no acquire is waiting (sessions are never starved); otherwise it
   * acquires like a session, with the same timeout.
   */
  acquireShared(
    sql: string,
    options?: AcquireOptions<PostgresJsConnection>,
  ): Promise<PostgresJsConnection> | undefined {
    return this.#pool.acquireShared(sql, options);
  }

  /**
   * Ends one statement of acquireShared. The last one out releases the connection as a session would (reset if it is
   * not clean, discarded if broken). A connection whose state changed anyway takes no more statements.
   */
  releaseShared(conn: PostgresJsConnection, error?: unknown): Promise<void> {
    return this.#pool.releaseShared(conn, error);
  }

  release(conn: PostgresJsConnection, error?: unknown): Promise<void> {
    return this.#pool.release(conn, error);
  }

  close(): Promise<void> {
    return this.#pool.close();
  }

  // ------------------------------------------------------------------------------------------------ queries

  query(conn: PostgresJsConnection, sql: string, params: unknown[], opts: QueryOptions): Promise<RawResult> {
    return this.#statements.query(conn, sql, params, opts);
  }

  /** All sets are written before any answer is read (postgres.js pipelining): one round trip's latency in total. */
  queryMany(conn: PostgresJsConnection, sql: string, paramSets: unknown[][], opts: QueryOptions): Promise<RawResult> {
    return this.#statements.queryMany(conn, sql, paramSets, opts);
  }

  /**
   * executeStack: every statement is written before any answer is read (postgres.js pipelining). Each carries its own
   * Sync, so the session runs the stack inside a transaction when it must be atomic. Values are encoded first: one
   * that cannot be encoded fails before anything is sent.
   */
  queryStack(
    conn: PostgresJsConnection,
    statements: readonly StackStatement[],
    opts: QueryOptions,
  ): Promise<RawResult[]> {
    return this.#statements.queryStack(conn, statements, opts);
  }

  /**
   * postgres.js cursor (a portal read batchSize rows at a time); breaking out closes it. While it is open the
   * connection belongs to the portal, so other statements on the same session raise instead of waiting forever.
   */
  stream(
    conn: PostgresJsConnection,
    sql: string,
    params: unknown[],
    batchSize: number,
    opts: QueryOptions,
  ): AsyncIterable<Row[]> {
    return this.#statements.stream(conn, sql, params, batchSize, opts);
  }

  copyIn(
    conn: PostgresJsConnection,
    table: string,
    columns: string[],
    rows: AsyncIterable<unknown[]> | Iterable<unknown[]>,
    columnTypes?: string[],
    copyOptions?: CopyInOptions,
  ): Promise<number> {
    return copyRowsIn(conn, table, columns, rows, columnTypes, copyOptions, this.#features.jsonSerializer);
  }

  /** A user-written COPY … FROM STDIN fed with `data` (bytes as given); rows from the command tag. */
  copyFromStdin(
    conn: PostgresJsConnection,
    sql: string,
    data: AsyncIterable<Uint8Array>,
    opts: QueryOptions,
  ): Promise<number> {
    return copyFromStdin(conn, sql, data, opts);
  }

  /** A user-written COPY … TO STDOUT: each chunk to `write` (awaited: backpressure); rows from the command tag. */
  copyToStdout(
    conn: PostgresJsConnection,
    sql: string,
    write: (chunk: Uint8Array) => void | Promise<void>,
    opts: QueryOptions,
  ): Promise<number> {
    return copyToStdout(conn, sql, write, opts);
  }

  mapError(err: unknown, _sql: string): SQLSpecError {
    return mapPostgresError(err);
  }
}
