/**
 * Server facts for MySQL / MariaDB: the version from the handshake (no round trip), columns and unique keys from
 * information_schema. A table name may be schema-qualified (`db.t`); otherwise the connection's current database.
 */
import { parseName } from "../../core/identifiers.js";
import type { Adapter, ColumnInfo, Introspector, ServerVersion } from "../../driver/adapter.js";

export interface MysqlServer extends ServerVersion {
  flavor: "mysql" | "mariadb";
}

/**
 * "8.0.36" → mysql 80036; "5.5.5-10.11.19-MariaDB-0+deb12u1" / "10.11.19-MariaDB" → mariadb 101119
 * (major·10000 + minor·100 + patch, the MySQL_VERSION_ID form).
 */
export function parseServerVersion(text: string): MysqlServer {
  const mariadb = /mariadb/i.test(text);
  // MariaDB before 11 prefixes "5.5.5-" for old replication clients.
  const body = mariadb ? text.replace(/^5\.5\.5-/, "") : text;
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(body);
  const versionNum = m ? Number(m[1]) * 10000 + Number(m[2]) * 100 + Number(m[3]) : 0;
  const version = m ? `${m[1]}.${m[2]}.${m[3]}` : body;
  return { flavor: mariadb ? "mariadb" : "mysql", versionNum, version };
}

/** Splits `db.t` / `` `db`.`t` `` into schema and table (undefined schema = the current database). */
export function splitTableName(table: string): { schema: string | undefined; name: string } {
  const parts = parseName(table, "table name");
  if (parts.length >= 2) return { schema: parts[parts.length - 2], name: parts[parts.length - 1] as string };
  return { schema: undefined, name: parts[0] ?? table };
}

const COLUMNS_SQL = `SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable,
  (COLUMN_DEFAULT IS NOT NULL OR EXTRA LIKE '%auto_increment%' OR EXTRA LIKE '%GENERATED%') AS has_default
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?
ORDER BY ORDINAL_POSITION`;

const UNIQUE_KEYS_SQL = `SELECT INDEX_NAME AS idx, COLUMN_NAME AS col
FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND NON_UNIQUE = 0
ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`;

interface WithServer {
  readonly server?: MysqlServer | undefined;
}

export const mysqlIntrospector: Introspector<unknown> = {
  async getVersion(adapter: Adapter<unknown>, conn: unknown): Promise<ServerVersion> {
    const known = (adapter as unknown as WithServer).server;
    if (known) return known;
    const r = await adapter.query(conn, "SELECT VERSION() AS v", [], {});
    return parseServerVersion(String((r.rows[0] as { v: string }).v));
  },
  async getColumns(adapter: Adapter<unknown>, conn: unknown, table: string): Promise<ColumnInfo[]> {
    const { schema, name } = splitTableName(table);
    const r = await adapter.query(conn, COLUMNS_SQL, [schema ?? null, name], {});
    return r.rows.map((row) => ({
      name: String(row.name),
      type: String(row.type),
      nullable: String(row.nullable) === "YES",
      hasDefault: Number(row.has_default) === 1,
    }));
  },
  async getUniqueKeys(adapter: Adapter<unknown>, conn: unknown, table: string): Promise<string[][]> {
    const { schema, name } = splitTableName(table);
    const r = await adapter.query(conn, UNIQUE_KEYS_SQL, [schema ?? null, name], {});
    const keys = new Map<string, string[]>();
    for (const row of r.rows) {
      const idx = String(row.idx);
      let cols = keys.get(idx);
      if (cols === undefined) {
        cols = [];
        keys.set(idx, cols);
      }
      cols.push(String(row.col));
    }
    return [...keys.values()];
  },
};
