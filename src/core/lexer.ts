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
 */
import type { Dialect } from "./types.js";
import { ParameterStyle } from "./types.js";

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

function tok(kind: TokenKind, start: number, end: number): Token {
  return { kind, start, end, style: undefined, name: undefined, num: 0 };
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
  const len = upper.length;
  if (t.kind !== TK_WORD || t.end - t.start !== len) return false;
  for (let k = 0; k < len; k++) {
    let c = text.charCodeAt(t.start + k);
    if (c >= 97 && c <= 122) c -= 32;
    if (c !== upper.charCodeAt(k)) return false;
  }
  return true;
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
 * Tokenizes `text`. Whitespace, comments, strings and identifiers are kept as tokens so consumers can rebuild the
 * text exactly by slicing between token offsets.
 */
export function lex(text: string, dialect: Dialect = "postgres", options?: LexOptions): Token[] {
  const only = options?.inputStyle;
  const pg = dialect === "postgres";
  const mysql = dialect === "mysql";
  const dollarQuotes = pg || dialect === "duckdb";
  const allow = (s: ParameterStyle): boolean => only === undefined || only === s;
  const atAllowed = only === ParameterStyle.NAMED_AT || (only === undefined && !mysql);
  const out: Token[] = [];
  const n = text.length;
  let qmarkMaybeOperator = false; // a bare `?` on PostgreSQL: resolved after the scan
  let otherPlaceholders = false;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    const start = i;
    if (isSpace(c)) {
      i++;
      while (i < n && isSpace(text.charCodeAt(i))) i++;
      out.push(tok(TK_WS, start, i));
      continue;
    }
    if (isWordStart(c)) {
      i++;
      while (i < n && isWordChar(text.charCodeAt(i))) i++;
      // E'…' (PostgreSQL/DuckDB escape string): the prefix and the literal form one string token
      if (i - start === 1 && (c === 69 || c === 101) && text.charCodeAt(i) === 39 && !mysql) {
        i = skipQuoted(text, i, 39, true);
        out.push(tok(TK_STRING, start, i));
        continue;
      }
      out.push(tok(TK_WORD, start, i));
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
      out.push(tok(TK_WORD, start, i));
      continue;
    }
    switch (c) {
      case 39: // '
        i = skipQuoted(text, i, 39, mysql);
        out.push(tok(TK_STRING, start, i));
        continue;
      case 34: // "
        i = skipQuoted(text, i, 34, mysql);
        out.push(tok(mysql ? TK_STRING : TK_QIDENT, start, i));
        continue;
      case 96: // `
        i = skipQuoted(text, i, 96, false);
        out.push(tok(TK_QIDENT, start, i));
        continue;
      case 91: // [
        if (dialect === "sqlite") {
          const close = text.indexOf("]", i + 1);
          i = close < 0 ? n : close + 1;
          out.push(tok(TK_QIDENT, start, i));
          continue;
        }
        break;
      case 45: // -
        if (text.charCodeAt(i + 1) === 45 && (!mysql || i + 2 >= n || isSpace(text.charCodeAt(i + 2)))) {
          const nl = text.indexOf("\n", i + 2);
          i = nl < 0 ? n : nl;
          out.push(tok(TK_COMMENT, start, i));
          continue;
        }
        break;
      case 35: // #
        if (mysql) {
          const nl = text.indexOf("\n", i + 1);
          i = nl < 0 ? n : nl;
          out.push(tok(TK_COMMENT, start, i));
          continue;
        }
        break;
      case 47: // /
        if (text.charCodeAt(i + 1) === 42) {
          i = skipBlockComment(text, i, pg);
          out.push(tok(TK_COMMENT, start, i));
          continue;
        }
        break;
      case 40:
        out.push(tok(TK_LPAREN, i, ++i));
        continue;
      case 41:
        out.push(tok(TK_RPAREN, i, ++i));
        continue;
      case 59:
        out.push(tok(TK_SEMI, i, ++i));
        continue;
      case 36: {
        // $
        const d = text.charCodeAt(i + 1);
        if (isDigit(d)) {
          let j = i + 2;
          while (j < n && isDigit(text.charCodeAt(j))) j++;
          if (allow(ParameterStyle.NUMERIC)) {
            const t = tok(TK_PLACEHOLDER, i, j);
            t.style = ParameterStyle.NUMERIC;
            t.num = Number(text.slice(i + 1, j));
            out.push(t);
            otherPlaceholders = true;
          } else out.push(tok(TK_OP, i, j));
          i = j;
          continue;
        }
        if (dollarQuotes) {
          const end = skipDollarQuote(text, i);
          if (end >= 0) {
            i = end;
            out.push(tok(TK_STRING, start, i));
            continue;
          }
        }
        if (isWordStart(d) && allow(ParameterStyle.NAMED_DOLLAR)) {
          let j = i + 2;
          while (j < n && isNameChar(text.charCodeAt(j))) j++;
          const t = tok(TK_PLACEHOLDER, i, j);
          t.style = ParameterStyle.NAMED_DOLLAR;
          t.name = text.slice(i + 1, j);
          out.push(t);
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
          out.push(tok(TK_CAST, i, i + 2));
          i += 2;
          continue;
        }
        if (i > 0 && isNameChar(text.charCodeAt(i - 1))) break; // `a:b` (array slice), not a placeholder
        if (isDigit(d) && allow(ParameterStyle.POSITIONAL_COLON)) {
          let j = i + 2;
          while (j < n && isDigit(text.charCodeAt(j))) j++;
          const t = tok(TK_PLACEHOLDER, i, j);
          t.style = ParameterStyle.POSITIONAL_COLON;
          t.num = Number(text.slice(i + 1, j));
          out.push(t);
          otherPlaceholders = true;
          i = j;
          continue;
        }
        if (isWordStart(d) && allow(ParameterStyle.NAMED_COLON)) {
          let j = i + 2;
          while (j < n && isNameChar(text.charCodeAt(j))) j++;
          const t = tok(TK_PLACEHOLDER, i, j);
          t.style = ParameterStyle.NAMED_COLON;
          t.name = text.slice(i + 1, j);
          out.push(t);
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
          out.push(tok(TK_OP, i, i + 2));
          i += 2;
          continue;
        }
        const p = i > 0 ? text.charCodeAt(i - 1) : 0;
        if (atAllowed && isWordStart(d) && !isNameChar(p) && p !== 60) {
          let j = i + 2;
          while (j < n && isNameChar(text.charCodeAt(j))) j++;
          const t = tok(TK_PLACEHOLDER, i, j);
          t.style = ParameterStyle.NAMED_AT;
          t.name = text.slice(i + 1, j);
          out.push(t);
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
          out.push(tok(TK_OP, i, i + 2));
          i += 2; // jsonb ?| and ?&
          continue;
        }
        if (allow(ParameterStyle.QMARK)) {
          const t = tok(TK_PLACEHOLDER, i, ++i);
          t.style = ParameterStyle.QMARK;
          out.push(t);
          if (pg) qmarkMaybeOperator = true;
          continue;
        }
        break;
      }
      case 37: {
        // %
        const d = text.charCodeAt(i + 1);
        if (d === 37) {
          out.push(tok(TK_OP, i, i + 2));
          i += 2; // `%%`: a literal percent in pyformat text
          continue;
        }
        if (d === 115 && !isNameChar(text.charCodeAt(i + 2)) && allow(ParameterStyle.POSITIONAL_PYFORMAT)) {
          const t = tok(TK_PLACEHOLDER, i, i + 2);
          i += 2;
          t.style = ParameterStyle.POSITIONAL_PYFORMAT;
          out.push(t);
          otherPlaceholders = true;
          continue;
        }
        if (d === 40 && allow(ParameterStyle.NAMED_PYFORMAT) && isWordStart(text.charCodeAt(i + 2))) {
          let j = i + 3;
          while (j < n && isNameChar(text.charCodeAt(j))) j++;
          if (text.charCodeAt(j) === 41 && text.charCodeAt(j + 1) === 115) {
            const t = tok(TK_PLACEHOLDER, i, j + 2);
            t.style = ParameterStyle.NAMED_PYFORMAT;
            t.name = text.slice(i + 2, j);
            out.push(t);
            otherPlaceholders = true;
            i = j + 2;
            continue;
          }
        }
        break;
      }
    }
    // any other character (operators, punctuation): one token per character keeps the scan simple
    out.push(tok(TK_OP, i, ++i));
  }
  if (qmarkMaybeOperator && otherPlaceholders) {
    for (const t of out) {
      if (t.kind === TK_PLACEHOLDER && t.style === ParameterStyle.QMARK) {
        t.kind = TK_OP;
        t.style = undefined;
      }
    }
  }
  return out;
}

/** True for tokens that carry no SQL meaning (whitespace and comments). */
export function isTrivia(t: Token): boolean {
  return t.kind === TK_WS || t.kind === TK_COMMENT;
}
