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

// ---------------------------------------------------------------------------------------------------- bulk SQL text
// Statement text for the bulk paths (session.upsert / loadRecords on MySQL and MariaDB). Every identifier is quoted
// here; values are never part of the text.

/** One identifier part, always quoted. */
export function mysqlIdent(part: string): string {
  return `\`${part.replace(/`/g, "``")}\``;
}

/** Splits `db.t` / `` `db`.`t` `` into its parts (a quoted part may contain dots). */
export function mysqlNameParts(name: string): string[] {
  const parts: string[] = [];
  const re = /`((?:[^`]|``)*)`|([^.`]+)/g;
  for (let m = re.exec(name); m !== null; m = re.exec(name)) {
    parts.push(m[1] !== undefined ? m[1].replace(/``/g, "`") : (m[2] as string).trim());
  }
  return parts.length > 0 ? parts : [name];
}

/** A possibly schema-qualified table name, every part quoted. */
export function mysqlTable(name: string): string {
  return mysqlNameParts(name).map(mysqlIdent).join(".");
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

export interface MysqlUpsertShape {
  table: string;
  columns: readonly string[];
  /** Columns updated on a duplicate key; empty = keep the existing row. */
  update: readonly string[];
  /** The first key column (the no-op assignment when nothing is updated). */
  key: string;
}

/** `ON DUPLICATE KEY UPDATE` from the inserted row, referring to it as `ref(col)`. */
function duplicateClause(s: MysqlUpsertShape, ref: (col: string) => string): string {
  const set =
    s.update.length > 0
      ? s.update.map((c) => `${mysqlIdent(c)} = ${ref(c)}`)
      : [`${mysqlIdent(s.key)} = ${mysqlIdent(s.key)}`];
  return ` ON DUPLICATE KEY UPDATE ${set.join(", ")}`;
}

/**
 * `INSERT … SELECT … FROM (<source>) AS src ON DUPLICATE KEY UPDATE col = src.col`: the derived table's columns
 * are referenced by name, which MySQL 8 and MariaDB both accept (no deprecated VALUES()).
 */
export function upsertFromSelectSql(s: MysqlUpsertShape, source: string): string {
  const cols = s.columns.map(mysqlIdent).join(", ");
  return (
    `INSERT INTO ${mysqlTable(s.table)} (${cols}) SELECT ${s.columns.map((c) => `src.${mysqlIdent(c)}`).join(", ")} ` +
    `FROM ${source} AS src` +
    duplicateClause(s, (c) => `src.${mysqlIdent(c)}`)
  );
}

/**
 * Multi-row `INSERT … VALUES (?, …), … ON DUPLICATE KEY UPDATE`: with a row alias (`AS new`, `col = new.col`) on
 * MySQL ≥ 8.0.19, where VALUES() is deprecated; with `VALUES(col)` on MariaDB and older MySQL.
 */
export function upsertValuesSql(s: MysqlUpsertShape, rowCount: number, rowAlias: boolean): string {
  const row = `(${s.columns.map(() => "?").join(", ")})`;
  const rows = new Array<string>(rowCount).fill(row).join(", ");
  const head = `INSERT INTO ${mysqlTable(s.table)} (${s.columns.map(mysqlIdent).join(", ")}) VALUES ${rows}`;
  return rowAlias
    ? `${head} AS new${duplicateClause(s, (c) => `new.${mysqlIdent(c)}`)}`
    : head + duplicateClause(s, (c) => `VALUES(${mysqlIdent(c)})`);
}

/** Whether the server takes the row-alias form of ON DUPLICATE KEY UPDATE (MySQL 8.0.19+, not MariaDB). */
export function mysqlHasRowAlias(flavor: string | undefined, versionNum: number): boolean {
  return flavor === "mysql" && versionNum >= 80019;
}

/**
 * `JSON_TABLE(?, '$[*]' COLUMNS (…))` typed from the target's catalog types. Temporal columns are read as text and
 * converted (MySQL's JSON_TABLE rejects ISO `T…Z` text where MariaDB accepts it), binary columns arrive hex-encoded
 * (`\x…`), JSON columns as their document text, BIGINT as text (JSON numbers pass through a double).
 */
export function jsonTableSource(columns: readonly string[], types: readonly string[]): string {
  const defs: string[] = [];
  const picks: string[] = [];
  for (let i = 0; i < columns.length; i++) {
    const col = columns[i] as string;
    const type = (types[i] ?? "text").toLowerCase();
    const id = mysqlIdent(col);
    const path = `'$.${jsonPathKey(col)}'`;
    const base = type
      .replace(/\(.*$/, "")
      .replace(/ unsigned| zerofill/g, "")
      .trim();
    if (/^(datetime|timestamp|date|time)$/.test(base)) {
      defs.push(`${id} VARCHAR(64) PATH ${path}`);
      const cast = base === "timestamp" ? "datetime" : base;
      const fsp = /\((\d)\)/.exec(type)?.[1];
      picks.push(
        `CAST(REPLACE(REPLACE(jt.${id}, 'T', ' '), 'Z', '') AS ${cast.toUpperCase()}${fsp ? `(${fsp})` : ""}) AS ${id}`,
      );
    } else if (/(blob|binary|varbinary)$/.test(base)) {
      defs.push(`${id} LONGTEXT PATH ${path}`);
      picks.push(`UNHEX(SUBSTRING(jt.${id}, 3)) AS ${id}`);
    } else if (base === "json" || base === "bigint") {
      defs.push(`${id} ${base === "json" ? "LONGTEXT" : "VARCHAR(32)"} PATH ${path}`);
      picks.push(
        base === "json"
          ? `jt.${id} AS ${id}`
          : `CAST(jt.${id} AS ${type.includes("unsigned") ? "UNSIGNED" : "SIGNED"}) AS ${id}`,
      );
    } else {
      defs.push(`${id} ${type} PATH ${path}`);
      picks.push(`jt.${id} AS ${id}`);
    }
  }
  return `(SELECT ${picks.join(", ")} FROM JSON_TABLE(?, '$[*]' COLUMNS (${defs.join(", ")})) AS jt)`;
}

/** A JSON object key inside a path literal: always double-quoted, with `"`, `\` and `'` escaped. */
function jsonPathKey(key: string): string {
  return `"${key.replace(/\\/g, "\\\\\\\\").replace(/"/g, '\\\\"').replace(/'/g, "''")}"`;
}
