/**
 * SQLite: `?` placeholders, booleans bound and written as 1/0 (better-sqlite3 cannot bind booleans), LOWER() for
 * ILIKE, `LIMIT -1` for a bare OFFSET. No MERGE (use INSERT … ON CONFLICT) and no row locks.
 */

import type { DeleteNode, InsertNode, LockNode, MergeNode } from "../core/ast/nodes.js";
import type { ContainsTemplate } from "../core/ast/render.js";
import type { ExplainSql } from "../core/explain.js";
import type { Dialect } from "../core/types.js";
import { BaseRenderer } from "./base.js";
import { SQLITE_EXPLAIN } from "./explain.js";

export class SqliteRenderer extends BaseRenderer {
  override readonly dialect: Dialect = "sqlite";
  readonly explain: ExplainSql = SQLITE_EXPLAIN;
  protected override boolAsInt = true;
  protected override noLimit = "-1";

  /** SQLite's LIKE ignores ASCII case whatever the collation: instr() is the case-sensitive substring test. */
  override containsTemplate(not: boolean, ignoreCase: boolean): ContainsTemplate {
    if (ignoreCase) return super.containsTemplate(not, ignoreCase);
    return { parts: ["instr(", ", ", not ? ") = 0" : ") > 0"], pattern: false };
  }

  protected override insertBody(n: InsertNode): void {
    // `INSERT … SELECT … ON CONFLICT` is ambiguous to SQLite's parser unless the SELECT has a WHERE clause.
    if (n.conflict && n.select?.kind === "select" && !n.select.where && !n.select.setOps) {
      super.insertBody({ ...n, select: { ...n.select, where: { kind: "raw", sql: "true" } } });
      return;
    }
    super.insertBody(n);
  }

  protected override lock(_l: LockNode): void {
    this.unsupported("SELECT … FOR UPDATE/SHARE", "SQLite locks the whole database: use BEGIN IMMEDIATE instead.");
  }

  protected override delete(n: DeleteNode): void {
    if (n.using) this.unsupported("DELETE … USING", "Use .where('id IN (SELECT …)') instead.");
    super.delete(n);
  }

  protected override merge(_n: MergeNode): void {
    this.unsupported(
      "MERGE",
      "Use INSERT … ON CONFLICT: sql.insertInto(table).values(rows).onConflict(...keys).doUpdate(set), " +
        "or sql.upsert(table, { dialect: 'sqlite' }).",
    );
  }
}
