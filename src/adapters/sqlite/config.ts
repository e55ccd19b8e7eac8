import type BetterSqlite3 from "better-sqlite3";
import type { ConfigOptions, ResetOnRelease } from "../../driver/config.js";
import { DatabaseConfig } from "../../driver/database-config.js";
import type { SqliteConnection } from "./connection.js";
import { SqliteAdapter } from "./driver.js";
import { isMemoryDatabase, loadBetterSqlite3 } from "./open.js";

/** Settings of a SQLite database (one shared connection for `:memory:`, a small pool for a file). */
export interface SqlitePoolConfig {
  /** `":memory:"` (default; one connection shared by every session) or a file path (a small pool, WAL). */
  database?: string;
  /** Open the file read-only. */
  readonly?: boolean;
  /**
   * How long a statement waits for a lock held by another connection to the file (another config, another process;
   * retried on timers, the thread stays free) and a writer for the write lock held by another session of this pool,
   * before SqliteBusyError. Opening a connection may wait up to this long on the thread. Default 5000 ms.
   */
  busyTimeoutMs?: number;
  /**
   * PRAGMAs applied to every connection after sqlspec's own (`foreign_keys = ON`, and `journal_mode = WAL` for files),
   * e.g. `{ synchronous: "NORMAL", cache_size: -64000 }`.
   */
  pragmas?: Record<string, string | number | boolean>;
  /**
   * `:memory:`: how long a session waits while another holds an open transaction (then PoolTimeoutError). Files: how
   * long a session waits for a free connection. Default 30 000 ms for `:memory:`, unbounded for files.
   */
  acquireTimeoutMs?: number;
  /** Files: most connections open at once. Default 4. */
  maxSize?: number;
  /** Files: idle connections are closed after this long. Default 10 000 ms. */
  idleTimeoutMs?: number;
  /**
   * `"auto"` (default): a connection whose settings changed (`PRAGMA x = …`, ATTACH, DETACH) is closed on release (a
   * file) or has sqlspec's pragmas applied again (`:memory:`, which cannot be closed without losing its data). `true`:
   * every file connection is closed on release. `false`: settings leak to the next session. An open transaction is
   * always rolled back.
   */
  resetOnRelease?: ResetOnRelease;
}

/** Options of `new SqliteConfig(…)`; `driverFeatures.onConnectionCreate` receives a better-sqlite3 `Database`. */
export type SqliteConfigOptions = ConfigOptions<SqlitePoolConfig, BetterSqlite3.Database>;

/**
 * SQLite through better-sqlite3 (12.x). Synchronous driver: each statement runs to completion once started, so
 * `timeoutMs` and `signal` bound only the time a statement waits to start (for the shared `:memory:` connection,
 * this pool's write lock, or a lock held by another connection to the file); they never interrupt it. Prepared statements are cached per connection
 * (`statementConfig.statementCacheSize`, default 200). `driverFeatures.onConnectionCreate` receives the
 * better-sqlite3 Database and must be synchronous.
 */
export class SqliteConfig extends DatabaseConfig<SqliteConnection, SqlitePoolConfig, BetterSqlite3.Database> {
  constructor(options: SqliteConfigOptions = {}) {
    super(options, { database: ":memory:" });
  }

  protected async createAdapter(): Promise<SqliteAdapter> {
    const Database = await loadBetterSqlite3("SqliteConfig");
    const p = this.poolConfig;
    const database = p.database ?? ":memory:";
    return new SqliteAdapter(Database, {
      database,
      readonly: p.readonly ?? false,
      busyTimeoutMs: p.busyTimeoutMs ?? 5000,
      pragmas: p.pragmas ?? {},
      acquireTimeoutMs: p.acquireTimeoutMs ?? (isMemoryDatabase(database) ? 30_000 : undefined),
      maxSize: Math.max(1, p.maxSize ?? 4),
      idleTimeoutMs: p.idleTimeoutMs ?? 10_000,
      statementCacheSize: this.statementConfig.statementCacheSize ?? 200,
      resetOnRelease: p.resetOnRelease ?? "auto",
      features: this.features,
    });
  }
}
