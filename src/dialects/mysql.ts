/**
 * MySQL / MariaDB: backtick quoting, `?` placeholders, ON DUPLICATE KEY UPDATE for upserts (ON CONFLICT is
 * translated: `excluded.col` → `VALUES(col)`, which both MySQL and MariaDB accept), no NULLS FIRST/LAST, no
 * RETURNING, multi-table UPDATE/DELETE syntax. LIMIT/OFFSET are written as validated integer literals because
 * mysql2's prepared statements reject a bound LIMIT on MySQL 8.0.22+.
 */

import type {
  ConflictNode,
  DeleteNode,
  InsertNode,
  MergeNode,
  SelectItem,
  SetItem,
  UpdateNode,
} from "../builder/nodes.js";
import { mapRaw, rewriteQualifier } from "../builder/rewrite.js";
import { RESERVED } from "../core/identifiers.js";
import type { Dialect } from "../core/types.js";
import { BaseRenderer } from "./base.js";

const MYSQL_RESERVED = new Set([
  ...RESERVED,
  ..."accessible add alter change condition database databases div dual explain force ignore int integer interval key keys kill load lock long match mod rank read release rename repeat replace require schema show signal sql ssl starting straight_join usage utc_date write xor zerofill".split(
    " ",
  ),
]);

export class MysqlRenderer extends BaseRenderer {
  override readonly dialect: Dialect = "mysql";
  protected override quoteChar = "`";
  protected override reserved: ReadonlySet<string> = MYSQL_RESERVED;
  protected override hasNullsOrder = false;
  protected override noLimit = "18446744073709551615";

  protected override quoteString(s: string): string {
    // Default sql_mode treats backslash as an escape character inside string literals.
    return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
  }

  protected override limitOffset(limit: number | undefined, offset: number | undefined): void {
    this.sql += ` LIMIT ${limit ?? this.noLimit}`;
    if (offset !== undefined) this.sql += ` OFFSET ${offset}`;
  }

  protected override returning(_items: readonly SelectItem[]): void {
    this.unsupported("RETURNING", "Read lastInsertId from the result, or SELECT the rows afterwards.");
  }

  protected override conflict(c: ConflictNode, n: InsertNode): void {
    if (c.where) {
      this.unsupported("ON CONFLICT … DO UPDATE … WHERE", "Put the condition in IF(cond, new, old) per column.");
    }
    if (c.action === "nothing") {
      // A no-op assignment keeps the existing row (INSERT IGNORE would also hide unrelated errors).
      const key = c.columns[0] ?? n.columns[0];
      if (key === undefined) this.unsupported("ON CONFLICT DO NOTHING without columns", "Name the key columns.");
      this.sql += ` ON DUPLICATE KEY UPDATE ${this.ident(key)} = ${this.ident(key)}`;
      return;
    }
    const toValues = (s: string) => rewriteQualifier(s, "excluded", (col) => `VALUES(${this.ident(col)})`);
    this.duplicate(c.set!.map((s) => ({ column: s.column, value: mapRaw(s.value, toValues) })));
  }

  protected override duplicate(set: readonly SetItem[]): void {
    this.sql += " ON DUPLICATE KEY UPDATE ";
    this.setList(set);
  }

  protected override update(n: UpdateNode): void {
    if (!n.from) {
      super.update(n);
      return;
    }
    // MySQL lists extra tables next to the target instead of a FROM clause.
    if (n.with) this.with(n.with);
    this.sql += "UPDATE ";
    this.tables([n.table, ...n.from]);
    this.sql += " SET ";
    this.setList(n.set);
    this.whereClause(n.where);
    if (n.returning) this.returning(n.returning);
  }

  protected override delete(n: DeleteNode): void {
    if (!n.using) {
      super.delete(n);
      return;
    }
    // Multi-table form: DELETE FROM <target> USING <target AS alias>, <others> WHERE …
    if (n.with) this.with(n.with);
    this.sql += "DELETE FROM ";
    if (n.table.alias !== undefined) this.sql += this.ident(n.table.alias);
    else this.expr(n.table.source);
    this.sql += " USING ";
    this.tables([n.table, ...n.using]);
    this.whereClause(n.where);
    if (n.returning) this.returning(n.returning);
  }

  protected override merge(_n: MergeNode): void {
    this.unsupported(
      "MERGE",
      "Use ON DUPLICATE KEY UPDATE: sql.insertInto(table).values(rows).onDuplicateKeyUpdate(set), " +
        "or sql.upsert(table, { dialect: 'mysql' }).",
    );
  }
}
