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

  /** `started`: when the call began (performance.now()), from which timeoutMs counts. */
  constructor(options: CallOptions | undefined, started = performance.now()) {
    this.#signal = options?.signal;
    this.#timeoutMs = statementTimeoutMs(options?.timeoutMs);
    this.#end = this.#timeoutMs !== undefined ? started + this.#timeoutMs : undefined;
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

/**
 * A user's async row source bounded by the call's signal and timeoutMs. Without it a source that stalls (a network
 * feed that stops sending) keeps the bulk call, its COPY and its connection waiting forever: each `next()` races the
 * deadline, and on expiry the call fails with the typed error while the source is told to stop (`return()`, not
 * awaited: a generator suspended in an await cannot finish it until that await settles).
 */
export function boundedSource<T>(rows: AsyncIterable<T>, options: CallOptions | undefined): AsyncIterable<T> {
  const signal = options?.signal;
  const timeoutMs = statementTimeoutMs(options?.timeoutMs);
  if ((signal === undefined && timeoutMs === undefined) || !(Symbol.asyncIterator in rows)) return rows;
  const deadline = new CallDeadline(options);
  const end = timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const source = rows[Symbol.asyncIterator]();
      const stop = (): void => {
        Promise.resolve()
          .then(() => source.return?.())
          .catch(() => undefined);
      };
      return {
        next(): Promise<IteratorResult<T>> {
          try {
            deadline.check();
          } catch (err) {
            stop();
            return Promise.reject(err);
          }
          const step = source.next();
          return new Promise<IteratorResult<T>>((resolve, reject) => {
            let timer: NodeJS.Timeout | undefined;
            const expire = (): void => {
              cleanup();
              step.catch(() => undefined);
              stop();
              try {
                deadline.check();
                // The timer fired a hair early (timers round): report the timeout all the same.
                reject(new QueryTimeoutError(`The operation did not finish within timeoutMs=${timeoutMs} ms`));
              } catch (err) {
                reject(err);
              }
            };
            const cleanup = (): void => {
              if (timer !== undefined) clearTimeout(timer);
              signal?.removeEventListener("abort", expire);
            };
            if (end !== undefined) timer = setTimeout(expire, Math.max(0, end - performance.now()));
            signal?.addEventListener("abort", expire, { once: true });
            step.then(
              (r) => {
                cleanup();
                resolve(r);
              },
              (err: unknown) => {
                cleanup();
                reject(err);
              },
            );
          });
        },
        return(value?: unknown): Promise<IteratorResult<T>> {
          stop();
          return Promise.resolve({ done: true, value: value as T });
        },
      };
    },
  };
}
