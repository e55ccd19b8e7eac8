/**
 * A session's streams: rows fetched in batches (a native cursor, a portable DECLARE/FETCH cursor, or the whole
 * result), one stream read at a time, and streams closed before their end by their transaction's end or the
 * session's release (reading them afterwards raises OperationCancelledError).
 */
import { isQueryBuilder } from "../core/builder-protocol.js";
import {
  OperationCancelledError,
  ParameterError,
  QueryTimeoutError,
  UnsupportedOperationError,
} from "../core/errors.js";
import type { Params } from "../core/types.js";
import type { QueryOptions, RawResult } from "./adapter.js";
import { statementTimeoutMs } from "./deadline.js";
import { type OnProgress, ProgressReporter } from "./progress.js";
import { transactionOf } from "./scope.js";
import type { Session } from "./session.js";
import {
  checkParameterCount,
  internals,
  NO_TRANSACTIONS,
  type Prepared,
  queryOptions,
  type ReadingStream,
  type SessionState,
  type StreamHandle,
} from "./session-internals.js";
import type { ExecuteOptions, Statement, StreamOptions } from "./session-options.js";
import { prepareBuilder, prepareText } from "./session-statements.js";

/** session.stream: the batch size checked at once, the generator registered with the session. */
export function openStream<T>(
  session: Session<any>,
  statement: Statement,
  params: Params | undefined,
  options: StreamOptions | undefined,
): AsyncGenerator<T> {
  const batchSize = options?.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ParameterError(`stream() batchSize must be a positive integer, got ${String(batchSize)}`);
  }
  return tracked(session, (handle) => streamOf<T>(session, statement, params, batchSize, options, handle));
}

/** Registers a stream's generator, so release() closes it if the caller abandons it (it unregisters when done). */
export function tracked<T>(
  session: Session<any>,
  make: (handle: StreamHandle) => AsyncGenerator<T>,
): AsyncGenerator<T> {
  const handle: StreamHandle = {};
  const gen = make(handle);
  handle.gen = gen as AsyncGenerator<unknown>;
  const state = internals.state(session);
  state.streams ??= new Set();
  state.streams.add(handle);
  return gen;
}

/** session.stream's generator: rows one by one, onProgress told as they are read. */
async function* streamOf<T>(
  session: Session<any>,
  statement: Statement,
  params: Params | undefined,
  batchSize: number,
  options: StreamOptions | undefined,
  handle: StreamHandle,
): AsyncGenerator<T> {
  handle.started = true;
  try {
    const rows = streamRows<T>(session, statement, params, batchSize, options, handle);
    if (options?.onProgress === undefined) yield* rows;
    else yield* progressOf(rows, options.onProgress);
  } finally {
    internals.state(session).streams?.delete(handle);
  }
}

async function* streamRows<T>(
  session: Session<any>,
  statement: Statement,
  params: Params | undefined,
  batchSize: number,
  options: StreamOptions | undefined,
  handle: StreamHandle,
): AsyncGenerator<T> {
  for await (const batch of streamBatches<T>(session, statement, params, batchSize, options, handle)) {
    for (const row of batch) {
      // A batch already fetched when the cursor was closed is not handed out either.
      if (handle.reading?.cut === true) throw cutStreamError();
      yield row;
    }
  }
}

/** Rows as the driver hands them over: one array per cursor fetch (the whole result where there is no cursor). */
export async function* streamBatches<T>(
  session: Session<any>,
  statement: Statement,
  params: Params | undefined,
  batchSize: number,
  options: StreamOptions | undefined,
  handle?: StreamHandle,
): AsyncGenerator<readonly T[]> {
  const running = internals.transactions(session);
  if (running !== NO_TRANSACTIONS) transactionOf(session)?.check();
  if (running.length !== 0) internals.sameTask(session, "stream()");
  const state = internals.state(session);
  if (state.reading !== undefined) {
    // A second cursor in the first one's transaction is closed by that transaction's end (pg, PGlite), and
    // postgres.js runs nothing beside an open cursor: one typed refusal everywhere, before anything is sent.
    throw new UnsupportedOperationError(
      "Another stream() of this session is still open: a session reads one stream at a time. Finish it or call " +
        "its return() (break out of its loop) first, or read the second one through another session.",
    );
  }
  const rows = openBatches<T>(session, statement, params, batchSize, options);
  const token: ReadingStream = {
    cut: false,
    rows: rows as AsyncGenerator<unknown>,
    ownTransaction: !session.inTransaction,
  };
  state.reading = token;
  if (handle !== undefined) handle.reading = token;
  let ended = false;
  try {
    for (;;) {
      const next = await rows.next();
      // Closed by its transaction's end or the session's release (cut), not ended by its last row.
      if (token.cut) throw cutStreamError();
      if (next.done === true) {
        ended = true;
        break;
      }
      yield next.value;
    }
  } catch (err) {
    ended = true;
    throw err;
  } finally {
    // Returned early (break, return()): close the cursor, as yield* would have.
    if (!ended && !token.cut) await rows.return(undefined);
    if (state.reading === token) state.reading = undefined;
  }
}

async function* openBatches<T>(
  session: Session<any>,
  statement: Statement,
  params: Params | undefined,
  batchSize: number,
  options: StreamOptions | undefined,
): AsyncGenerator<readonly T[]> {
  const adapter = session.adapter;
  const prepared = isQueryBuilder(statement)
    ? await prepareBuilder(session, statement, params)
    : prepareText(statement, params, session.dialect, adapter.parameterStyle);
  checkParameterCount(adapter, prepared.values);
  if (prepared.operationType === "COPY") {
    throw new UnsupportedOperationError(
      "stream() does not run COPY: use execute(copy, { sink }) for COPY … TO STDOUT, or { source } for FROM STDIN",
    );
  }
  // Some drivers start the statement only at the first fetch and check their limits once it runs: limits already
  // spent would let it run (and write) before anything notices.
  if (options?.signal?.aborted) {
    throw new OperationCancelledError("The stream was cancelled before it was sent (AbortSignal already aborted)", {
      cause: options.signal.reason,
    });
  }
  if (statementTimeoutMs(options?.timeoutMs) === 0) {
    throw new QueryTimeoutError("The stream did not start within timeoutMs=0 ms");
  }
  const cursors = adapter.capabilities.cursors;
  if (cursors === "native" && adapter.stream) {
    try {
      for await (const batch of adapter.stream(
        session.conn,
        prepared.sql,
        prepared.values,
        batchSize,
        queryOptions(options),
      )) {
        yield batch as T[];
      }
    } catch (err) {
      throw internals.fail(session, err, prepared.sql, prepared.values);
    }
    return;
  }
  if (cursors === "declare") {
    yield* cursorStream<T>(session, prepared, batchSize, options);
    return;
  }
  yield (await internals.run<T>(session, prepared, options)).data;
}

/** Portable PostgreSQL cursor (DECLARE/FETCH) for adapters without a native one; opens a transaction if needed. */
async function* cursorStream<T>(
  session: Session<any>,
  p: Prepared,
  batchSize: number,
  options: ExecuteOptions | undefined,
): AsyncGenerator<readonly T[]> {
  const ownTx = !session.inTransaction;
  const cursor = `sqlspec_cur_${++internals.state(session).seq}`;
  // Cursor statements carry a unique name: never cache them as prepared statements.
  const opts: QueryOptions = { ...queryOptions(options), prepare: false };
  const step = async (sql: string, values: unknown[]): Promise<RawResult> => {
    try {
      return await session.adapter.query(session.conn, sql, values, opts);
    } catch (err) {
      throw internals.fail(session, err, sql, values);
    }
  };
  if (ownTx) await session.begin();
  let ok = false;
  try {
    await step(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${p.sql}`, p.values);
    const fetch = `FETCH ${Math.max(1, Math.floor(batchSize))} FROM ${cursor}`;
    for (;;) {
      const batch = await step(fetch, []);
      if (batch.rows.length > 0) yield batch.rows as T[];
      if (batch.rows.length < batchSize) break;
    }
    await step(`CLOSE ${cursor}`, []);
    ok = true;
  } finally {
    if (ownTx && !session.released && session.inTransaction) {
      if (ok) await session.commit();
      else await session.rollback().catch(() => undefined);
    } else if (!ok && !ownTx) {
      await step(`CLOSE ${cursor}`, []).catch(() => undefined);
    }
  }
}

/**
 * Closes a stream fn opened and left open when its transaction ends (not `before`, one open when it began); reading
 * it afterwards raises OperationCancelledError.
 */
export async function closeStreamOpenedSince(state: SessionState, before: object | undefined): Promise<void> {
  const open = state.reading;
  if (open === undefined || open === before) return;
  await cut(state, open);
}

/** Closes a stream's cursor before its end; reading the stream afterwards raises OperationCancelledError. */
async function cut(state: SessionState, open: ReadingStream): Promise<void> {
  open.cut = true;
  await open.rows.return(undefined).catch(() => undefined);
  // The cursor is closed: the session may read another stream (the cut one raises if read again).
  if (state.reading === open) state.reading = undefined;
}

/** Abandoned iterators: return() runs their cleanup (CLOSE cursor, end the portal) while the session still holds the connection. */
export async function closeStreams(state: SessionState, streams: Set<StreamHandle>): Promise<void> {
  const open = [...streams];
  streams.clear();
  // A stream never read is left as it is: read after the session ended, it raises OperationCancelledError (its
  // first statement finds the session released) instead of ending empty, which return() would make it do. One
  // reading a cursor has the cursor closed under it (read again, it raises); the others are returned.
  await Promise.all(
    open.map((h) => {
      if (h.reading !== undefined && !h.reading.cut) return cut(state, h.reading);
      return h.started === true && h.reading === undefined
        ? h.gen?.return(undefined).catch(() => undefined)
        : undefined;
    }),
  );
}

/** Streamed rows reported to onProgress as they are read (and once more when the stream ends). */
async function* progressOf<T>(rows: AsyncGenerator<T>, fn: OnProgress): AsyncGenerator<T> {
  const reporter = new ProgressReporter(fn);
  try {
    for await (const row of rows) {
      reporter.add(1);
      yield row;
    }
  } finally {
    reporter.finish();
  }
}

/** Reading a stream sqlspec closed before its end: an early end must never look like the end of the data. */
function cutStreamError(): OperationCancelledError {
  return new OperationCancelledError(
    "This stream was closed before its end (its transaction ended or its session was released): read it to the end " +
      "inside the transaction and before release",
  );
}
