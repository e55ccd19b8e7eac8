/**
 * The session (and the transaction() call) whose callback is running in the current async flow. Two things need it,
 * and neither may depend on an engine: a `sharedConnection` adapter hands a session opened inside another session's
 * callback that session's connection (so it can join instead of deadlocking), and `transaction()` tells a nested
 * call (inside its own callback) from a concurrent one (another task using the same session).
 */
import { AsyncLocalStorage } from "node:async_hooks";

export interface SessionScope {
  /** The session whose callback is running. */
  readonly session: object;
  /** The innermost transaction() call of that session whose callback is running, if any. */
  readonly transaction: object | undefined;
}

export const sessionScope = new AsyncLocalStorage<SessionScope>();
