/**
 * Who may run a statement when, decided before it starts (better-sqlite3 cannot be interrupted once it runs): the
 * lock of the shared `:memory:` handle or of a file database's writers, held by a lease until its transaction or
 * stream ends, and the retry on timers of a statement that found the file locked by another connection. Every wait
 * is bounded (timeoutMs, signal, the session's end) and rejects with a typed error.
 */
import type { OperationCancelledError } from "../../core/errors.js";
import type { QueryOptions, RawResult } from "../../driver/adapter.js";
import { AsyncLock } from "../../driver/lock.js";
import type { ReadOptions } from "./codecs.js";
import type { CachedStatement, SqliteConnection } from "./connection.js";
import {
  busyQueryTimeoutError,
  busyTimeoutError,
  closedError,
  endedWhileBusyError,
  isBusy,
  lockWaitCancelledError,
  sharedTimeoutError,
  timeoutError,
  writeBusyError,
} from "./errors.js";
import { endQueryOnly } from "./open.js";
import { runStatement } from "./statements.js";

/** Waits between retries of a statement that found the file locked (SQLite's own busy handler's steps). */
const BUSY_STEPS_MS = [1, 2, 5, 10, 15, 20, 25];

/** The shared handle's lock (`:memory:`), or a file database's write lock, and the leases' turns at it. */
export class SqliteLock {
  readonly #lock = new AsyncLock();
  readonly #shared: boolean;
  readonly #acquireTimeoutMs: number | undefined;
  readonly #busyTimeoutMs: number;

  constructor(shared: boolean, acquireTimeoutMs: number | undefined, busyTimeoutMs: number) {
    this.#shared = shared;
    this.#acquireTimeoutMs = acquireTimeoutMs;
    this.#busyTimeoutMs = busyTimeoutMs;
  }

  /** Takes the lock for the lease now when it is free (no microtask): the uncontended statement's path. */
  tryTake(conn: SqliteConnection): boolean {
    if (!this.#lock.tryAcquire()) return false;
    conn.holdsLock = true;
    return true;
  }

  /** Waits for the lock (shared handle, or the write lock), bounded by the call's timeout/signal and the pool's. */
  async take(conn: SqliteConnection, opts: QueryOptions): Promise<void> {
    const lock = this.#lock;
    if (opts.timeoutMs !== undefined && opts.timeoutMs <= 0) throw timeoutError();
    if (!lock.tryAcquire()) {
      const acquire = conn.wait;
      const own = this.#shared ? (acquire?.timeoutMs ?? this.#acquireTimeoutMs) : this.#busyTimeoutMs;
      const callBound = opts.timeoutMs !== undefined && (own === undefined || opts.timeoutMs < own);
      const wait = callBound ? opts.timeoutMs : own;
      // The session's end (interrupt) abandons the wait: the statement never runs.
      conn.ending ??= new AbortController();
      const signals = [opts.signal, acquire?.signal, conn.ending.signal].filter(
        (x): x is AbortSignal => x !== undefined,
      );
      await lock.acquire(
        wait,
        () =>
          callBound
            ? timeoutError()
            : this.#shared
              ? sharedTimeoutError(wait as number)
              : writeBusyError(wait as number),
        signals.length > 1 ? AbortSignal.any(signals) : signals[0],
        lockWaitCancelledError,
      );
    }
    conn.holdsLock = true;
  }

  /** Frees the lock once nothing holds it any more: no transaction open and no stream reading. */
  afterStatement(conn: SqliteConnection): void {
    const h = conn.handle;
    if (h.queryOnlyTx && !h.db.inTransaction) endQueryOnly(h);
    if (conn.holdsLock && conn.openStreams === 0 && !conn.failed && !conn.db.inTransaction) {
      conn.holdsLock = false;
      this.#lock.release();
    }
  }

  /** Frees the lock the lease holds, whatever is open (its release rolled back or gave up on the handle). */
  drop(conn: SqliteConnection): void {
    if (conn.holdsLock) {
      conn.holdsLock = false;
      this.#lock.release();
    }
  }
}

/**
 * Runs a statement again after SQLITE_BUSY (another connection holds the file's lock; the failed attempt changed
 * nothing), on timers so the holder can finish, until `busyTimeoutMs` or the call's `timeoutMs`/`signal`. The
 * session's end (interrupt) stops it at once: the statement never runs, and the lease is released in a known state.
 */
export async function retryBusy(
  conn: SqliteConnection,
  e: CachedStatement,
  values: unknown[],
  read: ReadOptions,
  busyTimeoutMs: number,
  opts: QueryOptions,
  first: unknown,
): Promise<RawResult> {
  const h = conn.handle;
  conn.ending ??= new AbortController();
  const ending = conn.ending.signal;
  const signal = opts.signal === undefined ? ending : AbortSignal.any([opts.signal, ending]);
  const cancelled = (): OperationCancelledError =>
    ending.aborted ? endedWhileBusyError() : lockWaitCancelledError(opts.signal?.reason);
  const callBound = opts.timeoutMs !== undefined && opts.timeoutMs < busyTimeoutMs;
  const budget = callBound ? (opts.timeoutMs as number) : busyTimeoutMs;
  const deadline = performance.now() + budget;
  let err = first;
  for (let i = 0; ; i++) {
    const left = deadline - performance.now();
    if (left <= 0) throw callBound ? busyQueryTimeoutError(budget, err) : busyTimeoutError(budget, { cause: err });
    await pause(Math.min(BUSY_STEPS_MS[i] ?? 25, left), signal, cancelled);
    if (conn.interrupted) throw endedWhileBusyError();
    if (h.broken || !h.db.open) throw closedError();
    try {
      return runStatement(h, e, values, read);
    } catch (again) {
      if (!isBusy(again)) throw again;
      err = again;
    }
  }
}

/** Resolves after ms, or rejects with `cancelled()` when the signal fires first. */
function pause(ms: number, signal: AbortSignal, cancelled: () => OperationCancelledError): Promise<void> {
  if (signal.aborted) return Promise.reject(cancelled());
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(cancelled());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
