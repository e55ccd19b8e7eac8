/**
 * What every PGlite statement goes through: the transaction lock (taken per statement, held while a transaction or a
 * changed setting is open), the engine's state read after each statement, and the errors for a statement that cannot
 * start.
 */
import type { PGlite } from "@electric-sql/pglite";
import {
  DatabaseConnectionError,
  OperationCancelledError,
  PoolTimeoutError,
  type SQLSpecError,
  UnsupportedOperationError,
} from "../../core/errors.js";
import type { QueryOptions, RawResult } from "../../driver/adapter.js";
import { AsyncLock } from "../../driver/lock.js";
import { mapPostgresError } from "../postgres-common/errors.js";
import { statementChangesSettings } from "../postgres-common/session-state.js";
import { type EngineState, lockHolder, type PgliteConnection } from "./connection.js";

/**
 * The transaction lock (driver/lock.ts's bounded FIFO mutex, as the SQLite adapter's shared `:memory:` connection
 * uses), so a session blocked behind another's open transaction fails loudly. An aborted signal (the statement's or
 * the session's acquire signal) gives up waiting, and refuses even a free lock: the statement must not start.
 */
class TransactionLock {
  readonly #lock = new AsyncLock();

  async acquire(timeoutMs: number, ...signals: (AbortSignal | undefined)[]): Promise<void> {
    const live = signals.filter((s): s is AbortSignal => s !== undefined);
    for (const s of live) if (s.aborted) throw cancelledBeforeStart(s);
    await this.#lock.acquire(
      timeoutMs,
      () =>
        new PoolTimeoutError(
          `Waited ${timeoutMs} ms for PGlite's single connection: another session holds an open transaction. ` +
            "Commit or roll it back, or run the nested work through the outer session.",
        ),
      live.length > 1 ? AbortSignal.any(live) : live[0],
      () => cancelledBeforeStart(live.find((s) => s.aborted)),
    );
  }

  /** Takes the lock now when it is free (no waiter can be passed: a released lock goes straight to the next one). */
  tryAcquire(): boolean {
    return this.#lock.tryAcquire();
  }

  release(): void {
    this.#lock.release();
  }
}

/** The transaction lock and the engine's state, shared by every lease of the one connection. */
export class PgliteRunner {
  readonly lock = new TransactionLock();
  readonly engine: EngineState = { failed: false, settingsChanged: false };
  readonly #db: PGlite;
  /** How long a statement waits for another session's open transaction, unless its session says otherwise. */
  readonly #acquireTimeoutMs: number;

  constructor(db: PGlite, acquireTimeoutMs: number) {
    this.#db = db;
    this.#acquireTimeoutMs = acquireTimeoutMs;
  }

  /**
   * Takes the transaction lock for a statement of `conn` (waiting for another session's transaction, within the
   * session's acquire options). A signal aborted by then stops the statement before it starts: PGlite runs a started
   * statement to completion on this thread, so that is the last moment a signal can act.
   */
  async take(conn: PgliteConnection, signal: AbortSignal | undefined): Promise<void> {
    const taken = !conn.holdsLock;
    if (taken) {
      const { timeoutMs, signal: acquireSignal } = conn.wait;
      await this.lock.acquire(timeoutMs ?? this.#acquireTimeoutMs, acquireSignal, signal);
      conn.holdsLock = true;
    }
    if (signal?.aborted) {
      // Only a lock taken for this statement goes back; one held for an open transaction or a setting stays.
      if (taken) {
        conn.holdsLock = false;
        this.lock.release();
      }
      throw cancelledBeforeStart(signal);
    }
  }

  /**
   * Runs a statement on a lease and derives the state from the engine afterwards: a transaction left open keeps
   * the lock with this lease (however BEGIN was spelled), a transaction that ended (COMMIT, ROLLBACK, a COMMIT the
   * server turned into a rollback) frees it; an error inside a transaction marks it failed.
   */
  tracked(conn: PgliteConnection, sql: string, pending: Promise<RawResult>): Promise<RawResult> {
    conn.running++;
    return pending.then(
      (result) => {
        this.#settle(conn, sql, result);
        return result;
      },
      (err: unknown) => {
        this.#settle(conn, sql, undefined);
        // PGlite fails in its internals once closed (a TypeError): say what happened instead.
        throw this.#db.closed ? closedError(mapPgliteError(err)) : err;
      },
    );
  }

  /** The engine's state after a statement of `conn` (undefined `result`: it failed). */
  #settle(conn: PgliteConnection, sql: string, result: RawResult | undefined): void {
    conn.running--;
    const open = !this.#db.closed && this.#db.isInTransaction();
    if (result === undefined) {
      if (open) this.engine.failed = true;
    } else {
      this.engine.failed = false;
      if (statementChangesSettings(result.command ?? "", sql)) {
        this.engine.settingsChanged = true;
        const holder = lockHolder(conn);
        if (holder !== undefined) holder.keepsSettings = true;
      }
    }
    if (conn.holdsLock && !open && !conn.keepsSettings && conn.running === 0) {
      conn.holdsLock = false;
      this.lock.release();
    }
  }

  /** What every release ends with: the lease keeps nothing, and a lock it holds goes to the next session. */
  released(conn: PgliteConnection): void {
    conn.keepsSettings = false;
    if (conn.holdsLock) {
      // The engine's failure flag is the holder's: a lease that never held the lock (one that joined another
      // session's transaction, or ran nothing) must not clear a failure of the transaction it leaves behind.
      this.engine.failed = false;
      conn.holdsLock = false;
      this.lock.release();
    }
  }
}

/** A PGlite error as sqlspec's, without the query's parameters PGlite attached to it. */
export function mapPgliteError(err: unknown): SQLSpecError {
  // PGlite attaches the query's parameters to its errors; never carry user data into our error chain.
  if (err && typeof err === "object") {
    delete (err as { params?: unknown }).params;
    delete (err as { queryOptions?: unknown }).queryOptions;
  }
  return mapPostgresError(err);
}

export function cancelledBeforeStart(signal: AbortSignal | undefined): OperationCancelledError {
  return new OperationCancelledError("PGlite statement cancelled before it started", { cause: signal?.reason });
}

/** PGlite runs a statement to completion (no timer fires meanwhile, statement_timeout included): refuse timeoutMs. */
export function refuseTimeout(opts: QueryOptions): void {
  if (opts.timeoutMs === undefined) return;
  throw new UnsupportedOperationError(
    "PGlite cannot interrupt a running statement, so timeoutMs is refused (nothing was run). An AbortSignal " +
      "(signal) stops statements that have not started, including ones waiting for another session's transaction.",
  );
}

/** The PGlite instance was closed (by `close()` or by the user) while a session still held it. */
export function closedError(cause: unknown): DatabaseConnectionError {
  return new DatabaseConnectionError(
    "PGlite connection error: the database was closed while the session was open; start a new session",
    cause === undefined ? undefined : { cause },
  );
}
