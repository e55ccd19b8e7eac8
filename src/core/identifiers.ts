/**
 * Identifiers: how a name written by a user is read (`schema.table`, `"Quoted.Part"`, `t.col AS alias`) and the one
 * quoting function per dialect that every generated statement uses (the builder's renderers, the upsert engine, COPY,
 * filters, `sql.ref`).
 *
 * Every identifier the library writes is quoted, so no reserved word (`order`, `collation`, `system_user`, …) and no
 * user-supplied name can ever change the statement. Quoting never changes what the usual spelling means:
 * - an all-lower-case name is the dialect's ordinary identifier: PostgreSQL folds unquoted names to lower case, so
 *   `products` → `"products"`; Oracle folds to upper case, so `products` → `"PRODUCTS"`;
 * - a name with an upper-case letter, or one written quoted (`"Products"`), keeps its exact case: `"Products"`.
 */
import { SQLBuilderError } from "./errors.js";
import type { Dialect } from "./types.js";

const ORACLE_FOLDED = /^[a-z][a-z0-9_$#]*$/;

/**
 * Quotes one identifier part for a dialect (never a dotted path: a dot inside `part` stays part of the name).
 * PostgreSQL, SQLite, DuckDB: `"…"` with `""` for a quote. MySQL: backticks with ``` `` ```. BigQuery: backticks with
 * backslash escapes. Oracle: `"…"` with ordinary lower-case names folded to upper case (a `"` cannot appear).
 */
export function quoteIdent(part: string, dialect: Dialect): string {
  if (part.length === 0) throw new SQLBuilderError("An identifier cannot be empty.");
  if (part.includes("\u0000")) throw new SQLBuilderError("An identifier cannot contain a NUL character.");
  switch (dialect) {
    case "mysql":
      return `\`${part.includes("`") ? part.replace(/`/g, "``") : part}\``;
    case "bigquery":
      return `\`${/[`\\]/.test(part) ? part.replace(/[`\\]/g, "\\$&") : part}\``;
    case "oracle":
      if (part.includes('"')) {
        throw new SQLBuilderError(`Oracle identifiers cannot contain a double quote: ${JSON.stringify(part)}.`);
      }
      return `"${ORACLE_FOLDED.test(part) ? part.toUpperCase() : part}"`;
    default:
      return `"${part.includes('"') ? part.replace(/"/g, '""') : part}"`;
  }
}

/** Quotes a parsed path; a bare `*` as the last part stays bare (`"t".*`). */
export function quotePath(parts: readonly string[], dialect: Dialect): string {
  let out = "";
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    if (i > 0) out += ".";
    out += p === "*" && i === parts.length - 1 ? "*" : quoteIdent(p, dialect);
  }
  return out;
}

/**
 * A possibly qualified name as written by a user (`public.products`, `"Bulk"."Record.Target"`) → quoted for the
 * dialect. Parsed, never pasted: a string that is not a dotted name is one identifier, quoted whole.
 */
export function quoteQualified(name: string, dialect: Dialect): string {
  return quotePath(parseName(name), dialect);
}

// ---------------------------------------------------------------------------------------------------------------
// Reading names

export interface ParsedName {
  readonly parts: readonly string[];
  readonly alias?: string | undefined;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11;
}

/**
 * Reads one part at `i`: `"…"` (with `""`) or `` `…` `` (with ``` `` ```) quoted, or a bare run of anything but
 * whitespace and dots (not starting with a quote). Returns [part, next index], or undefined when no part starts there.
 */
function readPart(s: string, i: number): [string, number] | undefined {
  const n = s.length;
  if (i >= n) return undefined;
  const c = s.charCodeAt(i);
  if (c === 34 || c === 96) {
    const q = s[i] as string;
    let out = "";
    let j = i + 1;
    for (;;) {
      const k = s.indexOf(q, j);
      if (k < 0) return undefined;
      out += s.slice(j, k);
      if (s[k + 1] === q) {
        out += q;
        j = k + 2;
        continue;
      }
      return out.length === 0 ? undefined : [out, k + 1];
    }
  }
  let j = i;
  while (j < n) {
    const d = s.charCodeAt(j);
    if (d === 46 || isSpace(d)) break;
    j++;
  }
  return j === i ? undefined : [s.slice(i, j), j];
}

/** `a.b."c.d"` from `i`: the parts and the index after them, or undefined. */
function readPath(s: string, i: number): [string[], number] | undefined {
  const parts: string[] = [];
  for (;;) {
    const p = readPart(s, i);
    if (p === undefined) return undefined;
    parts.push(p[0]);
    i = p[1];
    if (s.charCodeAt(i) !== 46) return [parts, i];
    i++;
  }
}

function skipSpace(s: string, i: number): number {
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  return i;
}

/**
 * A name in a name position: a dotted path of bare or quoted parts, optionally followed by `[AS] alias` where
 * `allowAlias`. A string of any other shape is ONE identifier (so `name; DROP TABLE t` is a column of that name,
 * quoted whole). Empty or non-string input raises SQLBuilderError naming `what`.
 */
export function parseName(input: unknown, what = "name", allowAlias = false): readonly string[] {
  return parseNameWithAlias(input, what, allowAlias).parts;
}

export function parseNameWithAlias(input: unknown, what = "name", allowAlias = true): ParsedName {
  if (typeof input !== "string") {
    throw new SQLBuilderError(`${what} must be a string, got ${input === null ? "null" : typeof input}.`);
  }
  const s = input;
  const start = skipSpace(s, 0);
  if (start === s.length) throw new SQLBuilderError(`${what} cannot be empty.`);
  const path = readPath(s, start);
  if (path !== undefined) {
    let i = skipSpace(s, path[1]);
    if (i === s.length) return { parts: path[0] };
    if (allowAlias && i > path[1]) {
      // `x alias` or `x AS alias`
      if (/^as\s/i.test(s.slice(i, i + 3))) {
        const j = skipSpace(s, i + 2);
        if (j > i + 2) i = j;
      }
      const alias = readPart(s, i);
      if (alias !== undefined && skipSpace(s, alias[1]) === s.length) return { parts: path[0], alias: alias[0] };
    }
  }
  return { parts: [s] };
}

/** A single identifier (an alias, a CTE name, an insert column): quoted parts are unquoted, nothing is split. */
export function parseSingleName(input: unknown, what = "name"): string {
  const parts = parseName(input, what);
  return parts.length === 1 ? (parts[0] as string) : (input as string);
}
