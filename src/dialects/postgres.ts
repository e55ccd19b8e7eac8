/**
 * PostgreSQL: `$n` placeholders, `= ANY($n)` for arrays, MERGE from rows through ONE jsonb parameter
 * (`jsonb_to_recordset`), and server-version guards: MERGE needs 15, `WHEN NOT MATCHED BY SOURCE` and MERGE
 * `RETURNING` need 17. Before 15 a MERGE that is really an upsert on a unique key becomes INSERT … ON CONFLICT.
 */

import type { Expr, MergeNode, MergeSource, ParamExpr, StatementNode, WhenNode } from "../builder/nodes.js";
import { equalityPairs, mapRaw, rewriteQualifier } from "../builder/rewrite.js";
import { DialectNotSupportedError } from "../core/errors.js";
import { JsonValue } from "../core/json.js";
import type { Dialect } from "../core/types.js";
import { BaseRenderer, inferKind, type ValueKind } from "./base.js";

/** PostgreSQL type for each inferred value kind (recordset columns the catalog does not type). */
export const PG_TYPES: Record<ValueKind, string> = {
  int: "integer",
  bigint: "bigint",
  float: "double precision",
  text: "text",
  bool: "boolean",
  json: "jsonb",
  timestamp: "timestamptz",
  bytes: "bytea",
};

function versionLabel(v: number): string {
  return `${Math.floor(v / 10000)}.${v % 10000} (server_version_num ${v})`;
}

export class PostgresRenderer extends BaseRenderer {
  override readonly dialect: Dialect = "postgres";
  protected override numbered = true;
  protected override hasILike = true;

  /** Arrays bind as ONE parameter: `= ANY($1)` keeps the statement text stable for any list length. */
  protected override inList(left: Expr, list: ParamExpr | { kind: "sub"; query: StatementNode }, not: boolean): void {
    if (list.kind === "sub") {
      super.inList(left, list, not);
      return;
    }
    this.expr(left);
    this.sql += not ? " <> ALL(" : " = ANY(";
    this.param(list);
    this.sql += ")";
  }

  protected override arrayLiteral(v: readonly unknown[]): string {
    if (v.length === 0) return "'{}'";
    let out = "ARRAY[";
    for (let i = 0; i < v.length; i++) out += (i > 0 ? ", " : "") + this.literal(v[i]);
    return `${out}]`;
  }

  protected override bytesLiteral(hex: string): string {
    return `'\\x${hex}'::bytea`;
  }

  /** Recordset column types: `types` option, then the target's catalog (session), then value inference. */
  columnTypes(s: MergeSource & { kind: "rows" }, target: string): string[] {
    const catalog = this.ctx?.columnTypes?.get(target);
    return s.columns.map((c) => s.types?.[c] ?? catalog?.get(c) ?? PG_TYPES[s.kinds?.[c] ?? inferKind(s.rows, c)]);
  }

  protected override mergeSource(s: MergeSource, target: string): void {
    if (s.kind === "table") {
      this.table(s.table);
      return;
    }
    const types = this.columnTypes(s, target);
    this.sql += "(SELECT * FROM jsonb_to_recordset(";
    this.param({ kind: "param", name: "payload", value: new JsonValue(s.rows) });
    this.sql += `::jsonb) AS ${this.ident(s.alias)}(`;
    for (let i = 0; i < s.columns.length; i++) {
      if (i > 0) this.sql += ", ";
      this.sql += `${this.ident(s.columns[i]!)} ${types[i]}`;
    }
    this.sql += `)) AS ${this.ident(s.alias)}`;
  }

  protected override merge(n: MergeNode): void {
    this.checkMerge(n);
    const v = this.ctx?.serverVersionNum;
    if (v !== undefined && v < 150000) {
      this.mergeAsInsert(n, v);
      return;
    }
    if (v !== undefined && v < 170000) {
      if (n.whens.some((w) => w.match === "NOT MATCHED BY SOURCE")) {
        throw new DialectNotSupportedError(
          `MERGE … WHEN NOT MATCHED BY SOURCE needs PostgreSQL 17+, but the server is ${versionLabel(v)}. ` +
            "Run a separate DELETE/UPDATE … WHERE NOT EXISTS (…) instead.",
        );
      }
      if (n.returning) {
        throw new DialectNotSupportedError(
          `MERGE … RETURNING needs PostgreSQL 17+, but the server is ${versionLabel(v)}. Drop .returning() and query the rows afterwards.`,
        );
      }
    }
    super.merge(n);
  }

  /**
   * PostgreSQL < 15 has no MERGE. An upsert-shaped MERGE (ON = equality on a unique key, one unconditional
   * INSERT, at most one UPDATE) is exactly INSERT … SELECT … ON CONFLICT (key) DO UPDATE, with `src.col` in the
   * update rewritten to `excluded.<inserted column>`.
   */
  protected mergeAsInsert(n: MergeNode & { target: string; source: MergeSource; on: Expr }, v: number): void {
    const fail = (why: string): never => {
      throw new DialectNotSupportedError(
        `MERGE needs PostgreSQL 15+, but the server is ${versionLabel(v)}; it can only be rewritten to ` +
          `INSERT … ON CONFLICT when ${why}.`,
      );
    };
    const srcAlias = n.source.kind === "rows" ? n.source.alias : n.source.table.alias;
    const tgtAlias = n.alias ?? n.target.slice(n.target.lastIndexOf(".") + 1);
    let ins: WhenNode | undefined;
    let upd: WhenNode | undefined;
    for (const w of n.whens) {
      if (w.action === "INSERT" && !ins && !w.cond) ins = w;
      else if (w.action === "UPDATE" && w.match === "MATCHED" && !upd) upd = w;
      else fail("it has one unconditional WHEN NOT MATCHED THEN INSERT and at most one WHEN MATCHED THEN UPDATE");
    }
    if (!ins) {
      fail("it has a WHEN NOT MATCHED THEN INSERT clause");
      return;
    }
    const keys = equalityPairs(n.on, tgtAlias, srcAlias);
    if (!keys) {
      fail(`the ON clause is an equality conjunction like ${tgtAlias}.id = ${srcAlias}.id`);
      return;
    }
    const known = this.ctx?.uniqueKeys?.get(n.target);
    const isUnique = known?.some((k) => k.length === keys.length && k.every((c) => keys.includes(c)));
    if (!isUnique) fail(`the ON columns (${keys.join(", ")}) are a unique key of ${n.target}`);

    // Source column → inserted column, for `src.x` → `excluded.<col>` in the update.
    const direct = new Map<string, string>();
    ins.insertColumns!.forEach((col, i) => {
      const e = ins.insertValues![i]!;
      const text = e.kind === "ref" ? e.path.join(".") : e.kind === "raw" ? e.sql : "";
      const dot = text.indexOf(".");
      if (dot > 0 && text.slice(0, dot).toLowerCase() === srcAlias.toLowerCase()) direct.set(text.slice(dot + 1), col);
    });
    const toExcluded = (s: string) =>
      rewriteQualifier(s, srcAlias, (col) => {
        const target = direct.get(col);
        if (target === undefined)
          return fail(`every ${srcAlias}.<col> in the update is inserted as is (${col} is not)`);
        return `excluded.${this.ident(target)}`;
      });

    this.sql += "INSERT INTO ";
    this.path(n.target.split("."));
    this.sql += ` AS ${this.ident(tgtAlias)} (`;
    this.columnList(ins.insertColumns!);
    this.sql += ") SELECT ";
    this.exprList(ins.insertValues!);
    this.sql += " FROM ";
    this.mergeSource(n.source, n.target);
    this.sql += " ON CONFLICT (";
    this.columnList(keys);
    if (!upd) {
      this.sql += ") DO NOTHING";
    } else {
      this.sql += ") DO UPDATE SET ";
      this.setList(upd.set!.map((s) => ({ column: s.column, value: mapRaw(s.value, toExcluded) })));
      if (upd.cond) {
        this.sql += " WHERE ";
        this.expr(mapRaw(upd.cond, toExcluded));
      }
    }
    if (n.returning) this.returning(n.returning);
  }
}
