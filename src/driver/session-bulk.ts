/**
 * Many statements from one call: executeMany (one pipeline, or one statement per set), the BulkHost through which
 * the bulk engine (upsert, loadRecords, staged MERGE) uses a session, its statement batches, and the upsert and
 * loadRecords calls with their progress, tracing and savepoint.
 */
import { getPlan } from "../core/compiler.js";
import { OperationCancelledError, ParameterError } from "../core/errors.js";
import type { JsonSerializer } from "../core/json.js";
import type { ResultMetadata, SQLResult } from "../core/result.js";
import type { SQL } from "../core/statement.js";
import type { Params, Row } from "../core/types.js";
import type { Adapter, QueryOptions, RawResult } from "./adapter.js";
import type { BatchStatement, BulkHost } from "./bulk-host.js";
import { withCatalogCheck } from "./catalog-check.js";
import type { DataDictionary } from "./data-dictionary.js";
import { boundedSource, CallDeadline } from "./deadline.js";
import { traced } from "./instrumented-adapter.js";
import { type LoadRecordsOptions, loadRecords } from "./load-records.js";
import { countRows, currentProgress, withProgress } from "./progress.js";
import type { Session } from "./session.js";
import {
  CATALOG_CHANGES,
  checkParameterCount,
  internals,
  NO_OPTIONS,
  type Prepared,
  queryOptions,
  YIELD_AFTER_MS,
} from "./session-internals.js";
import type { ExecuteOptions, TransactionOptions } from "./session-options.js";
import { emptyRaw, oneStatementOnly, resultOf, textOf } from "./session-statements.js";
import { atomically, inCallersTransaction } from "./session-transactions.js";
import { staleKey, type UpsertOptions, upsertRows } from "./upsert.js";
import { type FastOutcome, fastOptions, fastUpsert, type RunAtOnce } from "./upsert-fast.js";

/** session.executeMany: one statement, every parameter set, atomically. */
export async function runMany(
  session: Session<any>,
  statement: string | SQL,
  paramSets: readonly Params[],
  options: ExecuteOptions | undefined,
): Promise<SQLResult> {
  const { adapter, dialect } = session;
  const { text, inputStyle } = textOf(statement, dialect);
  const plan = getPlan(text, adapter.parameterStyle, dialect, inputStyle);
  if (plan.statementCount > 1) throw oneStatementOnly(plan.statementCount);
  const opts = queryOptions(options);
  if (options !== undefined) adapter.checkOptions?.(opts);
  const sets = paramSets.map((p) => plan.bind(p));
  const started = performance.now();
  if (sets.length === 0) return resultOf(plan.sql, [], plan.operationType, emptyRaw(), started);
  checkParameterCount(adapter, sets[0] as unknown[]);
  if (adapter.checkParams !== undefined) for (const set of sets) adapter.checkParams(set);
  const raw = await atomically(session, async () => {
    try {
      if (adapter.queryMany) return await adapter.queryMany(session.conn, plan.sql, sets, opts);
      return await eachSet(session, plan.sql, sets, options);
    } catch (err) {
      throw internals.fail(session, err, plan.sql, sets);
    }
  });
  return resultOf(plan.sql, sets, plan.operationType, raw, started);
}

/**
 * executeMany without a pipeline: one statement per set. The call's signal and timeoutMs bound the whole loop
 * (checked between statements, each statement gets what is left), and the loop yields to the event loop every
 * YIELD_AFTER_MS: an embedded engine (PGlite) settles each statement in microtasks, so otherwise no timer, abort
 * or other task would run until the last set is done.
 */
async function eachSet(
  session: Session<any>,
  sql: string,
  sets: unknown[][],
  options: ExecuteOptions | undefined,
): Promise<RawResult> {
  const deadline = options === undefined ? undefined : new CallDeadline(options);
  let total = 0;
  let last: RawResult | undefined;
  // Rows (RETURNING) of every set, in set order: the same on every adapter (queryMany does the same).
  const rows: Row[] = [];
  let yielded = performance.now();
  for (const values of sets) {
    const limits = deadline?.next();
    last = await session.adapter.query(session.conn, sql, values, limits ? { ...limits, prepare: true } : NO_OPTIONS);
    total += last.rowsAffected;
    // Appended in place (concat per set would copy everything so far: quadratic for a large RETURNING batch).
    for (let k = 0; k < last.rows.length; k++) rows.push(last.rows[k] as Row);
    if (performance.now() - yielded >= YIELD_AFTER_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      yielded = performance.now();
    }
  }
  return { ...(last as RawResult), rows, rowsAffected: total };
}

/** What the bulk engine (upsert, loadRecords, staged MERGE) may do with a session. */
export function makeBulkHost<Conn>(session: Session<Conn>): BulkHost {
  const adapter = session.adapter;
  return {
    dialect: session.dialect,
    capabilities: adapter.capabilities,
    bulk: adapter.bulk,
    databaseLabel: adapter.databaseLabel,
    canCopyIn: typeof adapter.copyIn === "function",
    get catalog() {
      return session.dataDictionary as DataDictionary<unknown>;
    },
    get jsonSerializer(): JsonSerializer {
      return session.jsonSerializer;
    },
    get copyThreshold() {
      return internals.owner(session).statementConfig.copyThreshold;
    },
    get inTransaction() {
      return session.inTransaction;
    },
    get canQuery() {
      return !session.released && adapter.state(session.conn).transaction !== "failed";
    },
    run: (sql, values, operationType, metadata, options) => {
      // internal: the engine's own statements change no catalog the cache holds.
      const p: Prepared = { sql, values, operationType, plan: undefined, internal: true };
      if (metadata) p.metadata = metadata;
      return internals.run(session, p, options);
    },
    runBatch: (statements, each, deadline) => runBatch(session, statements, each, deadline),
    keepsPlans: adapter.runAtomicSync !== undefined,
    stage: (sql, options) => stage(session, sql, options),
    execute: (statement, options) => session.execute(statement, undefined, options),
    transaction: (fn, options) => session.transaction(() => fn(), options as TransactionOptions | undefined),
    // Only the arguments given reach the adapter, as a direct call would pass them.
    copyIn: (...args) => (adapter.copyIn as NonNullable<Adapter<Conn>["copyIn"]>).call(adapter, session.conn, ...args),
    maxPacketBytes: () => (adapter.bulk as NonNullable<Adapter<Conn>["bulk"]>).maxPacketBytes(session.conn),
    mapError: (err, sql) => internals.fail(session, err, sql),
  };
}

/**
 * An idle session: not released, no transaction (transaction() running in any task, or one begun by a statement), no
 * stream open, no bulk call in flight and no call still compiling (one issued earlier and not awaited keeps its turn).
 */
function idle(session: Session<any>): boolean {
  const state = internals.stateIfAny(session);
  return (
    !session.released &&
    internals.transactions(session).length === 0 &&
    !session.inTransaction &&
    state?.reading === undefined &&
    (state?.bulkCalls ?? 0) === 0 &&
    (state?.compiling ?? 0) === 0
  );
}

/**
 * Adapter.runAtomicSync on an idle session only (asked again: reading the rows may have run a getter). A failed
 * statement's error is mapped as runBatch maps it (bound values scrubbed, the statement named).
 */
function runAtomicSync<Conn>(
  session: Session<Conn>,
  statements: Iterable<BatchStatement>,
  current: () => boolean,
): number | undefined {
  if (!idle(session)) return undefined;
  const run = session.adapter.runAtomicSync as NonNullable<Adapter<Conn>["runAtomicSync"]>;
  const out = run.call(session.adapter, session.conn, statements, current);
  if (typeof out === "object") throw internals.fail(session, out.error, out.sql, out.values);
  return out;
}

/**
 * The repeat of an upsert this pool ran before, at once (upsert-fast.ts): on an idle session of an adapter that can,
 * with nothing observed. Undefined, having run nothing, for the general path.
 */
function repeatAtOnce(
  session: Session<any>,
  table: string,
  rows: readonly Row[],
  options: UpsertOptions,
): Promise<SQLResult> | undefined {
  const adapter = session.adapter;
  const bulk = adapter.bulk;
  if (adapter.runAtomicSync === undefined || bulk === undefined || internals.owner(session).observer !== undefined) {
    return undefined;
  }
  let outcome: FastOutcome | undefined;
  try {
    // Options are read in here: a getter that throws rejects the call, as in the general path.
    if (options == null || !fastOptions(options) || !idle(session)) return undefined;
    const run: RunAtOnce = (statements, current) => runAtomicSync(session, statements, current);
    outcome = fastUpsert(session.dataDictionary, run, bulk, table, rows, options, performance.now());
  } catch (err) {
    return Promise.reject(err);
  }
  if (outcome === undefined) return undefined;
  if ("result" in outcome) return Promise.resolve(outcome.result);
  return staleKey(internals.bulkHost(session), table, outcome.on, outcome.error).then((err) => Promise.reject(err));
}

/** The bulk engine's stage DDL: no catalog change (see BulkHost.stage), so the pool's catalog cache is kept. */
async function stage(session: Session<any>, sql: string, options: QueryOptions | undefined): Promise<void> {
  if (options?.signal?.aborted) {
    throw new OperationCancelledError("The statement was cancelled before it was sent (AbortSignal already aborted)");
  }
  try {
    await session.adapter.query(session.conn, sql, [], { ...queryOptions(options), tempStage: true });
  } catch (err) {
    throw internals.fail(session, err, sql);
  }
}

/** BulkHost.runBatch: a statement's checks and error mapping per statement, without building a result for each. */
async function runBatch(
  session: Session<any>,
  statements: Iterable<BatchStatement>,
  each: (rowsAffected: number, metadata: ResultMetadata | undefined, sql: string) => void,
  deadline: { next(): QueryOptions | undefined } | undefined,
): Promise<void> {
  if (internals.transactions(session).length !== 0) internals.sameTask(session, "A statement");
  const adapter = session.adapter;
  const max = adapter.capabilities.maxParameters;
  const now = adapter.querySync;
  let yielded = performance.now();
  for (const { sql, values } of statements) {
    // An engine on this thread (SQLite, PGlite) never gives the event loop a turn between statements: without one
    // now and then, no timer or abort would run until the last statement is done (as in eachSet).
    if (performance.now() - yielded >= YIELD_AFTER_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      yielded = performance.now();
    }
    // Raises OperationCancelledError / QueryTimeoutError between statements.
    const options = deadline?.next();
    if (values.length > max) checkParameterCount(adapter, values);
    let raw: RawResult | undefined;
    try {
      const opts = options ? queryOptions(options) : NO_OPTIONS;
      if (now !== undefined) raw = now.call(adapter, session.conn, sql, values, opts);
      raw ??= await adapter.query(session.conn, sql, values, opts);
    } catch (err) {
      throw internals.fail(session, err, sql, values);
    }
    if (raw.command !== undefined && CATALOG_CHANGES.has(raw.command)) {
      internals.catalogChanged(session, raw.command, sql);
    }
    each(raw.rowsAffected, raw.metadata, sql);
  }
}

/** The adapter's refusal of a bulk call's options (before any row is read), as a rejected promise. */
function refused(session: Session<any>, options: ExecuteOptions | undefined): Promise<never> | undefined {
  if (options === undefined) return undefined;
  try {
    session.adapter.checkOptions?.(queryOptions(options));
    return undefined;
  } catch (err) {
    return Promise.reject(err);
  }
}

/** session.upsert: checked, then run under the caller's transaction (a savepoint) or as it is, traced when observed. */
export function upsertCall<R extends object>(
  session: Session<any>,
  table: string,
  rows: readonly R[],
  options: UpsertOptions<R>,
): Promise<SQLResult> {
  const refusal = refused(session, options);
  if (refusal !== undefined) return refusal;
  if (!Array.isArray(rows)) {
    // The strategy (and the duplicate-key check) needs every row up front.
    return Promise.reject(
      new ParameterError(
        "upsert takes an array of rows; stream a large or async source with loadRecords (into a staging table)",
      ),
    );
  }
  const repeated = repeatAtOnce(session, table, rows as readonly Row[], options as UpsertOptions);
  if (repeated !== undefined) return repeated;
  const work = (): Promise<SQLResult> =>
    withProgress(
      options?.onProgress,
      () => {
        const started = performance.now();
        const what = `upsert into "${table}"`;
        return withCatalogCheck(internals.bulkHost(session), what, true, (host) =>
          upsertRows(host, table, rows as readonly Row[], options as UpsertOptions, started),
        );
      },
      () => rows.length,
    );
  if (internals.owner(session).observer === undefined) return inCallersTransaction(session, work);
  return traced(
    session.adapter,
    `upsert ${table}`,
    bulkSpan("upsert", table, rows.length),
    () => inCallersTransaction(session, work),
    (r) => ({
      "sqlspec.upsert.strategy": r.metadata?.strategy as string | undefined,
    }),
  );
}

/** session.loadRecords: as upsertCall, for an array or an (async) iterable source. */
export function loadRecordsCall<R extends object>(
  session: Session<any>,
  table: string,
  rows: readonly R[] | AsyncIterable<R>,
  options: LoadRecordsOptions<R> | undefined,
): Promise<SQLResult> {
  const refusal = refused(session, options);
  if (refusal !== undefined) return refusal;
  const work = (): Promise<SQLResult> =>
    withProgress(
      options?.onProgress,
      // An iterable source is counted as it is read; arrays by the COPY encoder (or when done).
      () => {
        const started = performance.now();
        const source = (Array.isArray(rows) ? rows : counted(boundedSource(rows as AsyncIterable<R>, options))) as
          | readonly Row[]
          | AsyncIterable<Row>;
        const what = `loadRecords into "${table}"`;
        return withCatalogCheck(internals.bulkHost(session), what, Array.isArray(source), (host) =>
          loadRecords(host, table, source, options as LoadRecordsOptions, started),
        );
      },
      (r) => r.rowsAffected,
    );
  if (internals.owner(session).observer === undefined) return inCallersTransaction(session, work);
  const n = Array.isArray(rows) ? rows.length : undefined;
  const bulk = (): Promise<SQLResult> => inCallersTransaction(session, work);
  return traced(session.adapter, `loadRecords ${table}`, bulkSpan("loadRecords", table, n), bulk, (r) => ({
    "sqlspec.rows": r.rowsAffected,
  }));
}

/** Attributes of an upsert/loadRecords span. */
function bulkSpan(
  operation: string,
  table: string,
  rows: number | undefined,
): Record<string, string | number | undefined> {
  return { "db.operation.name": operation, "db.collection.name": table, "sqlspec.rows": rows };
}

/** A loadRecords source counted by the current progress reporter, when there is one. */
function counted<R>(rows: R): R {
  const reporter = currentProgress();
  return reporter === undefined ? rows : (countRows(rows as AsyncIterable<unknown>, reporter) as R);
}
