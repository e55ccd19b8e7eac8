/**
 * The pool's connections on node-postgres: pg-pool configured by sqlspec (its own getTypeParser, a connect limit per
 * client), each new client set up once (pgvector, onConnectionCreate), acquire bounded by acquireTimeoutMs and the
 * caller's signal (applied here, not by pg-pool), release with a reset of what a session left behind, and close,
 * which fails every waiting checkout at once.
 */
import type * as PgModule from "pg";
import { DatabaseConnectionError, PoolTimeoutError, type SQLSpecError } from "../../core/errors.js";
import type { AcquireOptions, PoolStats } from "../../driver/adapter.js";
import { RELEASED } from "../../driver/adapter.js";
import type { PoolConfig, ResetOnRelease, ResolvedDriverFeatures } from "../../driver/config.js";
import { poolClosedError } from "../../driver/pool.js";
import { boundedAcquire } from "../postgres-common/cancel.js";
import { isBrokenConnectionError, mapPostgresError, serverFatalOf } from "../postgres-common/errors.js";
import {
  type ResetOps,
  resetPostgresConnection,
  SESSION_SETTINGS_SQL,
  sessionSettingsOf,
} from "../postgres-common/session-state.js";
import { type PgClient, PgConnection, type PgResult } from "./connection.js";
import { forgetStatements } from "./statements.js";
import type { PgTypes } from "./types.js";

/** A checkout waiting in pg-pool's queue; its callback settles the promise `pool.connect()` returned. */
interface PgPendingCheckout {
  callback(err: Error | undefined, client?: unknown, done?: unknown): void;
}

const CONN = Symbol("sqlspec.pg.connection");

/** What a new connection's PgConnection is made with. */
export interface PgConnectionSetup {
  features: ResolvedDriverFeatures<PgModule.PoolClient>;
  types: PgTypes;
  statementCacheSize: number;
  statementCacheBytes: number;
}

export class PgConnections {
  /** The node-postgres pool. */
  readonly pool: PgModule.Pool;
  readonly #setup: PgConnectionSetup;
  readonly #acquireTimeoutMs: number | undefined;
  readonly #resetMode: ResetOnRelease;
  #closed = false;
  readonly #maxSize: number;
  /**
   * pg-pool's queue of checkouts waiting for a busy pool: close() fails them at once (pg-pool would leave them
   * pending until its timeout, or forever). Undefined if a pg-pool version keeps it elsewhere: then each waiting
   * checkout is wrapped instead (#closable), which costs a promise per checkout.
   */
  readonly #pendingQueue: PgPendingCheckout[] | undefined;
  /** Rejects each checkout waiting for a busy pool (only without #pendingQueue). */
  readonly #onClose = new Set<() => void>();

  constructor(pg: typeof PgModule, p: PoolConfig, setup: PgConnectionSetup) {
    this.#setup = setup;
    this.#acquireTimeoutMs = p.acquireTimeoutMs;
    this.#resetMode = p.resetOnRelease ?? "auto";
    this.#maxSize = p.maxSize ?? 10;

    const connectTimeoutMs = p.connectTimeoutMs ?? 10_000;
    // pg-pool's connectionTimeoutMillis would bound both the wait for a client and the connect (killing a slow
    // connect): acquire() bounds the wait itself, and the client gets its own connect limit.
    class Client extends pg.Client {
      constructor(config: PgModule.ClientConfig) {
        super({ ...config, connectionTimeoutMillis: connectTimeoutMs });
      }
    }
    const types = { getTypeParser: setup.types.getTypeParser };
    const config: PgModule.PoolConfig & { onConnect?: (c: PgModule.PoolClient) => Promise<void> } = {
      Client: Client as unknown as PgModule.PoolConfig["Client"],
      types: types as unknown as PgModule.CustomTypesConfig,
      max: p.maxSize ?? 10,
      min: p.minSize ?? 0,
      idleTimeoutMillis: p.idleTimeoutMs ?? 10_000,
      maxLifetimeSeconds: p.maxLifetimeMs ? Math.max(1, Math.ceil(p.maxLifetimeMs / 1000)) : 0,
      // Idle pooled sockets must not keep a script alive after its work is done.
      allowExitOnIdle: true,
      onConnect: (c) => this.#setupConnection(c as PgClient),
    };
    if (p.connectionString !== undefined) config.connectionString = p.connectionString;
    if (p.host !== undefined) config.host = p.host;
    if (p.port !== undefined) config.port = p.port;
    if (p.user !== undefined) config.user = p.user;
    if (p.password !== undefined) config.password = p.password;
    if (p.database !== undefined) config.database = p.database;
    if (p.ssl !== undefined) config.ssl = p.ssl as PgModule.PoolConfig["ssl"];
    if (p.statementTimeoutMs !== undefined) config.statement_timeout = p.statementTimeoutMs;
    config.application_name = p.applicationName ?? "sqlspec";
    this.pool = new pg.Pool(config);
    const queue = (this.pool as unknown as { _pendingQueue?: unknown })._pendingQueue;
    this.#pendingQueue = Array.isArray(queue) ? (queue as PgPendingCheckout[]) : undefined;
    // An idle client whose backend dies emits 'error' on the pool; pg-pool already drops it.
    this.pool.on("error", () => {});
    const min = p.minSize ?? 0;
    if (min > 0) {
      // Warm the pool in the background; failures surface on the first acquire instead.
      void Promise.allSettled(Array.from({ length: min }, () => this.pool.connect())).then((rs) => {
        for (const r of rs) if (r.status === "fulfilled") r.value.release();
      });
    }
  }

  /** Runs once per new physical connection: sqlspec's setup first (pgvector), then the user's hook. */
  async #setupConnection(client: PgClient): Promise<void> {
    const { features, types } = this.#setup;
    const conn = new PgConnection(client, this.#setup.statementCacheSize, this.#setup.statementCacheBytes);
    (client as unknown as Record<symbol, PgConnection>)[CONN] = conn;
    // While checked out, pg-pool has no listener: without ours a dying socket would be an uncaught 'error'.
    client.on("error", (err) => {
      conn.broken = true;
      // The server's reason (57P01 …) is what later statements report, as one running when it came does.
      conn.closedBy ??= serverFatalOf(err);
    });
    if (features.enablePgvector && !types.vectorLookedUp) await types.lookUpVector(client);
    if (features.onConnectionCreate) {
      await features.onConnectionCreate(client);
      // Whatever the hook SET is this connection's baseline: a reset restores it.
      conn.baseline = sessionSettingsOf(((await client.query(SESSION_SETTINGS_SQL)) as unknown as PgResult).rows);
    }
    // A reported parameter (TimeZone, DateStyle, search_path on newer servers, …) changed behind a statement.
    client.connection.on("parameterStatus", () => {
      conn.settingsChanged = true;
    });
  }

  async acquire(options?: AcquireOptions<PgConnection>): Promise<PgConnection> {
    if (this.#closed) throw poolClosedError("PostgreSQL", false);
    try {
      const pool = this.pool;
      // Without an idle client the checkout either opens a connection (not in pg-pool's queue, so close() cannot
      // reach it there) or waits in the queue (reachable unless #pendingQueue is missing).
      const opens = pool.idleCount === 0 && pool.totalCount < this.#maxSize;
      const closable = opens || (pool.idleCount === 0 && this.#pendingQueue === undefined);
      const queue = this.#pendingQueue;
      const queued = queue?.length ?? 0;
      let pending = pool.connect();
      // The checkout pg-pool queued, if it did (it opens a connection for the others).
      const waiting = queue !== undefined && queue.length > queued ? queue[queue.length - 1] : undefined;
      if (closable) pending = this.#closable(pending);
      // acquireTimeoutMs is applied here, not by pg-pool: pg-pool's timer destroys the connection it is opening for
      // the checkout, so with connects slower than the limit no acquire would ever be served. Given up here, the
      // connection still opens and goes back to the pool (the next waiter or the idle list).
      const poolMs = this.#acquireTimeoutMs;
      const callMs = options?.timeoutMs;
      const byPool = poolMs !== undefined && (callMs === undefined || poolMs <= callMs);
      const client =
        options?.signal !== undefined || callMs !== undefined || poolMs !== undefined
          ? await boundedAcquire(
              pending,
              {
                signal: options?.signal,
                timeoutMs: byPool ? poolMs : callMs,
                timedOut: byPool ? () => this.#acquireTimedOut(opens) : undefined,
                // A queued checkout leaves pg-pool's queue, as pg-pool's own timer would take it out.
                withdraw: waiting === undefined ? undefined : () => removeItem(queue, waiting),
              },
              (c) => c.release(),
              "PostgreSQL",
            )
          : await pending;
      if (this.#closed) {
        // A client pg-pool handed out as close() began (from its queue, which close() empties only after this).
        client.release(new Error("sqlspec: pool closed"));
        throw poolClosedError("PostgreSQL", true);
      }
      return (client as unknown as Record<symbol, PgConnection>)[CONN] as PgConnection;
    } catch (err) {
      throw err instanceof PoolTimeoutError ? err : mapAcquireError(err);
    }
  }

  /**
   * A checkout that opens a connection, or waits for a busy pool, rejects at once when close() is called (pg-pool
   * would settle it when the connection arrives, or leave it pending until its timeout, or forever); a client it gets
   * later goes straight back, and pg-pool, ending, closes it. Waiting checkouts use it only when pg-pool's queue is not
   * reachable (a promise and a closure per checkout: measured ~10 µs CPU per query with 16 callers on 8 connections).
   */
  #closable(pending: Promise<PgModule.PoolClient>): Promise<PgModule.PoolClient> {
    return new Promise((resolve, reject) => {
      const onClose = (): void => reject(poolClosedError("PostgreSQL", true));
      this.#onClose.add(onClose);
      pending.then(
        (client) => {
          const waiting = this.#onClose.delete(onClose);
          if (waiting) resolve(client);
          else client.release();
        },
        (err) => {
          this.#onClose.delete(onClose);
          reject(err);
        },
      );
    });
  }

  #acquireTimedOut(opening: boolean): PoolTimeoutError {
    const ms = this.#acquireTimeoutMs;
    return new PoolTimeoutError(
      opening
        ? `PostgreSQL pool: no connection within acquireTimeoutMs=${ms} ms (a new connection was still being opened)`
        : `PostgreSQL pool: no free connection within acquireTimeoutMs=${ms} ms (maxSize reached)`,
    );
  }

  release(conn: PgConnection, error?: unknown): Promise<void> {
    // A statement settled before node-postgres was ready for the next one (see passTurn): the reset waits for that.
    if (conn.turns.busy) return afterTurn(conn).then(() => this.release(conn, error));
    const client = conn.client as PgClient;
    if (
      conn.broken ||
      !client._queryable ||
      client._ending ||
      (error !== undefined && isBrokenConnectionError(error))
    ) {
      return giveBack(conn, true);
    }
    // Common case: nothing to reset, hand it straight back.
    if (client.getTransactionStatus() === "I" && !conn.settingsChanged && this.#resetMode !== true) {
      client.release();
      return RELEASED;
    }
    return resetPostgresConnection(resetOps(conn), this.#resetMode, conn.baseline).then((ok) => giveBack(conn, !ok));
  }

  stats(): PoolStats {
    const p = this.pool;
    return { idle: p.idleCount, used: p.totalCount - p.idleCount, pending: p.waitingCount };
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const reject of this.#onClose) reject();
    this.#onClose.clear();
    // Removed from the queue first: a client released meanwhile is never handed to a checkout that already failed.
    for (const waiting of this.#pendingQueue?.splice(0) ?? []) waiting.callback(poolClosedError("PostgreSQL", true));
    await this.pool.end();
  }
}

function mapAcquireError(err: unknown): SQLSpecError {
  const msg = err instanceof Error ? err.message : String(err);
  if (msg.includes("connection timeout") || msg.includes("timeout expired")) {
    return new DatabaseConnectionError(`PostgreSQL connection error: ${msg}`, { cause: err });
  }
  return mapPostgresError(err);
}

/** Resolves once the statement holding the connection handed it on (nothing else queues at release). */
async function afterTurn(conn: PgConnection): Promise<void> {
  await conn.turns.take();
  conn.turns.pass();
}

function giveBack(conn: PgConnection, discard: boolean): Promise<void> {
  if (discard) conn.statements?.clear();
  (conn.client as PgClient).release(discard ? new Error("sqlspec: connection discarded") : undefined);
  return RELEASED;
}

function resetOps(conn: PgConnection): ResetOps {
  const client = conn.client as PgClient;
  return {
    state: conn,
    run: (sql, params) => client.query(sql, params),
    forgetPreparedStatements: () => forgetStatements(conn),
    settingsRestored: () => {
      conn.settingsChanged = false;
    },
  };
}

/** Takes one checkout out of pg-pool's queue (the queue is reachable: `queue` is defined). */
function removeItem(queue: PgPendingCheckout[] | undefined, item: PgPendingCheckout): void {
  const i = queue?.indexOf(item) ?? -1;
  if (i !== -1) queue?.splice(i, 1);
}
