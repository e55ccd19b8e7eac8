/**
 * Builder types for a dialect fixed when the builder is made (`sql.upsert(table, { dialect })`,
 * `sql.merge({ dialect })`): calls that dialect cannot render are absent from the type, so they fail to compile
 * instead of raising DialectNotSupportedError at build time. The objects are the usual builder classes — only the
 * declared type is narrower — so a JavaScript caller still gets the run-time error naming the alternative.
 */
import type { OnConflictBuilder } from "./insert.js";
import type { MergeBuilder } from "./merge.js";
import type { UpsertInsertBuilder } from "./upsert.js";

/** A narrowed builder's method: the full builder's method of the same name, returning the narrowed type. */
export interface NarrowedMethod<A extends unknown[], R> {
  /** As the full builder's method of this name (see its documentation), returning the narrowed builder. */
  (...args: A): R;
}

/** The ON CONFLICT step of a narrowed builder: `doNothing()`/`doUpdate()` return the narrowed builder. */
export type OnConflictStep<Self> = {
  [P in keyof OnConflictBuilder<UpsertInsertBuilder>]: OnConflictBuilder<UpsertInsertBuilder>[P] extends (
    ...args: infer A
  ) => unknown
    ? NarrowedMethod<A, Self>
    : never;
};

/**
 * Builder `B` without the methods `K`. Calls that return the builder return `Self` instead, so the missing methods
 * stay missing along the chain, through `onConflict(…).doUpdate(…)` too.
 */
export type Without<B, K extends keyof B, Self> = {
  // A filtering `as` clause keeps the mapped type homomorphic, so each member keeps its declaration (and doc comment).
  [P in keyof B as P extends K ? never : P]: B[P] extends (...args: infer A) => B
    ? NarrowedMethod<A, Self>
    : B[P] extends (...args: infer A) => OnConflictBuilder<any>
      ? NarrowedMethod<A, OnConflictStep<Self>>
      : B[P];
};

/** MERGE clauses no INSERT … ON CONFLICT / ON DUPLICATE KEY UPDATE can express, and the ON CONFLICT step's hook. */
type NoInsertEquivalent =
  | "whenMatchedThenDelete"
  | "whenNotMatchedBySourceThenUpdate"
  | "whenNotMatchedBySourceThenDelete"
  | "withConflict";

/** `sql.upsert(table, { dialect: "sqlite" | "duckdb" })`: INSERT … ON CONFLICT, so no ON DUPLICATE KEY UPDATE. */
export interface OnConflictUpsertBuilder
  extends Without<UpsertInsertBuilder, NoInsertEquivalent | "onDuplicateKeyUpdate", OnConflictUpsertBuilder> {
  /** The builder kind, `"insert"`. */
  readonly kind: "insert";
}

/** `sql.upsert(table, { dialect: "mysql" | "mariadb" })`: INSERT … ON DUPLICATE KEY UPDATE, without RETURNING. */
export interface OnDuplicateKeyUpsertBuilder
  extends Without<UpsertInsertBuilder, NoInsertEquivalent | "returning", OnDuplicateKeyUpsertBuilder> {
  /** The builder kind, `"insert"`. */
  readonly kind: "insert";
}

/** MERGE on Oracle: no WHEN NOT MATCHED BY SOURCE, no RETURNING. */
export interface OracleMergeBuilder
  extends Without<
    MergeBuilder,
    "whenNotMatchedBySourceThenUpdate" | "whenNotMatchedBySourceThenDelete" | "returning",
    OracleMergeBuilder
  > {
  /** The builder kind, `"merge"`. */
  readonly kind: "merge";
}

/** MERGE on BigQuery: no RETURNING. */
export interface BigQueryMergeBuilder extends Without<MergeBuilder, "returning", BigQueryMergeBuilder> {
  /** The builder kind, `"merge"`. */
  readonly kind: "merge";
}

/** Dialect names whose MERGE the builder renders (SQLite, DuckDB and MySQL have none: use `sql.upsert`). */
export type MergeDialectName = "postgres" | "postgresql" | "pg" | "pglite" | "oracle" | "bigquery";
