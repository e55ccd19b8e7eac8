/**
 * What every statement on a postgres.js connection goes through, COPY included: whether the connection may take one,
 * its per-call cancel (timeoutMs/signal: a CancelRequest only while the server runs it), and its error.
 */
import { DatabaseConnectionError, type SQLSpecError, UnsupportedOperationError } from "../../core/errors.js";
import type { QueryOptions } from "../../driver/adapter.js";
import { StatementCancel, sendCancelRequest } from "../postgres-common/cancel.js";
import { refuseCopyStdio } from "../postgres-common/copy-guard.js";
import {
  closedByServer,
  isBrokenConnectionError,
  lostConnectionError,
  mapPostgresError,
} from "../postgres-common/errors.js";
import type { PjsQuery, PostgresJsConnection } from "./connection.js";
import type { WireObserver } from "./wire.js";

/** Refuses a statement on a lost connection, a COPY from/to the client's stdio, and any while a stream reads. */
export function checkUsable(conn: PostgresJsConnection, sql?: string): void {
  if (conn.broken) throw lostConnectionError(conn.wire.fatal);
  if (sql !== undefined) refuseCopyStdio(sql);
  if (conn.openCursors > 0) {
    throw new UnsupportedOperationError(
      "This session is reading a stream; finish or break the loop before running other statements",
    );
  }
}

/** A statement's error, typed; a broken connection is marked for discard. */
export function statementError(
  conn: PostgresJsConnection,
  err: unknown,
  kind: "timeout" | "cancel" | undefined,
): SQLSpecError {
  const mapped = mapPostgresError(err, kind);
  if (isBrokenConnectionError(mapped)) {
    conn.broken = true;
    // postgres.js rejects with CONNECTION_CLOSED and drops the server's FATAL ErrorResponse (57P01 from
    // pg_terminate_backend): report that one, its SQLSTATE and class, as pg does.
    const fatal = conn.wire.fatal;
    if (fatal !== undefined && mapped instanceof DatabaseConnectionError && mapped.sqlState === undefined) {
      return closedByServer(fatal, err);
    }
  }
  return mapped;
}

/** Arms `opts`' timeoutMs/signal for `q`; `state.settled` is set once `q` settled (then nothing is cancelled). */
export function armCancel(
  conn: PostgresJsConnection,
  q: PjsQuery,
  opts: QueryOptions,
  state: { settled: boolean },
): StatementCancel {
  const ready = conn.wire.readyCount;
  return new StatementCancel(opts, () => cancelRunning(conn.wire, q, state, ready));
}

/**
 * Cancels `q` if the server is still running it: sent (postgres.js dispatches a query a tick after it is awaited, so
 * one not yet sent is cancelled once it is) and not answered (no ReadyForQuery since it started).
 */
export function cancelRunning(
  wire: WireObserver,
  q: PjsQuery,
  state: { settled: boolean },
  ready: number,
  answers = 1,
): Promise<boolean> | undefined {
  if (state.settled) return undefined;
  // postgres.js sets `state` (the backend's key) when it writes the query; null until then.
  const unsent = (q as { state?: unknown }).state == null;
  if (!unsent && wire.readyCount - ready >= answers) return undefined;
  if (unsent || wire.pid === 0) {
    // Not sent yet, or sent on a connection still starting up (no BackendKeyData yet: nothing to address a
    // CancelRequest to). Look again shortly; the abort must not be lost because it came early.
    return new Promise<boolean>((resolve) => {
      const again = (): void => {
        const sent = cancelRunning(wire, q, state, ready, answers);
        if (sent === undefined) resolve(true);
        else sent.then(resolve);
      };
      if (unsent) setImmediate(again);
      else setTimeout(again, 1);
    });
  }
  return sendCancelRequest(wire.host, wire.port, wire.pid, wire.secret);
}
