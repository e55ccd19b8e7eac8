/**
 * What the bulk engine (upsert, loadRecords, COPY-staged MERGE) needs from the session it runs on, and nothing
 * more. The session builds one per connection and hands it only to the engine, so none of this is on the public
 * Session type: running compiled SQL, feeding rows to the adapter's loader and mapping a driver error all go
 * through here. Strategy code reads the capabilities below, never an engine name.
 */

import type { QueryBuilder } from "../core/builder-protocol.js";
import type { SQLSpecError } from "../core/errors.js";
import type { JsonSerializer } from "../core/json.js";
import type { ResultMetadata, SQLResult } from "../core/result.js";
import type { Dialect, OperationType } from "../core/types.js";
import type { AdapterCapabilities, BulkCapabilities, CopyInOptions, QueryOptions } from "./adapter.js";
import type { DataDictionary } from "./data-dictionary.js";

/** The catalog reads the engine makes (cached per pool; `invalidate` drops a table's entry before a re-read). */
export type BulkCatalog = Pick<
  DataDictionary<unknown>,
  | "getVersion"
  | "getUniqueKeys"
  | "getUniqueIndexes"
  | "getColumns"
  | "invalidate"
  | "stamp"
  | "generation"
  | "keptPlan"
  | "isCurrent"
  | "keepPlan"
>;

/**
 * One statement of `runBatch`: compiled SQL and its values. The values array is valid until the statement has settled:
 * the engine may refill the same array for the next one, so nothing may keep it past that.
 */
export interface BatchStatement {
  sql: string;
  values: unknown[];
}

export interface BulkHost {
  readonly dialect: Dialect;
  readonly capabilities: AdapterCapabilities;
  /** The adapter's INSERT-form bulk SQL and limits (MySQL/MariaDB, SQLite, DuckDB); undefined elsewhere. */
  readonly bulk: BulkCapabilities | undefined;
  /** The database's name for messages ("PostgreSQL", "SQLite", …). */
  readonly databaseLabel: string;
  /** The adapter implements `copyIn` (COPY … FROM STDIN or the engine's loader). */
  readonly canCopyIn: boolean;
  readonly catalog: BulkCatalog;
  /**
   * Set on the host of one bulk call (catalog-check.ts withCatalogCheck): run by a transaction the engine opens once BEGIN has
   * returned, it throws when what the call read from the catalog no longer holds.
   */
  readonly catalogCheck?: (() => Promise<void>) | undefined;
  /** The call read catalog facts that catalogCheck must check under the lock: a single statement needs a transaction. */
  readonly catalogPending?: boolean | undefined;
  readonly jsonSerializer: JsonSerializer;
  /** statementConfig.copyThreshold (undefined = the adapter's measured default). */
  readonly copyThreshold: number | undefined;
  /** The connection is inside a transaction (open or failed). */
  readonly inTransaction: boolean;
  /** False once the session was released or its transaction failed: only a rollback would run now. */
  readonly canQuery: boolean;
  /** Runs compiled SQL (the adapter's parameter style) on the held connection; errors come back typed. */
  run(
    sql: string,
    values: unknown[],
    operationType: OperationType,
    metadata?: ResultMetadata,
    options?: QueryOptions,
  ): Promise<SQLResult>;
  /**
   * Runs the engine's own statements one after another as `run` does (the statement tracked while it runs, errors
   * typed, cancellation and the time limit checked before each), without a result per statement: `each` gets what
   * the server reported for each. For bulk VALUES chunks, where a result object per chunk costs more than binding it.
   */
  runBatch(
    statements: Iterable<BatchStatement>,
    each: (rowsAffected: number, metadata: ResultMetadata | undefined, sql: string) => void,
    deadline?: { next(): QueryOptions | undefined },
  ): Promise<void>;
  /**
   * The repeats of an upsert can run at once (an engine on the calling thread with Adapter.runAtomicSync, statements
   * not observed): what the upsert derived from the catalog is worth keeping (DataDictionary.keepPlan).
   */
  readonly keepsPlans: boolean;
  /**
   * Creates or drops the engine's own temporary stage table. No other statement uses it, so this is no schema change:
   * the pool's catalog cache and the connection's prepared statements are kept (a CREATE/DROP of the application's
   * run through `run` drops them).
   */
  stage(sql: string, options?: QueryOptions): Promise<void>;
  /** Runs a builder as `session.execute` does. */
  execute(statement: QueryBuilder, options?: QueryOptions): Promise<SQLResult>;
  /** `session.transaction`: its own transaction, or a savepoint inside the caller's. */
  transaction<T>(fn: () => Promise<T>, options?: QueryOptions): Promise<T>;
  /** The adapter's `copyIn` on the held connection; a driver error comes back as the driver raised it. */
  copyIn(
    table: string,
    columns: string[],
    rows: AsyncIterable<unknown[]> | Iterable<unknown[]>,
    columnTypes?: string[],
    options?: CopyInOptions,
  ): Promise<number>;
  /** The server's largest packet for this connection (`bulk.maxPacketBytes`). */
  maxPacketBytes(): Promise<number>;
  /** Maps a driver error to the typed hierarchy and remembers whether the connection broke. */
  mapError(err: unknown, sql: string): SQLSpecError;
}
