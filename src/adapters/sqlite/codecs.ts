/**
 * Values to and from better-sqlite3, which binds only numbers, strings, bigints, Buffers and null, and returns
 * INTEGER, REAL, TEXT, BLOB or NULL whatever a column was declared as. What sqlspec adds, decided once per statement
 * from the declared types of its result columns (`stmt.columns()`):
 *
 *   bind:  boolean → 1/0 · Date → `YYYY-MM-DD HH:MM:SS.mmm` UTC (SQLite's own DATETIME text, read as UTC by its date
 *          functions) · Uint8Array → Buffer · sql.json(v), array, plain object → JSON text · undefined → NULL
 *          · NaN (SQLite would store NULL) and a string with a lone surrogate (no UTF-8 form) → ParameterError
 *   read:  BOOL… columns → boolean · DATE/TIME… columns holding text → Date (`timestamps: "date"`) · JSON columns →
 *          parsed · INTEGER values → the `driverFeatures.int8` rule (never a silently rounded number)
 */
import { dateTimeTextRefusal, daysFromCivil, daysInMonth, utcDateTimeText } from "../../core/datetime.js";
import { isJsonValue, type JsonDeserializer, type JsonSerializer } from "../../core/json.js";
import {
  badValue,
  checkWellFormed,
  type Int8Mode,
  InvalidValueError,
  invalidAt,
  isPlain,
  loneSurrogateReason,
  objectText,
  serializeJson,
  type TimestampMode,
  toInt8,
} from "../../core/values.js";

/** How a result column's values are converted, from its declared type. */
export const SqliteKind = { Plain: 0, Bool: 1, Date: 2, Json: 3 } as const;
export type SqliteKind = (typeof SqliteKind)[keyof typeof SqliteKind];

/**
 * The JS kind of a declared column type: the one rule the adapter reads with and typegen types with. Checked in this
 * order: JSON, BOOL, DATE/TIME (timestamp, datetime, date, time), else the value as SQLite stores it.
 */
export function sqliteKind(declared: string | null | undefined): SqliteKind {
  if (!declared) return SqliteKind.Plain;
  const t = declared.toUpperCase();
  if (t.includes("JSON")) return SqliteKind.Json;
  if (t.includes("BOOL")) return SqliteKind.Bool;
  if (t.includes("DATE") || t.includes("TIME")) return SqliteKind.Date;
  return SqliteKind.Plain;
}

/** Whether a column with this declared type can hold INTEGER values (TEXT and REAL affinity never do). */
export function mayHoldInteger(declared: string | null | undefined): boolean {
  if (!declared) return true;
  const t = declared.toUpperCase();
  if (t.includes("INT")) return true;
  if (t.includes("CHAR") || t.includes("CLOB") || t.includes("TEXT")) return false;
  return !(t.includes("REAL") || t.includes("FLOA") || t.includes("DOUB"));
}

export interface ReadOptions {
  int8: Int8Mode;
  timestamps: TimestampMode;
  /** undefined = JSON columns stay text (enableJsonCodecs: false). */
  json: JsonDeserializer | undefined;
}

/** How a statement's rows are read; built once per prepared statement. */
export interface RowPlan {
  readonly names: string[];
  /** The names once each, as the keys of a row object (a repeated name is one key). */
  readonly keys: readonly string[];
  /** Columns that need a conversion, with their kinds (parallel arrays); empty for most statements. */
  readonly convert: readonly string[];
  readonly kinds: readonly SqliteKind[];
  /** Columns that may carry INTEGER values (checked for the int8 rule). */
  readonly ints: readonly string[];
}

export function rowPlan(columns: readonly { name: string; type: string | null }[], o: ReadOptions): RowPlan {
  const names: string[] = [];
  const convert: string[] = [];
  const kinds: SqliteKind[] = [];
  const ints: string[] = [];
  for (const c of columns) {
    names.push(c.name);
    const kind = sqliteKind(c.type);
    if (
      kind === SqliteKind.Bool ||
      (kind === SqliteKind.Date && o.timestamps === "date") ||
      (kind === SqliteKind.Json && o.json !== undefined)
    ) {
      convert.push(c.name);
      kinds.push(kind);
    }
    if (mayHoldInteger(c.type)) ints.push(c.name);
  }
  return { names, keys: [...new Set(names)], convert, kinds, ints };
}

/**
 * Whether a row has exactly the plan's keys. SQLite re-prepares a statement whose table another connection changed
 * (SQLITE_SCHEMA) and better-sqlite3 then builds rows of the new shape: a row that differs shows the plan is stale.
 */
export function rowHasKeys(row: object, keys: readonly string[]): boolean {
  if (Object.keys(row).length !== keys.length) return false;
  for (let i = 0; i < keys.length; i++) if (!((keys[i] as string) in row)) return false;
  return true;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * `int8: "number"` with rows read as numbers: whether a value in an integer-capable column lies beyond ±2^53 − 1.
 * better-sqlite3 has already rounded such an INTEGER, and a REAL that large looks the same, so the caller re-reads
 * with safe integers to tell them apart.
 */
export function hasUnsafeNumber(rows: readonly Record<string, unknown>[], ints: readonly string[]): boolean {
  if (ints.length === 0) return false;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as Record<string, unknown>;
    for (let i = 0; i < ints.length; i++) {
      const v = row[ints[i] as string];
      if (typeof v === "number" && (v > MAX_SAFE || v < -MAX_SAFE)) return true;
    }
  }
  return false;
}

/**
 * Rows read with safe integers (every INTEGER a bigint): converted to the int8 mode in place. In `"number"` mode a
 * value beyond ±2^53 − 1 raises DataError (toInt8).
 */
export function applyInt8(rows: Record<string, unknown>[], names: readonly string[], mode: Int8Mode): void {
  if (mode === "bigint") return;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as Record<string, unknown>;
    for (let i = 0; i < names.length; i++) {
      const k = names[i] as string;
      const v = row[k];
      if (typeof v === "bigint") row[k] = toInt8(v, mode);
    }
  }
}

/** Converts the planned columns in place. */
export function decodeRows(rows: Record<string, unknown>[], plan: RowPlan, o: ReadOptions): void {
  const convert = plan.convert;
  if (convert.length === 0) return;
  const kinds = plan.kinds;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as Record<string, unknown>;
    for (let i = 0; i < convert.length; i++) {
      const k = convert[i] as string;
      const v = row[k];
      if (v === null || v === undefined) continue;
      switch (kinds[i]) {
        case SqliteKind.Bool:
          if (v === 0 || v === 1 || v === 0n || v === 1n) row[k] = v === 1 || v === 1n;
          break;
        case SqliteKind.Date:
          if (typeof v === "string") row[k] = parseDateText(v);
          break;
        case SqliteKind.Json:
          if (typeof v === "string") row[k] = parseJsonOrText(v, o.json as JsonDeserializer);
          break;
      }
    }
  }
}

/**
 * A JSON column's text as its document, or the stored text when it is not JSON: SQLite stores whatever was bound
 * (execute() does not know the column's type), and one such row must not make every SELECT of the table fail.
 */
function parseJsonOrText(v: string, parse: JsonDeserializer): unknown {
  try {
    return parse(v);
  } catch {
    return v;
  }
}

/**
 * DATETIME text → Date: `YYYY-MM-DD[ HH:MM[:SS[.fff]]]` with an optional `Z`, `±HH`, `±HH:MM` or `±HHMM`, `T` or
 * space between the date and the time; a value without a zone is UTC (as SQLite's date functions read it). Text in
 * any other form, or naming no real date-time (February 30th, hour 25, offset +24:00), stays text: a wrong Date is
 * worse than none.
 */
export function parseDateText(text: string): Date | string {
  const m = DATE_TEXT.exec(text);
  if (m === null) return text;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return text;
  if (hour > 23 || minute > 59 || second > 59) return text;
  // Digits past the millisecond are truncated, as the other adapters read timestamps.
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, "0"));
  let offset = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[9]);
    const om = m[10] === undefined ? 0 : Number(m[10]);
    if (oh > 23 || om > 59) return text;
    offset = (m[8] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  const minutes = (hour * 60 + minute - offset) * 60_000;
  return new Date(daysFromCivil(year, month, day) * 86_400_000 + minutes + second * 1000 + ms);
}

/** String.prototype.isWellFormed is ES2024 (Node ≥ 20); the project's lib is ES2022. */
type WellFormed = string & { isWellFormed(): boolean };

const DATE_TEXT =
  /^(\d{4})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?(?:Z|([+-])(\d\d)(?::?(\d\d))?)?)?$/;

/**
 * Parameters as better-sqlite3 binds them. Returns `params` itself when every value binds as is (the common case:
 * nothing is allocated), otherwise a converted copy. An unbindable value raises ParameterError naming its position.
 */
export function encodeParams(params: unknown[], ser: JsonSerializer): unknown[] {
  // Bulk VALUES chunks the upsert engine already read and checked are bound as they are; a short list is scanned
  // faster than it is looked up.
  if (params.length > 64 && isPlain(params)) return params;
  for (let i = 0; i < params.length; i++) {
    const v = params[i];
    const t = typeof v;
    if (t === "string") {
      if ((v as WellFormed).isWellFormed()) continue;
    } else if (t === "number") {
      if (!Number.isNaN(v)) continue;
    } else if (t === "bigint" || v === null || Buffer.isBuffer(v)) continue;
    const out = params.slice();
    for (let j = i; j < params.length; j++) {
      try {
        out[j] = encodeValue(params[j], ser);
      } catch (err) {
        throw invalidAt(err, `Parameter ${j + 1}`);
      }
    }
    return out;
  }
  return params;
}

const NAN_REASON = "NaN cannot be stored in SQLite (it would be stored as NULL)";

/**
 * The bulk paths' question (BulkCapabilities.refusedValue): SQLite stores neither NaN nor a lone surrogate faithfully,
 * and its date functions read no Date outside years 0000–9999.
 */
export function refusedValue(v: number | string | Date): string | undefined {
  if (typeof v === "number") return Number.isNaN(v) ? NAN_REASON : undefined;
  return typeof v === "string" ? loneSurrogateReason(v) : dateTimeTextRefusal(v);
}

/** One value as better-sqlite3 binds it (see the header). */
export function encodeValue(v: unknown, ser: JsonSerializer): unknown {
  switch (typeof v) {
    case "string":
      return checkWellFormed(v);
    case "number":
      // SQLite stores NaN as NULL (±Infinity as REAL infinity, faithfully).
      if (Number.isNaN(v)) throw new InvalidValueError(NAN_REASON);
      return v;
    case "bigint":
      return v;
    case "boolean":
      return v ? 1 : 0;
    case "undefined":
      return null;
    case "object":
      if (v === null || Buffer.isBuffer(v)) return v;
      if (v instanceof Date) {
        const refusal = dateTimeTextRefusal(v);
        if (refusal !== undefined) throw new InvalidValueError(refusal);
        return utcDateTimeText(v);
      }
      if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      // Text made here (a serializer's, a toString()'s) is checked as given text is: no lone surrogate reaches UTF-8.
      if (isJsonValue(v)) return checkWellFormed(serializeJson(v.value, ser));
      // Arrays and plain objects are JSON; a class instance with its own toString() (Decimal, …) is that text.
      return checkWellFormed(Array.isArray(v) ? serializeJson(v, ser) : objectText(v, ser));
    default:
      throw badValue(v);
  }
}
