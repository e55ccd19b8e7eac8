/**
 * Values to and from @duckdb/node-api, decoded to plain JS the way the PostgreSQL adapters decode them:
 *
 *   read:  BIGINT/HUGEINT (and unsigned) → the `driverFeatures.int8` rule (never a rounded number) · DECIMAL → exact
 *          string · TIMESTAMP/TIMESTAMPTZ/DATE → Date (`timestamps: "date"`) or DuckDB's text · JSON → parsed, at
 *          any depth (inside STRUCT, LIST, MAP too) · BLOB → Buffer · UUID, TIME, ENUM, INTERVAL → DuckDB's text (as
 *          PostgreSQL's interval is its text) · LIST/ARRAY → array · STRUCT → object
 *   bind:  Date → TIMESTAMPTZ · Uint8Array → BLOB · arrays, plain objects, sql.json(v) → JSON text · boolean, string,
 *          number, bigint, null as themselves
 */
import type * as DuckDB from "@duckdb/node-api";
import { ParameterError } from "../../core/errors.js";
import { isJsonValue, type JsonDeserializer, type JsonSerializer } from "../../core/json.js";
import {
  badValue,
  checkWellFormed,
  type Int8Mode,
  invalidAt,
  objectText,
  serializeJson,
  type TimestampMode,
  toInt8,
} from "../../core/values.js";

export type DuckdbModule = typeof DuckDB;

export interface DuckdbReadOptions {
  int8: Int8Mode;
  timestamps: TimestampMode;
  json: JsonDeserializer | undefined;
}

type Converter = DuckDB.DuckDBValueConverter<unknown>;

/** The value converter for results (one per adapter). */
export function resultConverter(duck: DuckdbModule, o: DuckdbReadOptions): Converter {
  const T = duck.DuckDBTypeId;
  const V = duck;
  const int8 = (value: DuckDB.DuckDBValue): unknown => toInt8(value as bigint, o.int8);
  const text = (value: DuckDB.DuckDBValue): unknown => String(value);
  // JSON is VARCHAR with the alias "JSON", which the converter sees at every depth (a STRUCT field, a LIST item).
  const parse = o.json;
  const varchar: DuckDB.DuckDBValueConverterFor<unknown, unknown> =
    parse === undefined
      ? V.stringFromValue
      : (value, type) => (type.alias === "JSON" ? parse(value as string) : (value as string));
  const date =
    o.timestamps === "date"
      ? (f: (v: DuckDB.DuckDBValue) => Date) => (value: DuckDB.DuckDBValue) => {
          const d = f(value);
          return Number.isNaN(d.getTime()) ? String(value) : d;
        }
      : () => text;
  const byType: Record<number, DuckDB.DuckDBValueConverterFor<unknown, unknown>> = {
    [T.BOOLEAN]: V.booleanFromValue,
    [T.TINYINT]: V.numberFromValue,
    [T.SMALLINT]: V.numberFromValue,
    [T.INTEGER]: V.numberFromValue,
    [T.UTINYINT]: V.numberFromValue,
    [T.USMALLINT]: V.numberFromValue,
    [T.UINTEGER]: V.numberFromValue,
    [T.FLOAT]: V.numberFromValue,
    [T.DOUBLE]: V.numberFromValue,
    [T.BIGINT]: int8,
    [T.UBIGINT]: int8,
    [T.HUGEINT]: int8,
    [T.UHUGEINT]: int8,
    [T.BIGNUM]: int8,
    [T.DECIMAL]: text,
    [T.VARCHAR]: varchar,
    [T.BLOB]: (value) => {
      const b = (value as DuckDB.DuckDBBlobValue).bytes;
      return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    },
    [T.UUID]: text,
    [T.ENUM]: V.stringFromValue,
    [T.TIME]: text,
    [T.TIME_NS]: text,
    [T.TIME_TZ]: text,
    [T.INTERVAL]: text,
    [T.DATE]: date(V.dateFromDateValue),
    [T.TIMESTAMP]: date(V.dateFromTimestampValue),
    [T.TIMESTAMP_TZ]: date(V.dateFromTimestampTZValue),
    [T.TIMESTAMP_S]: date(V.dateFromTimestampSecondsValue),
    [T.TIMESTAMP_MS]: date(V.dateFromTimestampMillisecondsValue),
    [T.TIMESTAMP_NS]: date(V.dateFromTimestampNanosecondsValue),
    [T.LIST]: V.arrayFromListValue,
    [T.ARRAY]: V.arrayFromArrayValue,
    [T.STRUCT]: V.objectFromStructValue,
    [T.MAP]: V.objectArrayFromMapValue,
    [T.UNION]: V.objectFromUnionValue,
    [T.BIT]: text,
    [T.SQLNULL]: V.nullConverter,
  };
  return duck.createDuckDBValueConverter(byType as never) as Converter;
}

/**
 * Parameters as DuckDB binds them. Returns `params` itself when nothing needs converting. An unbindable value raises
 * ParameterError naming its position.
 */
export function encodeParams(duck: DuckdbModule, params: unknown[], ser: JsonSerializer): DuckDB.DuckDBValue[] {
  for (let i = 0; i < params.length; i++) {
    const v = params[i];
    const t = typeof v;
    if (
      t === "string"
        ? isWellFormed(v as string)
        : t === "number" || t === "boolean" || v === null || (t === "bigint" && inHugeint(v as bigint))
    ) {
      continue;
    }
    const out = params.slice();
    for (let j = i; j < params.length; j++) {
      try {
        out[j] = encodeValue(duck, params[j], ser);
      } catch (err) {
        throw invalidAt(err, `Parameter ${j + 1}`);
      }
    }
    return out as DuckDB.DuckDBValue[];
  }
  return params as DuckDB.DuckDBValue[];
}

const HUGEINT_MAX = 2n ** 127n - 1n;
const HUGEINT_MIN = -(2n ** 127n);

/** A bigint binds as HUGEINT: one outside its range would fail in DuckDB's binding, after earlier I/O. */
function inHugeint(v: bigint): boolean {
  return v >= HUGEINT_MIN && v <= HUGEINT_MAX;
}

/** A string with no lone surrogate (String.prototype.isWellFormed: ES2024, Node ≥ 20; the project's lib is ES2022). */
export function isWellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

export function encodeValue(duck: DuckdbModule, v: unknown, ser: JsonSerializer): DuckDB.DuckDBValue {
  switch (typeof v) {
    case "string":
      // DuckDB would store U+FFFD in place of a lone surrogate.
      return checkWellFormed(v);
    case "bigint":
      if (!inHugeint(v)) throw new ParameterError("a bigint beyond HUGEINT (±2^127) cannot be bound as a value");
      return v;
    case "number":
    case "boolean":
      return v;
    case "undefined":
      return null;
    case "object": {
      if (v === null) return null;
      if (v instanceof Date) {
        const ms = v.getTime();
        if (Number.isNaN(ms)) throw new ParameterError("an Invalid Date cannot be bound as a value");
        return new duck.DuckDBTimestampTZValue(BigInt(ms) * 1000n);
      }
      if (v instanceof Uint8Array) return new duck.DuckDBBlobValue(v);
      if (isJsonValue(v)) return serializeJson(v.value, ser);
      return Array.isArray(v) ? serializeJson(v, ser) : objectText(v, ser);
    }
    default:
      throw badValue(v);
  }
}

/**
 * Names of the result columns DuckDB typed as JSON (VARCHAR aliased JSON), or undefined when there are none. The
 * converter sees the alias on nested types only (a result column's vector type has none), so top-level JSON columns
 * are parsed here, after conversion.
 */
export function jsonColumns(result: DuckDB.DuckDBResult): string[] | undefined {
  const out: string[] = [];
  const n = result.columnCount;
  for (let i = 0; i < n; i++) {
    if (result.columnType(i).alias === "JSON") out.push(result.columnName(i));
  }
  return out.length > 0 ? out : undefined;
}

/** Parses the JSON columns of converted rows in place. */
export function parseJsonColumns(
  rows: Record<string, unknown>[],
  columns: readonly string[],
  parse: JsonDeserializer,
): void {
  for (const row of rows) {
    for (const c of columns) {
      const v = row[c];
      if (typeof v === "string") row[c] = parse(v);
    }
  }
}
