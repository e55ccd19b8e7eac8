import { defaultJsonDeserializer, defaultJsonSerializer } from "../core/json.js";
import type { Adapter } from "./adapter.js";
import type { ConfigOptions, MigrationConfig, ResolvedDriverFeatures, StatementConfig } from "./config.js";
import { DataDictionaryCache } from "./data-dictionary.js";
import { Session } from "./session.js";

/**
 * Base of every adapter config (PgConfig, PgliteConfig, …). It owns the lazily-created adapter (pool) and hands out
 * sessions; a subclass only says how to create its Adapter.
 */
export abstract class DatabaseConfig<Conn = unknown, P = unknown, Native = unknown> {
  readonly poolConfig: P;
  /** Driver features with defaults applied; `onConnectionCreate` receives the driver's own connection (Native). */
  readonly features: ResolvedDriverFeatures<Native>;
  readonly statementConfig: StatementConfig;
  readonly migrationConfig: MigrationConfig;
  readonly bindKey: string | undefined;
  /** Server facts cached per pool: version, catalog columns, unique keys. */
  readonly dictionaryCache = new DataDictionaryCache();
  #adapter: Promise<Adapter<Conn>> | undefined;
  #resolved: Adapter<Conn> | undefined;

  constructor(options: ConfigOptions<P, Native> = {}, defaultPool: P) {
    this.poolConfig = { ...defaultPool, ...(options.poolConfig ?? {}) } as P;
    const f = options.driverFeatures ?? {};
    this.features = {
      jsonSerializer: f.jsonSerializer ?? defaultJsonSerializer,
      jsonDeserializer: f.jsonDeserializer ?? defaultJsonDeserializer,
      enableJsonCodecs: f.enableJsonCodecs ?? true,
      enablePgvector: f.enablePgvector ?? true,
      ...(f.onConnectionCreate ? { onConnectionCreate: f.onConnectionCreate } : {}),
    };
    this.statementConfig = { ...(options.statementConfig ?? {}) };
    this.migrationConfig = {
      scriptLocation: "migrations",
      versionTableName: "sqlspec_migrations",
      ...(options.migrationConfig ?? {}),
    };
    this.bindKey = options.bindKey;
  }

  /** Creates the adapter (and its pool). Imports the driver package; a missing one raises MissingDependencyError. */
  protected abstract createAdapter(): Promise<Adapter<Conn>>;

  /** The adapter, created on first use and shared by every session of this config. */
  getAdapter(): Promise<Adapter<Conn>> {
    if (this.#adapter === undefined) {
      this.#adapter = this.createAdapter().then(
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

  /** Acquires a connection for a session that holds it until disposed (`await using`). */
  async provideSession(options: { signal?: AbortSignal } = {}): Promise<Session<Conn>> {
    const adapter = this.#resolved ?? (await this.getAdapter());
    const conn = await adapter.acquire(options.signal);
    return new Session<Conn>(adapter, conn, this);
  }

  /** Runs fn with a session and releases its connection when fn settles. */
  async withSession<T>(fn: (session: Session<Conn>) => Promise<T>): Promise<T> {
    // Hot path: no extra await once the pool exists.
    const adapter = this.#resolved ?? (await this.getAdapter());
    const session = new Session<Conn>(adapter, await adapter.acquire(), this);
    let failure: unknown;
    try {
      return await (adapter.scope ? adapter.scope(session.conn, () => fn(session)) : fn(session));
    } catch (err) {
      failure = err;
      throw err;
    } finally {
      await session.release(failure);
    }
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
