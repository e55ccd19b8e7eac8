/**
 * The node-postgres adapter: the measured-fastest Node PostgreSQL path. Everything here is the Adapter contract;
 * codecs, errors, command tags, COPY encoding and catalog queries are shared in ../postgres-common.
 *
 * Hot path (a repeated parameterised statement): one Map lookup for the named statement, a `pg.Query` built from the
 * text (no config clone, no extra promise from `client.query`), rows parsed once by pg with our per-pool parsers,
 * and the column-name array reused from the statement's first execution.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type * as PgModule from "pg";
import {
  DatabaseConnectionError,
  MissingDependencyError,
  OperationCancelledError,
  PoolTimeoutError,
  type SQLSpecError,
} from "../../core/errors.js";
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
  TransactionStatus,
} from "../../driver/adapter.js";
import { RELEASED, StackFailure } from "../../driver/adapter.js";
import type { PoolConfig, ResetOnRelease, ResolvedDriverFeatures } from "../../driver/config.js";
import { importDriver, rethrow } from "../../driver/dependencies.js";
import { poolClosedError } from "../../driver/pool.js";
import { boundedAcquire, sendCancelRequest } from "../postgres-common/cancel.js";
import { postgresIntrospector } from "../postgres-common/catalog.js";
import {
  encodePgParams,
  NEEDS_TYPES,
  PgTypeParsers,
  parsePgArray,
  parseVector,
  reparse,
  VECTOR_TYPE_SQL,
} from "../postgres-common/codecs.js";
import { changesSchema, parseCommandTag, rowsAffectedFor } from "../postgres-common/command-tag.js";
import { copyFromStdinSql, encodeCopyRows, encodeCopySource } from "../postgres-common/copy.js";
import { refuseCopyStdio } from "../postgres-common/copy-guard.js";
import {
  isBrokenConnectionError,
  isStaleStatementError,
  lostConnectionError,
  mapPostgresError,
  type ServerFatal,
  serverFatalOf,
} from "../postgres-common/errors.js";
import { POSTGRES_MAX_PARAMETERS } from "../postgres-common/limits.js";
import { POSTGRES_SERVER_NAMED_LOCK } from "../postgres-common/lock.js";
import { pgResultColumnTypes } from "../postgres-common/result-types.js";
import {
  type ResetOps,
  resetPostgresConnection,
  SESSION_SETTINGS_SQL,
  type SessionSettings,
  sessionSettingsOf,
  statementChangesSettings,
  transactionStatusOf,
} from "../postgres-common/session-state.js";
import { type PreparedStatement, StatementCache } from "../postgres-common/statement-cache.js";
import { type PipelineResult, runPipeline } from "./pipeline.js";
import { StatementRun, Turns } from "./turns.js";

type Pg = typeof PgModule;
type PgClient = PgModule.PoolClient & PgClientInternals;
type Parser = (text: string) => unknown;

/** node-postgres internals we rely on (stable across pg 8.x). */
interface PgClientInternals {
  processID: number | null;
  secretKey: number | null;
  host: string;
  port: number;
  _queryable: boolean;
  /** False from sending a query until its ReadyForQuery arrives. */
  readyForQuery: boolean;
  /** The query the server is answering (pg ≥ 8.12 has the getter; older versions only the field). */
  _getActiveQuery?: () => unknown;
  _activeQuery?: unknown;
  _queryQueue?: unknown[];
  getTransactionStatus(): string | null;
  _ending: boolean;
  connection: {
    parsedStatements: Record<string, string>;
    submittedNamedStatements: Record<string, string>;
    stream: { cork?: () => void; uncork?: () => void };
    bind(b: { portal: string; statement: string; values: unknown[] }): void;
    execute(e: { portal: string; rows: number }): void;
    once(event: string, fn: (msg: unknown) => void): void;
    on(event: string, fn: (msg: unknown) => void): void;
    removeListener(event: string, fn: (msg: unknown) => void): void;
    parse(q: { text: string; name: string; types: number[] }): void;
    describe(q: { type: "S" | "P"; name: string }): void;
    close(q: { type: "S" | "P"; name: string }): void;
    sync(): void;
  };
}

/** A checkout waiting in pg-pool's queue; its callback settles the promise `pool.connect()` returned. */
interface PgPendingCheckout {
  callback(err: Error | undefined, client?: unknown, done?: unknown): void;
}

type PgQuery = PgModule.Query & {
  name?: string;
  callback?: (err: Error | undefined, res: PgResult | PgResult[]) => void;
};

interface PgField {
  name: string;
  dataTypeID: number;
}

interface PgResult {
  command: string | null;
  rowCount: number | null;
  rows: Row[];
  fields: PgField[];
}

/** One pooled connection plus the state sqlspec keeps for it (its ConnectionState, read from the protocol). */
export class PgConnection implements ConnectionState {
  /** @internal Named prepared statements on this connection (undefined when statementCacheSize is 0). */
  readonly statements: StatementCache | undefined;
  /** @internal Set when the socket failed: the connection is discarded on release. */
  broken = false;
  /** @internal The FATAL error the server sent as it closed the connection (57P01 from pg_terminate_backend). */
  closedBy: ServerFatal | undefined = undefined;
  settingsChanged = false;
  /** pg has no driver cursor here: streams use the session's DECLARE/FETCH, which the transaction owns. */
  readonly openCursors = 0;
  /** @internal What onConnectionCreate set (restored after a reset). */
  baseline: SessionSettings | undefined;
  /** @internal The session's statements, one at a time (node-postgres must not be handed a query while busy). */
  readonly turns = new Turns();

  /** @internal Made by the adapter when it acquires a client. */
  constructor(
    /** The node-postgres client; use it for anything sqlspec does not wrap. */
    readonly client: PgModule.PoolClient,
    cacheSize: number,
    cacheBytes: number,
  ) {
    this.statements = cacheSize > 0 ? new StatementCache(cacheSize, cacheBytes) : undefined;
  }

  /** ReadyForQuery's status byte as node-postgres last received it. */
  get transaction(): TransactionStatus {
    return transactionStatusOf((this.client as PgClient).getTransactionStatus() ?? undefined);
  }

  /** Named prepared statements cached on this connection. */
  get preparedStatements(): number {
    return this.statements?.size ?? 0;
  }
}

const CONN = Symbol("sqlspec.pg.connection");
const EMPTY: string[] = [];
const asText: Parser = (text) => text;
/** Above this many entries the per-pool parameter-type cache is simply cleared (statements are few in practice). */
const PARAM_TYPES_LIMIT = 2000;

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

  readonly #pg: Pg;
  readonly #copyFrom: CopyFrom | undefined;
  readonly #copyTo: CopyTo | undefined;
  readonly #features: ResolvedDriverFeatures<PgModule.PoolClient>;
  readonly #cacheSize: number;
  readonly #cacheBytes: number;
  readonly #acquireTimeoutMs: number | undefined;
  readonly #resetMode: ResetOnRelease;
  #closed = false;
  readonly #maxSize: number;
  /**
   * pg-pool's queue of checkouts waiting for a busy pool: close() fails them at once (pg-pool would leave them
   * pending until its timeout, or forever). Undefined if a pg-pool version keeps it elsewhere: then each waiting
   * checkout is wrapped instead (#closable), which costs a promise per checkout.
   */
  readonly #pendingQueue: PgPendingCheckout[] | undefined;
  /** Rejects each checkout waiting for a busy pool (only without #pendingQueue). */
  readonly #onClose = new Set<() => void>();
  /** Parsers by OID, shared by every connection of the pool (pgvector's and user types are added once known). */
  readonly #types: PgTypeParsers;
  /** Server-reported parameter types per statement text; only consulted when an array is bound. */
  readonly #paramTypes = new Map<string, number[]>();
  #vectorOid = -1;
  #vectorChecked = false;

  /** @internal Made by `PgConfig`. */
  constructor(pg: Pg, opts: PgAdapterOptions) {
    this.#pg = pg;
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
    this.#cacheSize = opts.statementCacheSize;
    this.#cacheBytes = opts.statementCacheBytes;
    const p = opts.pool;
    this.#acquireTimeoutMs = p.acquireTimeoutMs;
    this.#resetMode = p.resetOnRelease ?? "auto";
    this.#maxSize = p.maxSize ?? 10;
    const f = this.#features;
    this.#types = new PgTypeParsers({
      int8: f.int8,
      timestamps: f.timestamps,
      json: f.enableJsonCodecs ? f.jsonDeserializer : undefined,
    });

    const connectTimeoutMs = p.connectTimeoutMs ?? 10_000;
    // pg-pool's connectionTimeoutMillis would bound both the wait for a client and the connect (killing a slow
    // connect): acquire() bounds the wait itself, and the client gets its own connect limit.
    class Client extends pg.Client {
      constructor(config: PgModule.ClientConfig) {
        super({ ...config, connectionTimeoutMillis: connectTimeoutMs });
      }
    }
    const types = { getTypeParser: this.#getTypeParser };
    const config: PgModule.PoolConfig & { onConnect?: (c: PgModule.PoolClient) => Promise<void> } = {
      Client: Client as unknown as PgModule.PoolConfig["Client"],
      types: types as unknown as PgModule.CustomTypesConfig,
      max: p.maxSize ?? 10,
      min: p.minSize ?? 0,
      idleTimeoutMillis: p.idleTimeoutMs ?? 10_000,
      maxLifetimeSeconds: p.maxLifetimeMs ? Math.max(1, Math.ceil(p.maxLifetimeMs / 1000)) : 0,
      // Idle pooled sockets must not keep a script alive after its work is done.
      allowExitOnIdle: true,
      onConnect: (c) => this.#setupConnection(c as PgClient),
    };
    if (p.connectionString !== undefined) config.connectionString = p.connectionString;
    if (p.host !== undefined) config.host = p.host;
    if (p.port !== undefined) config.port = p.port;
    if (p.user !== undefined) config.user = p.user;
    if (p.password !== undefined) config.password = p.password;
    if (p.database !== undefined) config.database = p.database;
    if (p.ssl !== undefined) config.ssl = p.ssl as PgModule.PoolConfig["ssl"];
    if (p.statementTimeoutMs !== undefined) config.statement_timeout = p.statementTimeoutMs;
    config.application_name = p.applicationName ?? "sqlspec";
    this.pool = new pg.Pool(config);
    const queue = (this.pool as unknown as { _pendingQueue?: unknown })._pendingQueue;
    this.#pendingQueue = Array.isArray(queue) ? (queue as PgPendingCheckout[]) : undefined;
    // An idle client whose backend dies emits 'error' on the pool; pg-pool already drops it.
    this.pool.on("error", () => {});
    const min = p.minSize ?? 0;
    if (min > 0) {
      // Warm the pool in the background; failures surface on the first acquire instead.
      void Promise.allSettled(Array.from({ length: min }, () => this.pool.connect())).then((rs) => {
        for (const r of rs) if (r.status === "fulfilled") r.value.release();
      });
    }
  }

  // ------------------------------------------------------------------------------------------------ codecs

  /**
   * Every text value goes through the shared table (postgres-common/codecs): a type it does not list reads as the
   * server's text, never through pg-types' own parsers, so pg agrees with postgres.js and PGlite value for value.
   */
  readonly #getTypeParser = (oid: number, format?: string): Parser => {
    if (format === undefined || format === "text") return this.#types.table[oid] ?? asText;
    return this.#pg.types.getTypeParser(oid, format as "text") as Parser;
  };

  /** Looks up types the table did not know when pg parsed this result (enum/domain arrays) and converts their values. */
  async #resolveTypes(client: PgClient, res: PgResult): Promise<void> {
    const unknown: [string, number][] = [];
    for (const f of res.fields) if (this.#types.unknown(f.dataTypeID)) unknown.push([f.name, f.dataTypeID]);
    if (unknown.length === 0) return;
    await this.#types.resolve(
      unknown.map((u) => u[1]),
      async (sql, params) => ((await client.query(sql, params)) as unknown as PgResult).rows,
    );
    reparse(res.rows, unknown, this.#types);
  }

  /** Runs once per new physical connection: sqlspec's setup first (pgvector), then the user's hook. */
  async #setupConnection(client: PgClient): Promise<void> {
    const conn = new PgConnection(client, this.#cacheSize, this.#cacheBytes);
    (client as unknown as Record<symbol, PgConnection>)[CONN] = conn;
    // While checked out, pg-pool has no listener: without ours a dying socket would be an uncaught 'error'.
    client.on("error", (err) => {
      conn.broken = true;
      // The server's reason (57P01 …) is what later statements report, as one running when it came does.
      conn.closedBy ??= serverFatalOf(err);
    });
    if (this.#features.enablePgvector && !this.#vectorChecked) {
      const r = (await client.query(VECTOR_TYPE_SQL)) as unknown as PgResult;
      this.#vectorChecked = true;
      const row = r.rows[0] as { oid: number; array_oid: number } | undefined;
      if (row) {
        this.#vectorOid = row.oid;
        this.#types.set(row.oid, parseVector);
        this.#types.set(row.array_oid, (text) => parsePgArray(text, parseVector));
      }
    }
    if (this.#features.onConnectionCreate) {
      await this.#features.onConnectionCreate(client);
      // Whatever the hook SET is this connection's baseline: a reset restores it.
      conn.baseline = sessionSettingsOf(((await client.query(SESSION_SETTINGS_SQL)) as unknown as PgResult).rows);
    }
    // A reported parameter (TimeZone, DateStyle, search_path on newer servers, …) changed behind a statement.
    client.connection.on("parameterStatus", () => {
      conn.settingsChanged = true;
    });
  }

  /** Bound values as sqlspec documents them (postgres-common/codecs: UTC Dates, JSON, arrays by parameter type). */
  #encode(params: unknown[], types: number[] | undefined): unknown[] {
    return encodePgParams(params, this.#features.jsonSerializer, types, this.#vectorOid);
  }

  /** Parameter types as the server infers them (Parse + Describe statement), cached per pool and statement text. */
  async #describeParams(client: PgClient, sql: string): Promise<number[]> {
    const known = this.#paramTypes.get(sql);
    if (known !== undefined) return known;
    const types = await new Promise<number[]>((resolve, reject) => {
      let got: number[] = [];
      const onDesc = (msg: unknown): void => {
        got = (msg as { dataTypeIDs: number[] }).dataTypeIDs;
      };
      const con = client.connection;
      const noop = (): void => {};
      const submittable = {
        submit(connection: PgClientInternals["connection"]): void {
          connection.once("parameterDescription", onDesc);
          connection.stream.cork?.();
          connection.parse({ text: sql, name: "", types: [] });
          connection.describe({ type: "S", name: "" });
          connection.sync();
          connection.stream.uncork?.();
        },
        handleRowDescription: noop,
        handleDataRow: noop,
        handleCommandComplete: noop,
        handleEmptyQuery: noop,
        handlePortalSuspended: noop,
        handleCopyInResponse: noop,
        handleCopyData: noop,
        handleError(err: unknown): void {
          con.removeListener("parameterDescription", onDesc);
          void untilReady(client).then(() => reject(err));
        },
        handleReadyForQuery(): void {
          resolve(got);
        },
      };
      client.query(submittable as unknown as PgModule.Submittable);
    });
    if (this.#paramTypes.size >= PARAM_TYPES_LIMIT) this.#paramTypes.clear();
    this.#paramTypes.set(sql, types);
    return types;
  }

  // ------------------------------------------------------------------------------------------------ pool

  async acquire(options?: AcquireOptions<PgConnection>): Promise<PgConnection> {
    if (this.#closed) throw poolClosedError("PostgreSQL", false);
    try {
      const pool = this.pool;
      // Without an idle client the checkout either opens a connection (not in pg-pool's queue, so close() cannot
      // reach it there) or waits in the queue (reachable unless #pendingQueue is missing).
      const opens = pool.idleCount === 0 && pool.totalCount < this.#maxSize;
      const closable = opens || (pool.idleCount === 0 && this.#pendingQueue === undefined);
      const queue = this.#pendingQueue;
      const queued = queue?.length ?? 0;
      let pending = pool.connect();
      // The checkout pg-pool queued, if it did (it opens a connection for the others).
      const waiting = queue !== undefined && queue.length > queued ? queue[queue.length - 1] : undefined;
      if (closable) pending = this.#closable(pending);
      // acquireTimeoutMs is applied here, not by pg-pool: pg-pool's timer destroys the connection it is opening for
      // the checkout, so with connects slower than the limit no acquire would ever be served. Given up here, the
      // connection still opens and goes back to the pool (the next waiter or the idle list).
      const poolMs = this.#acquireTimeoutMs;
      const callMs = options?.timeoutMs;
      const byPool = poolMs !== undefined && (callMs === undefined || poolMs <= callMs);
      const client =
        options?.signal !== undefined || callMs !== undefined || poolMs !== undefined
          ? await boundedAcquire(
              pending,
              {
                signal: options?.signal,
                timeoutMs: byPool ? poolMs : callMs,
                timedOut: byPool ? () => this.#acquireTimedOut(opens) : undefined,
                // A queued checkout leaves pg-pool's queue, as pg-pool's own timer would take it out.
                withdraw: waiting === undefined ? undefined : () => removeItem(queue, waiting),
              },
              (c) => c.release(),
              "PostgreSQL",
            )
          : await pending;
      if (this.#closed) {
        // A client pg-pool handed out as close() began (from its queue, which close() empties only after this).
        client.release(new Error("sqlspec: pool closed"));
        throw poolClosedError("PostgreSQL", true);
      }
      return (client as unknown as Record<symbol, PgConnection>)[CONN] as PgConnection;
    } catch (err) {
      throw err instanceof PoolTimeoutError ? err : this.#mapAcquireError(err);
    }
  }

  /**
   * A checkout that opens a connection, or waits for a busy pool, rejects at once when close() is called (pg-pool
   * would settle it when the connection arrives, or leave it pending until its timeout, or forever); a client it gets
   * later goes straight back, and pg-pool, ending, closes it. Waiting checkouts use it only when pg-pool's queue is not
   * reachable (a promise and a closure per checkout: measured ~10 µs CPU per query with 16 callers on 8 connections).
   */
  #closable(pending: Promise<PgModule.PoolClient>): Promise<PgModule.PoolClient> {
    return new Promise((resolve, reject) => {
      const onClose = (): void => reject(poolClosedError("PostgreSQL", true));
      this.#onClose.add(onClose);
      pending.then(
        (client) => {
          const waiting = this.#onClose.delete(onClose);
          if (waiting) resolve(client);
          else client.release();
        },
        (err) => {
          this.#onClose.delete(onClose);
          reject(err);
        },
      );
    });
  }

  #acquireTimedOut(opening: boolean): PoolTimeoutError {
    const ms = this.#acquireTimeoutMs;
    return new PoolTimeoutError(
      opening
        ? `PostgreSQL pool: no connection within acquireTimeoutMs=${ms} ms (a new connection was still being opened)`
        : `PostgreSQL pool: no free connection within acquireTimeoutMs=${ms} ms (maxSize reached)`,
    );
  }

  #mapAcquireError(err: unknown): SQLSpecError {
    const msg = err instanceof Error ? err.message : String(err);
    if (msg.includes("connection timeout") || msg.includes("timeout expired")) {
      return new DatabaseConnectionError(`PostgreSQL connection error: ${msg}`, { cause: err });
    }
    return mapPostgresError(err);
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
    // A statement settled before node-postgres was ready for the next one (see #pass): the reset waits for that.
    if (conn.turns.busy) return this.#afterTurn(conn).then(() => this.release(conn, error));
    const client = conn.client as PgClient;
    if (
      conn.broken ||
      !client._queryable ||
      client._ending ||
      (error !== undefined && isBrokenConnectionError(error))
    ) {
      return this.#giveBack(conn, true);
    }
    // Common case: nothing to reset, hand it straight back.
    if (client.getTransactionStatus() === "I" && !conn.settingsChanged && this.#resetMode !== true) {
      client.release();
      return RELEASED;
    }
    return resetPostgresConnection(this.#resetOps(conn), this.#resetMode, conn.baseline).then((ok) =>
      this.#giveBack(conn, !ok),
    );
  }

  /** Resolves once the statement holding the connection handed it on (nothing else queues at release). */
  async #afterTurn(conn: PgConnection): Promise<void> {
    await conn.turns.take();
    conn.turns.pass();
  }

  #giveBack(conn: PgConnection, discard: boolean): Promise<void> {
    if (discard) conn.statements?.clear();
    (conn.client as PgClient).release(discard ? new Error("sqlspec: connection discarded") : undefined);
    return RELEASED;
  }

  #resetOps(conn: PgConnection): ResetOps {
    const client = conn.client as PgClient;
    return {
      state: conn,
      run: (sql, params) => client.query(sql, params),
      forgetPreparedStatements: () => this.#forgetStatements(conn),
      settingsRestored: () => {
        conn.settingsChanged = false;
      },
    };
  }

  /** The server dropped every prepared statement (DISCARD ALL / DEALLOCATE ALL): so do pg and our cache. */
  #forgetStatements(conn: PgConnection): void {
    conn.statements?.clear();
    const parsed = (conn.client as PgClient).connection.parsedStatements;
    for (const name of Object.keys(parsed)) delete parsed[name];
  }

  poolStats(): PoolStats {
    const p = this.pool;
    return { idle: p.idleCount, used: p.totalCount - p.idleCount, pending: p.waitingCount };
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const reject of this.#onClose) reject();
    this.#onClose.clear();
    // Removed from the queue first: a client released meanwhile is never handed to a checkout that already failed.
    for (const waiting of this.#pendingQueue?.splice(0) ?? []) waiting.callback(poolClosedError("PostgreSQL", true));
    await this.pool.end();
  }

  // ------------------------------------------------------------------------------------------------ queries

  async query(conn: PgConnection, sql: string, params: unknown[], opts: QueryOptions): Promise<RawResult> {
    const client = conn.client as PgClient;
    if (conn.broken) throw brokenError(conn);
    refuseCopyStdio(sql);
    if (opts.signal?.aborted) throw cancelledBeforeSent(opts.signal);
    let values: unknown[] | undefined = params.length > 0 ? this.#encode(params, undefined) : undefined;
    const run = opts.signal !== undefined || opts.timeoutMs !== undefined ? this.#statementRun(conn, opts) : undefined;
    // The connection's turn: taken at once when no statement of the session runs (no promise), else queued (FIFO).
    const waiting = conn.turns.take(run);
    let turn = waiting === undefined;
    try {
      if (!turn) {
        await waiting;
        turn = true;
        if (conn.broken) throw brokenError(conn);
      }
      /** The parameter types came from the per-pool cache (described by an earlier call, maybe before some DDL). */
      let cachedTypes = false;
      if (values === NEEDS_TYPES) {
        cachedTypes = this.#paramTypes.has(sql);
        values = this.#encode(params, await this.#describeParams(client, sql));
      }
      const cache = conn.statements;
      const status = client.getTransactionStatus();
      let stmt: PreparedStatement | undefined;
      if (cache !== undefined && values !== undefined && opts.prepare !== false && status !== "E") {
        stmt = cache.get(sql);
        if (cache.evicted.length > 0) await this.#deallocate(client, cache);
      }
      // Prepared by an earlier call: its plan and parameter types were fixed before any DDL since.
      const reused = stmt !== undefined && client.connection.parsedStatements[stmt.name] !== undefined;
      let res: PgResult;
      try {
        res = await this.#execute(client, sql, values, stmt, run);
      } catch (err) {
        const stale = this.#forgetStale(conn, sql, stmt, cachedTypes, err);
        // Retried once, re-described and unnamed, when the server may have rejected what an earlier call fixed (the
        // plan, the parameter types, the statement itself) and no transaction was open (inside one it is aborted).
        if (!stale || !(reused || cachedTypes) || status !== "I" || conn.broken || run?.kind !== undefined) {
          throw this.#queryError(conn, err, run?.kind);
        }
        try {
          if (cachedTypes) values = this.#encode(params, await this.#describeParams(client, sql));
          res = await this.#execute(client, sql, values, undefined, run);
        } catch (err2) {
          this.#forgetStale(conn, sql, undefined, true, err2);
          throw this.#queryError(conn, err2, run?.kind);
        }
        stmt = undefined;
      }
      let columns: string[];
      if (stmt !== undefined) {
        columns = stmt.columns ??= fieldNames(res.fields);
      } else {
        columns = res.fields.length === 0 ? EMPTY : fieldNames(res.fields);
      }
      const command = res.command ?? "";
      this.#noteCommand(conn, command, sql, opts.tempStage === true);
      // A result carrying a type the table has not seen yet (a user enum/domain array, a catalog row type).
      for (const f of res.fields) {
        if (f.dataTypeID >= 10_000 && this.#types.unknown(f.dataTypeID)) {
          await this.#resolveTypes(client, res);
          break;
        }
      }
      if (opts.onColumnTypes !== undefined) {
        opts.onColumnTypes(
          pgResultColumnTypes(
            res.fields.map((f) => f.dataTypeID),
            this.#features.timestamps,
          ),
        );
      }
      return { rows: res.rows, columns, rowsAffected: rowsAffectedFor(command, res.rowCount), command };
    } finally {
      // A cancel sent for this statement is resolved before the next statement gets the connection.
      if (run !== undefined && !(await run.finish())) conn.broken = true;
      if (turn) this.#pass(conn);
    }
  }

  /**
   * Hands the connection's turn on once node-postgres is ready for the next statement (a statement that failed
   * settles at its ReadyForQuery already, but a helper round trip may reject on the ErrorResponse before it).
   */
  #pass(conn: PgConnection): void {
    const client = conn.client as PgClient;
    if (client.readyForQuery || conn.broken || !client._queryable || client._ending) conn.turns.pass();
    else void untilReady(client).then(() => conn.turns.pass());
  }

  /**
   * Runs `work` (a statement that is not the hot path: pipelines, COPY) in the connection's turn, then hands the turn
   * on; `run` (its timeoutMs/signal) is resolved first.
   */
  async #inTurn<T>(conn: PgConnection, run: StatementRun | undefined, work: () => Promise<T>): Promise<T> {
    const waiting = conn.turns.take(run);
    let turn = waiting === undefined;
    try {
      if (!turn) {
        await waiting;
        turn = true;
        if (conn.broken) throw brokenError(conn);
      }
      return await work();
    } finally {
      if (run !== undefined && !(await run.finish())) conn.broken = true;
      if (turn) this.#pass(conn);
    }
  }

  /** A statement's timeoutMs/signal: withdrawn while queued, cancelled on the server only while it runs. */
  #statementRun(
    conn: PgConnection,
    opts: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined },
  ): StatementRun {
    return new StatementRun(conn.turns, opts, (submitted) => this.#cancelRunning(conn.client as PgClient, submitted));
  }

  /** What a completed statement changed on the connection: settings, or the server's prepared statements. */
  #noteCommand(conn: PgConnection, command: string, sql: string, tempStage = false): void {
    if (command === "DISCARD" || command === "DEALLOCATE") {
      // node-postgres keeps only the tag's first word: assume every statement is gone (a re-Parse is cheap).
      this.#forgetStatements(conn);
      if (command === "DISCARD") conn.settingsChanged = true;
    } else if (!tempStage && changesSchema(command)) {
      // Statements prepared before it keep the old types: close them lazily (next use), and describe texts again.
      conn.statements?.evictAll();
      this.#paramTypes.clear();
    } else if (!conn.settingsChanged && statementChangesSettings(command, sql)) {
      conn.settingsChanged = true;
    }
  }

  #execute(
    client: PgClient,
    sql: string,
    values: unknown[] | undefined,
    stmt: PreparedStatement | undefined,
    run: StatementRun | undefined,
  ): Promise<PgResult> {
    // A pg.Query built from the text skips client.query's config clone and its extra promise.
    const q = new this.#pg.Query(sql, values) as PgQuery;
    if (stmt !== undefined) q.name = stmt.name;
    // Without values node-postgres would use the simple protocol, which runs `…; DROP …` stacked behind a statement.
    else if (values === undefined) (q as { queryMode?: string }).queryMode = "extended";
    if (run === undefined) return runQuery(client, q);
    try {
      run.check();
    } catch (err) {
      return Promise.reject(err);
    }
    run.submitted = q;
    return runQuery(client, q);
  }

  #queryError(conn: PgConnection, err: unknown, kind: "timeout" | "cancel" | undefined): SQLSpecError {
    const mapped = mapPostgresError(err, kind);
    const client = conn.client as PgClient;
    if (!client._queryable || isBrokenConnectionError(mapped)) conn.broken = true;
    return mapped;
  }

  /**
   * After a failed statement: a named statement the server rejected is forgotten (closed on the server later, or at
   * once gone when the server says it does not exist: then every statement of the connection is, as after DEALLOCATE
   * ALL or behind a pooler), and cached parameter types are dropped. Returns whether the error can mean that
   * something an earlier call fixed went stale.
   */
  #forgetStale(
    conn: PgConnection,
    sql: string,
    stmt: PreparedStatement | undefined,
    cachedTypes: boolean,
    err: unknown,
  ): boolean {
    const code = (err as { code?: unknown }).code;
    const stale = isStaleStatementError(err);
    if (stale && cachedTypes) this.#paramTypes.delete(sql);
    if (stmt === undefined) return stale;
    const client = conn.client as PgClient;
    if (code === "26000") {
      this.#forgetStatements(conn);
      return true;
    }
    // A failed Parse leaves no server statement; a stale one exists and is closed with the next evictions.
    if (stale || client.connection.parsedStatements[stmt.name] === undefined) {
      conn.statements?.delete(sql);
      if (client.connection.parsedStatements[stmt.name] !== undefined) conn.statements?.evicted.push(stmt.name);
    }
    return stale;
  }

  /**
   * Closes evicted statements on the server (protocol Close + Sync: one round trip, only when the LRU overflows or a
   * statement went stale). Closing a statement that no longer exists is not an error, so this never fails a
   * transaction.
   */
  async #deallocate(client: PgClient, cache: StatementCache): Promise<void> {
    const names = cache.evicted;
    cache.evicted = [];
    const parsed = client.connection.parsedStatements;
    const closing: string[] = [];
    for (const n of names) {
      if (parsed[n] === undefined) continue;
      delete parsed[n];
      closing.push(n);
    }
    if (closing.length === 0) return;
    await new Promise<void>((resolve, reject) => {
      const noop = (): void => {};
      const submittable = {
        submit(connection: PgClientInternals["connection"]): void {
          connection.stream.cork?.();
          for (const name of closing) connection.close({ type: "S", name });
          connection.sync();
          connection.stream.uncork?.();
        },
        handleRowDescription: noop,
        handleDataRow: noop,
        handleCommandComplete: noop,
        handleEmptyQuery: noop,
        handlePortalSuspended: noop,
        handleCopyInResponse: noop,
        handleCopyData: noop,
        handleError: reject,
        handleReadyForQuery: () => resolve(),
      };
      client.query(submittable as unknown as PgModule.Submittable);
    });
  }

  /** Cancels `submitted` on the server if the server is running it (only then: a cancel goes by backend PID). */
  #cancelRunning(client: PgClient, submitted: object): Promise<boolean> | undefined {
    const active =
      typeof client._getActiveQuery === "function"
        ? client._getActiveQuery()
        : "_activeQuery" in client
          ? client._activeQuery
          : (client as unknown as { activeQuery: unknown }).activeQuery;
    if (active !== submitted || client.processID === null || client.secretKey === null) return undefined;
    return sendCancelRequest(client.host, client.port, client.processID, client.secretKey);
  }

  /**
   * executeMany as one pipeline: Parse (once per connection for a named statement), then Bind + Execute per set and a
   * single Sync, so N sets cost one round trip instead of N. Up to the Sync the server runs them in one implicit
   * transaction, so the batch is atomic even outside an explicit one.
   */
  async queryMany(conn: PgConnection, sql: string, paramSets: unknown[][], opts: QueryOptions): Promise<RawResult> {
    if (conn.broken) throw brokenError(conn);
    refuseCopyStdio(sql);
    if (paramSets.length === 0) return { rows: [], columns: EMPTY, rowsAffected: 0, command: "" };
    if (opts.signal?.aborted) throw cancelledBeforeSent(opts.signal);
    const run = opts.signal !== undefined || opts.timeoutMs !== undefined ? this.#statementRun(conn, opts) : undefined;
    return this.#inTurn(conn, run, () => this.#pipelineSets(conn, sql, paramSets, opts, run));
  }

  async #pipelineSets(
    conn: PgConnection,
    sql: string,
    paramSets: unknown[][],
    opts: QueryOptions,
    run: StatementRun | undefined,
  ): Promise<RawResult> {
    const client = conn.client as PgClient;
    const prepareValue = await this.#prepareValue();
    let types: number[] | undefined;
    const sets = new Array<unknown[]>(paramSets.length);
    for (let i = 0; i < paramSets.length; i++) {
      let v = this.#encode(paramSets[i] as unknown[], types);
      if (v === NEEDS_TYPES) {
        types = await this.#describeParams(client, sql);
        v = this.#encode(paramSets[i] as unknown[], types);
      }
      // Encoded to wire text/bytes up front: a value that cannot be encoded must fail before anything is sent,
      // never halfway through a pipeline whose first sets would then commit.
      const wire = new Array<unknown>(v.length);
      for (let k = 0; k < v.length; k++) wire[k] = prepareValue(v[k]);
      sets[i] = wire;
    }
    const cache = conn.statements;
    const stmt =
      cache !== undefined && opts.prepare !== false && client.getTransactionStatus() !== "E"
        ? cache.get(sql)
        : undefined;
    if (cache !== undefined && cache.evicted.length > 0) await this.#deallocate(client, cache);
    try {
      run?.check();
      // Every set's rows (RETURNING), in set order: each Execute is preceded by a Describe of its portal, so the rows
      // can be parsed (a statement returning nothing answers NoData, a few bytes).
      const rows: Row[] = [];
      let fields: PgField[] = [];
      let parsers: ((text: string) => unknown)[] = [];
      const parserFor = (oid: number): ((text: string) => unknown) => this.#getTypeParser(oid, "text");
      const { total, command } = await new Promise<{ total: number; command: string }>((resolve, reject) => {
        let total = 0;
        let command = "";
        let failure: unknown;
        const noop = (): void => {};
        const name = stmt?.name ?? "";
        const batch = {
          text: sql,
          name: stmt?.name,
          submit(c: PgClientInternals["connection"]): void {
            c.stream.cork?.();
            try {
              if (
                name === "" ||
                (c.parsedStatements[name] === undefined && c.submittedNamedStatements[name] === undefined)
              ) {
                c.parse({ text: sql, name, types: [] });
                if (name !== "") c.submittedNamedStatements[name] = sql;
              }
              for (const values of sets) {
                c.bind({ portal: "", statement: name, values });
                c.describe({ type: "P", name: "" });
                c.execute({ portal: "", rows: 0 });
              }
              c.sync();
            } finally {
              c.stream.uncork?.();
            }
          },
          handleRowDescription(msg: { fields: PgField[] }): void {
            if (fields.length === 0) {
              fields = msg.fields;
              parsers = fields.map((f) => parserFor(f.dataTypeID));
            }
          },
          handleDataRow(msg: { fields: (string | null)[] }): void {
            const row: Row = {};
            for (let i = 0; i < fields.length; i++) {
              const v = msg.fields[i];
              row[(fields[i] as PgField).name] =
                v === null || v === undefined ? null : (parsers[i] as (t: string) => unknown)(v);
            }
            rows.push(row);
          },
          handleEmptyQuery: noop,
          handlePortalSuspended: noop,
          handleCopyInResponse: noop,
          handleCopyData: noop,
          handleCommandComplete(msg: { text: string }): void {
            const tag = parseCommandTag(msg.text);
            command = tag.command;
            total += rowsAffectedFor(tag.command, tag.rowsAffected);
          },
          handleError(err: unknown): void {
            failure = err;
            void untilReady(client).then(() => reject(err));
          },
          handleReadyForQuery(): void {
            if (failure === undefined) resolve({ total, command });
          },
        };
        if (run !== undefined) run.submitted = batch;
        client.query(batch as unknown as PgModule.Submittable);
      });
      if (fields.some((f) => f.dataTypeID >= 10_000 && this.#types.unknown(f.dataTypeID))) {
        await this.#resolveTypes(client, { command, rowCount: total, rows, fields });
      }
      return { rows, columns: fields.length === 0 ? EMPTY : fieldNames(fields), rowsAffected: total, command };
    } catch (err) {
      this.#forgetStale(conn, sql, stmt, types !== undefined, err);
      throw this.#queryError(conn, err, run?.kind);
    }
  }

  /** executeStack: every statement in one pipeline (pipeline.ts), so one round trip and one implicit transaction. */
  queryStack(conn: PgConnection, statements: readonly StackStatement[], _opts: QueryOptions): Promise<RawResult[]> {
    if (conn.broken) return Promise.reject(brokenError(conn));
    return this.#inTurn(conn, undefined, () => this.#pipelineStack(conn, statements));
  }

  async #pipelineStack(conn: PgConnection, statements: readonly StackStatement[]): Promise<RawResult[]> {
    const client = conn.client as PgClient;
    const prepareValue = await this.#prepareValue();
    const wire: StackStatement[] = [];
    for (const s of statements) {
      let v = s.values.length > 0 ? this.#encode(s.values, undefined) : s.values;
      if (v === NEEDS_TYPES) v = this.#encode(s.values, await this.#describeParams(client, s.sql));
      // Encoded up front: a value that cannot be encoded fails before anything is sent.
      wire.push({ sql: s.sql, values: v.map(prepareValue) });
    }
    let results: PipelineResult[];
    try {
      results = await runPipeline(
        (q) => client.query(q as unknown as PgModule.Submittable),
        wire,
        (oid) => this.#getTypeParser(oid, "text"),
      );
    } catch (err) {
      // The transaction status is current only after the pipeline's ReadyForQuery (see untilReady).
      await untilReady(client);
      if (err instanceof StackFailure) throw new StackFailure(err.index, this.#queryError(conn, err.error, undefined));
      throw this.#queryError(conn, err, undefined);
    }
    const out: RawResult[] = [];
    for (let i = 0; i < results.length; i++) {
      const r = results[i] as PipelineResult;
      this.#noteCommand(conn, r.command, (statements[i] as StackStatement).sql);
      if (r.fields.some((f) => f.dataTypeID >= 10_000 && this.#types.unknown(f.dataTypeID))) {
        await this.#resolveTypes(client, {
          command: r.command,
          rowCount: r.rowsAffected,
          rows: r.rows,
          fields: r.fields,
        });
      }
      const columns = r.fields.length === 0 ? EMPTY : fieldNames(r.fields);
      out.push({ rows: r.rows, columns, rowsAffected: r.rowsAffected, command: r.command });
    }
    return out;
  }

  #prepareValueFn: ((v: unknown) => unknown) | undefined;

  /** node-postgres' own value encoder (Date, Buffer, arrays, bigint), used for pipelined Binds. */
  async #prepareValue(): Promise<(v: unknown) => unknown> {
    if (this.#prepareValueFn === undefined) {
      const path = "pg/lib/utils.js";
      const utils = (await import(path)) as {
        prepareValue?: (v: unknown) => unknown;
        default?: { prepareValue: (v: unknown) => unknown };
      };
      this.#prepareValueFn =
        utils.prepareValue ?? (utils.default as { prepareValue: (v: unknown) => unknown }).prepareValue;
    }
    return this.#prepareValueFn;
  }

  /** COPY … FROM STDIN through pg-copy-streams, fed by the shared text encoder with backpressure. */
  async copyIn(
    conn: PgConnection,
    table: string,
    columns: string[],
    rows: AsyncIterable<unknown[]> | Iterable<unknown[]>,
    columnTypes?: string[],
    copyOptions?: CopyInOptions,
  ): Promise<number> {
    const from = this.#copyFrom;
    if (from === undefined) {
      throw new MissingDependencyError("pg-copy-streams", "PgConfig bulk loading (COPY)");
    }
    const options = { jsonSerializer: this.#features.jsonSerializer, columns };
    // An in-memory source's bad value fails before the COPY starts (encodeCopySource).
    const chunks =
      Symbol.asyncIterator in rows
        ? encodeCopyRows(rows, columnTypes, columns.length, options)
        : encodeCopySource(rows, columnTypes, columns.length, options);
    if (copyOptions?.beforeCopy) await copyOptions.beforeCopy();
    if (copyOptions?.signal?.aborted) {
      throw new OperationCancelledError("PostgreSQL COPY cancelled before it was sent", {
        cause: copyOptions.signal.reason,
      });
    }
    return this.#copyFromChunks(conn, from, copyFromStdinSql(table, columns), chunks, copyOptions);
  }

  /** A user-written COPY … FROM STDIN fed with `data` (bytes as given); rows from the command tag. */
  copyFromStdin(conn: PgConnection, sql: string, data: AsyncIterable<Uint8Array>, opts: QueryOptions): Promise<number> {
    const from = this.#copyFrom;
    if (from === undefined) {
      return Promise.reject(new MissingDependencyError("pg-copy-streams", "PgConfig COPY … FROM STDIN"));
    }
    if (conn.broken) return Promise.reject(brokenError(conn));
    return this.#copyFromChunks(conn, from, sql, data, opts);
  }

  /**
   * The COPY protocol through pg-copy-streams: the source is piped with backpressure; a server error (the server
   * leaves COPY mode and sends ReadyForQuery) or a failing source (pg-copy-streams sends CopyFail) settles once the
   * connection is ready again; `timeoutMs`/`signal` cancel it like a statement.
   */
  #copyFromChunks(
    conn: PgConnection,
    from: CopyFrom,
    sql: string,
    chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
    opts: QueryOptions | undefined,
  ): Promise<number> {
    if (opts?.signal?.aborted) return Promise.reject(cancelledBeforeSent(opts.signal));
    const run =
      opts?.signal !== undefined || opts?.timeoutMs !== undefined ? this.#statementRun(conn, opts) : undefined;
    return this.#inTurn(conn, run, async () => {
      const client = conn.client as PgClient;
      run?.check();
      const copy = from(sql);
      if (run !== undefined) run.submitted = copy;
      const sink = client.query(copy as never) as unknown as typeof copy;
      try {
        await pipeline(Readable.from(chunks), sink);
      } catch (err) {
        await untilReady(client);
        throw this.#queryError(conn, mapPostgresError(err, run?.kind), run?.kind);
      }
      return sink.rowCount ?? 0;
    });
  }

  /** A user-written COPY … TO STDOUT: each chunk to `write` (awaited: backpressure); rows from the command tag. */
  copyToStdout(
    conn: PgConnection,
    sql: string,
    write: (chunk: Uint8Array) => void | Promise<void>,
    opts: QueryOptions,
  ): Promise<number> {
    const to = this.#copyTo;
    if (to === undefined) {
      return Promise.reject(new MissingDependencyError("pg-copy-streams", "PgConfig COPY … TO STDOUT"));
    }
    if (conn.broken) return Promise.reject(brokenError(conn));
    if (opts.signal?.aborted) return Promise.reject(cancelledBeforeSent(opts.signal));
    const run = opts.signal !== undefined || opts.timeoutMs !== undefined ? this.#statementRun(conn, opts) : undefined;
    return this.#inTurn(conn, run, () => this.#copyOut(conn, to(sql), write, run));
  }

  async #copyOut(
    conn: PgConnection,
    copy: ReturnType<CopyTo>,
    write: (chunk: Uint8Array) => void | Promise<void>,
    run: StatementRun | undefined,
  ): Promise<number> {
    const client = conn.client as PgClient;
    run?.check();
    if (run !== undefined) run.submitted = copy;
    const stream = client.query(copy as never) as unknown as typeof copy;
    let consumerFailed = false;
    try {
      for await (const chunk of stream as AsyncIterable<Uint8Array>) {
        try {
          const pending = write(chunk);
          if (pending !== undefined) await pending;
        } catch (err) {
          consumerFailed = true;
          throw err;
        }
      }
      // The command tag (the row count) follows the data: the count is known once the connection is ready.
      await untilReady(client);
    } catch (err) {
      // A consumer that failed leaves the server mid-COPY with data nobody reads: the connection is not reused.
      // A server error ends the COPY (ErrorResponse, then ReadyForQuery): the connection is usable once ready.
      if (consumerFailed && !client.readyForQuery) conn.broken = true;
      await untilReadyOrBroken(client, conn);
      throw this.#queryError(conn, mapPostgresError(err, run?.kind), run?.kind);
    }
    return stream.rowCount ?? 0;
  }

  mapError(err: unknown, _sql: string): SQLSpecError {
    return mapPostgresError(err);
  }
}

export type CopyFrom = (sql: string) => NodeJS.WritableStream & PgModule.Submittable & { rowCount?: number };
export type CopyTo = (sql: string) => NodeJS.ReadableStream & PgModule.Submittable & { rowCount?: number };

/** pg-copy-streams' `to`, once probeCopyFrom has loaded the package. */
let copyTo: CopyTo | undefined;

/** pg-copy-streams' `to`, or undefined when the package is not installed. */
export async function probeCopyTo(): Promise<CopyTo | undefined> {
  await probeCopyFrom();
  return copyTo;
}

/** pg-copy-streams, imported once per process (a dynamic import per COPY costs ~13 ms under tsx). */
let copyFrom: Promise<CopyFrom | undefined> | undefined;

/** pg-copy-streams' `from`, or undefined when the package is not installed (a broken install still throws). */
export function probeCopyFrom(): Promise<CopyFrom | undefined> {
  copyFrom ??= loadCopyFrom();
  return copyFrom;
}

async function loadCopyFrom(): Promise<CopyFrom | undefined> {
  try {
    const mod = (await importDriver("pg-copy-streams", "PgConfig bulk loading (COPY)", () =>
      import("pg-copy-streams").catch(rethrow),
    )) as unknown as { from?: CopyFrom; to?: CopyTo; default?: { from: CopyFrom; to: CopyTo } };
    copyTo = mod.to ?? mod.default?.to;
    return mod.from ?? (mod.default as { from: CopyFrom }).from;
  } catch (err) {
    if (err instanceof MissingDependencyError) return undefined;
    copyFrom = undefined;
    throw err;
  }
}

function fieldNames(fields: { name: string }[]): string[] {
  const out = new Array<string>(fields.length);
  for (let i = 0; i < fields.length; i++) out[i] = (fields[i] as { name: string }).name;
  return out;
}

/**
 * node-postgres calls a query back on ErrorResponse, before the server's ReadyForQuery (often a separate packet)
 * has updated the transaction status. A failed statement settles only once that status is current: otherwise the
 * session would see "active" after a COMMIT the server refused and rolled back, or "active" for an aborted
 * transaction. Resolves at once when nothing is outstanding, and when the connection ends instead.
 */
function untilReady(client: PgClient): Promise<void> {
  if (client.readyForQuery || !client._queryable || client._ending) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const con = client.connection;
    const done = (): void => {
      con.removeListener("readyForQuery", done);
      con.removeListener("end", done);
      con.removeListener("error", done);
      resolve();
    };
    con.on("readyForQuery", done);
    con.on("end", done);
    con.on("error", done);
  });
}

/** untilReady, unless the connection was marked broken (then it is discarded on release; nothing to wait for). */
function untilReadyOrBroken(client: PgClient, conn: PgConnection): Promise<void> {
  return conn.broken ? Promise.resolve() : untilReady(client);
}

function runQuery(client: PgClient, q: PgQuery): Promise<PgResult> {
  return new Promise<PgResult>((resolve, reject) => {
    q.callback = (err: Error | undefined, res: PgResult | PgResult[]) => {
      if (err) void untilReady(client).then(() => reject(err));
      // A multi-statement simple query yields one result per statement; the last one is the answer.
      else resolve(Array.isArray(res) ? (res[res.length - 1] as PgResult) : res);
    };
    client.query(q as unknown as PgModule.Submittable);
  });
}

function cancelledBeforeSent(signal: AbortSignal): SQLSpecError {
  return new OperationCancelledError("PostgreSQL query cancelled before it was sent", { cause: signal.reason });
}

function brokenError(conn: PgConnection): SQLSpecError {
  return lostConnectionError(conn.closedBy);
}

/** Takes one checkout out of pg-pool's queue (the queue is reachable: `queue` is defined). */
function removeItem(queue: PgPendingCheckout[] | undefined, item: PgPendingCheckout): void {
  const i = queue?.indexOf(item) ?? -1;
  if (i !== -1) queue?.splice(i, 1);
}
