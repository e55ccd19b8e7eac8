/**
 * Loading better-sqlite3 and opening a handle, and the per-connection pragmas around it: a handle is set up once
 * (sqlspec's pragmas, the configured ones, the user's hook), and what a session assigns is put back or the handle
 * closed on release. Kept apart from the statement path, which never runs any of this.
 */
import type BetterSqlite3 from "better-sqlite3";
import { DatabaseConnectionError, SQLSpecError } from "../../core/errors.js";
import type { ResetOnRelease, ResolvedDriverFeatures } from "../../driver/config.js";
import { importDriver, rethrow } from "../../driver/dependencies.js";
import { SqliteHandle } from "./connection.js";
import { mapSqliteError } from "./errors.js";

export type DatabaseConstructor = typeof BetterSqlite3;

/** The loaded driver: a dynamic import of a loaded module still costs a trip through the module loader per config. */
let loaded: DatabaseConstructor | undefined;

export async function loadBetterSqlite3(feature: string): Promise<DatabaseConstructor> {
  if (loaded !== undefined) return loaded;
  const mod = await importDriver(
    "better-sqlite3",
    feature,
    () => import("better-sqlite3").catch(rethrow) as Promise<{ default?: DatabaseConstructor }>,
  );
  loaded = (mod.default ?? mod) as DatabaseConstructor;
  return loaded;
}

export interface SqliteAdapterOptions {
  database: string;
  readonly: boolean;
  busyTimeoutMs: number;
  pragmas: Readonly<Record<string, string | number | boolean>>;
  acquireTimeoutMs: number | undefined;
  maxSize: number;
  idleTimeoutMs: number;
  statementCacheSize: number;
  resetOnRelease: ResetOnRelease;
  features: ResolvedDriverFeatures<BetterSqlite3.Database>;
}

export function isMemoryDatabase(database: string): boolean {
  return database === ":memory:" || database === "" || /^file::memory:/.test(database);
}

/** Per-connection pragmas read when a handle opens and restored on release after a session assigned pragmas. */
const SESSION_PRAGMAS = [
  "query_only",
  "foreign_keys",
  "defer_foreign_keys",
  "recursive_triggers",
  "busy_timeout",
  "case_sensitive_like",
  "ignore_check_constraints",
  "reverse_unordered_selects",
  "cell_size_check",
  "trusted_schema",
  "automatic_index",
] as const;
const PRAGMA_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PRAGMA_VALUE = /^[A-Za-z0-9_.+-]+$/;

/**
 * Opens and sets up a handle: busy timeout, foreign keys, WAL for files, the configured pragmas, the user's hook.
 * `shared`: the one `:memory:` handle every session uses.
 */
export function openHandle(Database: DatabaseConstructor, o: SqliteAdapterOptions, shared: boolean): SqliteHandle {
  let db: BetterSqlite3.Database;
  try {
    // Setup may wait on the thread (switching to WAL needs the file for a moment); statements never do (locking.ts).
    db = new Database(o.database, { readonly: o.readonly, timeout: o.busyTimeoutMs });
  } catch (err) {
    throw new DatabaseConnectionError(`SQLite connection error: cannot open the database`, { cause: err });
  }
  try {
    db.pragma("foreign_keys = ON");
    // WAL unless the configuration names a journal mode: setting WAL first and the configured mode after it would
    // switch the file back on every open, which needs the file to itself (SQLITE_BUSY beside any reader).
    if (!shared && !o.readonly && !Object.keys(o.pragmas).some(isJournalMode)) db.pragma("journal_mode = WAL");
    for (const [name, value] of Object.entries(o.pragmas)) db.pragma(pragmaText(name, value));
    const hook = o.features.onConnectionCreate;
    if (hook) {
      const r = hook(db);
      if (r && typeof (r as Promise<void>).then === "function") {
        throw new SQLSpecError("SQLite: onConnectionCreate must be synchronous (better-sqlite3 is)");
      }
    }
    // SQLITE_BUSY at once, retried by query() on timers: see the module comment of driver.ts.
    if (!shared) db.pragma("busy_timeout = 0");
  } catch (err) {
    db.close();
    throw err instanceof SQLSpecError ? err : mapSqliteError(err);
  }
  const h = new SqliteHandle(db);
  // The shared handle cannot be closed on release: what a session assigned is put back to these values.
  if (shared) h.pragmasAtOpen = readPragmas(db);
  return h;
}

/** `journal_mode` in any case (pragmaText refuses a schema-qualified name). */
function isJournalMode(name: string): boolean {
  return name.toLowerCase() === "journal_mode";
}

/** The shared handle's pragmas put back after a session assigned some: the values at open, then the configured ones. */
export function restorePragmas(h: SqliteHandle, configured: Readonly<Record<string, string | number | boolean>>): void {
  for (const [name, value] of Object.entries(h.pragmasAtOpen ?? {})) h.db.pragma(pragmaText(name, value));
  for (const [name, value] of Object.entries(configured)) h.db.pragma(pragmaText(name, value));
  h.settingsChanged = false;
}

/** The values of SESSION_PRAGMAS on a handle. */
function readPragmas(db: BetterSqlite3.Database): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of SESSION_PRAGMAS) {
    const v = db.pragma(name, { simple: true });
    if (typeof v === "number" || typeof v === "bigint") out[name] = Number(v);
  }
  return out;
}

/** `name = value` for db.pragma(); names and values are checked (configuration, but never pasted unchecked). */
function pragmaText(name: string, value: string | number | boolean): string {
  if (!PRAGMA_NAME.test(name)) throw new SQLSpecError(`SQLite: invalid pragma name ${JSON.stringify(name)}`);
  const v = typeof value === "boolean" ? (value ? "ON" : "OFF") : String(value);
  if (!PRAGMA_VALUE.test(v)) throw new SQLSpecError(`SQLite: invalid value for pragma ${name}`);
  return `${name} = ${v}`;
}

/** Turns off the `query_only` a read-only transaction turned on, once it has ended (by any path). */
export function endQueryOnly(h: SqliteHandle): void {
  h.queryOnlyTx = false;
  try {
    h.db.pragma("query_only = OFF");
  } catch {
    // A handle that cannot run a pragma cannot be trusted with the next session either.
    h.broken = true;
  }
}
