/**
 * The postgres.js adapter. Each pooled connection is a single-connection postgres.js instance (`max: 1`), so sqlspec
 * owns the pool: acquire timeouts, discarding broken connections and running `onConnectionCreate` on every physical
 * connection are exact, and a dead connection is never silently reconnected in the middle of a session's transaction.
 * Within a connection postgres.js pipelines (executeMany sends every set before reading any answer) and prepares
 * statements itself; its sockets get TCP_NODELAY (without it every COPY stalls ~40 ms on delayed ACKs).
 */
import { connect as netConnect, type Socket } from "node:net";
import { Readable, Stream, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { type ConnectionOptions as TlsOptions, connect as tlsConnect } from "node:tls";
import type * as PostgresNs from "postgres";
import {
  DatabaseConnectionError,
  OperationCancelledError,
  QueryTimeoutError,
  type SQLSpecError,
  UnsupportedOperationError,
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
import { PoolWaiter, poolClosedError, type WaitOptions } from "../../driver/pool.js";
import { StatementCancel, sendCancelRequest } from "../postgres-common/cancel.js";
import { postgresIntrospector } from "../postgres-common/catalog.js";
import {
  encodeTextParams,
  type Parser,
  PgTypeParsers,
  parsePgArray,
  parseVector,
  reparse,
  textSerializers,
  VECTOR_TYPE_SQL,
  vectorSerializer,
} from "../postgres-common/codecs.js";
import { changesSchema, rowsAffectedFor } from "../postgres-common/command-tag.js";
import { copyFromStdinSql, encodeCopyRows, encodeCopySource } from "../postgres-common/copy.js";
import { refuseCopyStdio } from "../postgres-common/copy-guard.js";
import {
  closedByServer,
  isBrokenConnectionError,
  isStaleStatementError,
  lostConnectionError,
  mapPostgresError,
} from "../postgres-common/errors.js";
import { POSTGRES_MAX_PARAMETERS } from "../postgres-common/limits.js";
import { POSTGRES_SERVER_NAMED_LOCK } from "../postgres-common/lock.js";
import { pgResultColumnTypes } from "../postgres-common/result-types.js";
import {
  callsSetConfig,
  type ResetOps,
  resetPostgresConnection,
  SESSION_SETTINGS_SQL,
  type SessionSettings,
  sessionSettingsOf,
  statementChangesSettings,
  transactionStatusOf,
} from "../postgres-common/session-state.js";
import { StatementCache } from "../postgres-common/statement-cache.js";
import { WireObserver } from "./wire.js";

type PostgresFn = typeof PostgresNs.default;
/** A postgres.js `sql` function (the driver's connection type here). */
export type PostgresSql = PostgresNs.Sql<Record<string, PostgresNs.PostgresType>>;

interface PjsColumn {
  name: string;
  type: number;
  parser?: Parser;
}
interface PjsResult extends Array<Row> {
  count: number | null;
  command: string | null;
  columns: (PjsColumn[] & { [NAMES]?: string[] }) | null;
}
interface PjsQuery extends Promise<PjsResult> {
  cancel(): void;
  cursor(rows: number): AsyncIterable<PjsResult>;
  writable(): Promise<Writable>;
  readable(): Promise<Readable>;
}
interface Unsafe {
  unsafe(text: string, params?: unknown[], opts?: { prepare?: boolean; simple?: boolean }): PjsQuery;
}

const NAMES = Symbol("sqlspec.columnNames");
const EMPTY: string[] = [];

/** One pooled connection: a single-connection postgres.js instance plus sqlspec's state for it. */
export class PostgresJsConnection implements ConnectionState {
  /**
   * @internal Statement texts postgres.js has prepared here (bounded by statementCacheSize; later ones run unnamed).
   */
  readonly prepared = new Set<string>();
  /** @internal Characters of SQL text in `prepared`. */
  preparedBytes = 0;
  /** @internal Set when the socket failed: the connection is discarded on release. */
  broken = false;
  /** Driver cursors open on this connection (see stream()): the connection belongs to the portal meanwhile. */
  openCursors = 0;
  /** @internal When the connection was opened (ms since the epoch), for `maxLifetimeMs`. */
  readonly createdAt = Date.now();
  /** @internal Closes the connection after `idleTimeoutMs` in the pool. */
  idleTimer: NodeJS.Timeout | undefined;
  /** @internal A SET/RESET ran through this connection since its last reset. */
  settingsSet = false;
  /**
   * @internal
   * A prepared statement went stale (DDL changed its table, or the server dropped it). postgres.js keeps its own
   * statement cache that cannot drop one entry, so this connection prepares nothing more and is discarded on release.
   */
  staleStatements = false;
  /** @internal What onConnectionCreate set (restored after a reset). */
  baseline: SessionSettings | undefined;
  /** @internal One-shot statements running on this connection (see acquireShared); 0 when a session holds it. */
  sharedInFlight = 0;
  /** @internal A one-shot statement left state behind (it should not have): no more join; reset once drained. */
  shareClosed = false;

  /** @internal Made by the adapter when it opens a connection. */
  constructor(
    /** The postgres.js `sql` bound to this one connection. */
    readonly sql: PostgresSql,
    /** @internal The server's messages as they arrive: transaction status, backend key, COPY and parameter changes. */
    readonly wire: WireObserver,
  ) {}

  get transaction(): TransactionStatus {
    return transactionStatusOf(this.wire.status);
  }

  get preparedStatements(): number {
    return this.prepared.size;
  }

  get settingsChanged(): boolean {
    return this.settingsSet || this.wire.parameterChanged;
  }
}

export interface PostgresJsAdapterOptions {
  pool: PoolConfig;
  features: ResolvedDriverFeatures<PostgresSql>;
  statementCacheSize: number;
  /** Characters of SQL text the statements postgres.js prepares on one connection may hold (it cannot evict). */
  statementCacheBytes: number;
}

export async function loadPostgres(feature: string): Promise<PostgresFn> {
  const mod = await importDriver(
    "postgres",
    feature,
    () => import("postgres").catch(rethrow) as unknown as Promise<{ default: PostgresFn }>,
  );
  return mod.default;
}

type Waiter = PoolWaiter<PostgresJsConnection>;

/** What a waiting acquire reports on timeout and abort. */
function waitOptions(max: number): WaitOptions {
  return {
    label: "PostgreSQL",
    maxSize: max,
    aborted: (reason) => new OperationCancelledError("PostgreSQL acquire cancelled", { cause: reason }),
  };
}

/**
 * One-shot statements one connection runs at once (postgres.js writes each before the previous one is answered). A
 * new one goes to the least busy connection, so the depth grows only when every connection is busy; the limit bounds
 * how long a slow statement can hold up the ones queued behind it.
 */
const SHARED_DEPTH = 8;

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

  readonly #postgres: PostgresFn;
  readonly #features: ResolvedDriverFeatures<PostgresSql>;
  readonly #pool: PoolConfig;
  readonly #cacheSize: number;
  readonly #cacheBytes: number;
  readonly #resetMode: ResetOnRelease;
  /** TLS settings sqlspec negotiates itself (postgres.js gets a ready socket), or undefined for plain TCP. */
  readonly #tls: { options: TlsOptions; optional: boolean } | undefined;
  readonly #target: string | undefined;
  readonly #max: number;
  readonly #options: Record<string, unknown>;
  readonly #idle: PostgresJsConnection[] = [];
  /** Connections running one-shot statements (acquireShared), which later one-shot statements may join. */
  readonly #sharing: PostgresJsConnection[] = [];
  /** A connection being opened for a one-shot statement, which later ones join once it is open. */
  #opening: { conn: Promise<PostgresJsConnection>; joined: number } | undefined;
  readonly #waiters: Waiter[] = [];
  /** Waiters a connection is being opened for (out of the queue): close() fails them at once. */
  readonly #creatingFor = new Set<Waiter>();
  readonly #waitOptions: WaitOptions;
  #size = 0;
  #closed = false;
  #vector: { oid: number; arrayOid: number } | null | undefined;
  /** Parsers by OID for every connection of the pool (user types are added once looked up). */
  readonly #types: PgTypeParsers;
  readonly #serializers: Record<number, (x: unknown) => string>;

  /** @internal Made by `PostgresJsConfig`. */
  constructor(postgres: PostgresFn, opts: PostgresJsAdapterOptions) {
    this.#postgres = postgres;
    this.#features = opts.features;
    const f = opts.features;
    this.#types = new PgTypeParsers({
      int8: f.int8,
      timestamps: f.timestamps,
      json: f.enableJsonCodecs ? f.jsonDeserializer : undefined,
    });
    this.#serializers = textSerializers(f.jsonSerializer);
    this.#pool = opts.pool;
    this.#cacheSize = opts.statementCacheSize;
    this.#cacheBytes = opts.statementCacheBytes;
    this.#resetMode = opts.pool.resetOnRelease ?? "auto";
    const { tls, target } = tlsSettings(opts.pool);
    this.#tls = tls;
    this.#target = target;
    this.#max = Math.max(1, opts.pool.maxSize ?? 10);
    this.#waitOptions = waitOptions(this.#max);
    this.#options = this.#driverOptions();
    for (let i = 0; i < (opts.pool.minSize ?? 0); i++) {
      // Background warm-up; a failure surfaces on the first real acquire.
      this.acquire().then(
        (c) => this.release(c),
        () => {},
      );
    }
  }

  #driverOptions(): Record<string, unknown> {
    const p = this.#pool;
    const connectTimeoutMs = p.connectTimeoutMs ?? 10_000;
    const startup: Record<string, string> = { application_name: p.applicationName ?? "sqlspec" };
    if (p.statementTimeoutMs !== undefined) startup.statement_timeout = String(p.statementTimeoutMs);
    const o: Record<string, unknown> = {
      max: 1,
      // The pool lives here: postgres.js must not close and silently reopen a connection behind a session.
      idle_timeout: null,
      max_lifetime: null,
      connect_timeout: Math.max(1, Math.ceil(connectTimeoutMs / 1000)),
      prepare: this.#cacheSize > 0,
      // Values are parsed and serialized by sqlspec's shared table (#installCodecs), arrays of every type included,
      // so postgres.js's own array-type lookup at connect is not needed.
      fetch_types: false,
      onnotice: () => {},
      connection: startup,
      transform: { undefined: null },
      // TLS is negotiated by our socket factory, so the wire observer sees plain protocol bytes.
      ssl: false,
    };
    if (p.connectionString === undefined) {
      o.host = p.host ?? "localhost";
      o.port = p.port ?? 5432;
    }
    if (p.user !== undefined) o.user = p.user;
    if (p.password !== undefined) o.password = p.password;
    if (p.database !== undefined) o.database = p.database;
    return o;
  }

  poolStats(): PoolStats {
    return { idle: this.#idle.length, used: this.#size - this.#idle.length, pending: this.#waiters.length };
  }

  // ------------------------------------------------------------------------------------------------ pool

  async acquire(options?: AcquireOptions<PostgresJsConnection>): Promise<PostgresJsConnection> {
    const signal = options?.signal;
    if (signal?.aborted) throw new OperationCancelledError("PostgreSQL acquire cancelled", { cause: signal.reason });
    if (this.#closed) throw poolClosedError("PostgreSQL", false);
    const idle = this.#takeIdle();
    if (idle !== undefined) return idle;
    const timeoutMs = options?.timeoutMs ?? this.#pool.acquireTimeoutMs;
    // The timeout and the signal bound the connect too; a connection arriving after they fired is kept idle.
    if (this.#size < this.#max) return this.#createFor(new PoolWaiter(null, signal, this.#waitOptions, timeoutMs));
    return this.#wait(signal, timeoutMs);
  }

  #takeIdle(): PostgresJsConnection | undefined {
    for (;;) {
      const c = this.#idle.pop();
      if (c === undefined) return undefined;
      if (c.idleTimer) clearTimeout(c.idleTimer);
      if (!c.broken && !this.#expired(c)) return c;
      this.#destroy(c);
    }
  }

  #wait(signal: AbortSignal | undefined, timeoutMs: number | undefined): Promise<PostgresJsConnection> {
    return new PoolWaiter<PostgresJsConnection>(this.#waiters, signal, this.#waitOptions, timeoutMs).promise;
  }

  async #create(): Promise<PostgresJsConnection> {
    const f = this.#features;
    let conn: PostgresJsConnection | undefined;
    const wire = new WireObserver();
    const connectTimeoutMs = this.#pool.connectTimeoutMs ?? 10_000;
    const options = {
      ...this.#options,
      onclose: () => {
        if (conn) conn.broken = true;
      },
      socket: (o: { host: string[]; port: number[]; path?: string | false }) =>
        connectSocket(o, connectTimeoutMs, this.#tls, wire),
    };
    const target = this.#target;
    const sql = (
      target !== undefined ? this.#postgres(target, options as never) : this.#postgres(options as never)
    ) as PostgresSql;
    conn = new PostgresJsConnection(sql, wire);
    this.#installCodecs(sql);
    try {
      // Connects eagerly, so a refused connection or bad credentials surface here, typed.
      if (f.enablePgvector && this.#vector === undefined) {
        const rows = (await (sql as unknown as Unsafe).unsafe(VECTOR_TYPE_SQL)) as unknown as {
          oid: number;
          array_oid: number;
        }[];
        this.#vector = rows[0] ? { oid: rows[0].oid, arrayOid: rows[0].array_oid } : null;
      } else {
        await (sql as unknown as Unsafe).unsafe("SELECT 1");
      }
      if (f.enablePgvector && this.#vector) {
        const { oid, arrayOid } = this.#vector;
        this.#types.set(oid, parseVector);
        this.#types.set(arrayOid, (text) => parsePgArray(text, parseVector));
        const o = codecsOf(sql);
        o.parsers[oid] = parseVector;
        o.parsers[arrayOid] = this.#types.get(arrayOid) as Parser;
        o.serializers[oid] = vectorSerializer;
      }
      if (f.onConnectionCreate) {
        await f.onConnectionCreate(sql);
        // Whatever the hook SET is this connection's baseline: a reset restores it.
        conn.baseline = sessionSettingsOf(
          (await (sql as unknown as Unsafe).unsafe(SESSION_SETTINGS_SQL)) as unknown as Record<string, unknown>[],
        );
      }
      wire.parameterChanged = false;
    } catch (err) {
      void sql.end({ timeout: 0 });
      throw mapPostgresError(err);
    }
    return conn;
  }

  #expired(c: PostgresJsConnection): boolean {
    const life = this.#pool.maxLifetimeMs;
    return life !== undefined && life > 0 && Date.now() - c.createdAt > life;
  }

  #destroy(c: PostgresJsConnection): void {
    this.#size--;
    c.prepared.clear();
    c.preparedBytes = 0;
    void c.sql.end({ timeout: 0 }).catch(() => {});
  }

  /** A slot freed up: open a connection for the oldest waiter. */
  #wakeCreator(): void {
    const w = this.#waiters[0];
    if (w === undefined || this.#size >= this.#max || this.#closed) return;
    this.#waiters.shift();
    w.opening();
    void this.#createFor(w);
  }

  /**
   * Opens a connection for a waiter (out of the queue). If it gave up meanwhile (timeout, abort), the connection goes
   * to the next waiter or the idle list; after close() it is closed.
   */
  #createFor(w: Waiter): Promise<PostgresJsConnection> {
    this.#creatingFor.add(w);
    this.#size++;
    this.#create().then(
      (c) => {
        this.#creatingFor.delete(w);
        if (this.#closed) {
          this.#destroy(c);
          w.fail(poolClosedError("PostgreSQL", true));
        } else if (!w.settle(c)) void this.release(c);
      },
      (err) => {
        this.#creatingFor.delete(w);
        this.#size--;
        w.fail(err);
        // The next waiter tries too: it would otherwise wait for a release that may never come.
        this.#wakeCreator();
      },
    );
    return w.promise;
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
    if (this.#resetMode === true || this.#closed || callsSetConfig(sql)) return undefined;
    // Taken at once (not after an await), so the next call in the same tick already sees it as sharing.
    const idle = this.#takeIdle();
    if (idle !== undefined) return Promise.resolve(this.#share(idle));
    if (this.#size >= this.#max && this.#waiters.length === 0) {
      let best: PostgresJsConnection | undefined;
      for (const c of this.#sharing) {
        // An expired connection takes no more, so it drains and release retires it (maxLifetimeMs under load).
        if (c.shareClosed || c.broken || c.wire.lost || c.sharedInFlight >= SHARED_DEPTH || this.#expired(c)) continue;
        if (best === undefined || c.sharedInFlight < best.sharedInFlight) best = c;
      }
      if (best !== undefined) {
        best.sharedInFlight++;
        return Promise.resolve(best);
      }
      const opening = this.#opening;
      if (opening !== undefined && opening.joined < SHARED_DEPTH) {
        opening.joined++;
        return opening.conn.then((c) => {
          c.sharedInFlight++;
          return c;
        });
      }
    }
    const creating = this.#size < this.#max && this.#idle.length === 0;
    const conn = this.acquire(options).then((c) => this.#share(c));
    if (creating) {
      const opening = { conn, joined: 1 };
      this.#opening = opening;
      const done = (): void => {
        if (this.#opening === opening) this.#opening = undefined;
      };
      conn.then(done, done);
    }
    return conn;
  }

  #share(c: PostgresJsConnection): PostgresJsConnection {
    c.sharedInFlight = 1;
    c.shareClosed = false;
    this.#sharing.push(c);
    return c;
  }

  /**
   * Ends one statement of acquireShared. The last one out releases the connection as a session would (reset if it is
   * not clean, discarded if broken). A connection whose state changed anyway takes no more statements.
   */
  releaseShared(conn: PostgresJsConnection, error?: unknown): Promise<void> {
    conn.sharedInFlight--;
    if (error !== undefined && isBrokenConnectionError(error)) conn.broken = true;
    if (conn.transaction !== "idle" || conn.settingsChanged || conn.staleStatements) conn.shareClosed = true;
    if (conn.sharedInFlight > 0) return Promise.resolve();
    const i = this.#sharing.indexOf(conn);
    if (i >= 0) this.#sharing.splice(i, 1);
    conn.shareClosed = false;
    return this.release(conn, error);
  }

  release(conn: PostgresJsConnection, error?: unknown): Promise<void> {
    const discard =
      conn.broken ||
      conn.staleStatements ||
      this.#closed ||
      (error !== undefined && isBrokenConnectionError(error)) ||
      this.#expired(conn);
    if (
      !discard &&
      (conn.transaction !== "idle" || conn.settingsChanged || this.#resetMode === true || conn.openCursors > 0)
    ) {
      return resetPostgresConnection(this.#resetOps(conn), this.#resetMode, conn.baseline).then((ok) =>
        this.#giveBack(conn, !ok),
      );
    }
    // Nothing to reset: back in the pool (or discarded) at once.
    this.#giveBack(conn, discard);
    return RELEASED;
  }

  #giveBack(conn: PostgresJsConnection, discard: boolean): void {
    // close() may have run while the release reset this connection: a closed pool keeps nothing idle.
    if (discard || conn.wire.lost || this.#closed) {
      this.#destroy(conn);
      this.#wakeCreator();
      return;
    }
    const w = this.#waiters.shift();
    if (w !== undefined) {
      w.settle(conn);
      return;
    }
    this.#idle.push(conn);
    const idleMs = this.#pool.idleTimeoutMs ?? 10_000;
    if (idleMs > 0) {
      conn.idleTimer = setTimeout(() => {
        const i = this.#idle.indexOf(conn);
        if (i >= 0 && this.#size > (this.#pool.minSize ?? 0)) {
          this.#idle.splice(i, 1);
          this.#destroy(conn);
        }
      }, idleMs);
      conn.idleTimer.unref();
    }
  }

  #resetOps(conn: PostgresJsConnection): ResetOps {
    return {
      state: conn,
      run: (sql, params) => unprepared(conn, sql, params ?? []),
      forgetPreparedStatements: () => {
        conn.prepared.clear();
        conn.preparedBytes = 0;
      },
      settingsRestored: () => {
        conn.settingsSet = false;
        conn.wire.parameterChanged = false;
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w.fail(poolClosedError("PostgreSQL", true));
    for (const w of this.#creatingFor) w.fail(poolClosedError("PostgreSQL", true));
    this.#creatingFor.clear();
    const idle = this.#idle.splice(0);
    for (const c of idle) if (c.idleTimer) clearTimeout(c.idleTimer);
    this.#size -= idle.length;
    await Promise.all(idle.map((c) => c.sql.end({ timeout: 5 }).catch(() => {})));
  }

  // ------------------------------------------------------------------------------------------------ queries

  /**
   * Replaces postgres.js's parsers and serializers with sqlspec's shared ones (postgres-common/codecs), so a value
   * reads and binds exactly as on pg and PGlite: one parser per type OID, and serializers for the json types only —
   * every other parameter is text already (encodeTextParams) or a PgArrayParam whose text is its array literal.
   */
  #installCodecs(sql: PostgresSql): void {
    const o = codecsOf(sql);
    for (const k of Object.keys(o.parsers)) delete o.parsers[k as unknown as number];
    for (const k of Object.keys(o.serializers)) delete o.serializers[k as unknown as number];
    const table = this.#types.table;
    for (const k in table) {
      const oid = Number(k);
      const parser = this.#types.get(oid);
      if (parser !== undefined) o.parsers[oid] = parser;
    }
    Object.assign(o.serializers, this.#serializers);
    if (this.#vector) o.serializers[this.#vector.oid] = vectorSerializer;
  }

  /** Columns of a result whose type this connection has no parser for yet (undefined, the common case: none). */
  #lateColumns(res: PjsResult): [string, number][] | undefined {
    const cols = res.columns;
    if (cols === null || cols === undefined) return undefined;
    let late: [string, number][] | undefined;
    for (const c of cols) {
      if (c.parser === undefined && c.type >= 10_000 && (this.#types.unknown(c.type) || this.#types.get(c.type))) {
        late ??= [];
        late.push([c.name, c.type]);
      }
    }
    return late;
  }

  /**
   * A result whose columns include a type this connection has no parser for yet (a user enum/domain array, a catalog
   * row type): the pool looks it up once, and the columns of this result (and of the prepared statement) get it.
   */
  async #finishTypes(conn: PostgresJsConnection, res: PjsResult, late: [string, number][]): Promise<void> {
    await this.#types.resolve(
      late.map((l) => l[1]),
      (text, params) => unprepared(conn, text, params),
    );
    const parsers = codecsOf(conn.sql).parsers;
    for (const c of res.columns ?? []) {
      const parser = this.#types.get(c.type);
      if (c.parser === undefined && parser !== undefined) {
        parsers[c.type] = parser;
        c.parser = parser;
      }
    }
    reparse(res, late, this.#types);
  }

  /** Bound values as sqlspec documents them (postgres-common/codecs), never typed by postgres.js from the JS value. */
  #encode(_sql: PostgresSql, params: unknown[]): unknown[] {
    return encodeTextParams(params, this.#features.jsonSerializer);
  }

  #start(conn: PostgresJsConnection, sql: string, params: unknown[], prepare: boolean): PjsQuery {
    return this.#send(conn, sql, params.length > 0 ? this.#encode(conn.sql, params) : params, prepare);
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
    this.#check(conn, sql);
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
    const last = res.command === undefined ? lastOf(res) : res;
    const late = this.#lateColumns(last);
    if (late !== undefined) await this.#finishTypes(conn, last, late);
    const raw = toRaw(last);
    if (opts.onColumnTypes !== undefined) opts.onColumnTypes(this.#columnTypes(last));
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
      throw this.#error(conn, err, undefined);
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
      throw new OperationCancelledError("PostgreSQL query cancelled before it was sent", { cause: signal.reason });
    }
    const state = { settled: false };
    const cancel = this.#arm(conn, q, opts, state);
    try {
      return await q;
    } catch (err) {
      throw this.#error(conn, err, cancel.kind);
    } finally {
      state.settled = true;
      if (!(await cancel.done())) conn.broken = true;
    }
  }

  #arm(conn: PostgresJsConnection, q: PjsQuery, opts: QueryOptions, state: { settled: boolean }): StatementCancel {
    const ready = conn.wire.readyCount;
    return new StatementCancel(opts, () => cancelRunning(conn.wire, q, state, ready));
  }

  #check(conn: PostgresJsConnection, sql?: string): void {
    if (conn.broken) throw lostConnectionError(conn.wire.fatal);
    if (sql !== undefined) refuseCopyStdio(sql);
    if (conn.openCursors > 0) {
      throw new UnsupportedOperationError(
        "This session is reading a stream; finish or break the loop before running other statements",
      );
    }
  }

  #error(conn: PostgresJsConnection, err: unknown, kind: "timeout" | "cancel" | undefined): SQLSpecError {
    const mapped = mapPostgresError(err, kind);
    if (isBrokenConnectionError(mapped)) {
      conn.broken = true;
      // postgres.js rejects with CONNECTION_CLOSED and drops the server's FATAL ErrorResponse (57P01 from
      // pg_terminate_backend): report that one, its SQLSTATE and class, as pg does.
      const fatal = conn.wire.fatal;
      if (fatal !== undefined && mapped instanceof DatabaseConnectionError && mapped.sqlState === undefined) {
        return closedByServer(fatal, err);
      }
    }
    return mapped;
  }

  /** All sets are written before any answer is read (postgres.js pipelining): one round trip's latency in total. */
  async queryMany(
    conn: PostgresJsConnection,
    sql: string,
    paramSets: unknown[][],
    opts: QueryOptions,
  ): Promise<RawResult> {
    this.#check(conn, sql);
    if (opts.signal?.aborted) {
      throw new OperationCancelledError("PostgreSQL query cancelled before it was sent", { cause: opts.signal.reason });
    }
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
      throw this.#error(conn, err, cancel?.kind);
    } finally {
      state.settled = true;
      if (cancel !== undefined && !(await cancel.done())) conn.broken = true;
    }
    let total = 0;
    let rows: Row[] = [];
    let last: RawResult | undefined;
    // Every set's rows (RETURNING), in set order, as the other adapters return them.
    for (const r of results) {
      total += rowsAffectedFor(r.command ?? undefined, r.count);
      const late = this.#lateColumns(r);
      if (late !== undefined) await this.#finishTypes(conn, r, late);
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
    this.#check(conn);
    const encoded = statements.map((s, i) => {
      try {
        return s.values.length > 0 ? this.#encode(conn.sql, s.values) : s.values;
      } catch (err) {
        throw new StackFailure(i, this.#error(conn, err, undefined));
      }
    });
    const pending = statements.map((s, i) => this.#send(conn, s.sql, encoded[i] as unknown[], opts.prepare !== false));
    const settled = await Promise.allSettled(pending);
    const out: RawResult[] = [];
    for (let i = 0; i < settled.length; i++) {
      const r = settled[i] as PromiseSettledResult<PjsResult>;
      if (r.status === "rejected") throw new StackFailure(i, this.#error(conn, r.reason, undefined));
      const res = r.value.command === undefined ? lastOf(r.value) : r.value;
      const late = this.#lateColumns(res);
      if (late !== undefined) await this.#finishTypes(conn, res, late);
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
    this.#check(conn, sql);
    const q = this.#start(conn, sql, params, false);
    const state = { settled: false };
    const cancel = this.#arm(conn, q, opts, state);
    conn.openCursors++;
    let unknownTypes: number[] | undefined;
    try {
      for await (const batch of q.cursor(Math.max(1, Math.floor(batchSize)))) {
        if (cancel.kind !== undefined) throw stoppedError(cancel.kind);
        withoutStaleSlots(batch);
        unknownTypes ??= this.#streamTypes(conn, batch);
        if (opts.onColumnTypes !== undefined) opts.onColumnTypes(this.#columnTypes(batch));
        yield batch;
      }
    } catch (err) {
      throw this.#error(conn, err, cancel.kind);
    } finally {
      conn.openCursors--;
      state.settled = true;
      if (!(await cancel.done())) conn.broken = true;
    }
    // A type first met inside a cursor cannot be looked up while the cursor holds the connection: it read as text
    // this once, and is looked up now for every later statement.
    if (unknownTypes !== undefined && unknownTypes.length > 0) {
      await this.#types.resolve(unknownTypes, (text, p) => unprepared(conn, text, p)).catch(() => {});
    }
  }

  #columnTypes(res: PjsResult): ReturnType<typeof pgResultColumnTypes> {
    return pgResultColumnTypes(
      (res.columns ?? []).map((c) => c.type),
      this.#features.timestamps,
    );
  }

  /** Gives a stream's columns the pool's parsers for types this connection lacks; returns types still unknown. */
  #streamTypes(conn: PostgresJsConnection, batch: PjsResult): number[] {
    const unknown: number[] = [];
    const late: [string, number][] = [];
    const parsers = codecsOf(conn.sql).parsers;
    for (const c of batch.columns ?? []) {
      if (c.parser !== undefined || c.type < 10_000) continue;
      const parser = this.#types.get(c.type);
      if (parser !== undefined) {
        parsers[c.type] = parser;
        c.parser = parser;
        late.push([c.name, c.type]);
      } else if (this.#types.unknown(c.type)) unknown.push(c.type);
    }
    if (late.length > 0) reparse(batch, late, this.#types);
    return unknown;
  }

  async copyIn(
    conn: PostgresJsConnection,
    table: string,
    columns: string[],
    rows: AsyncIterable<unknown[]> | Iterable<unknown[]>,
    columnTypes?: string[],
    copyOptions?: CopyInOptions,
  ): Promise<number> {
    this.#check(conn);
    const options = { jsonSerializer: this.#features.jsonSerializer, columns };
    let count = 0;
    let chunks: Iterable<string | Buffer> | AsyncIterable<string>;
    // COPY loads every row or none, so the source's row count is the server's. An in-memory source's bad value fails
    // before the COPY starts (encodeCopySource).
    if (Symbol.asyncIterator in rows) {
      chunks = encodeCopyRows(
        countRows(rows, () => count++),
        columnTypes,
        columns.length,
        options,
      );
    } else {
      const list = "length" in rows && typeof rows.length === "number" ? rows : Array.from(rows);
      count = (list as { length: number }).length;
      chunks = encodeCopySource(list, columnTypes, columns.length, options);
    }
    if (copyOptions?.beforeCopy) await copyOptions.beforeCopy();
    if (copyOptions?.signal?.aborted) {
      throw new OperationCancelledError("PostgreSQL COPY cancelled before it was sent", {
        cause: copyOptions.signal.reason,
      });
    }
    await this.#copyFromChunks(conn, copyFromStdinSql(table, columns), chunks, copyOptions);
    return count;
  }

  /** A user-written COPY … FROM STDIN fed with `data` (bytes as given); rows from the command tag. */
  async copyFromStdin(
    conn: PostgresJsConnection,
    sql: string,
    data: AsyncIterable<Uint8Array>,
    opts: QueryOptions,
  ): Promise<number> {
    this.#check(conn);
    return this.#copyFromChunks(conn, sql, data, opts);
  }

  /** A user-written COPY … TO STDOUT: each chunk to `write` (awaited: backpressure); rows from the command tag. */
  async copyToStdout(
    conn: PostgresJsConnection,
    sql: string,
    write: (chunk: Uint8Array) => void | Promise<void>,
    opts: QueryOptions,
  ): Promise<number> {
    this.#check(conn);
    const copy = copyQuery(conn, sql);
    const state = { settled: false };
    const cancel =
      opts.signal !== undefined || opts.timeoutMs !== undefined ? this.#arm(conn, copy.q, opts, state) : undefined;
    let source: Readable | undefined;
    try {
      source = (await Promise.race([copy.q.readable(), copy.failed])) as Readable;
      const it = source[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
      for (;;) {
        // A server error ends the COPY without ending the stream: race it, so the loop never waits forever.
        const step = await Promise.race([it.next(), copy.failed]);
        if (step.done) break;
        const pending = write(step.value);
        if (pending !== undefined) await pending;
      }
      const count = (await Promise.race([copy.done, copy.failed])).count ?? 0;
      // postgres.js pauses its socket while the COPY stream is full and resumes it when the stream is read again; when
      // the COPY's end arrived in the same read as the pause, the ended stream is never read and the socket stays
      // paused, so the connection's next answer would never be read.
      const socket = conn.wire.socket;
      if (socket?.isPaused()) socket.resume();
      return count;
    } catch (err) {
      // A COPY OUT that started and did not finish (a failing or slow sink, a cancel, a server error mid-stream) may
      // leave data and postgres.js's reader mid-COPY: the next statement could wait forever, so the connection is not
      // reused. One the server refused outright (no such table) never started and is fine.
      if (source !== undefined) conn.broken = true;
      if (source !== undefined && !source.destroyed) source.destroy();
      throw this.#error(conn, err, cancel?.kind);
    } finally {
      state.settled = true;
      if (cancel !== undefined && !(await cancel.done())) conn.broken = true;
    }
  }

  /**
   * The COPY FROM STDIN protocol: the chunks are piped into postgres.js's COPY stream with backpressure; settles on
   * the server's answer (ReadyForQuery), a server error or a failing source (postgres.js sends CopyFail). Resolves to
   * the command tag's row count.
   */
  async #copyFromChunks(
    conn: PostgresJsConnection,
    sql: string,
    chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
    opts: QueryOptions | undefined,
  ): Promise<number> {
    const copy = copyQuery(conn, sql);
    let sink: Writable | undefined;
    const state = { settled: false };
    const cancel = opts !== undefined ? this.#arm(conn, copy.q, opts, state) : undefined;
    try {
      sink = (await Promise.race([copy.q.writable(), copy.failed])) as Writable;
      const written = pipeline(Readable.from(chunks), sink);
      written.catch(() => {});
      await Promise.race([written, copy.failed]);
      return (await Promise.race([copy.done, copy.failed])).count ?? 0;
    } catch (err) {
      if (sink !== undefined && !sink.destroyed) sink.destroy();
      throw this.#error(conn, err, cancel?.kind);
    } finally {
      state.settled = true;
      if (cancel !== undefined && !(await cancel.done())) conn.broken = true;
    }
  }

  mapError(err: unknown, _sql: string): SQLSpecError {
    return mapPostgresError(err);
  }
}

/**
 * A COPY query whose outcome stays observable after postgres.js resolved it with the COPY stream: `failed` rejects
 * with a server error that ends the COPY (it reaches only the already-settled query's reject, and the stream's
 * callbacks then never run; the server is out of COPY mode by then), `done` resolves with the final result (the
 * command tag's count) at ReadyForQuery.
 */
function copyQuery(
  conn: PostgresJsConnection,
  sql: string,
): { q: PjsQuery; failed: Promise<never>; done: Promise<{ count?: number | null }> } {
  const q = (conn.sql as unknown as Unsafe).unsafe(sql) as PjsQuery & {
    reject(err: unknown): void;
    resolve(value: unknown): void;
  };
  let serverFailed: (err: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    serverFailed = reject;
  });
  failed.catch(() => {});
  let finished: (r: { count?: number | null }) => void = () => {};
  const done = new Promise<{ count?: number | null }>((resolve) => {
    finished = resolve;
  });
  const settleReject = q.reject;
  q.reject = (err: unknown) => {
    serverFailed(err);
    settleReject(err);
  };
  const settleResolve = q.resolve;
  let calls = 0;
  q.resolve = (value: unknown) => {
    // First with the COPY stream (CopyIn/OutResponse), then with the result at ReadyForQuery.
    if (calls++ > 0) finished(value as { count?: number | null });
    // A server error also destroys the stream with it (and reaches `failed`). It can come in the same socket read as
    // the CopyOutResponse, before the caller holds the stream: an 'error' nobody listens to would crash the process.
    else if (value instanceof Stream) value.on("error", () => {});
    settleResolve(value);
  };
  return { q, failed, done };
}

function codecsOf(sql: PostgresSql): {
  parsers: Record<number, Parser>;
  serializers: Record<number, (x: unknown) => string>;
} {
  return sql.options as unknown as {
    parsers: Record<number, Parser>;
    serializers: Record<number, (x: unknown) => string>;
  };
}

/**
 * postgres.js counts the rows of the current result per connection and resets the count on CommandComplete only, not
 * on an error (porsager/postgres#1119, open): after a statement fails with some rows already received, the next
 * result on that connection, possibly another caller's pipelined statement, puts its rows after that many empty
 * slots. A row is never undefined, so leading empty slots are always that stale count: they are dropped in place.
 */
function withoutStaleSlots(res: PjsResult): PjsResult {
  const n = res.length;
  if (n === 0 || res[0] !== undefined) return res;
  let first = 1;
  while (first < n && res[first] === undefined) first++;
  res.copyWithin(0, first);
  res.length = n - first;
  return res;
}

/** An internal statement (catalog lookups, reset): unprepared, its rows exact. */
function unprepared(conn: PostgresJsConnection, text: string, params: unknown[]): Promise<PjsResult> {
  return (conn.sql as unknown as Unsafe).unsafe(text, params, { prepare: false }).then(withoutStaleSlots);
}

function toRaw(res: PjsResult): RawResult {
  withoutStaleSlots(res);
  const cols = res.columns;
  let columns = EMPTY;
  if (cols && cols.length > 0) {
    // postgres.js reuses a prepared statement's column array, so the names are computed once per statement.
    columns = cols[NAMES] ??= cols.map((c) => c.name);
  }
  // The tag's verb, as pg reports it: postgres.js keeps "CREATE TABLE", "DROP INDEX" whole.
  const tag = res.command ?? "";
  const space = tag.indexOf(" ");
  const command = space < 0 ? tag : tag.slice(0, space);
  return { rows: res, columns, rowsAffected: rowsAffectedFor(command, res.count), command };
}

function lastOf(res: PjsResult): PjsResult {
  const all = res as unknown as PjsResult[];
  return all[all.length - 1] as PjsResult;
}

function stoppedError(kind: "timeout" | "cancel"): SQLSpecError {
  return kind === "cancel"
    ? new OperationCancelledError("PostgreSQL stream cancelled")
    : new QueryTimeoutError("PostgreSQL stream timed out");
}

async function* countRows<T>(rows: AsyncIterable<T> | Iterable<T>, tick: () => void): AsyncGenerator<T> {
  for await (const r of rows) {
    tick();
    yield r;
  }
}

/**
 * postgres.js socket factory: a connected socket with TCP_NODELAY and our connect timeout, TLS negotiated here when
 * configured (SSLRequest, then a TLS handshake), and the wire observer listening before postgres.js does.
 */
function connectSocket(
  o: { host: string[]; port: number[]; path?: string | false },
  timeoutMs: number,
  tls: { options: TlsOptions; optional: boolean } | undefined,
  wire: WireObserver,
): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const host = o.host[0] ?? "localhost";
    const port = o.port[0] ?? 5432;
    const unix = o.path ? /^(.*)\/\.s\.PGSQL\.(\d+)$/.exec(o.path) : null;
    wire.host = unix ? unix[1] : host;
    wire.port = unix ? Number(unix[2]) : port;
    const s = o.path ? netConnect(o.path) : netConnect({ host, port, noDelay: true });
    s.setNoDelay(true);
    let settled = false;
    const fail = (e: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      reject(e);
    };
    const ready = (socket: Socket): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      (socket as Socket & { host?: string }).host = host;
      socket.on("data", wire.feed);
      wire.socket = socket;
      resolve(socket);
    };
    const timer = setTimeout(
      () =>
        fail(
          Object.assign(new Error(`connect timeout after ${timeoutMs} ms to ${host}:${port}`), { code: "ETIMEDOUT" }),
        ),
      timeoutMs,
    );
    s.once("error", fail);
    s.once("connect", () => {
      if (tls === undefined) return ready(s);
      // SSLRequest: length 8, code 80877103. The server answers one byte: S (go ahead) or N (no TLS here).
      const request = Buffer.alloc(8);
      request.writeInt32BE(8, 0);
      request.writeInt32BE(80877103, 4);
      s.once("data", (answer: Buffer) => {
        if (answer[0] === 78 /* N */) {
          if (tls.optional) return ready(s);
          return fail(Object.assign(new Error("The server does not support SSL connections"), { code: "08P01" }));
        }
        if (answer[0] !== 83 /* S */) return fail(new Error("Unexpected answer to SSLRequest"));
        const servername = /^[\d.:]+$/.test(host) ? undefined : host;
        const secure = tlsConnect({ socket: s, ...(servername ? { servername } : {}), ...tls.options });
        secure.once("error", fail);
        secure.once("secureConnect", () => ready(secure));
      });
      s.write(request);
    });
  });
}

/**
 * TLS from `poolConfig.ssl` or the connection string's `sslmode` (which is then removed, so postgres.js does not
 * negotiate a second time). disable → none; allow/prefer → optional, unverified; require → unverified;
 * verify-ca/verify-full (or `ssl: true`) → verified.
 */
function tlsSettings(pool: PoolConfig): {
  tls: { options: TlsOptions; optional: boolean } | undefined;
  target: string | undefined;
} {
  let target = pool.connectionString;
  let mode: string | undefined;
  if (target !== undefined) {
    try {
      const url = new URL(target);
      mode = url.searchParams.get("sslmode") ?? undefined;
      if (mode !== undefined) {
        url.searchParams.delete("sslmode");
        target = url.toString();
      }
    } catch {
      // Not a URL: postgres.js reports it.
    }
  }
  if (pool.ssl !== undefined && pool.ssl !== false) {
    return { tls: { options: pool.ssl === true ? {} : (pool.ssl as TlsOptions), optional: false }, target };
  }
  switch (mode) {
    case "allow":
    case "prefer":
      return { tls: { options: { rejectUnauthorized: false }, optional: true }, target };
    case "require":
      return { tls: { options: { rejectUnauthorized: false }, optional: false }, target };
    case "verify-ca":
    case "verify-full":
      return { tls: { options: {}, optional: false }, target };
    default:
      return { tls: undefined, target };
  }
}

/**
 * Cancels `q` if the server is still running it: sent (postgres.js dispatches a query a tick after it is awaited, so
 * one not yet sent is cancelled once it is) and not answered (no ReadyForQuery since it started).
 */
function cancelRunning(
  wire: WireObserver,
  q: PjsQuery,
  state: { settled: boolean },
  ready: number,
  answers = 1,
): Promise<boolean> | undefined {
  if (state.settled) return undefined;
  // postgres.js sets `state` (the backend's key) when it writes the query; null until then.
  const unsent = (q as { state?: unknown }).state == null;
  if (!unsent && wire.readyCount - ready >= answers) return undefined;
  if (unsent || wire.pid === 0) {
    // Not sent yet, or sent on a connection still starting up (no BackendKeyData yet: nothing to address a
    // CancelRequest to). Look again shortly; the abort must not be lost because it came early.
    return new Promise<boolean>((resolve) => {
      const again = (): void => {
        const sent = cancelRunning(wire, q, state, ready, answers);
        if (sent === undefined) resolve(true);
        else sent.then(resolve);
      };
      if (unsent) setImmediate(again);
      else setTimeout(again, 1);
    });
  }
  return sendCancelRequest(wire.host, wire.port, wire.pid, wire.secret);
}
