/**
 * BigQuery: backtick quoting, `@name` parameters, `UNION/INTERSECT/EXCEPT DISTINCT` (a bare UNION is an error),
 * backslash-escaped string literals, and a WHERE clause that UPDATE/DELETE require. MERGE from rows uses the
 * portable `SELECT … UNION ALL` source. No ON CONFLICT, RETURNING or row locks.
 */

import type { ConflictNode, DeleteNode, Expr, InsertNode, LockNode, SelectItem } from "../builder/nodes.js";
import type { Dialect } from "../core/types.js";
import { BaseRenderer } from "./base.js";

const BQ_RESERVED = new Set(
  (
    "all and any array as asc assert_rows_modified at between by case cast collate contains create cross cube " +
    "current default define desc distinct else end enum escape except exclude exists extract false fetch following " +
    "for from full group grouping groups hash having if ignore in inner intersect interval into is join lateral " +
    "left like limit lookup merge natural new no not null nulls of on or order outer over partition preceding proto " +
    "qualify range recursive respect right rollup rows select set some struct tablesample then to treat true " +
    "unbounded union unnest using when where window with within"
  ).split(" "),
);

export class BigQueryRenderer extends BaseRenderer {
  override readonly dialect: Dialect = "bigquery";
  protected override quoteChar = "`";
  protected override reserved: ReadonlySet<string> = BQ_RESERVED;
  protected override namedPrefix: string | undefined = "@";
  protected override setOpDistinct = " DISTINCT ";
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
