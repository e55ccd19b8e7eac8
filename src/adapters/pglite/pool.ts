/**
 * PGlite leases: each session leases the one connection (sharing a parent session's transaction when opened inside
 * it); release undoes what the lease left open, resets settings when asked and frees the transaction lock.
 */
import type { PGlite } from "@electric-sql/pglite";
import { OperationCancelledError } from "../../core/errors.js";
import type { JsonSerializer } from "../../core/json.js";
import type { AcquireOptions } from "../../driver/adapter.js";
import { RELEASED } from "../../driver/adapter.js";
import type { ResetOnRelease } from "../../driver/config.js";
import { encodeTextParams } from "../postgres-common/codecs.js";
import { resetPostgresConnection, type SessionSettings } from "../postgres-common/session-state.js";
import { holdsLock, PgliteConnection } from "./connection.js";
import type { PgliteRunner } from "./running.js";

/** What a release needs to know about the pool. */
export interface PgliteLeaseOptions {
  /** How long a release waits for the lock to reset settings. */
  acquireTimeoutMs: number;
  resetOnRelease: ResetOnRelease;
  /** The user the database was opened as: PGlite's SET SESSION AUTHORIZATION DEFAULT does not go back to it. */
  sessionUser: string;
  jsonSerializer: JsonSerializer;
}

/** Leases on the one connection. */
export class PgliteLeases {
  readonly #db: PGlite;
  readonly #runner: PgliteRunner;
  readonly #options: PgliteLeaseOptions;
  /** What onConnectionCreate set (restored after a reset). */
  readonly #baseline: () => SessionSettings | undefined;

  constructor(
    db: PGlite,
    runner: PgliteRunner,
    options: PgliteLeaseOptions,
    baseline: () => SessionSettings | undefined,
  ) {
    this.#db = db;
    this.#runner = runner;
    this.#options = options;
    this.#baseline = baseline;
  }

  async acquire(options?: AcquireOptions<PgliteConnection>): Promise<PgliteConnection> {
    if (options?.signal?.aborted) {
      throw new OperationCancelledError("PGlite acquire cancelled", { cause: options.signal.reason });
    }
    const parent = options?.parent;
    const sharing = parent !== undefined && parent.db === this.#db && holdsLock(parent);
    const conn = new PgliteConnection(this.#db, sharing ? parent : undefined, this.#runner.engine);
    if (options?.signal !== undefined || options?.timeoutMs !== undefined) {
      conn.wait = { timeoutMs: options.timeoutMs, signal: options.signal };
    }
    return conn;
  }

  /** Rolls back what this lease left open, restores settings when asked, and frees the lock. Never rejects. */
  release(conn: PgliteConnection): Promise<void> {
    // Nothing to undo (no open nested savepoint; no lock held and no setting to reset): done at once.
    const idle =
      conn.parent !== undefined && holdsLock(conn.parent)
        ? conn.nestedTx.length === 0
        : !conn.holdsLock && !this.#mustReset();
    if (!idle) return this.#reset(conn);
    this.#runner.released(conn);
    return RELEASED;
  }

  #mustReset(): boolean {
    const mode = this.#options.resetOnRelease;
    return mode === true || (mode === "auto" && this.#runner.engine.settingsChanged);
  }

  async #reset(conn: PgliteConnection): Promise<void> {
    try {
      if (conn.parent !== undefined && holdsLock(conn.parent)) {
        // Unfinished nested work on a shared lease: undo it, innermost first; the parent's transaction goes on.
        for (let name = conn.nestedTx.pop(); name !== undefined; name = conn.nestedTx.pop()) {
          await this.#db.query(`ROLLBACK TO SAVEPOINT ${name}`);
          await this.#db.query(`RELEASE SAVEPOINT ${name}`);
          // Rolled back to before the nested work: an abort inside it is undone too.
          this.#runner.engine.failed = false;
        }
        return;
      }
      const mode = this.#options.resetOnRelease;
      if (!conn.holdsLock && !this.#mustReset()) return;
      if (!conn.holdsLock) await this.#runner.lock.acquire(this.#options.acquireTimeoutMs);
      conn.holdsLock = true;
      const ok = await resetPostgresConnection(
        {
          state: conn,
          run: (sql, params) =>
            params ? this.#db.query(sql, encodeTextParams(params, this.#options.jsonSerializer)) : this.#db.exec(sql),
          sessionUser: this.#options.sessionUser,
          forgetPreparedStatements: () => {},
          settingsRestored: () => {
            this.#runner.engine.settingsChanged = false;
          },
        },
        mode,
        this.#baseline(),
      );
      // One connection cannot be discarded: if the reset failed, at least never leave a transaction open.
      if (!ok && this.#db.isInTransaction()) await this.#db.query("ROLLBACK").catch(() => undefined);
    } catch {
      // Release never rejects; the lock is freed below whatever happened.
    } finally {
      this.#runner.released(conn);
    }
  }
}
