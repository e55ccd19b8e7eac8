/**
 * JSON handling shared by every layer: an explicit marker for "bind this as JSON", and the default serializer that
 * handles bigint (exact digits), Date (ISO 8601) and Buffer/Uint8Array (PostgreSQL bytea hex text).
 */

import { brand } from "./brand.js";

/** Marks a value to be bound as JSON (json/jsonb), never as a PostgreSQL array. Create it with `sql.json(v)`. */
export class JsonValue {
  static {
    brand(JsonValue, "JsonValue");
  }
  constructor(
    /** The value to serialize (with the config's `jsonSerializer`). */
    readonly value: unknown,
  ) {}
  /** Nested inside other JSON (e.g. a row of a MERGE payload) it serializes as its value, not `{ value }`. */
  toJSON(): unknown {
    return this.value;
  }
}

export function isJsonValue(v: unknown): v is JsonValue {
  return v instanceof JsonValue;
}

function replacer(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value === "bigint") return BIGINT_MARK + value.toString() + BIGINT_MARK;
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString("hex")}`;
  if (value !== null && typeof value === "object" && (value as { type?: unknown }).type === "Buffer") {
    const data = (value as { data?: unknown }).data;
    if (Array.isArray(data)) return `\\x${Buffer.from(data as number[]).toString("hex")}`;
  }
  return value;
}

const BIGINT_MARK = "\u0000bigint\u0000";
const BIGINT_RE = /"\\u0000bigint\\u0000(-?\d+)\\u0000bigint\\u0000"/g;

/**
 * JSON.stringify that writes bigint as an exact JSON number, Date as ISO 8601 (Date#toJSON) and bytes as `\x…` hex.
 * A value JSON cannot hold (a Symbol, a function, NaN/±Infinity, an Invalid Date, a string with a lone surrogate, a
 * Map/Set/Promise/WeakMap/WeakSet) throws a TypeError naming the kind instead of being dropped or written as `null`/`{}`.
 */
export function defaultJsonSerializer(value: unknown): string {
  // The replacer costs ~5× per value; skip it when it would change nothing (no bigint, bytes or foreign toJSON).
  if (scanJson(value, 0)) return JSON.stringify(value) ?? "null";
  const text = JSON.stringify(value, replacer);
  if (text === undefined) return "null";
  return text.includes("bigint") ? text.replace(BIGINT_RE, "$1") : text;
}

/** A value nested in a JSON document that JSON cannot hold. The message names the kind, never the value. */
export class JsonValueError extends TypeError {
  constructor(kind: string) {
    super(`${kind} has no JSON form`);
    this.name = "JsonValueError";
  }
}

const NO_JSON_FORM: readonly [new (...args: never[]) => object, string][] = [
  [Map, "a Map (convert it with Object.fromEntries)"],
  [Set, "a Set (convert it with Array.from)"],
  [WeakMap, "a WeakMap"],
  [WeakSet, "a WeakSet"],
  [Promise, "a Promise (await it first)"],
];

/**
 * Walks `v` once: throws JsonValueError for what JSON would silently drop or change, and answers whether plain
 * JSON.stringify writes exactly what the replacer path would. Deeper than 64 levels it stops checking (a circular
 * value is then left to JSON.stringify, which throws).
 */
function scanJson(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case "string":
      if (!(v as string & { isWellFormed(): boolean }).isWellFormed()) {
        throw new JsonValueError("a string with a lone surrogate (unpaired UTF-16 half)");
      }
      return true;
    case "number":
      if (!Number.isFinite(v)) throw new JsonValueError(Number.isNaN(v) ? "NaN" : "±Infinity");
      return true;
    case "bigint":
      return false;
    case "symbol":
      throw new JsonValueError("a Symbol");
    case "function":
      throw new JsonValueError("a function");
    case "object":
      break;
    default:
      return true; // boolean, undefined (dropped from objects, null in arrays: JSON's own rule)
  }
  if (v === null) return true;
  if (depth > 64) return false;
  if (v instanceof Uint8Array) return false;
  if (Array.isArray(v)) {
    let plain = true;
    for (let i = 0; i < v.length; i++) if (!scanJson(v[i], depth + 1)) plain = false;
    return plain;
  }
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw new JsonValueError("an Invalid Date");
    return true;
  }
  if (v instanceof JsonValue) {
    scanJson(v.value, depth + 1);
    return false;
  }
  const o = v as Record<string, unknown>;
  if (typeof o.toJSON === "function") return false; // its own JSON form (Decimal, Temporal, …)
  if (o.type === "Buffer" && Array.isArray(o.data)) return false;
  for (const [type, kind] of NO_JSON_FORM) if (v instanceof type) throw new JsonValueError(kind);
  let plain = true;
  for (const k in o) {
    if (!(k as string & { isWellFormed(): boolean }).isWellFormed()) {
      throw new JsonValueError("a key with a lone surrogate (unpaired UTF-16 half)");
    }
    if (!scanJson(o[k], depth + 1)) plain = false;
  }
  return plain;
}

/**
 * Rows as the JSON array of a json_to_recordset / json_populate_recordset source, by core/values' column rules (the
 * same values COPY writes). Pass the columns' catalog types where known: a json/jsonb column then takes strings as
 * JSON text, an array column takes JS arrays as PostgreSQL arrays.
 */
export { encodeRecordsJson as serializeRecords } from "./values.js";

/**
 * `JSON.parse`: the default `driverFeatures.jsonDeserializer` (numbers beyond 2^53 lose precision, as in JSON.parse).
 */
export function defaultJsonDeserializer(text: string): unknown {
  return JSON.parse(text);
}

/**
 * Turns a value bound as JSON into JSON text (`driverFeatures.jsonSerializer`; default {@link defaultJsonSerializer}).
 */
export type JsonSerializer = (value: unknown) => string;
/** Parses JSON text read from a json/jsonb column (`driverFeatures.jsonDeserializer`; default `JSON.parse`). */
export type JsonDeserializer = (text: string) => unknown;
