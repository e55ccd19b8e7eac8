/**
 * The query builder's public surface. The package entry attaches these factories to the `sql` object
 * (`sql.select`, `sql.insertInto`, `sql.update`, `sql.deleteFrom`, `sql.merge`, `sql.upsert`). Builders render
 * through the registry in core/ast (the dialect renderers register there); they never import a renderer.
 */
export type { StatementNode } from "../core/ast/nodes.js";
export { BaseBuilder, FilterableBuilder, resolveDialect, type ToSQLOptions } from "./base.js";
export { DeleteBuilder, deleteFrom } from "./delete.js";
export type {
  BigQueryMergeBuilder,
  MergeDialectName,
  NarrowedMethod,
  OnConflictStep,
  OnConflictUpsertBuilder,
  OnDuplicateKeyUpsertBuilder,
  OracleMergeBuilder,
  Without,
} from "./dialect-builders.js";
export type { ActionValues, ConditionInput } from "./input.js";
export { InsertBuilder, insertInto, OnConflictBuilder } from "./insert.js";
export { MergeBuilder, merge, type UsingOptions, type WhenOptions } from "./merge.js";
export { SelectBuilder, select, type TableInput } from "./select.js";
export { UpdateBuilder, update } from "./update.js";
export { UpsertInsertBuilder, upsert } from "./upsert.js";
