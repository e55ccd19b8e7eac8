import { brand } from "./brand.js";
import { MultipleResultsFoundError, NotFoundError } from "./errors.js";
import type { OperationType, Row } from "./types.js";

/** The strategy a bulk call ran, as `result.metadata.strategy` reports it. */
export type BulkStrategyName =
  /** PostgreSQL upsert: MERGE from one JSON parameter, or from a COPY-staged temporary table */
  | "merge-json"
  | "copy-merge"
  /** INSERT … ON CONFLICT (PostgreSQL before 15 or on request; SQLite, DuckDB), from JSON or COPY-staged */
  | "insert-on-conflict"
  | "copy-insert-on-conflict"
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
  updated?: number;
  unchanged?: number;
  /** MySQL/MariaDB UPDATE: rows the WHERE matched, and rows it changed (`rowsAffected`). */
  matched?: number;
  changed?: number;
  [fact: string]: unknown;
}

export interface SQLResultInit<T> {
  data: T[];
  rowsAffected: number;
  columnNames: string[];
  operationType: OperationType;
  statement: string;
  parameters: readonly unknown[];
  executionTimeMs: number;
  lastInsertId?: number | bigint | string | undefined;
  metadata?: ResultMetadata | undefined;
}

/** The outcome of one statement: rows, column names, the server's affected-row count, and what ran. */
export class SQLResult<T = Row> implements Iterable<T> {
  static {
    brand(SQLResult, "SQLResult");
  }
  readonly data: T[];
  readonly rowsAffected: number;
  readonly columnNames: string[];
  readonly operationType: OperationType;
  readonly statement: string;
  readonly parameters: readonly unknown[];
  readonly executionTimeMs: number;
  readonly lastInsertId?: number | bigint | string;
  #metadata: ResultMetadata | undefined;

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

  getFirst(): T | undefined {
    return this.data[0];
  }

  /** The first column of exactly one row. */
  scalar<V = unknown>(): V {
    const row = this.one() as Row;
    return firstColumn(row, this.columnNames) as V;
  }

  scalarOrNull<V = unknown>(): V | null {
    const row = this.oneOrNull() as Row | null;
    return row === null ? null : (firstColumn(row, this.columnNames) as V);
  }

  /** Rows returned for a query, rows affected for DML. */
  getCount(): number {
    return this.operationType === "SELECT" || this.data.length > 0 ? this.data.length : this.rowsAffected;
  }

  isEmpty(): boolean {
    return this.data.length === 0;
  }

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
