/**
 * What `session.upsert` checks so it means upsert: every row has the same keys, the key columns are a unique key of
 * the table (named when they are not), and no key appears twice in one batch (or the last row per key wins).
 * Error messages name columns and row positions, never values; a duplicated key's values go to `detail`, as the
 * server's own "Key (id)=(1)" detail does.
 */

import {
  CardinalityViolationError,
  InvalidColumnReferenceError,
  SQLBuilderError,
  SQLParsingError,
} from "../core/errors.js";
import { badValue, checkJsonText, InvalidValueError, invalidAt, markPlain } from "../core/values.js";
import type { KeyFold } from "./adapter.js";
import { type KeyScan, NON_NUMBER_KEY_PART, NULL_KEY_PART, rowScanner } from "./row-reader.js";

type Rows = readonly Readonly<Record<string, unknown>>[];

export interface ColumnPlan {
  columns: string[];
  on: string[];
  update: string[];
}

/** What `duplicates` may say: raise (default) or keep the last row per key. */
export type DuplicateKeys = "error" | "last-wins";

export function list(names: readonly string[]): string {
  return names.map((n) => `"${n}"`).join(", ");
}

function keyList(cols: readonly string[]): string {
  return `(${cols.join(", ")})`;
}

export function planColumns(
  table: string,
  columns: string[],
  on: readonly string[],
  update: readonly string[] | undefined,
): ColumnPlan {
  const have = new Set(columns);
  const missingKeys = on.filter((c) => !have.has(c));
  if (missingKeys.length > 0) {
    throw new SQLBuilderError(
      `upsert into "${table}": key column(s) ${list(missingKeys)} are not in the rows (row keys: ${columns.join(", ")})`,
    );
  }
  const keys = new Set(on);
  const upd = update ? [...update] : columns.filter((c) => !keys.has(c));
  const missingUpd = upd.filter((c) => !have.has(c));
  if (missingUpd.length > 0) {
    throw new SQLBuilderError(`upsert into "${table}": update column(s) ${list(missingUpd)} are not in the rows`);
  }
  return { columns, on: [...on], update: upd };
}

/** The rows' shared key set; a row with a different set raises SQLBuilderError naming the differing keys. */
export function rowColumns(rows: Rows): string[] {
  const keys = firstRowKeys(rows);
  const width = keys.length;
  let set: Set<string> | undefined;
  for (let i = 1; i < rows.length; i++) {
    const row = rows[i] as Readonly<Record<string, unknown>>;
    // Rows built alike list their keys in the same order: comparing in order is a pointer check per key, ~4× cheaper
    // than a Set lookup. Any other order falls back to the set comparison.
    let n = 0;
    let inOrder = true;
    for (const k in row) {
      if (k !== keys[n]) {
        inOrder = false;
        break;
      }
      n++;
    }
    if (inOrder && n === width) continue;
    set ??= new Set(keys);
    n = 0;
    let bad = false;
    for (const k in row) {
      n++;
      if (!set.has(k)) {
        bad = true;
        break;
      }
    }
    if (bad || n !== width) throw keyMismatch(i, keys, row);
  }
  return keys;
}

/** Row 0's keys: the columns every row must have; a row 0 that is no object raises SQLBuilderError. */
export function firstRowKeys(rows: Rows): string[] {
  const first = rows[0];
  if (typeof first !== "object" || first === null) throw notAnObject(0, first);
  return Object.keys(first);
}

function notAnObject(index: number, row: unknown): SQLBuilderError {
  const what = row === null ? "null" : Array.isArray(row) ? "an array" : typeof row;
  return new SQLBuilderError(`Row ${index} is ${what}, not an object of column values`);
}

function keyMismatch(index: number, keys: readonly string[], row: Readonly<Record<string, unknown>>): SQLBuilderError {
  if (typeof row !== "object" || row === null) return notAnObject(index, row);
  const own = Object.keys(row);
  const missing = keys.filter((k) => !(k in row));
  const extra = own.filter((k) => !keys.includes(k));
  const parts = [missing.length ? `missing ${list(missing)}` : "", extra.length ? `extra ${list(extra)}` : ""];
  return new SQLBuilderError(
    `Row ${index} has different keys from row 0 (${parts.filter(Boolean).join("; ")}). ` +
      "Give every row the same keys (use null for absent values).",
  );
}

// ---------------------------------------------------------------------------------------------------- duplicates

/**
 * Number types by their exact names on SQLite, PostgreSQL, MySQL/MariaDB and DuckDB (size and `unsigned` aside): only
 * in these does every engine read the text "007" and the number 7 as one key. A name merely containing "int" or "num"
 * (a PostgreSQL domain `phone_number`, SQLite's affinity for `STRING` or `CHARINT`) is not trusted: a wrong "equal"
 * would drop a row the engine keeps, a missed one is what the engine decides.
 */
const NUMBER_TYPES = new Set([
  "int",
  "integer",
  "tinyint",
  "smallint",
  "mediumint",
  "bigint",
  "hugeint",
  "uhugeint",
  "utinyint",
  "usmallint",
  "uinteger",
  "ubigint",
  "int1",
  "int2",
  "int4",
  "int8",
  "int16",
  "int32",
  "int64",
  "serial",
  "smallserial",
  "bigserial",
  "serial2",
  "serial4",
  "serial8",
  "numeric",
  "decimal",
  "number",
  "real",
  "float",
  "float4",
  "float8",
  "double",
  "double precision",
]);

/** Whether a catalog type name is one of NUMBER_TYPES. */
export function isNumberType(type: string): boolean {
  const t = type
    .trim()
    .toLowerCase()
    .replace(/\s*\(.*\)\s*/, "")
    .replace(/\s+(unsigned|zerofill)\b/g, "");
  return NUMBER_TYPES.has(t);
}

/** Plain decimal text ("007", "-1.50", " 7 "): what every number type reads as exactly that number. */
const DECIMAL_TEXT = /^\s*([+-]?)(\d+)(?:\.(\d+))?\s*$/;

/** Decimal text in one spelling per value: no sign on zero, no leading or trailing zeros ("007" → "7", "1.50" → "1.5"). */
function decimalKey(text: string): string | undefined {
  const m = DECIMAL_TEXT.exec(text);
  if (m === null) return undefined;
  const whole = (m[2] as string).replace(/^0+(?=\d)/, "");
  const frac = (m[3] ?? "").replace(/0+$/, "");
  const abs = frac === "" ? whole : `${whole}.${frac}`;
  return `\u0000#${abs === "0" || m[1] !== "-" ? abs : `-${abs}`}`;
}

/**
 * A key value as every engine compares it, for the values that identify themselves: numbers, bigint, strings,
 * booleans, bytes, Dates by instant; in a number column (`numeric`) a number, a bigint, plain decimal text and a
 * boolean by the decimal value they store. Values of different kinds stay apart elsewhere: a text column may hold 7
 * as '7' on one engine and '7.0' on another. undefined: NULL (never conflicts) or a value whose equality only the
 * engine knows (PostgreSQL refuses such a duplicate itself: 21000, mapped to the same error; SQLite, DuckDB and MySQL
 * keep one row).
 */
function keyPart(v: unknown, numeric: boolean): string | number | undefined {
  switch (typeof v) {
    case "number":
      if (numeric && Number.isFinite(v)) {
        const text = String(v);
        // Exponent forms (1e21, 5e-7) are no plain decimal text: kept as numbers.
        return decimalKey(text) ?? v;
      }
      // -0 and 0 are one Map key; only a number column is sure to store them alike.
      return Object.is(v, -0) ? "\u0000n-0" : Number.isFinite(v) ? v : `\u0000n${v}`;
    case "string":
      return (numeric ? decimalKey(v) : undefined) ?? v;
    case "bigint":
      if (numeric) return decimalKey(String(v));
      return Number.isSafeInteger(Number(v)) ? Number(v) : `\u0000i${v}`;
    case "boolean":
      if (numeric) return decimalKey(v ? "1" : "0");
      return `\u0000b${v}`;
    case "object":
      if (v instanceof Date) return `\u0000d${v.getTime()}`;
      if (v instanceof Uint8Array) return `\u0000x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex")}`;
      return undefined;
    default:
      return undefined;
  }
}

/** A NULL key part under a NULLS NOT DISTINCT key (NUL never occurs in PostgreSQL text: no string equals it). */
const NULL_PART = "\u0000null";

/**
 * How one unique index on the key columns compares a key: NULL parts equal (NULLS NOT DISTINCT), each column's text
 * fold and whether it is a number column (both parallel to `on`; absent when exact or unknown).
 */
export interface KeyRule {
  nullsEqual: boolean;
  folds?: readonly (KeyFold | undefined)[];
  /** Per key column: its type is a number type (isNumberType). */
  numeric?: readonly boolean[];
}

type KeyOf = (row: Readonly<Record<string, unknown>>) => string | number | undefined;

/** A row's key under one rule; undefined when a part never conflicts (NULL) or only the server can compare it. */
function keyReader(on: readonly string[], rule: KeyRule | undefined): KeyOf {
  const nullsEqual = rule?.nullsEqual === true;
  const folds = rule?.folds;
  const numeric = rule?.numeric;
  const part = (v: unknown, column: number): string | number | undefined => {
    if (v == null) return nullsEqual ? NULL_PART : undefined;
    const number = numeric?.[column] === true;
    const fold = folds?.[column];
    if (typeof v === "string" && fold !== undefined && !number) return `\u0000f${foldText(v, fold)}`;
    return keyPart(v, number);
  };
  if (on.length === 1) {
    const single = on[0] as string;
    return (row) => part(row[single], 0);
  }
  return (row) => {
    let key = "";
    for (let c = 0; c < on.length; c++) {
      const p = part(row[on[c] as string], c);
      if (p === undefined) return undefined;
      // NUL cannot occur in PostgreSQL text, so it separates parts unambiguously.
      key += `${c === 0 ? "" : "\u0000,"}${typeof p}:${p}`;
    }
    return key;
  };
}

/**
 * Raises CardinalityViolationError for a key given twice (the first pair found), or with `last-wins` returns the
 * rows with only the last row per key, in their original order. `rules`: how each unique index on exactly these
 * columns compares keys (none: exact equality). Two rows are one key when any index says so, as the engine refuses a
 * conflict under any of them (ON CONFLICT handles its target's; a collision under another fails the statement), so
 * with several a row is kept only when it is the last of its key under every index: no two kept rows collide.
 */
export function dedupe(
  table: string,
  rows: Rows,
  on: readonly string[],
  mode: DuplicateKeys,
  rules: readonly KeyRule[] = [],
  distinct = false,
): Rows {
  // The caller saw every key is a number above the one before (ValueChunks.keysDistinct): none can repeat.
  if (distinct) return rows;
  if (on.length === 1) {
    const fast = dedupeIntegers(table, rows, on[0] as string, mode);
    if (fast !== undefined) return fast;
  }
  const readers = rules.length === 0 ? [keyReader(on, undefined)] : rules.map((r) => keyReader(on, r));
  const seen = readers.map(() => new Map<string | number, number>());
  let dupes = false;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as Readonly<Record<string, unknown>>;
    for (let r = 0; r < readers.length; r++) {
      const key = (readers[r] as KeyOf)(row);
      if (key === undefined) continue;
      const last = seen[r] as Map<string | number, number>;
      const prev = last.get(key);
      if (prev !== undefined) {
        if (mode !== "last-wins") throw duplicateKey(table, on, rows, prev, i);
        dupes = true;
      }
      last.set(key, i);
    }
  }
  if (!dupes) return rows;
  return rows.filter((row, i) =>
    readers.every((read, r) => {
      const key = read(row);
      return key === undefined || seen[r]?.get(key) === i;
    }),
  );
}

/** A key text as an index with that comparison sees it (SQLite's NOCASE folds ASCII letters only, DuckDB's all). */
function foldText(s: string, fold: KeyFold): string {
  switch (fold) {
    case "trailing-spaces":
      return s.replace(/ +$/, "");
    case "ascii-case":
      return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
    case "case":
      return lower(s);
    case "accents":
      return stripAccents(s);
    case "case-accents":
      return lower(stripAccents(s));
  }
}

/**
 * Lower case letter by letter, as the engines' case-insensitive comparisons do: JavaScript's toLowerCase turns a
 * word-final capital sigma into ς, which the engines fold to σ (so 'ΟΔΟΣ' and 'οδος' are two keys there).
 */
function lower(s: string): string {
  return s.replaceAll("Σ", "σ").toLowerCase();
}

function stripAccents(s: string): string {
  return s.normalize("NFD").replace(/\p{M}+/gu, "");
}

/** Integer keys spread over at most this many values per row are marked in a typed array instead of a Map. */
const DENSE_SPREAD = 8;

/**
 * dedupe for a single key whose values are all integers (ids, the common case), without a Map: ascending keys cannot
 * repeat, and keys within a small range are marked by position in a typed array. Same errors and order as the
 * general path; undefined when a key is not an integer (NULL, text, …) or the range is too wide.
 */
function dedupeIntegers(table: string, rows: Rows, key: string, mode: DuplicateKeys): Rows | undefined {
  const n = rows.length;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let ascending = true;
  let prev = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const v = (rows[i] as Readonly<Record<string, unknown>>)[key];
    if (typeof v !== "number" || !Number.isSafeInteger(v)) return undefined;
    if (v <= prev) ascending = false;
    prev = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (ascending) return rows;
  if (max - min >= n * DENSE_SPREAD + 1024) return undefined;
  // last[k - min] = 1 + the index of the last row with key k so far.
  const last = new Int32Array(max - min + 1);
  let dupes = false;
  for (let i = 0; i < n; i++) {
    const slot = ((rows[i] as Readonly<Record<string, unknown>>)[key] as number) - min;
    const before = last[slot] as number;
    if (before !== 0) {
      if (mode !== "last-wins") throw duplicateKey(table, [key], rows, before - 1, i);
      dupes = true;
    }
    last[slot] = i + 1;
  }
  if (!dupes) return rows;
  return rows.filter((row, i) => last[((row as Readonly<Record<string, unknown>>)[key] as number) - min] === i + 1);
}

function duplicateKey(
  table: string,
  on: readonly string[],
  rows: Rows,
  a: number,
  b: number,
): CardinalityViolationError {
  const row = rows[b] as Readonly<Record<string, unknown>>;
  const values = on.map((c) => String(row[c] instanceof Date ? (row[c] as Date).toISOString() : row[c]));
  return new CardinalityViolationError(
    `upsert into "${table}": key ${keyList(on)} appears more than once in the batch (rows ${a} and ${b}); an upsert ` +
      'writes each key once. Remove the duplicates, or pass { duplicates: "last-wins" } to keep the last row per key.',
    { sqlState: "21000", detail: `Key ${keyList(on)}=(${values.join(", ")}) is duplicated` },
  );
}

/** The server found a key twice (a value only it compares, e.g. a case-insensitive collation): the same error. */
export function serverDuplicate(table: string, on: readonly string[], cause: unknown): CardinalityViolationError {
  return new CardinalityViolationError(
    `upsert into "${table}": the server found key ${keyList(on)} more than once in the batch (equal under the ` +
      'column\'s comparison); pass { duplicates: "last-wins" } only for keys equal in JavaScript, or remove the duplicates.',
    { sqlState: "21000", cause },
  );
}

// ---------------------------------------------------------------------------------------------------- unique keys

function sameKey(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((c) => b.includes(c));
}

export function isUniqueKey(on: readonly string[], keys: readonly (readonly string[])[]): boolean {
  return keys.some((k) => sameKey(k, on));
}

/** `on` is no unique key of the table: name the ones it has (an upsert on anything else would duplicate rows). */
export function notUniqueKey(
  table: string,
  on: readonly string[],
  keys: readonly (readonly string[])[] | undefined,
  cause?: unknown,
): InvalidColumnReferenceError {
  const have =
    keys === undefined
      ? "its unique keys could not be read"
      : keys.length === 0
        ? "it has no unique key or primary key"
        : `its unique keys: ${keys.map(keyList).join(", ")}`;
  return new InvalidColumnReferenceError(
    `upsert into "${table}": on ${keyList(on)} is not a unique key of the table (${have}). An upsert matches rows by ` +
      "a primary key or unique constraint/index: pass one of those columns sets as `on`, or add the constraint.",
    { sqlState: "42P10", ...(cause === undefined ? {} : { cause }) },
  );
}

// ---------------------------------------------------------------------------------------------------- catalog

/** Reads a table's catalog columns; `refresh` bypasses the per-pool cache. */
export type ColumnsOf = (table: string, refresh: boolean) => Promise<readonly { name: string; type: string }[]>;

/**
 * Catalog types of the data columns, for encoding only (which values are JSON documents or arrays): the server
 * types every value itself when the statement runs. A column the cached entry lacks (added since) re-reads the
 * catalog once; one the table really lacks raises before anything is written.
 */
export async function catalogTypes(columnsOf: ColumnsOf, table: string, columns: readonly string[]): Promise<string[]> {
  let cols = await columnsOf(table, false);
  let byName = new Map(cols.map((c) => [c.name, c.type]));
  if (cols.length === 0 || columns.some((c) => !byName.has(c))) {
    cols = await columnsOf(table, true);
    byName = new Map(cols.map((c) => [c.name, c.type]));
  }
  if (cols.length === 0) {
    // What execute on a missing table raises on every engine (class 42, undefined table), before anything is sent.
    throw new SQLParsingError(`Table "${table}" was not found (no columns in the catalog)`, { sqlState: "42P01" });
  }
  const unknown = columns.filter((c) => !byName.has(c));
  if (unknown.length > 0) {
    throw new SQLBuilderError(
      `Table "${table}" has no column(s) ${list(unknown)} (its columns: ${cols.map((c) => c.name).join(", ")})`,
    );
  }
  return columns.map((c) => byName.get(c) as string);
}

/**
 * Values no column can hold (Symbol, function, Invalid Date) in rows bound by an engine's own statements (SQLite,
 * DuckDB, MySQL), as the ParameterError the PostgreSQL encoders raise: naming column and row, before anything is sent.
 * Rows are objects or value arrays in `columns` order.
 */
export function checkRowValues(
  rows: readonly unknown[],
  columns: readonly string[],
  offset = 0,
  refused?: RefusedValue,
): void {
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as Readonly<Record<string, unknown>> | readonly unknown[];
    const arr = Array.isArray(row);
    for (let c = 0; c < columns.length; c++) {
      const v = arr ? (row as readonly unknown[])[c] : (row as Readonly<Record<string, unknown>>)[columns[c] as string];
      if (unbindable(v)) throw unbindableAt(v, columns[c] as string, offset + r);
      if (refused !== undefined && suspect(v)) refuseAt(refused, v, columns[c] as string, offset + r);
    }
  }
}

/**
 * A string bound to a JSON column is JSON text on every bulk path (README "Values and types"): one that is not raises
 * ParameterError naming column and row before anything is written, as PostgreSQL's encoders do. `types` are the
 * catalog's types of `columns`; rows are objects or value arrays in `columns` order.
 */
export function checkJsonStrings(
  rows: readonly unknown[],
  columns: readonly string[],
  types: readonly string[],
  offset = 0,
): void {
  const json = jsonColumns(types);
  if (json.length === 0) return;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as Readonly<Record<string, unknown>> | readonly unknown[];
    const arr = Array.isArray(row);
    for (const c of json) {
      const v = arr ? (row as readonly unknown[])[c] : (row as Readonly<Record<string, unknown>>)[columns[c] as string];
      if (typeof v !== "string") continue;
      try {
        checkJsonText(v);
      } catch (err) {
        throw invalidAt(err, `column "${columns[c] as string}" of row ${offset + r}`);
      }
    }
  }
}

/** The positions of the JSON columns among `types` (the catalog's types of a column list). */
export function jsonColumns(types: readonly string[]): number[] {
  const json: number[] = [];
  for (let c = 0; c < types.length; c++) if (/json/i.test(types[c] as string)) json.push(c);
  return json;
}

/** An async source whose rows are checked by checkJsonStrings as each is read, numbered from 0. */
export async function* jsonCheckedRows(
  rows: AsyncIterable<unknown>,
  columns: readonly string[],
  types: readonly string[],
): AsyncGenerator<unknown> {
  let r = 0;
  for await (const row of rows) {
    checkJsonStrings([row], columns, types, r++);
    yield row;
  }
}

/** The engine's own refusals (BulkCapabilities.refusedValue). */
export type RefusedValue = (v: number | string | Date) => string | undefined;

/**
 * NaN, a string with a lone surrogate, or a Date: the values an engine may be unable to store (asked of
 * refusedValue; a Date's year may be outside what the engine's date-time text holds).
 */
function suspect(v: unknown): v is number | string | Date {
  if (typeof v === "string") return !(v as WellFormed).isWellFormed();
  // biome-ignore lint/suspicious/noSelfCompare: NaN is the only value not equal to itself.
  return typeof v === "number" ? v !== v : v instanceof Date;
}

function refuseAt(refused: RefusedValue, v: number | string | Date, column: string, row: number): void {
  const reason = refused(v);
  if (reason !== undefined) throw invalidAt(new InvalidValueError(reason), `column "${column}" of row ${row}`);
}

/** String.prototype.isWellFormed: ES2024 (Node ≥ 20); the project's lib is ES2022. */
type WellFormed = string & { isWellFormed(): boolean };

/**
 * The rows of a multi-row VALUES upsert, read in `perChunk`-row statements by one pass (`scan`) that checks each row's
 * keys against `columns`, checks and copies every value into its statement's parameter array, and notes what the
 * key columns hold (`kinds`, `keysDistinct`) so the duplicate check and the catalog reads that follow need no pass of
 * their own. A row with other keys raises at once (SQLBuilderError, as rowColumns); a bad value is remembered and
 * raised by `throwBadValue`, after the key and duplicate checks, as those raised first when each had its own pass.
 */
export class ValueChunks {
  readonly #rows: Rows;
  readonly #columns: readonly string[];
  readonly #on: readonly string[];
  readonly #refused: RefusedValue | undefined;
  readonly #encode: ((v: unknown) => unknown) | undefined;
  readonly perChunk: number;
  /** Each row's index in the caller's rows, when these are what last-wins kept of them. */
  readonly positions: readonly number[] | undefined;
  #arrays: (unknown[] | undefined)[] = [];
  #bad: unknown;
  #scan: KeyScan = { kinds: 0, last: Number.NEGATIVE_INFINITY };

  constructor(
    rows: Rows,
    columns: readonly string[],
    on: readonly string[],
    perChunk: number,
    refused?: RefusedValue,
    encode?: (v: unknown) => unknown,
    positions?: readonly number[],
  ) {
    this.positions = positions;
    this.#rows = rows;
    this.#columns = columns;
    this.#on = on;
    this.#refused = refused;
    this.#encode = encode;
    this.perChunk = perChunk;
  }

  get count(): number {
    return this.#arrays.length;
  }

  /** NULL_KEY_PART | NON_NUMBER_KEY_PART: what the key columns hold (after scan). */
  get kinds(): number {
    return this.#scan.kinds;
  }

  /** A single key column whose values are strictly ascending numbers: no key can repeat (after scan). */
  get keysDistinct(): boolean {
    return this.#on.length === 1 && !Number.isNaN(this.#scan.last);
  }

  /** Reads every row once (see the class); each statement's array is marked plain when every value in it is. */
  scan(): this {
    const rows = this.#rows;
    const columns = this.#columns;
    const width = columns.length;
    const scanRows = rowScanner(columns, this.#on);
    const scan = this.#scan;
    const encode = this.#encode;
    // The scanner's form: undefined where the adapter refuses the value (its row is then read below, which names it).
    const tryEncode =
      encode === undefined
        ? undefined
        : (v: unknown): unknown => {
            try {
              return encode(v);
            } catch {
              return undefined;
            }
          };
    let keySet: Set<string> | undefined;
    for (let start = 0; start < rows.length; start += this.perChunk) {
      const end = Math.min(rows.length, start + this.perChunk);
      const out = new Array<unknown>((end - start) * width);
      let plain = true;
      // The generated scanner passes rows built alike with plain values; any other row is read here, and the scanner
      // goes on after it.
      for (let r = start; r < end; r++) {
        r = scanRows(rows, r, end, out, (r - start) * width, scan, tryEncode);
        if (r < 0) break;
        const row = rows[r] as Readonly<Record<string, unknown>>;
        keySet ??= new Set(columns);
        if (!sameKeys(row, keySet)) throw keyMismatch(r, columns, row);
        const at = (r - start) * width;
        try {
          // Named by its place in the caller's rows (last-wins may have dropped some before this scan).
          const name = this.positions?.[r] ?? r;
          if (!readRow(row, columns, out, at, name, this.#refused)) {
            if (encode === undefined) plain = false;
            else encodeRow(out, at, columns, name, encode);
          }
        } catch (err) {
          this.#bad ??= err;
          plain = false;
        }
        noteKeys(row, this.#on, scan);
      }
      this.#arrays.push(plain ? markPlain(out) : out);
    }
    return this;
  }

  /** The first bad value's ParameterError (column and row named), if the scan found one. */
  throwBadValue(): void {
    if (this.#bad !== undefined) throw this.#bad;
  }

  /** Statement `i`'s values in `columns` order, row after row (undefined as null); handed over once. */
  fill(i: number): unknown[] {
    const out = this.#arrays[i] as unknown[];
    // The engine copies the values when the statement runs: drop the array so the call holds one at a time.
    this.#arrays[i] = undefined;
    return out;
  }
}

/** The values readRow left for the adapter to encode (not a string, number or null), encoded in place; named when refused. */
function encodeRow(
  out: unknown[],
  at: number,
  columns: readonly string[],
  r: number,
  encode: (v: unknown) => unknown,
): void {
  for (let c = 0; c < columns.length; c++) {
    const v = out[at + c];
    if (v === null || typeof v === "string" || typeof v === "number") continue;
    try {
      out[at + c] = encode(v);
    } catch (err) {
      throw invalidAt(err, `column "${columns[c] as string}" of row ${r}`);
    }
  }
}

function sameKeys(row: Readonly<Record<string, unknown>>, keys: ReadonlySet<string>): boolean {
  let n = 0;
  for (const k in row) {
    if (!keys.has(k)) return false;
    n++;
  }
  return n === keys.size;
}

/** The scanner's key facts for a row it handed back. */
function noteKeys(row: Readonly<Record<string, unknown>>, on: readonly string[], scan: KeyScan): void {
  for (const c of on) {
    const v = row[c];
    if (v == null) scan.kinds |= NULL_KEY_PART;
    else if (typeof v !== "number") scan.kinds |= NON_NUMBER_KEY_PART;
  }
  const v = on.length === 1 ? row[on[0] as string] : undefined;
  scan.last = typeof v === "number" && v > scan.last ? v : Number.NaN;
}

/**
 * One row's values into `out` from `k`, each checked (ParameterError naming column and row); false when one is not a
 * string, number or null (the chunk is then not plain).
 */
function readRow(
  row: Readonly<Record<string, unknown>>,
  columns: readonly string[],
  out: unknown[],
  k: number,
  r: number,
  refused: RefusedValue | undefined,
): boolean {
  let plain = true;
  for (let c = 0; c < columns.length; c++) {
    const v = row[columns[c] as string];
    const t = typeof v;
    if (t !== "string" && t !== "number" && v !== null) {
      if (v === undefined) {
        out[k++] = null;
        continue;
      }
      if (unbindable(v)) throw unbindableAt(v, columns[c] as string, r);
      if (refused !== undefined && v instanceof Date) refuseAt(refused, v, columns[c] as string, r);
      plain = false;
    } else if (refused !== undefined && suspect(v)) {
      refuseAt(refused, v, columns[c] as string, r);
    }
    out[k++] = v;
  }
  return plain;
}

function unbindable(v: unknown): boolean {
  return typeof v === "symbol" || typeof v === "function" || (v instanceof Date && Number.isNaN(v.getTime()));
}

function unbindableAt(v: unknown, column: string, row: number): unknown {
  const reason = v instanceof Date ? new InvalidValueError("an Invalid Date cannot be bound as a value") : badValue(v);
  return invalidAt(reason, `column "${column}" of row ${row}`);
}
