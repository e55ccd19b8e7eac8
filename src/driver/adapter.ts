import type { SQLSpecError } from "../core/errors.js";
import type { Dialect, ParameterStyle, Row } from "../core/types.js";

/** What a driver returns for one statement. */
export interface RawResult {
  rows: Row[];
  /** Column names from the driver's field list, present even for 0 rows. */
  columns: string[];
  /** Server's count for DML (from the command tag on PostgreSQL); 0 for DDL. */
  rowsAffected: number;
  /** PostgreSQL command tag verb, e.g. "INSERT", "MERGE", "SELECT". */
  command?: string;
  lastInsertId?: number | bigint | string;
}

export interface QueryOptions {
  signal?: AbortSignal;
  /** Per-call timeout; on expiry the adapter cancels on the server and raises QueryTimeoutError. */
  timeoutMs?: number;
  /** Whether the statement may be cached as a named prepared statement (repeated statements). */
  prepare?: boolean;
}

/** Server facts a session and the builders use to choose SQL (MERGE support, RETURNING, …). */
export interface ColumnInfo {
  name: string;
  /** Type as the catalog formats it, e.g. `integer`, `numeric(10,2)`, `text[]`, `jsonb`. */
  type: string;
  nullable: boolean;
  hasDefault: boolean;
}

/**
 * Dialect-specific catalog queries. Runs through the generic query path so it needs no driver code.
 * PostgreSQL's lives in adapters/postgres-common and is shared by the three PG adapters.
 */
export interface Introspector<Conn = unknown> {
  /** e.g. { versionNum: 150004, version: "15.4" } */
  getVersion(adapter: Adapter<Conn>, conn: Conn): Promise<ServerVersion>;
  getColumns(adapter: Adapter<Conn>, conn: Conn, table: string): Promise<ColumnInfo[]>;
  /** Unique/primary key column sets of the table (for the MERGE → ON CONFLICT rewrite). */
  getUniqueKeys?(adapter: Adapter<Conn>, conn: Conn, table: string): Promise<string[][]>;
}

export interface ServerVersion {
  /** Major*10000 + minor, as PostgreSQL's server_version_num. */
  versionNum: number;
  version: string;
}

/**
 * The only thing a new driver implements. Everything else (select family, transactions, filters, upsert,
 * observability) is written once in driver/.
 */
export interface Adapter<Conn = unknown> {
  readonly dialect: Dialect;
  /** The engine behind the dialect when it changes strategy choices, e.g. "pglite" (embedded, COPY via Blob). */
  readonly engine?: string;
  /** Native placeholder style, e.g. NUMERIC for PostgreSQL. */
  readonly parameterStyle: ParameterStyle;
  /** Human label used in error messages, e.g. "PostgreSQL". */
  readonly databaseLabel: string;
  /** Whether DDL runs inside transactions (migrations, upsert staging). */
  readonly transactionalDdl: boolean;
  readonly introspector?: Introspector<Conn>;

  acquire(signal?: AbortSignal): Promise<Conn>;
  /** Returns the connection; when `error` says the connection is broken, it is discarded, never reused. */
  release(conn: Conn, error?: unknown): Promise<void>;
  query(conn: Conn, sql: string, params: unknown[], opts: QueryOptions): Promise<RawResult>;
  /** One statement, many parameter sets; rowsAffected is the server's total. */
  queryMany?(conn: Conn, sql: string, paramSets: unknown[][], opts: QueryOptions): Promise<RawResult>;
  /** Server-side cursor: yields batches of rows. Breaking out closes the cursor. */
  stream?(conn: Conn, sql: string, params: unknown[], batchSize: number, opts: QueryOptions): AsyncIterable<Row[]>;
  /** COPY table (columns) FROM STDIN; returns rows copied. */
  copyIn?(
    conn: Conn,
    table: string,
    columns: string[],
    rows: AsyncIterable<unknown[]> | Iterable<unknown[]>,
    columnTypes?: string[],
  ): Promise<number>;
  /**
   * Runs fn with `conn` marked as the current connection of this async flow. Single-connection drivers (PGlite) use
   * it so a session opened inside another session's callback shares the connection instead of deadlocking.
   */
  scope?<T>(conn: Conn, fn: () => Promise<T>): Promise<T>;
  /** Converts a driver error into the typed hierarchy. Never includes parameter values in the message. */
  mapError(err: unknown, sql: string): SQLSpecError;
  close(): Promise<void>;
}
