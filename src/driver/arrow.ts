/**
 * Apache Arrow output and input for sessions: `selectToArrow` builds record batches whose schema comes from the
 * result's column types as the adapter reports them (PostgreSQL type OIDs), never from the values, and fills the
 * buffers directly (no per-value builder calls). `loadArrow` turns a Table back into value rows for loadRecords.
 * `apache-arrow` is an optional peer, imported on first use.
 */
import type * as ArrowNs from "apache-arrow";
import { DataError, ParameterError, UnsupportedOperationError } from "../core/errors.js";
import type { JsonSerializer } from "../core/json.js";
import type { Row } from "../core/types.js";
import type { ResultColumnType } from "./adapter.js";
import { arrowRows } from "./arrow-input.js";
import { parseTimestampMicros, parseTimestampMs } from "./arrow-time.js";
import { importDriver, rethrow } from "./dependencies.js";

type Arrow = typeof ArrowNs;

/** A Decimal128 column type: total digits and digits after the point. */
export interface ArrowDecimal {
  /** Total significant digits, 1–38. */
  precision: number;
  /** Digits after the decimal point, 0–precision. */
  scale: number;
}

/** How `selectToArrow` maps values that have more than one honest Arrow form. */
export interface ArrowConversionOptions {
  /**
   * numeric/DECIMAL columns: `"string"` (default) keeps the exact text as Utf8; `{ precision, scale }` makes every
   * numeric column a Decimal128 of that precision and scale. A value with more digits than that raises DataError
   * (never rounded); cast in SQL (`price::numeric(12,2)`) to round on the server.
   */
  numeric?: "string" | ArrowDecimal;
}

let loading: Promise<Arrow> | undefined;

/** Imports apache-arrow once; a missing package raises MissingDependencyError naming it. */
export function loadArrowModule(feature: string): Promise<Arrow> {
  loading ??= importDriver("apache-arrow", feature, async () => {
    const mod = (await import("apache-arrow").catch(rethrow)) as Arrow & { default?: Arrow };
    return mod.default !== undefined && "Table" in mod.default ? mod.default : mod;
  }).catch((err) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

/** Checks the conversion options before any I/O. */
export function checkArrowOptions(options: ArrowConversionOptions | undefined): void {
  const numeric = options?.numeric;
  if (numeric === undefined || numeric === "string") return;
  const ok =
    typeof numeric === "object" &&
    numeric !== null &&
    Number.isInteger(numeric.precision) &&
    Number.isInteger(numeric.scale) &&
    numeric.precision >= 1 &&
    numeric.precision <= 38 &&
    numeric.scale >= 0 &&
    numeric.scale <= numeric.precision;
  if (!ok) {
    throw new ParameterError(
      'selectToArrow numeric must be "string" or { precision: 1–38, scale: 0–precision } (a Decimal128 type)',
    );
  }
}

/** Builds record batches for one result's columns (one schema for every batch of a stream). */
export class ArrowBatchBuilder {
  readonly schema: ArrowNs.Schema;
  readonly #arrow: Arrow;
  readonly #columns: readonly string[];
  readonly #types: readonly ResultColumnType[];
  readonly #arrowTypes: ArrowNs.DataType[];
  readonly #decimal: ArrowDecimal | undefined;
  readonly #json: JsonSerializer;

  constructor(
    arrow: Arrow,
    columns: readonly string[],
    types: readonly ResultColumnType[],
    options: ArrowConversionOptions | undefined,
    json: JsonSerializer,
  ) {
    if (types.length !== columns.length) {
      // No types reported (a driver path without field metadata) or names that collapsed (duplicate column names).
      throw new UnsupportedOperationError(
        `selectToArrow: ${columns.length} result columns but ${types.length} column types; ` +
          "give every result column its own name",
      );
    }
    const seen = new Set<string>();
    for (const name of columns) {
      // Row objects keep one value per name: a second column of the same name has no values of its own.
      if (seen.has(name)) {
        throw new UnsupportedOperationError(
          `selectToArrow: the result has two columns named "${name}"; give every result column its own name`,
        );
      }
      seen.add(name);
    }
    this.#arrow = arrow;
    this.#columns = columns;
    this.#types = types;
    this.#json = json;
    const numeric = options?.numeric;
    this.#decimal = numeric === undefined || numeric === "string" ? undefined : numeric;
    this.#arrowTypes = types.map((t) => this.#arrowType(t));
    this.schema = new arrow.Schema(
      columns.map((name, i) => new arrow.Field(name, this.#arrowTypes[i] as ArrowNs.DataType, true)),
    );
  }

  /** One record batch of these rows (objects keyed by column name). */
  batch(rows: readonly Row[]): ArrowNs.RecordBatch {
    const a = this.#arrow;
    const children = this.#columns.map((name, i) => {
      const values = new Array<unknown>(rows.length);
      for (let r = 0; r < rows.length; r++) values[r] = (rows[r] as Row)[name];
      return this.#data(values, this.#types[i] as ResultColumnType, this.#arrowTypes[i] as ArrowNs.DataType, name);
    });
    const data = a.makeData({
      type: new a.Struct(this.schema.fields),
      length: rows.length,
      nullCount: 0,
      children,
    });
    return new a.RecordBatch(this.schema, data);
  }

  #arrowType(t: ResultColumnType): ArrowNs.DataType {
    const a = this.#arrow;
    switch (t.kind) {
      case "bool":
        return new a.Bool();
      case "int16":
        return new a.Int16();
      case "int32":
        return new a.Int32();
      case "int64":
        return new a.Int64();
      case "float32":
        return new a.Float32();
      case "float64":
        return new a.Float64();
      case "numeric":
        return this.#decimal ? new a.Decimal(this.#decimal.scale, this.#decimal.precision, 128) : new a.Utf8();
      case "binary":
        return new a.Binary();
      case "date":
        return new a.DateDay();
      case "timestamp":
      case "timestamptz": {
        // Dates keep milliseconds; the server's text keeps microseconds: the unit says what the values hold.
        const unit = t.values === "text" ? a.TimeUnit.MICROSECOND : a.TimeUnit.MILLISECOND;
        return new a.Timestamp(unit, t.kind === "timestamptz" ? "UTC" : null);
      }
      case "list":
        return new a.List(new a.Field("item", this.#arrowType(t.element as ResultColumnType), true));
      default:
        return new a.Utf8();
    }
  }

  /** One column's Data from its values (null/undefined → null). */
  #data(values: readonly unknown[], t: ResultColumnType, type: ArrowNs.DataType, column: string): ArrowNs.Data {
    const a = this.#arrow;
    const n = values.length;
    const validity = new Uint8Array((n + 7) >> 3);
    let nulls = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v === null || v === undefined) nulls++;
      else validity[i >> 3] = (validity[i >> 3] as number) | (1 << (i & 7));
    }
    const common = { type, length: n, nullCount: nulls, nullBitmap: nulls > 0 ? validity : null } as const;
    const bad = (what: string): DataError =>
      new DataError(`selectToArrow: column "${column}" (${t.name}) holds ${what}, which its Arrow type cannot hold`);
    switch (t.kind) {
      case "bool": {
        const bits = new Uint8Array((n + 7) >> 3);
        for (let i = 0; i < n; i++) if (values[i] === true) bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7));
        return a.makeData({ ...common, type: type as ArrowNs.Bool, data: bits });
      }
      case "int16":
      case "int32":
      case "float32":
      case "float64": {
        const Ctor =
          t.kind === "int16"
            ? Int16Array
            : t.kind === "int32"
              ? Int32Array
              : t.kind === "float32"
                ? Float32Array
                : Float64Array;
        const out = new Ctor(n);
        for (let i = 0; i < n; i++) {
          const v = values[i];
          if (v !== null && v !== undefined) out[i] = v as number;
        }
        return a.makeData({ ...common, type: type as ArrowNs.Int32, data: out as Int32Array });
      }
      case "int64": {
        const out = new BigInt64Array(n);
        for (let i = 0; i < n; i++) {
          const v = values[i];
          if (v !== null && v !== undefined) out[i] = typeof v === "bigint" ? v : BigInt(v as number | string);
        }
        return a.makeData({ ...common, type: type as ArrowNs.Int64, data: out });
      }
      case "numeric":
        if (this.#decimal === undefined) return this.#utf8(values, common, t, bad);
        return a.makeData({ ...common, type: type as ArrowNs.Decimal, data: decimalWords(values, this.#decimal, bad) });
      case "binary":
        return this.#binary(values, common, bad);
      case "date": {
        const out = new Int32Array(n);
        for (let i = 0; i < n; i++) {
          const v = values[i];
          if (v === null || v === undefined) continue;
          const ms = v instanceof Date ? v.getTime() : parseTimestampMs(v, bad);
          out[i] = Math.floor(ms / 86_400_000);
        }
        return a.makeData({ ...common, type: type as ArrowNs.DateDay, data: out });
      }
      case "timestamp":
      case "timestamptz": {
        const out = new BigInt64Array(n);
        const micros = t.values === "text";
        for (let i = 0; i < n; i++) {
          const v = values[i];
          if (v === null || v === undefined) continue;
          if (v instanceof Date) out[i] = BigInt(v.getTime()) * (micros ? 1000n : 1n);
          else out[i] = micros ? parseTimestampMicros(v, bad) : BigInt(parseTimestampMs(v, bad));
        }
        return a.makeData({ ...common, type: type as ArrowNs.TimestampMillisecond, data: out });
      }
      case "list": {
        const offsets = new Int32Array(n + 1);
        const items: unknown[] = [];
        for (let i = 0; i < n; i++) {
          const v = values[i];
          if (v !== null && v !== undefined) {
            if (!Array.isArray(v)) throw bad("a non-array value");
            // A list of lists is one only where the element type says so (DuckDB); a PostgreSQL array has one type
            // for every dimension, so a nested value there is a multidimensional array.
            const nested = t.element?.kind === "list";
            for (const item of v) {
              if (!nested && Array.isArray(item)) throw bad("a multidimensional array");
              items.push(item);
            }
          }
          offsets[i + 1] = items.length;
        }
        const element = t.element as ResultColumnType;
        const child = this.#data(items, element, (type as ArrowNs.List).valueType, column);
        return a.makeData({ ...common, type: type as ArrowNs.List, valueOffsets: offsets, child });
      }
      default:
        return this.#utf8(values, common, t, bad);
    }
  }

  #utf8(
    values: readonly unknown[],
    common: { type: ArrowNs.DataType; length: number; nullCount: number; nullBitmap: Uint8Array | null },
    t: ResultColumnType,
    bad: (what: string) => DataError,
  ): ArrowNs.Data {
    const n = values.length;
    const texts = new Array<string | undefined>(n);
    const offsets = new Int32Array(n + 1);
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v !== null && v !== undefined) {
        let s: string;
        if (typeof v === "string") s = v;
        else if (t.kind === "json") s = this.#json(v);
        else if (t.kind === "numeric" && (typeof v === "bigint" || typeof v === "number")) s = String(v);
        else throw bad(`a ${typeof v} value`);
        texts[i] = s;
        bytes += Buffer.byteLength(s, "utf8");
      }
      offsets[i + 1] = bytes;
    }
    const data = Buffer.allocUnsafe(bytes);
    for (let i = 0; i < n; i++) {
      const s = texts[i];
      if (s !== undefined) data.write(s, offsets[i] as number, "utf8");
    }
    return this.#arrow.makeData({ ...common, type: common.type as ArrowNs.Utf8, valueOffsets: offsets, data });
  }

  #binary(
    values: readonly unknown[],
    common: { type: ArrowNs.DataType; length: number; nullCount: number; nullBitmap: Uint8Array | null },
    bad: (what: string) => DataError,
  ): ArrowNs.Data {
    const n = values.length;
    const offsets = new Int32Array(n + 1);
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v !== null && v !== undefined) {
        if (!(v instanceof Uint8Array)) throw bad(`a ${typeof v} value`);
        bytes += v.byteLength;
      }
      offsets[i + 1] = bytes;
    }
    const data = new Uint8Array(bytes);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v instanceof Uint8Array) data.set(v, offsets[i] as number);
    }
    return this.#arrow.makeData({ ...common, type: common.type as ArrowNs.Binary, valueOffsets: offsets, data });
  }
}

const TWO_128 = 1n << 128n;
const MASK_32 = 0xffffffffn;

/** Exact decimal strings → Decimal128 words (little-endian two's complement); more digits than the type → DataError. */
function decimalWords(values: readonly unknown[], spec: ArrowDecimal, bad: (what: string) => DataError): Uint32Array {
  const out = new Uint32Array(values.length * 4);
  const limit = 10n ** BigInt(spec.precision);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) continue;
    const text = typeof v === "string" ? v.trim() : typeof v === "number" || typeof v === "bigint" ? String(v) : "";
    const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
    if (m === null || (m[2] === "" && (m[3] ?? "") === "")) throw bad("a value that is not a finite decimal");
    const fraction = (m[3] ?? "").replace(/0+$/, "");
    if (fraction.length > spec.scale) throw bad(`a value with more than ${spec.scale} digits after the point`);
    let unscaled = BigInt((m[2] || "0") + fraction.padEnd(spec.scale, "0"));
    if (unscaled >= limit) throw bad(`a value with more than ${spec.precision} significant digits`);
    if (m[1] === "-") unscaled = -unscaled;
    let word = unscaled < 0n ? unscaled + TWO_128 : unscaled;
    for (let k = 0; k < 4; k++) {
      out[i * 4 + k] = Number(word & MASK_32);
      word >>= 32n;
    }
  }
  return out;
}

/** Builds a Table of one batch (zero rows included: the schema is the result's). */
export function arrowTable(arrow: Arrow, builder: ArrowBatchBuilder, rows: readonly Row[]): ArrowNs.Table {
  return new arrow.Table(builder.schema, [builder.batch(rows)]);
}

export { arrowRows };
