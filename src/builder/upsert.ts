/**
 * `sql.upsert(table, { dialect })`: one API, the native statement per dialect.
 *
 * - postgres, oracle, bigquery → a MergeBuilder whose target has alias `t` (`.on("t.id = src.id")` works as written).
 * - sqlite, duckdb → an UpsertInsertBuilder rendering `INSERT … VALUES … ON CONFLICT (key) DO UPDATE SET …`;
 *   mysql → the same builder rendering `ON DUPLICATE KEY UPDATE`.
 *
 * How the MERGE-shaped calls map onto INSERT for sqlite/duckdb/mysql:
 * - `using(rows, "src")` → the VALUES rows (rows only: a table/query source needs a real MERGE).
 * - `on("t.a = src.a AND …")` → the conflict target `(a, …)`; it must be such an equality conjunction.
 * - `whenNotMatchedThenInsert(map | cols)` → the insert columns (default: every source column); a value
 *   `"src.col"` takes that column from each row, another string is SQL, anything else is bound.
 * - `whenMatchedThenUpdate(set | cols, { where })` → `DO UPDATE SET` with `src.col` → `excluded.<inserted column>`
 *   (MySQL: `VALUES(col)`) and `t.col` → `<table>.col`; without it the statement is `DO NOTHING`.
 * - Deletes, NOT MATCHED BY SOURCE and conditional inserts have no INSERT equivalent: DialectNotSupportedError.
 */

import type { BuildContext } from "../core/builder-protocol.js";
import { DialectNotSupportedError, SQLBuilderError } from "../core/errors.js";
import { type Dialect, normalizeDialect } from "../core/types.js";
import { getRenderer } from "../dialects/index.js";
import { InsertBuilder } from "./insert.js";
import { MergeBuilder, rowsSource, type UsingOptions, type WhenOptions } from "./merge.js";
import {
  actionSet,
  condition,
  type Expr,
  exprOf,
  hasNode,
  type InsertNode,
  paramName,
  parsePath,
  type StatementNode,
  tableNode,
  type UpsertSpec,
} from "./nodes.js";
import { equalityPairs, mapRaw, rewriteQualifier } from "./rewrite.js";

type Row = Readonly<Record<string, unknown>>;

/** `src.col` (as a ref or as text) → `col`; anything else → undefined. */
function sourceColumn(e: Expr, alias: string): string | undefined {
  const path = e.kind === "ref" ? e.path : e.kind === "raw" ? parsePath(e.sql.trim()) : undefined;
  return path?.length === 2 && path[0]!.toLowerCase() === alias.toLowerCase() ? path[1] : undefined;
}

export class UpsertInsertBuilder extends InsertBuilder {
  private spec(): UpsertSpec {
    return this.node.upsert ?? { targetAlias: "t" };
  }
  private withSpec(p: Partial<UpsertSpec>): this {
    return this.patch({ upsert: { ...this.spec(), ...p } });
  }

  using(rows: Row | readonly Row[], alias = "src", opts?: UsingOptions): this {
    if (typeof rows !== "object" || rows === null || hasNode(rows)) {
      throw new SQLBuilderError(
        `The ${this.dialect ?? "insert"} upsert takes rows; for a table or query source use ` +
          "sql.insertInto(table).fromSelect(query).onConflict(...keys).doUpdate(set).",
      );
    }
    return this.withSpec({ source: rowsSource(rows, alias, opts) as UpsertSpec["source"] });
  }

  on(cond: string): this {
    return this.withSpec({ on: condition(cond, undefined, this.dialect) });
  }

  whenMatchedThenUpdate(set: Row | readonly string[], opts?: WhenOptions): this {
    const items = actionSet(set, this.spec().source?.alias ?? "src");
    const cond = opts?.where === undefined ? undefined : condition(opts.where, undefined, this.dialect);
    return this.withSpec({ update: cond ? { set: items, cond } : { set: items } });
  }

  whenNotMatchedThenInsert(values: Row | readonly string[], opts?: WhenOptions): this {
    const alias = this.spec().source?.alias ?? "src";
    const columns = Array.isArray(values) ? [...(values as string[])] : Object.keys(values as Row);
    const exprs: Expr[] = Array.isArray(values)
      ? columns.map((c) => ({ kind: "ref", path: [alias, c] }))
      : columns.map((c) => exprOf((values as Row)[c], paramName(c), "raw"));
    const cond = opts?.where === undefined ? undefined : condition(opts.where, undefined, this.dialect);
    return this.withSpec({ insert: cond ? { columns, values: exprs, cond } : { columns, values: exprs } });
  }

  whenMatchedThenDelete(_opts?: WhenOptions): never {
    throw this.noEquivalent("WHEN MATCHED THEN DELETE");
  }
  whenNotMatchedBySourceThenUpdate(_set: Row, _opts?: WhenOptions): never {
    throw this.noEquivalent("WHEN NOT MATCHED BY SOURCE");
  }
  whenNotMatchedBySourceThenDelete(_opts?: WhenOptions): never {
    throw this.noEquivalent("WHEN NOT MATCHED BY SOURCE");
  }

  private noEquivalent(what: string): DialectNotSupportedError {
    return new DialectNotSupportedError(
      `${what} has no INSERT … ON CONFLICT equivalent on ${this.dialect ?? "this dialect"}. ` +
        "Run a separate DELETE/UPDATE statement.",
    );
  }

  protected override prepare(dialect: Dialect, _ctx?: BuildContext): StatementNode {
    const u = this.node.upsert;
    if (!u) return this.node;
    const src = u.source;
    if (!src) throw new SQLBuilderError("The upsert needs rows: call .using(rows, 'src').");
    if (!u.on)
      throw new SQLBuilderError(`The upsert needs its key: call .on('${u.targetAlias}.id = ${src.alias}.id').`);
    const keys = equalityPairs(u.on, u.targetAlias, src.alias);
    if (!keys) {
      throw new SQLBuilderError(
        `on() must be an equality on key columns such as ${u.targetAlias}.id = ${src.alias}.id: on ${dialect} it ` +
          "becomes the ON CONFLICT target.",
      );
    }
    if (u.insert?.cond) throw this.noEquivalent("WHEN NOT MATCHED AND <condition>");
    const r = getRenderer(dialect);
    const columns = u.insert?.columns ?? src.columns;
    const exprs: readonly Expr[] =
      u.insert?.values ?? src.columns.map((c): Expr => ({ kind: "ref", path: [src.alias, c] }));
    // Per insert column: the source column it copies, or undefined for an expression/constant.
    const fromSource = exprs.map((e) => sourceColumn(e, src.alias));
    const inserted = new Map<string, string>();
    fromSource.forEach((s, i) => {
      if (s !== undefined && !inserted.has(s)) inserted.set(s, columns[i]!);
    });
    const rows: Expr[][] = src.rows.map((row) =>
      exprs.map((e, i) => {
        const s = fromSource[i];
        return s !== undefined ? { kind: "param", name: paramName(columns[i]!), value: row[s] ?? null } : e;
      }),
    );
    const table =
      this.node.table.source.kind === "ref" ? this.node.table.source.path.map((p) => r.ident(p)).join(".") : "";
    const rewrite = (text: string) =>
      rewriteQualifier(
        rewriteQualifier(text, src.alias, (col) => {
          const target = inserted.get(col);
          if (target === undefined) {
            throw new SQLBuilderError(
              `${src.alias}.${col} is used in the update but not inserted from the source; on ${dialect} the ` +
                "update can only read inserted values (excluded.<column>).",
            );
          }
          return `excluded.${r.ident(target)}`;
        }),
        u.targetAlias,
        (col) => `${table}.${r.ident(col)}`,
      );
    const conflict: InsertNode["conflict"] = u.update
      ? {
          columns: keys,
          action: "update",
          set: u.update.set.map((s) => ({ column: s.column, value: mapRaw(s.value, rewrite) })),
          ...(u.update.cond ? { where: mapRaw(u.update.cond, rewrite) } : {}),
        }
      : { columns: keys, action: "nothing" };
    const { upsert: _drop, ...rest } = this.node;
    return { ...rest, columns, keyed: true, rows, conflict };
  }
}

const MERGE_DIALECTS = new Set<Dialect>(["postgres", "oracle", "bigquery"]);

export function upsert(
  table: string,
  opts: { dialect: "postgres" | "postgresql" | "pg" | "oracle" | "bigquery" },
): MergeBuilder;
export function upsert(
  table: string,
  opts: { dialect: "sqlite" | "sqlite3" | "duckdb" | "mysql" | "mariadb" },
): UpsertInsertBuilder;
export function upsert(table: string, opts?: { dialect?: Dialect | string }): MergeBuilder | UpsertInsertBuilder;
export function upsert(table: string, opts?: { dialect?: Dialect | string }): MergeBuilder | UpsertInsertBuilder {
  const d = normalizeDialect(opts?.dialect ?? "postgres");
  if (MERGE_DIALECTS.has(d)) return new MergeBuilder({ kind: "merge", target: table, alias: "t", whens: [] }, d);
  return new UpsertInsertBuilder(
    { kind: "insert", table: tableNode(table), columns: [], rows: [], upsert: { targetAlias: "t" } },
    d,
  );
}
