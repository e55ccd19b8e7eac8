/**
 * `sql.upsert(table, { dialect })`: one API, the native statement per dialect.
 *
 * - postgres, oracle, bigquery → a MergeBuilder whose target has alias `t` (`.on("t.id = src.id")` works as written).
 * - sqlite, duckdb → an UpsertInsertBuilder rendering `INSERT … VALUES … ON CONFLICT (key) DO UPDATE SET …`;
 *   mysql → the same builder rendering `ON DUPLICATE KEY UPDATE`.
 *
 * The UpsertInsertBuilder takes either form, never both in one statement:
 * - the insert form, exactly as `sql.insertInto`: `.values(rows).onConflict(…keys).doUpdate(set)` /
 *   `.onDuplicateKeyUpdate(set)`;
 * - the MERGE-shaped calls, translated by `mergeToInsert` (core/ast): `using(rows, "src")` → the VALUES rows,
 *   `on("t.a = src.a AND …")` → the conflict target, `whenNotMatchedThenInsert(map | cols)` → the insert columns
 *   (default: every source column), `whenMatchedThenUpdate(set | cols, { where })` → `DO UPDATE SET` with `src.col` →
 *   `excluded.<inserted column>` (MySQL: `VALUES(col)`) and `t.col` → `<table>.col`; without it, `DO NOTHING`.
 *   Deletes, NOT MATCHED BY SOURCE and conditional inserts have no INSERT equivalent: DialectNotSupportedError.
 */

import { hasNode, type InsertNode, type MergeNode, type StatementNode } from "../core/ast/nodes.js";
import { mergeToInsert } from "../core/ast/rewrite.js";
import type { BuildContext } from "../core/builder-protocol.js";
import { DialectNotSupportedError, SQLBuilderError } from "../core/errors.js";
import { SQL } from "../core/statement.js";
import { type Dialect, type DialectName, normalizeDialect } from "../core/types.js";
import type {
  BigQueryMergeBuilder,
  OnConflictUpsertBuilder,
  OnDuplicateKeyUpsertBuilder,
  OracleMergeBuilder,
} from "./dialect-builders.js";
import { type ActionValues, actionSet, aliasName, condition, tablePath } from "./input.js";
import { InsertBuilder, type OnConflictBuilder } from "./insert.js";
import { insertList, MergeBuilder, rowsSource, type UsingOptions, type WhenOptions } from "./merge.js";

/** @internal An INSERT node that may carry the MERGE-shaped calls, translated at build time. */
export type UpsertInsertNode = InsertNode & { readonly upsert?: MergeNode };

const MERGE_SHAPED = "using()/on()/whenMatchedThenUpdate()/whenNotMatchedThenInsert()";
const INSERT_SHAPED = "values()/columns()/fromSelect()/onConflict()/onDuplicateKeyUpdate()";

/**
 * `sql.upsert(table)` on SQLite, DuckDB and MySQL/MariaDB: an INSERT builder that also takes the MERGE-shaped calls
 * (`using`, `on`, `whenMatchedThenUpdate`, `whenNotMatchedThenInsert`) and renders them as INSERT … ON CONFLICT /
 * ON DUPLICATE KEY UPDATE. Use one form or the other, not both.
 */
export class UpsertInsertBuilder extends InsertBuilder<UpsertInsertNode> {
  private spec(): MergeNode {
    if (this.node.rows.length > 0 || this.node.select || this.node.conflict || this.node.duplicate) {
      throw new SQLBuilderError(
        `This upsert already uses the insert form (${INSERT_SHAPED}); do not mix in the MERGE-shaped ` +
          `${MERGE_SHAPED} calls.`,
      );
    }
    const path = this.node.table.source.kind === "ref" ? this.node.table.source.path : [];
    return this.node.upsert ?? { kind: "merge", target: path, alias: "t", whens: [] };
  }
  private withSpec(p: Partial<MergeNode>): this {
    return this.patch({ upsert: { ...this.spec(), ...p } });
  }
  private insertForm(): void {
    if (this.node.upsert) {
      throw new SQLBuilderError(
        `This upsert already uses the MERGE-shaped calls (${MERGE_SHAPED}); do not mix in ${INSERT_SHAPED}.`,
      );
    }
  }

  override values(rows: object | readonly object[] | readonly unknown[]): this {
    this.insertForm();
    return super.values(rows);
  }
  override columns(...columns: string[]): this {
    this.insertForm();
    return super.columns(...columns);
  }
  override fromSelect(query: object, columns?: readonly string[]): this {
    this.insertForm();
    return super.fromSelect(query, columns);
  }
  override onConflict(...columns: string[]): OnConflictBuilder<this> {
    this.insertForm();
    return super.onConflict(...columns);
  }
  override onDuplicateKeyUpdate(set: ActionValues): this {
    this.insertForm();
    return super.onDuplicateKeyUpdate(set);
  }

  /**
   * The rows to upsert, under `alias` (default `"src"`); every value is bound.
   * @throws {@link SQLBuilderError} for a table or query source (use `insertInto(…).fromSelect(…).onConflict(…)`).
   */
  using(rows: object | readonly object[], alias = "src", opts?: UsingOptions): this {
    if (typeof rows !== "object" || rows === null || hasNode(rows) || rows instanceof SQL) {
      throw new SQLBuilderError(
        `The ${this.dialect ?? "insert"} upsert takes rows; for a table or query source use ` +
          "sql.insertInto(table).fromSelect(query).onConflict(...keys).doUpdate(set).",
      );
    }
    return this.withSpec({ source: rowsSource(rows, aliasName(alias, "using() alias"), opts) });
  }

  /** The key match, e.g. `"t.id = src.id"`: its columns become the ON CONFLICT target. */
  on(cond: string): this {
    return this.withSpec({ on: condition(cond, undefined, this.dialect, "on()") });
  }

  private alias(): string {
    const s = this.node.upsert?.source;
    return s === undefined ? "src" : s.kind === "rows" ? s.alias : s.table.alias;
  }

  /**
   * The update for existing keys: `{ name: "src.name" }` (strings are SQL) or `["name"]` meaning `name = src.name`;
   * replaces an earlier call.
   */
  whenMatchedThenUpdate(set: ActionValues | readonly string[], opts?: WhenOptions): this {
    const items = actionSet(set, "whenMatchedThenUpdate()", this.alias());
    const spec = this.spec();
    const cond = opts?.where === undefined ? undefined : condition(opts.where, undefined, this.dialect, "when … where");
    const when = { match: "MATCHED" as const, action: "UPDATE" as const, set: items, ...(cond ? { cond } : {}) };
    return this.withSpec({ whens: [...spec.whens.filter((w) => w.action !== "UPDATE"), when] });
  }

  /** The insert for new keys: `{ id: "src.id" }` or `["id", "name"]`; replaces an earlier call. */
  whenNotMatchedThenInsert(values: ActionValues | readonly string[], opts?: WhenOptions): this {
    const { columns, exprs } = insertList(values, this.alias());
    const spec = this.spec();
    const cond = opts?.where === undefined ? undefined : condition(opts.where, undefined, this.dialect, "when … where");
    const when = {
      match: "NOT MATCHED" as const,
      action: "INSERT" as const,
      insertColumns: columns,
      insertValues: exprs,
      ...(cond ? { cond } : {}),
    };
    return this.withSpec({ whens: [...spec.whens.filter((w) => w.action !== "INSERT"), when] });
  }

  /** Not expressible as INSERT … ON CONFLICT. @throws {@link DialectNotSupportedError} always. */
  whenMatchedThenDelete(_opts?: WhenOptions): never {
    throw this.noEquivalent("it has no WHEN MATCHED THEN DELETE");
  }
  /** Not expressible as INSERT … ON CONFLICT. @throws {@link DialectNotSupportedError} always. */
  whenNotMatchedBySourceThenUpdate(_set: ActionValues, _opts?: WhenOptions): never {
    throw this.noEquivalent("it has no WHEN NOT MATCHED BY SOURCE");
  }
  /** Not expressible as INSERT … ON CONFLICT. @throws {@link DialectNotSupportedError} always. */
  whenNotMatchedBySourceThenDelete(_opts?: WhenOptions): never {
    throw this.noEquivalent("it has no WHEN NOT MATCHED BY SOURCE");
  }

  private noEquivalent(why: string): DialectNotSupportedError {
    return new DialectNotSupportedError(
      `This upsert has no INSERT … ON CONFLICT equivalent on ${this.dialect ?? "this dialect"}: it translates only ` +
        `when ${why}. Run a separate DELETE/UPDATE statement.`,
    );
  }

  protected override prepare(dialect: Dialect, ctx?: BuildContext): StatementNode {
    const { upsert: spec, ...insert } = this.node;
    if (!spec) {
      super.prepare(dialect, ctx);
      return insert;
    }
    const out = mergeToInsert(spec, {
      form: "values",
      dialect,
      defaultInsert: true,
      fail: (why) => {
        throw this.noEquivalent(why);
      },
    });
    const extra: Partial<InsertNode> = {};
    if (insert.returning) (extra as { returning?: InsertNode["returning"] }).returning = insert.returning;
    if (insert.with) (extra as { with?: InsertNode["with"] }).with = insert.with;
    return { ...out, ...extra };
  }
}

const MERGE_DIALECTS = new Set<Dialect>(["postgres", "oracle", "bigquery"]);

/**
 * Insert-or-update by key, as the dialect writes it: a MERGE (target alias `t`) on PostgreSQL, Oracle and BigQuery,
 * INSERT … ON CONFLICT on SQLite and DuckDB, INSERT … ON DUPLICATE KEY UPDATE on MySQL/MariaDB. With the dialect
 * written out, the builder's type has only the calls that dialect can render.
 *
 * @example
 * const stmt = sql
 *   .upsert("products", { dialect: "postgres" })
 *   .using([{ id: 1, name: "Widget", price: 9.99 }], "src")
 *   .on("t.id = src.id")
 *   .whenMatchedThenUpdate({ name: "src.name", price: "src.price" })
 *   .whenNotMatchedThenInsert({ id: "src.id", name: "src.name", price: "src.price" });
 * await session.execute(stmt);
 */
export function upsert(table: string, opts?: { dialect: "postgres" | "postgresql" | "pg" | "pglite" }): MergeBuilder;
export function upsert(table: string, opts: { dialect: "oracle" }): OracleMergeBuilder;
export function upsert(table: string, opts: { dialect: "bigquery" }): BigQueryMergeBuilder;
export function upsert(table: string, opts: { dialect: "sqlite" | "sqlite3" | "duckdb" }): OnConflictUpsertBuilder;
export function upsert(table: string, opts: { dialect: "mysql" | "mariadb" }): OnDuplicateKeyUpsertBuilder;
/** A dialect known only at run time: the builder's whole surface (calls the dialect cannot render raise). */
export function upsert(table: string, opts?: { dialect?: DialectName }): MergeBuilder | UpsertInsertBuilder;
export function upsert(
  table: string,
  opts?: { dialect?: DialectName },
):
  | MergeBuilder
  | UpsertInsertBuilder
  | OracleMergeBuilder
  | BigQueryMergeBuilder
  | OnConflictUpsertBuilder
  | OnDuplicateKeyUpsertBuilder {
  const d = normalizeDialect(opts?.dialect ?? "postgres");
  const path = tablePath(table, "upsert() table name");
  if (MERGE_DIALECTS.has(d)) return new MergeBuilder({ kind: "merge", target: path, alias: "t", whens: [] }, d);
  return new UpsertInsertBuilder(
    { kind: "insert", table: { source: { kind: "ref", path } }, columns: [], rows: [] },
    d,
  );
}
