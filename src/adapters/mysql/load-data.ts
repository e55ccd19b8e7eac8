/**
 * The `LOAD DATA LOCAL INFILE` feed: rows encoded as tab-separated bytes (CHARACTER SET binary, so strings go as
 * their UTF-8 bytes and Buffers as themselves), `\N` for NULL, backslash escapes for `\`, tab, newline, CR and NUL.
 */

import { millisText, splitUtc, TWO_DIGITS, UTC_FIELDS } from "../../core/datetime.js";
import { ParameterError } from "../../core/errors.js";
import { isJsonValue, type JsonSerializer } from "../../core/json.js";

const CHUNK = 64 * 1024;
const NEEDS_ESCAPE = /[\\\t\n\r\0]/;
const ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0" };

function escapeText(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(/[\\\t\n\r\0]/g, (c) => ESCAPES[c] as string) : s;
}

function escapeBytes(b: Uint8Array): Buffer {
  let extra = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i] as number;
    if (c === 0x5c || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x00) extra++;
  }
  if (extra === 0) return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const out = Buffer.allocUnsafe(b.length + extra);
  let o = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i] as number;
    if (c === 0x5c || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x00) {
      out[o++] = 0x5c;
      out[o++] = c === 0x09 ? 0x74 : c === 0x0a ? 0x6e : c === 0x0d ? 0x72 : c === 0x00 ? 0x30 : 0x5c;
    } else out[o++] = c;
  }
  return out;
}

/** A Date as the DATETIME text MySQL reads, in UTC (the session time zone sqlspec sets). */
export function mysqlDateText(d: Date): string {
  const t = d.getTime();
  if (!Number.isFinite(t)) throw new ParameterError("Invalid Date in a bulk row");
  splitUtc(t);
  const f = UTC_FIELDS;
  const D = TWO_DIGITS;
  const y = f[0] as number;
  if (y < 1000 || y > 9999)
    throw new ParameterError(`Date ${d.toISOString()} is outside MySQL's DATETIME range (1000–9999)`);
  return `${y}-${D[f[1] as number]}-${D[f[2] as number]} ${D[f[3] as number]}:${D[f[4] as number]}:${D[f[5] as number]}.${millisText(f[6] as number)}`;
}

/** One value as LOAD DATA text (or bytes for binary values). */
function field(v: unknown, serializer: JsonSerializer): string | Uint8Array {
  switch (typeof v) {
    case "string":
      return escapeText(v);
    case "number":
      if (!Number.isFinite(v)) throw new ParameterError(`${v} cannot be stored by MySQL`);
      return String(v);
    case "bigint":
      return String(v);
    case "boolean":
      return v ? "1" : "0";
    case "undefined":
      return "\\N";
    case "object":
      if (v === null) return "\\N";
      if (v instanceof Date) return mysqlDateText(v);
      if (v instanceof Uint8Array) return v;
      return escapeText(serializer(isJsonValue(v) ? v.value : v));
    default:
      throw new ParameterError(`A ${typeof v} in a bulk row has no SQL value`);
  }
}

/** Encodes value arrays (width values each) into ~64 KiB byte chunks. */
export async function* encodeLoadDataRows(
  rows: AsyncIterable<unknown[]> | Iterable<unknown[]>,
  width: number,
  serializer: JsonSerializer,
): AsyncGenerator<Buffer> {
  let text = "";
  let parts: Buffer[] = [];
  let size = 0;
  for await (const row of rows as AsyncIterable<unknown[]>) {
    for (let i = 0; i < width; i++) {
      const f = field(row[i], serializer);
      if (typeof f === "string") text += f;
      else {
        if (text !== "") {
          const b = Buffer.from(text, "utf8");
          parts.push(b);
          size += b.length;
          text = "";
        }
        const b = escapeBytes(f);
        parts.push(b);
        size += b.length;
      }
      text += i === width - 1 ? "\n" : "\t";
    }
    if (text.length + size >= CHUNK) {
      if (parts.length === 0) yield Buffer.from(text, "utf8");
      else {
        parts.push(Buffer.from(text, "utf8"));
        yield Buffer.concat(parts);
      }
      text = "";
      parts = [];
      size = 0;
    }
  }
  if (parts.length > 0 || text !== "") {
    parts.push(Buffer.from(text, "utf8"));
    yield Buffer.concat(parts);
  }
}
