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
 */
export function defaultJsonSerializer(value: unknown): string {
  // The replacer costs ~5× per value; skip it when it would change nothing (no bigint, bytes or foreign toJSON).
  if (plainJsonSafe(value, 0)) return JSON.stringify(value) ?? "null";
  const text = JSON.stringify(value, replacer);
  if (text === undefined) return "null";
  return text.includes("bigint") ? text.replace(BIGINT_RE, "$1") : text;
}

/** True when plain JSON.stringify writes exactly what the replacer-based path would. */
function plainJsonSafe(v: unknown, depth: number): boolean {
  if (typeof v === "bigint") return false;
  if (typeof v !== "object" || v === null) return true;
  if (depth > 32 || v instanceof Uint8Array) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!plainJsonSafe(v[i], depth + 1)) return false;
    return true;
  }
  if (v instanceof Date) return true;
  const o = v as Record<string, unknown>;
  if (typeof o.toJSON === "function" || (o.type === "Buffer" && Array.isArray(o.data))) return false;
  for (const k in o) if (!plainJsonSafe(o[k], depth + 1)) return false;
  return true;
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
