/**
 * The session (and the transaction() call) whose callback is running in the current async flow. Two things need it,
 * and neither may depend on an engine: a `sharedConnection` adapter hands a session opened inside another session's
 * callback that session's connection (so it can join instead of deadlocking), and `transaction()` tells a nested
 * call (inside its own callback) from a concurrent one (another task using the same session).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { TransactionWork } from "./transaction-work.js";

export interface SessionScope {
  /** The session whose callback is running. */
  readonly session: object;
  /** The innermost transaction() call of that session whose callback is running, if any. */
  readonly transaction: TransactionWork | undefined;
  /** The scope this one runs inside (another session's transaction callback, say). */
  readonly outer?: SessionScope | undefined;
}

/** Whether the current async flow runs inside the callback of transaction() call `token` (of any session). */
export function insideTransaction(token: object): boolean {
  for (let s = sessionScope.getStore(); s !== undefined; s = s.outer) if (s.transaction === token) return true;
  return false;
}

/**
 * The innermost transaction() call of `session` whose callback the current async flow runs in (or ran in: it may
 * have ended since), if any.
 */
export function transactionOf(session: object): TransactionWork | undefined {
  for (let s = sessionScope.getStore(); s !== undefined; s = s.outer) {
    if (s.session === session && s.transaction !== undefined) return s.transaction;
  }
  return undefined;
}

export const sessionScope = new AsyncLocalStorage<SessionScope>();
