import { ImproperConfigurationError } from "../core/errors.js";
import type { NamedSQL } from "../core/typed-query.js";
import { SQLFileLoader } from "../loader/loader.js";
import type { DatabaseConfig, SessionOptions } from "./database-config.js";
import type { ObservabilityConfig } from "./observability.js";
import type { Session } from "./session.js";

/** Options of `new SQLSpec(options)`. */
export interface SQLSpecOptions {
  /** Hooks, logger (parameters redacted by default), OpenTelemetry, for every config added (a config's own win). */
  observability?: ObservabilityConfig;
}

/**
 * The registry of database configs. `addConfig` returns the config itself, which is the handle for sessions;
 * `closeAllPools` (or `await using spec`) closes every pool. It also holds the named statements of loaded `.sql`
 * files.
 *
 * @example
 * await using spec = new SQLSpec();
 * const db = spec.addConfig(new PgConfig({ poolConfig: { connectionString: process.env.DATABASE_URL } }));
 * const n = await db.withSession((s) => s.selectValue<number>("SELECT count(*)::int FROM users"));
 */
export class SQLSpec implements AsyncDisposable {
  readonly #observability: ObservabilityConfig | undefined;
  readonly #configs = new Set<DatabaseConfig<any, any, any>>();
  readonly #byKey = new Map<string, DatabaseConfig<any, any, any>>();
  #loader: SQLFileLoader | undefined;

  constructor(options: SQLSpecOptions = {}) {
    this.#observability = options.observability;
  }

  /**
   * Registers a config and returns it (the handle for sessions). Adding the same config again is a no-op.
   * @throws {@link ImproperConfigurationError} when another config already uses its `bindKey`.
   */
  addConfig<C extends DatabaseConfig<any, any, any>>(config: C): C {
    if (config.bindKey !== undefined) {
      const existing = this.#byKey.get(config.bindKey);
      if (existing && existing !== config) {
        throw new ImproperConfigurationError(`A config with bindKey "${config.bindKey}" is already registered`);
      }
      this.#byKey.set(config.bindKey, config);
    }
    if (!this.#configs.has(config) && this.#observability !== undefined) config.useObservability(this.#observability);
    this.#configs.add(config);
    return config;
  }

  /**
   * Looks a config up by its bindKey.
   * @throws {@link ImproperConfigurationError} for an unknown key (the message lists the known ones).
   */
  getConfig<C extends DatabaseConfig<any, any, any> = DatabaseConfig<any, any, any>>(bindKey: string): C {
    const config = this.#byKey.get(bindKey);
    if (!config) {
      const known = [...this.#byKey.keys()];
      throw new ImproperConfigurationError(
        `No config with bindKey "${bindKey}"${known.length ? `; known: ${known.join(", ")}` : " (none registered)"}`,
      );
    }
    return config as C;
  }

  /** The registered configs, in the order they were added (a copy). */
  get configs(): readonly DatabaseConfig<any, any, any>[] {
    return [...this.#configs];
  }

  /**
   * A session on `config` (the config or its bindKey) that holds its connection until disposed (`await using`).
   * @throws {@link ImproperConfigurationError} for a config that was not added.
   */
  provideSession<Conn>(
    config: DatabaseConfig<Conn, any, any> | string,
    options?: SessionOptions,
  ): Promise<Session<Conn>> {
    return this.#resolve(config).provideSession(options);
  }

  /**
   * Runs `fn` with a session on `config` and releases the connection when `fn` settles; returns what `fn` returns.
   * @throws {@link ImproperConfigurationError} for a config that was not added.
   */
  withSession<Conn, T>(
    config: DatabaseConfig<Conn, any, any> | string,
    fn: (session: Session<Conn>) => Promise<T>,
    options?: SessionOptions,
  ): Promise<T> {
    return this.#resolve(config).withSession(fn, options);
  }

  /**
   * Closes every config's pool (each can reopen on demand). All are closed even if one fails; the first failure is
   * thrown.
   */
  async closeAllPools(): Promise<void> {
    const results = await Promise.allSettled([...this.#configs].map((c) => c.close()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  /** `await using spec = new SQLSpec()`: {@link SQLSpec.closeAllPools} at scope exit. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.closeAllPools();
  }

  // ---------------------------------------------------------------- named SQL from .sql files

  /** The registry's SQL file loader (created on first use). */
  get sqlFiles(): SQLFileLoader {
    this.#loader ??= new SQLFileLoader();
    return this.#loader;
  }

  /** Loads `-- name:` statements from files and folders (recursively; folders become dot namespaces). */
  loadSqlFiles(...paths: string[]): this {
    this.sqlFiles.load(...paths);
    return this;
  }

  /** A loaded statement as a SQL object; an unknown name raises SQLFileNotFoundError listing the closest names. */
  getSql(name: string): NamedSQL {
    return this.sqlFiles.getSql(name);
  }

  /** Names of the loaded statements in load order; with `namespace`, only those under it (`"users"` → `"users.…"`). */
  listQueries(namespace?: string): string[] {
    return this.sqlFiles.listQueries(namespace);
  }

  /** Whether a statement with this name is loaded. */
  hasQuery(name: string): boolean {
    return this.sqlFiles.hasQuery(name);
  }

  /** A loaded statement's SQL text. @throws {@link SQLFileNotFoundError} for an unknown name. */
  getQueryText(name: string): string {
    return this.sqlFiles.getQueryText(name);
  }

  #resolve<Conn>(config: DatabaseConfig<Conn, any, any> | string): DatabaseConfig<Conn, any, any> {
    if (typeof config === "string") return this.getConfig(config);
    if (!this.#configs.has(config)) {
      throw new ImproperConfigurationError("This config was not registered; call spec.addConfig(config) first");
    }
    return config;
  }
}
