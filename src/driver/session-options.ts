/**
 * The options of the session's methods, and what a session needs from its config. Re-exported by session.ts.
 */
import type { QueryBuilder } from "../core/builder-protocol.js";
import type { JsonSerializer } from "../core/json.js";
import type { StandardSchemaV1 } from "../core/standard-schema.js";
import type { SQL } from "../core/statement.js";
import type { ArrowConversionOptions } from "./arrow.js";
import type { StatementConfig } from "./config.js";
import type { DataDictionaryCache } from "./data-dictionary.js";
import type { StatementFilter } from "./filters.js";
import type { OnProgress } from "./progress.js";

/** Anything a session executes: raw text, a `SQL` object (`sql` template, .sql file query) or a builder. */
export type Statement = string | SQL | QueryBuilder;

/** Per-call options of the session's statement methods. */
export interface ExecuteOptions {
  /** Aborting cancels the statement (OperationCancelledError); one not yet sent is never sent. */
  signal?: AbortSignal;
  /** Cancels the statement on the server after this long and raises QueryTimeoutError. */
  timeoutMs?: number;
}

/** Options of the select family: validation, filters, and the per-call options. */
export interface SelectOptions<T> extends ExecuteOptions {
  /** Standard Schema v1 (zod, valibot, arktype): every row is validated and typed. */
  schema?: StandardSchemaV1<unknown, T>;
  /** Filters applied to the statement (wrapped as a subquery for SQL text; added to a builder's own clauses). */
  filters?: readonly StatementFilter[];
}

/** Options of `session.stream`. */
export interface StreamOptions extends ExecuteOptions {
  /** Rows fetched per round trip (server-side cursor). Default 1000. */
  batchSize?: number;
  /** Rows read so far, at most every ~100 ms and when the stream ends. */
  onProgress?: OnProgress;
}

/** Options of `session.selectToArrow`: the conversion options and the per-call options. */
export interface ArrowOptions extends ExecuteOptions, ArrowConversionOptions {}

/** Options of the streaming form of `session.selectToArrow`: rows per record batch (fetched through `stream`). */
export interface ArrowStreamOptions extends ArrowOptions {
  /** Rows per record batch, also the rows fetched per round trip. A positive integer. */
  batchSize: number;
}

/** Options of `session.loadArrow`: those of `loadRecords`, except the columns, which are the Arrow schema's. */
export interface LoadArrowOptions extends ExecuteOptions {
  /** Rows sent so far, at most every ~100 ms and once at the end. */
  onProgress?: OnProgress;
}

/** Options of `begin()` and a top-level `transaction()` (a nested one is a savepoint and takes none). */
export interface TransactionOptions {
  /** The isolation level; default the server's (read committed on PostgreSQL, repeatable read on MySQL). */
  isolationLevel?: "read uncommitted" | "read committed" | "repeatable read" | "serializable";
  /** A read-only transaction: writes in it fail. */
  readOnly?: boolean;
  /** Bounds BEGIN (a BEGIN can wait: SQLite's write lock, PGlite's one connection); not the work inside. */
  signal?: AbortSignal;
  /** Bounds BEGIN like `signal` (QueryTimeoutError); refused where statements cannot be interrupted (PGlite). */
  timeoutMs?: number;
}

/** @internal What the session needs from the config that created it. */
export interface SessionOwner {
  readonly dictionaryCache: DataDictionaryCache;
  readonly statementConfig: StatementConfig;
  readonly features: { readonly jsonSerializer: JsonSerializer };
  /** Set when observability is on (sessions then also trace transactions and bulk calls). */
  readonly observer?: object | undefined;
}
