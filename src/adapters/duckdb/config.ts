import type * as DuckDB from "@duckdb/node-api";
import { DatabaseConnectionError, ImproperConfigurationError } from "../../core/errors.js";
import type { ConfigOptions } from "../../driver/config.js";
import { DatabaseConfig } from "../../driver/database-config.js";
import type { DuckdbModule } from "./codecs.js";
import { DuckdbAdapter, type DuckdbConnection, loadDuckdb } from "./driver.js";

/** DuckDB's instance cache refusing a second open of a file with other options. */
const DIFFERENT_CONFIG = /different configuration than existing connections/i;

/**
 * `":memory:"` (or `""`): a private instance. A file: the process's one instance for it, from DuckDB's instance cache
 * (it resolves the path, counts its users and closes the file when the last one closes): two instances on one file
 * each keep their own copy of its data, and the last to close overwrites the other's commits.
 */
function openInstance(
  duck: DuckdbModule,
  database: string,
  options: Record<string, string>,
): Promise<DuckDB.DuckDBInstance> {
  if (database === "" || database === ":memory:") return duck.DuckDBInstance.create(database, options);
  return duck.DuckDBInstance.fromCache(database, options);
}

/** Settings of a DuckDB database and its connection pool. */
export interface DuckdbPoolConfig {
  /**
   * `":memory:"` (default, private to the config) or a file path. Configs on one file in a process share its DuckDB
   * instance, so they must pass the same `config` (else ImproperConfigurationError at open).
   */
  database?: string;
  /** DuckDB configuration options for the instance, e.g. `{ threads: "4", memory_limit: "1GB" }`. */
  config?: Record<string, string>;
  /** Most connections open at once (one per session). Default 8. */
  maxSize?: number;
  /** Waiting longer than this for a free connection raises PoolTimeoutError. Default: wait. */
  acquireTimeoutMs?: number;
  /** Idle connections are closed after this long. Default 30 000 ms. */
  idleTimeoutMs?: number;
}

/** Options of `new DuckdbConfig(…)`; `driverFeatures.onConnectionCreate` receives a `DuckDBConnection`. */
export type DuckdbConfigOptions = ConfigOptions<DuckdbPoolConfig, DuckDB.DuckDBConnection>;

/**
 * DuckDB through @duckdb/node-api (1.5.x): one instance per database file in the process, a connection per session. Statements are prepared; those
 * with parameters are cached per connection (`statementConfig.statementCacheSize`, default 100). `timeoutMs` and `signal` interrupt a running
 * statement. DuckDB has no SAVEPOINT: a nested `transaction()` raises TransactionError.
 */
export class DuckdbConfig extends DatabaseConfig<DuckdbConnection, DuckdbPoolConfig, DuckDB.DuckDBConnection> {
  constructor(options: DuckdbConfigOptions = {}) {
    super(options, { database: ":memory:" });
  }

  protected async createAdapter(): Promise<DuckdbAdapter> {
    const duck = await loadDuckdb("DuckdbConfig");
    const p = this.poolConfig;
    const database = p.database ?? ":memory:";
    let instance: DuckDB.DuckDBInstance;
    try {
      instance = await openInstance(duck, database, { ...(p.config ?? {}) });
    } catch (err) {
      const message = (err as Error)?.message ?? String(err);
      if (DIFFERENT_CONFIG.test(message)) {
        throw new ImproperConfigurationError(
          `DuckDB cannot open ${database}: it is already open in this process with different \`config\` options; a file has one instance per process, so give every DuckdbConfig on it the same options`,
          { cause: err },
        );
      }
      // A missing folder, or the file's lock held by another process (DuckDB opens a file from one process at once).
      throw new DatabaseConnectionError(`DuckDB cannot open ${database}: ${message}`, { cause: err });
    }
    return new DuckdbAdapter(duck, instance, {
      database,
      config: p.config ?? {},
      maxSize: Math.max(1, p.maxSize ?? 8),
      acquireTimeoutMs: p.acquireTimeoutMs,
      idleTimeoutMs: p.idleTimeoutMs ?? 30_000,
      statementCacheSize: this.statementConfig.statementCacheSize ?? 100,
      features: this.features,
    });
  }
}
