/**
 * BigQuery: backtick quoting (backslash escapes), `@name` parameters, `UNION/INTERSECT/EXCEPT DISTINCT` (a bare UNION is an error),
 * backslash-escaped string literals, and a WHERE clause that UPDATE/DELETE require. MERGE from rows uses the
 * portable `SELECT … UNION ALL` source. No ON CONFLICT, RETURNING or row locks.
 */

import type { ConflictNode, DeleteNode, Expr, InsertNode, LockNode, SelectItem } from "../core/ast/nodes.js";
import type { Dialect } from "../core/types.js";
import { BaseRenderer } from "./base.js";

export class BigQueryRenderer extends BaseRenderer {
  override readonly dialect: Dialect = "bigquery";
  protected override namedPrefix: string | undefined = "@";
  protected override setOpDistinct = " DISTINCT ";
  protected override likeEscape = "";
  protected override noLimit = "9223372036854775807";

  protected override quoteString(s: string): string {
    let out = "'";
    for (const ch of s) {
      out +=
        ch === "\\"
          ? "\\\\"
          : ch === "'"
            ? "\\'"
            : ch === "\n"
              ? "\\n"
              : ch === "\r"
                ? "\\r"
                : ch === "\t"
                  ? "\\t"
                  : ch;
    }
    return `${out}'`;
  }

  protected override bytesLiteral(hex: string): string {
    return `FROM_HEX('${hex}')`;
  }

  protected override lock(_l: LockNode): void {
    this.unsupported("SELECT … FOR UPDATE/SHARE", "BigQuery has no row locks: drop the locking clause.");
  }

  protected override returning(_items: readonly SelectItem[]): void {
    this.unsupported("RETURNING", "Query the rows afterwards.");
  }

  protected override conflict(_c: ConflictNode, _n: InsertNode): void {
    this.unsupported("ON CONFLICT", "Use sql.merge() or sql.upsert(table, { dialect: 'bigquery' }).");
  }

  /** BigQuery refuses UPDATE/DELETE without WHERE; an explicit `WHERE TRUE` states the intent. */
  protected override whereClause(where: Expr | undefined): void {
    this.sql += " WHERE ";
    if (where) this.expr(where);
    else this.sql += "TRUE";
  }

  protected override delete(n: DeleteNode): void {
    if (n.using) this.unsupported("DELETE … USING", "Use .where('id IN (SELECT …)') instead.");
    super.delete(n);
  }
}
