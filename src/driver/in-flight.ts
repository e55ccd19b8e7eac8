/**
 * Statements still running when their session ends. A callback may fire statements without awaiting them and
 * return; the connection must not go back to the pool while they run, or the next session's statements would queue
 * behind them (and land inside a transaction they opened). The rule, the same on every adapter:
 *
 * - release first cancels what is still running (`Adapter.interrupt`: the server's cancel; an adapter without one is
 *   waited for), waits until every statement settled, and only then resets the connection and hands it back;
 * - such a statement rejects with OperationCancelledError; one that completed in a transaction rolls back with the
 *   reset, so it rejects too; one that completed outside a transaction keeps its result;
 * - work that does not settle within {@link DRAIN_MS} of the cancel makes the connection discarded, never reused.
 */
import { DatabaseConnectionError, OperationCancelledError } from "../core/errors.js";
import type { Adapter } from "./adapter.js";
import { forwarding } from "./forwarding.js";

/** How long release waits for cancelled statements to settle before it gives the connection up (discards it). */
const DRAIN_MS = 5000;

/**
 * What runs on one connection. Its two settle handlers are made once per connection, so tracking a statement costs
 * one `then` and no closures.
 */
class Running {
  count = 0;
  /** Set while release waits: statements settling now belong to a session that ended. */
  draining = false;
  wake: (() => void) | undefined = undefined;
  readonly fulfilled: (value: unknown) => unknown;
  readonly rejected: (err: unknown) => never;

  constructor(inTransaction: () => boolean) {
    this.fulfilled = (value) => {
      this.#settled();
      if (this.draining && inTransaction()) throw releasedError();
      return value;
    };
    this.rejected = (err) => {
      this.#settled();
      throw this.draining ? releasedError(err) : err;
    };
  }

  #settled(): void {
    this.count--;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

function releasedError(cause?: unknown): OperationCancelledError {
  return new OperationCancelledError(
    "The session was released while this statement was running: it was cancelled (or rolled back with the " +
      "connection's reset). Await every statement before the session's callback returns.",
    { cause: cause ?? "session released" },
  );
}

/**
 * The adapter sessions use: every statement (query, queryMany, queryStack, copyIn, hand-written COPY) is counted per connection while
 * it runs, and release waits for them as described above. Built once per pool.
 */
export function trackStatements<Conn>(adapter: Adapter<Conn>): Adapter<Conn> {
  const out = forwarding(adapter);
  const running = new WeakMap<object, Running>();

  const entry = (conn: Conn): Running => {
    const key = conn as unknown as object;
    let r = running.get(key);
    if (r === undefined) {
      r = new Running(() => adapter.state(conn).transaction !== "idle");
      running.set(key, r);
    }
    return r;
  };
  const track = <T>(conn: Conn, p: Promise<T>): Promise<T> => {
    const r = entry(conn);
    r.count++;
    return p.then(r.fulfilled as (value: T) => T, r.rejected);
  };

  out.query = (conn, sql, params, opts) => track(conn, adapter.query(conn, sql, params, opts));
  if (adapter.queryMany) {
    const many = adapter.queryMany.bind(adapter);
    out.queryMany = (conn, sql, sets, opts) => track(conn, many(conn, sql, sets, opts));
  }
  if (adapter.queryStack) {
    const stack = adapter.queryStack.bind(adapter);
    out.queryStack = (conn, statements, opts) => track(conn, stack(conn, statements, opts));
  }
  if (adapter.copyIn) {
    const copyIn = adapter.copyIn.bind(adapter);
    out.copyIn = (conn, table, columns, rows, ...rest) => track(conn, copyIn(conn, table, columns, rows, ...rest));
  }
  if (adapter.copyFromStdin) {
    const copyFrom = adapter.copyFromStdin.bind(adapter);
    out.copyFromStdin = (conn, sql, data, opts) => track(conn, copyFrom(conn, sql, data, opts));
  }
  if (adapter.copyToStdout) {
    const copyTo = adapter.copyToStdout.bind(adapter);
    out.copyToStdout = (conn, sql, write, opts) => track(conn, copyTo(conn, sql, write, opts));
  }
  const interrupt = adapter.interrupt?.bind(adapter);

  /** Cancels and waits for what runs; false when it did not settle in time (the connection is discarded). */
  const drain = async (conn: Conn, r: Running): Promise<boolean> => {
    r.draining = true;
    const deadline = Date.now() + DRAIN_MS;
    try {
      while (r.count > 0) {
        const next = new Promise<void>((resolve) => {
          r.wake = resolve;
        });
        // Awaited before waiting on: a cancel is resolved before anything else (the reset) runs on the connection.
        if (interrupt !== undefined && !(await interrupt(conn))) return false;
        if (r.count === 0) break;
        // Without a cancel the work is waited for (an embedded engine's statement finishes in-process).
        const left = deadline - Date.now();
        if (interrupt !== undefined && left <= 0) return false;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timedOut =
          interrupt === undefined
            ? await next.then(() => false)
            : await Promise.race([
                next.then(() => false),
                new Promise<boolean>((resolve) => {
                  timer = setTimeout(() => resolve(true), left);
                }),
              ]);
        if (timer !== undefined) clearTimeout(timer);
        if (timedOut && r.count > 0) return false;
      }
      return true;
    } finally {
      r.draining = false;
      r.wake = undefined;
    }
  };

  out.release = (conn, error) => {
    const r = running.get(conn as unknown as object);
    if (r === undefined || r.count === 0) return adapter.release(conn, error);
    return drain(conn, r).then(
      (clean) =>
        adapter.release(
          conn,
          clean
            ? error
            : new DatabaseConnectionError(
                "Statements of a released session did not settle after being cancelled: connection discarded",
              ),
        ),
      () => adapter.release(conn, new DatabaseConnectionError("connection discarded")),
    );
  };
  return out;
}
