import type { ConfigOptions, PoolConfig } from "../../driver/config.js";
import { DatabaseConfig } from "../../driver/database-config.js";
import { DEFAULT_STATEMENT_CACHE_BYTES } from "../postgres-common/statement-cache.js";
import { loadPostgres, PostgresJsAdapter, type PostgresJsConnection, type PostgresSql } from "./driver.js";

/** Pool settings for postgres.js: every shared pool key (`connectionString` or host/port/user/…). */
export type PostgresJsPoolConfig = PoolConfig;

/**
 * Options of `new PostgresJsConfig(…)`; `driverFeatures.onConnectionCreate` receives a one-connection postgres.js
 * `sql`.
 */
export type PostgresJsConfigOptions = ConfigOptions<PostgresJsPoolConfig, PostgresSql>;

/**
 * PostgreSQL through postgres.js (`postgres`). `onConnectionCreate` receives the single-connection postgres.js `sql`
 * of each new physical connection. `statementConfig.statementCacheSize` bounds the statements postgres.js prepares
 * per connection (default 100; `0` disables preparing, e.g. behind PgBouncer in transaction mode).
 */
export class PostgresJsConfig extends DatabaseConfig<PostgresJsConnection, PostgresJsPoolConfig, PostgresSql> {
  constructor(options: PostgresJsConfigOptions = {}) {
    super(options, {});
  }

  protected async createAdapter(): Promise<PostgresJsAdapter> {
    const postgres = await loadPostgres("PostgresJsConfig");
    return new PostgresJsAdapter(postgres, {
      pool: this.poolConfig,
      features: this.features,
      statementCacheSize: this.statementConfig.statementCacheSize ?? 100,
      statementCacheBytes: this.statementConfig.statementCacheBytes ?? DEFAULT_STATEMENT_CACHE_BYTES,
    });
  }
}
