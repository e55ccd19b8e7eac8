import type * as PgModule from "pg";
import type { ConfigOptions, PoolConfig } from "../../driver/config.js";
import { DatabaseConfig } from "../../driver/database-config.js";
import { DEFAULT_STATEMENT_CACHE_BYTES } from "../postgres-common/statement-cache.js";
import { loadPg, PgAdapter, type PgConnection, probeCopyFrom, probeCopyTo } from "./driver.js";

/** Pool settings for node-postgres: every shared pool key (`connectionString` or host/port/user/…). */
export type PgPoolConfig = PoolConfig;

/** Options of `new PgConfig(…)`; `driverFeatures.onConnectionCreate` receives a node-postgres `PoolClient`. */
export type PgConfigOptions = ConfigOptions<PgPoolConfig, PgModule.PoolClient>;

/**
 * PostgreSQL through node-postgres (`pg`), the default server adapter and the fastest measured here.
 * Repeated parameterised statements run as named prepared statements (an LRU of `statementConfig.statementCacheSize`
 * per connection, default 100; `0` disables them, e.g. behind PgBouncer in transaction mode).
 */
export class PgConfig extends DatabaseConfig<PgConnection, PgPoolConfig, PgModule.PoolClient> {
  constructor(options: PgConfigOptions = {}) {
    super(options, {});
  }

  protected async createAdapter(): Promise<PgAdapter> {
    const pg = await loadPg("PgConfig");
    return new PgAdapter(pg, {
      pool: this.poolConfig,
      features: this.features,
      statementCacheSize: this.statementConfig.statementCacheSize ?? 100,
      statementCacheBytes: this.statementConfig.statementCacheBytes ?? DEFAULT_STATEMENT_CACHE_BYTES,
      // Known when the pool is made: without pg-copy-streams bulk calls use JSON sources at every size.
      copyFrom: await probeCopyFrom(),
      copyTo: await probeCopyTo(),
    });
  }
}
