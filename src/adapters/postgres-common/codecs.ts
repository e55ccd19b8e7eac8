/**
 * Value codecs shared by the PostgreSQL adapters: int8 without loss, pgvector text form, JSON binding.
 */
import { isJsonValue, type JsonSerializer } from "../../core/json.js";

/** OIDs of built-in types the adapters register parsers for. */
export const PgOid = {
  INT8: 20,
  JSON: 114,
  JSONB: 3802,
  NUMERIC: 1700,
  BYTEA: 17,
  TIMESTAMPTZ: 1184,
  INT8_ARRAY: 1016,
} as const;

/**
 * int8 comes back as a JS number while it is exactly representable, and as a bigint beyond 2^53 - 1: ids and
 * counts stay ergonomic, and nothing ever loses precision.
 */
export function parseInt8(text: string): number | bigint {
  // 15 digits or fewer always fit in a double exactly.
  if (text.length <= 15) return Number(text);
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

/** bytea hex text (`\\x6869`) → Buffer. */
export function parseBytea(text: string): Buffer {
  return text.startsWith("\\x") ? Buffer.from(text.slice(2), "hex") : Buffer.from(text, "binary");
}

/** pgvector text `[1,2,3]` → number[]. */
export function parseVector(text: string): number[] {
  if (text.length <= 2) return [];
  const parts = text.slice(1, -1).split(",");
  const out = new Array<number>(parts.length);
  for (let i = 0; i < parts.length; i++) out[i] = Number(parts[i]);
  return out;
}

/** number[] / Float32Array → pgvector text `[1,2,3]`. */
export function formatVector(value: ArrayLike<number>): string {
  return `[${Array.prototype.join.call(value, ",")}]`;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Encodes a bound value for drivers that take JSON as text: JsonValue markers and plain objects become JSON text;
 * everything else (arrays, Date, Buffer, bigint, primitives) is left for the driver's own serializer.
 */
export function encodeJsonParam(value: unknown, serialize: JsonSerializer): unknown {
  if (isJsonValue(value)) return serialize(value.value);
  if (isPlainObject(value)) return serialize(value);
  return value;
}

export const VECTOR_TYPE_SQL =
  "SELECT oid::int AS oid, typarray::int AS array_oid FROM pg_type WHERE typname = 'vector'";
