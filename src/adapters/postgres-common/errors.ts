import {
  DatabaseConnectionError,
  errorFromSqlState,
  OperationCancelledError,
  SQLSpecError,
} from "../../core/errors.js";

/** Fields a PostgreSQL error carries, under node-postgres/PGlite names or postgres.js names. */
interface PgErrorLike {
  message?: string;
  code?: string;
  detail?: string;
  hint?: string;
  constraint?: string;
  constraint_name?: string;
  table?: string;
  table_name?: string;
  column?: string;
  column_name?: string;
  errno?: string;
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "EAI_AGAIN",
]);

/** Why a prepared statement can vanish under a connection, and what to do about it. */
const DROPPED_STATEMENTS =
  ". The server no longer has this connection's prepared statement: most likely a pooler in transaction or " +
  "statement mode (PgBouncer, Supavisor, RDS Proxy, pgcat) moved the session to another server connection, or " +
  "DEALLOCATE ALL / DISCARD ALL ran outside sqlspec. Behind such a pooler set statementConfig: " +
  "{ statementCacheSize: 0 }.";

/**
 * Maps any PostgreSQL driver error (pg, postgres.js, PGlite) to the typed hierarchy. `cancelKind` says whether a
 * 57014 came from our own timeout or from an AbortSignal; a server statement_timeout is recognised by its message.
 */
export function mapPostgresError(err: unknown, cancelKind?: "timeout" | "cancel"): SQLSpecError {
  if (err instanceof SQLSpecError) return err;
  const e = (err ?? {}) as PgErrorLike;
  const message = typeof e.message === "string" ? e.message : String(err);
  const code = typeof e.code === "string" ? e.code : undefined;
  if (code && /^[0-9A-Z]{5}$/.test(code)) {
    const fields = {
      detail: e.detail,
      hint: e.hint,
      constraint: e.constraint ?? e.constraint_name,
      table: e.table ?? e.table_name,
      column: e.column ?? e.column_name,
      cause: err,
    };
    const kind = cancelKind ?? (message.includes("statement timeout") ? "timeout" : "cancel");
    const text = code === "26000" && message.startsWith("prepared statement") ? message + DROPPED_STATEMENTS : message;
    return errorFromSqlState("PostgreSQL", code, text, stripUndefined(fields), kind);
  }
  if ((code && NETWORK_CODES.has(code)) || isConnectionMessage(message)) {
    return new DatabaseConnectionError(`PostgreSQL connection error: ${message}`, { cause: err });
  }
  return new SQLSpecError(`PostgreSQL error: ${message}`, { cause: err });
}

/** A FATAL error the server sent as it closed the connection (57P01 from pg_terminate_backend, 57P02, …). */
export interface ServerFatal {
  code: string;
  message: string;
}

/**
 * A statement on a connection the server closed with a FATAL error reports that error: its SQLSTATE and class (57P01
 * → OperationalError), as a statement running when it arrived does, instead of a bare lost connection. `cause` is
 * the driver's own error, when there is one.
 */
export function closedByServer(fatal: ServerFatal, cause?: unknown): SQLSpecError {
  return errorFromSqlState("PostgreSQL", fatal.code, fatal.message, cause === undefined ? {} : { cause });
}

/** The error a lost connection gives a statement: the server's FATAL error when it sent one. */
export function lostConnectionError(fatal: ServerFatal | undefined): SQLSpecError {
  if (fatal !== undefined) return closedByServer(fatal);
  return new DatabaseConnectionError("PostgreSQL connection error: the connection was lost; open a new session");
}

/** A statement whose AbortSignal had fired before it was sent (pg and postgres.js). */
export function cancelledBeforeSent(signal: AbortSignal): SQLSpecError {
  return new OperationCancelledError("PostgreSQL query cancelled before it was sent", { cause: signal.reason });
}

/** A COPY whose AbortSignal had fired before it was sent (pg and postgres.js). */
export function copyCancelledBeforeSent(signal: AbortSignal): SQLSpecError {
  return new OperationCancelledError("PostgreSQL COPY cancelled before it was sent", { cause: signal.reason });
}

/** The server's FATAL error in a driver error (node-postgres, PGlite: `code` and `severity`), if it is one. */
export function serverFatalOf(err: unknown): ServerFatal | undefined {
  const e = err as { code?: unknown; severity?: unknown; message?: unknown } | undefined;
  if (typeof e?.code !== "string" || !/^[0-9A-Z]{5}$/.test(e.code)) return undefined;
  if (e.severity !== "FATAL" && e.severity !== "PANIC") return undefined;
  return { code: e.code, message: typeof e.message === "string" ? e.message : "" };
}

function isConnectionMessage(message: string): boolean {
  return (
    message.includes("Connection terminated") ||
    message.includes("connection is closed") ||
    message.includes("Client has encountered a connection error") ||
    message.includes("CONNECTION_CLOSED") ||
    message.includes("CONNECTION_ENDED") ||
    message.includes("CONNECTION_DESTROYED") ||
    message.includes("terminating connection")
  );
}

function stripUndefined<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined || o[k] === null) delete o[k];
  return o;
}

/** Whether the error means the connection can't be reused (discard it, never return it to the pool). */
export function isBrokenConnectionError(err: unknown): boolean {
  if (err instanceof DatabaseConnectionError) return true;
  const e = err as { sqlState?: string; code?: string; cause?: unknown } | undefined;
  if (!e) return false;
  const state = e.sqlState ?? e.code;
  // 57P01 admin_shutdown (pg_terminate_backend), 57P02/57P03, and class 08 connection exceptions.
  if (
    typeof state === "string" &&
    (state.startsWith("08") || state === "57P01" || state === "57P02" || state === "57P03")
  ) {
    return true;
  }
  if (typeof state === "string" && NETWORK_CODES.has(state)) return true;
  return e.cause !== undefined && e.cause !== err && isBrokenConnectionError(e.cause);
}

/**
 * Errors a statement prepared before some DDL can raise because of it: 0A000 "cached plan must not change result
 * type", 26000 (the statement was dropped: DEALLOCATE ALL, a pooler), and what stale parameter types cause when a
 * column changed type (42804 datatype mismatch, 42846/42883 no cast or function for the old type, class 22: the value
 * does not parse as the old type). A statement failing so is re-prepared (and retried once outside a transaction).
 */
export function isStaleStatementError(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return (
    typeof code === "string" &&
    (code === "0A000" ||
      code === "26000" ||
      code === "42804" ||
      code === "42846" ||
      code === "42883" ||
      code.startsWith("22"))
  );
}
