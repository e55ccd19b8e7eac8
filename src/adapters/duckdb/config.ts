import type * as DuckDB from "@duckdb/node-api";
import { DatabaseConnectionError } from "../../core/errors.js";
import type { ConfigOptions } from "../../driver/config.js";
import { DatabaseConfig } from "../../driver/database-config.js";
import { DuckdbAdapter, type DuckdbConnection, loadDuckdb } from "./driver.js";

/** Settings of a DuckDB database and its connection pool. */
export interface DuckdbPoolConfig {
  /** `":memory:"` (default) or a file path. One DuckDB instance per config. */
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
 * DuckDB through @duckdb/node-api (1.5.x): one instance, a connection per session. Statements are prepared; those
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
      instance = await duck.DuckDBInstance.create(database, { ...(p.config ?? {}) });
    } catch (err) {
      // A missing folder, or the file's lock held by another process (DuckDB opens a file from one process at once).
      throw new DatabaseConnectionError(`DuckDB cannot open ${database}: ${(err as Error)?.message ?? String(err)}`, {
        cause: err,
      });
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
