/**
 * Value codecs shared by the PostgreSQL adapters (pg, postgres.js, PGlite), so every adapter reads and writes a value
 * the same way: one parser per type OID (built-in, pgvector, and user types such as enum and domain arrays, looked up
 * in the catalog the first time a result carries them), one array parser, and one bound-parameter encoder.
 *
 * Reading: bool → boolean; int2/int4/oid/float4/float8 → number; int8 → driverFeatures.int8; numeric → exact string;
 * json/jsonb → jsonDeserializer; bytea → Buffer; date/timestamp/timestamptz → driverFeatures.timestamps (Date: UTC
 * rule); vector → number[]; arrays of any type → arrays of the element's JS type with NULL elements as null;
 * every other type (interval, point, money, uuid, time, tsvector, enums, ranges, …) → the server's text.
 */
import { isJsonValue, type JsonDeserializer, type JsonSerializer } from "../../core/json.js";
import {
  asText,
  badValue,
  checkWellFormed,
  dateText,
  type Int8Mode,
  InvalidValueError,
  int8TextReader,
  invalidAt,
  pgArrayLiteral,
  serializeJson,
  type TimestampMode,
  timestampTextReader,
} from "../../core/values.js";

/** OIDs of built-in types with their own codecs. */
export const PgOid = {
  BOOL: 16,
  BYTEA: 17,
  INT8: 20,
  INT2: 21,
  INT4: 23,
  OID: 26,
  JSON: 114,
  JSON_ARRAY: 199,
  FLOAT4: 700,
  FLOAT8: 701,
  DATE: 1082,
  TIMESTAMP: 1114,
  TIMESTAMPTZ: 1184,
  NUMERIC: 1700,
  JSONB: 3802,
  JSONB_ARRAY: 3807,
} as const;

/** Below this OID types are fixed by PostgreSQL itself; from it on (catalog row types, user types) they are looked up. */
const FIRST_LOOKED_UP_OID = 10_000;

export type Parser = (text: string) => unknown;

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

// ---------------------------------------------------------------------------------------------------- arrays

/**
 * PostgreSQL array text → nested JS arrays: `{1,NULL,"a b",{2,3}}`, with `\` escapes in quoted elements, an optional
 * `[1:2]=` bounds prefix, and NULL (unquoted) as null. `parse` converts each non-NULL element (undefined: as text).
 */
export function parsePgArray(text: string, parse: Parser | undefined, delimiter = 44): unknown[] {
  let i = 0;
  if (text.charCodeAt(0) === 91 /* [ */) i = text.indexOf("=") + 1;
  const cursor = { i: i + 1 };
  return parseLevel(text, cursor, parse, delimiter);
}

function parseLevel(s: string, cur: { i: number }, parse: Parser | undefined, delim: number): unknown[] {
  const out: unknown[] = [];
  let i = cur.i;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 125 /* } */) {
      i++;
      break;
    }
    if (c === delim) {
      i++;
      continue;
    }
    if (c === 123 /* { */) {
      cur.i = i + 1;
      out.push(parseLevel(s, cur, parse, delim));
      i = cur.i;
      continue;
    }
    if (c === 34 /* " */) {
      let value = "";
      let start = ++i;
      for (; i < n; i++) {
        const q = s.charCodeAt(i);
        if (q === 92 /* \ */) {
          value += s.slice(start, i);
          start = ++i;
        } else if (q === 34) break;
      }
      value += s.slice(start, i);
      i++;
      out.push(parse === undefined ? value : parse(value));
      continue;
    }
    const start = i;
    while (i < n) {
      const e = s.charCodeAt(i);
      if (e === delim || e === 125) break;
      i++;
    }
    const raw = s.slice(start, i);
    out.push(raw === "NULL" ? null : parse === undefined ? raw : parse(raw));
  }
  cur.i = i;
  return out;
}

function arrayParser(element: Parser | undefined, delimiter = 44): Parser {
  return (text) => parsePgArray(text, element, delimiter);
}

/** Built-in array types whose elements have no parser of their own (they read as text). */
const TEXT_ELEMENT_ARRAYS = [
  143, 210, 270, 271, 272, 273, 629, 651, 719, 775, 791, 1002, 1003, 1006, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
  1015, 1017, 1018, 1019, 1027, 1034, 1040, 1041, 1183, 1187, 1231, 1263, 1270, 1561, 1563, 2201, 2207, 2208, 2209,
  2210, 2211, 2287, 2949, 2951, 3221, 3643, 3644, 3645, 3735, 3770, 3905, 3907, 3909, 3911, 3913, 3927, 4073, 4090,
  4097, 4192, 5039, 6150, 6151, 6152, 6153, 6155, 6157,
];
/** box[]: the one built-in array with `;` between elements. */
const BOX_ARRAY = 1020;
/** Built-in arrays whose elements have a parser: [array OID, element OID]. */
const TYPED_ELEMENT_ARRAYS: readonly (readonly [number, number])[] = [
  [199, PgOid.JSON],
  [1000, PgOid.BOOL],
  [1001, PgOid.BYTEA],
  [1005, PgOid.INT2],
  [1007, PgOid.INT4],
  [1016, PgOid.INT8],
  [1021, PgOid.FLOAT4],
  [1022, PgOid.FLOAT8],
  [1028, PgOid.OID],
  [1115, PgOid.TIMESTAMP],
  [1182, PgOid.DATE],
  [1185, PgOid.TIMESTAMPTZ],
  [3807, PgOid.JSONB],
];

export interface ValueModes {
  int8: Int8Mode;
  timestamps: TimestampMode;
  /** json/jsonb text → value; undefined keeps the text (enableJsonCodecs: false). */
  json: JsonDeserializer | undefined;
}

const parseBool: Parser = (t) => t === "t";
const identity: Parser = asText;

/** Catalog facts for types the built-in table does not know: domains resolve to their base, arrays to elements. */
const TYPE_LOOKUP_SQL =
  "SELECT t.oid::text AS oid, t.typtype::text AS kind, t.typbasetype::text AS base, e.oid::text AS elem, " +
  "e.typdelim::text AS delim FROM pg_catalog.pg_type t LEFT JOIN pg_catalog.pg_type e ON e.typarray = t.oid " +
  "WHERE t.oid = ANY($1::oid[])";

interface TypeRow {
  oid: string;
  kind: string;
  base: string;
  elem: string | null;
  delim: string | null;
}

/** Runs a catalog query on the connection that saw the type (so a type created in its transaction is visible). */
export type CatalogQuery = (sql: string, params: unknown[]) => Promise<readonly Record<string, unknown>[]>;

/**
 * The parsers of one pool, by type OID: a plain object so every driver can consult it directly (pg's getTypeParser,
 * postgres.js's and PGlite's parser maps). Types the table lacks from OID 10000 on (enums, domains, their arrays,
 * catalog row types) are looked up once per pool; until then a driver hands their values over as text and
 * `reparse` converts the rows of the result that first met them.
 */
export class PgTypeParsers {
  readonly table: Record<number, Parser> = Object.create(null);
  readonly #pending = new Map<number, Promise<void>>();

  constructor(modes: ValueModes) {
    const t = this.table;
    const int2or4 = Number as Parser;
    t[PgOid.BOOL] = parseBool;
    t[PgOid.BYTEA] = parseBytea;
    t[PgOid.INT8] = int8TextReader(modes.int8);
    t[PgOid.INT2] = int2or4;
    t[PgOid.INT4] = int2or4;
    t[PgOid.OID] = int2or4;
    t[PgOid.FLOAT4] = int2or4;
    t[PgOid.FLOAT8] = int2or4;
    t[PgOid.NUMERIC] = identity;
    const json = modes.json ?? identity;
    t[PgOid.JSON] = json;
    t[PgOid.JSONB] = json;
    const time = timestampTextReader(modes.timestamps);
    t[PgOid.DATE] = time;
    t[PgOid.TIMESTAMP] = time;
    t[PgOid.TIMESTAMPTZ] = time;
    for (const oid of TEXT_ELEMENT_ARRAYS) t[oid] = arrayParser(undefined);
    t[BOX_ARRAY] = arrayParser(undefined, 59);
    for (const [arrayOid, elementOid] of TYPED_ELEMENT_ARRAYS) {
      const element = t[elementOid] as Parser;
      t[arrayOid] = arrayParser(element === identity ? undefined : element);
    }
  }

  /** The parser for `oid`, or undefined when the server's text is the value (or the type is not known yet). */
  get(oid: number): Parser | undefined {
    const p = this.table[oid];
    return p === identity ? undefined : p;
  }

  /** Registers a parser (pgvector's types, whose OIDs are per database). */
  set(oid: number, parser: Parser): void {
    this.table[oid] = parser;
  }

  /** Registers pgvector's types (their OIDs are per database): a vector and a vector array read as numbers. */
  setVector(oid: number, arrayOid: number): void {
    this.table[oid] = parseVector;
    this.table[arrayOid] = (text) => parsePgArray(text, parseVector);
  }

  /** Whether values of this type still need a catalog lookup before they can be parsed. */
  unknown(oid: number): boolean {
    return oid >= FIRST_LOOKED_UP_OID && this.table[oid] === undefined;
  }

  /** Looks the OIDs up (once per pool) and registers their parsers; text-valued types register as such. */
  async resolve(oids: readonly number[], query: CatalogQuery): Promise<void> {
    const waits: Promise<void>[] = [];
    const fresh: number[] = [];
    for (const oid of oids) {
      if (!this.unknown(oid)) continue;
      const pending = this.#pending.get(oid);
      if (pending !== undefined) waits.push(pending);
      else if (!fresh.includes(oid)) fresh.push(oid);
    }
    if (fresh.length > 0) {
      const work = this.#lookup(fresh, query).finally(() => {
        for (const oid of fresh) this.#pending.delete(oid);
      });
      for (const oid of fresh) this.#pending.set(oid, work);
      waits.push(work);
    }
    await Promise.all(waits);
  }

  async #lookup(oids: number[], query: CatalogQuery): Promise<void> {
    const rows = new Map<number, TypeRow>();
    let next = oids;
    // Domains over domains and arrays of domains are chased a few levels down.
    for (let depth = 0; next.length > 0 && depth < 8; depth++) {
      const got = (await query(TYPE_LOOKUP_SQL, [`{${next.join(",")}}`])) as unknown as TypeRow[];
      next = [];
      for (const row of got) {
        rows.set(Number(row.oid), row);
        const ref = Number(row.kind === "d" ? row.base : (row.elem ?? 0));
        if (ref !== 0 && this.unknown(ref) && !rows.has(ref) && !next.includes(ref)) next.push(ref);
      }
    }
    for (const oid of oids) this.#build(oid, rows, 0);
  }

  #build(oid: number, rows: Map<number, TypeRow>, depth: number): Parser {
    const known = this.table[oid];
    if (known !== undefined) return known;
    const row = rows.get(oid);
    let parser = identity;
    if (row !== undefined && depth < 8) {
      if (row.kind === "d") parser = this.#build(Number(row.base), rows, depth + 1);
      else if (row.elem !== null) {
        const element = this.#build(Number(row.elem), rows, depth + 1);
        parser = arrayParser(element === identity ? undefined : element, (row.delim ?? ",").charCodeAt(0));
      }
    }
    this.table[oid] = parser;
    return parser;
  }
}

/**
 * Converts, in place, the text values of columns whose type was unknown when the driver parsed the rows. `columns`
 * lists [name or index, OID] of those columns only.
 */
export function reparse(
  rows: readonly Record<string | number, unknown>[],
  columns: readonly (readonly [string | number, number])[],
  types: PgTypeParsers,
): void {
  for (const [key, oid] of columns) {
    const parse = types.get(oid);
    if (parse === undefined) continue;
    for (const row of rows) {
      const v = row[key];
      if (typeof v === "string") row[key] = parse(v);
    }
  }
}

// ---------------------------------------------------------------------------------------------------- parameters

/**
 * A JS array bound where the server's parameter type decides its form (postgres.js and PGlite describe the statement
 * themselves): its PostgreSQL array literal is built up front (so a bad element fails before anything is sent) and is
 * its text for any type without a serializer of ours (arrays of user enums and domains included); the json/jsonb and
 * vector serializers use the elements instead.
 */
export class PgArrayParam {
  constructor(
    readonly value: readonly unknown[],
    readonly literal: string,
  ) {}

  toString(): string {
    return this.literal;
  }
}

/** Sentinel from encodePgParams: an array is bound and the statement's parameter types are needed first. */
export const NEEDS_TYPES: unknown[] = [];

function asElements(v: object): readonly unknown[] | undefined {
  if (Array.isArray(v)) return v;
  if (ArrayBuffer.isView(v) && !(v instanceof Uint8Array) && !(v instanceof DataView)) {
    return Array.from(v as unknown as ArrayLike<number>);
  }
  return undefined;
}

const OBJECT_TO_STRING = Object.prototype.toString;

/** A non-array, non-Date, non-bytes object parameter: JSON (plain objects, sql.json) or its own toString(). */
function objectParam(v: object, ser: JsonSerializer): string {
  if (isJsonValue(v)) return serializeJson(v.value, ser);
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null && (v as { toString(): string }).toString !== OBJECT_TO_STRING) {
    return String(v);
  }
  return serializeJson(v, ser);
}

/**
 * Bound values for node-postgres, copy-on-write (no allocation when nothing changes): Dates become UTC timestamp text,
 * objects JSON, arrays follow the parameter's server-reported type (json/jsonb → JSON, vector → pgvector text,
 * anything else → a PostgreSQL array literal); bytes stay Buffers (pg sends them binary). Returns NEEDS_TYPES when an
 * array is bound and `types` is not known yet. Symbols, functions and Invalid Dates raise ParameterError naming `$n`.
 */
export function encodePgParams(
  params: unknown[],
  ser: JsonSerializer,
  types: readonly number[] | undefined,
  vectorOid: number,
): unknown[] {
  let out = params;
  let i = 0;
  try {
    for (; i < params.length; i++) {
      const v = params[i];
      const t = typeof v;
      if (t !== "object") {
        if (t === "string") checkWellFormed(v as string);
        else if (t === "symbol" || t === "function") throw badValue(v);
        continue;
      }
      if (v === null || v instanceof Uint8Array) continue;
      let enc: unknown;
      if (v instanceof Date) enc = dateText(v);
      else {
        const arr = asElements(v as object);
        if (arr !== undefined) {
          if (types === undefined) return NEEDS_TYPES;
          const type = types[i];
          if (type === PgOid.JSON || type === PgOid.JSONB) enc = serializeJson(arr, ser);
          else if (type === vectorOid) enc = formatVector(arr as ArrayLike<number>);
          else enc = pgArrayLiteral(arr, type === PgOid.JSON_ARRAY || type === PgOid.JSONB_ARRAY, ser);
        } else enc = objectParam(v as object, ser);
      }
      if (out === params) out = params.slice();
      out[i] = enc;
    }
  } catch (err) {
    throw invalidAt(err, `parameter $${i + 1}`);
  }
  return out;
}

/**
 * Bound values for the drivers that send text and choose a serializer by the parameter type they describe
 * (postgres.js, PGlite): like encodePgParams, plus bytes → `\x…` hex, booleans and bigints → text (so the driver
 * never types a parameter the server did not), and arrays → PgArrayParam.
 */
export function encodeTextParams(params: unknown[], ser: JsonSerializer): unknown[] {
  let out = params;
  let i = 0;
  try {
    for (; i < params.length; i++) {
      const v = params[i];
      let enc: unknown;
      switch (typeof v) {
        case "object": {
          if (v === null) continue;
          if (v instanceof Date) enc = dateText(v);
          else if (v instanceof Uint8Array)
            enc = `\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex")}`;
          else {
            const arr = asElements(v);
            enc = arr !== undefined ? new PgArrayParam(arr, pgArrayLiteral(arr, false, ser)) : objectParam(v, ser);
          }
          break;
        }
        case "boolean":
          enc = v ? "true" : "false";
          break;
        case "bigint":
          enc = v.toString();
          break;
        case "symbol":
        case "function":
          throw badValue(v);
        case "string":
          checkWellFormed(v);
          continue;
        default:
          continue;
      }
      if (out === params) out = params.slice();
      out[i] = enc;
    }
  } catch (err) {
    throw invalidAt(err, `parameter $${i + 1}`);
  }
  return out;
}

/**
 * Serializers by parameter type OID for the text drivers: strings (already encoded by encodeTextParams) pass
 * through; PgArrayParam becomes JSON for json/jsonb, a json-element literal for json[]/jsonb[]; everything else is
 * its text (a PgArrayParam its literal). One table, so a parameter's text never depends on the driver.
 */
export function textSerializers(ser: JsonSerializer): Record<number, (x: unknown) => string> {
  const json = (x: unknown): string =>
    typeof x === "string"
      ? x
      : x instanceof PgArrayParam
        ? serializeJsonParam(x.value, ser)
        : serializeJsonParam(x, ser);
  const jsonArray = (x: unknown): string => (x instanceof PgArrayParam ? literalOf(x.value, true, ser) : String(x));
  return {
    [PgOid.JSON]: json,
    [PgOid.JSONB]: json,
    [PgOid.JSON_ARRAY]: jsonArray,
    [PgOid.JSONB_ARRAY]: jsonArray,
  };
}

/** The pgvector serializer (its OID is per database). */
export function vectorSerializer(x: unknown): string {
  return x instanceof PgArrayParam ? formatVector(x.value as ArrayLike<number>) : String(x);
}

function serializeJsonParam(v: unknown, ser: JsonSerializer): string {
  try {
    return serializeJson(v, ser);
  } catch (err) {
    throw invalidAt(err, "a json/jsonb parameter");
  }
}

function literalOf(v: readonly unknown[], json: boolean, ser: JsonSerializer): string {
  try {
    return pgArrayLiteral(v, json, ser);
  } catch (err) {
    throw invalidAt(err, "a json[]/jsonb[] parameter");
  }
}

export { InvalidValueError };

export const VECTOR_TYPE_SQL =
  "SELECT oid::int AS oid, typarray::int AS array_oid FROM pg_type WHERE typname = 'vector'";
