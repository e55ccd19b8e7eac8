/**
 * One call's `signal` and `timeoutMs` (session.upsert, session.loadRecords), spread over the statements it runs:
 * each statement gets the signal and what is left of the time, so the call as a whole ends within `timeoutMs` with
 * QueryTimeoutError, or with OperationCancelledError when the signal aborts.
 */
import { OperationCancelledError, ParameterError, QueryTimeoutError } from "../core/errors.js";
import type { QueryOptions } from "./adapter.js";

/** Node's timers take at most 2^31-1 ms; a longer delay fires after 1 ms. Anything this long is "no limit". */
export const NO_LIMIT_MS = 2 ** 31 - 1;

/**
 * Checks a user's `timeoutMs` before any I/O: undefined stays undefined, NaN / negative / not a number raise
 * ParameterError, and Infinity or anything ≥ 2^31-1 ms becomes NO_LIMIT_MS (a timer Node can arm).
 */
export function checkTimeoutMs(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    throw new ParameterError(
      `timeoutMs must be a number of milliseconds ≥ 0 (Infinity for no limit), got ${typeof value === "number" ? String(value) : typeof value}`,
    );
  }
  return value >= NO_LIMIT_MS ? NO_LIMIT_MS : value;
}

/** A statement's `timeoutMs`, checked: undefined when there is no limit (no timer armed, no cancel path). */
export function statementTimeoutMs(value: unknown): number | undefined {
  const ms = checkTimeoutMs(value);
  return ms === NO_LIMIT_MS ? undefined : ms;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
}

export class CallDeadline {
  readonly #signal: AbortSignal | undefined;
  readonly #end: number | undefined;
  readonly #timeoutMs: number | undefined;

  constructor(options: CallOptions | undefined) {
    this.#signal = options?.signal;
    this.#timeoutMs = statementTimeoutMs(options?.timeoutMs);
    this.#end = this.#timeoutMs !== undefined ? performance.now() + this.#timeoutMs : undefined;
    this.check();
  }

  /** Raises when the signal aborted or the time is up; call between steps that run no statement. */
  check(): void {
    if (this.#signal?.aborted) {
      throw new OperationCancelledError("The operation was cancelled (AbortSignal aborted)", {
        cause: this.#signal.reason,
      });
    }
    if (this.#end !== undefined && performance.now() >= this.#end) {
      throw new QueryTimeoutError(`The operation did not finish within timeoutMs=${this.#timeoutMs} ms`);
    }
  }

  /** Options for the next statement (undefined when the call has neither signal nor timeout). */
  next(): QueryOptions | undefined {
    if (this.#signal === undefined && this.#end === undefined) return undefined;
    this.check();
    const o: QueryOptions = {};
    if (this.#signal !== undefined) o.signal = this.#signal;
    if (this.#end !== undefined) o.timeoutMs = Math.max(1, Math.ceil(this.#end - performance.now()));
    return o;
  }
}
