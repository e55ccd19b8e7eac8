import { brand } from "./brand.js";
import { MultipleResultsFoundError, NotFoundError } from "./errors.js";
import type { OperationType, Row } from "./types.js";

export interface SQLResultInit<T> {
  data: T[];
  rowsAffected: number;
  columnNames: string[];
  operationType: OperationType;
  statement: string;
  parameters: readonly unknown[];
  executionTimeMs: number;
  lastInsertId?: number | bigint | string | undefined;
  metadata?: Record<string, unknown> | undefined;
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
  #metadata: Record<string, unknown> | undefined;

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

  /** Extra facts about how the statement ran, e.g. `{ strategy: "jsonb_to_recordset" }` for an upsert. */
  get metadata(): Record<string, unknown> {
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
