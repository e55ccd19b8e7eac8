/**
 * The three PostgreSQL adapters the trust tests run against, with the pool options those tests vary. Each target
 * names its own tables (`prefix`) so test files running side by side on one database never collide.
 */
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import type { DatabaseConfig, ResetOnRelease } from "../../src/index.js";
import { PG_URL } from "../support/servers.js";

export type AnyConfig = DatabaseConfig<any, any, any>;

export interface TargetOptions {
  maxSize?: number;
  resetOnRelease?: ResetOnRelease;
  acquireTimeoutMs?: number;
  applicationName?: string;
  statementCacheSize?: number;
  onConnectionCreate?: (conn: any) => Promise<void>;
}

export interface Target {
  name: "pg" | "postgresjs" | "pglite";
  /** A server backs this target (pg_stat_activity is meaningful, connections are real sockets). */
  server: boolean;
  make(o?: TargetOptions): AnyConfig;
}

function serverPool(o: TargetOptions) {
  return {
    connectionString: PG_URL,
    maxSize: o.maxSize ?? 1,
    acquireTimeoutMs: o.acquireTimeoutMs ?? 10_000,
    ...(o.resetOnRelease !== undefined ? { resetOnRelease: o.resetOnRelease } : {}),
    ...(o.applicationName !== undefined ? { applicationName: o.applicationName } : {}),
  };
}

function common(o: TargetOptions) {
  return {
    ...(o.statementCacheSize !== undefined ? { statementConfig: { statementCacheSize: o.statementCacheSize } } : {}),
    ...(o.onConnectionCreate !== undefined ? { driverFeatures: { onConnectionCreate: o.onConnectionCreate } } : {}),
  };
}

export const TARGETS: Target[] = [
  { name: "pg", server: true, make: (o = {}) => new PgConfig({ poolConfig: serverPool(o), ...common(o) }) },
  {
    name: "postgresjs",
    server: true,
    make: (o = {}) => new PostgresJsConfig({ poolConfig: serverPool(o), ...common(o) }),
  },
  {
    name: "pglite",
    server: false,
    make: (o = {}) =>
      new PgliteConfig({
        poolConfig: {
          acquireTimeoutMs: o.acquireTimeoutMs ?? 10_000,
          ...(o.resetOnRelease !== undefined ? { resetOnRelease: o.resetOnRelease } : {}),
        },
        ...common(o),
      }),
  },
];

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
