import type * as Mysql2 from "mysql2";
import type { ConfigOptions, DriverFeatures, PoolConfig } from "../../driver/config.js";
import { DatabaseConfig } from "../../driver/database-config.js";
import type { MysqlConnection } from "./connection.js";
import { loadMysql2, MysqlAdapter } from "./driver.js";

/**
 * Pool settings for MySQL / MariaDB: every shared pool key plus the connection's charset and time zone.
 *
 * `resetOnRelease`: `"auto"` (default) runs COM_RESET_CONNECTION only for a connection whose session state the server
 * reported as changed (any `SET`, a user variable, a temporary table, `USE db`: sqlspec turns on
 * `session_track_state_change`); `true` on every release (the prepared-statement cache goes with it); `false` never.
 * An open transaction is always rolled back.
 */
export interface MysqlPoolConfig extends PoolConfig {
  /** Connection character set. Default `utf8mb4` (full Unicode, 4-byte characters included). */
  charset?: string;
  /**
   * Session time zone, `"UTC"` (default) or an offset like `"+02:00"`. DATETIME/TIMESTAMP values are read and written
   * in it, so with the default a `Date` round-trips exactly whatever the process `TZ` is.
   */
  timezone?: string;
}

/** Driver features for MySQL / MariaDB: the shared ones plus BIGINT, DATETIME and TINYINT(1) reading. */
export interface MysqlDriverFeatures extends DriverFeatures<Mysql2.Connection> {
  /**
   * BIGINT results: `"number"` (default; a value beyond ±2^53 raises DataError rather than being rounded),
   * `"bigint"` or `"string"`. A column has one JS type whatever its values.
   */
  int8?: "number" | "bigint" | "string";
  /** DATETIME/TIMESTAMP/DATE results: `"date"` (default, a `Date` in the session time zone) or `"string"` (full precision). */
  timestamps?: "date" | "string";
  /** TINYINT(1) results as booleans. Default `false`: MySQL has no boolean type, so they stay numbers unless asked. */
  tinyInt1AsBoolean?: boolean;
}

/** Options of `new MysqlConfig(…)`; `driverFeatures.onConnectionCreate` receives a mysql2 `Connection`. */
export interface MysqlConfigOptions extends Omit<ConfigOptions<MysqlPoolConfig, Mysql2.Connection>, "driverFeatures"> {
  /** Value conversion and connection setup, MySQL's keys included. */
  driverFeatures?: MysqlDriverFeatures;
}

/**
 * MySQL 8 and MariaDB 10.6+ through mysql2. Every statement with values runs as a server-side prepared statement
 * (cached per connection in an LRU of `statementConfig.statementCacheSize`, default 100); values never become SQL text.
 */
export class MysqlConfig extends DatabaseConfig<MysqlConnection, MysqlPoolConfig, Mysql2.Connection> {
  /** @internal The MySQL-specific driver features, defaults applied. */
  readonly mysqlFeatures: Required<Pick<MysqlDriverFeatures, "int8" | "timestamps" | "tinyInt1AsBoolean">>;

  constructor(options: MysqlConfigOptions = {}) {
    super(options, {});
    const f = options.driverFeatures ?? {};
    this.mysqlFeatures = {
      int8: f.int8 ?? "number",
      timestamps: f.timestamps ?? "date",
      tinyInt1AsBoolean: f.tinyInt1AsBoolean ?? false,
    };
    // The resolved int8 mode, where driverFeatures.int8 puts it for every adapter.
    Object.assign(this.features, { int8: this.mysqlFeatures.int8 });
  }

  protected async createAdapter(): Promise<MysqlAdapter> {
    const mysql2 = await loadMysql2("MysqlConfig");
    return new MysqlAdapter(mysql2, {
      pool: this.poolConfig,
      features: this.features,
      mysql: this.mysqlFeatures,
      statementCacheSize: this.statementConfig.statementCacheSize ?? 100,
    });
  }
}
