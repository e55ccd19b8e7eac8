/**
 * The statement cache and the statement run: a statement is prepared once per handle (an LRU of
 * `statementCacheSize`) with what sqlspec needs to know about it decided then (reads rows? writes? DDL? ends a
 * transaction?) and its row plan (declared types → conversions), so a repeated statement allocates nothing but its
 * rows. This is the hot path: keep it free of allocations and awaits.
 */
import type BetterSqlite3 from "better-sqlite3";
import type { JsonSerializer } from "../../core/json.js";
import type { Row } from "../../core/types.js";
import type { AtomicFailure, RawResult } from "../../driver/adapter.js";
import { evictLeastRecentlyUsed } from "../../driver/lru.js";
import {
  applyInt8,
  decodeRows,
  encodeParams,
  hasUnsafeNumber,
  type ReadOptions,
  type RowPlan,
  rowHasKeys,
  rowPlan,
} from "./codecs.js";
import type { CachedStatement, SqliteHandle } from "./connection.js";
import { isBusy, isFatalSqliteError } from "./errors.js";

export const EMPTY_ROWS: Row[] = [];
export const NO_COLUMNS: string[] = [];
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const PLAIN_BEGIN = /^\s*BEGIN(?:\s+TRANSACTION)?\s*;?\s*$/i;
const ENDS = /^\s*(?:COMMIT|END|ROLLBACK(?!\s+(?:TRANSACTION\s+)?TO\b))/i;
const INSERT = /^\s*(?:INSERT|REPLACE)\b/i;
const DDL = /^\s*(?:CREATE|ALTER|DROP)\b/i;
/** Statements that change no rows: sqlite3_changes() still holds the last INSERT/UPDATE/DELETE's count after them. */
const NOT_DML =
  /^\s*(?:CREATE|ALTER|DROP|PRAGMA|BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE|ATTACH|DETACH|VACUUM|ANALYZE|REINDEX)\b/i;
const SETTINGS = /^\s*(?:PRAGMA\s+[\w.]+\s*(?:=|\()|ATTACH\b|DETACH\b)/i;
const QUERY_ONLY_ON = /^\s*PRAGMA\s+query_only\s*=\s*(?:ON|1|TRUE|YES)\s*;?\s*$/i;

/**
 * Bumped by DDL run through any SQLite adapter of this process (another config on the same file included): cached row
 * plans of every handle are rebuilt on next use.
 */
const schemaEpoch = { value: 0 };

/**
 * Prepares `sql` on a handle and caches it (when `cacheSize` > 0). `shared`: the `:memory:` handle, where a plain
 * BEGIN stays deferred (there is no other writer to deadlock with).
 */
export function prepareStatement(
  h: SqliteHandle,
  sql: string,
  shared: boolean,
  read: ReadOptions,
  cacheSize: number,
): CachedStatement {
  let text = sql;
  // Two writers that both BEGIN DEFERRED deadlock on the upgrade to a write lock: a plain BEGIN takes it up front.
  if (!shared && PLAIN_BEGIN.test(sql)) text = "BEGIN IMMEDIATE";
  const queryOnly = QUERY_ONLY_ON.test(sql);
  // SQLite applies a flag pragma while compiling it: read the value it replaces first.
  if (queryOnly) h.queryOnlyBefore = h.db.pragma("query_only", { simple: true }) as number;
  const stmt = h.db.prepare(text);
  const reader = stmt.reader;
  // Making the connection read-only writes nothing: it takes no write lock.
  const readonly = stmt.readonly || queryOnly;
  // INTEGERs are read as bigint where a rounded number could not be told from an exact one afterwards: in the
  // non-number modes, for writes (lastInsertRowid, RETURNING), which cannot be re-run.
  const safe = read.int8 !== "number" || !readonly;
  if (safe) stmt.safeIntegers(true);
  const entry: CachedStatement = {
    stmt,
    reader,
    readonly,
    insert: INSERT.test(sql),
    ddl: !reader && DDL.test(sql),
    notDml: NOT_DML.test(sql),
    ends: ENDS.test(sql),
    settings: SETTINGS.test(sql),
    queryOnly,
    plan: reader ? rowPlan(stmt.columns(), read) : undefined,
    epoch: schemaEpoch.value,
    schema: reader ? h.schemaVersion() : 0,
    safe,
    used: ++h.tick,
  };
  if (cacheSize > 0) {
    if (h.statements.size >= cacheSize) evictLeastRecentlyUsed(h.statements);
    h.statements.set(sql, entry);
  }
  return entry;
}

/**
 * Values are passed to better-sqlite3 as separate arguments, never as one array: it reads an array's elements through
 * V8's generic element lookup (~200 instructions each), an argument directly, which makes a 1,000-value statement's
 * binding several times cheaper (a 10k-row upsert ~30% faster). Safe because every value here is already encoded
 * (string, number, bigint, null or a Buffer): an array or plain object argument would be read as a parameter list or
 * as named parameters. Only up to 2,048 values (a bulk statement's 64 rows of up to 32 columns): arguments live on
 * the machine stack, and 32,766 of them (262 KB) fail from a deep but legal call stack where the array form works.
 */
export const SPREAD_MAX = 2048;

/** How a handle's statements are prepared and read (the adapter's settings). */
export interface StatementSettings {
  shared: boolean;
  read: ReadOptions;
  cacheSize: number;
  serializer: JsonSerializer;
}

/** The handle's cached statement for `sql` (prepared and cached on first use), marked as used now. */
export function statementFor(h: SqliteHandle, sql: string, s: StatementSettings): CachedStatement {
  const e = h.statements.get(sql);
  if (e === undefined) return prepareStatement(h, sql, s.shared, s.read, s.cacheSize);
  e.used = ++h.tick;
  return e;
}

const NO_VALUES: readonly unknown[] = [];

/**
 * Runs `statements` as one transaction: BEGIN (IMMEDIATE on a file database), each statement, COMMIT. Returns their
 * total rowsAffected; undefined when a lock held by another connection was in the way (at BEGIN, or a COMMIT waiting
 * for readers under a rollback journal) or `current`, asked right after BEGIN, said no, having written nothing;
 * otherwise the statement that failed, rolled back (an error that leaves the handle unusable, or a rollback that
 * fails, marks it broken).
 */
export function runAtomically(
  h: SqliteHandle,
  statements: Iterable<{ sql: string; values: unknown[] }>,
  s: StatementSettings,
  current?: () => boolean,
): number | AtomicFailure | undefined {
  let sql = "BEGIN";
  let values: readonly unknown[] = NO_VALUES;
  try {
    statementFor(h, sql, s).stmt.run();
  } catch (error) {
    if (isFatalSqliteError(error)) h.broken = true;
    return isBusy(error) && !h.broken ? undefined : { failed: true, error, sql, values };
  }
  let total = 0;
  try {
    // BEGIN IMMEDIATE holds the write lock (a :memory: database has no other connection): the schema seen now stays
    // as it is until COMMIT.
    if (current !== undefined && !current()) {
      rollBack(h, s);
      return undefined;
    }
    for (const statement of statements) {
      sql = statement.sql;
      values = statement.values;
      const bound = values.length === 0 ? statement.values : encodeParams(statement.values, s.serializer);
      const e = statementFor(h, sql, s);
      // A plain write needs its count only: no result object, no rowid per statement.
      total +=
        e.reader || e.notDml || e.ddl ? runStatement(h, e, bound, s.read).rowsAffected : runBound(e, bound).changes;
    }
    sql = "COMMIT";
    values = NO_VALUES;
    statementFor(h, sql, s).stmt.run();
  } catch (error) {
    if (isFatalSqliteError(error)) h.broken = true;
    rollBack(h, s);
    // A lock to wait for: rolled back, nothing written; the caller's general path waits for it on timers, which
    // this thread cannot do here.
    return isBusy(error) && !h.broken ? undefined : { failed: true, error, sql, values };
  }
  return total;
}

/** Ends runAtomically's transaction without its work; a handle that cannot is not used again. */
function rollBack(h: SqliteHandle, s: StatementSettings): void {
  if (!h.db.open || !h.db.inTransaction) return;
  try {
    statementFor(h, "ROLLBACK", s).stmt.run();
  } catch {
    h.broken = true;
  }
}

/** Runs a prepared statement once (synchronously): its rows when it returns rows, else what it changed. */
export function runStatement(h: SqliteHandle, e: CachedStatement, values: unknown[], read: ReadOptions): RawResult {
  return e.reader ? readRows(h, e, values, read) : runWrite(e, values, read);
}

/** Runs a write with its values bound (see SPREAD_MAX). */
function runBound(e: CachedStatement, values: unknown[]): BetterSqlite3.RunResult {
  return values.length <= SPREAD_MAX ? e.stmt.run(...values) : e.stmt.run(values);
}

function runWrite(e: CachedStatement, values: unknown[], read: ReadOptions): RawResult {
  const info = runBound(e, values);
  if (e.ddl) schemaEpoch.value++;
  const out: RawResult = { rows: EMPTY_ROWS, columns: NO_COLUMNS, rowsAffected: e.notDml ? 0 : info.changes };
  if (e.insert && info.changes > 0) out.lastInsertId = rowid(info.lastInsertRowid, read);
  return out;
}

function readRows(h: SqliteHandle, e: CachedStatement, values: unknown[], o: ReadOptions): RawResult {
  let rows = (values.length <= SPREAD_MAX ? e.stmt.all(...values) : e.stmt.all(values)) as Row[];
  // After DDL the statement was re-prepared by SQLite while running: its columns are known only now. DDL through
  // any adapter of this process moves the epoch; another connection's shows in the rows' shape (new names), or in
  // the schema cookie (same names, other declared types; read at most once a millisecond, every time for an empty
  // result, which has no shape to show).
  let plan = e.plan as RowPlan;
  if (
    e.epoch !== schemaEpoch.value ||
    (rows.length > 0
      ? !rowHasKeys(rows[0] as Row, plan.keys) || h.recentSchemaVersion() !== e.schema
      : h.schemaVersion() !== e.schema)
  ) {
    plan = replan(h, e, o);
  }
  if (e.safe) {
    if (o.int8 !== "bigint") applyInt8(rows, plan.ints, o.int8);
  } else if (hasUnsafeNumber(rows, plan.ints)) {
    // A value beyond ±2^53 in an integer-capable column: an INTEGER (DataError) or a REAL that large? Read the
    // rows again with safe integers to tell (this statement is read-only, so running it again changes nothing).
    e.stmt.safeIntegers(true);
    try {
      rows = (values.length <= SPREAD_MAX ? e.stmt.all(...values) : e.stmt.all(values)) as Row[];
    } finally {
      e.stmt.safeIntegers(false);
    }
    applyInt8(rows, plan.ints, o.int8);
  }
  decodeRows(rows, plan, o);
  // DML with RETURNING reports the rows it changed, as on every adapter.
  if (!e.readonly) return { rows, columns: plan.names, rowsAffected: e.notDml ? 0 : h.changes() };
  return { rows, columns: plan.names, rowsAffected: 0, command: "SELECT" };
}

function replan(h: SqliteHandle, e: CachedStatement, o: ReadOptions): RowPlan {
  e.plan = rowPlan(e.stmt.columns(), o);
  e.epoch = schemaEpoch.value;
  e.schema = h.schemaVersion();
  return e.plan;
}

/** lastInsertRowid in the int8 mode; in "number" mode a rowid beyond 2^53 stays a bigint rather than rounding. */
function rowid(id: number | bigint, read: ReadOptions): number | bigint | string {
  const mode = read.int8;
  if (mode === "string") return String(id);
  if (mode === "bigint") return BigInt(id);
  if (typeof id === "bigint") return id <= MAX_SAFE && id >= -MAX_SAFE ? Number(id) : id;
  return id;
}
