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
import { quoteIdentifier, quoteQualified } from "../../core/identifiers.js";
import { defaultJsonSerializer, isJsonValue, type JsonSerializer } from "../../core/json.js";

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
  // PostgreSQL spells the non-finite floats this way for float and numeric; JSON has no spelling for them.
  if (Number.isNaN(n)) return "NaN";
  if (n === Number.POSITIVE_INFINITY) return "Infinity";
  if (n === Number.NEGATIVE_INFINITY) return "-Infinity";
  return String(n);
}

const TWO = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i)));
const DAY_MS = 86_400_000;

/**
 * `YYYY-MM-DD HH:MM:SS.mmm+00`, what Date#toISOString says but about 5× faster (it dominated COPY encoding), and
 * valid for PostgreSQL outside years 1–9999 too (BC years, 5+ digit years) where toISOString's form is not.
 */
export function timestampText(d: Date): string {
  const t = d.getTime();
  if (!Number.isFinite(t)) throw new RangeError("Invalid Date cannot be sent to PostgreSQL");
  let days = Math.floor(t / DAY_MS);
  let ms = t - days * DAY_MS;
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm), proleptic Gregorian like PostgreSQL.
  days += 719468;
  const era = Math.floor(days / 146097);
  const doe = days - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  let year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const bc = year <= 0;
  if (bc) year = 1 - year;
  const h = Math.floor(ms / 3_600_000);
  ms -= h * 3_600_000;
  const m = Math.floor(ms / 60_000);
  ms -= m * 60_000;
  const sec = Math.floor(ms / 1000);
  ms -= sec * 1000;
  const yyyy = year >= 1000 ? String(year) : String(year).padStart(4, "0");
  const mmm = ms >= 100 ? String(ms) : ms >= 10 ? `0${ms}` : `00${ms}`;
  return `${yyyy}-${TWO[month]}-${TWO[day]} ${TWO[h]}:${TWO[m]}:${TWO[sec]}.${mmm}+00${bc ? " BC" : ""}`;
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
  const ser = options.jsonSerializer ?? defaultJsonSerializer;
  const limit = options.chunkSize ?? DEFAULT_CHUNK;
  const codecs: ColumnCodec[] = [];
  for (let i = 0; i < width; i++) codecs.push(columnCodec(columnTypes?.[i], ser));
  let chunk = "";
  if (isAsyncIterable<readonly unknown[]>(rows)) {
    for await (const row of rows) {
      chunk += `${encodeCopyRow(row, codecs)}\n`;
      if (chunk.length >= limit) {
        yield chunk;
        chunk = "";
      }
    }
  } else {
    // Sync sources are encoded without an await per row: that alone costs ~10% on large arrays.
    for (const row of rows) {
      chunk += `${encodeCopyRow(row, codecs)}\n`;
      if (chunk.length >= limit) {
        yield chunk;
        chunk = "";
      }
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

/** Quotes `schema.table` part by part; a name that already contains quotes is trusted as written. */
function quoteTable(name: string): string {
  return name.includes('"') ? name : quoteQualified(name, "postgres");
}

/** `COPY table (cols) FROM STDIN` in text format. */
export function copyFromStdinSql(table: string, columns: readonly string[]): string {
  return `COPY ${quoteTable(table)} (${columns.map((c) => quoteIdentifier(c, "postgres")).join(", ")}) FROM STDIN`;
}
