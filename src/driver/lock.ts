/**
 * A FIFO async mutex whose waits are bounded: embedded engines hold one across awaits (an open transaction on a
 * shared connection, a write transaction on a file database), so a waiter must be able to give up with a typed
 * error instead of hanging, or of blocking the thread inside the engine's own busy wait.
 */

interface Waiter {
  grant(): void;
}

export class AsyncLock {
  #held = false;
  readonly #waiters: Waiter[] = [];

  get held(): boolean {
    return this.#held;
  }

  /** Takes the lock now when it is free (no microtask): the hot path of an uncontended embedded engine. */
  tryAcquire(): boolean {
    if (this.#held) return false;
    this.#held = true;
    return true;
  }

  /**
   * Waits for the lock. After `timeoutMs` rejects with `onTimeout()`; an aborted `signal` rejects with
   * `onAbort(reason)`. Either way the waiter is removed, so a later release never grants a lock nobody takes.
   */
  acquire(
    timeoutMs: number | undefined,
    onTimeout: () => Error,
    signal?: AbortSignal,
    onAbort?: (reason: unknown) => Error,
  ): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(onAbort ? onAbort(signal.reason) : signal.reason);
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const cleanup = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener("abort", abort);
      };
      const remove = (): void => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
      };
      const abort = (): void => {
        remove();
        cleanup();
        reject(onAbort ? onAbort(signal?.reason) : signal?.reason);
      };
      const waiter: Waiter = {
        grant: () => {
          cleanup();
          resolve();
        },
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          remove();
          cleanup();
          reject(onTimeout());
        }, timeoutMs);
      }
      signal?.addEventListener("abort", abort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Hands the lock to the next waiter, or frees it. */
  release(): void {
    const next = this.#waiters.shift();
    if (next !== undefined) next.grant();
    else this.#held = false;
  }
}
