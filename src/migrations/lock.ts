/**
 * One migration runner at a time. Two layers:
 *
 * - in this process, a lock per (pool, tracking table): runners sharing a config wait their turn. On an embedded
 *   engine that is the whole story within a process (PGlite's advisory locks are re-entrant on its one connection;
 *   SQLite and DuckDB have no named lock);
 * - across processes, the adapter's session-scoped named lock where the engine has one (`pg_advisory_lock`,
 *   `GET_LOCK`), which the server drops with a killed runner's connection. SQLite has none: each migration's
 *   transaction starts with `BEGIN IMMEDIATE` (the adapter's BEGIN on a file database), so a runner in another
 *   process waits for the write lock (up to `busyTimeoutMs`) and then finds the version recorded. A DuckDB file is
 *   opened by one process at a time: a second runner fails to open it.
 */
import { MigrationError } from "../core/errors.js";
import { AsyncLock } from "../driver/lock.js";
import type { Session } from "../driver/session.js";

const local = new WeakMap<object, Map<string, AsyncLock>>();

function localLock(pool: object, table: string): AsyncLock {
  let byTable = local.get(pool);
  if (byTable === undefined) {
    byTable = new Map();
    local.set(pool, byTable);
  }
  let lock = byTable.get(table);
  if (lock === undefined) {
    lock = new AsyncLock();
    byTable.set(table, lock);
  }
  return lock;
}

function timedOut(table: string, started: number): MigrationError {
  const waited = Date.now() - started;
  return new MigrationError(
    `Another migration runner holds the lock on "${table}" (waited ${(waited / 1000).toFixed(1)} s). ` +
      "Try again when it has finished, or wait longer with lockTimeoutMs (CLI: --lock-timeout <ms>).",
  );
}

/** Runs fn holding both locks; `onWait` is called once when either is busy. The named lock is polled, so a waiting
 * runner holds no transaction open. */
export async function withMigrationLock<T>(
  session: Session<any>,
  table: string,
  timeoutMs: number,
  onWait: () => void,
  fn: () => Promise<T>,
): Promise<T> {
  const started = Date.now();
  let announced = false;
  const announce = (): void => {
    if (announced) return;
    announced = true;
    onWait();
  };
  const mine = localLock(session.adapter, table);
  if (!mine.tryAcquire()) {
    announce();
    await mine.acquire(timeoutMs, () => timedOut(table, started));
  }
  try {
    const lock = session.adapter.namedLock;
    if (lock === undefined) return await fn();
    const name = `sqlspec-migrations:${table}`;
    let delay = 25;
    while (!isTrue(await session.selectValue(lock.tryAcquire, [name]))) {
      const waited = Date.now() - started;
      if (waited >= timeoutMs) throw timedOut(table, started);
      announce();
      await new Promise((r) => setTimeout(r, Math.min(delay, timeoutMs - waited)));
      delay = Math.min(delay * 2, 500);
    }
    if (lock.watchHolder !== undefined) await session.execute(lock.watchHolder).catch(() => undefined);
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      // The caller releases the session with this error: the connection (and the lock with it) goes if in doubt.
      await session.selectValue(lock.release, [name]).catch(() => undefined);
      throw err;
    }
    await session.selectValue(lock.release, [name]);
    return result;
  } finally {
    mine.release();
  }
}

function isTrue(v: unknown): boolean {
  return v === true || v === 1 || v === 1n || v === "1" || v === "t";
}
