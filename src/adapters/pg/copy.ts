/**
 * COPY on node-postgres through pg-copy-streams (an optional peer, loaded once per process): rows loaded through
 * COPY … FROM STDIN (bulk loads), and user-written COPY … FROM STDIN / TO STDOUT, each in the connection's turn and
 * cancelled like a statement.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type * as PgModule from "pg";
import { MissingDependencyError } from "../../core/errors.js";
import type { JsonSerializer } from "../../core/json.js";
import type { CopyInOptions, QueryOptions } from "../../driver/adapter.js";
import { importDriver, rethrow } from "../../driver/dependencies.js";
import { copyFromStdinSql, encodeCopyRows, encodeCopySource } from "../postgres-common/copy.js";
import { cancelledBeforeSent, copyCancelledBeforeSent, mapPostgresError } from "../postgres-common/errors.js";
import { brokenError, type PgClient, type PgConnection, untilReady, untilReadyOrBroken } from "./connection.js";
import { inTurn, queryError, statementRun } from "./running.js";
import type { StatementRun } from "./turns.js";

export type CopyFrom = (sql: string) => NodeJS.WritableStream & PgModule.Submittable & { rowCount?: number };
export type CopyTo = (sql: string) => NodeJS.ReadableStream & PgModule.Submittable & { rowCount?: number };

/** pg-copy-streams' `to`, once probeCopyFrom has loaded the package. */
let copyTo: CopyTo | undefined;

/** pg-copy-streams' `to`, or undefined when the package is not installed. */
export async function probeCopyTo(): Promise<CopyTo | undefined> {
  await probeCopyFrom();
  return copyTo;
}

/** pg-copy-streams, imported once per process (a dynamic import per COPY costs ~13 ms under tsx). */
let copyFrom: Promise<CopyFrom | undefined> | undefined;

/** pg-copy-streams' `from`, or undefined when the package is not installed (a broken install still throws). */
export function probeCopyFrom(): Promise<CopyFrom | undefined> {
  copyFrom ??= loadCopyFrom();
  return copyFrom;
}

async function loadCopyFrom(): Promise<CopyFrom | undefined> {
  try {
    const mod = (await importDriver("pg-copy-streams", "PgConfig bulk loading (COPY)", () =>
      import("pg-copy-streams").catch(rethrow),
    )) as unknown as { from?: CopyFrom; to?: CopyTo; default?: { from: CopyFrom; to: CopyTo } };
    copyTo = mod.to ?? mod.default?.to;
    return mod.from ?? (mod.default as { from: CopyFrom }).from;
  } catch (err) {
    if (err instanceof MissingDependencyError) return undefined;
    copyFrom = undefined;
    throw err;
  }
}

/** COPY … FROM STDIN through pg-copy-streams, fed by the shared text encoder with backpressure. */
export async function copyRowsIn(
  conn: PgConnection,
  from: CopyFrom | undefined,
  table: string,
  columns: string[],
  rows: AsyncIterable<unknown[]> | Iterable<unknown[]>,
  columnTypes: string[] | undefined,
  copyOptions: CopyInOptions | undefined,
  jsonSerializer: JsonSerializer,
): Promise<number> {
  if (from === undefined) {
    throw new MissingDependencyError("pg-copy-streams", "PgConfig bulk loading (COPY)");
  }
  const options = { jsonSerializer, columns };
  // An in-memory source's bad value fails before the COPY starts (encodeCopySource).
  const chunks =
    Symbol.asyncIterator in rows
      ? encodeCopyRows(rows, columnTypes, columns.length, options)
      : encodeCopySource(rows, columnTypes, columns.length, options);
  if (copyOptions?.beforeCopy) await copyOptions.beforeCopy();
  if (copyOptions?.signal?.aborted) throw copyCancelledBeforeSent(copyOptions.signal);
  return copyFromChunks(conn, from, copyFromStdinSql(table, columns), chunks, copyOptions);
}

/** A user-written COPY … FROM STDIN fed with `data` (bytes as given); rows from the command tag. */
export function copyFromStdin(
  conn: PgConnection,
  from: CopyFrom | undefined,
  sql: string,
  data: AsyncIterable<Uint8Array>,
  opts: QueryOptions,
): Promise<number> {
  if (from === undefined) {
    return Promise.reject(new MissingDependencyError("pg-copy-streams", "PgConfig COPY … FROM STDIN"));
  }
  if (conn.broken) return Promise.reject(brokenError(conn));
  return copyFromChunks(conn, from, sql, data, opts);
}

/**
 * The COPY protocol through pg-copy-streams: the source is piped with backpressure; a server error (the server
 * leaves COPY mode and sends ReadyForQuery) or a failing source (pg-copy-streams sends CopyFail) settles once the
 * connection is ready again; `timeoutMs`/`signal` cancel it like a statement.
 */
function copyFromChunks(
  conn: PgConnection,
  from: CopyFrom,
  sql: string,
  chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  opts: QueryOptions | undefined,
): Promise<number> {
  if (opts?.signal?.aborted) return Promise.reject(cancelledBeforeSent(opts.signal));
  const run = opts?.signal !== undefined || opts?.timeoutMs !== undefined ? statementRun(conn, opts) : undefined;
  return inTurn(conn, run, async () => {
    const client = conn.client as PgClient;
    run?.check();
    const copy = from(sql);
    if (run !== undefined) run.submitted = copy;
    const sink = client.query(copy as never) as unknown as typeof copy;
    try {
      await pipeline(Readable.from(chunks), sink);
    } catch (err) {
      await untilReady(client);
      throw queryError(conn, mapPostgresError(err, run?.kind), run?.kind);
    }
    return sink.rowCount ?? 0;
  });
}

/** A user-written COPY … TO STDOUT: each chunk to `write` (awaited: backpressure); rows from the command tag. */
export function copyToStdout(
  conn: PgConnection,
  to: CopyTo | undefined,
  sql: string,
  write: (chunk: Uint8Array) => void | Promise<void>,
  opts: QueryOptions,
): Promise<number> {
  if (to === undefined) {
    return Promise.reject(new MissingDependencyError("pg-copy-streams", "PgConfig COPY … TO STDOUT"));
  }
  if (conn.broken) return Promise.reject(brokenError(conn));
  if (opts.signal?.aborted) return Promise.reject(cancelledBeforeSent(opts.signal));
  const run = opts.signal !== undefined || opts.timeoutMs !== undefined ? statementRun(conn, opts) : undefined;
  return inTurn(conn, run, () => copyOut(conn, to(sql), write, run));
}

async function copyOut(
  conn: PgConnection,
  copy: ReturnType<CopyTo>,
  write: (chunk: Uint8Array) => void | Promise<void>,
  run: StatementRun | undefined,
): Promise<number> {
  const client = conn.client as PgClient;
  run?.check();
  if (run !== undefined) run.submitted = copy;
  const stream = client.query(copy as never) as unknown as typeof copy;
  let consumerFailed = false;
  try {
    for await (const chunk of stream as AsyncIterable<Uint8Array>) {
      try {
        const pending = write(chunk);
        if (pending !== undefined) await pending;
      } catch (err) {
        consumerFailed = true;
        throw err;
      }
    }
    // The command tag (the row count) follows the data: the count is known once the connection is ready.
    await untilReady(client);
  } catch (err) {
    // A consumer that failed leaves the server mid-COPY with data nobody reads: the connection is not reused.
    // A server error ends the COPY (ErrorResponse, then ReadyForQuery): the connection is usable once ready.
    if (consumerFailed && !client.readyForQuery) conn.broken = true;
    await untilReadyOrBroken(client, conn);
    throw queryError(conn, mapPostgresError(err, run?.kind), run?.kind);
  }
  return stream.rowCount ?? 0;
}
