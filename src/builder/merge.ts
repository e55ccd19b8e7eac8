/**
 * MERGE (the seed's statement). Sources: one row, many rows, a table name, or a query builder. Rows are a data
 * position (always bound; on PostgreSQL as ONE JSON parameter whatever the row count); the WHEN clauses are action
 * positions (strings are SQL such as `"src.name"` or `"t.stock + src.qty"`, other values are bound).
 */

import {
  type Expr,
  hasNode,
  inferKind,
  type MergeNode,
  type MergeSource,
  paramName,
  type RowsSource,
  type ValueKind,
  type WhenNode,
} from "../core/ast/nodes.js";
import { rowsOf, withTableSource } from "../core/ast/rewrite.js";
import { SQLBuilderError } from "../core/errors.js";
import { quotePath } from "../core/identifiers.js";
import { type DialectName, normalizeDialect, type Params } from "../core/types.js";
import { BaseBuilder, returningItems } from "./base.js";
import type { BigQueryMergeBuilder, MergeDialectName, OracleMergeBuilder } from "./dialect-builders.js";
import {
  type ActionValues,
  actionSet,
  aliasName,
  type ConditionInput,
  checkSameKeys,
  condition,
  exprOf,
  isRowObject,
  tableNode,
  tablePath,
} from "./input.js";

type Row = Readonly<Record<string, unknown>>;
/** Options of a WHEN clause. */
export interface WhenOptions {
  /** An extra condition: `WHEN MATCHED AND <where> THEN …` (`"src.price < t.price"`). */
  where?: ConditionInput;
}
/** Options of `using(rows, alias, options)`. */
export interface UsingOptions {
  /**
   * SQL types for columns of a rows source, overriding the target's types and value inference:
   * `{ price: "numeric(10,2)" }`. Trusted text (written into the statement), like sql.raw.
   */
  types?: Readonly<Record<string, string>>;
}

/** Turns user rows into a rows source: same key set everywhere, value kinds inferred once. */
export function rowsSource(input: object | readonly object[], alias: string, opts?: UsingOptions): RowsSource {
  const rows = Array.isArray(input) ? (input as readonly Row[]).slice() : [input as Row];
  if (rows.length === 0) {
    throw new SQLBuilderError(
      "using([]) has no rows: skip the MERGE when there is nothing to upsert, or pass at least one row.",
    );
  }
  for (const r of rows) {
    if (!isRowObject(r)) throw new SQLBuilderError("using(rows): every row must be an object keyed by column.");
  }
  const columns = checkSameKeys(rows, "using(rows)");
  if (columns.length === 0) throw new SQLBuilderError("using(rows): the rows have no columns.");
  const kinds: Record<string, ValueKind> = {};
  for (const c of columns) kinds[c] = inferKind(rows, c);
  const types = opts?.types;
  if (types !== undefined) {
    for (const [c, t] of Object.entries(types)) {
      if (!columns.includes(c)) {
        throw new SQLBuilderError(
          `using(rows, …, { types }): "${c}" is not a column of the rows (${columns.join(", ")}).`,
        );
      }
      if (typeof t !== "string" || t.trim() === "")
        throw new SQLBuilderError(`using(…, { types }): "${c}" needs a type name.`);
    }
  }
  return types ? { kind: "rows", rows, columns, alias, kinds, types } : { kind: "rows", rows, columns, alias, kinds };
}

/**
 * A MERGE statement; made by `sql.merge()` (or `sql.upsert(table)` for PostgreSQL, Oracle, BigQuery). Immutable:
 * every method returns a new builder. On PostgreSQL before 15 a session rewrites it to INSERT … ON CONFLICT when the
 * ON clause is an equality on a unique key.
 */
export class MergeBuilder extends BaseBuilder<MergeNode> {
  /** The builder kind, `"merge"`. */
  get kind(): "merge" {
    return "merge";
  }

  /** The target: `into("products", "t")`, `into("products t")`, `into('"Bulk"."Record.Target"', "t")`. */
  into(table: string, alias?: string): this {
    const t = tableNode(table, alias, "into()");
    if (t.source.kind !== "ref") throw new SQLBuilderError("into() takes a table name.");
    return this.patch(t.alias === undefined ? { target: t.source.path } : { target: t.source.path, alias: t.alias });
  }

  /** `using(row | rows, "src", { types })`, `using("staging", "src")`, `using(sql.select(…), "src")`. */
  using(source: object | readonly object[] | string, alias = "src", opts?: UsingOptions): this {
    const a = aliasName(alias, "using() alias");
    if (typeof source === "string" || hasNode(source) || !(Array.isArray(source) || isRowObject(source))) {
      const t = tableNode(source, a, "using()");
      return this.patch({ source: { kind: "table", table: { ...t, alias: t.alias ?? a } } });
    }
    return this.patch({ source: rowsSource(source as object | readonly object[], a, opts) });
  }

  /** The ON condition matching source rows to target rows (`"t.id = src.id"`); takes what `where` takes. */
  on(cond: ConditionInput, params?: Params): this {
    return this.patch({ on: condition(cond, params, this.dialect, "on()") });
  }

  private addWhen(w: WhenNode, opts: WhenOptions | undefined): this {
    const when =
      opts?.where === undefined ? w : { ...w, cond: condition(opts.where, undefined, this.dialect, "when … where") };
    return this.patch({ whens: [...this.node.whens, when] });
  }

  private sourceAlias(): string | undefined {
    const s = this.node.source;
    return s === undefined ? undefined : s.kind === "rows" ? s.alias : s.table.alias;
  }

  /** `{ name: "src.name" }` (strings are SQL) or `["name", "price"]` meaning `name = src.name, …`. */
  whenMatchedThenUpdate(set: ActionValues | readonly string[], opts?: WhenOptions): this {
    const items = actionSet(set, "whenMatchedThenUpdate()", this.sourceAlias());
    return this.addWhen({ match: "MATCHED", action: "UPDATE", set: items }, opts);
  }

  /** `WHEN MATCHED [AND where] THEN DELETE`. */
  whenMatchedThenDelete(opts?: WhenOptions): this {
    return this.addWhen({ match: "MATCHED", action: "DELETE" }, opts);
  }

  /** `{ id: "src.id", created: "CURRENT_TIMESTAMP" }` or `["id", "name"]` meaning `VALUES (src.id, src.name)`. */
  whenNotMatchedThenInsert(values: ActionValues | readonly string[], opts?: WhenOptions): this {
    const { columns, exprs } = insertList(values, this.sourceAlias());
    return this.addWhen({ match: "NOT MATCHED", action: "INSERT", insertColumns: columns, insertValues: exprs }, opts);
  }

  /** PostgreSQL 17+, BigQuery. `{ active: false }` binds false; strings are SQL. */
  whenNotMatchedBySourceThenUpdate(set: ActionValues, opts?: WhenOptions): this {
    const items = actionSet(set, "whenNotMatchedBySourceThenUpdate()");
    return this.addWhen({ match: "NOT MATCHED BY SOURCE", action: "UPDATE", set: items }, opts);
  }

  /**
   * `WHEN NOT MATCHED BY SOURCE [AND where] THEN DELETE` (PostgreSQL 17+, BigQuery): delete target rows absent from the
   * source.
   */
  whenNotMatchedBySourceThenDelete(opts?: WhenOptions): this {
    return this.addWhen({ match: "NOT MATCHED BY SOURCE", action: "DELETE" }, opts);
  }

  /** PostgreSQL 17+: `returning("t.id", sql.raw("merge_action()"))`. */
  returning(...columns: unknown[]): this {
    return this.patch({ returning: returningItems(columns) });
  }

  /** @internal The target table (quoted, PostgreSQL style): the session loads its unique keys for servers before 15. */
  catalogTables(): string[] {
    return this.node.target === undefined ? [] : [quotePath(this.node.target, "postgres")];
  }

  /** @internal The rows given to using(rows), or undefined for a table/query source. */
  sourceRows(): readonly Row[] | undefined {
    return rowsOf(this.node)?.source.rows;
  }

  /**
   * @internal Same MERGE reading from `table` (e.g. a COPY-staged temp table) under the same alias and WHEN clauses.
   */
  withSourceTable(table: string): this {
    return this.derive(withTableSource(this.node, tablePath(table)));
  }
}

/** A WHEN NOT MATCHED insert list: `{ col: expr }` (strings are SQL) or `[cols]` meaning `<alias>.<col>`. */
export function insertList(
  values: Row | readonly string[],
  alias: string | undefined,
): { columns: string[]; exprs: Expr[] } {
  let columns: string[];
  let exprs: Expr[];
  if (Array.isArray(values)) {
    if (!alias) throw new SQLBuilderError("Call .using(source, alias) before passing a column list.");
    columns = values.map((c: unknown) => aliasName(c, "whenNotMatchedThenInsert() column"));
    exprs = columns.map((c) => ({ kind: "ref", path: [alias, c] }));
  } else if (isRowObject(values)) {
    columns = Object.keys(values);
    exprs = columns.map((c) => exprOf((values as Row)[c], paramName(c), "raw"));
  } else {
    throw new SQLBuilderError("whenNotMatchedThenInsert() takes an object of column expressions or a column list.");
  }
  if (columns.length === 0) throw new SQLBuilderError("whenNotMatchedThenInsert() needs at least one column.");
  return { columns, exprs };
}

export type { MergeSource };

/**
 * A MERGE statement: target, source (rows, a table or a query), ON, then WHEN clauses. Rows are bound (on PostgreSQL
 * as one JSON parameter, whatever their number); the WHEN clauses take SQL expressions. SQLite, DuckDB and MySQL have
 * no MERGE: use `sql.upsert(table, { dialect })` there.
 *
 * @example
 * const stmt = sql
 *   .merge()
 *   .into("products", "t")
 *   .using(rows, "src")
 *   .on("t.id = src.id")
 *   .whenMatchedThenUpdate({ name: "src.name", price: "src.price" })
 *   .whenNotMatchedThenInsert({ id: "src.id", name: "src.name", price: "src.price" });
 * const result = await session.execute(stmt); // result.rowsAffected: rows inserted or updated
 */
export function merge(opts: { dialect: "oracle" }): OracleMergeBuilder;
export function merge(opts: { dialect: "bigquery" }): BigQueryMergeBuilder;
export function merge(opts?: { dialect?: MergeDialectName }): MergeBuilder;
export function merge(opts?: { dialect?: DialectName }): MergeBuilder | OracleMergeBuilder | BigQueryMergeBuilder {
  const d = opts?.dialect === undefined ? undefined : normalizeDialect(opts.dialect);
  return new MergeBuilder({ kind: "merge", whens: [] }, d);
}
