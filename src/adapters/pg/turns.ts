/**
 * One statement at a time on a node-postgres client. A session may run statements concurrently (`Promise.all`, a
 * callback that does not await); handing pg a query while its client is busy is deprecated in pg 8 and refused by
 * pg 9, and a query failed inside pg's own queue settles only after the statement ahead of it. So the adapter keeps
 * the queue: a statement takes the connection's turn (at once when it is free: no promise, no allocation), keeps it
 * for all its round trips, and passes it on once the client is ready for the next statement.
 */
import { OperationCancelledError, QueryTimeoutError, type SQLSpecError } from "../../core/errors.js";
import { type CancelKind, StatementCancel } from "../postgres-common/cancel.js";

/** A statement waiting for the connection. */
class Waiter {
  readonly promise: Promise<void>;
  resolve!: () => void;
  reject!: (err: unknown) => void;

  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

/** The queue of one connection. */
export class Turns {
  /** A statement holds the connection (from its first message until the client is ready for the next one). */
  busy = false;
  readonly #waiting: Waiter[] = [];

  /** Takes the turn: undefined when the connection was free, otherwise a promise of the turn (FIFO). */
  take(run?: StatementRun): Promise<void> | undefined {
    if (!this.busy) {
      this.busy = true;
      return undefined;
    }
    const w = new Waiter();
    this.#waiting.push(w);
    if (run !== undefined) run.waiter = w;
    return w.promise;
  }

  /** Hands the turn to the next statement waiting, or frees the connection. */
  pass(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.busy = false;
    else next.resolve();
  }

  /** Takes `w` out of the queue and rejects it; false when it already has the turn (or left before). */
  withdraw(w: Waiter, err: unknown): boolean {
    const i = this.#waiting.indexOf(w);
    if (i < 0) return false;
    this.#waiting.splice(i, 1);
    w.reject(err);
    return true;
  }

  /** Rejects every statement still waiting: none of them is ever sent. */
  failAll(err: () => unknown): void {
    for (const w of this.#waiting.splice(0)) w.reject(err());
  }
}

/**
 * A statement's `timeoutMs`/`signal` on a queued connection. Fired while the statement waits for its turn, it leaves
 * the queue and rejects without being sent. Fired while it has the turn, `cancelRunning` gets what the statement
 * submitted last, to cancel on the server only if that is what the server is running (a cancel goes by backend PID:
 * it must never reach a statement before or after this one); between two of its round trips, `check` refuses to
 * send the next.
 */
export class StatementRun {
  /** The statement settled: nothing left to cancel. */
  settled = false;
  /** Its place in the queue (kept after it got the turn: withdraw() then finds nothing to withdraw). */
  waiter: Waiter | undefined = undefined;
  /** What it handed node-postgres last (a pg Query, a Submittable, a COPY stream). */
  submitted: object | undefined = undefined;
  readonly #cancel: StatementCancel;
  readonly #signal: AbortSignal | undefined;

  constructor(
    turns: Turns,
    opts: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined },
    cancelRunning: (submitted: object) => Promise<boolean> | undefined,
  ) {
    this.#signal = opts.signal;
    this.#cancel = new StatementCancel(opts, () => {
      if (this.settled) return undefined;
      if (this.waiter !== undefined && turns.withdraw(this.waiter, this.#notSent())) return undefined;
      return this.submitted === undefined ? undefined : cancelRunning(this.submitted);
    });
  }

  /** "timeout" or "cancel" once the timeout or the signal fired. */
  get kind(): CancelKind | undefined {
    return this.#cancel.kind;
  }

  /** Throws (typed) when the statement was cancelled before its next round trip is sent. */
  check(): void {
    if (this.#cancel.kind !== undefined || this.#signal?.aborted) throw this.#notSent();
  }

  /** After the statement settled: false when a cancel sent for it was not resolved (discard the connection). */
  finish(): Promise<boolean> {
    this.settled = true;
    return this.#cancel.done();
  }

  #notSent(): SQLSpecError {
    if (this.#cancel.kind === "timeout") {
      return new QueryTimeoutError(
        "PostgreSQL query timeout: timeoutMs passed before the statement was sent (it waited for the connection)",
      );
    }
    return new OperationCancelledError("PostgreSQL query cancelled before it was sent", {
      cause: this.#signal?.reason,
    });
  }
}
