/**
 * Statement text the bulk engine (driver/native-bulk.ts) asks a dialect for, on engines whose upsert is an INSERT
 * form (MySQL/MariaDB's ON DUPLICATE KEY UPDATE, SQLite's and DuckDB's ON CONFLICT). Values are never part of the text.
 */

/** The inserted-or-updated statement for `session.upsert` on engines whose upsert is an INSERT form. */
export interface BulkUpsertShape {
  table: string;
  columns: readonly string[];
  /** Columns updated on a duplicate key; empty = keep the existing row. */
  update: readonly string[];
  /** The first key column. */
  key: string;
  /** Every key column, the ON CONFLICT target (default: `[key]`). */
  on?: readonly string[];
}

/** How a bulk JSON source carries a column's values (decided from its catalog type by the dialect). */
export type JsonColumnKind = "plain" | "temporal" | "binary" | "json" | "integer-text";

/**
 * SQL text for bulk upsert/load on engines whose upsert is an INSERT form and that have no MERGE-from-rows
 * (MySQL/MariaDB). Rendered in dialects/; the engine in driver/ chooses the strategy from the capabilities beside it.
 */
export interface InsertUpsertSql {
  /** Multi-row VALUES with `rowCount` rows of `?` placeholders. */
  upsertValues(
    shape: BulkUpsertShape,
    rowCount: number,
    server: { versionNum: number; flavor?: string | undefined },
  ): string;
  /** Plain multi-row INSERT (loadRecords without a loader). */
  insertValues(table: string, columns: readonly string[], rowCount: number): string;
  /** INSERT … SELECT from a parenthesised source or a table. */
  upsertFromSelect(shape: BulkUpsertShape, source: string): string;
  /** One-parameter JSON source: rows as arrays, each column read as `jsonKind(type)` says. */
  jsonRowsSource?(columns: readonly string[], types: readonly string[]): string;
  jsonKind?(type: string): JsonColumnKind;
  /** An empty, keyless temporary table with the target's column types. */
  stageTable?(stage: string, table: string, columns: readonly string[]): string;
  dropStage?(stage: string): string;
  quoteTable(table: string): string;
  /** One identifier part (a column name), always quoted. */
  quoteIdent(name: string): string;
}
