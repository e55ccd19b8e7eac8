import type { OperationType } from "../../core/types.js";

/** Parses a PostgreSQL command tag ("INSERT 0 5", "MERGE 7", "CREATE TABLE") into verb and count. */
/**
 * The tag's verb changes the schema (CREATE/ALTER/DROP …): statements prepared before it keep their old parameter
 * and result types, so the adapters stop reusing them.
 */
export function changesSchema(command: string | undefined): boolean {
  if (command === undefined) return false;
  const c = command.charCodeAt(0);
  // SELECT/INSERT/UPDATE/… leave after one comparison.
  if (c !== 65 && c !== 67 && c !== 68) return false;
  return SCHEMA_CHANGE.test(command);
}

// DEALLOCATE [ALL] and DISCARD ALL/PLANS drop the connection's prepared statements (or their plans) as well.
const SCHEMA_CHANGE = /^(?:CREATE|ALTER|DROP|DEALLOCATE|DISCARD)\b/;

export function parseCommandTag(tag: string): { command: string; rowsAffected: number } {
  const space = tag.lastIndexOf(" ");
  if (space > 0) {
    const last = tag.slice(space + 1);
    const n = Number(last);
    if (last !== "" && Number.isInteger(n)) {
      const first = tag.indexOf(" ");
      return { command: tag.slice(0, first), rowsAffected: n };
    }
  }
  return { command: tag, rowsAffected: 0 };
}

const DML = new Set(["INSERT", "UPDATE", "DELETE", "MERGE", "COPY"]);

/** rowsAffected: the server's count for DML (and SELECT/FETCH), 0 for DDL and utility. */
export function rowsAffectedFor(command: string | undefined, rowCount: number | null | undefined): number {
  if (rowCount === null || rowCount === undefined) return 0;
  if (command === undefined || DML.has(command) || command === "SELECT" || command === "FETCH" || command === "MOVE") {
    return rowCount;
  }
  return 0;
}

export function operationTypeOfCommand(command: string | undefined): OperationType | undefined {
  switch (command) {
    case "SELECT":
    case "FETCH":
      return "SELECT";
    case "INSERT":
    case "UPDATE":
    case "DELETE":
    case "MERGE":
    case "COPY":
      return command;
    default:
      return undefined;
  }
}
