import { brand } from "./brand.js";
import { MultipleResultsFoundError, NotFoundError } from "./errors.js";
import type { OperationType, Row } from "./types.js";

/** The strategy a bulk call ran, as `result.metadata.strategy` reports it. */
export type BulkStrategyName =
  /** upsert's default: INSERT … ON CONFLICT from one JSON parameter (PostgreSQL) or VALUES (SQLite, DuckDB), or from a COPY-staged temporary table */
  | "insert-on-conflict"
  | "copy-insert-on-conflict"
  /** upsert with `strategy: "merge"` (PostgreSQL 15+), and a MERGE from rows run by a session: from JSON or COPY-staged */
  | "merge-json"
  | "copy-merge"
  /** MySQL/MariaDB INSERT … ON DUPLICATE KEY UPDATE statements */
  | "on-duplicate-key-update"
  /** INSERT-form bulk engines: multi-row VALUES, one JSON document per chunk, or the server's bulk loader */
  | "values"
  | "json"
  | "copy"
  /** loadRecords through plain INSERT statements */
  | "insert"
  /** nothing to do (no rows) */
  | "none";

/**
 * Facts about how a statement ran. The named ones are set by sqlspec (an upsert sets `strategy` and `rows`;
 * executeScript `statements`; a MySQL/MariaDB upsert the server's `inserted`/`updated`/`unchanged` split); an adapter
 * may add others.
 */
export interface ResultMetadata {
  /** upsert, loadRecords and a MERGE from rows executed by a session: the strategy that ran. */
  strategy?: BulkStrategyName;
  /** upsert/loadRecords: the rows given. */
  rows?: number;
  /** executeScript: the statements run. */
  statements?: number;
  /** MySQL/MariaDB ON DUPLICATE KEY UPDATE: rows inserted, updated, and matched but left unchanged. */
  inserted?: number;
  /** MySQL/MariaDB ON DUPLICATE KEY UPDATE: rows updated. */
  updated?: number;
  /** MySQL/MariaDB ON DUPLICATE KEY UPDATE: rows matched but left unchanged (the new values equal the old). */
  unchanged?: number;
  /** MySQL/MariaDB UPDATE: rows the WHERE matched, and rows it changed (`rowsAffected`). */
  matched?: number;
  /** MySQL/MariaDB UPDATE: rows actually changed (equal to `rowsAffected`). */
  changed?: number;
  [fact: string]: unknown;
}

/** What a {@link SQLResult} is built from (adapters and tests build results; applications rarely do). */
export interface SQLResultInit<T> {
  /** The rows. */
  data: T[];
  /** The server's affected-row count. */
  rowsAffected: number;
  /** Column names in select-list order. */
  columnNames: string[];
  /** The statement's kind. */
  operationType: OperationType;
  /** The SQL that ran. */
  statement: string;
  /** The values bound to it. */
  parameters: readonly unknown[];
  /** Wall time in milliseconds. */
  executionTimeMs: number;
  /** The generated key, where the engine reports one. */
  lastInsertId?: number | bigint | string | undefined;
  /** Facts about how the statement ran. */
  metadata?: ResultMetadata | undefined;
}

/** The outcome of one statement: rows, column names, the server's affected-row count, and what ran. */
export class SQLResult<T = Row> implements Iterable<T> {
  static {
    brand(SQLResult, "SQLResult");
  }
  /** The rows returned (empty for DML without RETURNING). */
  readonly data: T[];
  /**
   * The server's count of rows inserted, updated or deleted, from the command tag (`INSERT 0 5` → 5, `MERGE 7` → 7);
   * 0 for DDL.
   */
  readonly rowsAffected: number;
  /** Column names in select-list order, from the driver's field list, so present even when no row came back. */
  readonly columnNames: string[];
  /** The statement's kind (`"SELECT"`, `"INSERT"`, …, `"SCRIPT"`, `"COPY"`). */
  readonly operationType: OperationType;
  /** The SQL that ran, in the adapter's placeholder style (for a script: the script). */
  readonly statement: string;
  /** The values bound to `statement`, in placeholder order. */
  readonly parameters: readonly unknown[];
  /** Wall time from sending the statement to having the result, in milliseconds. */
  readonly executionTimeMs: number;
  /**
   * The generated key of the last inserted row: MySQL/MariaDB `insertId`, SQLite `lastInsertRowid` (absent when
   * nothing was inserted). PostgreSQL and DuckDB never set it: use `RETURNING`.
   */
  readonly lastInsertId?: number | bigint | string;
  #metadata: ResultMetadata | undefined;

  /** @param init - The rows, counts and statement facts. */
  constructor(init: SQLResultInit<T>) {
    this.data = init.data;
    this.rowsAffected = init.rowsAffected;
    this.columnNames = init.columnNames;
    this.operationType = init.operationType;
    this.statement = init.statement;
    this.parameters = init.parameters;
    this.executionTimeMs = init.executionTimeMs;
    if (init.lastInsertId !== undefined) this.lastInsertId = init.lastInsertId;
    this.#metadata = init.metadata;
  }

  /** Facts about how the statement ran, e.g. `{ strategy: "merge-json", rows: 500 }` for an upsert. */
  get metadata(): ResultMetadata {
    this.#metadata ??= {};
    return this.#metadata;
  }

  /** All rows (the `data` array itself, not a copy). */
  all(): T[] {
    return this.data;
  }

  /** Exactly one row: 0 rows raise NotFoundError, more than one MultipleResultsFoundError. */
  one(): T {
    if (this.data.length === 0) throw new NotFoundError("Expected exactly one row, got none");
    if (this.data.length > 1) throw new MultipleResultsFoundError(`Expected exactly one row, got ${this.data.length}`);
    return this.data[0] as T;
  }

  /** One row or null; more than one raises MultipleResultsFoundError. */
  oneOrNull(): T | null {
    if (this.data.length > 1) throw new MultipleResultsFoundError(`Expected at most one row, got ${this.data.length}`);
    return this.data.length === 0 ? null : (this.data[0] as T);
  }

  /** The first row, or undefined when there is none; never throws. */
  getFirst(): T | undefined {
    return this.data[0];
  }

  /** The first column of exactly one row: 0 rows raise NotFoundError, more than one MultipleResultsFoundError. */
  scalar<V = unknown>(): V {
    const row = this.one() as Row;
    return firstColumn(row, this.columnNames) as V;
  }

  /** The first column of the one row, or null when there is no row; more than one raises MultipleResultsFoundError. */
  scalarOrNull<V = unknown>(): V | null {
    const row = this.oneOrNull() as Row | null;
    return row === null ? null : (firstColumn(row, this.columnNames) as V);
  }

  /** Rows returned for a query, rows affected for DML. */
  getCount(): number {
    return this.operationType === "SELECT" || this.data.length > 0 ? this.data.length : this.rowsAffected;
  }

  /** Whether no rows came back (says nothing of `rowsAffected`). */
  isEmpty(): boolean {
    return this.data.length === 0;
  }

  /** Iterates over the rows: `for (const row of result)`. */
  [Symbol.iterator](): Iterator<T> {
    return this.data[Symbol.iterator]();
  }
}

function firstColumn(row: Row, columnNames: string[]): unknown {
  const name = columnNames[0];
  if (name !== undefined && name in row) return row[name];
  for (const key in row) return row[key];
  return undefined;
}
