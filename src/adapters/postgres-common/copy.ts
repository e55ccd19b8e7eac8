/**
 * COPY … FROM STDIN text-format encoding, shared by the pg, postgres.js and PGlite adapters and by the upsert engine.
 *
 * Values are encoded from the target columns' catalog types (format_type text) so the server reads exactly what a
 * `json(b)_to_recordset` source would have produced for the same rows: Date → ISO 8601, bigint → exact digits,
 * bytes → bytea `\x…` hex, objects → JSON, arrays → PostgreSQL array literals (JSON for json/jsonb columns),
 * null/undefined → `\N`, strings and numeric strings verbatim.
 *
 * Limits, by design of PostgreSQL text and UTF-8 rather than of this encoder: a string containing NUL (U+0000) is
 * rejected by the server (PostgreSQL text cannot hold it), and a lone UTF-16 surrogate cannot be represented in
 * UTF-8 (Node writes U+FFFD). Everything else round-trips byte for byte.
 */
import { millisText, splitUtc, TWO_DIGITS, UTC_FIELDS } from "../../core/datetime.js";
import { quoteIdent, quoteQualified } from "../../core/identifiers.js";
import { defaultJsonSerializer, isJsonValue, type JsonSerializer } from "../../core/json.js";
import { ObjectRows } from "../../driver/copy-rows.js";

/** How a value is rendered for one column; "any" = no catalog type known. */
type Kind = "json" | "bytea" | "bool" | "time" | "other" | "any";

export interface ColumnCodec {
  /** Field text, already COPY-escaped (or `\N`). */
  encode(value: unknown): string;
}

export interface CopyEncodeOptions {
  /** Serializer for json/jsonb values and for objects in non-JSON columns. Default: sqlspec's. */
  jsonSerializer?: JsonSerializer;
  /** Target size of each yielded chunk, in UTF-16 code units. Default 64 Ki. */
  chunkSize?: number;
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

function kindOf(baseType: string): Kind {
  const t = baseType.trim().toLowerCase();
  if (t === "json" || t === "jsonb") return "json";
  if (t === "bytea") return "bytea";
  if (t === "boolean" || t === "bool") return "bool";
  if (t.startsWith("timestamp") || t === "date" || t.startsWith("time")) return "time";
  return "other";
}

/** Splits a format_type string into its element type and whether it is an array (`text[]`, `integer[][]`). */
export function parseColumnType(type: string | undefined): { kind: Kind; array: boolean } | undefined {
  if (type === undefined || type === "") return undefined;
  const t = type.trim();
  if (t.endsWith("[]")) return { kind: kindOf(t.replace(/(\[\])+$/, "")), array: true };
  return { kind: kindOf(t), array: false };
}

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}

function numberText(n: number): string {
  // String() already spells the non-finite floats as PostgreSQL does for float and numeric (NaN, Infinity,
  // -Infinity); JSON has no spelling for them.
  return String(n);
}

/**
 * `YYYY-MM-DD HH:MM:SS.mmm+00`, what Date#toISOString says but about 3× faster (it dominated COPY encoding), and
 * valid for PostgreSQL outside years 1–9999 too (BC years, 5+ digit years) where toISOString's form is not.
 */
export function timestampText(d: Date): string {
  const t = d.getTime();
  if (!Number.isFinite(t)) throw new RangeError("Invalid Date cannot be sent to PostgreSQL");
  splitUtc(t);
  const f = UTC_FIELDS;
  let year = f[0] as number;
  const bc = year <= 0;
  if (bc) year = 1 - year;
  const yyyy = year >= 1000 ? String(year) : String(year).padStart(4, "0");
  const D = TWO_DIGITS;
  return `${yyyy}-${D[f[1] as number]}-${D[f[2] as number]} ${D[f[3] as number]}:${D[f[4] as number]}:${D[f[5] as number]}.${millisText(f[6] as number)}+00${bc ? " BC" : ""}`;
}

/** Scalar text before COPY escaping; objects and arrays go through the serializer. */
function scalarText(v: unknown, kind: Kind, ser: JsonSerializer): string {
  switch (typeof v) {
    case "string":
      return kind === "json" ? ser(v) : v;
    case "number":
      return kind === "json" ? ser(v) : numberText(v);
    case "bigint":
      return v.toString();
    case "boolean":
      if (kind === "json") return v ? "true" : "false";
      return kind === "bool" ? (v ? "t" : "f") : v ? "true" : "false";
    default:
      break;
  }
  if (isJsonValue(v)) return ser(v.value);
  if (kind === "json") return ser(v);
  // In text-like columns a Date reads as JSON would write it, so COPY and json_to_recordset store the same text.
  if (v instanceof Date) return kind === "other" ? v.toISOString() : timestampText(v);
  if (isBytes(v)) return `\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex")}`;
  return ser(v);
}

const ARRAY_NEEDS_QUOTES = /[{}",\\\s]/;
const ARRAY_QUOTE_ESCAPES = /[\\"]/g;

function arrayElement(s: string): string {
  if (s === "" || ARRAY_NEEDS_QUOTES.test(s) || (s.length === 4 && s.toUpperCase() === "NULL")) {
    return `"${s.replace(ARRAY_QUOTE_ESCAPES, "\\$&")}"`;
  }
  return s;
}

/** PostgreSQL array literal (`{a,"b c",NULL,{1,2}}`), before COPY escaping. Nested arrays are extra dimensions. */
export function pgArrayLiteral(
  arr: readonly unknown[],
  elemKind: Kind = "any",
  ser: JsonSerializer = defaultJsonSerializer,
): string {
  let out = "{";
  for (let i = 0; i < arr.length; i++) {
    if (i > 0) out += ",";
    const v = arr[i];
    if (v === null || v === undefined) out += "NULL";
    else if (Array.isArray(v)) out += pgArrayLiteral(v, elemKind, ser);
    else out += arrayElement(scalarText(v, elemKind, ser));
  }
  return `${out}}`;
}

/** The codec for one column of the given catalog type; without a type, the value's own JS type decides. */
export function columnCodec(type: string | undefined, serializer: JsonSerializer = defaultJsonSerializer): ColumnCodec {
  const ser = serializer;
  const parsed = parseColumnType(type);
  if (parsed === undefined) {
    return {
      encode: (v) => {
        if (v === null || v === undefined) return NULL_FIELD;
        if (Array.isArray(v)) return escapeCopyText(pgArrayLiteral(v, "any", ser));
        return escapeCopyText(scalarText(v, "any", ser));
      },
    };
  }
  const { kind, array } = parsed;
  if (array) {
    return {
      encode: (v) => {
        if (v === null || v === undefined) return NULL_FIELD;
        if (Array.isArray(v)) return escapeCopyText(pgArrayLiteral(v, kind, ser));
        // A pre-formatted literal ("{1,2}") or a JsonValue is passed through as text.
        return escapeCopyText(scalarText(v, kind === "json" ? "other" : kind, ser));
      },
    };
  }
  if (kind === "other") {
    return {
      encode: (v) => {
        if (v === null || v === undefined) return NULL_FIELD;
        if (typeof v === "string") return escapeCopyText(v);
        if (typeof v === "number") return numberText(v);
        return escapeCopyText(scalarText(v, kind, ser));
      },
    };
  }
  return {
    encode: (v) => (v === null || v === undefined ? NULL_FIELD : escapeCopyText(scalarText(v, kind, ser))),
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
 * One row's fields for the hot loop. Every column type except a scalar json/jsonb one writes strings and numbers the
 * same way (escaped text, String(n)), and NULL the same way, so those are handled inline here; timestamps from Date
 * inline too; anything else goes to the column's codec. Measured at 100k rows this halves the encoder's CPU against
 * a codec call per field.
 */
class RowWriter {
  readonly #codecs: ColumnCodec[];
  /** Per column: 0 = generic (codec only), 1 = inline strings/numbers, 2 = that plus Date → timestamp text. */
  readonly #fast: Uint8Array;

  constructor(columnTypes: readonly (string | undefined)[] | undefined, width: number, ser: JsonSerializer) {
    this.#codecs = [];
    this.#fast = new Uint8Array(width);
    for (let i = 0; i < width; i++) {
      const type = columnTypes?.[i];
      this.#codecs.push(columnCodec(type, ser));
      const parsed = parseColumnType(type);
      if (parsed === undefined || parsed.array || parsed.kind !== "json") {
        this.#fast[i] = parsed !== undefined && !parsed.array && parsed.kind === "time" ? 2 : 1;
      }
    }
  }

  field(v: unknown, i: number): string {
    const fast = this.#fast[i];
    if (fast !== 0) {
      if (typeof v === "string") return COPY_SPECIAL.test(v) ? escapeCopyText(v) : v;
      if (typeof v === "number") return String(v);
      if (v === null || v === undefined) return NULL_FIELD;
      if (fast === 2 && v instanceof Date) return timestampText(v);
    }
    return (this.#codecs[i] as ColumnCodec).encode(v);
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

  /** Index of the first row not yet encoded by the last fill(). */
  next = 0;

  /**
   * Encodes rows from `start` until the text reaches `limit` or the rows end; sets `next`. The hot loop lives here,
   * not in the generator, so only objects whose shapes stay alive reach optimised code (see KEEP_WRITER_SHAPE).
   */
  fill(list: readonly unknown[], columns: readonly string[] | undefined, start: number, limit: number): string {
    let chunk = "";
    let r = start;
    while (r < list.length) {
      chunk += this.line(list[r++], columns);
      if (chunk.length >= limit) break;
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
  const writer = new RowWriter(columnTypes, width, options.jsonSerializer ?? defaultJsonSerializer);
  const limit = options.chunkSize ?? DEFAULT_CHUNK;
  if (rows instanceof ObjectRows || Array.isArray(rows)) {
    const list: readonly unknown[] = rows instanceof ObjectRows ? rows.rows : rows;
    const columns = rows instanceof ObjectRows ? rows.columns : undefined;
    for (let r = 0; r < list.length; r = writer.next) yield writer.fill(list, columns, r, limit);
    return;
  }
  let chunk = "";
  for (const row of rows) {
    chunk += writer.line(row, undefined);
    if (chunk.length >= limit) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk.length > 0) yield chunk;
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
  const writer = new RowWriter(columnTypes, width, options.jsonSerializer ?? defaultJsonSerializer);
  const limit = options.chunkSize ?? DEFAULT_CHUNK;
  let chunk = "";
  for await (const row of rows) {
    chunk += writer.line(row, undefined);
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
  const parts: string[] = [];
  for await (const chunk of encodeCopyRows(rows, columnTypes, width, options)) parts.push(chunk);
  return new Blob(parts);
}

/**
 * `COPY table (cols) FROM STDIN` in text format. The table name is parsed like every table name (`schema.table`,
 * quoted parts such as `"Bulk"."Record.Target"`), never pasted; each column is one identifier.
 */
export function copyFromStdinSql(table: string, columns: readonly string[]): string {
  return `COPY ${quoteQualified(table, "postgres")} (${columns.map((c) => quoteIdent(c, "postgres")).join(", ")}) FROM STDIN`;
}
