/**
 * `onProgress` for long work (upsert, loadRecords, stream): the rows sent or read so far, at most every ~100 ms and
 * once more at the end. Bulk code deep in the engine finds the current reporter through an async-local scope, so no
 * signature between the session and the COPY encoder changes; work without `onProgress` never creates one.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** What an `onProgress` callback receives. */
export interface Progress {
  /** Rows sent (upsert, loadRecords) or read (stream) so far; never decreases. */
  rows: number;
  /** Milliseconds since the call started. */
  elapsedMs: number;
}

/** A progress callback: called at most every ~100 ms and once at the end; an error it throws is ignored. */
export type OnProgress = (progress: Progress) => void;

const INTERVAL_MS = 100;
/** Rows between clock reads when counting row by row. */
const CHECK_EVERY = 256;

export class ProgressReporter {
  readonly #fn: OnProgress;
  readonly #started = performance.now();
  #rows = 0;
  #reported = 0;
  #lastAt = this.#started;
  #sinceCheck = 0;

  constructor(fn: OnProgress) {
    this.#fn = fn;
  }

  /** n more rows. */
  add(n: number): void {
    this.#rows += n;
    this.#sinceCheck += n;
    if (this.#sinceCheck >= CHECK_EVERY) {
      this.#sinceCheck = 0;
      this.#maybeReport();
    }
  }

  /** `rows` done in total for the current source (the COPY encoder counts from its own start). */
  reach(base: number, rows: number): void {
    if (base + rows > this.#rows) {
      this.#rows = base + rows;
      this.#maybeReport();
    }
  }

  get rows(): number {
    return this.#rows;
  }

  /** The last report: the final count, even when it came within the interval. */
  finish(total?: number): void {
    if (total !== undefined && total > this.#rows) this.#rows = total;
    if (this.#rows > this.#reported || this.#reported === 0) this.#report(performance.now());
  }

  #maybeReport(): void {
    const now = performance.now();
    if (now - this.#lastAt >= INTERVAL_MS) this.#report(now);
  }

  #report(now: number): void {
    this.#lastAt = now;
    this.#reported = this.#rows;
    try {
      this.#fn({ rows: this.#rows, elapsedMs: now - this.#started });
    } catch {
      // A progress callback that throws must not break the load (like an observability hook).
    }
  }
}

const scope = new AsyncLocalStorage<ProgressReporter>();

/** The reporter of the bulk call running in this async flow, if it asked for progress. */
export function currentProgress(): ProgressReporter | undefined {
  return scope.getStore();
}

/** Runs a bulk call with progress reporting; the final report carries `total(result)`. */
export async function withProgress<T>(
  fn: OnProgress | undefined,
  work: () => Promise<T>,
  total: (result: T) => number,
): Promise<T> {
  if (fn === undefined) return work();
  const reporter = new ProgressReporter(fn);
  const result = await scope.run(reporter, work);
  reporter.finish(total(result));
  return result;
}

/** Counts rows as a consumer pulls them from an (async) iterable source. */
export async function* countRows<T>(
  source: AsyncIterable<T> | Iterable<T>,
  reporter: ProgressReporter,
): AsyncGenerator<T> {
  for await (const row of source) {
    reporter.add(1);
    yield row;
  }
}
