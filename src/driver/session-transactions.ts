/**
 * A session's transactions: BEGIN (with its isolation level and limits), COMMIT and ROLLBACK, the bodies of a
 * top-level transaction() and of a nested one (a savepoint), and the atomic wrapping of executeMany and bulk calls.
 */
import { TransactionError, UnsupportedOperationError } from "../core/errors.js";
import type { Dialect } from "../core/types.js";
import { beginStatements as dialectBegin } from "../dialects/transaction.js";
import type { QueryOptions } from "./adapter.js";
import { statementTimeoutMs } from "./deadline.js";
import { traced } from "./instrumented-adapter.js";
import { insideTransaction, sessionScope } from "./scope.js";
import type { Session } from "./session.js";
import { CONTROL, control, internals, rolledBackCommit, type SessionState } from "./session-internals.js";
import type { TransactionOptions } from "./session-options.js";
import { closeStreamOpenedSince } from "./session-streams.js";
import { TransactionWork } from "./transaction-work.js";

const ISOLATION = new Set(["read uncommitted", "read committed", "repeatable read", "serializable"]);
const BEGIN = ["BEGIN"];

function beginStatements(dialect: Dialect, options: TransactionOptions | undefined): string[] {
  if (!options) return BEGIN;
  if (options.isolationLevel && !ISOLATION.has(options.isolationLevel)) {
    throw new TransactionError(`Unknown isolation level "${options.isolationLevel}"`);
  }
  if (!options.isolationLevel && !options.readOnly) return BEGIN;
  return dialectBegin(dialect, options.isolationLevel, options.readOnly);
}

function beginOptions(options: TransactionOptions | undefined): QueryOptions {
  if (options?.signal === undefined && options?.timeoutMs === undefined) return CONTROL;
  const timeoutMs = statementTimeoutMs(options.timeoutMs);
  if (options.signal === undefined && timeoutMs === undefined) return CONTROL;
  const opts: QueryOptions = { prepare: false };
  if (options.signal !== undefined) opts.signal = options.signal;
  if (timeoutMs !== undefined) opts.timeoutMs = timeoutMs;
  return opts;
}

function transactionStatus(session: Session<any>): "idle" | "active" | "failed" {
  return session.adapter.state(session.conn).transaction;
}

export async function beginTransaction(session: Session<any>, options: TransactionOptions | undefined): Promise<void> {
  const state = internals.state(session);
  // Set before the first await: a begin() from another task while this one's BEGIN is in flight sees it.
  if (session.inTransaction || state.opening) {
    throw new TransactionError("A transaction is already open on this session; use transaction() to nest");
  }
  state.opening = true;
  try {
    const opts = beginOptions(options);
    for (const stmt of beginStatements(session.dialect, options)) await control(session, stmt, opts);
  } finally {
    state.opening = false;
  }
}

export async function commitTransaction(session: Session<any>): Promise<void> {
  const before = transactionStatus(session);
  if (before === "idle") throw new TransactionError("commit() without an open transaction");
  const raw = await control(session, "COMMIT");
  if (before === "failed" || raw.command === "ROLLBACK") throw rolledBackCommit();
}

export async function rollbackTransaction(session: Session<any>): Promise<void> {
  if (transactionStatus(session) === "idle") throw new TransactionError("rollback() without an open transaction");
  await control(session, "ROLLBACK");
}

/**
 * Refuses a call from another task while a transaction() callback of this session runs: it would join that
 * transaction and vanish with its rollback (or end it under its owner). `running` is the session's transaction()
 * calls whose callbacks run, innermost last; cheap when there are none.
 */
export function refuseOtherTask(running: readonly object[], what: string): void {
  const innermost = running[running.length - 1];
  if (innermost !== undefined && !insideTransaction(innermost)) {
    throw new TransactionError(
      `${what} called while a transaction() on this session is still running in a different task; ` +
        "concurrent tasks need a session each (nested calls belong inside the running callback)",
    );
  }
}

/** session.transaction: the refusals, then the top-level or nested body (traced when observability is on). */
export async function runTransaction<S extends Session<any>, T>(
  session: S,
  fn: (tx: S) => Promise<T>,
  options: TransactionOptions | undefined,
): Promise<T> {
  internals.sameTask(session, "transaction()");
  if (internals.stateIfAny(session)?.reading?.ownTransaction === true && session.inTransaction) {
    // The stream's cursor runs in a transaction it began itself (pg, PGlite): a transaction() inside it would be a
    // savepoint that the stream's end rolls back with everything in it.
    throw new UnsupportedOperationError(
      "transaction() while a stream() of this session is open: finish the stream (or break out of its loop) first, " +
        "or run the transaction through another session",
    );
  }
  const running = internals.openTransactions(session);
  const token = new TransactionWork();
  running.push(token);
  try {
    const nested = session.inTransaction;
    const body = (): Promise<T> =>
      nested ? nestedTransaction(session, fn, token) : topLevelTransaction(session, fn, options, token);
    if (internals.owner(session).observer === undefined) return await body();
    return await traced(session.adapter, "transaction", { "sqlspec.transaction.savepoint": nested }, body);
  } finally {
    running.splice(running.indexOf(token), 1);
  }
}

/** transaction() outside a transaction: BEGIN, fn, then COMMIT or ROLLBACK. */
async function topLevelTransaction<S extends Session<any>, T>(
  session: S,
  fn: (tx: S) => Promise<T>,
  options: TransactionOptions | undefined,
  token: TransactionWork,
): Promise<T> {
  await beginTransaction(session, options);
  const state = internals.state(session);
  state.undoFailed = undefined;
  const rollback = async (): Promise<void> => {
    if (!session.released && session.inTransaction) await rollbackTransaction(session).catch(() => undefined);
  };
  const value = await runScoped(session, fn, token, state, rollback);
  const undoFailed = state.undoFailed;
  if (undoFailed !== undefined) {
    state.undoFailed = undefined;
    await rollback();
    throw new TransactionError(
      "The transaction was rolled back: a nested transaction's work could not be undone on its own",
      { cause: undoFailed },
    );
  }
  // fn may have ended the transaction itself (commit()/rollback()).
  if (session.inTransaction) await commitTransaction(session);
  return value;
}

/** transaction() inside a transaction: fn under a SAVEPOINT, released when it resolves, rolled back to when not. */
async function nestedTransaction<S extends Session<any>, T>(
  session: S,
  fn: (tx: S) => Promise<T>,
  token: TransactionWork,
): Promise<T> {
  if (!session.adapter.capabilities.savepoints) {
    throw new TransactionError(`Nested transactions need savepoints, which ${session.adapter.databaseLabel} lacks`);
  }
  const state = internals.state(session);
  const name = `sqlspec_sp_${++state.seq}`;
  await control(session, `SAVEPOINT ${name}`);
  // A cursor opened inside the savepoint cannot outlive it either (ROLLBACK TO drops it on PostgreSQL; SQLite, MySQL
  // and postgres.js refuse ROLLBACK TO beside it).
  const value = await runScoped(session, fn, token, state, () => undoSavepoint(session, name));
  if (transactionStatus(session) === "failed") {
    // fn caught a statement error: the inner work is undone, and so is the abort, so the outer transaction goes on.
    await control(session, `ROLLBACK TO SAVEPOINT ${name}`);
    await control(session, `RELEASE SAVEPOINT ${name}`);
    throw new TransactionError(
      "The nested transaction was rolled back: the transaction was aborted by an earlier error (caught inside it)",
    );
  }
  await control(session, `RELEASE SAVEPOINT ${name}`);
  return value;
}

/**
 * Runs a transaction's callback in its async scope. Whether it resolves or throws, what it fired without awaiting is
 * settled first (it runs, or is refused, before the transaction ends, and its failure is the callback's) and a stream
 * it opened and left open is closed (a cursor cannot outlive its transaction, and SQLite, MySQL and postgres.js run no
 * COMMIT beside one); `undo` then runs before a failure is raised.
 */
async function runScoped<S extends Session<any>, T>(
  session: S,
  fn: (tx: S) => Promise<T>,
  token: TransactionWork,
  state: SessionState,
  undo: () => Promise<void>,
): Promise<T> {
  const streamBefore = state.reading;
  let value: T;
  try {
    value = await sessionScope.run({ session, transaction: token, outer: sessionScope.getStore() }, () => fn(session));
  } catch (err) {
    await token.settle(true);
    await closeStreamOpenedSince(state, streamBefore);
    await undo();
    throw err;
  }
  const waited = await token.settle(false);
  await closeStreamOpenedSince(state, streamBefore);
  if (waited.failed) {
    await undo();
    throw waited.error;
  }
  return value;
}

async function undoSavepoint(session: Session<any>, name: string): Promise<void> {
  if (session.released) return;
  try {
    await control(session, `ROLLBACK TO SAVEPOINT ${name}`);
  } catch (err) {
    // The nested work could not be undone: the whole transaction must not commit it. Rolled back now; the outer
    // transaction() then finds no transaction to commit and rejects.
    internals.state(session).undoFailed = err;
    if (session.inTransaction) await rollbackTransaction(session).catch(() => undefined);
    return;
  }
  await control(session, `RELEASE SAVEPOINT ${name}`).catch(() => undefined);
}

/**
 * Runs fn atomically: in its own transaction, or inside the caller's one as bulk calls do (under a savepoint; without
 * savepoints in the caller's transaction itself, which a failure aborts).
 */
export function atomically<T>(session: Session<any>, fn: () => Promise<T>): Promise<T> {
  if (session.inTransaction) return inCallersTransaction(session, fn);
  // An atomic pipeline is one implicit transaction already: no BEGIN/COMMIT round trips outside a transaction.
  const atomic = session.adapter.capabilities.pipeline === "atomic" && session.adapter.queryMany !== undefined;
  return atomic ? fn() : session.transaction(fn);
}

/**
 * upsert/loadRecords inside an open transaction run under a savepoint, as executeMany does: a failure undoes only
 * their rows and the caller's transaction goes on. Called from another task while transaction() runs, they raise
 * TransactionError (transaction()'s guard) instead of joining that transaction and vanishing with its rollback.
 */
export function inCallersTransaction<T>(session: Session<any>, work: () => Promise<T>): Promise<T> {
  // Counted while it runs: a repeated upsert that could run at once (runAtomicSync) keeps to the issue order.
  const state = internals.state(session);
  state.bulkCalls++;
  let p: Promise<T>;
  try {
    p = inCallersTransactionRun(session, work);
  } catch (err) {
    // Thrown before any promise (an options getter, say): rejected as the async call would, and not counted.
    state.bulkCalls--;
    return Promise.reject(err);
  }
  // A promise of its own for the caller, so a failure nobody awaits is still reported as an unhandled rejection.
  return p.finally(() => {
    state.bulkCalls--;
  });
}

function inCallersTransactionRun<T>(session: Session<any>, work: () => Promise<T>): Promise<T> {
  if (internals.transactions(session).length === 0 && !session.inTransaction) return work();
  if (session.adapter.capabilities.savepoints) return session.transaction(work);
  // No savepoints (DuckDB): the guard alone; the work runs in the caller's transaction.
  try {
    internals.sameTask(session, "A bulk call");
  } catch (err) {
    return Promise.reject(err);
  }
  return work();
}
