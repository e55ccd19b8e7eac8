/**
 * The calls a transaction() callback issued on its session. A callback may fire a statement without awaiting it and
 * then return or throw; transaction() must not decide COMMIT or ROLLBACK under it, nor let it run afterwards in
 * autocommit. The rule, the same on every adapter:
 *
 * - a call issued from the callback's async flow is counted until it settles; when the callback settles,
 *   transaction() waits for every counted call (and for calls those chain on, issued while it waits) before its
 *   COMMIT, RELEASE or ROLLBACK;
 * - callback resolved: a waited-for call that fails rolls the transaction back, and transaction() rejects with its
 *   error (as if the callback had awaited it);
 * - callback threw: a call that completes now rejects with TransactionError (its work is rolled back), and a new one
 *   is refused unsent;
 * - once the transaction has ended, a call from its callback's flow (a timer, a late `.then`) is refused with
 *   TransactionError before anything is sent: it would run outside the transaction.
 */
import { TransactionError } from "../core/errors.js";

/** The Session methods that run statements and return a promise (stream() and Arrow batches are checked apart). */
export const TRANSACTION_WORK = [
  "execute",
  "executeMany",
  "executeStack",
  "executeScript",
  "explain",
  "select",
  "selectOne",
  "selectOneOrNull",
  "selectValue",
  "selectValueOrNull",
  "selectWithTotal",
  "loadArrow",
  "begin",
  "commit",
  "rollback",
  "transaction",
  "savepoint",
  "releaseSavepoint",
  "rollbackToSavepoint",
  "upsert",
  "loadRecords",
] as const;

/** One transaction() call (or its savepoint): the calls its callback issued. */
export class TransactionWork {
  /** "open" while the callback runs or its calls are waited for, "rollback" once it threw, "ended" afterwards. */
  #state: "open" | "rollback" | "ended" = "open";
  #pending = 0;
  /** Set once the callback settled: failures from then on are the transaction's. */
  #waiting = false;
  #failed = false;
  #failure: unknown;
  #wake: (() => void) | undefined;
  readonly #fulfilled = (value: unknown): unknown => {
    this.#settled();
    if (this.#state === "rollback") throw rolledBack();
    return value;
  };
  readonly #rejected = (err: unknown): never => {
    this.#settled();
    if (this.#waiting && !this.#failed && this.#state === "open") {
      this.#failed = true;
      this.#failure = err;
    }
    throw err;
  };

  /** Runs a call issued from the callback's flow: counted until it settles, or refused (see the module comment). */
  run<T>(call: () => Promise<T>): Promise<T> {
    if (this.#state !== "open") return Promise.reject(this.#refusal());
    this.#pending++;
    let p: Promise<T>;
    try {
      p = call();
    } catch (err) {
      p = Promise.reject(err);
    }
    return p.then(this.#fulfilled as (value: T) => T, this.#rejected);
  }

  /** Throws what run() would refuse with: for calls that hand out an iterator (stream(), Arrow batches). */
  check(): void {
    if (this.#state !== "open") throw this.#refusal();
  }

  #refusal(): TransactionError {
    if (this.#state === "rollback") return rolledBack("not run");
    return new TransactionError(
      "Issued from a transaction() callback after that transaction had ended: not run (it would run outside the " +
        "transaction). Await every statement inside the callback.",
    );
  }

  /**
   * The callback settled (`threw`: it rejected): waits until no call it issued runs. Resolves to the first failure of
   * a call waited for after a resolved callback (`failed` false when there was none).
   */
  async settle(threw: boolean): Promise<{ failed: boolean; error: unknown }> {
    if (threw) this.#state = "rollback";
    this.#waiting = true;
    while (this.#pending > 0) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      // A call chained on the one that just settled (`.then(() => tx.execute(…))`) is issued in a later microtask:
      // one turn of the event loop lets it be counted before the transaction ends.
      if (this.#pending === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.#state = "ended";
    return { failed: this.#failed, error: this.#failure };
  }

  #settled(): void {
    this.#pending--;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

function rolledBack(what = "its work was undone"): TransactionError {
  return new TransactionError(
    `The transaction was rolled back (its transaction() callback threw) while this statement was pending: ${what}. ` +
      "Await every statement inside the callback.",
  );
}
