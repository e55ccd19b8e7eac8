/**
 * Generated row readers for the bulk VALUES path: per column list, one function that reads each row once (its key
 * count, each value checked and copied into a parameter array, what its key columns hold) with the column names as
 * constant property keys. A constant key gets an inline cache per column, so rows built alike cost one shape check
 * and a load per value (what a hand-written `r.id, r.name, …` loop costs), where a lookup by a name from an array
 * pays a keyed lookup per value; and one pass instead of one per check (keys, key kinds, duplicates, values, copy).
 *
 * Only the column names reach the generated source, and each only as a JSON.stringify'd string literal inside a
 * property access (`row["a\"b"]`): a JSON string is a valid JavaScript string literal, so no column name can end the
 * literal and become code.
 */

type Rows = readonly Readonly<Record<string, unknown>>[];

/** Column lists seen by one process are few; past this many (generated tables?) start over rather than grow. */
const MAX_READERS = 256;

/** What a scan learned about the key columns: kinds (keyPartKinds bits) and whether the keys are distinct. */
export interface KeyScan {
  /** NULL_KEY_PART | NON_NUMBER_KEY_PART seen in the key columns so far. */
  kinds: number;
  /**
   * The last key of a single-column key while every key so far was a number above the one before (strictly ascending
   * numbers are distinct: no duplicate check needed); NaN once one was not.
   */
  last: number;
}

/**
 * Reads rows[start..end) into `out` from index `at` in column order while each row's enumerable keys are `columns` in
 * that order (a value read as undefined is bound as null) and each value is a well-formed string, a number other than NaN, null, or another value `encode` (the adapter's encoding, undefined
 * when it refuses the value) turns into what the adapter binds; updates `scan` for the key columns (their values as
 * given). Returns -1 when every row passed, else the index r of the first row that did not: `out` from
 * `at + (r - start) * columns.length` on is unspecified, and `scan` does not count it. The caller reads that row
 * itself and goes on after it. Without `encode` any other value hands its row back.
 */
export type RowScanner = (
  rows: Rows,
  start: number,
  end: number,
  out: unknown[],
  at: number,
  scan: KeyScan,
  encode: ((v: unknown) => unknown) | undefined,
) => number;

const scanners = new Map<string, RowScanner>();

/**
 * The scanner for `columns` with key columns `on`, generated once per distinct pair: the row's keys, value checks, the copy and the key facts in one pass over each row (a separate pass each cost as much as SQLite binding
 * the row). Only the names reach the source, each as a JSON.stringify'd property key.
 */
export function rowScanner(columns: readonly string[], on: readonly string[]): RowScanner {
  const key = JSON.stringify([columns, on]);
  let scan = scanners.get(key);
  if (scan === undefined) {
    if (scanners.size >= MAX_READERS) scanners.clear();
    scan = generateScanner(columns, on);
    scanners.set(key, scan);
  }
  return scan;
}

function generateScanner(columns: readonly string[], on: readonly string[]): RowScanner {
  const keyVar = new Map<string, string>();
  for (const [i, c] of on.entries()) if (!keyVar.has(c)) keyVar.set(c, `k${i}`);
  const read = columns
    .map((c) => {
      const name = JSON.stringify(c);
      const keep = keyVar.has(c) ? `\n    ${keyVar.get(c)} = v;` : "";
      return `v = row[${name}];${keep}
    if (typeof v === "string") { if (!v.isWellFormed()) return r; }
    else if (typeof v === "number") { if (v !== v) return r; }
    else if (v === undefined) v = null;
    else if (v !== null) { if (encode === undefined || (v = encode(v)) === undefined) return r; }
    out[k++] = v;`;
    })
    .join("\n    ");
  // A key column the rows lack (planColumns refuses it after the scan) reads as undefined.
  const keys = on.map((c) => (columns.includes(c) ? (keyVar.get(c) as string) : `row[${JSON.stringify(c)}]`));
  const kinds = keys
    .map(
      (k) =>
        `if (${k} == null) kinds |= ${NULL_KEY_PART}; else if (typeof ${k} !== "number") kinds |= ${NON_NUMBER_KEY_PART};`,
    )
    .join("\n    ");
  const ascending =
    on.length === 1
      ? `if (typeof ${keys[0]} === "number" && ${keys[0]} > last) last = ${keys[0]}; else last = NaN;`
      : "";
  const locals = on.length > 0 ? `let ${on.map((_, i) => `k${i}`).join(", ")};` : "";
  return new Function(`"use strict";
const names = ${JSON.stringify(columns)};
return function scanRows(rows, start, end, out, at, scan, encode) {
  let k = at;
  let kinds = scan.kinds;
  let last = scan.last;
  let r = start;
  rowLoop: for (; r < end; r++) {
    const row = rows[r];
    // The row's enumerable keys are the columns in order (what for-in lists, as rowColumns reads them): a getter or a
    // non-enumerable property of the same name is no column, and a row with its keys in another order is read below.
    let n = 0;
    for (const key in row) {
      if (key !== names[n]) break rowLoop;
      n++;
    }
    if (n !== ${columns.length}) break;
    let v;
    ${locals}
    ${read.replaceAll("return r;", "break rowLoop;")}
    ${kinds}
    ${ascending}
  }
  scan.kinds = kinds;
  scan.last = last;
  return r === end ? -1 : r;
};`)() as RowScanner;
}

/**
 * keyPartKinds bits: some row has a NULL (null or undefined) key part; some row has a key part that is not a number
 * (text, bytes, a boolean, …), whose comparison depends on the column's type.
 */
export const NULL_KEY_PART = 1;
export const NON_NUMBER_KEY_PART = 2;

type KeyPartKinds = (rows: Rows) => number;
const kindReaders = new Map<string, KeyPartKinds>();

/**
 * Which kinds of key parts the rows hold (NULL_KEY_PART | NON_NUMBER_KEY_PART), read in one pass by a reader generated per
 * key column list (the names as JSON.stringify'd property keys, as above); stops once both are seen.
 */
export function keyPartKinds(rows: Rows, on: readonly string[]): number {
  const key = JSON.stringify(on);
  let read = kindReaders.get(key);
  if (read === undefined) {
    if (kindReaders.size >= MAX_READERS) kindReaders.clear();
    const body = on
      .map(
        (c) => `v = row[${JSON.stringify(c)}];
    if (v == null) kinds |= ${NULL_KEY_PART}; else if (typeof v !== "number") kinds |= ${NON_NUMBER_KEY_PART};`,
      )
      .join("\n    ");
    read = new Function(`"use strict";
return function keyPartKinds(rows) {
  let kinds = 0;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    let v;
    ${body}
    if (kinds === ${NULL_KEY_PART | NON_NUMBER_KEY_PART}) break;
  }
  return kinds;
};`)() as KeyPartKinds;
    kindReaders.set(key, read);
  }
  return read(rows);
}
