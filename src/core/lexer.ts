/**
 * A single-pass SQL tokenizer that knows PostgreSQL, SQLite, MySQL and DuckDB quoting. It exists so that
 * placeholder detection, operation-type detection, the COUNT rewrite and the script splitter never look inside
 * strings, quoted identifiers, dollar-quoted bodies or comments.
 *
 * Dialect rules (chosen to match what each server actually parses):
 * - `'…'` doubles `''` everywhere; backslash escapes inside it on MySQL, in `E'…'` (PostgreSQL, DuckDB), and on
 *   PostgreSQL after `SET standard_conforming_strings = off` (the splitter passes SCAN_BACKSLASH_STRINGS).
 * - `"…"` is an identifier (`""` doubled), except on MySQL where it is a backslash-escaping string.
 * - backtick identifiers on MySQL, SQLite and BigQuery (not DuckDB, whose parser rejects them); `[…]` identifiers
 *   on SQLite only (elsewhere `[` opens an array subscript or constructor).
 * - `$tag$…$tag$` / `$$…$$` bodies on PostgreSQL and DuckDB.
 * - `--` comments everywhere (MySQL needs whitespace after them); `#` comments on MySQL; on PostgreSQL and DuckDB
 *   a line comment also ends at a lone `\r`, as their lexers read it; `/* … *\/` nests on PostgreSQL only.
 * - PostgreSQL operators: a run of operator characters (`+-*\/<>=~!@#%^&|\`?`) is one operator token, with
 *   PostgreSQL's own rules (a run stops before `--` or `/*`; a trailing `+`/`-` is split off unless the run has one
 *   of `~!@#%^&|\`?`). So `@?`, `?-`, `?-|`, `?#`, `?||`, `?|`, `?&`, `<@`, `@@` are single operators. A placeholder
 *   glued to a plain operator is still split off (`=?`, `||?`, `=@id`, `=%s`, `?=`), because clients write them.
 * - `::` is a cast and never a placeholder; `:=` is never a placeholder; in an array subscript the slice colon
 *   (`a[:3]`, `a[lo:hi]`, `a[(1):2]`) is never a placeholder, while `ARRAY[:a]` and `a[1: :hi]` hold placeholders.
 * - A bare `?` on PostgreSQL is decided by its place: where an operand is expected (after an operator, `(`, `,`, a
 *   keyword such as WHERE/AND/LIMIT, or at the start) it is a QMARK placeholder; between two operands
 *   (`doc ? 'k'`) it is the jsonb operator. A `?` after an operand with no operand after it is ambiguous: the
 *   buffer records it and the compiler refuses it.
 * - `??` is text on every dialect (the JDBC-style escape, which sqlspec leaves alone).
 * - `@name` is a placeholder except on MySQL, where `@name` is a user variable (unless `@name` is the requested
 *   input style), and except before a `.` (`@f.f1` is PostgreSQL's absolute value of `f.f1`). `@@x` and the `<@`
 *   operator are never placeholders.
 * - SQLite's `?NNN` is read as a numbered placeholder (style NUMERIC, number NNN).
 * - `%%` is a literal percent (pyformat escaping) and is left as written.
 */
import type { Dialect } from "./types.js";
import { ParameterStyle } from "./types.js";

/** Reserved: whitespace is never emitted as a token (it is the gap between tokens). */
export const TK_WS = 0;
export const TK_COMMENT = 1;
export const TK_STRING = 2;
export const TK_QIDENT = 3;
export const TK_WORD = 4;
export const TK_PLACEHOLDER = 5;
export const TK_OP = 6;
export const TK_LPAREN = 7;
export const TK_RPAREN = 8;
export const TK_SEMI = 9;
export const TK_CAST = 10;
/** A psql meta-command (`\restrict …`, `\connect db`): a backslash outside quotes, to the end of its line. */
export const TK_META = 11;
export type TokenKind = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11;

export interface Token {
  kind: TokenKind;
  /** Offsets into the source text: `text.slice(start, end)`. */
  start: number;
  end: number;
  /** Placeholders only. */
  style: ParameterStyle | undefined;
  /** Named placeholders only: the bare name (`:id` → `id`). */
  name: string | undefined;
  /** Numbered placeholders only: the number as written (`$3` → 3). */
  num: number;
}

/**
 * Tokens as parallel arrays. The compiler scans into one reused buffer, so a cold compile allocates only what the
 * plan keeps (placeholders), not an object per token.
 */
export class TokenBuffer {
  count = 0;
  kind = new Uint8Array(64);
  start = new Int32Array(64);
  end = new Int32Array(64);
  num = new Int32Array(64);
  /** Placeholders only (stale for other kinds). */
  style: (ParameterStyle | undefined)[] = [];
  name: (string | undefined)[] = [];
  /** Offset of the first operator token that contains `?` (`?`, `?|`, `@?`, `??` …), or -1. */
  qmarkOperatorAt = -1;
  /** Offset of a bare `?` that is neither clearly a placeholder nor clearly the jsonb operator, or -1. */
  ambiguousQmarkAt = -1;

  push(kind: TokenKind, start: number, end: number): void {
    const k = this.count;
    if (k === this.kind.length) this.grow();
    this.kind[k] = kind;
    this.start[k] = start;
    this.end[k] = end;
    this.count = k + 1;
  }

  placeholder(start: number, end: number, style: ParameterStyle, name: string | undefined, num: number): void {
    const k = this.count;
    this.push(TK_PLACEHOLDER, start, end);
    this.style[k] = style;
    this.name[k] = name;
    this.num[k] = num;
  }

  private grow(): void {
    const size = this.kind.length * 2;
    const kind = new Uint8Array(size);
    kind.set(this.kind);
    this.kind = kind;
    const start = new Int32Array(size);
    start.set(this.start);
    this.start = start;
    const end = new Int32Array(size);
    end.set(this.end);
    this.end = end;
    const num = new Int32Array(size);
    num.set(this.num);
    this.num = num;
  }

  /** Case-insensitive test of token `k` against an upper-case ASCII keyword, without allocating. */
  isWord(text: string, k: number, upper: string): boolean {
    return this.kind[k] === TK_WORD && wordAt(text, this.start[k]!, this.end[k]!, upper);
  }
}

function wordAt(text: string, start: number, end: number, upper: string): boolean {
  const len = upper.length;
  if (end - start !== len) return false;
  for (let k = 0; k < len; k++) {
    let c = text.charCodeAt(start + k);
    if (c >= 97 && c <= 122) c -= 32;
    if (c !== upper.charCodeAt(k)) return false;
  }
  return true;
}

function allows(only: ParameterStyle | undefined, style: ParameterStyle): boolean {
  return only === undefined || only === style;
}

function isWordStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 128;
}

/** Identifier continuation; `$` is allowed inside PostgreSQL/MySQL identifiers (`a$1` is one word). */
export function isWordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 36 || c >= 128;
}

function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c >= 128;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** Case-insensitive comparison of a token's text with an upper-case ASCII keyword, without allocating. */
export function wordIs(text: string, t: Token, upper: string): boolean {
  return t.kind === TK_WORD && wordAt(text, t.start, t.end, upper);
}

/** End of a quoted run starting at `i` (the opening quote), doubling `q` and optionally honouring backslashes. */
function skipQuoted(text: string, i: number, q: number, backslash: boolean): number {
  const n = text.length;
  let j = i + 1;
  while (j < n) {
    const c = text.charCodeAt(j);
    if (backslash && c === 92) {
      j += 2;
      continue;
    }
    if (c === q) {
      if (j + 1 < n && text.charCodeAt(j + 1) === q) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  return n; // unterminated: the server reports it; we just never look inside
}

function skipBlockComment(text: string, i: number, nests: boolean): number {
  const n = text.length;
  let depth = 1;
  let j = i + 2;
  while (j < n) {
    const c = text.charCodeAt(j);
    if (c === 42 && text.charCodeAt(j + 1) === 47) {
      j += 2;
      if (--depth === 0) return j;
      continue;
    }
    if (nests && c === 47 && text.charCodeAt(j + 1) === 42) {
      depth++;
      j += 2;
      continue;
    }
    j++;
  }
  return n;
}

/** If `$tag$` (or `$$`) opens at `i`, the end of the whole dollar-quoted body; otherwise -1. */
function skipDollarQuote(text: string, i: number): number {
  const n = text.length;
  let j = i + 1;
  if (j < n && isWordStart(text.charCodeAt(j))) {
    j++;
    while (j < n && isNameChar(text.charCodeAt(j))) j++;
  }
  if (j >= n || text.charCodeAt(j) !== 36) return -1;
  const tag = text.slice(i, j + 1);
  const close = text.indexOf(tag, j + 1);
  if (close < 0) return tag.length === 2 ? n : -1; // `$$` unterminated: body to the end; `$x$` alone: not a quote
  return close + tag.length;
}

export interface LexOptions {
  /** When set, only placeholders of this style are recognised; any other placeholder-like text is plain SQL. */
  inputStyle?: ParameterStyle | undefined;
}

/**
 * Tokenizes `text` as objects (convenient; the compiler uses `scan` into a reused buffer instead).
 * Every character except whitespace belongs to exactly one token, in order, so consumers rebuild text by slicing
 * between token offsets (the gaps are whitespace only).
 */
export function lex(text: string, dialect: Dialect = "postgres", options?: LexOptions): Token[] {
  const buf = new TokenBuffer();
  scan(buf, text, dialect, options?.inputStyle);
  const out: Token[] = new Array(buf.count);
  for (let k = 0; k < buf.count; k++) {
    const kind = buf.kind[k] as TokenKind;
    const ph = kind === TK_PLACEHOLDER;
    out[k] = {
      kind,
      start: buf.start[k]!,
      end: buf.end[k]!,
      style: ph ? buf.style[k] : undefined,
      name: ph ? buf.name[k] : undefined,
      num: ph ? buf.num[k]! : 0,
    };
  }
  return out;
}

/** `scan` flag: stop after the first `;` token (the splitter scans a script statement by statement). */
export const SCAN_STOP_AT_SEMICOLON = 1;
/** `scan` flag: `'…'` honours backslash escapes (PostgreSQL with standard_conforming_strings off). */
export const SCAN_BACKSLASH_STRINGS = 2;
/** `scan` flag: read PostgreSQL as psql does, with backslash meta-commands (TK_META) between statements. */
export const SCAN_PSQL = 4;

/** PostgreSQL's operator characters: `~ ! @ # ^ & | \` ? + - * / % < > =`. */
function isOpChar(c: number): boolean {
  switch (c) {
    case 126:
    case 33:
    case 64:
    case 35:
    case 94:
    case 38:
    case 124:
    case 96:
    case 63:
    case 43:
    case 45:
    case 42:
    case 47:
    case 37:
    case 60:
    case 62:
    case 61:
      return true;
    default:
      return false;
  }
}

/** The characters that let a PostgreSQL operator end in `+`/`-` (and that plain comparison operators lack). */
function isOpSpecial(c: number): boolean {
  return c === 126 || c === 33 || c === 64 || c === 35 || c === 94 || c === 38 || c === 124 || c === 96 || c === 63;
}

/** Characters that can start a placeholder inside an operator run (`?`, `@name`, `%s`). */
function isPlaceholderOpChar(c: number): boolean {
  return c === 63 || c === 64 || c === 37;
}

/**
 * Built-in PostgreSQL operators containing a placeholder character, read as one token even where a placeholder
 * could be split off: jsonb `?|` `?&`, jsonpath `@?`, geometric `?-` `?-|` `?||` `?#` `@-@`, containment `<@`
 * `@>`, text search `@@` `@@@`, the JDBC escape `??` and pyformat's literal `%%`.
 */
const KNOWN_OPERATORS = new Set([
  "?|",
  "?&",
  "??",
  "@?",
  "?-",
  "?-|",
  "?||",
  "?#",
  "@-@",
  "<@",
  "@>",
  "@@",
  "@@@",
  "%%",
]);

/** Reserved-ish words after which an operand is expected, so a bare `?` there is a placeholder. */
const OPERAND_AFTER = new Set([
  "SELECT",
  "WHERE",
  "AND",
  "OR",
  "NOT",
  "ON",
  "SET",
  "VALUES",
  "RETURNING",
  "LIMIT",
  "OFFSET",
  "BY",
  "HAVING",
  "WHEN",
  "THEN",
  "ELSE",
  "CASE",
  "IN",
  "IS",
  "LIKE",
  "ILIKE",
  "BETWEEN",
  "SYMMETRIC",
  "ASYMMETRIC",
  "ESCAPE",
  "DISTINCT",
  "ALL",
  "ANY",
  "SOME",
  "FROM",
  "FOR",
  "TO",
  "ZONE",
  "SIMILAR",
  "USING",
  "RETURN",
  "DEFAULT",
  "UNION",
  "INTERSECT",
  "EXCEPT",
  "OVERLAPS",
  "PLACING",
  "LEADING",
  "TRAILING",
  "BOTH",
  "VARIADIC",
  "EXISTS",
]);

/** Words that cannot start an operand: a `?` between an operand and one of these is not the jsonb operator. */
const NO_OPERAND = new Set([
  "FROM",
  "WHERE",
  "AND",
  "OR",
  "GROUP",
  "ORDER",
  "HAVING",
  "LIMIT",
  "OFFSET",
  "UNION",
  "INTERSECT",
  "EXCEPT",
  "THEN",
  "ELSE",
  "END",
  "WHEN",
  "AS",
  "ON",
  "USING",
  "JOIN",
  "INNER",
  "LEFT",
  "RIGHT",
  "FULL",
  "CROSS",
  "NATURAL",
  "RETURNING",
  "INTO",
  "SET",
  "IS",
  "IN",
  "LIKE",
  "ILIKE",
  "BETWEEN",
  "FOR",
  "WINDOW",
  "FETCH",
  "ASC",
  "DESC",
  "NULLS",
  "COLLATE",
  "ESCAPE",
  "SIMILAR",
  "AT",
  "OVERLAPS",
  "ISNULL",
  "NOTNULL",
  "DO",
  "TO",
  "ROWS",
  "FILTER",
  "OVER",
  "WITHIN",
]);

function upperWord(text: string, buf: TokenBuffer, k: number): string {
  return text.slice(buf.start[k], buf.end[k]).toUpperCase();
}

function previousSignificant(buf: TokenBuffer, k: number): number {
  let j = k - 1;
  while (j >= 0 && buf.kind[j] === TK_COMMENT) j--;
  return j;
}

function nextSignificant(buf: TokenBuffer, k: number): number {
  let j = k + 1;
  while (j < buf.count && buf.kind[j] === TK_COMMENT) j++;
  return j;
}

function opIs(text: string, buf: TokenBuffer, k: number, c: number): boolean {
  return buf.kind[k] === TK_OP && buf.end[k]! - buf.start[k]! === 1 && text.charCodeAt(buf.start[k]!) === c;
}

/** Whether a bare `?` after token `p` (-1: the start) stands where an operand is expected. */
function expectsOperand(text: string, buf: TokenBuffer, p: number): boolean {
  if (p < 0) return true;
  switch (buf.kind[p]) {
    case TK_LPAREN:
    case TK_SEMI:
      return true;
    case TK_OP:
      return !opIs(text, buf, p, 93) && !opIs(text, buf, p, 46); // not after `]` or `.`
    case TK_WORD: {
      const w = upperWord(text, buf, p);
      if (OPERAND_AFTER.has(w)) return true;
      if (w === "FIRST" || w === "NEXT") {
        const q = previousSignificant(buf, p);
        return q >= 0 && buf.kind[q] === TK_WORD && upperWord(text, buf, q) === "FETCH";
      }
      return false;
    }
    default:
      return false; // a string, quoted identifier, `)` or placeholder ends an operand
  }
}

/** Whether token `q` can start an operand (the right-hand side of a binary jsonb `?`). */
function startsOperand(text: string, buf: TokenBuffer, q: number): boolean {
  if (q >= buf.count) return false;
  switch (buf.kind[q]) {
    case TK_STRING:
    case TK_QIDENT:
    case TK_LPAREN:
    case TK_PLACEHOLDER:
      return true;
    case TK_WORD:
      return !NO_OPERAND.has(upperWord(text, buf, q));
    case TK_OP:
      return opIs(text, buf, q, 45) || opIs(text, buf, q, 43);
    default:
      return false;
  }
}

/**
 * PostgreSQL: each bare `?` (scanned as a QMARK placeholder) becomes the jsonb operator where it sits between two
 * operands. Decided left to right, so in `doc ? ?` the first is the operator and the second a placeholder.
 */
function resolveBareQmarks(buf: TokenBuffer, text: string): void {
  for (let k = 0; k < buf.count; k++) {
    if (buf.kind[k] !== TK_PLACEHOLDER || buf.style[k] !== ParameterStyle.QMARK) continue;
    if (expectsOperand(text, buf, previousSignificant(buf, k))) continue;
    if (startsOperand(text, buf, nextSignificant(buf, k))) {
      buf.kind[k] = TK_OP;
      if (buf.qmarkOperatorAt < 0 || buf.start[k]! < buf.qmarkOperatorAt) buf.qmarkOperatorAt = buf.start[k]!;
    } else if (buf.ambiguousQmarkAt < 0) {
      buf.ambiguousQmarkAt = buf.start[k]!;
    }
  }
}

/** Mutable per-scan state shared with the operator helpers (one object per scan call, not per token). */
interface ScanState {
  text: string;
  n: number;
  only: ParameterStyle | undefined;
  atAllowed: boolean;
  bareQmark: boolean;
}

/**
 * `@name` at `i` (the `@`), when it is a placeholder: returns the end of the name, or -1. Not a placeholder before
 * a `.` (`@f.f1` is the absolute value of a qualified column) or right after a name character.
 */
function atPlaceholderEnd(st: ScanState, i: number): number {
  const { text, n } = st;
  if (!st.atAllowed || !isWordStart(text.charCodeAt(i + 1))) return -1;
  if (i > 0 && isNameChar(text.charCodeAt(i - 1))) return -1;
  let j = i + 2;
  while (j < n && isNameChar(text.charCodeAt(j))) j++;
  return text.charCodeAt(j) === 46 ? -1 : j;
}

/** `%s` or `%(name)s` at `i`: pushes the placeholder and returns its end, or -1. */
function pyformatAt(buf: TokenBuffer, st: ScanState, i: number): number {
  const { text, n, only } = st;
  const d = text.charCodeAt(i + 1);
  if (d === 115 && !isNameChar(text.charCodeAt(i + 2)) && allows(only, ParameterStyle.POSITIONAL_PYFORMAT)) {
    buf.placeholder(i, i + 2, ParameterStyle.POSITIONAL_PYFORMAT, undefined, 0);
    return i + 2;
  }
  if (d === 40 && allows(only, ParameterStyle.NAMED_PYFORMAT) && isWordStart(text.charCodeAt(i + 2))) {
    let j = i + 3;
    while (j < n && isNameChar(text.charCodeAt(j))) j++;
    if (text.charCodeAt(j) === 41 && text.charCodeAt(j + 1) === 115) {
      buf.placeholder(i, j + 2, ParameterStyle.NAMED_PYFORMAT, text.slice(i + 2, j), 0);
      return j + 2;
    }
  }
  return -1;
}

/** `?` at `i`: a (numbered) placeholder where the input style allows it; returns the end, or -1. */
function qmarkAt(buf: TokenBuffer, st: ScanState, i: number, bare: boolean): number {
  const { text, n, only } = st;
  if (!allows(only, ParameterStyle.QMARK)) return -1;
  if (isDigit(text.charCodeAt(i + 1))) {
    // SQLite's `?NNN` names a position, like `$NNN`; rendering `?` alone would glue the digits on (`$11`)
    let j = i + 2;
    while (j < n && isDigit(text.charCodeAt(j))) j++;
    buf.placeholder(i, j, ParameterStyle.NUMERIC, undefined, Number(text.slice(i + 1, j)));
    return j;
  }
  buf.placeholder(i, i + 1, ParameterStyle.QMARK, undefined, 0);
  if (bare) st.bareQmark = true;
  return i + 1;
}

function pushOperator(buf: TokenBuffer, text: string, start: number, end: number): void {
  buf.push(TK_OP, start, end);
  if (buf.qmarkOperatorAt < 0) {
    for (let k = start; k < end; k++) {
      if (text.charCodeAt(k) === 63) {
        buf.qmarkOperatorAt = start;
        break;
      }
    }
  }
}

/** One operator character alone at `i` (PostgreSQL): a placeholder where it can start one, else an operator. */
function singleOperator(buf: TokenBuffer, st: ScanState, i: number): number {
  const c = st.text.charCodeAt(i);
  let end = -1;
  if (c === 63) end = qmarkAt(buf, st, i, true);
  else if (c === 64) {
    end = atPlaceholderEnd(st, i);
    if (end >= 0) buf.placeholder(i, end, ParameterStyle.NAMED_AT, st.text.slice(i + 1, end), 0);
  } else if (c === 37) end = pyformatAt(buf, st, i);
  if (end >= 0) return end;
  pushOperator(buf, st.text, i, i + 1);
  return i + 1;
}

/** Whether [start, end) holds no placeholder character (a plain operator such as `=`, `<>`, `||`). */
function plainOperator(text: string, start: number, end: number): boolean {
  for (let k = start; k < end; k++) if (isPlaceholderOpChar(text.charCodeAt(k))) return false;
  return true;
}

/** Whether [start, end) may stand beside a split-off placeholder: empty, plain, or a known operator. */
function splittable(text: string, start: number, end: number): boolean {
  return start === end || plainOperator(text, start, end) || KNOWN_OPERATORS.has(text.slice(start, end));
}

/** Tokens for the operator run [start, end) (PostgreSQL); returns `end` unless a placeholder reached past it. */
function operatorRun(buf: TokenBuffer, st: ScanState, start: number, end: number): number {
  const text = st.text;
  if (end - start === 1) return singleOperator(buf, st, start);
  if (!KNOWN_OPERATORS.has(text.slice(start, end))) {
    const last = text.charCodeAt(end - 1);
    if (isPlaceholderOpChar(last) && splittable(text, start, end - 1)) {
      // `=?`, `||?`, `=@id`, `=%s`, `@>?`: the operator, then what may be a placeholder
      operatorRun(buf, st, start, end - 1);
      return singleOperator(buf, st, end - 1);
    }
    const q = text.indexOf("?", start);
    if (q >= 0 && q < end && splittable(text, start, q) && splittable(text, q + 1, end)) {
      // `?=`, `||?||`, `=?-`: a `?` glued to plain operators around it
      if (q > start) operatorRun(buf, st, start, q);
      if (qmarkAt(buf, st, q, true) < 0) pushOperator(buf, text, q, q + 1);
      return q + 1 < end ? operatorRun(buf, st, q + 1, end) : q + 1;
    }
  }
  pushOperator(buf, text, start, end);
  return end;
}

/** The end of the PostgreSQL operator run starting at `i`, with PostgreSQL's `--`, `/*` and trailing `+`/`-` rules. */
function operatorRunEnd(text: string, i: number, n: number): number {
  let j = i + 1;
  let special = isOpSpecial(text.charCodeAt(i));
  while (j < n) {
    const d = text.charCodeAt(j);
    if (!isOpChar(d)) break;
    const e = text.charCodeAt(j + 1);
    if ((d === 45 && e === 45) || (d === 47 && e === 42)) break;
    if (isOpSpecial(d)) special = true;
    j++;
  }
  if (!special) {
    while (j - i > 1) {
      const d = text.charCodeAt(j - 1);
      if (d !== 43 && d !== 45) break;
      j--;
    }
  }
  return j;
}

/** Whether `[` at token position `count` (about to be pushed) opens a subscript: it follows an operand. */
function opensSubscript(buf: TokenBuffer, text: string): boolean {
  const p = previousSignificant(buf, buf.count);
  if (p < 0) return false;
  switch (buf.kind[p]) {
    case TK_WORD:
      return upperWord(text, buf, p) !== "ARRAY";
    case TK_QIDENT:
    case TK_RPAREN:
    case TK_PLACEHOLDER:
      return true;
    case TK_OP:
      return opIs(text, buf, p, 93);
    default:
      return false;
  }
}

/**
 * Scans `text` from `from` into `buf` (reset first): one pass over char codes, no per-token allocation.
 * Returns the offset where scanning stopped (the text's length, or just past a `;` with SCAN_STOP_AT_SEMICOLON).
 */
export function scan(
  buf: TokenBuffer,
  text: string,
  dialect: Dialect,
  only: ParameterStyle | undefined,
  from = 0,
  flags = 0,
): number {
  buf.count = 0;
  buf.qmarkOperatorAt = -1;
  buf.ambiguousQmarkAt = -1;
  const pg = dialect === "postgres";
  const mysql = dialect === "mysql";
  const crEndsComment = pg || dialect === "duckdb";
  const dollarQuotes = pg || dialect === "duckdb";
  // DuckDB's parser rejects the backtick (it is PostgreSQL's grammar): there it quotes nothing.
  const backticks = mysql || dialect === "sqlite" || dialect === "bigquery";
  const backslashStrings = mysql || (flags & SCAN_BACKSLASH_STRINGS) !== 0;
  const stopAtSemicolon = (flags & SCAN_STOP_AT_SEMICOLON) !== 0;
  const st: ScanState = {
    text,
    n: text.length,
    only,
    atAllowed: only === ParameterStyle.NAMED_AT || (only === undefined && !mysql),
    bareQmark: false,
  };
  const n = text.length;
  // `[` nesting: bit d of `subscripts` is set when the bracket at depth d is a subscript (not ARRAY[…])
  let brackets = 0;
  let subscripts = 0;
  let i = from;
  while (i < n) {
    const c = text.charCodeAt(i);
    const start = i;
    if (isSpace(c)) {
      i++; // whitespace is implied by the gaps between tokens: not emitting it halves the token count
      continue;
    }
    if (isWordStart(c)) {
      i++;
      while (i < n && isWordChar(text.charCodeAt(i))) i++;
      // E'…' (PostgreSQL/DuckDB escape string): the prefix and the literal form one string token
      if (i - start === 1 && (c === 69 || c === 101) && text.charCodeAt(i) === 39 && !mysql) {
        i = skipQuoted(text, i, 39, true);
        buf.push(TK_STRING, start, i);
        continue;
      }
      buf.push(TK_WORD, start, i);
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(text.charCodeAt(i + 1)))) {
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (isNameChar(d) || d === 46) i++;
        else if ((d === 43 || d === 45) && (text.charCodeAt(i - 1) | 32) === 101 && isDigit(text.charCodeAt(start))) {
          i++; // exponent sign: 1e-5
        } else break;
      }
      buf.push(TK_WORD, start, i);
      continue;
    }
    if (pg && isOpChar(c)) {
      const d = text.charCodeAt(i + 1);
      if (!((c === 45 && d === 45) || (c === 47 && d === 42))) {
        i = operatorRun(buf, st, i, operatorRunEnd(text, i, n));
        continue;
      }
    }
    switch (c) {
      case 39: // '
        // U&'…' never takes backslash escapes (its escapes are \XXXX under UESCAPE, read by the server)
        i = skipQuoted(text, i, 39, backslashStrings && !unicodeString(text, i));
        buf.push(TK_STRING, start, i);
        continue;
      case 34: // "
        i = skipQuoted(text, i, 34, mysql);
        buf.push(mysql ? TK_STRING : TK_QIDENT, start, i);
        continue;
      case 96: // `
        if (backticks) {
          i = skipQuoted(text, i, 96, false);
          buf.push(TK_QIDENT, start, i);
          continue;
        }
        break;
      case 91: // [
        if (dialect === "sqlite") {
          const close = text.indexOf("]", i + 1);
          i = close < 0 ? n : close + 1;
          buf.push(TK_QIDENT, start, i);
          continue;
        }
        if (brackets < 31) {
          if (opensSubscript(buf, text)) subscripts |= 1 << brackets;
          else subscripts &= ~(1 << brackets);
        }
        brackets++;
        buf.push(TK_OP, i, ++i);
        continue;
      case 93: // ]
        if (brackets > 0) brackets--;
        buf.push(TK_OP, i, ++i);
        continue;
      case 45: // -
        if (text.charCodeAt(i + 1) === 45 && (!mysql || i + 2 >= n || isSpace(text.charCodeAt(i + 2)))) {
          i = lineEnd(text, i + 2, crEndsComment);
          buf.push(TK_COMMENT, start, i);
          continue;
        }
        break;
      case 35: // #
        if (mysql) {
          i = lineEnd(text, i + 1, false);
          buf.push(TK_COMMENT, start, i);
          continue;
        }
        break;
      case 92: // \
        if (pg && (flags & SCAN_PSQL) !== 0) {
          if (text.charCodeAt(i + 1) === 59) {
            // psql's `\;` separates statements without sending them apart; we split there
            buf.push(TK_SEMI, i, i + 2);
            i += 2;
            if (stopAtSemicolon) {
              if (st.bareQmark) resolveBareQmarks(buf, text);
              return i;
            }
            continue;
          }
          i = lineEnd(text, i + 1, false);
          buf.push(TK_META, start, i);
          continue;
        }
        break;
      case 47: // /
        if (text.charCodeAt(i + 1) === 42) {
          i = skipBlockComment(text, i, pg);
          buf.push(TK_COMMENT, start, i);
          continue;
        }
        break;
      case 40:
        buf.push(TK_LPAREN, i, ++i);
        continue;
      case 41:
        buf.push(TK_RPAREN, i, ++i);
        continue;
      case 59:
        buf.push(TK_SEMI, i, ++i);
        if (stopAtSemicolon) {
          if (st.bareQmark) resolveBareQmarks(buf, text);
          return i;
        }
        continue;
      case 36: {
        // $
        const d = text.charCodeAt(i + 1);
        if (isDigit(d)) {
          let j = i + 2;
          while (j < n && isDigit(text.charCodeAt(j))) j++;
          if (allows(only, ParameterStyle.NUMERIC)) {
            buf.placeholder(i, j, ParameterStyle.NUMERIC, undefined, Number(text.slice(i + 1, j)));
          } else buf.push(TK_OP, i, j);
          i = j;
          continue;
        }
        if (dollarQuotes) {
          const end = skipDollarQuote(text, i);
          if (end >= 0) {
            i = end;
            buf.push(TK_STRING, start, i);
            continue;
          }
        }
        if (isWordStart(d) && allows(only, ParameterStyle.NAMED_DOLLAR)) {
          let j = i + 2;
          while (j < n && isNameChar(text.charCodeAt(j))) j++;
          buf.placeholder(i, j, ParameterStyle.NAMED_DOLLAR, text.slice(i + 1, j), 0);
          i = j;
          continue;
        }
        break;
      }
      case 58: {
        // :
        const d = text.charCodeAt(i + 1);
        if (d === 58) {
          buf.push(TK_CAST, i, i + 2);
          i += 2;
          continue;
        }
        if (i > 0 && isNameChar(text.charCodeAt(i - 1))) break; // `a:b` (array slice), not a placeholder
        if (brackets > 0 && brackets <= 31 && (subscripts & (1 << (brackets - 1))) !== 0) {
          // inside a subscript, the colon after `[` or after an operand is the slice colon: a[:3], a[(1):2]
          const p = previousSignificant(buf, buf.count);
          if (p < 0 || opIs(text, buf, p, 91) || !expectsOperand(text, buf, p)) break;
        }
        if (isDigit(d) && allows(only, ParameterStyle.POSITIONAL_COLON)) {
          let j = i + 2;
          while (j < n && isDigit(text.charCodeAt(j))) j++;
          buf.placeholder(i, j, ParameterStyle.POSITIONAL_COLON, undefined, Number(text.slice(i + 1, j)));
          i = j;
          continue;
        }
        if (isWordStart(d) && allows(only, ParameterStyle.NAMED_COLON)) {
          let j = i + 2;
          while (j < n && isNameChar(text.charCodeAt(j))) j++;
          buf.placeholder(i, j, ParameterStyle.NAMED_COLON, text.slice(i + 1, j), 0);
          i = j;
          continue;
        }
        break;
      }
      default:
        // other dialects (PostgreSQL's operator characters were handled above)
        if (c === 64) {
          // @
          if (text.charCodeAt(i + 1) === 64) {
            buf.push(TK_OP, i, i + 2);
            i += 2;
            continue;
          }
          const p = i > 0 ? text.charCodeAt(i - 1) : 0;
          const end = p === 60 ? -1 : atPlaceholderEnd(st, i);
          if (end >= 0) {
            buf.placeholder(i, end, ParameterStyle.NAMED_AT, text.slice(i + 1, end), 0);
            i = end;
            continue;
          }
        } else if (c === 63) {
          // ?
          if (text.charCodeAt(i + 1) === 63) {
            pushOperator(buf, text, i, i + 2); // `??`: text, never two placeholders
            i += 2;
            continue;
          }
          const end = qmarkAt(buf, st, i, false);
          if (end >= 0) {
            i = end;
            continue;
          }
        } else if (c === 37) {
          // %
          if (text.charCodeAt(i + 1) === 37) {
            buf.push(TK_OP, i, i + 2);
            i += 2; // `%%`: a literal percent in pyformat text
            continue;
          }
          const end = pyformatAt(buf, st, i);
          if (end >= 0) {
            i = end;
            continue;
          }
        }
    }
    // any other character (punctuation, other dialects' operators): one token per character keeps the scan simple
    buf.push(TK_OP, i, ++i);
  }
  if (st.bareQmark) resolveBareQmarks(buf, text);
  return n;
}

/**
 * The name a PostgreSQL quoted identifier token (`TK_QIDENT` at `k`) stands for: unquoted, and for a `U&"…"`
 * identifier (the adjacent `U` and `&` tokens before it) with its escapes decoded, under the `UESCAPE 'c'` that may
 * follow. Undefined when an escape is malformed (the server refuses the statement: nothing runs).
 */
export function quotedIdentifierName(buf: TokenBuffer, text: string, k: number): string | undefined {
  const start = buf.start[k] as number;
  const end = buf.end[k] as number;
  const closed = end - start > 1 && text.charCodeAt(end - 1) === 34;
  const name = text.slice(start + 1, closed ? end - 1 : end).replaceAll('""', '"');
  const unicode =
    k >= 2 &&
    buf.kind[k - 1] === TK_OP &&
    buf.start[k - 1] === start - 1 &&
    buf.end[k - 1] === start &&
    text.charCodeAt(start - 1) === 38 &&
    buf.kind[k - 2] === TK_WORD &&
    buf.start[k - 2] === start - 2 &&
    buf.end[k - 2] === start - 1 &&
    (text.charCodeAt(start - 2) | 32) === 117;
  return unicode ? decodeUnicodeEscapes(name, uescapeAfter(buf, text, k)) : name;
}

/** The escape character a `UESCAPE 'c'` clause after token `k` names, or the default backslash. */
function uescapeAfter(buf: TokenBuffer, text: string, k: number): string {
  let j = k + 1;
  while (j < buf.count && buf.kind[j] === TK_COMMENT) j++;
  if (j >= buf.count || !buf.isWord(text, j, "UESCAPE")) return "\\";
  j++;
  while (j < buf.count && buf.kind[j] === TK_COMMENT) j++;
  if (j >= buf.count || buf.kind[j] !== TK_STRING) return "\\";
  const literal = text.slice(buf.start[j], buf.end[j]).replaceAll("''", "'");
  return literal.length === 3 ? (literal[1] as string) : "\\";
}

const HEX = /^[0-9A-Fa-f]+$/;

/** `\XXXX`, `\+XXXXXX` and a doubled escape character decoded, as PostgreSQL reads a U& identifier. */
function decodeUnicodeEscapes(s: string, escapeChar: string): string | undefined {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c !== escapeChar) {
      out += c;
      continue;
    }
    if (s[i + 1] === escapeChar) {
      out += escapeChar;
      i++;
      continue;
    }
    const long = s[i + 1] === "+";
    const hex = long ? s.slice(i + 2, i + 8) : s.slice(i + 1, i + 5);
    if (hex.length !== (long ? 6 : 4) || !HEX.test(hex)) return undefined;
    const code = Number.parseInt(hex, 16);
    if (code > 0x10ffff) return undefined;
    out += String.fromCodePoint(code);
    i += long ? 7 : 4;
  }
  return out;
}

/** Whether the quote at `i` opens a `U&'…'` string. */
function unicodeString(text: string, i: number): boolean {
  return (
    i >= 2 &&
    text.charCodeAt(i - 1) === 38 &&
    (text.charCodeAt(i - 2) | 32) === 117 &&
    !isNameChar(text.charCodeAt(i - 3))
  );
}

/** End of a line comment whose body starts at `i`: the next `\n` (or `\r` where the dialect ends comments there). */
function lineEnd(text: string, i: number, cr: boolean): number {
  const n = text.length;
  for (let j = i; j < n; j++) {
    const c = text.charCodeAt(j);
    if (c === 10 || (cr && c === 13)) return j;
  }
  return n;
}

/** True for tokens that carry no SQL meaning (whitespace and comments). */
export function isTrivia(t: Token): boolean {
  return t.kind === TK_WS || t.kind === TK_COMMENT;
}
