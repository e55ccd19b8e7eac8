/**
 * One better-sqlite3 database handle and the statements prepared on it, and the per-session lease that runs
 * statements on a handle. A file database pools handles; a `:memory:` database has one handle that every lease
 * shares (the same way PGlite's single connection is shared).
 */
import type BetterSqlite3 from "better-sqlite3";
import type { PoolResource } from "../../driver/pool.js";
import type { RowPlan } from "./codecs.js";
import { closedError } from "./errors.js";

/** How long (ms) a schema cookie read stays current for the cached statements of a handle. */
const SCHEMA_RECHECK_MS = 1;

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
  /** A statement that changes no rows (DDL, PRAGMA, transaction control): rowsAffected 0. */
  readonly notDml: boolean;
  /** `PRAGMA query_only = ON`: inside a transaction, it lasts only until the transaction ends. */
  readonly queryOnly: boolean;
  /** Row plan for readers, rebuilt when the schema epoch moved or the schema changed under the statement. */
  plan: RowPlan | undefined;
  epoch: number;
  /** `PRAGMA schema_version` when the plan was built (readers only). */
  schema: number;
  /** Read INTEGERs as bigint (safe integers) — fixed per statement. */
  readonly safe: boolean;
  used: number;
}

/** One open SQLite database connection (a better-sqlite3 `Database`) and what sqlspec keeps with it. */
export class SqliteHandle implements PoolResource {
  /** @internal Set when the handle failed or was closed: it is discarded on release. */
  broken = false;
  /** @internal When the handle was opened (ms since the epoch). */
  readonly createdAt = Date.now();
  /** @internal Prepared statements by SQL text (LRU by last use). */
  readonly statements = new Map<string, CachedStatement>();
  /** @internal A `PRAGMA x = …`, ATTACH or DETACH ran since the handle was set up. */
  settingsChanged = false;
  /** @internal A read-only transaction turned `query_only` on; it is turned off when the transaction ends. */
  queryOnlyTx = false;
  /** @internal `query_only` just before a `PRAGMA query_only = ON` was compiled (compiling it already applies it). */
  queryOnlyBefore: number | undefined;
  /** @internal Pool bookkeeping. */
  tick = 0;
  /** @internal The shared `:memory:` handle's per-connection pragmas after setup, restored on release. */
  pragmasAtOpen: Readonly<Record<string, number>> | undefined;
  #changes: BetterSqlite3.Statement | undefined;
  #schemaVersion: BetterSqlite3.Statement | undefined;

  /** @internal Made by the adapter when it opens the database. */
  constructor(
    /** The better-sqlite3 database; use it for anything sqlspec does not wrap. */
    readonly db: BetterSqlite3.Database,
  ) {}

  /** @internal sqlite3_changes(): rows changed by the last INSERT/UPDATE/DELETE (used for DML with RETURNING). */
  changes(): number {
    this.#changes ??= this.db.prepare("SELECT changes() AS n").pluck(true);
    return this.#changes.get() as number;
  }

  /**
   * @internal The schema cookie: another connection's DDL changes it (a round trip, so read only when needed). With
   * databases attached, their cookies are added (each only grows) and the number of ATTACH/DETACH changes seen,
   * scaled past any sum of cookies, so DDL in an attached database moves it too.
   */
  schemaVersion(): number {
    // The catalog asks before any statement of a bulk call: a closed handle says so as a statement would.
    if (this.broken || !this.db.open) throw closedError();
    this.#schemaVersion ??= this.db.prepare("PRAGMA schema_version").pluck(true);
    let cookie = Number(this.#schemaVersion.get());
    this.#attached ??= this.#listAttached();
    for (const read of this.#attached) cookie += Number(read.get());
    this.#cookie = cookie + (this.#attachEpoch % 4096) * 2 ** 40;
    this.#cookieAt = performance.now();
    return this.#cookie;
  }

  /** @internal An ATTACH or DETACH may have run: the next cookie read lists the attached databases again. */
  attachmentsChanged(): void {
    this.#attached = undefined;
    this.#attachEpoch++;
  }

  /** A cookie read per attached database (not main, not temp: only this connection changes temp). */
  #listAttached(): BetterSqlite3.Statement[] {
    const names = this.db.prepare("PRAGMA database_list").all() as { name: string }[];
    return names
      .filter((d) => d.name !== "main" && d.name !== "temp")
      .map((d) => this.db.prepare(`PRAGMA "${d.name.replaceAll('"', '""')}".schema_version`).pluck(true));
  }

  #attached: BetterSqlite3.Statement[] | undefined;
  #attachEpoch = 0;

  /**
   * @internal The schema cookie, read again only when more than a millisecond passed since the last read:
   * a read costs about half a point query, so a burst of queries shares one, and a change made by a connection outside
   * this process is noticed within that time.
   */
  recentSchemaVersion(): number {
    return performance.now() - this.#cookieAt > SCHEMA_RECHECK_MS ? this.schemaVersion() : this.#cookie;
  }

  #cookie = 0;
  #cookieAt = Number.NEGATIVE_INFINITY;

  /** @internal Closes the database; the pool calls it. */
  destroy(): void {
    this.broken = true;
    this.statements.clear();
    if (this.db.open) this.db.close();
  }
}

/** A session's hold on a handle. */
export class SqliteConnection {
  /** @internal This lease holds the adapter's lock (the shared connection, or a file database's write lock). */
  holdsLock = false;
  /**
   * @internal A statement failed and SQLite rolled the open transaction back by itself; only COMMIT/ROLLBACK are
   * accepted.
   */
  failed = false;
  /** @internal Row iterators open on this lease. */
  openStreams = 0;
  /** @internal `:memory:`: the session's acquire options, which bound every wait for the shared connection. */
  wait: { timeoutMs: number | undefined; signal: AbortSignal | undefined } | undefined;

  /** @internal The lease's last statement that had to wait: later ones run after it settled (issue order). */
  queue: Promise<void> | undefined = undefined;
  /** @internal Set by the statement being issued when it had to wait (read by the adapter's query right after). */
  waiting = false;
  /** @internal The session ended (interrupt): statements that have not started never run. */
  interrupted = false;
  /** @internal Aborts this lease's lock waits when the session ends; made at the first wait. */
  ending: AbortController | undefined = undefined;

  /** @internal Made by the adapter for each session. */
  constructor(
    /** The better-sqlite3 handle; use `handle.db` for anything sqlspec does not wrap. */
    readonly handle: SqliteHandle,
    /**
     * @internal `:memory:`: the lease of the session whose callback opened this one; it shares that lease's
     * transaction.
     */
    readonly parent: SqliteConnection | undefined,
  ) {}

  /** The better-sqlite3 database behind this session (`handle.db`). */
  get db(): BetterSqlite3.Database {
    return this.handle.db;
  }

  /** @internal Makes `p` the queue's tail: the lease's next statements run after it settled. */
  queueBehind(p: Promise<unknown>): void {
    const tail = p.then(
      () => undefined,
      () => undefined,
    );
    this.queue = tail;
    void tail.then(() => {
      if (this.queue === tail) this.queue = undefined;
    });
  }

  /**
   * @internal A stream is open on the handle as this lease sees it: its own, or one of the lease it was opened inside
   * (which shares the handle, so SQLite runs nothing but reads beside it).
   */
  streaming(): boolean {
    for (let c: SqliteConnection | undefined = this; c !== undefined; c = c.parent) if (c.openStreams > 0) return true;
    return false;
  }

  /** @internal This lease, or the lease it was opened inside, holds the lock. */
  owns(): boolean {
    if (this.holdsLock) return true;
    for (let p = this.parent; p !== undefined; p = p.parent) if (p.holdsLock) return true;
    return false;
  }
}
