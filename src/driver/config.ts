import type { JsonDeserializer, JsonSerializer } from "../core/json.js";
import type { Int8Mode, TimestampMode } from "../core/values.js";
import type { Adapter } from "./adapter.js";
import type { ObservabilityConfig } from "./observability.js";

/** Pool settings shared by the server adapters. */
export interface PoolConfig {
  /**
   * A URL such as `postgres://user:pass@host:5432/db` (`mysql://…` for MySQL); the separate keys override its parts.
   */
  connectionString?: string;
  /** Server host name or address. */
  host?: string;
  /** Server port (the driver's default when omitted: 5432 PostgreSQL, 3306 MySQL). */
  port?: number;
  /** User to log in as. */
  user?: string;
  /** Password; never logged or put in error messages. */
  password?: string;
  /** Database to connect to. */
  database?: string;
  /** TLS: `true` for a verified connection, or the driver's TLS options object (`ca`, `rejectUnauthorized`, …). */
  ssl?: boolean | Record<string, unknown>;
  /** Connections the pool opens up front and keeps; default 0. */
  minSize?: number;
  /** Most connections open at once, and so most sessions at once; default 10. */
  maxSize?: number;
  /** Milliseconds an idle connection above `minSize` stays open; default 10 000. */
  idleTimeoutMs?: number;
  /** Milliseconds after which a connection is closed on release and replaced; default unlimited. */
  maxLifetimeMs?: number;
  /** Milliseconds to wait for a new connection to be established (DatabaseConnectionError after); default 10 000. */
  connectTimeoutMs?: number;
  /** Waiting longer than this for a free connection raises PoolTimeoutError. */
  acquireTimeoutMs?: number;
  /** Server-side statement_timeout for every connection. */
  statementTimeoutMs?: number;
  /** The name the server shows for these connections (PostgreSQL `application_name`); default `"sqlspec"`. */
  applicationName?: string;
  /**
   * What release does to a connection's session state before the next borrower gets it (an open or failed
   * transaction is always rolled back, whatever this says):
   * - `"auto"` (default): when a statement changed session settings (`SET`, `RESET`, a reported parameter), run
   *   `RESET ALL` and restore what `onConnectionCreate` set. Costs nothing for sessions that change nothing.
   * - `true`: `DISCARD ALL` on every release (also drops temp tables, advisory locks, LISTENs and the prepared-statement
   *   cache, which is cleared with it), then restore what `onConnectionCreate` set. One round trip per release.
   * - `false`: leave session state as it is (settings leak to the next borrower).
   * Prefer `SET LOCAL` inside a transaction: it ends with the transaction and never needs a reset.
   */
  resetOnRelease?: ResetOnRelease;
}

/** See PoolConfig.resetOnRelease. */
export type ResetOnRelease = boolean | "auto";

/** How values are converted between JS and the database; `Conn` is the driver's own connection type. */
export interface DriverFeatures<Conn = unknown> {
  /** Default: sqlspec's serializer (bigint exact, Date ISO, Buffer hex). */
  jsonSerializer?: JsonSerializer;
  /** Parses json/jsonb column text; default `JSON.parse`. */
  jsonDeserializer?: JsonDeserializer;
  /** Default true: objects bind as json/jsonb, json/jsonb columns decode through jsonDeserializer. */
  enableJsonCodecs?: boolean;
  /** Default true: active only when the `vector` type exists in the database. */
  enablePgvector?: boolean;
  /**
   * How int8/BIGINT columns (and their arrays) read; a column has one JS type whatever its values. Default `"number"`,
   * which raises DataError for a value beyond ±2^53 − 1 instead of rounding it; `"bigint"` and `"string"` are exact.
   */
  int8?: Int8Mode;
  /**
   * How date/timestamp/timestamptz columns (and their arrays) read. Default `"date"`: a `Date` (an instant for
   * timestamptz, the UTC wall clock for timestamp and date; milliseconds). `"string"`: the server's text with its
   * full microsecond precision, which binds back unchanged.
   */
  timestamps?: TimestampMode;
  /**
   * Runs once per new physical connection, after sqlspec's own setup, with the driver's connection (a `pg.Client`,
   * a mysql2 connection, …): register extensions, run `SET`s. What it sets is restored after a reset on release.
   * A throw fails the acquire.
   */
  onConnectionCreate?: (conn: Conn) => Promise<void> | void;
}

/**
 * Per-config statement settings. The compiled-statement cache (text → plan) is process-wide: size it with
 * `setStatementCacheSize()`, not here.
 */
export interface StatementConfig {
  /** Named prepared statements kept per connection (pg). 0 disables them (PgBouncer transaction mode). */
  statementCacheSize?: number;
  /**
   * The most SQL text (characters) the prepared statements of one server connection may hold, pg and postgres.js
   * (default 1 MiB): the server keeps each statement's parse tree and plan, which grow with its text, in every
   * backend. The least recently used are deallocated to stay under it; a statement above a quarter of it runs
   * unnamed (parsed per execution).
   */
  statementCacheBytes?: number;
  /** Rows above which session.upsert / MERGE-from-rows stage through COPY. */
  copyThreshold?: number;
}

/** Where a config's migrations live and how they are tracked. */
export interface MigrationConfig {
  /** Folder of migration files, relative to the working directory. Default `"migrations"`. */
  scriptLocation?: string;
  /** Tracking table, optionally schema-qualified. Default `"sqlspec_migrations"`. */
  versionTableName?: string;
  /** Versions `create` gives a new file when the folder has none yet: `0001` or a UTC timestamp. Default sequential. */
  versionScheme?: "sequential" | "timestamp";
  /** How long a runner waits for another runner's lock before giving up. Default 60 000. */
  lockTimeoutMs?: number;
}

/** What every adapter config's constructor takes; `P` is the adapter's pool config, `Conn` its driver connection. */
export interface ConfigOptions<P, Conn = unknown> {
  /** Connection and pool settings (the adapter's own keys). */
  poolConfig?: P;
  /** Value conversion and connection setup. */
  driverFeatures?: DriverFeatures<Conn>;
  /** Per-config statement settings. */
  statementConfig?: StatementConfig;
  /** Migration folder and tracking table. */
  migrationConfig?: MigrationConfig;
  /** A name for the config in the registry (`SQLSpec.addConfig`); two configs may not share one. */
  bindKey?: string;
  /** Hooks, logger, tracing for this config (merged with the registry's; this config's settings win). */
  observability?: ObservabilityConfig;
}

/** @internal Resolved driver features with defaults applied; adapters read this. */
export interface ResolvedDriverFeatures<Conn = unknown> {
  jsonSerializer: JsonSerializer;
  jsonDeserializer: JsonDeserializer;
  enableJsonCodecs: boolean;
  enablePgvector: boolean;
  int8: Int8Mode;
  timestamps: TimestampMode;
  onConnectionCreate?: (conn: Conn) => Promise<void> | void;
}

export type AdapterFactory<Conn> = () => Promise<Adapter<Conn>>;
