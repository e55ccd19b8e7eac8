/**
 * COPY written by hand, through `session.execute`: `COPY … FROM STDIN` fed from `{ source }`, `COPY … TO STDOUT`
 * returning its data (or writing it to `{ sink }`). The adapter runs the COPY protocol (`copyFromStdin` /
 * `copyToStdout`); here the source is checked and normalised, and the result shaped. Without a source, COPY FROM
 * STDIN stays refused before anything is sent (the server would wait for data nobody sends).
 */
import { findCopyStdio } from "../core/copy-statement.js";
import {
  OperationCancelledError,
  ParameterError,
  type SQLSpecError,
  UnsupportedOperationError,
} from "../core/errors.js";
import { SQLResult } from "../core/result.js";
import type { QueryOptions } from "./adapter.js";
import type { Session } from "./session.js";

/**
 * The data of a `COPY … FROM STDIN`, passed through byte for byte (text, CSV or binary format, as the statement
 * says): a string (sent as UTF-8), bytes, an iterable or async iterable of strings/bytes, or a Node Readable.
 */
export type CopySource =
  | string
  | Uint8Array
  | Iterable<string | Uint8Array>
  | AsyncIterable<string | Uint8Array>
  | NodeJS.ReadableStream;

/** Where `COPY … TO STDOUT` writes when given: a Node Writable (awaits `drain` when it asks for it). */
export type CopySink = NodeJS.WritableStream;

/** The COPY options of `execute`: the data of `FROM STDIN`, or where `TO STDOUT` writes. */
export interface CopyOptions {
  /** The data of a `COPY … FROM STDIN` statement (required for one; refused for any other statement). */
  source?: CopySource;
  /**
   * `COPY … TO STDOUT`: write the data to this stream instead of returning it in `result.data` (memory stays bounded
   * whatever the table size). The stream is not ended.
   */
  sink?: CopySink;
}

/** An execute() argument holding COPY options rather than parameters (a COPY statement takes no parameters). */
export function isCopyOptions(value: unknown): value is CopyOptions {
  return typeof value === "object" && value !== null && !Array.isArray(value) && ("source" in value || "sink" in value);
}

/**
 * Runs a COPY statement given to execute(). FROM STDIN / TO STDOUT go through the adapter's COPY methods; any other
 * COPY (to or from a server file) returns undefined and runs as an ordinary statement. `mapError` is the session's
 * own (a driver error comes back typed, and a broken connection is remembered).
 */
export async function runCopyStatement(
  session: Session<any>,
  sql: string,
  copy: CopyOptions | undefined,
  opts: QueryOptions,
  mapError: (err: unknown, sql: string) => SQLSpecError,
): Promise<SQLResult<Uint8Array> | undefined> {
  const stdio = findCopyStdio(sql);
  if (stdio === undefined) {
    if (copy?.source !== undefined || copy?.sink !== undefined) {
      throw new ParameterError("source and sink apply to COPY … FROM STDIN / COPY … TO STDOUT only. Nothing was sent.");
    }
    return undefined;
  }
  const adapter = session.adapter;
  const started = performance.now();
  if (stdio.direction === "in") {
    if (copy?.source === undefined) return undefined; // the adapter's query path refuses it, as before
    if (copy.sink !== undefined) throw new ParameterError("COPY … FROM STDIN takes a source, not a sink");
    const data = chunksOf(copy.source);
    if (adapter.copyFromStdin === undefined) throw notHere(session, "FROM STDIN");
    if (opts.signal?.aborted) throw cancelledBefore(opts.signal);
    let count: number;
    try {
      count = await adapter.copyFromStdin(session.conn, sql, data, opts);
    } catch (err) {
      throw mapError(err, sql);
    }
    return copyResult(sql, count, [], started);
  }
  if (copy?.source !== undefined) throw new ParameterError("COPY … TO STDOUT takes no source");
  if (adapter.copyToStdout === undefined) throw notHere(session, "TO STDOUT");
  if (opts.signal?.aborted) throw cancelledBefore(opts.signal);
  const chunks: Uint8Array[] = [];
  const sink = copy?.sink === undefined ? undefined : new SinkWriter(copy.sink);
  const write = sink === undefined ? (c: Uint8Array) => void chunks.push(c) : (c: Uint8Array) => sink.write(c);
  let count: number;
  try {
    count = await adapter.copyToStdout(session.conn, sql, write, opts);
    sink?.check();
  } catch (err) {
    throw mapError(err, sql);
  } finally {
    sink?.detach();
  }
  return copyResult(sql, count, chunks, started);
}

function copyResult(sql: string, count: number, data: Uint8Array[], started: number): SQLResult<Uint8Array> {
  return new SQLResult<Uint8Array>({
    data,
    rowsAffected: count,
    columnNames: [],
    operationType: "COPY",
    statement: sql,
    parameters: [],
    executionTimeMs: performance.now() - started,
  });
}

/** The source as bytes, checked before anything is sent (its shape) and as it is read (each chunk). */
function chunksOf(source: CopySource): AsyncIterable<Uint8Array> {
  if (typeof source === "string") return once(Buffer.from(source, "utf8"));
  if (source instanceof Uint8Array) return once(source);
  if (typeof source === "object" && source !== null) {
    if (Symbol.asyncIterator in source) return bytesOf(source as AsyncIterable<unknown>);
    if (Symbol.iterator in source) return bytesOf(source as Iterable<unknown>);
  }
  throw new ParameterError(
    "COPY source must be a string, bytes, an iterable or async iterable of strings/bytes, or a Node Readable. " +
      "Nothing was sent.",
  );
}

async function* once(chunk: Uint8Array): AsyncGenerator<Uint8Array> {
  yield chunk;
}

async function* bytesOf(source: AsyncIterable<unknown> | Iterable<unknown>): AsyncGenerator<Uint8Array> {
  let index = 0;
  for await (const chunk of source) {
    if (typeof chunk === "string") yield Buffer.from(chunk, "utf8");
    else if (chunk instanceof Uint8Array) yield chunk;
    else {
      throw new ParameterError(
        `COPY source chunk ${index} is ${chunk === null ? "null" : typeof chunk}; expected a string or bytes`,
      );
    }
    index++;
  }
}

/**
 * Writes to a Node stream, waiting for `drain` when it asks (a slow sink slows the COPY; memory stays bounded). The
 * stream's error is listened for from the first write to the end (an unheard one would crash the process) and
 * fails the next write, or the COPY at its end.
 */
class SinkWriter {
  readonly #sink: CopySink;
  #error: unknown;
  readonly #onError = (err: unknown): void => {
    this.#error ??= err ?? new Error("The COPY sink failed");
  };

  constructor(sink: CopySink) {
    this.#sink = sink;
    sink.on("error", this.#onError);
  }

  /** Throws the sink's error, if it had one. */
  check(): void {
    if (this.#error !== undefined) throw this.#error;
  }

  write(chunk: Uint8Array): void | Promise<void> {
    this.check();
    if (this.#sink.write(chunk)) return;
    return new Promise<void>((resolve, reject) => {
      const sink = this.#sink;
      const done = (err?: unknown): void => {
        sink.removeListener("drain", done);
        sink.removeListener("error", done);
        sink.removeListener("close", closed);
        if (err !== undefined) reject(err);
        else resolve();
      };
      const closed = (): void => done(new Error("The COPY sink closed before the data was written"));
      sink.once("drain", done);
      sink.once("error", done);
      sink.once("close", closed);
    });
  }

  detach(): void {
    this.#sink.removeListener("error", this.#onError);
  }
}

function notHere(session: Session<any>, what: string): UnsupportedOperationError {
  return new UnsupportedOperationError(
    `COPY … ${what} is not available on ${session.adapter.databaseLabel}${
      session.adapter.capabilities.copy ? "" : " (its COPY support is not installed or not present)"
    }. Nothing was sent.`,
  );
}

function cancelledBefore(signal: AbortSignal): OperationCancelledError {
  return new OperationCancelledError("The COPY was cancelled before it was sent (AbortSignal already aborted)", {
    cause: signal.reason,
  });
}
