/**
 * A single-pass SQL tokenizer that knows PostgreSQL, SQLite, MySQL and DuckDB quoting. It exists so that
 * placeholder detection, operation-type detection, the COUNT rewrite and the script splitter never look inside
 * strings, quoted identifiers, dollar-quoted bodies or comments.
 *
 * Dialect rules (chosen to match what each server actually parses):
 * - `'…'` doubles `''` everywhere; backslash escapes inside it on MySQL, and in `E'…'` (PostgreSQL, DuckDB).
 * - `"…"` is an identifier (`""` doubled), except on MySQL where it is a backslash-escaping string.
 * - backtick identifiers everywhere; `[…]` identifiers on SQLite only (PostgreSQL uses `[` for arrays).
 * - `$tag$…$tag$` / `$$…$$` bodies on PostgreSQL and DuckDB.
 * - `--` comments everywhere (MySQL needs whitespace after them); `#` comments on MySQL;
 *   `/* … *\/` nests on PostgreSQL only.
 * - `::` is a cast and never a placeholder; `:=` is never a placeholder.
 * - `?|` and `?&` are jsonb operators on PostgreSQL. A bare `?` on PostgreSQL is a QMARK placeholder unless the
 *   statement also has placeholders of another style, in which case every bare `?` is the jsonb `?` operator.
 *   (Python sqlspec treats a bare `?` as QMARK; the extra rule lets `data ? 'k' AND id = $1` work.)
 * - `@name` is a placeholder except on MySQL, where `@name` is a user variable (unless `@name` is the requested
 *   input style). `@@x` and the `<@` operator are never placeholders.
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
export type TokenKind = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;

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

/** Scans `text` into `buf` (reset first): one pass over char codes, no per-token allocation. */
export function scan(buf: TokenBuffer, text: string, dialect: Dialect, only: ParameterStyle | undefined): void {
  buf.count = 0;
  const pg = dialect === "postgres";
  const mysql = dialect === "mysql";
  const dollarQuotes = pg || dialect === "duckdb";
  const atAllowed = only === ParameterStyle.NAMED_AT || (only === undefined && !mysql);
  const n = text.length;
  let qmarkMaybeOperator = false; // a bare `?` on PostgreSQL: resolved after the scan
  let otherPlaceholders = false;
  let i = 0;
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
    switch (c) {
      case 39: // '
        i = skipQuoted(text, i, 39, mysql);
        buf.push(TK_STRING, start, i);
        continue;
      case 34: // "
        i = skipQuoted(text, i, 34, mysql);
        buf.push(mysql ? TK_STRING : TK_QIDENT, start, i);
        continue;
      case 96: // `
        i = skipQuoted(text, i, 96, false);
        buf.push(TK_QIDENT, start, i);
        continue;
      case 91: // [
        if (dialect === "sqlite") {
          const close = text.indexOf("]", i + 1);
          i = close < 0 ? n : close + 1;
          buf.push(TK_QIDENT, start, i);
          continue;
        }
        break;
      case 45: // -
        if (text.charCodeAt(i + 1) === 45 && (!mysql || i + 2 >= n || isSpace(text.charCodeAt(i + 2)))) {
          const nl = text.indexOf("\n", i + 2);
          i = nl < 0 ? n : nl;
          buf.push(TK_COMMENT, start, i);
          continue;
        }
        break;
      case 35: // #
        if (mysql) {
          const nl = text.indexOf("\n", i + 1);
          i = nl < 0 ? n : nl;
          buf.push(TK_COMMENT, start, i);
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
        continue;
      case 36: {
        // $
        const d = text.charCodeAt(i + 1);
        if (isDigit(d)) {
          let j = i + 2;
          while (j < n && isDigit(text.charCodeAt(j))) j++;
          if (allows(only, ParameterStyle.NUMERIC)) {
            buf.placeholder(i, j, ParameterStyle.NUMERIC, undefined, Number(text.slice(i + 1, j)));
            otherPlaceholders = true;
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
          otherPlaceholders = true;
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
        if (isDigit(d) && allows(only, ParameterStyle.POSITIONAL_COLON)) {
          let j = i + 2;
          while (j < n && isDigit(text.charCodeAt(j))) j++;
          buf.placeholder(i, j, ParameterStyle.POSITIONAL_COLON, undefined, Number(text.slice(i + 1, j)));
          otherPlaceholders = true;
          i = j;
          continue;
        }
        if (isWordStart(d) && allows(only, ParameterStyle.NAMED_COLON)) {
          let j = i + 2;
          while (j < n && isNameChar(text.charCodeAt(j))) j++;
          buf.placeholder(i, j, ParameterStyle.NAMED_COLON, text.slice(i + 1, j), 0);
          otherPlaceholders = true;
          i = j;
          continue;
        }
        break;
      }
      case 64: {
        // @
        const d = text.charCodeAt(i + 1);
        if (d === 64) {
          buf.push(TK_OP, i, i + 2);
          i += 2;
          continue;
        }
        const p = i > 0 ? text.charCodeAt(i - 1) : 0;
        if (atAllowed && isWordStart(d) && !isNameChar(p) && p !== 60) {
          let j = i + 2;
          while (j < n && isNameChar(text.charCodeAt(j))) j++;
          buf.placeholder(i, j, ParameterStyle.NAMED_AT, text.slice(i + 1, j), 0);
          otherPlaceholders = true;
          i = j;
          continue;
        }
        break;
      }
      case 63: {
        // ?
        const d = text.charCodeAt(i + 1);
        if (pg && (d === 124 || d === 38)) {
          buf.push(TK_OP, i, i + 2);
          i += 2; // jsonb ?| and ?&
          continue;
        }
        if (isDigit(d) && allows(only, ParameterStyle.QMARK)) {
          // SQLite's `?NNN` names a position, like `$NNN`; rendering `?` alone would glue the digits on (`$11`)
          let j = i + 2;
          while (j < n && isDigit(text.charCodeAt(j))) j++;
          buf.placeholder(i, j, ParameterStyle.NUMERIC, undefined, Number(text.slice(i + 1, j)));
          otherPlaceholders = true;
          i = j;
          continue;
        }
        if (allows(only, ParameterStyle.QMARK)) {
          buf.placeholder(i, i + 1, ParameterStyle.QMARK, undefined, 0);
          i++;
          if (pg) qmarkMaybeOperator = true;
          continue;
        }
        break;
      }
      case 37: {
        // %
        const d = text.charCodeAt(i + 1);
        if (d === 37) {
          buf.push(TK_OP, i, i + 2);
          i += 2; // `%%`: a literal percent in pyformat text
          continue;
        }
        if (d === 115 && !isNameChar(text.charCodeAt(i + 2)) && allows(only, ParameterStyle.POSITIONAL_PYFORMAT)) {
          buf.placeholder(i, i + 2, ParameterStyle.POSITIONAL_PYFORMAT, undefined, 0);
          i += 2;
          otherPlaceholders = true;
          continue;
        }
        if (d === 40 && allows(only, ParameterStyle.NAMED_PYFORMAT) && isWordStart(text.charCodeAt(i + 2))) {
          let j = i + 3;
          while (j < n && isNameChar(text.charCodeAt(j))) j++;
          if (text.charCodeAt(j) === 41 && text.charCodeAt(j + 1) === 115) {
            buf.placeholder(i, j + 2, ParameterStyle.NAMED_PYFORMAT, text.slice(i + 2, j), 0);
            otherPlaceholders = true;
            i = j + 2;
            continue;
          }
        }
        break;
      }
    }
    // any other character (operators, punctuation): one token per character keeps the scan simple
    buf.push(TK_OP, i, ++i);
  }
  if (qmarkMaybeOperator && otherPlaceholders) {
    for (let k = 0; k < buf.count; k++) {
      if (buf.kind[k] === TK_PLACEHOLDER && buf.style[k] === ParameterStyle.QMARK) buf.kind[k] = TK_OP;
    }
  }
}

/** True for tokens that carry no SQL meaning (whitespace and comments). */
export function isTrivia(t: Token): boolean {
  return t.kind === TK_WS || t.kind === TK_COMMENT;
}
