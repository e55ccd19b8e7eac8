/**
 * Rows into a DuckDB Appender with one typed append per value. The column types come from the appender (the table's
 * description) once per call, and each column gets the append for its type: `appendInteger`, `appendDouble`,
 * `appendVarchar`, … go straight to the C API, where the generic `appendValue` first works out a DuckDB type for
 * the JS value and builds a DuckDB value from it (measured here: ~14× slower for 1M rows of 4 columns).
 *
 * A value the typed append cannot take exactly (a fraction or an out-of-range number for an INTEGER column, a string
 * for a DOUBLE column, a Date for a DATE column, …) goes through the generic path, which casts it the way DuckDB
 * casts a bound parameter, so the result never depends on which path a value took.
 */
import type * as DuckDB from "@duckdb/node-api";
import type { JsonSerializer } from "../../core/json.js";
import { ObjectRows } from "../../driver/copy-rows.js";
import { type DuckdbModule, encodeValue } from "./codecs.js";

type Append = (a: DuckDB.DuckDBAppender, v: unknown) => void;

const I8 = 2 ** 7;
const I16 = 2 ** 15;
const I32 = 2 ** 31;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
/** Progress is reported every this many rows (and at the end). */
const PROGRESS_EVERY = 8192;

/** One append function per column, from the column's DuckDB type. */
export function columnAppenders(
  duck: DuckdbModule,
  appender: DuckDB.DuckDBAppender,
  width: number,
  ser: JsonSerializer,
): Append[] {
  const T = duck.DuckDBTypeId;
  const generic: Append = (a, v) => a.appendValue(encodeValue(duck, v, ser));
  const out: Append[] = [];
  for (let i = 0; i < width; i++) {
    const type = appender.columnType(i);
    let append: Append = generic;
    switch (type.typeId) {
      case T.BOOLEAN:
        append = (a, v) => (typeof v === "boolean" ? a.appendBoolean(v) : generic(a, v));
        break;
      case T.TINYINT:
        append = (a, v) => (isIntIn(v, I8) ? a.appendTinyInt(v as number) : generic(a, v));
        break;
      case T.SMALLINT:
        append = (a, v) => (isIntIn(v, I16) ? a.appendSmallInt(v as number) : generic(a, v));
        break;
      case T.INTEGER:
        append = (a, v) => (isIntIn(v, I32) ? a.appendInteger(v as number) : generic(a, v));
        break;
      case T.BIGINT:
        append = (a, v) => {
          if (typeof v === "number" && Number.isSafeInteger(v)) a.appendBigInt(BigInt(v));
          else if (typeof v === "bigint" && v >= I64_MIN && v <= I64_MAX) a.appendBigInt(v);
          else generic(a, v);
        };
        break;
      case T.DOUBLE:
        append = (a, v) => (typeof v === "number" ? a.appendDouble(v) : generic(a, v));
        break;
      case T.FLOAT:
        append = (a, v) => (typeof v === "number" ? a.appendFloat(v) : generic(a, v));
        break;
      case T.VARCHAR:
        // JSON columns are VARCHAR too: a string is the document's text; objects take the generic path (serialized).
        append = (a, v) => (typeof v === "string" ? a.appendVarchar(v) : generic(a, v));
        break;
      case T.TIMESTAMP: {
        // A Date is an instant; a TIMESTAMP without time zone holds it in UTC (as the bound TIMESTAMPTZ casts).
        const Ts = duck.DuckDBTimestampValue;
        append = (a, v) => (isValidDate(v) ? a.appendTimestamp(new Ts(BigInt(v.getTime()) * 1000n)) : generic(a, v));
        break;
      }
      default:
        break;
    }
    out.push(append);
  }
  return out;
}

function isIntIn(v: unknown, half: number): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= -half && v < half;
}

function isValidDate(v: unknown): v is Date {
  return v instanceof Date && !Number.isNaN(v.getTime());
}

/**
 * Appends every row (value arrays in column order, or the bulk engine's ObjectRows read in place) and returns how
 * many. Sync sources are read without a microtask per row.
 */
export async function appendRows(
  appender: DuckDB.DuckDBAppender,
  appends: readonly Append[],
  rows: AsyncIterable<unknown[]> | Iterable<unknown[]>,
): Promise<number> {
  const width = appends.length;
  if (rows instanceof ObjectRows) {
    const columns = rows.columns;
    const onRows = rows.onRows;
    const list = rows.rows;
    const n = list.length;
    for (let r = 0; r < n; r++) {
      const row = list[r];
      if (Array.isArray(row)) {
        for (let i = 0; i < width; i++) appendOne(appender, appends[i] as Append, row[i]);
      } else {
        const o = row as Readonly<Record<string, unknown>>;
        for (let i = 0; i < width; i++) appendOne(appender, appends[i] as Append, o[columns[i] as string]);
      }
      appender.endRow();
      if (onRows !== undefined && (r + 1) % PROGRESS_EVERY === 0) onRows(r + 1);
    }
    onRows?.(n);
    return n;
  }
  let n = 0;
  if (Symbol.iterator in rows) {
    for (const row of rows as Iterable<unknown[]>) {
      for (let i = 0; i < width; i++) appendOne(appender, appends[i] as Append, row[i]);
      appender.endRow();
      n++;
    }
    return n;
  }
  for await (const row of rows) {
    for (let i = 0; i < width; i++) appendOne(appender, appends[i] as Append, row[i]);
    appender.endRow();
    n++;
  }
  return n;
}

function appendOne(appender: DuckDB.DuckDBAppender, append: Append, v: unknown): void {
  if (v === null || v === undefined) appender.appendNull();
  else append(appender, v);
}
