/**
 * One better-sqlite3 database handle and the statements prepared on it, and the per-session lease that runs
 * statements on a handle. A file database pools handles; a `:memory:` database has one handle that every lease
 * shares (the same way PGlite's single connection is shared).
 */
import type BetterSqlite3 from "better-sqlite3";
import type { PoolResource } from "../../driver/pool.js";
import type { RowPlan } from "./codecs.js";

/** A prepared statement and what sqlspec decided about it once. */
export interface CachedStatement {
  readonly stmt: BetterSqlite3.Statement;
  /** Returns rows (SELECT, PRAGMA with a result, DML with RETURNING). */
  readonly reader: boolean;
  /** Writes nothing (sqlite3_stmt_readonly; BEGIN, COMMIT, SAVEPOINT count as read-only). */
  readonly readonly: boolean;
  /** INSERT or REPLACE: reports lastInsertRowid. */
  readonly insert: boolean;
  /** CREATE/ALTER/DROP: invalidates the row plans of every cached statement. */
  readonly ddl: boolean;
  /** COMMIT/END/ROLLBACK (not ROLLBACK TO): the only statements a failed transaction accepts. */
  readonly ends: boolean;
  /** Changes connection settings that outlive the session (PRAGMA x = …, ATTACH, DETACH). */
  readonly settings: boolean;
  /** `PRAGMA query_only = ON`: inside a transaction, it lasts only until the transaction ends. */
  readonly queryOnly: boolean;
  /** Row plan for readers, rebuilt when the schema epoch moved. */
  plan: RowPlan | undefined;
  epoch: number;
  /** Read INTEGERs as bigint (safe integers) — fixed per statement. */
  readonly safe: boolean;
  used: number;
}

export class SqliteHandle implements PoolResource {
  broken = false;
  readonly createdAt = Date.now();
  /** Prepared statements by SQL text (LRU by last use). */
  readonly statements = new Map<string, CachedStatement>();
  /** A `PRAGMA x = …`, ATTACH or DETACH ran since the handle was set up. */
  settingsChanged = false;
  /** A read-only transaction turned `query_only` on; it is turned off when the transaction ends. */
  queryOnlyTx = false;
  /** `query_only` just before a `PRAGMA query_only = ON` was compiled (compiling it already applies it). */
  queryOnlyBefore: number | undefined;
  tick = 0;
  #changes: BetterSqlite3.Statement | undefined;

  constructor(readonly db: BetterSqlite3.Database) {}

  /** sqlite3_changes(): rows changed by the last INSERT/UPDATE/DELETE (used for DML with RETURNING). */
  changes(): number {
    this.#changes ??= this.db.prepare("SELECT changes() AS n").pluck(true);
    return this.#changes.get() as number;
  }

  destroy(): void {
    this.broken = true;
    this.statements.clear();
    if (this.db.open) this.db.close();
  }
}

/** A session's hold on a handle. */
export class SqliteConnection {
  /** This lease holds the adapter's lock (the shared connection, or a file database's write lock). */
  holdsLock = false;
  /** A statement failed and SQLite rolled the open transaction back by itself; only COMMIT/ROLLBACK are accepted. */
  failed = false;
  /** Row iterators open on this lease. */
  openStreams = 0;

  constructor(
    /** The better-sqlite3 handle; use `handle.db` for anything sqlspec does not wrap. */
    readonly handle: SqliteHandle,
    /** `:memory:`: the lease of the session whose callback opened this one; it shares that lease's transaction. */
    readonly parent: SqliteConnection | undefined,
  ) {}

  get db(): BetterSqlite3.Database {
    return this.handle.db;
  }

  /** This lease, or the lease it was opened inside, holds the lock. */
  owns(): boolean {
    if (this.holdsLock) return true;
    for (let p = this.parent; p !== undefined; p = p.parent) if (p.holdsLock) return true;
    return false;
  }
}
