/**
 * `COPY … FROM STDIN` / `COPY … TO STDOUT` sent as an ordinary statement: the server then waits for data the query
 * path never sends (or streams data it never reads). node-postgres answers with a CopyFail that surfaces as a
 * cancellation (57014), postgres.js resolves with a stream and leaves the connection mid-COPY, PGlite spins. Every
 * PostgreSQL adapter refuses such a statement before sending it, with one typed error.
 */

import { findCopyStdio } from "../../core/copy-statement.js";
import { UnsupportedOperationError } from "../../core/errors.js";

/**
 * The direction of the first `COPY … FROM STDIN` ("in") or `COPY … TO STDOUT` ("out") statement in `sql` (which may
 * hold several statements), or undefined. COPY to or from a server file or a program is an ordinary statement.
 */
export function copyStdio(sql: string): "in" | "out" | undefined {
  return findCopyStdio(sql)?.direction;
}

/** Raises UnsupportedOperationError, before anything is sent, for a COPY that needs a data stream. */
export function refuseCopyStdio(sql: string): void {
  const dir = copyStdio(sql);
  if (dir === undefined) return;
  throw new UnsupportedOperationError(
    dir === "in"
      ? "COPY … FROM STDIN needs its data: pass it as execute(sql, { source }) (a string, bytes, an (async) iterable " +
          "of them or a Node stream). Nothing was sent. Rows as objects load with session.loadRecords()."
      : "COPY … TO STDOUT cannot run on this path (a stack, a script, a pipeline): run it alone with execute(). " +
          "Nothing was sent.",
  );
}
