/**
 * What every MySQL statement goes through: sqlspec's own control statements, KILL QUERY and settling it, mapping a
 * failure while bringing the connection's state up to date, and the errors for a connection that cannot run one.
 */
import { DatabaseConnectionError, SQLSpecError, TransactionError } from "../../core/errors.js";
import type { QueryKiller } from "./cancel.js";
import type { OkPacket } from "./codecs.js";
import { type MysqlConnection, run, STATUS_AUTOCOMMIT, STATUS_IN_TRANS } from "./connection.js";
import { ErrNo, isFatalMysqlError, mapMysqlError } from "./errors.js";

/** A parameterless statement over the text protocol, for sqlspec's own control statements. */
export function text(conn: MysqlConnection, sql: string): Promise<unknown> {
  return run(conn.client, sql, undefined).then(
    (r) => {
      if (!Array.isArray(r.result)) conn.track(r.result as OkPacket, sql);
      return r.result;
    },
    (err) => {
      if (isFatalMysqlError(err)) conn.broken = true;
      throw err;
    },
  );
}

/**
 * Maps a failed statement and brings the connection's state up to date. An error inside a transaction (or with
 * autocommit off) may have ended or begun one, which no packet reports: `@@in_transaction` says which.
 */
export async function fail(
  conn: MysqlConnection,
  err: unknown,
  kind: "timeout" | "cancel" | undefined,
  label: string,
): Promise<SQLSpecError> {
  const mapped = mapMysqlError(err, label, kind);
  if (isFatalMysqlError(err) || mapped instanceof DatabaseConnectionError) {
    conn.broken = true;
    return mapped;
  }
  const wasIn = (conn.status & STATUS_IN_TRANS) !== 0;
  if (wasIn || (conn.status & STATUS_AUTOCOMMIT) === 0) {
    try {
      if (conn.pendingCancel) await conn.pendingCancel;
      if (conn.broken) throw brokenError(label);
      const rows = (await run(conn.client, "SELECT @@in_transaction AS t", undefined)).result as { t: number }[];
      const isIn = Number(rows[0]?.t ?? 0) === 1;
      conn.status = isIn ? conn.status | STATUS_IN_TRANS : conn.status & ~STATUS_IN_TRANS;
      if (wasIn && !isIn) conn.failed = true;
    } catch {
      conn.broken = true;
    }
  }
  return mapped;
}

/**
 * Waits for the KILL to finish. When the statement completed before the KILL arrived, the KILL may have marked the
 * idle thread: one throwaway statement absorbs that mark so it never interrupts the next caller's statement.
 */
export async function settleCancel(conn: MysqlConnection, completed: boolean): Promise<void> {
  const pending = conn.pendingCancel;
  if (pending === undefined) return;
  try {
    await pending;
    if (completed && !conn.broken) {
      await run(conn.client, "DO 0", undefined).catch((err) => {
        if ((err as { errno?: number }).errno !== ErrNo.QUERY_INTERRUPTED) throw err;
      });
    }
  } catch {
    conn.broken = true;
  } finally {
    if (conn.pendingCancel === pending) conn.pendingCancel = undefined;
  }
}

/** Starts a KILL QUERY for the connection's statement; the connection runs nothing else until it settled. */
export function kill(killer: QueryKiller, conn: MysqlConnection): Promise<void> {
  const pending = killer.kill(conn.threadId).then((sent) => {
    // Undelivered: the statement may still be running, so the connection cannot be trusted again.
    if (!sent) conn.broken = true;
  });
  conn.pendingCancel = pending;
  return pending;
}

export function failedTransactionError(label: string): SQLSpecError {
  return new TransactionError(
    `${label}: the transaction was rolled back by the server after an error in it; ` +
      "ROLLBACK (or leave transaction()) before running more statements",
    { sqlState: "25P02" },
  );
}

export function streamOpenError(label: string): SQLSpecError {
  return new SQLSpecError(
    `${label}: a stream() is still open on this session's connection; finish or break out of it before running ` +
      "another statement (or use a second session)",
  );
}

export function brokenError(label: string): SQLSpecError {
  return new DatabaseConnectionError(`${label} connection error: the connection was lost; open a new session`);
}
