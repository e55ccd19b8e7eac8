/**
 * What every statement on a node-postgres connection goes through, COPY included: the connection's turn (turns.ts),
 * handed on only once the client is ready for the next statement; its per-call cancel (timeoutMs/signal: a
 * CancelRequest only while the server runs it); and its error.
 */
import type { SQLSpecError } from "../../core/errors.js";
import { sendCancelRequest } from "../postgres-common/cancel.js";
import { isBrokenConnectionError, mapPostgresError } from "../postgres-common/errors.js";
import { brokenError, type PgClient, type PgConnection, untilReady } from "./connection.js";
import { StatementRun } from "./turns.js";

/**
 * Hands the connection's turn on once node-postgres is ready for the next statement (a statement that failed
 * settles at its ReadyForQuery already, but a helper round trip may reject on the ErrorResponse before it).
 */
export function passTurn(conn: PgConnection): void {
  const client = conn.client as PgClient;
  if (client.readyForQuery || conn.broken || !client._queryable || client._ending) conn.turns.pass();
  else void untilReady(client).then(() => conn.turns.pass());
}

/**
 * Runs `work` (a statement that is not the hot path: pipelines, COPY) in the connection's turn, then hands the turn
 * on; `run` (its timeoutMs/signal) is resolved first.
 */
export async function inTurn<T>(conn: PgConnection, run: StatementRun | undefined, work: () => Promise<T>): Promise<T> {
  const waiting = conn.turns.take(run);
  let turn = waiting === undefined;
  try {
    if (!turn) {
      await waiting;
      turn = true;
      if (conn.broken) throw brokenError(conn);
    }
    return await work();
  } finally {
    if (run !== undefined && !(await run.finish())) conn.broken = true;
    if (turn) passTurn(conn);
  }
}

/** A statement's timeoutMs/signal: withdrawn while queued, cancelled on the server only while it runs. */
export function statementRun(
  conn: PgConnection,
  opts: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined },
): StatementRun {
  return new StatementRun(conn.turns, opts, (submitted) => cancelRunning(conn.client as PgClient, submitted));
}

/** Cancels `submitted` on the server if the server is running it (only then: a cancel goes by backend PID). */
function cancelRunning(client: PgClient, submitted: object): Promise<boolean> | undefined {
  const active =
    typeof client._getActiveQuery === "function"
      ? client._getActiveQuery()
      : "_activeQuery" in client
        ? client._activeQuery
        : (client as unknown as { activeQuery: unknown }).activeQuery;
  if (active !== submitted || client.processID === null || client.secretKey === null) return undefined;
  return sendCancelRequest(client.host, client.port, client.processID, client.secretKey);
}

/** A statement's error, typed; a connection node-postgres can no longer use is marked for discard. */
export function queryError(conn: PgConnection, err: unknown, kind: "timeout" | "cancel" | undefined): SQLSpecError {
  const mapped = mapPostgresError(err, kind);
  const client = conn.client as PgClient;
  if (!client._queryable || isBrokenConnectionError(mapped)) conn.broken = true;
  return mapped;
}
