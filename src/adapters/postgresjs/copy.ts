/**
 * COPY on postgres.js: rows loaded through COPY … FROM STDIN (bulk loads), and user-written COPY … FROM STDIN / TO
 * STDOUT, on postgres.js's COPY streams with backpressure. A server error ends a COPY without ending its stream, so
 * every wait races it (copyQuery), and a COPY OUT that did not finish discards the connection.
 */
import { Readable, Stream, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { JsonSerializer } from "../../core/json.js";
import type { CopyInOptions, QueryOptions } from "../../driver/adapter.js";
import { copyFromStdinSql, encodeCopyRows, encodeCopySource } from "../postgres-common/copy.js";
import { copyCancelledBeforeSent } from "../postgres-common/errors.js";
import type { PjsQuery, PostgresJsConnection, Unsafe } from "./connection.js";
import { armCancel, checkUsable, statementError } from "./running.js";

/** Bulk loading: `rows` into `table` through COPY … FROM STDIN; resolves to the rows loaded. */
export async function copyRowsIn(
  conn: PostgresJsConnection,
  table: string,
  columns: string[],
  rows: AsyncIterable<unknown[]> | Iterable<unknown[]>,
  columnTypes: string[] | undefined,
  copyOptions: CopyInOptions | undefined,
  jsonSerializer: JsonSerializer,
): Promise<number> {
  checkUsable(conn);
  const options = { jsonSerializer, columns };
  let count = 0;
  let chunks: Iterable<string | Buffer> | AsyncIterable<string>;
  // COPY loads every row or none, so the source's row count is the server's. An in-memory source's bad value fails
  // before the COPY starts (encodeCopySource).
  if (Symbol.asyncIterator in rows) {
    chunks = encodeCopyRows(
      countRows(rows, () => count++),
      columnTypes,
      columns.length,
      options,
    );
  } else {
    const list = "length" in rows && typeof rows.length === "number" ? rows : Array.from(rows);
    count = (list as { length: number }).length;
    chunks = encodeCopySource(list, columnTypes, columns.length, options);
  }
  if (copyOptions?.beforeCopy) await copyOptions.beforeCopy();
  if (copyOptions?.signal?.aborted) throw copyCancelledBeforeSent(copyOptions.signal);
  await copyFromChunks(conn, copyFromStdinSql(table, columns), chunks, copyOptions);
  return count;
}

/** A user-written COPY … FROM STDIN fed with `data` (bytes as given); rows from the command tag. */
export async function copyFromStdin(
  conn: PostgresJsConnection,
  sql: string,
  data: AsyncIterable<Uint8Array>,
  opts: QueryOptions,
): Promise<number> {
  checkUsable(conn);
  return copyFromChunks(conn, sql, data, opts);
}

/** A user-written COPY … TO STDOUT: each chunk to `write` (awaited: backpressure); rows from the command tag. */
export async function copyToStdout(
  conn: PostgresJsConnection,
  sql: string,
  write: (chunk: Uint8Array) => void | Promise<void>,
  opts: QueryOptions,
): Promise<number> {
  checkUsable(conn);
  const copy = copyQuery(conn, sql);
  const state = { settled: false };
  const cancel =
    opts.signal !== undefined || opts.timeoutMs !== undefined ? armCancel(conn, copy.q, opts, state) : undefined;
  let source: Readable | undefined;
  try {
    source = (await Promise.race([copy.q.readable(), copy.failed])) as Readable;
    const it = source[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
    for (;;) {
      // A server error ends the COPY without ending the stream: race it, so the loop never waits forever.
      const step = await Promise.race([it.next(), copy.failed]);
      if (step.done) break;
      const pending = write(step.value);
      if (pending !== undefined) await pending;
    }
    const count = (await Promise.race([copy.done, copy.failed])).count ?? 0;
    // postgres.js pauses its socket while the COPY stream is full and resumes it when the stream is read again; when
    // the COPY's end arrived in the same read as the pause, the ended stream is never read and the socket stays
    // paused, so the connection's next answer would never be read.
    const socket = conn.wire.socket;
    if (socket?.isPaused()) socket.resume();
    return count;
  } catch (err) {
    // A COPY OUT that started and did not finish (a failing or slow sink, a cancel, a server error mid-stream) may
    // leave data and postgres.js's reader mid-COPY: the next statement could wait forever, so the connection is not
    // reused. One the server refused outright (no such table) never started and is fine.
    if (source !== undefined) conn.broken = true;
    if (source !== undefined && !source.destroyed) source.destroy();
    throw statementError(conn, err, cancel?.kind);
  } finally {
    state.settled = true;
    if (cancel !== undefined && !(await cancel.done())) conn.broken = true;
  }
}

/**
 * The COPY FROM STDIN protocol: the chunks are piped into postgres.js's COPY stream with backpressure; settles on
 * the server's answer (ReadyForQuery), a server error or a failing source (postgres.js sends CopyFail). Resolves to
 * the command tag's row count.
 */
async function copyFromChunks(
  conn: PostgresJsConnection,
  sql: string,
  chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  opts: QueryOptions | undefined,
): Promise<number> {
  const copy = copyQuery(conn, sql);
  let sink: Writable | undefined;
  const state = { settled: false };
  const cancel = opts !== undefined ? armCancel(conn, copy.q, opts, state) : undefined;
  try {
    sink = (await Promise.race([copy.q.writable(), copy.failed])) as Writable;
    const written = pipeline(Readable.from(chunks), sink);
    written.catch(() => {});
    await Promise.race([written, copy.failed]);
    return (await Promise.race([copy.done, copy.failed])).count ?? 0;
  } catch (err) {
    if (sink !== undefined && !sink.destroyed) sink.destroy();
    throw statementError(conn, err, cancel?.kind);
  } finally {
    state.settled = true;
    if (cancel !== undefined && !(await cancel.done())) conn.broken = true;
  }
}

/**
 * A COPY query whose outcome stays observable after postgres.js resolved it with the COPY stream: `failed` rejects
 * with a server error that ends the COPY (it reaches only the already-settled query's reject, and the stream's
 * callbacks then never run; the server is out of COPY mode by then), `done` resolves with the final result (the
 * command tag's count) at ReadyForQuery.
 */
function copyQuery(
  conn: PostgresJsConnection,
  sql: string,
): { q: PjsQuery; failed: Promise<never>; done: Promise<{ count?: number | null }> } {
  const q = (conn.sql as unknown as Unsafe).unsafe(sql) as PjsQuery & {
    reject(err: unknown): void;
    resolve(value: unknown): void;
  };
  let serverFailed: (err: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    serverFailed = reject;
  });
  failed.catch(() => {});
  let finished: (r: { count?: number | null }) => void = () => {};
  const done = new Promise<{ count?: number | null }>((resolve) => {
    finished = resolve;
  });
  const settleReject = q.reject;
  q.reject = (err: unknown) => {
    serverFailed(err);
    settleReject(err);
  };
  const settleResolve = q.resolve;
  let calls = 0;
  q.resolve = (value: unknown) => {
    // First with the COPY stream (CopyIn/OutResponse), then with the result at ReadyForQuery.
    if (calls++ > 0) finished(value as { count?: number | null });
    // A server error also destroys the stream with it (and reaches `failed`). It can come in the same socket read as
    // the CopyOutResponse, before the caller holds the stream: an 'error' nobody listens to would crash the process.
    else if (value instanceof Stream) value.on("error", () => {});
    settleResolve(value);
  };
  return { q, failed, done };
}

async function* countRows<T>(rows: AsyncIterable<T> | Iterable<T>, tick: () => void): AsyncGenerator<T> {
  for await (const r of rows) {
    tick();
    yield r;
  }
}
