/**
 * What the modules implementing Session's methods share: a compiled statement (Prepared), the session state only
 * transactions, streams and bulk calls use (SessionState), and the session's private steps they call
 * (SessionInternals, handed over once by Session's static block: nothing is made per session for it).
 */

import type { StatementPlan } from "../core/compiler.js";
import type { SQLSpecError } from "../core/errors.js";
import { ParameterError, TransactionError } from "../core/errors.js";
import type { ResultMetadata, SQLResult } from "../core/result.js";
import type { OperationType, Params } from "../core/types.js";
import type { Adapter, QueryOptions, RawResult, ResultColumnType } from "./adapter.js";
import type { BulkHost } from "./bulk-host.js";
import { statementTimeoutMs } from "./deadline.js";
import type { Session } from "./session.js";
import type { ExecuteOptions, SelectOptions, SessionOwner, Statement } from "./session-options.js";

/** A statement compiled for the session's adapter. */
export interface Prepared {
  sql: string;
  values: unknown[];
  operationType: OperationType;
  plan: StatementPlan | undefined;
  metadata?: ResultMetadata;
  /** The bulk engine's own statement (its temporary stage's DDL): no catalog the cache holds changes. */
  internal?: true;
}

/** Per-call options as the session passes them down (selectToArrow asks the adapter for column types). */
export interface InternalOptions extends ExecuteOptions {
  onColumnTypes?: (types: readonly ResultColumnType[]) => void;
}

/** A stream() or arrow generator of the session: release closes it if it was started and left open. */
export interface StreamHandle {
  gen?: AsyncGenerator<unknown>;
  started?: boolean;
  /** The cursor it reads, once opened (closed at its transaction's end or the session's release: `cut`). */
  reading?: ReadingStream;
}

/** An open stream's cursor: `rows` yields its batches; `cut` once sqlspec closed it before its end. */
export interface ReadingStream {
  cut: boolean;
  rows: AsyncGenerator<unknown>;
  /** Opened outside a transaction: where the cursor needs one, the stream began it and ends it. */
  ownTransaction: boolean;
}

/**
 * A session's state beyond the statement path: made by its first begin(), transaction(), stream or bulk call (most
 * sessions run only statements), so execute() and the select family never touch it.
 */
export interface SessionState {
  /** Numbers savepoint and cursor names. */
  seq: number;
  /** A BEGIN is in flight (begin() from two tasks at once: the second is refused, not run inside the first). */
  opening: boolean;
  /** A nested transaction's ROLLBACK TO failed: its top-level transaction rolls back instead of committing. */
  undoFailed: unknown;
  /** The stream being read (opened and not finished or returned): a session reads one at a time. */
  reading: ReadingStream | undefined;
  /** Streams handed out and not yet finished: closed on release, so an abandoned iterator never holds the connection. */
  streams: Set<StreamHandle> | undefined;
  /** upsert/loadRecords calls of this session that have not settled. */
  bulkCalls: number;
  /**
   * Calls still compiling before they reach the adapter (builders rendered against the catalog, a stack's
   * statements): a statement issued after them must not run first.
   */
  compiling: number;
}

export function newSessionState(): SessionState {
  return {
    seq: 0,
    opening: false,
    undoFailed: undefined,
    reading: undefined,
    streams: undefined,
    bulkCalls: 0,
    compiling: 0,
  };
}

/** A session's private steps, as the modules implementing its methods call them. */
export interface SessionInternals {
  /** The session's state beyond the statement path (made on first use). */
  state(session: Session<any>): SessionState;
  /** The session's state if it was made. */
  stateIfAny(session: Session<any>): SessionState | undefined;
  owner(session: Session<any>): SessionOwner;
  /** transaction() calls whose callbacks are running, innermost last. */
  transactions(session: Session<any>): readonly object[];
  /** The same list, made on the session's first transaction() (until then every session shares one empty list). */
  openTransactions(session: Session<any>): object[];
  /** Refuses a call from another task while a transaction() callback of the session runs. */
  sameTask(session: Session<any>, what: string): void;
  /** A driver error typed (and a broken connection remembered), with bound values kept out of its message. */
  fail(session: Session<any>, err: unknown, sql: string, values?: readonly unknown[]): SQLSpecError;
  run<T>(session: Session<any>, p: Prepared, options: ExecuteOptions | undefined): Promise<SQLResult<T>>;
  query<T>(
    session: Session<any>,
    statement: Statement,
    params: Params | undefined,
    options: SelectOptions<T> | undefined,
  ): Promise<SQLResult<T>>;
  catalogChanged(session: Session<any>, command: string, sql: string): void;
  bulkHost(session: Session<any>): BulkHost;
}

/** Set once by Session's static block (before any session exists). */
export let internals: SessionInternals;

export function provideInternals(value: SessionInternals): void {
  internals = value;
}

export const NO_OPTIONS: QueryOptions = Object.freeze({ prepare: true });
/** Transaction control and cursor statements: never cached as prepared statements. */
export const CONTROL: QueryOptions = Object.freeze({ prepare: false });
/**
 * How long a per-set executeMany runs before it lets the event loop turn (timers, aborts, other sessions). One turn
 * (setImmediate) costs microseconds, well under 1% of 10 ms, whatever a statement costs.
 */
export const YIELD_AFTER_MS = 10;
/** A session's transaction() calls until its first one (most sessions run none): shared, never added to. */
export const NO_TRANSACTIONS: object[] = Object.freeze([]) as unknown as object[];
/** Command tags after which cached catalog columns and keys may be stale. */
export const CATALOG_CHANGES = new Set(["CREATE", "ALTER", "DROP", "SET", "RESET", "DISCARD", "IMPORT"]);

export function queryOptions(options: InternalOptions | undefined): QueryOptions {
  if (
    !options ||
    (options.signal === undefined && options.timeoutMs === undefined && options.onColumnTypes === undefined)
  ) {
    return NO_OPTIONS;
  }
  const timeoutMs = statementTimeoutMs(options.timeoutMs);
  const o: QueryOptions = { prepare: true };
  if (options.signal !== undefined) o.signal = options.signal;
  if (timeoutMs !== undefined) o.timeoutMs = timeoutMs;
  if (options.onColumnTypes !== undefined) o.onColumnTypes = options.onColumnTypes;
  return o;
}

/** A transaction control statement (BEGIN, COMMIT, SAVEPOINT, …) on the session's connection, its error typed. */
export async function control(session: Session<any>, sql: string, opts: QueryOptions = CONTROL): Promise<RawResult> {
  try {
    return await session.adapter.query(session.conn, sql, [], opts);
  } catch (err) {
    throw internals.fail(session, err, sql);
  }
}

/** More bind parameters than the adapter's protocol allows fail here, before anything is sent. */
export function checkParameterCount(adapter: Adapter<any>, values: readonly unknown[] | undefined): void {
  const max = adapter.capabilities.maxParameters;
  if (values !== undefined && values.length > max) {
    throw new ParameterError(
      `The statement has ${values.length} bind parameters; ${adapter.databaseLabel} allows at most ${max}. ` +
        "Split the work into batches, or pass rows as one JSON/array parameter (session.upsert / loadRecords).",
    );
  }
}

/** COMMIT (or END) as the statement's verb, after any leading comments. */
const COMMIT_VERB = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*(?:COMMIT|END)\b/i;

/** The server answered a COMMIT with ROLLBACK (command tag): the transaction had failed and its work is gone. */
export function isCommit(sql: string): boolean {
  return COMMIT_VERB.test(sql);
}

/** Errors the session raised itself (already typed, never mapped again). */
export const OWN_ERRORS = new WeakSet<Error>();

export function rolledBackCommit(): TransactionError {
  const err = new TransactionError("The transaction was rolled back: the transaction was aborted by an earlier error");
  OWN_ERRORS.add(err);
  return err;
}
