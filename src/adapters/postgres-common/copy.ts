/**
 * COPY … FROM STDIN text-format encoding, shared by the pg, postgres.js and PGlite adapters and by the upsert engine.
 *
 * Values are written by core/values' columnText, the same rules the JSON source of upsert/MERGE and bound parameters
 * follow (Date → UTC timestamp text, NaN/±Infinity spelled out, bytes → `\x…` hex, arrays → PostgreSQL array
 * literals, JSON for json/jsonb columns, a string in a json column is JSON text), so a row stores the same values
 * whichever path carries it. A value no type can hold (Symbol, function, Invalid Date, circular object) raises
 * ParameterError naming its column and row; in an in-memory source it is found before the COPY starts.
 *
 * Limits, by design of PostgreSQL text and UTF-8 rather than of this encoder: a string containing NUL (U+0000) is
 * rejected by the server (PostgreSQL text cannot hold it), and a lone UTF-16 surrogate cannot be represented in
 * UTF-8 (Node writes U+FFFD). Everything else round-trips byte for byte.
 */
import { formatPgTimestamp } from "../../core/datetime.js";
import { OperationCancelledError } from "../../core/errors.js";
import { quoteIdent, quoteQualified } from "../../core/identifiers.js";
import { defaultJsonSerializer, type JsonSerializer } from "../../core/json.js";
import {
  ColumnKind,
  checkWellFormed,
  columnKind,
  columnText,
  dateText,
  invalidAt,
  pgArrayLiteral as literal,
} from "../../core/values.js";
import { ObjectRows } from "../../driver/copy-rows.js";

export interface ColumnCodec {
  /** Field text, already COPY-escaped (or `\N`). */
  encode(value: unknown): string;
}

export interface CopyEncodeOptions {
  /** Serializer for json/jsonb values and for objects in non-JSON columns. Default: sqlspec's. */
  jsonSerializer?: JsonSerializer;
  /** Target size of each yielded chunk, in UTF-16 code units. Default 64 Ki. */
  chunkSize?: number;
  /** Column names, for error messages about rows given as arrays. */
  columns?: readonly string[];
  /** Stops reading an async row source (OperationCancelledError) once aborted, checked before each row. */
  signal?: AbortSignal | undefined;
}

const DEFAULT_CHUNK = 64 * 1024;
const NULL_FIELD = "\\N";

const COPY_SPECIAL = /[\\\t\n\r]/;

/**
 * Escapes one field for COPY text format. A literal `\N` string becomes `\\N`, so it can never be read as NULL, and
 * a `\.` line can never end the data early.
 */
export function escapeCopyText(s: string): string {
  if (!COPY_SPECIAL.test(s)) return s;
  // A manual scan is ~2.5× faster than replace() with a callback once a string does need escaping.
  let out = "";
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 || c === 9 || c === 10 || c === 13) {
      out += s.slice(last, i) + (c === 92 ? "\\\\" : c === 9 ? "\\t" : c === 10 ? "\\n" : "\\r");
      last = i + 1;
    }
  }
  return out + s.slice(last);
}

/** Date → `YYYY-MM-DD HH:MM:SS.mmm+00` (UTC; BC and 5+ digit years too). Kept under its old name for callers. */
export const timestampText = formatPgTimestamp;

/** PostgreSQL array literal, before COPY escaping (see core/values' pgArrayLiteral). */
export function pgArrayLiteral(
  arr: readonly unknown[],
  json = false,
  ser: JsonSerializer = defaultJsonSerializer,
): string {
  return literal(arr, json, ser);
}

/** The codec for one column of the given catalog type; without a type, the value's own JS type decides. */
export function columnCodec(type: string | undefined, serializer: JsonSerializer = defaultJsonSerializer): ColumnCodec {
  const kind = columnKind(type);
  return {
    encode: (v) => {
      const text = columnText(v, kind, serializer);
      return text === null ? NULL_FIELD : escapeCopyText(checkWellFormed(text));
    },
  };
}

/** Encodes one row (without the trailing newline). */
export function encodeCopyRow(row: readonly unknown[], codecs: readonly ColumnCodec[]): string {
  let line = "";
  for (let i = 0; i < codecs.length; i++) {
    if (i > 0) line += "\t";
    line += (codecs[i] as ColumnCodec).encode(row[i]);
  }
  return line;
}

function isAsyncIterable<T>(x: unknown): x is AsyncIterable<T> {
  return typeof x === "object" && x !== null && Symbol.asyncIterator in x;
}

/**
 * One row's fields for the hot loop. Every column type except a json/jsonb one writes strings, numbers, NULL and Dates
 * the same way (escaped text, String(n), `\N`, UTC timestamp text), so those are handled inline here; anything else
 * goes to the column's codec. Measured at 100k rows this halves the encoder's CPU against a codec call per field.
 */
class RowWriter {
  readonly #codecs: ColumnCodec[];
  /** Per column: 1 = strings/numbers/nulls/Dates inline, 0 = codec only (json/jsonb). */
  readonly #fast: Uint8Array;
  readonly #names: readonly string[] | undefined;

  constructor(
    columnTypes: readonly (string | undefined)[] | undefined,
    width: number,
    ser: JsonSerializer,
    names?: readonly string[],
  ) {
    this.#codecs = [];
    this.#fast = new Uint8Array(width);
    this.#names = names;
    for (let i = 0; i < width; i++) {
      const type = columnTypes?.[i];
      this.#codecs.push(columnCodec(type, ser));
      const kind = columnKind(type);
      this.#fast[i] = kind === ColumnKind.Json || kind === ColumnKind.JsonArray ? 0 : 1;
    }
  }

  field(v: unknown, i: number): string {
    if (this.#fast[i] !== 0) {
      if (typeof v === "string") return COPY_SPECIAL.test(checkWellFormed(v)) ? escapeCopyText(v) : v;
      if (typeof v === "number") return String(v);
      if (v === null || v === undefined) return NULL_FIELD;
      if (v instanceof Date) return dateText(v);
    }
    return (this.#codecs[i] as ColumnCodec).encode(v);
  }

  /** Rethrows a value error of `row` (the `index`th) as a ParameterError naming the column. */
  fail(err: unknown, row: unknown, index: number, columns: readonly string[] | undefined): unknown {
    const names = columns ?? this.#names;
    for (let i = 0; i < this.#fast.length; i++) {
      const v =
        Array.isArray(row) || columns === undefined
          ? (row as unknown[])[i]
          : (row as Record<string, unknown>)[names?.[i] as string];
      try {
        this.field(v, i);
      } catch (e) {
        return invalidAt(e, `column ${names?.[i] !== undefined ? `"${names[i]}"` : i + 1} of row ${index}`);
      }
    }
    return invalidAt(err, `row ${index}`);
  }

  /** The row as COPY text with its newline; arrays by position, objects by column name. */
  line(row: unknown, columns: readonly string[] | undefined): string {
    const n = this.#fast.length;
    if (n === 0) return "\n";
    let out: string;
    if (columns === undefined || Array.isArray(row)) {
      const r = row as readonly unknown[];
      out = this.field(r[0], 0);
      for (let i = 1; i < n; i++) out += `\t${this.field(r[i], i)}`;
    } else {
      const r = row as Readonly<Record<string, unknown>>;
      out = this.field(r[columns[0] as string], 0);
      for (let i = 1; i < n; i++) out += `\t${this.field(r[columns[i] as string], i)}`;
    }
    return `${out}\n`;
  }

  /** line() for the `index`th row of an iterable source, with a bad value reported by column and row. */
  lineAt(row: unknown, index: number): string {
    try {
      return this.line(row, undefined);
    } catch (err) {
      throw this.fail(err, row, index, undefined);
    }
  }

  /** Index of the first row not yet encoded by the last fill(). */
  next = 0;

  /**
   * Encodes rows from `start` until the text reaches `limit` or the rows end; sets `next`. The hot loop lives here,
   * not in the generator, so only objects whose shapes stay alive reach optimised code (see KEEP_WRITER_SHAPE).
   */
  fill(list: readonly unknown[], columns: readonly string[] | undefined, start: number, limit: number): string {
    let chunk = "";
    let r = start;
    try {
      while (r < list.length) {
        chunk += this.line(list[r], columns);
        r++;
        if (chunk.length >= limit) break;
      }
    } catch (err) {
      throw this.fail(err, list[r], r, columns);
    }
    this.next = r;
    return chunk;
  }
}

/**
 * Optimised code checks the writer's hidden class, which V8 reaches from the class only through a weak transition:
 * once the last writer dies, a full GC frees that class and deoptimises the encoder, and every later COPY paid for
 * a cold start plus ~15-25 ms of background recompilation (measured: client CPU 24 ms vs 10 ms at 10k rows). One
 * writer kept for the process keeps the shape, and the optimised code, alive.
 */
export const KEEP_WRITER_SHAPE = new RowWriter(undefined, 0, defaultJsonSerializer);

/**
 * The sync form of encodeCopyRows, for sources already in memory: no await per chunk, and an ObjectRows source is
 * read in place (no array per row).
 */
export function* encodeCopyChunks(
  rows: Iterable<readonly unknown[]>,
  columnTypes: readonly (string | undefined)[] | undefined,
  width: number,
  options: CopyEncodeOptions = {},
): Generator<string, void, undefined> {
  const writer = new RowWriter(columnTypes, width, options.jsonSerializer ?? defaultJsonSerializer, options.columns);
  const limit = options.chunkSize ?? DEFAULT_CHUNK;
  if (rows instanceof ObjectRows || Array.isArray(rows)) {
    const list: readonly unknown[] = rows instanceof ObjectRows ? rows.rows : rows;
    const columns = rows instanceof ObjectRows ? rows.columns : undefined;
    const onRows = rows instanceof ObjectRows ? rows.onRows : undefined;
    for (let r = 0; r < list.length; r = writer.next) {
      yield writer.fill(list, columns, r, limit);
      // Resumed: the consumer took the chunk and asks for the next.
      onRows?.(writer.next);
    }
    return;
  }
  let chunk = "";
  let index = 0;
  for (const row of rows) {
    chunk += writer.lineAt(row, index++);
    if (chunk.length >= limit) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * An in-memory source encoded completely, before the COPY starts: a value that cannot be written raises
 * ParameterError while nothing has been sent, and the server is never left in a half-fed COPY. Chunks become Buffers
 * at once: kept as strings, the concatenation trees of every chunk would stay alive together until sent (measured at
 * 100k rows: 4× the client CPU, mostly GC). The bytes take about as much memory as the rows, already in memory.
 */
export function encodeCopyData(
  rows: Iterable<readonly unknown[]>,
  columnTypes: readonly (string | undefined)[] | undefined,
  width: number,
  options: CopyEncodeOptions = {},
): Buffer[] {
  const out: Buffer[] = [];
  for (const chunk of encodeCopyChunks(rows, columnTypes, width, options)) out.push(Buffer.from(chunk, "utf8"));
  return out;
}

/**
 * Whether no value of an in-memory source can make the encoder throw: in every column but a json/jsonb one only
 * well-formed strings, numbers, null/undefined and valid Dates (the inline path of RowWriter.field, whose checks this
 * mirrors); json/jsonb columns only null/undefined. Anything else answers false.
 */
export function encodesWithoutError(
  rows: Iterable<readonly unknown[]>,
  columnTypes: readonly (string | undefined)[] | undefined,
  width: number,
): boolean {
  if (!(rows instanceof ObjectRows) && !Array.isArray(rows)) return false;
  const list: readonly unknown[] = rows instanceof ObjectRows ? rows.rows : rows;
  const columns = rows instanceof ObjectRows ? rows.columns : undefined;
  const json: boolean[] = [];
  for (let i = 0; i < width; i++) {
    const kind = columnKind(columnTypes?.[i]);
    json.push(kind === ColumnKind.Json || kind === ColumnKind.JsonArray);
  }
  for (const row of list) {
    const byName = columns !== undefined && !Array.isArray(row);
    for (let i = 0; i < width; i++) {
      const v = byName
        ? (row as Readonly<Record<string, unknown>>)[columns[i] as string]
        : (row as readonly unknown[])[i];
      if (v === null || v === undefined) continue;
      if (json[i]) return false;
      if (typeof v === "number") continue;
      if (typeof v === "string") {
        if ((v as string & { isWellFormed(): boolean }).isWellFormed()) continue;
        return false;
      }
      if (v instanceof Date && !Number.isNaN(v.getTime())) continue;
      return false;
    }
  }
  return true;
}

/**
 * An in-memory source's COPY data, with every value that cannot be written found before the COPY starts. When no
 * value can fail (encodesWithoutError), the text is encoded lazily, chunk by chunk as the COPY takes it, so the
 * client's encoding runs while the server parses the chunks already sent (the two ran one after the other before:
 * measured at 10k rows, ~20 ms of encoding added to the wall time on top of the server's COPY). Otherwise it is
 * encoded completely first (encodeCopyData): a bad value raises ParameterError while nothing has been sent.
 */
export function encodeCopySource(
  rows: Iterable<readonly unknown[]>,
  columnTypes: readonly (string | undefined)[] | undefined,
  width: number,
  options: CopyEncodeOptions = {},
): Iterable<string | Buffer> {
  return encodesWithoutError(rows, columnTypes, width)
    ? asBuffers(encodeCopyChunks(rows, columnTypes, width, options))
    : encodeCopyData(rows, columnTypes, width, options);
}

/** Each chunk as bytes the moment it is made, as encodeCopyData does (a string chunk would wait as a rope). */
function* asBuffers(chunks: Iterable<string>): Generator<Buffer, void, undefined> {
  for (const chunk of chunks) yield Buffer.from(chunk, "utf8");
}

/**
 * Streams rows as COPY text chunks (strings of about `chunkSize` UTF-16 units), so memory stays bounded whatever the
 * row count. `width` is the number of columns; with `columnTypes` it is their count. Strings, not Buffers: writing
 * fields into fresh 64 KiB Buffers measured 2× the client CPU once the heap is busy (each new backing store counts
 * as external memory and brings the next GC forward), while the driver turns a string into bytes in one call.
 */
export async function* encodeCopyRows(
  rows: AsyncIterable<readonly unknown[]> | Iterable<readonly unknown[]>,
  columnTypes: readonly (string | undefined)[] | undefined,
  width: number,
  options: CopyEncodeOptions = {},
): AsyncGenerator<string, void, undefined> {
  if (!isAsyncIterable<readonly unknown[]>(rows)) {
    yield* encodeCopyChunks(rows, columnTypes, width, options);
    return;
  }
  const writer = new RowWriter(columnTypes, width, options.jsonSerializer ?? defaultJsonSerializer, options.columns);
  const limit = options.chunkSize ?? DEFAULT_CHUNK;
  let chunk = "";
  let index = 0;
  const signal = options.signal;
  for await (const row of rows) {
    // Leaving the loop returns the caller's iterator: nothing more is read from it.
    if (signal?.aborted) throw new OperationCancelledError("Cancelled while reading rows", { cause: signal.reason });
    chunk += writer.lineAt(row, index++);
    if (chunk.length >= limit) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk.length > 0) yield chunk;
}

/** Collects the encoded rows into a Blob (PGlite reads COPY data from `/dev/blob`). */
export async function encodeCopyBlob(
  rows: AsyncIterable<readonly unknown[]> | Iterable<readonly unknown[]>,
  columnTypes: readonly (string | undefined)[] | undefined,
  width: number,
  options: CopyEncodeOptions = {},
): Promise<Blob> {
  if (!isAsyncIterable<readonly unknown[]>(rows)) return new Blob(encodeCopyData(rows, columnTypes, width, options));
  const parts: Buffer[] = [];
  for await (const chunk of encodeCopyRows(rows, columnTypes, width, options)) parts.push(Buffer.from(chunk, "utf8"));
  return new Blob(parts);
}

/**
 * `COPY table (cols) FROM STDIN` in text format. The table name is parsed like every table name (`schema.table`,
 * quoted parts such as `"Bulk"."Record.Target"`), never pasted; each column is one identifier.
 */
export function copyFromStdinSql(table: string, columns: readonly string[]): string {
  return `COPY ${quoteQualified(table, "postgres")} (${columns.map((c) => quoteIdent(c, "postgres")).join(", ")}) FROM STDIN`;
}
