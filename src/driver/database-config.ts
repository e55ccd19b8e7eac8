import { isQueryBuilder } from "../core/builder-protocol.js";
import { getPlan, type StatementPlan } from "../core/compiler.js";
import { ImproperConfigurationError } from "../core/errors.js";
import { defaultJsonDeserializer, defaultJsonSerializer } from "../core/json.js";
import type { SQLResult } from "../core/result.js";
import { SQL } from "../core/statement.js";
import type { RowOf, StatementArgs, ValueOf } from "../core/typed-query.js";
import type { OperationType, Params, Row } from "../core/types.js";
import { DEFAULT_INT8_MODE, DEFAULT_TIMESTAMP_MODE } from "../core/values.js";
import { Migrator } from "../migrations/migrator.js";
import { type AcquireOptions, type Adapter, RELEASED } from "./adapter.js";
import type { ConfigOptions, MigrationConfig, ResolvedDriverFeatures, StatementConfig } from "./config.js";
import { DataDictionaryCache } from "./data-dictionary.js";
import { checkTimeoutMs } from "./deadline.js";
import { trackStatements } from "./in-flight.js";
import { type Endpoint, instrumentAdapter } from "./instrumented-adapter.js";
import { type ObservabilityConfig, type Observer, resolveObserver } from "./observability.js";
import { loadOtel } from "./otel.js";
import { sessionScope } from "./scope.js";
import { type ExecuteOptions, isBrokenError, type SelectOptions, Session, type Statement } from "./session.js";

/** Statements that cannot leave state on a connection: one-shot calls may share one (see Adapter.acquireShared). */
const SHAREABLE: ReadonlySet<OperationType> = new Set(["SELECT", "INSERT", "UPDATE", "DELETE", "MERGE"]);

/** Options for acquiring a session's connection. */
export interface SessionOptions {
  /** Gives up waiting for a free connection (OperationCancelledError). */
  signal?: AbortSignal;
  /** Gives up waiting for a free connection after this long (PoolTimeoutError). */
  timeoutMs?: number;
}

/**
 * Base of every adapter config (PgConfig, PgliteConfig, …). It owns the lazily-created adapter (pool) and hands out
 * sessions; a subclass only says how to create its Adapter.
 */
export abstract class DatabaseConfig<Conn = unknown, P = unknown, Native = unknown> {
  /** The pool settings given, over the adapter's defaults. */
  readonly poolConfig: P;
  /**
   * @internal Driver features with defaults applied; `onConnectionCreate` receives the driver's own connection
   * (Native).
   */
  readonly features: ResolvedDriverFeatures<Native>;
  /** The statement settings given. */
  readonly statementConfig: StatementConfig;
  /**
   * The migration settings, defaults applied (`scriptLocation` `"migrations"`, `versionTableName`
   * `"sqlspec_migrations"`).
   */
  readonly migrationConfig: MigrationConfig;
  /** The config's name in the registry, if one was given. */
  readonly bindKey: string | undefined;
  /** @internal Server facts cached per pool: version, catalog columns, unique keys. */
  readonly dictionaryCache = new DataDictionaryCache();
  #adapter: Promise<Adapter<Conn>> | undefined;
  #resolved: Adapter<Conn> | undefined;
  readonly #observability: ObservabilityConfig | undefined;
  #observer: Observer | undefined;
  #migrations: Migrator | undefined;

  /**
   * @param options - The config's settings.
   * @param defaultPool - The adapter's pool defaults, under `options.poolConfig`.
   * @throws {@link ImproperConfigurationError} for an invalid driver feature or statement setting.
   */
  constructor(options: ConfigOptions<P, Native> = {}, defaultPool: P) {
    this.poolConfig = { ...defaultPool, ...(options.poolConfig ?? {}) } as P;
    const f = options.driverFeatures ?? {};
    this.features = {
      jsonSerializer: f.jsonSerializer ?? defaultJsonSerializer,
      jsonDeserializer: f.jsonDeserializer ?? defaultJsonDeserializer,
      enableJsonCodecs: f.enableJsonCodecs ?? true,
      enablePgvector: f.enablePgvector ?? true,
      int8: oneOf("int8", f.int8 ?? DEFAULT_INT8_MODE, ["number", "bigint", "string"]),
      timestamps: oneOf("timestamps", f.timestamps ?? DEFAULT_TIMESTAMP_MODE, ["date", "string"]),
      ...(f.onConnectionCreate ? { onConnectionCreate: f.onConnectionCreate } : {}),
    };
    this.statementConfig = { ...(options.statementConfig ?? {}) };
    if ("cacheSize" in this.statementConfig) {
      // Once documented here, never read: the compiled-statement cache is process-wide.
      throw new ImproperConfigurationError(
        "statementConfig.cacheSize is not a per-config setting: the compiled-statement cache is process-wide; " +
          "size it with setStatementCacheSize(n). statementConfig.statementCacheSize sizes the per-connection " +
          "prepared-statement cache.",
      );
    }
    this.migrationConfig = {
      scriptLocation: "migrations",
      versionTableName: "sqlspec_migrations",
      ...(options.migrationConfig ?? {}),
    };
    this.bindKey = options.bindKey;
    this.#observability = options.observability;
    this.#observer = resolveObserver(options.observability);
  }

  /** @internal Hooks, logger and tracing for this config's sessions (undefined when all are off). */
  get observer(): Observer | undefined {
    return this.#observer;
  }

  /**
   * @internal
   * Combines the registry's observability settings with this config's own (the config's win; both sets of hooks
   * run). Called by `SQLSpec.addConfig`; applies to pools created afterwards.
   */
  useObservability(registry: ObservabilityConfig | undefined): void {
    this.#observer = resolveObserver(registry, this.#observability);
  }

  /** This database's migrations (`migrationConfig`): upgrade, downgrade, current, history, pending, stamp, check. */
  get migrations(): Migrator {
    this.#migrations ??= new Migrator(this);
    return this.#migrations;
  }

  /** Creates the adapter (and its pool). Imports the driver package; a missing one raises MissingDependencyError. */
  protected abstract createAdapter(): Promise<Adapter<Conn>>;

  /** The adapter, created on first use and shared by every session of this config. */
  getAdapter(): Promise<Adapter<Conn>> {
    if (this.#adapter === undefined) {
      this.#adapter = this.createAdapter()
        .then((a) => this.#instrument(trackStatements(a)))
        .then(
          (a) => {
            this.#resolved = a;
            return a;
          },
          (err) => {
            this.#adapter = undefined;
            throw err;
          },
        );
    }
    return this.#adapter;
  }

  /** With observability on, sessions get the adapter wrapped so every statement is reported. */
  async #instrument(adapter: Adapter<Conn>): Promise<Adapter<Conn>> {
    const observer = this.#observer;
    if (observer === undefined) return adapter;
    if (observer.wantsOtel && observer.otel === undefined) {
      try {
        observer.otel = await loadOtel(observer.config);
      } catch (err) {
        await adapter.close().catch(() => undefined);
        throw err;
      }
    }
    return instrumentAdapter(adapter, observer, this.bindKey, endpointOf(this.poolConfig));
  }

  /**
   * Acquires a connection for a session that holds it until disposed (`await using`). `signal` and `timeoutMs` bound
   * the wait for a free connection (OperationCancelledError / PoolTimeoutError).
   */
  async provideSession(options?: SessionOptions): Promise<Session<Conn>> {
    const adapter = this.#resolved ?? (await this.getAdapter());
    return new Session<Conn>(adapter, await adapter.acquire(this.#acquireOptions(adapter, options)), this);
  }

  /** Runs fn with a session and releases its connection when fn settles (reset first; see Adapter.release). */
  withSession<T>(fn: (session: Session<Conn>) => Promise<T>, options?: SessionOptions): Promise<T> {
    // Hot path: not async (a `then` per step instead of an async frame and its awaits), no async context unless
    // the connection is shared, and no wait for a release that finished at once.
    const adapter = this.#resolved;
    if (adapter === undefined) return this.getAdapter().then((a) => this.#withSession(a, fn, options));
    return this.#withSession(adapter, fn, options);
  }

  #withSession<T>(
    adapter: Adapter<Conn>,
    fn: (session: Session<Conn>) => Promise<T>,
    options: SessionOptions | undefined,
  ): Promise<T> {
    const shared = adapter.capabilities.sharedConnection;
    let acquired: Promise<Conn>;
    try {
      acquired = adapter.acquire(shared || options !== undefined ? this.#acquireOptions(adapter, options) : undefined);
    } catch (err) {
      return Promise.reject(err);
    }
    return acquired.then((conn) => this.#inSession(new Session<Conn>(adapter, conn, this), shared, fn));
  }

  #inSession<T>(session: Session<Conn>, shared: boolean, fn: (session: Session<Conn>) => Promise<T>): Promise<T> {
    let result: Promise<T>;
    try {
      result = Promise.resolve(
        shared
          ? sessionScope.run({ session, transaction: undefined, outer: sessionScope.getStore() }, fn, session)
          : fn(session),
      );
    } catch (err) {
      result = Promise.reject(err);
    }
    return result.then(
      (value) => {
        const released = session.release(undefined);
        return released === RELEASED ? value : released.then(() => value);
      },
      (err: unknown) => {
        const released = session.release(err);
        if (released === RELEASED) throw err;
        return released.then(() => {
          throw err;
        });
      },
    );
  }

  /**
   * Runs one statement in a session of its own (`withSession(s => s.execute(…))`). Where the driver pipelines
   * (postgres.js), a plain SELECT/INSERT/UPDATE/DELETE/MERGE without `signal`/`timeoutMs` may share a connection with
   * other one-shot statements running at the same time; anything that could change a connection's state (SET,
   * BEGIN, DDL, set_config(), builders, a per-call cancel) gets a connection of its own. Acquire timeouts, broken
   * connections and resets are those of a session.
   *
   * @example
   * const r = await db.execute("UPDATE products SET price = $1 WHERE id = $2", [9.5, 1]);
   */
  execute<T = Row, S extends Statement = Statement>(
    statement: S,
    ...args: StatementArgs<S, ExecuteOptions>
  ): Promise<SQLResult<RowOf<S, T>>>;
  execute<T = Row>(statement: Statement, params?: Params, options?: ExecuteOptions): Promise<SQLResult<T>> {
    return this.#once(statement, options, (s) => s.execute<T>(statement, params, options));
  }

  /**
   * The rows of one statement, in a session of its own (see `execute` for when it shares a connection).
   *
   * @example
   * const cheap = await db.select<Product>("SELECT * FROM products WHERE price < $1", [10]);
   */
  select<T = Row, S extends Statement = Statement>(
    statement: S,
    ...args: StatementArgs<S, SelectOptions<RowOf<S, T>>>
  ): Promise<RowOf<S, T>[]>;
  select<T = Row>(statement: Statement, params?: Params, options?: SelectOptions<T>): Promise<T[]> {
    return this.#once(statement, options, (s) => s.select<T>(statement, params, options));
  }

  /** Exactly one row (NotFoundError / MultipleResultsFoundError otherwise), in a session of its own. */
  selectOne<T = Row, S extends Statement = Statement>(
    statement: S,
    ...args: StatementArgs<S, SelectOptions<RowOf<S, T>>>
  ): Promise<RowOf<S, T>>;
  selectOne<T = Row>(statement: Statement, params?: Params, options?: SelectOptions<T>): Promise<T> {
    return this.#once(statement, options, (s) => s.selectOne<T>(statement, params, options));
  }

  /** One row or `null` (MultipleResultsFoundError for more), in a session of its own. */
  selectOneOrNull<T = Row, S extends Statement = Statement>(
    statement: S,
    ...args: StatementArgs<S, SelectOptions<RowOf<S, T>>>
  ): Promise<RowOf<S, T> | null>;
  selectOneOrNull<T = Row>(statement: Statement, params?: Params, options?: SelectOptions<T>): Promise<T | null> {
    return this.#once(statement, options, (s) => s.selectOneOrNull<T>(statement, params, options));
  }

  /** The first column of exactly one row, in a session of its own. */
  selectValue<T = unknown, S extends Statement = Statement>(
    statement: S,
    ...args: StatementArgs<S, ExecuteOptions>
  ): Promise<ValueOf<S, T>>;
  selectValue<T = unknown>(statement: Statement, params?: Params, options?: ExecuteOptions): Promise<T> {
    return this.#once(statement, options, (s) => s.selectValue<T>(statement, params, options));
  }

  /** The first column of one row, or `null` when there is none, in a session of its own. */
  selectValueOrNull<T = unknown, S extends Statement = Statement>(
    statement: S,
    ...args: StatementArgs<S, ExecuteOptions>
  ): Promise<ValueOf<S, T> | null>;
  selectValueOrNull<T = unknown>(statement: Statement, params?: Params, options?: ExecuteOptions): Promise<T | null> {
    return this.#once(statement, options, (s) => s.selectValueOrNull<T>(statement, params, options));
  }

  async #once<T>(
    statement: Statement,
    options: ExecuteOptions | undefined,
    fn: (session: Session<Conn>) => Promise<T>,
  ): Promise<T> {
    const adapter = this.#resolved ?? (await this.getAdapter());
    const sql =
      adapter.acquireShared !== undefined && options?.signal === undefined && options?.timeoutMs === undefined
        ? shareableText(adapter, statement)
        : undefined;
    const pending = sql === undefined ? undefined : adapter.acquireShared?.(sql);
    if (pending === undefined) {
      // The call's signal gives up the wait for a connection too; its timeoutMs bounds the statement only.
      const signal = options?.signal;
      return signal === undefined ? this.withSession(fn) : this.withSession(fn, { signal });
    }
    const session = new Session<Conn>(adapter, await pending, this);
    let failure: unknown;
    try {
      return await fn(session);
    } catch (err) {
      failure = isBrokenError(err) ? err : undefined;
      throw err;
    } finally {
      await adapter.releaseShared?.(session.conn, failure);
    }
  }

  #acquireOptions(adapter: Adapter<Conn>, options: SessionOptions | undefined): AcquireOptions<Conn> {
    const o: AcquireOptions<Conn> = {};
    if (options?.signal !== undefined) o.signal = options.signal;
    const timeoutMs = checkTimeoutMs(options?.timeoutMs);
    if (timeoutMs !== undefined) o.timeoutMs = timeoutMs;
    if (adapter.capabilities.sharedConnection) {
      // A session opened inside another session's callback: a shared-connection adapter may join it.
      const outer = sessionScope.getStore()?.session;
      if (outer instanceof Session && outer.adapter === adapter && !outer.released) o.parent = outer.conn as Conn;
    }
    return o;
  }

  /** Closes the pool. The config can be used again afterwards (a new pool is created on demand). */
  async close(): Promise<void> {
    const pending = this.#adapter;
    this.#adapter = undefined;
    this.#resolved = undefined;
    this.dictionaryCache.clear();
    if (pending) await (await pending.catch(() => undefined))?.close();
  }

  /** Whether a pool exists right now. */
  get isOpen(): boolean {
    return this.#resolved !== undefined;
  }
}

/**
 * The statement in the adapter's style when one-shot calls may share a connection for it: one SELECT/INSERT/
 * UPDATE/DELETE/MERGE given as text (a builder may read the catalog or stage rows first). Its compiled plan is cached,
 * so the session's own compile of it costs a lookup.
 */
function shareableText(adapter: Adapter<unknown>, statement: Statement): string | undefined {
  if (isQueryBuilder(statement)) return undefined;
  let plan: StatementPlan | undefined;
  try {
    plan =
      typeof statement === "string"
        ? getPlan(statement, adapter.parameterStyle, adapter.dialect)
        : statement instanceof SQL
          ? getPlan(statement.textFor(adapter.dialect), adapter.parameterStyle, adapter.dialect, statement.inputStyle)
          : undefined;
  } catch {
    return undefined; // the session raises the same error, before any I/O
  }
  if (plan === undefined || plan.statementCount !== 1 || !SHAREABLE.has(plan.operationType)) return undefined;
  return plan.sql;
}

/** Database name, host and port from a pool config (never credentials), for span attributes. */
function endpointOf(pool: unknown): Endpoint {
  const p = (pool ?? {}) as { connectionString?: unknown; host?: unknown; port?: unknown; database?: unknown };
  const e: Endpoint = {};
  if (typeof p.connectionString === "string") {
    try {
      const u = new URL(p.connectionString);
      if (u.hostname) e.address = decodeURIComponent(u.hostname).replace(/^\[|\]$/g, "");
      if (u.port) e.port = Number(u.port);
      const db = decodeURIComponent(u.pathname.replace(/^\//, ""));
      if (db) e.namespace = db;
    } catch {
      // Not a URL (a libpq key=value string): leave the attributes out.
    }
  }
  if (typeof p.host === "string") e.address = p.host;
  if (typeof p.port === "number") e.port = p.port;
  if (typeof p.database === "string") e.namespace = p.database;
  return e;
}

function oneOf<T extends string>(key: string, value: T, allowed: readonly T[]): T {
  if (!allowed.includes(value)) {
    throw new ImproperConfigurationError(
      `driverFeatures.${key} must be one of ${allowed.map((a) => `"${a}"`).join(", ")}`,
    );
  }
  return value;
}
