/**
 * MERGE (the seed's statement). Sources: one row, many rows, a table name, or a query builder. Rows are a data
 * position (always bound; on PostgreSQL as ONE jsonb parameter whatever the row count); the WHEN clauses are action
 * positions (strings are SQL such as `"src.name"` or `"t.stock + src.qty"`, other values are bound).
 */
import { SQLBuilderError } from "../core/errors.js";
import { type Dialect, normalizeDialect } from "../core/types.js";
import { BaseBuilder, returningItems } from "./base.js";
import {
  actionSet,
  type ConditionInput,
  checkSameKeys,
  condition,
  type Expr,
  exprOf,
  hasNode,
  inferKind,
  type MergeNode,
  type MergeSource,
  paramName,
  tableNode,
  type ValueKind,
  type WhenNode,
} from "./nodes.js";

type Row = Readonly<Record<string, unknown>>;
type Params = readonly unknown[] | Readonly<Record<string, unknown>>;
export interface WhenOptions {
  where?: ConditionInput;
}
export interface UsingOptions {
  /** Column types for the rows source, overriding the catalog and value inference: `{ price: "numeric(10,2)" }`. */
  types?: Readonly<Record<string, string>>;
}

function isRowObject(v: unknown): v is Row {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Turns user rows into a rows source: same key set everywhere, value kinds inferred once. */
export function rowsSource(input: Row | readonly Row[], alias: string, opts?: UsingOptions): MergeSource {
  const rows = Array.isArray(input) ? (input as readonly Row[]).slice() : [input as Row];
  if (rows.length === 0) {
    throw new SQLBuilderError(
      "using([]) has no rows: skip the MERGE when there is nothing to upsert, or pass at least one row.",
    );
  }
  for (const r of rows) {
    if (!isRowObject(r)) throw new SQLBuilderError("using(rows): every row must be a plain object keyed by column.");
  }
  const columns = checkSameKeys(rows, "using(rows)");
  if (columns.length === 0) throw new SQLBuilderError("using(rows): the rows have no columns.");
  const kinds: Record<string, ValueKind> = {};
  for (const c of columns) kinds[c] = inferKind(rows, c);
  return opts?.types
    ? { kind: "rows", rows, columns, alias, kinds, types: opts.types }
    : { kind: "rows", rows, columns, alias, kinds };
}

export class MergeBuilder extends BaseBuilder<MergeNode> {
  get kind(): "merge" {
    return "merge";
  }

  into(table: string, alias?: string): this {
    return this.patch(alias === undefined ? { target: table } : { target: table, alias });
  }

  /** `using(row | rows, "src", { types })`, `using("staging", "src")`, `using(sql.select(…), "src")`. */
  using(source: Row | readonly Row[] | string | object, alias = "src", opts?: UsingOptions): this {
    if (typeof source === "string" || hasNode(source) || !(Array.isArray(source) || isRowObject(source))) {
      const t = tableNode(source, alias);
      return this.patch({ source: { kind: "table", table: { ...t, alias: t.alias ?? alias } } });
    }
    return this.patch({ source: rowsSource(source as Row | readonly Row[], alias, opts) });
  }

  on(cond: ConditionInput, params?: Params): this {
    return this.patch({ on: condition(cond, params, this.dialect) });
  }

  private addWhen(w: WhenNode, opts: WhenOptions | undefined): this {
    const when = opts?.where === undefined ? w : { ...w, cond: condition(opts.where, undefined, this.dialect) };
    return this.patch({ whens: [...this.node.whens, when] });
  }

  private sourceAlias(): string | undefined {
    const s = this.node.source;
    return s === undefined ? undefined : s.kind === "rows" ? s.alias : s.table.alias;
  }

  /** `{ name: "src.name" }` (strings are SQL) or `["name", "price"]` meaning `name = src.name, …`. */
  whenMatchedThenUpdate(set: Row | readonly string[], opts?: WhenOptions): this {
    return this.addWhen({ match: "MATCHED", action: "UPDATE", set: actionSet(set, this.sourceAlias()) }, opts);
  }

  whenMatchedThenDelete(opts?: WhenOptions): this {
    return this.addWhen({ match: "MATCHED", action: "DELETE" }, opts);
  }

  /** `{ id: "src.id", created: "CURRENT_TIMESTAMP" }` or `["id", "name"]` meaning `VALUES (src.id, src.name)`. */
  whenNotMatchedThenInsert(values: Row | readonly string[], opts?: WhenOptions): this {
    let columns: string[];
    let exprs: Expr[];
    if (Array.isArray(values)) {
      const alias = this.sourceAlias();
      if (!alias) throw new SQLBuilderError("Call .using(source, alias) before passing a column list.");
      columns = [...(values as readonly string[])];
      exprs = columns.map((c) => ({ kind: "ref", path: [alias, c] }));
    } else {
      const obj = values as Row;
      columns = Object.keys(obj);
      exprs = columns.map((c) => exprOf(obj[c], paramName(c), "raw"));
    }
    if (columns.length === 0) throw new SQLBuilderError("whenNotMatchedThenInsert() needs at least one column.");
    return this.addWhen({ match: "NOT MATCHED", action: "INSERT", insertColumns: columns, insertValues: exprs }, opts);
  }

  /** PostgreSQL 17+, BigQuery. `{ active: false }` binds false; strings are SQL. */
  whenNotMatchedBySourceThenUpdate(set: Row, opts?: WhenOptions): this {
    return this.addWhen({ match: "NOT MATCHED BY SOURCE", action: "UPDATE", set: actionSet(set) }, opts);
  }

  whenNotMatchedBySourceThenDelete(opts?: WhenOptions): this {
    return this.addWhen({ match: "NOT MATCHED BY SOURCE", action: "DELETE" }, opts);
  }

  /** PostgreSQL 17+: `returning("merge_action()", "t.*")`. */
  returning(...columns: unknown[]): this {
    return this.patch({ returning: returningItems(columns) });
  }

  /** The target table as written in into(): the session loads its catalog types/unique keys. */
  catalogTables(): string[] {
    return this.node.target === undefined ? [] : [this.node.target];
  }

  targetTable(): string {
    if (this.node.target === undefined) throw new SQLBuilderError("MERGE needs a target: call .into(table, alias).");
    return this.node.target;
  }

  /** The rows given to using(rows), or undefined for a table/query source. */
  sourceRows(): readonly Row[] | undefined {
    const s = this.node.source;
    return s?.kind === "rows" ? s.rows : undefined;
  }

  /** The source column names of a rows source (stable order), or undefined. */
  sourceColumns(): readonly string[] | undefined {
    const s = this.node.source;
    return s?.kind === "rows" ? s.columns : undefined;
  }

  /** Same MERGE reading from `table` (e.g. a COPY-staged temp table) under the same alias and WHEN clauses. */
  withSourceTable(table: string): this {
    const alias = this.sourceAlias() ?? "src";
    return this.patch({ source: { kind: "table", table: { source: tableNode(table).source, alias } } });
  }
}

export function merge(opts?: { dialect?: Dialect | string }): MergeBuilder {
  const d = opts?.dialect === undefined ? undefined : normalizeDialect(opts.dialect);
  return new MergeBuilder({ kind: "merge", whens: [] }, d);
}
