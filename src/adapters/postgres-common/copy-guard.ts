/**
 * `COPY … FROM STDIN` / `COPY … TO STDOUT` sent as an ordinary statement: the server then waits for data the query
 * path never sends (or streams data it never reads). node-postgres answers with a CopyFail that surfaces as a
 * cancellation (57014), postgres.js resolves with a stream and leaves the connection mid-COPY, PGlite spins. Every
 * PostgreSQL adapter refuses such a statement before sending it, with one typed error.
 */
import { UnsupportedOperationError } from "../../core/errors.js";
import { scan, TK_COMMENT, TK_LPAREN, TK_RPAREN, TK_SEMI, TK_WORD, TokenBuffer } from "../../core/lexer.js";

/** Cheap pre-filter: only a text containing the word can hold a COPY statement (one regex test, no allocation). */
const MENTIONS_COPY = /copy/i;

/**
 * The direction of the first `COPY … FROM STDIN` ("in") or `COPY … TO STDOUT` ("out") statement in `sql` (which may
 * hold several statements), or undefined. COPY to or from a server file or a program is an ordinary statement.
 */
export function copyStdio(sql: string): "in" | "out" | undefined {
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
    if (stdio && prev === "FROM") return "in";
    if (stdio && prev === "TO") return "out";
    prev = buf.isWord(sql, k, "FROM") ? "FROM" : buf.isWord(sql, k, "TO") ? "TO" : "";
  }
  return undefined;
}

/** Raises UnsupportedOperationError, before anything is sent, for a COPY that needs a data stream. */
export function refuseCopyStdio(sql: string): void {
  const dir = copyStdio(sql);
  if (dir === undefined) return;
  throw new UnsupportedOperationError(
    dir === "in"
      ? "COPY … FROM STDIN cannot run as a statement: it needs a data stream the query path does not have. Nothing " +
          "was sent. Load rows with session.loadRecords() (COPY underneath), or use COPY … FROM a server file."
      : "COPY … TO STDOUT cannot run as a statement: its output needs a stream the query path does not have. " +
          "Nothing was sent. Read the rows with session.select()/stream(), or use COPY … TO a server file.",
  );
}
