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
} from "../core/ast/nodes.js";
import type { ContainsTemplate } from "../core/ast/render.js";
import { mapQualifier } from "../core/ast/rewrite.js";
import type { ExplainSql } from "../core/explain.js";
import { quoteIdent, quoteQualified } from "../core/identifiers.js";
import type { Dialect } from "../core/types.js";
import { BaseRenderer } from "./base.js";
import type { BulkUpsertShape, InsertUpsertSql, JsonColumnKind } from "./bulk.js";
import { MYSQL_EXPLAIN } from "./explain.js";

export class MysqlRenderer extends BaseRenderer {
  override readonly dialect: Dialect = "mysql";
  readonly explain: ExplainSql = MYSQL_EXPLAIN;
  override readonly conflictClause = "on-duplicate-key" as const;
  protected override hasNullsOrder = false;
  protected override likeEscape = "";

  /** LIKE follows the column's collation (usually case-insensitive): a binary pattern makes case count. */
  override containsTemplate(not: boolean, ignoreCase: boolean): ContainsTemplate {
    if (ignoreCase) return super.containsTemplate(not, ignoreCase);
    return { parts: ["", not ? " NOT LIKE CAST(" : " LIKE CAST(", " AS BINARY)"], pattern: true };
  }
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
    // MySQL ≥ 8.0.19 names the inserted row with an alias (VALUES() is deprecated there); MariaDB only has VALUES().
    const alias =
      this.ctx?.serverFlavor !== undefined &&
      mysqlHasRowAlias({
        flavor: this.ctx.serverFlavor,
        versionNum: this.ctx.serverVersionNum ?? 0,
      });
    if (alias && !n.select) this.sql += " AS new";
    const toValues = (col: string) => (alias && !n.select ? `new.${this.ident(col)}` : `VALUES(${this.ident(col)})`);
    this.duplicate(c.set!.map((s) => ({ column: s.column, value: mapQualifier(s.value, "excluded", toValues) })));
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

// ---------------------------------------------------------------------------------------------------- bulk SQL text
// Statement text for the bulk paths (session.upsert / loadRecords on MySQL and MariaDB). Every identifier is quoted
// here; values are never part of the text.

/** One identifier part, always quoted: the dialect's one quoting function (core/identifiers). */
export function mysqlIdent(part: string): string {
  return quoteIdent(part, "mysql");
}

/** A possibly schema-qualified table name, parsed like every name (quoted parts understood), every part quoted. */
export function mysqlTable(name: string): string {
  return quoteQualified(name, "mysql");
}

/**
 * `LOAD DATA LOCAL INFILE` for sqlspec's own tab-separated feed. `fileName` is sqlspec's token (letters, digits and
 * dashes only); the driver answers only that name.
 */
export function loadDataSql(table: string, columns: readonly string[], fileName: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(fileName)) throw new Error("LOAD DATA file token must be alphanumeric");
  return (
    `LOAD DATA LOCAL INFILE '${fileName}' INTO TABLE ${mysqlTable(table)} CHARACTER SET binary ` +
    `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${columns.map(mysqlIdent).join(", ")})`
  );
}

/** An empty, keyless temporary copy of the target's columns (exact server types, no constraints to trip LOAD DATA). */
export function stageTableSql(stage: string, table: string, columns: readonly string[]): string {
  return `CREATE TEMPORARY TABLE ${mysqlIdent(stage)} AS SELECT ${columns.map(mysqlIdent).join(", ")} FROM ${mysqlTable(table)} LIMIT 0`;
}

/** `ON DUPLICATE KEY UPDATE` from the inserted row, referring to it as `ref(col)`. */
function duplicateClause(s: BulkUpsertShape, ref: (col: string) => string): string {
  // Nothing to update: a no-op assignment keeps the row (INSERT IGNORE would also hide unrelated errors). The key is
  // qualified by the target table, since an INSERT … SELECT source has a column of the same name.
  const key = `${mysqlTable(s.table)}.${mysqlIdent(s.key)}`;
  const set = s.update.length > 0 ? s.update.map((c) => `${mysqlIdent(c)} = ${ref(c)}`) : [`${key} = ${key}`];
  return ` ON DUPLICATE KEY UPDATE ${set.join(", ")}`;
}

/** Whether the server takes the row-alias form of ON DUPLICATE KEY UPDATE (MySQL 8.0.19+, not MariaDB). */
export function mysqlHasRowAlias(server: { versionNum: number; flavor?: string | undefined }): boolean {
  return server.flavor === "mysql" && server.versionNum >= 80019;
}

function valuesList(width: number, rowCount: number): string {
  const row = `(${new Array<string>(width).fill("?").join(", ")})`;
  return new Array<string>(rowCount).fill(row).join(", ");
}

/** Base type of a catalog column type: `int(11) unsigned` → `int`, `decimal(10,2)` → `decimal`. */
function baseType(type: string): string {
  return type
    .toLowerCase()
    .replace(/\(.*$/, "")
    .replace(/ (unsigned|zerofill|signed)/g, "")
    .trim();
}

function jsonKind(type: string): JsonColumnKind {
  const base = baseType(type);
  if (/^(datetime|timestamp|date|time)$/.test(base)) return "temporal";
  if (/(blob|binary)$/.test(base)) return "binary";
  if (base === "json") return "json";
  if (base === "bigint") return "integer-text";
  return "plain";
}

/** A JSON array index path inside a SQL string literal. */
function jsonIndexPath(i: number): string {
  return `'$[${i}]'`;
}

/**
 * Bulk statement text for MySQL and MariaDB:
 * - multi-row `INSERT … VALUES (?, …), … ON DUPLICATE KEY UPDATE`: a row alias (`AS new`, `col = new.col`) on
 *   MySQL ≥ 8.0.19, where VALUES() is deprecated; `VALUES(col)` on MariaDB and older MySQL;
 * - `INSERT … SELECT … FROM (<source>) AS src ON DUPLICATE KEY UPDATE col = src.col`: the derived table's columns by
 *   name, which both accept;
 * - `JSON_TABLE(?, '$[*]' COLUMNS (…))` over rows sent as JSON arrays, every column read as text so the INSERT
 *   converts it exactly as it converts a bound value (strict mode errors, not JSON_TABLE's silent truncation);
 *   the encoder writes dates as UTC DATETIME text, binary values as hex, JSON columns as their document text and
 *   BIGINT as digits (a JSON number would pass through a double);
 * - a keyless temporary stage (`CREATE TEMPORARY TABLE … AS SELECT cols FROM t LIMIT 0`: exact server types, no
 *   constraints for LOAD DATA to trip over, since LOAD DATA LOCAL turns errors into skipped rows).
 */
export const mysqlBulkSql: InsertUpsertSql = {
  upsertValues(shape, rowCount, server) {
    const head = `INSERT INTO ${mysqlTable(shape.table)} (${shape.columns.map(mysqlIdent).join(", ")}) VALUES ${valuesList(shape.columns.length, rowCount)}`;
    return mysqlHasRowAlias(server)
      ? `${head} AS new${duplicateClause(shape, (c) => `new.${mysqlIdent(c)}`)}`
      : head + duplicateClause(shape, (c) => `VALUES(${mysqlIdent(c)})`);
  },
  insertValues(table, columns, rowCount) {
    return `INSERT INTO ${mysqlTable(table)} (${columns.map(mysqlIdent).join(", ")}) VALUES ${valuesList(columns.length, rowCount)}`;
  },
  upsertFromSelect(shape, source) {
    const cols = shape.columns.map(mysqlIdent);
    return (
      `INSERT INTO ${mysqlTable(shape.table)} (${cols.join(", ")}) SELECT ${cols.map((c) => `src.${c}`).join(", ")} ` +
      `FROM ${source} AS src${duplicateClause(shape, (c) => `src.${mysqlIdent(c)}`)}`
    );
  },
  jsonKind,
  jsonRowsSource(columns, types) {
    // Every column is read as text and converted by the INSERT itself, under the session's strict sql_mode: a
    // typed JSON_TABLE column would truncate or zero a bad value with only a warning.
    const defs: string[] = [];
    const picks: string[] = [];
    for (let i = 0; i < columns.length; i++) {
      const id = mysqlIdent(columns[i] as string);
      defs.push(`${id} LONGTEXT PATH ${jsonIndexPath(i)}`);
      picks.push(jsonKind(types[i] ?? "text") === "binary" ? `UNHEX(jt.${id}) AS ${id}` : `jt.${id} AS ${id}`);
    }
    return `(SELECT ${picks.join(", ")} FROM JSON_TABLE(?, '$[*]' COLUMNS (${defs.join(", ")})) AS jt)`;
  },
  stageTable(stage, table, columns) {
    return `CREATE TEMPORARY TABLE ${mysqlIdent(stage)} AS SELECT ${columns.map(mysqlIdent).join(", ")} FROM ${mysqlTable(table)} LIMIT 0`;
  },
  dropStage(stage) {
    return `DROP TEMPORARY TABLE IF EXISTS ${mysqlIdent(stage)}`;
  },
  quoteTable: mysqlTable,
  quoteIdent: mysqlIdent,
};
