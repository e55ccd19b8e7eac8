/**
 * The oldest driver versions the peer ranges allow, installed as npm aliases (devDependencies `<name>-oldest`). The
 * "oldest drivers" vitest project resolves each driver's import to its alias, so the adapters in src/ run unchanged
 * against the oldest version a user may have.
 */
export const OLDEST_DRIVERS: Readonly<Record<string, string>> = {
  pg: "pg-oldest",
  "pg-copy-streams": "pg-copy-streams-oldest",
  postgres: "postgres-oldest",
  "@electric-sql/pglite": "pglite-oldest",
  mysql2: "mysql2-oldest",
  "better-sqlite3": "better-sqlite3-oldest",
  "@duckdb/node-api": "duckdb-node-api-oldest",
};

/** vite `resolve.alias` entries: the package and its subpaths (`pg/lib/utils.js`), never a longer name (`pg-pool`). */
export function oldestDriverAliases(): { find: RegExp; replacement: string }[] {
  return Object.entries(OLDEST_DRIVERS).map(([name, alias]) => ({
    find: new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}(?=/|$)`),
    replacement: alias,
  }));
}
