/**
 * The statements the bulk engine runs, built as nodes (core/ast) and rendered by the dialect, so an upsert and the
 * MERGE builder share one SQL form: `INSERT … SELECT … FROM <rows> ON CONFLICT`, `MERGE … USING <rows>`, and for
 * dialects without a rows source the builder's multi-row `INSERT … ON CONFLICT` chunked under the parameter limit.
 */
import { insertInto } from "../builder/insert.js";
import type { Expr, InsertNode, MergeNode, RefExpr, RowsSource, StatementNode } from "../core/ast/nodes.js";
import { getRenderer, RecordsPayload } from "../core/ast/render.js";
import type { QueryBuilder } from "../core/builder-protocol.js";
import type { JsonSerializer } from "../core/json.js";
import type { Dialect } from "../core/types.js";
import { encodeRecordsJson } from "../core/values.js";
import { type ColumnPlan, planColumns, rowColumns } from "./upsert-checks.js";

type Rows = readonly Readonly<Record<string, unknown>>[];

/** The rows source's alias, and the target's. */
const SRC = "src";
const TARGET = "t";

const ref = (...path: string[]): RefExpr => ({ kind: "ref", path });

function rowsSource(rows: Rows, columns: readonly string[]): RowsSource {
  return { kind: "rows", rows, columns, alias: SRC };
}

/** `INSERT INTO t AS t (cols) SELECT src.cols FROM <rows> AS src ON CONFLICT (on) DO UPDATE SET c = excluded.c`. */
export function insertNode(target: readonly string[], plan: ColumnPlan, rows: Rows): InsertNode {
  return {
    kind: "insert",
    table: { source: { kind: "ref", path: target }, alias: TARGET },
    columns: plan.columns,
    rows: [],
    from: { source: rowsSource(rows, plan.columns), values: plan.columns.map((c) => ref(SRC, c)) },
    conflict:
      plan.update.length > 0
        ? {
            columns: plan.on,
            action: "update",
            set: plan.update.map((c) => ({ column: [c], value: ref("excluded", c) })),
          }
        : { columns: plan.on, action: "nothing" },
  };
}

/**
 * `MERGE INTO t AS t USING <rows> AS src ON t.k = src.k WHEN MATCHED THEN UPDATE … WHEN NOT MATCHED THEN INSERT …`;
 * the `nullSafe` key columns also match NULL to NULL (a NULLS NOT DISTINCT key). Written
 * `t.k = src.k OR (t.k IS NULL AND src.k IS NULL)`, not IS NOT DISTINCT FROM, which no index serves: on a one-column
 * key PostgreSQL then compares every batch row with every table row (1,000 rows into 200,000: 20 s, against 20 ms
 * for the OR form's two index lookups per row).
 */
export function mergeNode(
  target: readonly string[],
  plan: ColumnPlan,
  rows: Rows,
  nullSafe: readonly string[] = [],
): MergeNode {
  let on: Expr | undefined;
  for (const c of plan.on) {
    const equal: Expr = { kind: "cmp", left: ref(TARGET, c), op: "=", right: ref(SRC, c) };
    const eq: Expr = nullSafe.includes(c)
      ? {
          kind: "or",
          items: [
            equal,
            {
              kind: "and",
              items: [
                { kind: "null", left: ref(TARGET, c), not: false },
                { kind: "null", left: ref(SRC, c), not: false },
              ],
            },
          ],
        }
      : equal;
    on =
      on === undefined
        ? eq
        : on.kind === "and"
          ? { kind: "and", items: [...on.items, eq] }
          : { kind: "and", items: [on, eq] };
  }
  const whens: MergeNode["whens"] = [
    ...(plan.update.length > 0
      ? [
          {
            match: "MATCHED" as const,
            action: "UPDATE" as const,
            set: plan.update.map((c) => ({ column: [c], value: ref(SRC, c) })),
          },
        ]
      : []),
    {
      match: "NOT MATCHED" as const,
      action: "INSERT" as const,
      insertColumns: plan.columns,
      insertValues: plan.columns.map((c) => ref(SRC, c)),
    },
  ];
  return { kind: "merge", target, alias: TARGET, source: rowsSource(rows, plan.columns), ...(on ? { on } : {}), whens };
}

/** Renders a rows statement with its JSON parameter encoded by the records encoder (the COPY path's value rules). */
export function renderJson(
  dialect: Dialect,
  serializer: JsonSerializer,
  node: StatementNode,
  ctx: { serverVersionNum: number } | undefined,
  types: readonly (string | undefined)[] | undefined,
): { sql: string; values: unknown[] } {
  const built = getRenderer(dialect).render(node, ctx);
  const params = built.parameters as unknown[];
  const values = params.map((p) =>
    p instanceof RecordsPayload ? encodeRecordsJson(p.rows, p.columns, types, serializer) : p,
  );
  return { sql: built.sql, values };
}

// ---------------------------------------------------------------------------------------------------- other dialects

/** Bound parameters per statement, under each driver's limit (SQLite 32766, MySQL's protocol 65535). */
const MAX_PARAMS: Partial<Record<Dialect, number>> = { sqlite: 32_766, mysql: 65_535, duckdb: 65_535 };

export function chunkRows<T>(rows: readonly T[], width: number, dialect: Dialect): T[][] {
  const per = Math.max(1, Math.floor((MAX_PARAMS[dialect] ?? 65_535) / Math.max(1, width)));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += per) out.push(rows.slice(i, i + per));
  return out;
}

/**
 * The native upsert for dialects without MERGE-from-rows: `INSERT … ON CONFLICT (key) DO UPDATE SET col =
 * excluded.col` (SQLite, DuckDB; the MySQL renderer turns it into `ON DUPLICATE KEY UPDATE col = VALUES(col)`),
 * chunked under the dialect's parameter limit. ON DUPLICATE KEY UPDATE cannot name the key (the caller has checked
 * `on` against the catalog), so there the conflict clause carries no columns.
 */
export function nativeUpsertStatements(
  dialect: Dialect,
  table: string,
  rows: Rows,
  options: { on: readonly string[]; update?: readonly string[] },
): QueryBuilder[] {
  if (rows.length === 0) return [];
  const plan = planColumns(table, rowColumns(rows), options.on, options.update);
  const target = getRenderer(dialect).conflictClause === "on-duplicate-key" ? [] : plan.on;
  return chunkRows(rows, plan.columns.length, dialect).map((chunk) => {
    const conflict = insertInto(table, undefined, dialect)
      .values(chunk)
      .onConflict(...target);
    return plan.update.length > 0 ? conflict.doUpdate(plan.update) : conflict.doNothing();
  });
}
