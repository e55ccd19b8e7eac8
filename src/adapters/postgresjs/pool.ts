/**
 * sqlspec's own pool of single-connection postgres.js instances: acquire with exact timeouts, release with a reset of
 * what a session left behind (or a discard of a broken, stale or expired connection), idle and lifetime limits, and
 * the connections that one-shot statements outside a session share (acquireShared).
 */
import { OperationCancelledError } from "../../core/errors.js";
import type { AcquireOptions, PoolStats } from "../../driver/adapter.js";
import { RELEASED } from "../../driver/adapter.js";
import type { PoolConfig, ResetOnRelease } from "../../driver/config.js";
import { PoolWaiter, poolClosedError, type WaitOptions } from "../../driver/pool.js";
import { isBrokenConnectionError } from "../postgres-common/errors.js";
import { callsSetConfig, type ResetOps, resetPostgresConnection } from "../postgres-common/session-state.js";
import { type PostgresJsConnection, unprepared } from "./connection.js";

type Waiter = PoolWaiter<PostgresJsConnection>;

/** What a waiting acquire reports on timeout and abort. */
function waitOptions(max: number): WaitOptions {
  return {
    label: "PostgreSQL",
    maxSize: max,
    aborted: (reason) => new OperationCancelledError("PostgreSQL acquire cancelled", { cause: reason }),
  };
}

/**
 * One-shot statements one connection runs at once (postgres.js writes each before the previous one is answered). A
 * new one goes to the least busy connection, so the depth grows only when every connection is busy; the limit bounds
 * how long a slow statement can hold up the ones queued behind it.
 */
const SHARED_DEPTH = 8;

export class PostgresJsPool {
  readonly #pool: PoolConfig;
  readonly #open: () => Promise<PostgresJsConnection>;
  readonly #resetMode: ResetOnRelease;
  readonly #max: number;
  readonly #idle: PostgresJsConnection[] = [];
  /** Connections running one-shot statements (acquireShared), which later one-shot statements may join. */
  readonly #sharing: PostgresJsConnection[] = [];
  /** A connection being opened for a one-shot statement, which later ones join once it is open. */
  #opening: { conn: Promise<PostgresJsConnection>; joined: number } | undefined;
  readonly #waiters: Waiter[] = [];
  /** Waiters a connection is being opened for (out of the queue): close() fails them at once. */
  readonly #creatingFor = new Set<Waiter>();
  readonly #waitOptions: WaitOptions;
  #size = 0;
  #closed = false;

  /** `open` opens one physical connection (see connect.ts). */
  constructor(pool: PoolConfig, open: () => Promise<PostgresJsConnection>) {
    this.#pool = pool;
    this.#open = open;
    this.#resetMode = pool.resetOnRelease ?? "auto";
    this.#max = Math.max(1, pool.maxSize ?? 10);
    this.#waitOptions = waitOptions(this.#max);
  }

  stats(): PoolStats {
    return { idle: this.#idle.length, used: this.#size - this.#idle.length, pending: this.#waiters.length };
  }

  async acquire(options?: AcquireOptions<PostgresJsConnection>): Promise<PostgresJsConnection> {
    const signal = options?.signal;
    if (signal?.aborted) throw new OperationCancelledError("PostgreSQL acquire cancelled", { cause: signal.reason });
    if (this.#closed) throw poolClosedError("PostgreSQL", false);
    const idle = this.#takeIdle();
    if (idle !== undefined) return idle;
    const timeoutMs = options?.timeoutMs ?? this.#pool.acquireTimeoutMs;
    // The timeout and the signal bound the connect too; a connection arriving after they fired is kept idle.
    if (this.#size < this.#max) return this.#createFor(new PoolWaiter(null, signal, this.#waitOptions, timeoutMs));
    return this.#wait(signal, timeoutMs);
  }

  #takeIdle(): PostgresJsConnection | undefined {
    for (;;) {
      const c = this.#idle.pop();
      if (c === undefined) return undefined;
      if (c.idleTimer) clearTimeout(c.idleTimer);
      if (!c.broken && !this.#expired(c)) return c;
      this.#destroy(c);
    }
  }

  #wait(signal: AbortSignal | undefined, timeoutMs: number | undefined): Promise<PostgresJsConnection> {
    return new PoolWaiter<PostgresJsConnection>(this.#waiters, signal, this.#waitOptions, timeoutMs).promise;
  }

  #expired(c: PostgresJsConnection): boolean {
    const life = this.#pool.maxLifetimeMs;
    return life !== undefined && life > 0 && Date.now() - c.createdAt > life;
  }

  #destroy(c: PostgresJsConnection): void {
    this.#size--;
    c.prepared.clear();
    c.preparedBytes = 0;
    void c.sql.end({ timeout: 0 }).catch(() => {});
  }

  /** A slot freed up: open a connection for the oldest waiter. */
  #wakeCreator(): void {
    const w = this.#waiters[0];
    if (w === undefined || this.#size >= this.#max || this.#closed) return;
    this.#waiters.shift();
    w.opening();
    void this.#createFor(w);
  }

  /**
   * Opens a connection for a waiter (out of the queue). If it gave up meanwhile (timeout, abort), the connection goes
   * to the next waiter or the idle list; after close() it is closed.
   */
  #createFor(w: Waiter): Promise<PostgresJsConnection> {
    this.#creatingFor.add(w);
    this.#size++;
    this.#open().then(
      (c) => {
        this.#creatingFor.delete(w);
        if (this.#closed) {
          this.#destroy(c);
          w.fail(poolClosedError("PostgreSQL", true));
        } else if (!w.settle(c)) void this.release(c);
      },
      (err) => {
        this.#creatingFor.delete(w);
        this.#size--;
        w.fail(err);
        // The next waiter tries too: it would otherwise wait for a release that may never come.
        this.#wakeCreator();
      },
    );
    return w.promise;
  }

  /**
   * A connection for one statement outside a session, which other such statements may use at the same time:
   * postgres.js pipelines them. The caller sends only a single SELECT/INSERT/UPDATE/DELETE/MERGE without a signal or
   * timeoutMs (a cancel could hit a neighbour's statement); a set_config() call, or resetOnRelease: true (state the
   * protocol does not show), takes a connection of its own instead (undefined). A statement joins a busy connection
   * only when none is idle or can be opened and no acquire is waiting (sessions are never starved); otherwise it
   * acquires like a session, with the same timeout.
   */
  acquireShared(
    sql: string,
    options?: AcquireOptions<PostgresJsConnection>,
  ): Promise<PostgresJsConnection> | undefined {
    if (this.#resetMode === true || this.#closed || callsSetConfig(sql)) return undefined;
    // Taken at once (not after an await), so the next call in the same tick already sees it as sharing.
    const idle = this.#takeIdle();
    if (idle !== undefined) return Promise.resolve(this.#share(idle));
    if (this.#size >= this.#max && this.#waiters.length === 0) {
      let best: PostgresJsConnection | undefined;
      for (const c of this.#sharing) {
        // An expired connection takes no more, so it drains and release retires it (maxLifetimeMs under load).
        if (c.shareClosed || c.broken || c.wire.lost || c.sharedInFlight >= SHARED_DEPTH || this.#expired(c)) continue;
        if (best === undefined || c.sharedInFlight < best.sharedInFlight) best = c;
      }
      if (best !== undefined) {
        best.sharedInFlight++;
        return Promise.resolve(best);
      }
      const opening = this.#opening;
      if (opening !== undefined && opening.joined < SHARED_DEPTH) {
        opening.joined++;
        return opening.conn.then((c) => {
          c.sharedInFlight++;
          return c;
        });
      }
    }
    const creating = this.#size < this.#max && this.#idle.length === 0;
    const conn = this.acquire(options).then((c) => this.#share(c));
    if (creating) {
      const opening = { conn, joined: 1 };
      this.#opening = opening;
      const done = (): void => {
        if (this.#opening === opening) this.#opening = undefined;
      };
      conn.then(done, done);
    }
    return conn;
  }

  #share(c: PostgresJsConnection): PostgresJsConnection {
    c.sharedInFlight = 1;
    c.shareClosed = false;
    this.#sharing.push(c);
    return c;
  }

  /**
   * Ends one statement of acquireShared. The last one out releases the connection as a session would (reset if it is
   * not clean, discarded if broken). A connection whose state changed anyway takes no more statements.
   */
  releaseShared(conn: PostgresJsConnection, error?: unknown): Promise<void> {
    conn.sharedInFlight--;
    if (error !== undefined && isBrokenConnectionError(error)) conn.broken = true;
    if (conn.transaction !== "idle" || conn.settingsChanged || conn.staleStatements) conn.shareClosed = true;
    if (conn.sharedInFlight > 0) return Promise.resolve();
    const i = this.#sharing.indexOf(conn);
    if (i >= 0) this.#sharing.splice(i, 1);
    conn.shareClosed = false;
    return this.release(conn, error);
  }

  release(conn: PostgresJsConnection, error?: unknown): Promise<void> {
    const discard =
      conn.broken ||
      conn.staleStatements ||
      this.#closed ||
      (error !== undefined && isBrokenConnectionError(error)) ||
      this.#expired(conn);
    if (
      !discard &&
      (conn.transaction !== "idle" || conn.settingsChanged || this.#resetMode === true || conn.openCursors > 0)
    ) {
      return resetPostgresConnection(resetOps(conn), this.#resetMode, conn.baseline).then((ok) =>
        this.#giveBack(conn, !ok),
      );
    }
    // Nothing to reset: back in the pool (or discarded) at once.
    this.#giveBack(conn, discard);
    return RELEASED;
  }

  #giveBack(conn: PostgresJsConnection, discard: boolean): void {
    // close() may have run while the release reset this connection: a closed pool keeps nothing idle.
    if (discard || conn.wire.lost || this.#closed) {
      this.#destroy(conn);
      this.#wakeCreator();
      return;
    }
    const w = this.#waiters.shift();
    if (w !== undefined) {
      w.settle(conn);
      return;
    }
    this.#idle.push(conn);
    const idleMs = this.#pool.idleTimeoutMs ?? 10_000;
    if (idleMs > 0) {
      conn.idleTimer = setTimeout(() => {
        const i = this.#idle.indexOf(conn);
        if (i >= 0 && this.#size > (this.#pool.minSize ?? 0)) {
          this.#idle.splice(i, 1);
          this.#destroy(conn);
        }
      }, idleMs);
      conn.idleTimer.unref();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w.fail(poolClosedError("PostgreSQL", true));
    for (const w of this.#creatingFor) w.fail(poolClosedError("PostgreSQL", true));
    this.#creatingFor.clear();
    const idle = this.#idle.splice(0);
    for (const c of idle) if (c.idleTimer) clearTimeout(c.idleTimer);
    this.#size -= idle.length;
    await Promise.all(idle.map((c) => c.sql.end({ timeout: 5 }).catch(() => {})));
  }
}

function resetOps(conn: PostgresJsConnection): ResetOps {
  return {
    state: conn,
    run: (sql, params) => unprepared(conn, sql, params ?? []),
    forgetPreparedStatements: () => {
      conn.prepared.clear();
      conn.preparedBytes = 0;
    },
    settingsRestored: () => {
      conn.settingsSet = false;
      conn.wire.parameterChanged = false;
    },
  };
}
