/**
 * The node-postgres adapter: the measured-fastest Node PostgreSQL path. Everything here is the Adapter contract;
 * codecs, errors, command tags, COPY encoding and catalog queries are shared in ../postgres-common.
 *
 * Hot path (a repeated parameterised statement): one Map lookup for the named statement, a `pg.Query` built from the
 * text (no config clone, no extra promise from `client.query`), rows parsed once by pg with our per-pool parsers,
 * and the column-name array reused from the statement's first execution.
 *
 * Here: the Adapter contract, each part handed to its module: pool.ts (pg-pool, connection setup, acquire, release
 * and reset, close), types.ts (parsers, pgvector, parameter types), statements.ts (one statement: the hot path and the
 * statement cache), batches.ts (queryMany, queryStack as pipelines), copy.ts, running.ts (what every statement goes
 * through: its turn, cancel, errors), turns.ts, pipeline.ts, connection.ts (PgConnection and node-postgres internals).
 */
import type * as PgModule from "pg";
import { OperationCancelledError, type SQLSpecError } from "../../core/errors.js";
import { ParameterStyle } from "../../core/types.js";
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
import { importDriver, rethrow } from "../../driver/dependencies.js";
import { sendCancelRequest } from "../postgres-common/cancel.js";
import { postgresIntrospector } from "../postgres-common/catalog.js";
import { mapPostgresError } from "../postgres-common/errors.js";
import { POSTGRES_MAX_PARAMETERS } from "../postgres-common/limits.js";
import { POSTGRES_SERVER_NAMED_LOCK } from "../postgres-common/lock.js";
import { PgBatches } from "./batches.js";
import { type PgClient, PgConnection, type PgQuery } from "./connection.js";
import { type CopyFrom, type CopyTo, copyFromStdin, copyRowsIn, copyToStdout } from "./copy.js";
import { PgConnections } from "./pool.js";
import { PgStatements } from "./statements.js";
import { PgTypes } from "./types.js";

export { type CopyFrom, type CopyTo, probeCopyFrom, probeCopyTo } from "./copy.js";
export { PgConnection };

type Pg = typeof PgModule;

export interface PgAdapterOptions {
  pool: PoolConfig;
  features: ResolvedDriverFeatures<PgModule.PoolClient>;
  statementCacheSize: number;
  /** Characters of SQL text the prepared statements of one connection may hold. */
  statementCacheBytes: number;
  /**
   * pg-copy-streams' `from`, when installed (see probeCopyFrom). Without it the adapter declares no COPY, so bulk
   * calls choose JSON sources at every size instead of failing once a batch passes the COPY threshold.
   */
  copyFrom: CopyFrom | undefined;
  /** pg-copy-streams' `to`, when installed: user-written `COPY … TO STDOUT` through `execute`. */
  copyTo?: CopyTo | undefined;
}

export async function loadPg(feature: string): Promise<Pg> {
  const mod = await importDriver("pg", feature, () => import("pg").catch(rethrow) as Promise<Pg & { default?: Pg }>);
  return mod.default ?? mod;
}

export class PgAdapter implements Adapter<PgConnection> {
  readonly dialect = "postgres" as const;
  readonly parameterStyle = ParameterStyle.NUMERIC;
  readonly databaseLabel = "PostgreSQL";
  readonly capabilities: AdapterCapabilities;
  readonly introspector = postgresIntrospector as Introspector<PgConnection>;
  readonly namedLock = POSTGRES_SERVER_NAMED_LOCK;
  /** @internal The node-postgres pool; sessions are the supported way to use its clients. */
  readonly pool: PgModule.Pool;

  readonly #copyFrom: CopyFrom | undefined;
  readonly #copyTo: CopyTo | undefined;
  readonly #features: ResolvedDriverFeatures<PgModule.PoolClient>;
  readonly #connections: PgConnections;
  readonly #statements: PgStatements;
  readonly #batches: PgBatches;

  /** @internal Made by `PgConfig`. */
  constructor(pg: Pg, opts: PgAdapterOptions) {
    this.#copyFrom = opts.copyFrom;
    this.#copyTo = opts.copyTo;
    this.capabilities = {
      cancel: true,
      copy: opts.copyFrom !== undefined,
      // Bind/Execute per set and one Sync: the server runs the pipeline as one implicit transaction.
      pipeline: "atomic",
      cursors: "declare",
      savepoints: true,
      transactionalDdl: true,
      maxParameters: POSTGRES_MAX_PARAMETERS,
      sharedConnection: false,
      unpreparedParameters: true,
      resultColumnTypes: true,
      // Measured crossover of one JSON parameter vs COPY staging on PostgreSQL 15 (see driver/upsert.ts).
      bulkCopyThreshold: 2000,
    };
    this.#features = opts.features;
    const types = new PgTypes(pg, opts.features);
    this.#connections = new PgConnections(pg, opts.pool, {
      features: opts.features,
      types,
      statementCacheSize: opts.statementCacheSize,
      statementCacheBytes: opts.statementCacheBytes,
    });
    this.pool = this.#connections.pool;
    this.#statements = new PgStatements(pg.Query, types);
    this.#batches = new PgBatches(types);
  }

  // ------------------------------------------------------------------------------------------------ pool

  acquire(options?: AcquireOptions<PgConnection>): Promise<PgConnection> {
    return this.#connections.acquire(options);
  }

  state(conn: PgConnection): ConnectionState {
    return conn;
  }

  /** Fails the statements still queued without sending them, and cancels the one the server runs. */
  async interrupt(conn: PgConnection): Promise<boolean> {
    conn.turns.failAll(
      () => new OperationCancelledError("PostgreSQL statement cancelled before it was sent: its session was released"),
    );
    const client = conn.client as PgClient;
    // Queries handed to the client behind sqlspec's back (through `conn.client`) queue in node-postgres itself.
    const queue = client._queryQueue ?? [];
    for (const q of queue.splice(0)) {
      const err = Object.assign(new Error("canceling statement due to user request"), { code: "57014" });
      const pq = q as PgQuery;
      if (pq.callback !== undefined) pq.callback(err, []);
      else (pq as unknown as { handleError(e: unknown): void }).handleError(err);
    }
    const active =
      typeof client._getActiveQuery === "function"
        ? client._getActiveQuery()
        : (client as unknown as { activeQuery?: unknown; _activeQuery?: unknown })._activeQuery;
    if (active === undefined || active === null) return true;
    if (client.processID === null || client.secretKey === null) return false;
    return sendCancelRequest(client.host, client.port, client.processID, client.secretKey);
  }

  release(conn: PgConnection, error?: unknown): Promise<void> {
    return this.#connections.release(conn, error);
  }

  poolStats(): PoolStats {
    return this.#connections.stats();
  }

  close(): Promise<void> {
    return this.#connections.close();
  }

  // ------------------------------------------------------------------------------------------------ queries

  query(conn: PgConnection, sql: string, params: unknown[], opts: QueryOptions): Promise<RawResult> {
    return this.#statements.query(conn, sql, params, opts);
  }

  /**
   * executeMany as one pipeline: Parse (once per connection for a named statement), then Bind + Execute per set and a
   * single Sync, so N sets cost one round trip instead of N. Up to the Sync the server runs them in one implicit
   * transaction, so the batch is atomic even outside an explicit one.
   */
  queryMany(conn: PgConnection, sql: string, paramSets: unknown[][], opts: QueryOptions): Promise<RawResult> {
    return this.#batches.queryMany(conn, sql, paramSets, opts);
  }

  /** executeStack: every statement in one pipeline (pipeline.ts), so one round trip and one implicit transaction. */
  queryStack(conn: PgConnection, statements: readonly StackStatement[], _opts: QueryOptions): Promise<RawResult[]> {
    return this.#batches.queryStack(conn, statements);
  }

  /** COPY … FROM STDIN through pg-copy-streams, fed by the shared text encoder with backpressure. */
  copyIn(
    conn: PgConnection,
    table: string,
    columns: string[],
    rows: AsyncIterable<unknown[]> | Iterable<unknown[]>,
    columnTypes?: string[],
    copyOptions?: CopyInOptions,
  ): Promise<number> {
    return copyRowsIn(
      conn,
      this.#copyFrom,
      table,
      columns,
      rows,
      columnTypes,
      copyOptions,
      this.#features.jsonSerializer,
    );
  }

  /** A user-written COPY … FROM STDIN fed with `data` (bytes as given); rows from the command tag. */
  copyFromStdin(conn: PgConnection, sql: string, data: AsyncIterable<Uint8Array>, opts: QueryOptions): Promise<number> {
    return copyFromStdin(conn, this.#copyFrom, sql, data, opts);
  }

  /** A user-written COPY … TO STDOUT: each chunk to `write` (awaited: backpressure); rows from the command tag. */
  copyToStdout(
    conn: PgConnection,
    sql: string,
    write: (chunk: Uint8Array) => void | Promise<void>,
    opts: QueryOptions,
  ): Promise<number> {
    return copyToStdout(conn, this.#copyTo, sql, write, opts);
  }

  mapError(err: unknown, _sql: string): SQLSpecError {
    return mapPostgresError(err);
  }
}
