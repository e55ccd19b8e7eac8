/**
 * A session's lease on PGlite's one connection, the engine-wide state every lease shares, and who holds the
 * transaction lock.
 */
import type { PGlite } from "@electric-sql/pglite";
import type { ConnectionState, TransactionStatus } from "../../driver/adapter.js";

/** The transaction status and failure flag of the one PGlite connection, shared by every lease. */
export interface EngineState {
  /** The last statement inside the open transaction failed (ReadyForQuery would say E). */
  failed: boolean;
  /** A SET/RESET ran since the last reset. */
  settingsChanged: boolean;
}

const NO_WAIT = Object.freeze({});

/**
 * A session's hold on the one PGlite connection. PGlite runs one statement at a time; sessions interleave
 * statement by statement, except that an open transaction holds the connection (the lock) until it ends. Whether a
 * transaction is open is read from the engine after every statement (`isInTransaction()`), never from SQL text.
 */
export class PgliteConnection implements ConnectionState {
  /**
   * @internal This lease holds the transaction lock (a statement it ran left a transaction open, or changed a setting).
   */
  holdsLock = false;
  /**
   * @internal
   * A statement on this lease (or a lease sharing it) changed a session setting: every session shares the one
   * connection, so the lease keeps the lock until its release has reset the setting, and no other session ever runs
   * with it.
   */
  keepsSettings = false;
  /**
   * @internal Statements of this lease sent to the engine and not settled yet. The lock a statement took goes back
   * only when the last of them settled: one still queued in the engine must not run after another session's took it.
   */
  running = 0;
  /** @internal Savepoints standing in for BEGIN on a lease that shares its parent's transaction. */
  nestedTx: string[] = [];
  /**
   * @internal
   * The session's acquire options. Waiting for PGlite's one connection means waiting for another session's open
   * transaction, which happens at each statement rather than at acquire: every such wait honours them.
   */
  wait: { timeoutMs?: number | undefined; signal?: AbortSignal | undefined } = NO_WAIT;
  readonly openCursors = 0;
  readonly preparedStatements = 0;

  /** @internal Made by the adapter for each session (a lease on the one connection). */
  constructor(
    /** The PGlite instance, shared by every session of the config; use it for anything sqlspec does not wrap. */
    readonly db: PGlite,
    /** @internal Set when the lease was opened inside a session that holds the lock: it shares that transaction. */
    readonly parent: PgliteConnection | undefined,
    /** @internal The engine-wide state every lease shares. */
    readonly engine: EngineState,
  ) {}

  /**
   * This lease's own view: the engine's transaction when this lease holds it; for a lease sharing its parent's
   * transaction, its savepoint-backed nested transaction; otherwise idle (another lease's transaction is not ours).
   */
  get transaction(): TransactionStatus {
    const own = this.parent !== undefined && holdsLock(this.parent) ? this.nestedTx.length > 0 : this.holdsLock;
    if (!own || this.db.closed || !this.db.isInTransaction()) return "idle";
    return this.engine.failed ? "failed" : "active";
  }

  get settingsChanged(): boolean {
    return this.engine.settingsChanged;
  }
}

/** The lease that holds the lock this lease runs under (itself, or the parent whose transaction it shares). */
export function lockHolder(conn: PgliteConnection): PgliteConnection | undefined {
  if (conn.holdsLock) return conn;
  return conn.parent === undefined ? undefined : lockHolder(conn.parent);
}

export function holdsLock(conn: PgliteConnection): boolean {
  return conn.holdsLock || (conn.parent !== undefined && holdsLock(conn.parent));
}
