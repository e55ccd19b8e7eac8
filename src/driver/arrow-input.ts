/**
 * An Arrow Table as value rows for loadRecords: every column converted to the JS values sqlspec binds (bigint for
 * Int64, Date or exact microsecond text for timestamps, exact decimal strings for Decimal, Buffers for Binary,
 * arrays for lists, objects for structs). A column type with no such value is refused before any row is read.
 */
import type * as ArrowNs from "apache-arrow";
import { ParameterError } from "../core/errors.js";
import { microsText } from "./arrow-time.js";

type Arrow = typeof ArrowNs;
type Convert = (v: unknown) => unknown;

/** What loadRecords needs from an Arrow Table: column names and value rows, read batch by batch. */
export interface ArrowRows {
  readonly columns: string[];
  readonly rows: Iterable<unknown[]>;
  readonly count: number;
}

/** Column names and a lazy row source; an unsupported column type raises ParameterError before any I/O. */
export function arrowRows(arrow: Arrow, table: ArrowNs.Table): ArrowRows {
  if (
    table === null ||
    typeof table !== "object" ||
    !(table.schema instanceof arrow.Schema) ||
    !Array.isArray((table as { batches?: unknown }).batches)
  ) {
    throw new ParameterError("loadArrow expects an apache-arrow Table");
  }
  const fields = table.schema.fields;
  const readers = fields.map((f) => columnReader(arrow, f.type, f.name));
  const columns = fields.map((f) => f.name);
  if (columns.length === 0) throw new ParameterError("loadArrow: the Arrow table has no columns");
  return { columns, rows: readRows(table, readers), count: table.numRows };
}

type ChunkReader = (data: ArrowNs.Data, index: number) => unknown;

function* readRows(table: ArrowNs.Table, readers: ChunkReader[]): Generator<unknown[]> {
  for (const batch of table.batches) {
    const datas = readers.map((_, j) => batch.data.children[j] as ArrowNs.Data);
    for (let i = 0; i < batch.numRows; i++) {
      const row = new Array<unknown>(readers.length);
      for (let j = 0; j < readers.length; j++) {
        const d = datas[j] as ArrowNs.Data;
        row[j] = d.getValid(i) ? (readers[j] as ChunkReader)(d, i) : null;
      }
      yield row;
    }
  }
}

/** Reads one non-null value of a column's Data at an index local to that Data. */
function columnReader(arrow: Arrow, type: ArrowNs.DataType, column: string): ChunkReader {
  const units = arrow.TimeUnit;
  if (arrow.DataType.isTimestamp(type) && (type.unit === units.MICROSECOND || type.unit === units.NANOSECOND)) {
    // Nanoseconds keep PostgreSQL's microseconds (floored); a Date would keep milliseconds only.
    const perMicro = type.unit === units.MICROSECOND ? 1n : 1000n;
    return (d, i) => {
      const raw = (d.values as BigInt64Array)[i] as bigint;
      return microsText(perMicro === 1n ? raw : floorDiv(raw, perMicro));
    };
  }
  if (arrow.DataType.isDecimal(type)) {
    const scale = type.scale;
    return (d, i) => decimalText(d.values as Uint32Array, d.stride, i, scale);
  }
  const convert = valueConverter(arrow, type, column);
  return (d, i) => convert(vectorGet(arrow, d, i));
}

/** The getter arrow itself uses for a Data (through a one-chunk Vector built once per Data). */
const VECTORS = new WeakMap<object, ArrowNs.Vector>();
function vectorGet(arrow: Arrow, d: ArrowNs.Data, i: number): unknown {
  let v = VECTORS.get(d);
  if (v === undefined) {
    v = arrow.makeVector(d as ArrowNs.Data<ArrowNs.DataType>);
    VECTORS.set(d, v);
  }
  return v.get(i);
}

/** How a value from arrow's getter becomes a bindable JS value; refuses types with no such value. */
function valueConverter(arrow: Arrow, type: ArrowNs.DataType, column: string): Convert {
  const D = arrow.DataType;
  if (D.isNull(type)) return () => null;
  if (D.isBool(type) || D.isInt(type) || D.isFloat(type) || D.isUtf8(type) || D.isLargeUtf8(type)) {
    return (v) => v;
  }
  if (D.isBinary(type) || D.isLargeBinary(type) || D.isFixedSizeBinary(type)) {
    return (v) =>
      v === null
        ? null
        : Buffer.from((v as Uint8Array).buffer, (v as Uint8Array).byteOffset, (v as Uint8Array).byteLength);
  }
  if (D.isDate(type)) return (v) => (v === null ? null : new Date(v as number));
  if (D.isTimestamp(type)) return (v) => (v === null ? null : new Date(v as number));
  if (D.isDictionary(type)) return valueConverter(arrow, type.dictionary, column);
  if (D.isList(type) || D.isFixedSizeList(type) || D.isLargeList?.(type)) {
    const child = type.children[0] as ArrowNs.Field;
    const element = elementConverter(arrow, child.type, column);
    return (v) => (v === null ? null : Array.from(v as Iterable<unknown>, (e) => (e === null ? null : element(e))));
  }
  if (D.isStruct(type) || D.isMap(type)) {
    return (v) => (v === null ? null : (v as { toJSON(): unknown }).toJSON());
  }
  throw new ParameterError(`loadArrow: column "${column}" has Arrow type ${String(type)}, which sqlspec cannot load`);
}

/** List elements come from arrow's getter too, so microsecond timestamps and decimals go through their own text. */
function elementConverter(arrow: Arrow, type: ArrowNs.DataType, column: string): Convert {
  const D = arrow.DataType;
  if (D.isDecimal(type)) {
    const scale = type.scale;
    return (v) => decimalText(v as Uint32Array, (v as Uint32Array).length, 0, scale);
  }
  return valueConverter(arrow, type, column);
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b < 0n ? q - 1n : q;
}

/** A Decimal value's words (little-endian two's complement) as exact decimal text. */
function decimalText(words: Uint32Array, stride: number, index: number, scale: number): string {
  let n = 0n;
  for (let k = stride - 1; k >= 0; k--) n = (n << 32n) | BigInt(words[index * stride + k] as number);
  const bits = BigInt(stride * 32);
  if (n >> (bits - 1n) === 1n) n -= 1n << bits;
  const negative = n < 0n;
  let digits = (negative ? -n : n).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, "0");
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return negative ? `-${digits}` : digits;
}
