/**
 * Result column types from PostgreSQL type OIDs (the RowDescription every PG driver reports), shared by the pg,
 * postgres.js and PGlite adapters: what `session.selectToArrow` builds its schema from.
 */
import type { TimestampMode } from "../../core/values.js";
import type { ResultColumnKind, ResultColumnType } from "../../driver/adapter.js";

/** Built-in scalar types with a kind of their own: [OID, kind, name]. Every other type reads as the server's text. */
const SCALARS: readonly (readonly [number, ResultColumnKind, string])[] = [
  [16, "bool", "bool"],
  [17, "binary", "bytea"],
  [20, "int64", "int8"],
  [21, "int16", "int2"],
  [23, "int32", "int4"],
  [26, "int64", "oid"],
  [700, "float32", "float4"],
  [701, "float64", "float8"],
  [1700, "numeric", "numeric"],
  [25, "text", "text"],
  [1043, "text", "varchar"],
  [1042, "text", "bpchar"],
  [19, "text", "name"],
  [18, "text", "char"],
  [114, "json", "json"],
  [3802, "json", "jsonb"],
  [1082, "date", "date"],
  [1114, "timestamp", "timestamp"],
  [1184, "timestamptz", "timestamptz"],
];

/** Built-in array types: [array OID, element OID]. Other arrays (and user types) read as "other". */
const ARRAYS: readonly (readonly [number, number])[] = [
  [1000, 16],
  [1001, 17],
  [1016, 20],
  [1005, 21],
  [1007, 23],
  [1028, 26],
  [1021, 700],
  [1022, 701],
  [1231, 1700],
  [1009, 25],
  [1015, 1043],
  [1014, 1042],
  [1003, 19],
  [199, 114],
  [3807, 3802],
  [1182, 1082],
  [1115, 1114],
  [1185, 1184],
];

function tableFor(timestamps: TimestampMode): Map<number, ResultColumnType> {
  const values = timestamps === "string" ? "text" : "date";
  const table = new Map<number, ResultColumnType>();
  for (const [oid, kind, name] of SCALARS) {
    const timed = kind === "date" || kind === "timestamp" || kind === "timestamptz";
    table.set(oid, timed ? { kind, name, values } : { kind, name });
  }
  for (const [arrayOid, elementOid] of ARRAYS) {
    const element = table.get(elementOid) as ResultColumnType;
    table.set(arrayOid, { kind: "list", name: `_${element.name}`, element });
  }
  return table;
}

const TABLES: Record<TimestampMode, Map<number, ResultColumnType>> = {
  date: tableFor("date"),
  string: tableFor("string"),
};

/** The column types of a result whose fields have these type OIDs, for a pool reading timestamps in `timestamps` mode. */
export function pgResultColumnTypes(oids: readonly number[], timestamps: TimestampMode): ResultColumnType[] {
  const table = TABLES[timestamps];
  const out = new Array<ResultColumnType>(oids.length);
  for (let i = 0; i < oids.length; i++) {
    const oid = oids[i] as number;
    out[i] = table.get(oid) ?? { kind: "other", name: `oid ${oid}` };
  }
  return out;
}
