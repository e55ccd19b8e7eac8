/**
 * What a JS value becomes on its way to the database and back: one set of rules for every adapter and every path
 * (bound parameters, the JSON source of upsert/MERGE, COPY), so a result never depends on the strategy or the
 * driver. Adapters install these; new adapters (SQLite, DuckDB, MySQL) reuse the int8 and timestamp readers.
 *
 * Writing, per value (PostgreSQL text input; `json` = a json/jsonb column or parameter):
 *   null/undefined → NULL · string → as is (in json: JSON text, checked) · number → String(n), NaN/±Infinity spelled
 *   as PostgreSQL reads them (no JSON form: in json they are rejected) · bigint → digits · boolean → true/false ·
 *   Date → UTC `YYYY-MM-DD HH:MM:SS.mmm+00` (BC and 5-digit years too; in json: the serializer's form) ·
 *   bytes → `\x…` hex · sql.json(v) → the serializer's JSON · array → PostgreSQL array (json: JSON array) ·
 *   plain object → JSON · class instance → its own toString() when it has one, else JSON ·
 *   Symbol, function, Invalid Date, unserializable object → ParameterError naming the parameter or column.
 */
import { formatPgTimestamp, MAX_DATE_MS, parsePgTimestampMs } from "./datetime.js";
import { DataError, ParameterError } from "./errors.js";
import { defaultJsonSerializer, isJsonValue, type JsonSerializer, JsonValueError } from "./json.js";

/** How int8/BIGINT columns read: `number` (DataError beyond ±2^53 − 1, never a silent rounding), `bigint`, `string`. */
export type Int8Mode = "number" | "bigint" | "string";
/** How date/timestamp/timestamptz columns read: `Date` (millisecond precision), or the server's exact text. */
export type TimestampMode = "date" | "string";

export const DEFAULT_INT8_MODE: Int8Mode = "number";
export const DEFAULT_TIMESTAMP_MODE: TimestampMode = "date";

// ---------------------------------------------------------------------------------------------------- reading

/** The reader for types whose value is the server's text (one function, so tables can tell "no parser" apart). */
export const asText = (text: string): string => text;
const identity = asText;

function int8Overflow(): DataError {
  return new DataError(
    'An int8/BIGINT value is outside ±2^53 − 1 and cannot be read as a JS number without losing precision; set driverFeatures.int8 to "bigint" or "string"',
    { sqlState: "22003" },
  );
}

function int8AsNumber(text: string): number {
  const n = Number(text);
  // 15 digits or fewer always fit in a double exactly.
  if (text.length > 15 && !Number.isSafeInteger(n)) throw int8Overflow();
  return n;
}

function int8AsBigInt(text: string): bigint {
  return BigInt(text);
}

/** Reader for int8 text (PostgreSQL, MySQL) in the given mode. */
export function int8TextReader(mode: Int8Mode): (text: string) => number | bigint | string {
  return mode === "bigint" ? int8AsBigInt : mode === "string" ? identity : int8AsNumber;
}

/** Converts an int8 a driver already decoded (number, bigint or digits) to the mode's JS type. */
export function toInt8(value: number | bigint | string, mode: Int8Mode): number | bigint | string {
  if (mode === "bigint") return typeof value === "bigint" ? value : BigInt(value);
  if (mode === "string") return String(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) && Number.isInteger(value)) throw int8Overflow();
    return value;
  }
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw int8Overflow();
  return n;
}

function outOfDateRange(): DataError {
  return new DataError(
    'A date/timestamp value is outside the range of a JS Date; set driverFeatures.timestamps to "string" to read it',
    { sqlState: "22008" },
  );
}

/** date/timestamp/timestamptz text → Date: an instant with a zone, UTC without one; ±infinity → Date at ±8.64e15. */
export function parsePgDate(text: string): Date {
  const ms = parsePgTimestampMs(text);
  if (!(Math.abs(ms) <= MAX_DATE_MS)) throw outOfDateRange();
  return new Date(ms);
}

/** Reader for date/timestamp/timestamptz text in the given mode. */
export function timestampTextReader(mode: TimestampMode): (text: string) => Date | string {
  return mode === "string" ? identity : parsePgDate;
}

// ---------------------------------------------------------------------------------------------------- writing

/**
 * The mark of a parameter array sqlspec built itself whose every value is a string, a number or null (see markPlain):
 * a property under a symbol no other module holds, so no array from outside can carry it. A property, not a WeakSet:
 * a WeakSet entry per bulk statement cost ~3k instructions (ephemeron table growth, write barriers), a property one
 * map transition shared by every marked array.
 */
const PLAIN = Symbol("sqlspec.plain");

/**
 * Marks a parameter array sqlspec built and checked itself (bulk VALUES chunks) as holding only values the adapter binds
 * as they are (strings, numbers and nulls, or what the adapter's own BulkCapabilities.encodeValue returned): its
 * encoder may pass it on without looking at each value again. The array must not be changed afterwards.
 */
export function markPlain<T extends readonly unknown[]>(values: T): T {
  (values as unknown as Record<symbol, true>)[PLAIN] = true;
  return values;
}

/** Whether markPlain marked this array. */
export function isPlain(values: readonly unknown[]): boolean {
  return (values as unknown as Record<symbol, true | undefined>)[PLAIN] === true;
}

/**
 * A value that cannot be written. Raised deep in an encoder without knowing where the value came from; the caller
 * that knows (parameter $n, column c of row r) rethrows it as a ParameterError naming the place.
 */
export class InvalidValueError extends ParameterError {
  constructor(
    readonly reason: string,
    cause?: unknown,
  ) {
    super(reason, cause === undefined ? {} : { cause });
  }
}

/** Rethrows an InvalidValueError (or a serializer's TypeError) as a ParameterError naming `where`. */
export function invalidAt(err: unknown, where: string): unknown {
  if (err instanceof InvalidValueError) return new ParameterError(`${where}: ${err.reason}`, { cause: err.cause });
  if (err instanceof TypeError || err instanceof RangeError) {
    return new ParameterError(`${where}: the value cannot be serialized (${err.constructor.name})`, { cause: err });
  }
  return err;
}

function describeBad(v: unknown): string {
  return typeof v === "symbol" ? "a Symbol" : typeof v === "function" ? "a function" : `a ${typeof v}`;
}

/**
 * A string with a lone surrogate (half of a UTF-16 pair) has no UTF-8 form: drivers would send U+FFFD in its place,
 * silently changing the value. Raises InvalidValueError (the value itself is never in the message).
 */
export function checkWellFormed(s: string): string {
  const reason = loneSurrogateReason(s);
  if (reason !== undefined) throw new InvalidValueError(reason);
  return s;
}

/** Why a string cannot be stored (it has a lone surrogate), or undefined. */
export function loneSurrogateReason(s: string): string | undefined {
  // ES2024 (Node ≥ 20); the project's lib is ES2022.
  if ((s as string & { isWellFormed(): boolean }).isWellFormed()) return undefined;
  return "a string with a lone surrogate (unpaired UTF-16 half) has no UTF-8 form";
}

/** ParameterError reason for a value no database type can hold. */
export function badValue(v: unknown): InvalidValueError {
  return new InvalidValueError(`${describeBad(v)} cannot be bound as a value`);
}

function invalidDate(): InvalidValueError {
  return new InvalidValueError("an Invalid Date cannot be bound as a value");
}

/** A Date as timestamp input text, or InvalidValueError. */
export function dateText(d: Date): string {
  const t = d.getTime();
  if (Number.isNaN(t)) throw invalidDate();
  return formatPgTimestamp(d);
}

function nonFiniteInJson(): InvalidValueError {
  return new InvalidValueError("NaN and ±Infinity have no JSON form and cannot be stored in a json/jsonb column");
}

/** JSON text of `v`, with a serializer failure (circular object, bigint in a plain serializer) as InvalidValueError. */
export function serializeJson(v: unknown, ser: JsonSerializer): string {
  let text: string | undefined;
  try {
    text = ser(v);
  } catch (err) {
    if (err instanceof JsonValueError) throw new InvalidValueError(`${err.message}: it cannot be stored as JSON`);
    throw new InvalidValueError("the value cannot be serialized to JSON (circular or unsupported)", err);
  }
  if (typeof text !== "string") throw new InvalidValueError("the JSON serializer returned no text for the value");
  return text;
}

/** A string bound to json/jsonb is JSON text (one rule on every path; sql.json(s) stores a JSON string). */
export function checkJsonText(s: string): string {
  try {
    JSON.parse(s);
  } catch {
    throw new InvalidValueError(
      "a string bound to a json/jsonb column must be JSON text; wrap it in sql.json(value) to store a JSON string",
    );
  }
  return s;
}

function bytesHex(v: Uint8Array): string {
  return `\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex")}`;
}

const OBJECT_TO_STRING = Object.prototype.toString;

/** A class instance (Decimal, a Temporal value, …) is its own toString() text when it has one, else JSON. */
export function objectText(v: object, ser: JsonSerializer): string {
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null && (v as { toString(): string }).toString !== OBJECT_TO_STRING) {
    return String(v);
  }
  return serializeJson(v, ser);
}

/** Elements of a typed array (Float32Array, …; not bytes) as a plain array. */
function asArray(v: unknown): readonly unknown[] | undefined {
  if (Array.isArray(v)) return v;
  if (ArrayBuffer.isView(v) && !(v instanceof Uint8Array) && !(v instanceof DataView)) {
    return Array.from(v as unknown as ArrayLike<number>);
  }
  return undefined;
}

/**
 * A non-array value as PostgreSQL text input (before any COPY escaping), or null for NULL. `json`: the target is
 * json/jsonb. Throws InvalidValueError for values no type can hold.
 */
export function scalarText(v: unknown, json: boolean, ser: JsonSerializer): string | null {
  switch (typeof v) {
    case "string":
      if (!json) return v;
      checkJsonText(v);
      // JSON null in a json column is SQL NULL on every bulk path (a json_to_recordset source cannot carry it).
      return v.length <= 8 && v.trim() === "null" ? null : v;
    case "number":
      if (json && !Number.isFinite(v)) throw nonFiniteInJson();
      return String(v);
    case "bigint":
      return v.toString();
    case "boolean":
      return v ? "true" : "false";
    case "undefined":
      return null;
    case "symbol":
    case "function":
      throw badValue(v);
    default:
      break;
  }
  if (v === null) return null;
  // Before the json branch: JSON.stringify writes an Invalid Date as null, which COPY would store as JSON null and
  // json_to_recordset as SQL NULL. It is a typed error on every path instead, as in execute().
  if (v instanceof Date && Number.isNaN(v.getTime())) throw invalidDate();
  if (isJsonValue(v)) {
    const text = serializeJson(v.value, ser);
    // JSON null in a json column is SQL NULL on every bulk path (a json_to_recordset source cannot carry it).
    return json && text === "null" ? null : text;
  }
  if (json) return serializeJson(v, ser);
  if (v instanceof Date) return dateText(v);
  if (v instanceof Uint8Array) return bytesHex(v);
  const arr = asArray(v);
  if (arr !== undefined) return serializeJson(arr, ser);
  return objectText(v as object, ser);
}

const ARRAY_NEEDS_QUOTES = /[{}",\\\s]/;
const ARRAY_QUOTE_ESCAPES = /[\\"]/g;

function arrayElement(s: string): string {
  if (s === "" || ARRAY_NEEDS_QUOTES.test(s) || (s.length === 4 && s.toUpperCase() === "NULL")) {
    return `"${s.replace(ARRAY_QUOTE_ESCAPES, "\\$&")}"`;
  }
  return s;
}

/**
 * PostgreSQL array literal (`{a,"b c",NULL,{1,2}}`): nested arrays are extra dimensions, elements follow
 * scalarText (`json`: the element type is json/jsonb). The one array encoder for parameters and COPY.
 */
export function pgArrayLiteral(arr: readonly unknown[], json: boolean, ser: JsonSerializer, delimiter = ","): string {
  let out = "{";
  for (let i = 0; i < arr.length; i++) {
    if (i > 0) out += delimiter;
    const v = arr[i];
    const nested = asArray(v);
    if (nested !== undefined && !isJsonValue(v)) {
      out += pgArrayLiteral(nested, json, ser, delimiter);
      continue;
    }
    const text = scalarText(v, json, ser);
    out += text === null ? "NULL" : arrayElement(text);
  }
  return `${out}}`;
}

// ---------------------------------------------------------------------------------------------------- bulk columns

/**
 * How a bulk path writes one column, from its catalog type. A JS array follows the column's type, as a bound
 * parameter follows the type the server reports: JSON for json/jsonb, pgvector text (`[1,2]`) for a vector, and a
 * PostgreSQL array literal for every other type (arrays, domains over arrays, text: `{1,2}`). Any: no type known
 * (an array is a PostgreSQL array); Scalar: any other non-array type (text, numeric, a domain, …); Json; Array: an
 * array of a non-JSON type; JsonArray; Vector: pgvector's `vector` or `halfvec`.
 */
export const ColumnKind = { Any: 0, Scalar: 1, Json: 2, Array: 3, JsonArray: 4, Vector: 5 } as const;
export type ColumnKind = (typeof ColumnKind)[keyof typeof ColumnKind];

/** `vector`, `vector(3)`, `halfvec(3)`, schema-qualified too (format_type qualifies a type off the search_path). */
const VECTOR_TYPE = /^(?:[^.]+\.)?"?(?:vector|halfvec)"?(?:\(\d+\))?$/;

/** The kind of a column from its format_type text (`integer`, `jsonb`, `text[]`, `vector(3)`, …). */
export function columnKind(type: string | undefined): ColumnKind {
  if (type === undefined || type === "") return ColumnKind.Any;
  let t = type.trim().toLowerCase();
  const array = t.endsWith("[]");
  if (array) t = t.replace(/(\[\])+$/, "");
  const json = t === "json" || t === "jsonb";
  if (array) return json ? ColumnKind.JsonArray : ColumnKind.Array;
  return json ? ColumnKind.Json : VECTOR_TYPE.test(t) ? ColumnKind.Vector : ColumnKind.Scalar;
}

/** pgvector text (`[1,2.5]`) of an array's elements; a non-number element is its text (the server checks it). */
function vectorText(arr: readonly unknown[], ser: JsonSerializer): string {
  let out = "[";
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    out += (i > 0 ? "," : "") + (typeof v === "number" ? String(v) : (scalarText(v, false, ser) ?? "NULL"));
  }
  return `${out}]`;
}

/** An array's text for a column of `kind` (see ColumnKind): the same on the COPY and the JSON paths. */
function arrayText(arr: readonly unknown[], kind: ColumnKind, ser: JsonSerializer): string {
  if (kind === ColumnKind.Vector) return vectorText(arr, ser);
  if (kind === ColumnKind.Json) return serializeJson(arr, ser);
  return pgArrayLiteral(arr, kind === ColumnKind.JsonArray, ser);
}

/** A column value as PostgreSQL text input for COPY (before COPY escaping), or null for NULL. */
export function columnText(v: unknown, kind: ColumnKind, ser: JsonSerializer): string | null {
  const arr = asArray(v);
  if (arr !== undefined) return arrayText(arr, kind, ser);
  // A pre-formatted literal ("{1,2}") or sql.json() marker goes through as text.
  return scalarText(v, kind === ColumnKind.Json, ser);
}

const NON_FINITE_JSON: Readonly<Record<string, string>> = {
  NaN: '"NaN"',
  Infinity: '"Infinity"',
  "-Infinity": '"-Infinity"',
};

/**
 * A non-array value as JSON for a json_to_recordset source: the JSON whose text json_to_recordset hands to the
 * column's input function is exactly columnText's, so the JSON and COPY paths store the same values.
 */
function scalarJson(v: unknown, json: boolean, ser: JsonSerializer): string {
  switch (typeof v) {
    case "string":
      if (!json) return JSON.stringify(v);
      checkJsonText(v);
      return v.length <= 8 && v.trim() === "null" ? "null" : v;
    case "number":
      if (Number.isFinite(v)) return String(v);
      if (json) throw nonFiniteInJson();
      return NON_FINITE_JSON[String(v)] as string;
    case "bigint":
      return v.toString();
    case "boolean":
      return v ? "true" : "false";
    case "undefined":
      return "null";
    case "symbol":
    case "function":
      throw badValue(v);
    default:
      break;
  }
  if (v === null) return "null";
  if (v instanceof Date && !json) return `"${dateText(v)}"`;
  const text = scalarText(v, json, ser);
  if (text === null) return "null";
  return json ? text : JSON.stringify(text);
}

function arrayJson(arr: readonly unknown[], json: boolean, ser: JsonSerializer): string {
  let out = "[";
  for (let i = 0; i < arr.length; i++) {
    if (i > 0) out += ",";
    const v = arr[i];
    const nested = asArray(v);
    out += nested !== undefined && !isJsonValue(v) ? arrayJson(nested, json, ser) : scalarJson(v, json, ser);
  }
  return `${out}]`;
}

/**
 * A column value as JSON for a json_to_recordset source (see scalarJson): an array for an array column (the record
 * function builds the array from it), JSON for a json column, and otherwise the JSON string of COPY's text for it.
 */
export function columnJson(v: unknown, kind: ColumnKind, ser: JsonSerializer): string {
  const arr = asArray(v);
  if (arr !== undefined) {
    if (kind === ColumnKind.Array || kind === ColumnKind.JsonArray || kind === ColumnKind.Any) {
      return arrayJson(arr, kind === ColumnKind.JsonArray, ser);
    }
    return kind === ColumnKind.Json
      ? serializeJson(arr, ser)
      : JSON.stringify(checkWellFormed(arrayText(arr, kind, ser)));
  }
  return scalarJson(v, kind === ColumnKind.Json, ser);
}

/**
 * Rows (objects read by `columns`) as the JSON array a `json_to_recordset` source reads, column by column with the
 * same value rules as COPY. `types` are the columns' catalog types (undefined: the values decide). Strings, numbers,
 * Dates and nulls are written inline; a bad value raises ParameterError naming its column and row, before any I/O.
 */
export function encodeRecordsJson(
  rows: readonly unknown[],
  columns: readonly string[],
  types?: readonly (string | undefined)[],
  ser: JsonSerializer = defaultJsonSerializer,
): string {
  const width = columns.length;
  const names = columns.map((k, i) => `${i === 0 ? "{" : ","}${JSON.stringify(k)}:`);
  const kinds = columns.map((_, i) => columnKind(types?.[i]));
  let out = "[";
  let r = 0;
  let c = 0;
  try {
    for (; r < rows.length; r++) {
      const row = rows[r] as Readonly<Record<string, unknown>>;
      out += r === 0 ? "" : ",";
      for (c = 0; c < width; c++) {
        const v = row[columns[c] as string];
        const kind = kinds[c] as ColumnKind;
        let text: string;
        if (typeof v === "string" && kind !== ColumnKind.Json) text = JSON.stringify(checkWellFormed(v));
        else if (typeof v === "number" && Number.isFinite(v)) text = String(v);
        else if (v === null || v === undefined) text = "null";
        else if (v instanceof Date && kind !== ColumnKind.Json) text = `"${dateText(v)}"`;
        else text = columnJson(v, kind, ser);
        out += (names[c] as string) + text;
      }
      out += width === 0 ? "{}" : "}";
    }
  } catch (err) {
    throw invalidAt(err, `column "${columns[c]}" of row ${r}`);
  }
  return `${out}]`;
}
