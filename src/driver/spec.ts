import { ImproperConfigurationError } from "../core/errors.js";
import type { NamedSQL } from "../core/typed-query.js";
import { SQLFileLoader } from "../loader/loader.js";
import type { DatabaseConfig, SessionOptions } from "./database-config.js";
import type { ObservabilityConfig } from "./observability.js";
import type { Session } from "./session.js";

/**
 * The registry of database configs. `addConfig` returns the config itself, which is the handle for sessions;
 * `closeAllPools` (or `await using spec`) closes every pool.
 */
export interface SQLSpecOptions {
  /** Hooks, logger (parameters redacted by default), OpenTelemetry, for every config added (a config's own win). */
  observability?: ObservabilityConfig;
}

export class SQLSpec implements AsyncDisposable {
  readonly #observability: ObservabilityConfig | undefined;
  readonly #configs = new Set<DatabaseConfig<any, any, any>>();
  readonly #byKey = new Map<string, DatabaseConfig<any, any, any>>();
  #loader: SQLFileLoader | undefined;

  constructor(options: SQLSpecOptions = {}) {
    this.#observability = options.observability;
  }

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

  /** Looks a config up by its bindKey. */
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

  get configs(): readonly DatabaseConfig<any, any, any>[] {
    return [...this.#configs];
  }

  provideSession<Conn>(
    config: DatabaseConfig<Conn, any, any> | string,
    options?: SessionOptions,
  ): Promise<Session<Conn>> {
    return this.#resolve(config).provideSession(options);
  }

  withSession<Conn, T>(
    config: DatabaseConfig<Conn, any, any> | string,
    fn: (session: Session<Conn>) => Promise<T>,
    options?: SessionOptions,
  ): Promise<T> {
    return this.#resolve(config).withSession(fn, options);
  }

  async closeAllPools(): Promise<void> {
    const results = await Promise.allSettled([...this.#configs].map((c) => c.close()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

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

  listQueries(namespace?: string): string[] {
    return this.sqlFiles.listQueries(namespace);
  }

  hasQuery(name: string): boolean {
    return this.sqlFiles.hasQuery(name);
  }

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
