import type { PGlite, PGliteOptions } from "@electric-sql/pglite";
import type { ConfigOptions, ResetOnRelease } from "../../driver/config.js";
import { DatabaseConfig } from "../../driver/database-config.js";
import { importDriver, rethrow } from "../../driver/dependencies.js";
import { createPgliteAdapter, type PgliteAdapter, type PgliteConnection } from "./driver.js";

/** Settings of the embedded PGlite database (it has one connection, so there is no pool to size). */
export interface PglitePoolConfig {
  /** Directory for a persistent database; omitted = in memory. */
  dataDir?: string;
  /** PGlite extensions (e.g. `{ vector }`); pgvector is added automatically when its package is installed. */
  extensions?: PGliteOptions["extensions"];
  /** How long a session waits while another session holds an open transaction. Default 30 000 ms. */
  acquireTimeoutMs?: number;
  /** What release resets (see PoolConfig.resetOnRelease); default "auto". */
  resetOnRelease?: ResetOnRelease;
  /** Passed through to PGlite. */
  relaxedDurability?: boolean;
  /** PGlite's debug level (1–5), passed through; logs to the console. */
  debug?: PGliteOptions["debug"];
}

/** Options of `new PgliteConfig(…)`; `driverFeatures.onConnectionCreate` receives the `PGlite` instance. */
export type PgliteConfigOptions = ConfigOptions<PglitePoolConfig, PGlite>;

/**
 * Embedded PostgreSQL (PGlite, WASM): zero setup, in memory or on disk. PGlite has a single connection; sessions
 * share it statement by statement, and an open transaction holds it until it ends. A session opened inside another
 * session's callback joins that session's transaction (as a savepoint) instead of deadlocking.
 */
export class PgliteConfig extends DatabaseConfig<PgliteConnection, PglitePoolConfig, PGlite> {
  constructor(options: PgliteConfigOptions = {}) {
    super(options, {});
  }

  protected async createAdapter(): Promise<PgliteAdapter> {
    const pglite = await importDriver("@electric-sql/pglite", "PgliteConfig", () =>
      import("@electric-sql/pglite").catch(rethrow),
    );
    let vector: unknown;
    if (this.features.enablePgvector) {
      try {
        vector = (await import("@electric-sql/pglite-pgvector")).vector;
      } catch {
        // pgvector is optional: without its package, vector columns read back as text.
      }
    }
    const p = this.poolConfig;
    const options: PGliteOptions = {};
    if (p.dataDir !== undefined) options.dataDir = p.dataDir;
    if (p.extensions !== undefined) options.extensions = p.extensions;
    if (p.relaxedDurability !== undefined) options.relaxedDurability = p.relaxedDurability;
    if (p.debug !== undefined) options.debug = p.debug;
    return createPgliteAdapter(
      pglite,
      vector,
      options,
      this.features,
      p.acquireTimeoutMs ?? 30_000,
      p.resetOnRelease ?? "auto",
    );
  }
}
