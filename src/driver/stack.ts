/**
 * Statement stacks (`session.executeStack([...])`): several statements in one round trip where the adapter
 * pipelines (`queryStack`), in order otherwise; in one transaction unless `{ transaction: false }`; one result per
 * statement. Every statement is compiled (and checked) before anything is sent.
 */
import { transactionControlOf } from "../core/compiler.js";
import { ParameterError, SQLSpecError, StackExecutionError, UnsupportedOperationError } from "../core/errors.js";
import { SQLResult } from "../core/result.js";
import type { OperationType, Params, Row } from "../core/types.js";
import { type QueryOptions, type RawResult, StackFailure, type StackStatement } from "./adapter.js";
import { statementTimeoutMs } from "./deadline.js";
import type { ExecuteOptions, Session, Statement, TransactionOptions } from "./session.js";
import { internals } from "./session-internals.js";

/** A stack entry: a statement, or `[statement, params]`. */
export type StackItem = Statement | readonly [Statement, Params?];

export interface StackOptions extends ExecuteOptions {
  /**
   * Default true: the stack is atomic (its own transaction, or a savepoint inside an open one), so a failure leaves
   * nothing of it. `false`: each statement commits on its own, they run one by one, and a failure stops the stack
   * (the error's `results` hold what committed before it).
   */
  transaction?: boolean;
}

/** A statement compiled for the session's adapter. */
export interface CompiledStatement extends StackStatement {
  /** The statement's kind, as `SQLResult.operationType` would report it. */
  readonly operationType: OperationType;
}

function isTuple(item: StackItem): item is readonly [Statement, Params?] {
  return Array.isArray(item);
}

/** `mapError` is the session's own: a driver error comes back typed, and a broken connection is remembered. */
export async function runStack(
  session: Session,
  items: readonly StackItem[],
  options: StackOptions | undefined,
  mapError: (err: unknown, sql: string) => SQLSpecError,
): Promise<SQLResult<Row>[]> {
  if (!Array.isArray(items)) throw new ParameterError("executeStack() takes an array of statements");
  const n = items.length;
  if (n === 0) return [];
  const adapter = session.adapter;
  const atomic = options?.transaction !== false;
  const compiled: CompiledStatement[] = [];
  // Counted as compiling until the stack reaches its transaction (or, without one, the adapter): a call issued after
  // it that could run at once (a repeated SQLite upsert) waits its turn.
  const state = internals.state(session);
  state.compiling++;
  try {
    await compileAll(session, items, atomic, compiled);
  } finally {
    state.compiling--;
  }
  if (options?.signal?.aborted) {
    throw StackExecutionError.at(0, n, new SQLSpecError("The stack was cancelled before it was sent"));
  }
  const opts: QueryOptions = { prepare: true };
  if (options?.signal !== undefined) opts.signal = options.signal;
  const timeoutMs = statementTimeoutMs(options?.timeoutMs);
  if (timeoutMs !== undefined) opts.timeoutMs = timeoutMs;
  const cancellable = opts.signal !== undefined || opts.timeoutMs !== undefined;
  const started = performance.now();

  const sequential = async (): Promise<RawResult[]> => {
    const out: RawResult[] = [];
    for (let i = 0; i < n; i++) {
      const c = compiled[i] as CompiledStatement;
      try {
        out.push(await adapter.query(session.conn, c.sql, c.values, opts));
      } catch (err) {
        const done = options?.transaction === false ? wrap(out, compiled, started) : [];
        throw StackExecutionError.at(i, n, mapError(err, c.sql), done);
      }
    }
    return out;
  };
  // Per-statement cancellation needs the one-by-one path; pipelining is for the common case.
  const queryStack = cancellable ? undefined : adapter.queryStack?.bind(adapter);
  const pipelined = async (): Promise<RawResult[]> => {
    try {
      return await (queryStack as NonNullable<typeof queryStack>)(session.conn, compiled, opts);
    } catch (err) {
      if (err instanceof StackFailure) {
        const c = compiled[err.index] as CompiledStatement;
        throw StackExecutionError.at(err.index, n, mapError(err.error, c.sql));
      }
      throw StackExecutionError.at(0, n, mapError(err, (compiled[0] as CompiledStatement).sql));
    }
  };

  let raws: RawResult[];
  const caps = adapter.capabilities;
  if (options?.transaction === false) {
    raws = await sequential();
  } else {
    const run = queryStack !== undefined && caps.pipeline !== "none" ? pipelined : sequential;
    if (run === pipelined && caps.pipeline === "atomic" && !session.inTransaction) {
      // One Sync: the server runs the pipeline as one implicit transaction.
      raws = await run();
    } else if (!session.inTransaction || caps.savepoints) {
      // The stack's signal and time limit bound its BEGIN too: queued behind the session's running statement, it is
      // given up unsent (where the engine can cancel; elsewhere BEGIN waits as statements do).
      const limits: TransactionOptions = {};
      if (opts.signal !== undefined) limits.signal = opts.signal;
      if (opts.timeoutMs !== undefined && caps.cancel) limits.timeoutMs = opts.timeoutMs;
      raws = await session.transaction(run, limits);
    } else {
      // Inside a transaction without savepoints the stack is part of the caller's transaction.
      raws = await run();
    }
  }
  return wrap(raws, compiled, started);
}

function wrap(raws: readonly RawResult[], compiled: readonly CompiledStatement[], started: number): SQLResult<Row>[] {
  const elapsed = performance.now() - started;
  return raws.map((raw, i) => {
    const c = compiled[i] as CompiledStatement;
    return new SQLResult<Row>({
      data: raw.rows as Row[],
      rowsAffected: raw.rowsAffected,
      columnNames: raw.columns,
      operationType: c.operationType,
      statement: c.sql,
      parameters: c.values,
      executionTimeMs: elapsed,
      lastInsertId: raw.lastInsertId,
      metadata: raw.metadata,
    });
  });
}

function asSpecError(err: unknown): SQLSpecError {
  return err instanceof SQLSpecError ? err : new SQLSpecError(String(err), { cause: err });
}

/** Compiles every item of the stack into `compiled`, refusing what cannot run in it (StackExecutionError at its index). */
async function compileAll(
  session: Session,
  items: readonly StackItem[],
  atomic: boolean,
  compiled: CompiledStatement[],
): Promise<void> {
  const adapter = session.adapter;
  const n = items.length;
  for (let i = 0; i < n; i++) {
    const item = items[i] as StackItem;
    try {
      const c = isTuple(item) ? await session.compile(item[0], item[1]) : await session.compile(item, undefined);
      // COPY waits for data the pipeline never sends; it runs through execute() or loadRecords().
      if (c.operationType === "COPY") {
        throw new UnsupportedOperationError("COPY cannot run in a stack: use session.execute() or loadRecords()");
      }
      // A COMMIT/ROLLBACK/SAVEPOINT… inside would end or divide the stack's own transaction: what ran before it
      // would stay whatever fails after. Only EXECUTE-kind statements can be one, so others are not lexed again.
      const control =
        atomic && c.operationType === "EXECUTE" ? transactionControlOf(c.sql, session.dialect) : undefined;
      if (control !== undefined) {
        throw new UnsupportedOperationError(
          `${control} cannot run in an atomic stack: the stack is its own transaction (or a savepoint in yours). ` +
            "Use session.transaction()/begin()/commit()/savepoint() around stacks, or { transaction: false }.",
        );
      }
      if (c.values.length > adapter.capabilities.maxParameters) {
        throw new ParameterError(
          `The statement has ${c.values.length} bind parameters; ${adapter.databaseLabel} allows at most ` +
            `${adapter.capabilities.maxParameters}`,
        );
      }
      compiled.push(c);
    } catch (err) {
      throw StackExecutionError.at(i, n, asSpecError(err));
    }
  }
}
