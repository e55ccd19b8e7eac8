/**
 * BEGIN with options, per dialect. PostgreSQL (and DuckDB) take the characteristics in BEGIN itself; MySQL/MariaDB
 * set the isolation level for the next transaction with `SET TRANSACTION` (it is refused inside one) and take
 * READ ONLY in `START TRANSACTION`; SQLite has one isolation level and tells a reader by DEFERRED.
 */
import type { Dialect } from "../core/types.js";

export type IsolationLevel = "read uncommitted" | "read committed" | "repeatable read" | "serializable";

export function beginStatements(
  dialect: Dialect,
  isolationLevel: IsolationLevel | undefined,
  readOnly: boolean | undefined,
): string[] {
  const level = isolationLevel?.toUpperCase();
  if (dialect === "mysql") {
    const start = readOnly ? "START TRANSACTION READ ONLY" : "START TRANSACTION";
    return level ? [`SET TRANSACTION ISOLATION LEVEL ${level}`, start] : [start];
  }
  if (dialect === "sqlite") {
    // SQLite transactions are always serializable (which satisfies every weaker level); a read-only one is DEFERRED
    // (it takes no write lock) and refuses writes by `query_only`, which the adapter turns off again when the
    // transaction ends; any other is a plain BEGIN, which the adapter runs as BEGIN IMMEDIATE on a file.
    return readOnly ? ["BEGIN DEFERRED", "PRAGMA query_only = ON"] : ["BEGIN"];
  }
  let sql = "BEGIN";
  if (level) sql += ` ISOLATION LEVEL ${level}`;
  if (readOnly) sql += " READ ONLY";
  return [sql];
}
