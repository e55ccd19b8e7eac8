/**
 * A small explicit connection pool (pg-pool's lifecycle), shared by the adapters that own their connections (mysql2,
 * better-sqlite3 file databases): a connection is checked out, then released clean or released with an error and
 * destroyed. mysql2's own pool has no acquire timeout, no abortable acquire, no minimum size and no maximum lifetime,
 * and it cannot tell a reset connection from a dirty one; this one owns all of that.
 */
import { PoolTimeoutError } from "../core/errors.js";

export interface PoolResource {
  /** Set when the socket failed or the server killed the connection: it is never handed out again. */
  broken: boolean;
  readonly createdAt: number;
  destroy(): void;
}

export interface PoolOptions<T extends PoolResource> {
  create(): Promise<T>;
  maxSize: number;
  minSize: number;
  /** Waiting longer than this for a free connection raises PoolTimeoutError. Undefined = wait forever. */
  acquireTimeoutMs: number | undefined;
  idleTimeoutMs: number;
  maxLifetimeMs: number | undefined;
  label: string;
  /** Maps a failed acquire's abort to the library's error. */
  aborted(reason: unknown): Error;
}

/**
 * The error every pool raises for an acquire on a closed pool, or one still waiting when the pool closes (at once,
 * never after the acquire timeout).
 */
export function poolClosedError(label: string, waiting: boolean): PoolTimeoutError {
  return new PoolTimeoutError(
    waiting ? `${label} pool was closed while waiting for a connection` : `${label} pool is closed`,
  );
}

/** What a waiting acquire reads from the pool's options. */
export type WaitOptions = Pick<PoolOptions<PoolResource>, "label" | "maxSize" | "aborted">;

const QUEUED = 0;
/** Out of the queue while a connection is opened for it: its timeout and abort still settle it. */
const OPENING = 1;
const SETTLED = 2;

/**
 * An acquire waiting for a free connection, or for one opened for it (this pool's and postgres.js's). With more
 * callers than connections every acquire waits, so a waiter makes no closures of its own: the abort listener is the
 * waiter itself (handleEvent), the timer gets it as an argument. `settle`/`fail` are called by whoever took it out of
 * the queue; a timeout or abort takes it out itself, or, while a connection opens for it, settles it at once: the
 * connection arriving later is refused (`settle` returns false) and goes to the next waiter or the idle list.
 */
export class PoolWaiter<T> {
  readonly promise: Promise<T>;
  #resolve!: (conn: T) => void;
  #reject!: (err: unknown) => void;
  /** Null for an acquire that never queues: a connection is opened for it at once. */
  readonly #queue: PoolWaiter<T>[] | null;
  readonly #signal: AbortSignal | undefined;
  readonly #options: WaitOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #state = QUEUED;

  constructor(
    queue: PoolWaiter<T>[] | null,
    signal: AbortSignal | undefined,
    options: WaitOptions,
    timeoutMs: number | undefined,
  ) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#queue = queue;
    this.#signal = signal;
    this.#options = options;
    signal?.addEventListener("abort", this, { once: true });
    if (timeoutMs !== undefined) this.#timer = setTimeout(waitedTooLong, timeoutMs, this, timeoutMs, options);
    if (queue === null) this.#state = OPENING;
    else queue.push(this);
  }

  /** Taken out of the queue to have a connection opened for it. */
  opening(): void {
    this.#state = OPENING;
  }

  /** Already out of the queue. False if it gave up meanwhile: the caller keeps the connection. */
  settle(conn: T): boolean {
    if (this.#state === SETTLED) return false;
    this.#state = SETTLED;
    this.#stop();
    this.#resolve(conn);
    return true;
  }

  /** Already out of the queue. False if it had settled already. */
  fail(err: unknown): boolean {
    if (this.#state === SETTLED) return false;
    this.#state = SETTLED;
    this.#stop();
    this.#reject(err);
    return true;
  }

  /** Gives up while queued or while its connection opens (timeout, abort). */
  leave(err: Error): void {
    if (this.#state === QUEUED && this.#queue !== null) {
      const i = this.#queue.indexOf(this);
      if (i < 0) return;
      this.#queue.splice(i, 1);
    }
    this.fail(err);
  }

  /** A connection is being opened for it (it left the queue, or never was in it). */
  get isOpening(): boolean {
    return this.#state === OPENING;
  }

  /** The signal aborted. */
  handleEvent(): void {
    this.leave(this.#options.aborted(this.#signal?.reason));
  }

  #stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#signal?.removeEventListener("abort", this);
  }
}

function waitedTooLong<T>(w: PoolWaiter<T>, ms: number, o: WaitOptions): void {
  w.leave(
    new PoolTimeoutError(
      w.isOpening
        ? `${o.label} pool: no connection within acquireTimeoutMs=${ms} ms (a new connection was still being opened)`
        : `${o.label} pool: no free connection within acquireTimeoutMs=${ms} ms (maxSize ${o.maxSize} reached)`,
    ),
  );
}

interface Idle<T> {
  conn: T;
  since: number;
}

export class ConnectionPool<T extends PoolResource> {
  readonly #o: PoolOptions<T>;
  readonly #idle: Idle<T>[] = [];
  readonly #waiters: PoolWaiter<T>[] = [];
  /** Waiters a connection is being opened for (out of the queue): close() fails them at once. */
  readonly #openingFor = new Set<PoolWaiter<T>>();
  /** Open connections (idle, checked out or being created). */
  #size = 0;
  #closed = false;
  #reaper: ReturnType<typeof setInterval> | undefined;

  constructor(options: PoolOptions<T>) {
    this.#o = options;
    if (options.minSize > 0) this.#fill();
  }

  get size(): number {
    return this.#size;
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  /** Acquires waiting for a connection. */
  get pendingCount(): number {
    return this.#waiters.length;
  }

  acquire(signal?: AbortSignal, timeoutMs?: number): Promise<T> {
    if (this.#closed) return Promise.reject(poolClosedError(this.#o.label, false));
    if (signal?.aborted) return Promise.reject(this.#o.aborted(signal.reason));
    const idle = this.#takeIdle();
    if (idle !== undefined) return Promise.resolve(idle);
    const ms = timeoutMs ?? this.#o.acquireTimeoutMs;
    // The timeout and the signal bound the connect too; a connection arriving after they fired is kept idle.
    if (this.#size < this.#o.maxSize) return this.#openFor(new PoolWaiter<T>(null, signal, this.#o, ms));
    return this.#wait(signal, ms);
  }

  /** Returns a connection; `discard` (or a broken connection) destroys it instead of keeping it. */
  release(conn: T, discard: boolean): void {
    if (discard || conn.broken || this.#closed || this.#expired(conn)) {
      this.#destroy(conn);
      // A waiter gets a fresh connection in place of the destroyed one.
      if (this.#waiters.length > 0 && this.#size < this.#o.maxSize)
        this.#openFor(this.#waiters.shift() as PoolWaiter<T>);
      else if (this.#size < this.#o.minSize && !this.#closed) this.#fill();
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      waiter.settle(conn);
      return;
    }
    this.#idle.push({ conn, since: Date.now() });
    this.#startReaper();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#reaper !== undefined) clearInterval(this.#reaper);
    for (const w of this.#waiters.splice(0)) w.fail(poolClosedError(this.#o.label, true));
    for (const w of this.#openingFor) w.fail(poolClosedError(this.#o.label, true));
    this.#openingFor.clear();
    for (const { conn } of this.#idle.splice(0)) this.#destroy(conn);
  }

  #takeIdle(): T | undefined {
    for (;;) {
      const entry = this.#idle.pop();
      if (entry === undefined) return undefined;
      if (!entry.conn.broken && !this.#expired(entry.conn)) return entry.conn;
      this.#destroy(entry.conn);
    }
  }

  #expired(conn: T): boolean {
    const max = this.#o.maxLifetimeMs;
    return max !== undefined && max > 0 && Date.now() - conn.createdAt > max;
  }

  #destroy(conn: T): void {
    this.#size--;
    try {
      conn.destroy();
    } catch {
      // already gone
    }
  }

  #open(): Promise<T> {
    this.#size++;
    return this.#o.create().then(
      (conn) => {
        if (this.#closed) {
          this.#destroy(conn);
          throw poolClosedError(this.#o.label, true);
        }
        return conn;
      },
      (err) => {
        this.#size--;
        throw err;
      },
    );
  }

  /** Opens a connection for a waiter; if it gave up meanwhile, the connection is kept for the next one. */
  #openFor(waiter: PoolWaiter<T>): Promise<T> {
    waiter.opening();
    this.#openingFor.add(waiter);
    this.#open().then(
      (conn) => {
        this.#openingFor.delete(waiter);
        if (!waiter.settle(conn)) this.release(conn, false);
      },
      (err) => {
        this.#openingFor.delete(waiter);
        waiter.fail(err);
        // The next waiter tries too: it would otherwise wait for a release that may never come.
        if (!this.#closed && this.#waiters.length > 0 && this.#size < this.#o.maxSize) {
          this.#openFor(this.#waiters.shift() as PoolWaiter<T>);
        }
      },
    );
    return waiter.promise;
  }

  #wait(signal: AbortSignal | undefined, ms: number | undefined): Promise<T> {
    return new PoolWaiter<T>(this.#waiters, signal, this.#o, ms).promise;
  }

  /** Opens connections up to minSize in the background; failures surface on the next acquire instead. */
  #fill(): void {
    const missing = this.#o.minSize - this.#size;
    for (let i = 0; i < missing; i++) {
      this.#open().then(
        (conn) => this.release(conn, false),
        () => {},
      );
    }
  }

  /** Closes connections idle longer than idleTimeoutMs (keeping minSize). The timer never keeps the process alive. */
  #startReaper(): void {
    if (this.#reaper !== undefined || this.#o.idleTimeoutMs <= 0) return;
    this.#reaper = setInterval(
      () => {
        const now = Date.now();
        for (let i = 0; i < this.#idle.length && this.#size > this.#o.minSize; ) {
          const e = this.#idle[i] as Idle<T>;
          if (e.conn.broken || now - e.since > this.#o.idleTimeoutMs) {
            this.#idle.splice(i, 1);
            this.#destroy(e.conn);
          } else i++;
        }
        if (this.#idle.length === 0 && this.#reaper !== undefined) {
          clearInterval(this.#reaper);
          this.#reaper = undefined;
        }
      },
      Math.max(100, Math.min(this.#o.idleTimeoutMs, 5000)),
    );
    this.#reaper.unref?.();
  }
}
