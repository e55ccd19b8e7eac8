/**
 * Values between mysql2 and sqlspec: parameters mysql2 would encode differently from the documented rules, and the
 * post-decoding of the columns mysql2 is told to leave as text (BIGINT, JSON) or as numbers (TINYINT(1)).
 */
import { DataError, ParameterError } from "../../core/errors.js";
import { isJsonValue, type JsonSerializer } from "../../core/json.js";
import type { Row } from "../../core/types.js";
import type { ResolvedDriverFeatures } from "../../driver/config.js";
import type { MysqlDriverFeatures } from "./config.js";

/** Column metadata as mysql2 reports it (ColumnDefinition). */
export interface Field {
  name: string;
  columnType: number;
  columnLength: number;
  flags: number;
  /** MariaDB's extended metadata: "json" for a JSON column (LONGTEXT with a JSON check) or a JSON function. */
  extendedFormat?: string;
}

/** mysql2's ResultSetHeader (the OK packet). */
export interface OkPacket {
  affectedRows: number;
  insertId: number | string;
  serverStatus?: number;
  warningStatus?: number;
  info?: string;
  changedRows?: number;
}

const TYPE = { TINY: 1, LONGLONG: 8, JSON: 245 } as const;

type MysqlModes = Required<Pick<MysqlDriverFeatures, "int8" | "tinyInt1AsBoolean">>;

/**
 * Post-decoding, in place: BIGINT by the int8 rule, JSON through the configured deserializer (MySQL's JSON type and
 * MariaDB's JSON-checked LONGTEXT, which the server flags in its extended metadata), TINYINT(1) as boolean when
 * asked. Costs one pass over the fields for results without such columns.
 */
export function decodeRows(
  rows: Row[],
  fields: readonly Field[],
  f: Pick<ResolvedDriverFeatures, "enableJsonCodecs" | "jsonDeserializer">,
  m: MysqlModes,
): void {
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as Field;
    const t = field.columnType;
    let fn: ((v: unknown) => unknown) | undefined;
    if (t === TYPE.LONGLONG) {
      if (m.int8 === "number") fn = (v) => checkSafeInt(v, field.name);
      else if (m.int8 === "bigint") fn = (v) => (typeof v === "string" ? BigInt(v) : v);
    } else if (t === TYPE.JSON || field.extendedFormat === "json") {
      if (f.enableJsonCodecs) {
        const des = f.jsonDeserializer;
        fn = (v) => (typeof v === "string" ? des(v) : Buffer.isBuffer(v) ? des(v.toString("utf8")) : v);
      }
    } else if (t === TYPE.TINY && field.columnLength === 1 && m.tinyInt1AsBoolean) {
      fn = (v) => (typeof v === "number" ? v !== 0 : v);
    }
    if (fn === undefined) continue;
    const name = field.name;
    for (const row of rows) {
      const v = row[name];
      if (v !== null && v !== undefined) row[name] = fn(v);
    }
  }
}

/**
 * Values mysql2 would not encode the way sqlspec documents: objects, arrays and `sql.json()` become JSON text
 * through the configured serializer (mysql2 would use JSON.stringify), typed arrays become Buffers, and values that
 * have no SQL meaning raise ParameterError before anything is sent. Copy-on-write: no allocation when nothing changes.
 */
export function encodeParams(params: unknown[], serializer: JsonSerializer): unknown[] {
  let out = params;
  for (let i = 0; i < params.length; i++) {
    const v = params[i];
    let enc: unknown = v;
    switch (typeof v) {
      case "object":
        if (v === null || Buffer.isBuffer(v)) continue;
        if (v instanceof Date) {
          if (Number.isNaN(v.getTime())) throw new ParameterError(`Parameter ${i + 1} is an Invalid Date`);
          continue;
        }
        if (isJsonValue(v)) enc = serializer(v.value);
        else if (ArrayBuffer.isView(v)) enc = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
        else enc = serializer(v);
        break;
      case "undefined":
        enc = null;
        break;
      case "symbol":
      case "function":
        throw new ParameterError(`Parameter ${i + 1} is a ${typeof v}, which has no SQL value`);
      case "number":
        if (!Number.isFinite(v)) throw new ParameterError(`Parameter ${i + 1} is ${v}, which MySQL cannot store`);
        continue;
      default:
        continue;
    }
    if (out === params) out = params.slice();
    out[i] = enc;
  }
  return out;
}

/**
 * The OK packet's info text as numbers: "Records: N  Duplicates: D" (multi-row INSERT, ON DUPLICATE KEY UPDATE) →
 * the inserted/updated/unchanged split; "Rows matched: M  Changed: C" (UPDATE) → matched/changed.
 */
export function duplicateSplit(ok: OkPacket): Record<string, number> | undefined {
  const info = ok.info;
  if (!info) return undefined;
  const dup = /^Records:\s*(\d+)\s+Duplicates:\s*(\d+)/.exec(info);
  if (dup) {
    // "Duplicates" counts the rows an ON DUPLICATE KEY UPDATE changed; an unchanged duplicate counts in neither.
    const updated = Number(dup[2]);
    const inserted = Math.max(0, ok.affectedRows - 2 * updated);
    return { inserted, updated, unchanged: Math.max(0, Number(dup[1]) - inserted - updated) };
  }
  const upd = /^Rows matched:\s*(\d+)\s+Changed:\s*(\d+)/.exec(info);
  return upd ? { matched: Number(upd[1]), changed: Number(upd[2]) } : undefined;
}

function checkSafeInt(v: unknown, column: string): unknown {
  if (typeof v === "string") {
    throw new DataError(
      `BIGINT value in column "${column}" is beyond ±2^53 and would lose precision as a number; ` +
        'set driverFeatures.int8 to "bigint" or "string"',
    );
  }
  return v;
}

/** "UTC" / "Z" / "+02:00" → the `±hh:mm` form both the server's time_zone and mysql2 accept. */
export function timeZoneOffset(tz: string): string {
  if (tz === "UTC" || tz === "Z" || tz === "utc") return "+00:00";
  if (/^[+-]\d{2}:\d{2}$/.test(tz)) return tz;
  throw new ParameterError(`poolConfig.timezone must be "UTC" or an offset like "+02:00", got "${tz}"`);
}
