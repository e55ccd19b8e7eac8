/**
 * The base renderer: one pass over the statement nodes, appending to a string. Dialect renderers subclass it and
 * override only the hooks that differ (quoting, placeholders, LIMIT/FETCH, booleans, RETURNING, MERGE/upsert).
 *
 * A renderer instance is reused per dialect; `render()` resets its state first. Rendering is synchronous, so no two
 * renders interleave.
 */

import {
  type ConflictNode,
  type CteNode,
  type DeleteNode,
  type Expr,
  type InsertNode,
  type LockNode,
  type MergeNode,
  type MergeSource,
  type OrderItem,
  paramName,
  type RowsSource,
  type SelectItem,
  type SelectNode,
  type SetItem,
  type StatementNode,
  type UpdateNode,
  type WhenNode,
} from "../core/ast/nodes.js";
import type { Renderer } from "../core/ast/render.js";
import { directColumns } from "../core/ast/rewrite.js";
import type { BuildContext, BuiltStatement } from "../core/builder-protocol.js";
import { SQLBuilderError } from "../core/errors.js";
import { ParameterStyle } from "../core/types.js";
import { type RenderOptions, SqlWriter } from "./writer.js";

export { inferKind, type ValueKind } from "../core/ast/nodes.js";
export { type RenderOptions, SqlWriter } from "./writer.js";

export class BaseRenderer extends SqlWriter implements Renderer {
  readonly arrayParameters: boolean = false;
  readonly conflictClause: "on-conflict" | "on-duplicate-key" = "on-conflict";
  readonly transactionalTruncate: boolean = false;

  get parameterStyle(): ParameterStyle {
    if (this.namedPrefix === ":") return ParameterStyle.NAMED_COLON;
    if (this.namedPrefix === "@") return ParameterStyle.NAMED_AT;
    return this.numbered ? ParameterStyle.NUMERIC : ParameterStyle.QMARK;
  }

  render(node: StatementNode, ctx?: BuildContext, opts?: RenderOptions): BuiltStatement {
    this.sql = "";
    this.params = [];
    this.sharedSlots = undefined;
    this.nextSuffix = undefined;
    this.inline = opts?.inline === true;
    this.ctx = ctx;
    if (this.namedPrefix !== undefined) this.record = {};
    this.statement(node);
    const out: BuiltStatement = {
      sql: this.sql,
      parameters: this.namedPrefix !== undefined ? this.record : this.params,
    };
    this.sql = "";
    this.params = [];
    this.record = {};
    this.ctx = undefined;
    return out;
  }

  protected statement(node: StatementNode): void {
    switch (node.kind) {
      case "select":
        this.select(node);
        return;
      case "insert":
        this.insert(node);
        return;
      case "update":
        this.update(node);
        return;
      case "delete":
        this.delete(node);
        return;
      case "merge":
        this.merge(node);
        return;
      case "rawStatement":
        this.expr(node.expr);
        return;
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // SELECT

  protected with(ctes: readonly CteNode[]): void {
    this.sql += this.recursiveKeyword(ctes) ? "WITH RECURSIVE " : "WITH ";
    for (let i = 0; i < ctes.length; i++) {
      const c = ctes[i]!;
      if (i > 0) this.sql += ", ";
      this.sql += this.ident(c.name);
      if (c.columns) {
        this.sql += " (";
        this.columnList(c.columns);
        this.sql += ")";
      }
      this.sql += " AS (";
      this.statement(c.query);
      this.sql += ")";
    }
    this.sql += " ";
  }

  protected recursiveKeyword(ctes: readonly CteNode[]): boolean {
    return ctes.some((c) => c.recursive);
  }

  protected select(n: SelectNode): void {
    if (n.with) this.with(n.with);
    this.sql += "SELECT ";
    if (n.distinctOn) {
      if (this.dialect !== "postgres" && this.dialect !== "duckdb") {
        this.unsupported("DISTINCT ON", "Use GROUP BY or a window function (ROW_NUMBER() OVER …).");
      }
      this.sql += "DISTINCT ON (";
      this.exprList(n.distinctOn);
      this.sql += ") ";
    } else if (n.distinct) this.sql += "DISTINCT ";
    if (n.columns.length === 0) this.sql += "*";
    else this.items(n.columns);
    if (n.from) {
      this.sql += " FROM ";
      this.tables(n.from);
    }
    if (n.joins) {
      for (const j of n.joins) {
        this.sql += j.type === "CROSS" ? " CROSS JOIN " : j.type === "INNER" ? " INNER JOIN " : ` ${j.type} JOIN `;
        if (j.lateral) this.sql += "LATERAL ";
        this.table(j.table);
        if (j.on) {
          this.sql += " ON ";
          this.expr(j.on);
        }
      }
    }
    if (n.where) {
      this.sql += " WHERE ";
      this.expr(n.where);
    }
    if (n.groupBy) {
      this.sql += " GROUP BY ";
      this.exprList(n.groupBy);
    }
    if (n.having) {
      this.sql += " HAVING ";
      this.expr(n.having);
    }
    if (n.setOps) {
      for (const s of n.setOps) {
        this.sql += ` ${this.setOpKeyword(s.op)}${s.all ? " ALL " : this.setOpDistinct}`;
        const q = s.query;
        const wrap = q.kind === "select" && (q.orderBy !== undefined || q.limit !== undefined);
        if (wrap) this.sql += "(";
        this.statement(q);
        if (wrap) this.sql += ")";
      }
    }
    if (n.orderBy) this.orderBy(n.orderBy);
    if (n.limit !== undefined || n.offset !== undefined) this.limitOffset(n.limit, n.offset);
    if (n.lock) this.lock(n.lock);
  }

  protected setOpDistinct = " ";
  protected setOpKeyword(op: "UNION" | "INTERSECT" | "EXCEPT"): string {
    return op;
  }

  protected orderBy(items: readonly OrderItem[]): void {
    this.sql += " ORDER BY ";
    for (let i = 0; i < items.length; i++) {
      if (i > 0) this.sql += ", ";
      const o = items[i]!;
      if (o.nulls !== undefined && !this.hasNullsOrder) {
        // MySQL has no NULLS FIRST/LAST: sort on the null test first.
        this.expr(o.expr);
        this.sql += o.nulls === "LAST" ? " IS NULL, " : " IS NOT NULL, ";
      }
      this.expr(o.expr);
      if (o.dir !== undefined) this.sql += o.dir === "DESC" ? " DESC" : " ASC";
      if (o.nulls !== undefined && this.hasNullsOrder) this.sql += o.nulls === "LAST" ? " NULLS LAST" : " NULLS FIRST";
    }
  }

  /** LIMIT/OFFSET bound as parameters, so paging reuses one prepared statement. */
  protected limitOffset(limit: number | undefined, offset: number | undefined): void {
    if (limit !== undefined) {
      this.sql += " LIMIT ";
      this.value(limit, "limit");
    } else if (offset !== undefined && this.noLimit !== "") {
      this.sql += ` LIMIT ${this.noLimit}`;
    }
    if (offset !== undefined) {
      this.sql += " OFFSET ";
      this.value(offset, "offset");
    }
  }
  /** What to write as LIMIT when only OFFSET is given ("" = nothing; the dialect allows a bare OFFSET). */
  protected noLimit = "";

  protected lock(l: LockNode): void {
    this.sql += l.mode === "UPDATE" ? " FOR UPDATE" : " FOR SHARE";
    if (l.of) {
      this.sql += " OF ";
      for (let i = 0; i < l.of.length; i++) {
        if (i > 0) this.sql += ", ";
        this.path(l.of[i]!);
      }
    }
    if (l.wait) this.sql += ` ${l.wait}`;
  }

  // ---------------------------------------------------------------------------------------------------------
  // INSERT / UPDATE / DELETE

  protected insert(n: InsertNode): void {
    if (n.with) this.with(n.with);
    this.sql += "INSERT INTO ";
    this.table(n.table);
    this.insertBody(n);
    if (n.conflict) this.conflict(n.conflict, n);
    if (n.duplicate) this.duplicate(n.duplicate);
    if (n.returning) this.returning(n.returning);
  }

  protected insertBody(n: InsertNode): void {
    if (n.columns.length > 0) {
      this.sql += " (";
      this.columnList(n.columns);
      this.sql += ")";
    }
    if (n.select) {
      this.sql += " ";
      this.statement(n.select);
      return;
    }
    if (n.from) {
      this.sql += " SELECT ";
      this.exprList(n.from.values);
      this.sql += " FROM ";
      const target = n.table.source.kind === "ref" ? n.table.source.path : [];
      this.source(n.from.source, target, n.from.source.kind === "rows" ? directColumns(n) : undefined);
      return;
    }
    if (n.rows.length === 0) {
      throw new SQLBuilderError(
        "INSERT has no rows: call .values(row | rows), .fromSelect(query), or on sql.upsert(…) .using(rows).",
      );
    }
    this.sql += " VALUES ";
    for (let r = 0; r < n.rows.length; r++) {
      if (r > 0) this.sql += ", ";
      this.sql += "(";
      this.exprList(n.rows[r]!);
      this.sql += ")";
    }
  }

  protected conflict(c: ConflictNode, _n: InsertNode): void {
    this.sql += " ON CONFLICT";
    if (c.columns.length > 0) {
      this.sql += " (";
      this.columnList(c.columns);
      this.sql += ")";
    }
    if (c.action === "nothing") {
      this.sql += " DO NOTHING";
      return;
    }
    if (c.columns.length === 0) {
      throw new SQLBuilderError("ON CONFLICT DO UPDATE needs conflict columns: call .onConflict('id', …).");
    }
    if (!c.set || c.set.length === 0) throw new SQLBuilderError("ON CONFLICT DO UPDATE needs at least one column.");
    this.sql += " DO UPDATE SET ";
    this.setList(c.set!);
    if (c.where) {
      this.sql += " WHERE ";
      this.expr(c.where);
    }
  }

  protected duplicate(_set: readonly SetItem[]): void {
    this.unsupported("ON DUPLICATE KEY UPDATE", "Use .onConflict(...cols).doUpdate(set) instead.");
  }

  protected returning(items: readonly SelectItem[]): void {
    this.sql += " RETURNING ";
    this.items(items);
  }

  protected update(n: UpdateNode): void {
    if (n.with) this.with(n.with);
    this.sql += "UPDATE ";
    this.table(n.table);
    if (n.set.length === 0) throw new SQLBuilderError("UPDATE has nothing to set: call .set({ column: value }).");
    this.sql += " SET ";
    this.setList(n.set);
    if (n.from) {
      this.sql += " FROM ";
      this.tables(n.from);
    }
    this.whereClause(n.where);
    if (n.returning) this.returning(n.returning);
  }

  protected whereClause(where: Expr | undefined): void {
    if (where) {
      this.sql += " WHERE ";
      this.expr(where);
    }
  }

  protected delete(n: DeleteNode): void {
    if (n.with) this.with(n.with);
    this.sql += "DELETE FROM ";
    this.table(n.table);
    if (n.using) {
      this.sql += " USING ";
      this.tables(n.using);
    }
    this.whereClause(n.where);
    if (n.returning) this.returning(n.returning);
  }

  // ---------------------------------------------------------------------------------------------------------
  // MERGE (ANSI shape: PostgreSQL, BigQuery; Oracle overrides)

  protected checkMerge(
    n: MergeNode,
  ): asserts n is MergeNode & { target: readonly string[]; source: MergeSource; on: Expr } {
    if (n.target === undefined) throw new SQLBuilderError("MERGE needs a target: call .into(table, alias).");
    if (n.source === undefined) {
      throw new SQLBuilderError("MERGE needs a source: call .using(rows | table | query, alias).");
    }
    if (n.on === undefined) throw new SQLBuilderError("MERGE needs a join condition: call .on('t.id = src.id').");
    if (n.whens.length === 0) {
      throw new SQLBuilderError(
        "MERGE needs at least one WHEN clause: call .whenMatchedThenUpdate(…) and/or .whenNotMatchedThenInsert(…).",
      );
    }
  }

  protected merge(n: MergeNode): void {
    this.checkMerge(n);
    this.sql += "MERGE INTO ";
    this.path(n.target);
    if (n.alias !== undefined) this.sql += this.tableAs + this.ident(n.alias);
    this.sql += " USING ";
    this.source(n.source, n.target, n.source.kind === "rows" ? directColumns(n) : undefined);
    this.sql += " ON ";
    this.expr(n.on);
    for (const w of n.whens) this.when(w);
    if (n.returning) this.returning(n.returning);
  }

  /** A MERGE/INSERT … SELECT source: a (staged) table, or rows typed per `direct` (see core/ast directColumns). */
  protected source(s: MergeSource, target: readonly string[], direct: ReadonlySet<string> | undefined): void {
    if (s.kind === "table") {
      this.table(s.table);
      return;
    }
    this.rowsSource(s, target, direct ?? new Set());
  }

  /** Portable rows source: `(SELECT ? AS a, ? AS b UNION ALL SELECT ?, ?) AS src`. */
  protected rowsSource(s: RowsSource, _target: readonly string[], _direct: ReadonlySet<string>): void {
    this.sql += "(";
    const names = s.columns.map(paramName);
    for (let r = 0; r < s.rows.length; r++) {
      this.sql += r === 0 ? "SELECT " : " UNION ALL SELECT ";
      const row = s.rows[r]!;
      for (let c = 0; c < s.columns.length; c++) {
        if (c > 0) this.sql += ", ";
        const col = s.columns[c]!;
        this.value(row[col] ?? null, names[c]!);
        if (r === 0) this.sql += ` AS ${this.ident(col)}`;
      }
      if (this.dualTable) this.sql += this.dualTable;
    }
    this.sql += `)${this.tableAs}${this.ident(s.alias)}`;
  }
  protected dualTable = "";

  protected when(w: WhenNode): void {
    this.sql += ` WHEN ${w.match}`;
    if (w.cond) {
      this.sql += " AND ";
      this.expr(w.cond);
    }
    this.sql += " THEN ";
    this.whenAction(w);
  }

  protected whenAction(w: WhenNode): void {
    if (w.action === "DELETE") {
      this.sql += "DELETE";
    } else if (w.action === "UPDATE") {
      if (!w.set || w.set.length === 0) throw new SQLBuilderError("WHEN … THEN UPDATE needs at least one column.");
      this.sql += "UPDATE SET ";
      this.setList(w.set);
    } else {
      this.sql += "INSERT (";
      this.columnList(w.insertColumns!);
      this.sql += ") VALUES (";
      this.exprList(w.insertValues!);
      this.sql += ")";
    }
  }
}
