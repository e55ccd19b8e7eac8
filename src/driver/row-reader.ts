/**
 * Generated row readers for the bulk VALUES path: per column list, one function that checks each row's values and one
 * that copies them into a parameter array with the column names as constant property keys. A constant key gets an inline cache per column,
 * so rows built alike cost one shape check and a load per value — what a hand-written `r.id, r.name, …` loop costs —
 * where a lookup by a name from an array pays a keyed lookup per value (~2× the whole read at 10k rows on SQLite).
 *
 * Only the column names reach the generated source, and each only as a JSON.stringify'd string literal inside a
 * property access (`row["a\"b"]`): a JSON string is a valid JavaScript string literal, so no column name can end the
 * literal and become code.
 */

type Rows = readonly Readonly<Record<string, unknown>>[];

/**
 * Passes rows[start..end) while each value is a well-formed string, a number other than NaN, null or undefined.
 * Returns -1 when every row passed, else the index of the first row holding any other value: the caller reads and
 * checks that row itself.
 */
export type PlainRowChecker = (rows: Rows, start: number, end: number) => number;

/** Column lists seen by one process are few; past this many (generated tables?) start over rather than grow. */
const MAX_READERS = 256;

/** Copies the values of rows[start..end) in column order into `out` from index 0 (undefined as null), unchecked. */
export type RowCopier = (rows: Rows, start: number, end: number, out: unknown[]) => void;

const copiers = new Map<string, RowCopier>();

/**
 * The copier for `columns`, generated once per distinct list: for values already read and checked (the names reach
 * the source only as JSON.stringify'd property keys, as in plainRowChecker).
 */
export function rowCopier(columns: readonly string[]): RowCopier {
  const key = JSON.stringify(columns);
  let copy = copiers.get(key);
  if (copy === undefined) {
    if (copiers.size >= MAX_READERS) copiers.clear();
    const body = columns
      .map(
        (c) => `v = row[${JSON.stringify(c)}];
    out[k++] = v === undefined ? null : v;`,
      )
      .join("\n    ");
    copy = new Function(`"use strict";
return function copyRows(rows, start, end, out) {
  let k = 0;
  for (let r = start; r < end; r++) {
    const row = rows[r];
    let v;
    ${body}
  }
};`)() as RowCopier;
    copiers.set(key, copy);
  }
  return copy;
}

/** The checker for `columns`, generated once per distinct list: check every row first, copy later with rowCopier. */
export function plainRowChecker(columns: readonly string[]): PlainRowChecker {
  const key = JSON.stringify(columns);
  let check = checkers.get(key);
  if (check === undefined) {
    if (checkers.size >= MAX_READERS) checkers.clear();
    check = generate(columns);
    checkers.set(key, check);
  }
  return check;
}

const checkers = new Map<string, PlainRowChecker>();

function generate(columns: readonly string[]): PlainRowChecker {
  const body = columns
    .map(
      (c) =>
        `v = row[${JSON.stringify(c)}];
    if (typeof v === "string") { if (!v.isWellFormed()) return r; }
    else if (typeof v === "number") { if (v !== v) return r; }
    else if (v != null) return r;`,
    )
    .join("\n    ");
  const source = `"use strict";
return function checkPlainRows(rows, start, end) {
  for (let r = start; r < end; r++) {
    const row = rows[r];
    let v;
    ${body}
  }
  return -1;
};`;
  return new Function(source)() as PlainRowChecker;
}

/** keyPartKinds bits: some row has a NULL (null or undefined) key part; some row has a string key part. */
export const NULL_KEY_PART = 1;
export const TEXT_KEY_PART = 2;

type KeyPartKinds = (rows: Rows) => number;
const kindReaders = new Map<string, KeyPartKinds>();

/**
 * Which kinds of key parts the rows hold (NULL_KEY_PART | TEXT_KEY_PART), read in one pass by a reader generated per
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
    if (v == null) kinds |= ${NULL_KEY_PART}; else if (typeof v === "string") kinds |= ${TEXT_KEY_PART};`,
      )
      .join("\n    ");
    read = new Function(`"use strict";
return function keyPartKinds(rows) {
  let kinds = 0;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    let v;
    ${body}
    if (kinds === ${NULL_KEY_PART | TEXT_KEY_PART}) break;
  }
  return kinds;
};`)() as KeyPartKinds;
    kindReaders.set(key, read);
  }
  return read(rows);
}
