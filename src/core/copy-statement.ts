/**
 * `COPY … FROM STDIN` / `COPY … TO STDOUT` in SQL text: found with the lexer (never inside strings, comments or
 * quoted names), so sessions can route such a statement to the adapter's COPY path and adapters can refuse one that
 * reaches the plain query path (where the server would wait for data nobody sends).
 */
import { scan, TK_COMMENT, TK_LPAREN, TK_RPAREN, TK_SEMI, TK_WORD, TokenBuffer } from "./lexer.js";

/** Cheap pre-filter: only a text containing the word can hold a COPY statement (one regex test, no allocation). */
const MENTIONS_COPY = /copy/i;

/** Where a COPY statement reads from or writes to the client: its direction and the STDIN/STDOUT word's span. */
export interface CopyStdio {
  /** `"in"` for FROM STDIN, `"out"` for TO STDOUT. */
  readonly direction: "in" | "out";
  /** Offset of the STDIN/STDOUT word. */
  readonly start: number;
  /** Offset just past it. */
  readonly end: number;
}

/**
 * The first `COPY … FROM STDIN` or `COPY … TO STDOUT` of `sql` (which may hold several statements), or undefined.
 * COPY to or from a server file or a program is an ordinary statement.
 */
export function findCopyStdio(sql: string): CopyStdio | undefined {
  if (!MENTIONS_COPY.test(sql)) return undefined;
  const buf = new TokenBuffer();
  scan(buf, sql, "postgres", undefined);
  let first = true; // the next word starts a statement
  let copy = false;
  let depth = 0;
  let prev = ""; // the previous top-level word of a COPY statement
  for (let k = 0; k < buf.count; k++) {
    const kind = buf.kind[k];
    if (kind === TK_COMMENT) continue;
    if (kind === TK_SEMI && depth === 0) {
      first = true;
      copy = false;
      prev = "";
      continue;
    }
    if (kind === TK_LPAREN) depth++;
    else if (kind === TK_RPAREN) depth--;
    if (kind !== TK_WORD) {
      if (kind !== TK_LPAREN && kind !== TK_RPAREN) first = false;
      continue;
    }
    if (first) {
      first = false;
      copy = buf.isWord(sql, k, "COPY");
      continue;
    }
    if (!copy || depth !== 0) continue;
    const stdio = buf.isWord(sql, k, "STDIN") || buf.isWord(sql, k, "STDOUT");
    const span = { start: buf.start[k] as number, end: buf.end[k] as number };
    if (stdio && prev === "FROM") return { direction: "in", ...span };
    if (stdio && prev === "TO") return { direction: "out", ...span };
    prev = buf.isWord(sql, k, "FROM") ? "FROM" : buf.isWord(sql, k, "TO") ? "TO" : "";
  }
  return undefined;
}
