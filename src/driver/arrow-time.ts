/** Date/timestamp text ↔ Arrow epoch values, at the precision the text carries (microseconds for PostgreSQL). */
import { formatPgTimestamp, parsePgTimestampMs } from "../core/datetime.js";

type Bad = (what: string) => Error;

/** Epoch milliseconds of date/timestamp text (sub-millisecond digits dropped), or the caller's error. */
export function parseTimestampMs(v: unknown, bad: Bad): number {
  const ms = typeof v === "string" ? parsePgTimestampMs(v) : Number.NaN;
  if (Number.isNaN(ms)) throw bad(typeof v === "string" ? "text that is not a date/timestamp" : `a ${typeof v} value`);
  return ms;
}

/** Epoch microseconds of timestamp text, keeping the digits a Date would drop. */
export function parseTimestampMicros(v: unknown, bad: Bad): bigint {
  const ms = parseTimestampMs(v, bad);
  const s = v as string;
  let extra = 0;
  const dot = s.indexOf(".");
  if (dot >= 0) {
    // Digits 4–6 of the fraction: the microseconds below the millisecond parsePgTimestampMs kept (it truncates,
    // and the fraction only ever adds time, so adding them back is exact for any year or zone).
    for (let k = 4, scale = 100; k <= 6; k++, scale /= 10) {
      const c = s.charCodeAt(dot + k);
      if (!(c >= 48 && c <= 57)) break;
      extra += (c - 48) * scale;
    }
  }
  return BigInt(ms) * 1000n + BigInt(extra);
}

/**
 * Epoch microseconds → PostgreSQL timestamp input text in UTC (`…HH:MM:SS.ffffff+00`), so COPY stores every digit
 * (a Date would keep milliseconds only).
 */
export function microsText(micros: bigint): string {
  let ms = micros / 1000n;
  let sub = micros % 1000n;
  if (sub < 0n) {
    sub += 1000n;
    ms -= 1n;
  }
  const text = formatPgTimestamp(new Date(Number(ms)));
  if (sub === 0n || !/\.\d{3}\+00/.test(text)) return text;
  return text.replace(/(\.\d{3})\+00/, `$1${String(sub).padStart(3, "0")}+00`);
}
