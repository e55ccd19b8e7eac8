/**
 * The query builder's public surface. The lead attaches these factories to the `sql` object
 * (`sql.select`, `sql.insertInto`, `sql.update`, `sql.deleteFrom`, `sql.merge`, `sql.upsert`).
 */
export { BaseBuilder, FilterableBuilder, resolveDialect, type ToSQLOptions } from "./base.js";
export { DeleteBuilder, deleteFrom } from "./delete.js";
export { InsertBuilder, insertInto, OnConflictBuilder } from "./insert.js";
export { MergeBuilder, merge, type UsingOptions, type WhenOptions } from "./merge.js";
export type { StatementNode } from "./nodes.js";
export { SelectBuilder, select, type TableInput } from "./select.js";
export { UpdateBuilder, update } from "./update.js";
export { UpsertInsertBuilder, upsert } from "./upsert.js";
