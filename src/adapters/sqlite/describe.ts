/** Statement description on SQLite through better-sqlite3 (typegen with `--dialect sqlite`). */
import { importDriver, rethrow } from "../../driver/dependencies.js";

export interface SqliteColumnDescription {
  readonly name: string;
  /** The origin table and column, when the result column is a plain column reference. */
  readonly table: string | null;
  readonly column: string | null;
  /** The declared type of the origin column (null for expressions). */
  readonly type: string | null;
}

export interface SqliteDescriber {
  exec(sql: string): void;
  /** Result columns, or undefined when the statement returns no rows. */
  describe(sql: string): { columns: SqliteColumnDescription[] | undefined };
  /** notnull of each column of `table` (an INTEGER PRIMARY KEY is the rowid: never NULL). */
  notNullColumns(table: string): Set<string>;
  close(): void;
}

export async function createSqliteDescriber(file: string | undefined): Promise<SqliteDescriber> {
  const mod = await importDriver("better-sqlite3", "sqlspec generate --dialect sqlite", () =>
    import("better-sqlite3").catch(rethrow),
  );
  const Database: any = (mod as any).default ?? mod;
  const db = new Database(file ?? ":memory:", file ? { readonly: true, fileMustExist: true } : {});
  return {
    exec: (sql) => void db.exec(sql),
    describe(sql) {
      const stmt = db.prepare(sql);
      return { columns: stmt.reader ? (stmt.columns() as SqliteColumnDescription[]) : undefined };
    },
    notNullColumns(table) {
      const rows = db.prepare(`SELECT name, type, "notnull", pk FROM pragma_table_xinfo(?)`).all(table) as {
        name: string;
        type: string;
        notnull: number;
        pk: number;
      }[];
      const pks = rows.filter((r) => r.pk > 0);
      const rowid = pks.length === 1 && pks[0]!.type.toUpperCase() === "INTEGER" ? pks[0]!.name : undefined;
      return new Set(rows.filter((r) => r.notnull === 1 || r.name === rowid).map((r) => r.name));
    },
    close: () => db.close(),
  };
}
