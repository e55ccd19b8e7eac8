/**
 * Bulk upsert/load text for engines whose upsert is `INSERT … ON CONFLICT (key) DO UPDATE SET c = excluded.c` and that
 * take `?` placeholders (SQLite, DuckDB). The engine in driver/native-bulk.ts chunks the rows and picks the source.
 */
import { quoteIdent, quoteQualified } from "../core/identifiers.js";
import type { Dialect } from "../core/types.js";
import type { BulkUpsertShape, InsertUpsertSql } from "./bulk.js";

function valuesList(width: number, rowCount: number): string {
  const row = `(${new Array<string>(width).fill("?").join(", ")})`;
  return new Array<string>(rowCount).fill(row).join(", ");
}

export function onConflictBulkSql(dialect: Extract<Dialect, "sqlite" | "duckdb">): InsertUpsertSql {
  const ident = (name: string): string => quoteIdent(name, dialect);
  const table = (name: string): string => quoteQualified(name, dialect);
  const conflict = (s: BulkUpsertShape): string => {
    const target = ` ON CONFLICT (${(s.on ?? [s.key]).map(ident).join(", ")}) DO `;
    return s.update.length > 0
      ? `${target}UPDATE SET ${s.update.map((c) => `${ident(c)} = excluded.${ident(c)}`).join(", ")}`
      : `${target}NOTHING`;
  };
  return {
    upsertValues(shape, rowCount) {
      const cols = shape.columns.map(ident).join(", ");
      return `INSERT INTO ${table(shape.table)} (${cols}) VALUES ${valuesList(shape.columns.length, rowCount)}${conflict(shape)}`;
    },
    insertValues(t, columns, rowCount) {
      return `INSERT INTO ${table(t)} (${columns.map(ident).join(", ")}) VALUES ${valuesList(columns.length, rowCount)}`;
    },
    upsertFromSelect(shape, source) {
      const cols = shape.columns.map(ident);
      // `WHERE true`: SQLite cannot tell `SELECT … FROM src ON CONFLICT` from a join constraint without it.
      return (
        `INSERT INTO ${table(shape.table)} (${cols.join(", ")}) SELECT ${cols.map((c) => `src.${c}`).join(", ")} ` +
        `FROM ${source} AS src WHERE true${conflict(shape)}`
      );
    },
    stageTable(stage, t, columns) {
      return `CREATE TEMPORARY TABLE ${ident(stage)} AS SELECT ${columns.map(ident).join(", ")} FROM ${table(t)} LIMIT 0`;
    },
    dropStage(stage) {
      return `DROP TABLE IF EXISTS ${ident(stage)}`;
    },
    quoteTable: table,
    quoteIdent: ident,
  };
}
