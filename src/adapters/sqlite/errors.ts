/**
 * better-sqlite3 errors → the typed hierarchy, by SQLite's extended result code (`err.code`). SQLite has no SQLSTATE:
 * errors carry none, the native error stays on `cause`. SQLite's constraint messages name tables, columns and
 * constraints, never values; the message is redacted all the same (one rule for every engine). Also the errors the
 * adapter raises itself (closed handle, failed transaction, lock waits), so their messages stay in one place.
 */
import {
  CheckViolationError,
  DatabaseConnectionError,
  DatabaseError,
  type DatabaseErrorFields,
  DataError,
  DuplicateObjectError,
  ForeignKeyViolationError,
  IntegrityError,
  InvalidColumnReferenceError,
  NotNullViolationError,
  OperationalError,
  OperationCancelledError,
  ParameterError,
  PermissionDeniedError,
  PoolTimeoutError,
  QueryTimeoutError,
  redactServerMessage,
  SQLParsingError,
  SQLSpecError,
  TransactionError,
  UniqueViolationError,
} from "../../core/errors.js";

type ErrorClass = new (message: string, fields?: DatabaseErrorFields) => DatabaseError;

/** SQLITE_BUSY / SQLITE_LOCKED: another connection (or process) holds the lock. `which` names the result code. */
export class SqliteBusyError extends OperationalError {
  constructor(
    message: string,
    /** The SQLite result code: `SQLITE_BUSY` (another connection holds the lock) or `SQLITE_LOCKED` (a table lock). */
    readonly which: "SQLITE_BUSY" | "SQLITE_LOCKED",
    fields: DatabaseErrorFields = {},
  ) {
    super(message, fields);
  }
}

const BY_CODE: Record<string, [ErrorClass, string]> = {
  SQLITE_CONSTRAINT_UNIQUE: [UniqueViolationError, "unique constraint violation"],
  SQLITE_CONSTRAINT_PRIMARYKEY: [UniqueViolationError, "unique constraint violation"],
  SQLITE_CONSTRAINT_ROWID: [UniqueViolationError, "unique constraint violation"],
  SQLITE_CONSTRAINT_FOREIGNKEY: [ForeignKeyViolationError, "foreign key violation"],
  SQLITE_CONSTRAINT_NOTNULL: [NotNullViolationError, "not-null constraint violation"],
  SQLITE_CONSTRAINT_CHECK: [CheckViolationError, "check constraint violation"],
  SQLITE_CONSTRAINT: [IntegrityError, "integrity constraint violation"],
  SQLITE_MISMATCH: [DataError, "datatype mismatch"],
  SQLITE_TOOBIG: [DataError, "value too big"],
  SQLITE_READONLY: [PermissionDeniedError, "read-only database"],
  SQLITE_AUTH: [PermissionDeniedError, "not authorized"],
  SQLITE_PERM: [PermissionDeniedError, "access permission denied"],
  SQLITE_CANTOPEN: [DatabaseConnectionError, "cannot open the database file"],
  SQLITE_NOTADB: [DatabaseConnectionError, "the file is not a database"],
  SQLITE_CORRUPT: [DatabaseConnectionError, "the database file is malformed"],
  SQLITE_FULL: [OperationalError, "database or disk is full"],
  SQLITE_IOERR: [OperationalError, "disk I/O error"],
  SQLITE_NOMEM: [OperationalError, "out of memory"],
  SQLITE_INTERRUPT: [OperationalError, "interrupted"],
};

/** `SQLITE_CONSTRAINT_CHECK` → the class of its primary code when the extended one has no entry. */
function lookup(code: string): [ErrorClass, string] | undefined {
  const hit = BY_CODE[code];
  if (hit !== undefined) return hit;
  const primary = /^SQLITE_[A-Z]+/.exec(code)?.[0];
  return primary === undefined ? undefined : BY_CODE[primary];
}

/** An ON CONFLICT target that is no primary key or unique index (PostgreSQL's 42P10). */
const NOT_A_KEY = /ON CONFLICT clause does not match any PRIMARY KEY or UNIQUE constraint/i;

/** Syntax and name errors arrive as plain SQLITE_ERROR: the message tells them apart. */
const PARSING =
  /syntax error|no such (?:table|column|function|index|view|trigger|collation|module)|incomplete input|unrecognized token|has no column named|ambiguous column name|wrong number of arguments/i;
const EXISTS = /already exists/;
const STACK_OVERFLOW = /^Maximum call stack size exceeded$/;

export function mapSqliteError(err: unknown, label = "SQLite"): SQLSpecError {
  if (err instanceof SQLSpecError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e?.message === "string" ? e.message : String(err);
  const code = typeof e?.code === "string" ? e.code : undefined;
  if (code === "SQLITE_RANGE") return new ParameterError(`${label}: ${redactServerMessage(message)}`, { cause: err });
  if (code === undefined) {
    // V8 ran out of call stack (a statement issued from a very deep stack): the caller's situation, not a bad value.
    if (err instanceof RangeError && STACK_OVERFLOW.test(message)) {
      return new SQLSpecError(`${label}: ${message} (the statement was issued from too deep a call stack)`, {
        cause: err,
      });
    }
    // better-sqlite3's own argument checks (TypeError/RangeError): a bad value or parameter count, before any I/O.
    if (err instanceof TypeError || err instanceof RangeError) {
      return new ParameterError(`${label}: ${redactServerMessage(message)}`, { cause: err });
    }
    return new DatabaseError(`${label} error: ${redactServerMessage(message)}`, { cause: err });
  }
  const text = redactServerMessage(message);
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    const which = code.startsWith("SQLITE_BUSY") ? "SQLITE_BUSY" : "SQLITE_LOCKED";
    const what = which === "SQLITE_BUSY" ? "database is busy" : "database table is locked";
    return new SqliteBusyError(`${label} ${what} [${code}]: ${text}`, which, { cause: err });
  }
  const fields: DatabaseErrorFields = { cause: err, ...constraintFields(code, message) };
  if (code === "SQLITE_ERROR") {
    if (PARSING.test(message)) return new SQLParsingError(`${label} syntax error or undefined object: ${text}`, fields);
    if (EXISTS.test(message)) return new DuplicateObjectError(`${label} duplicate object: ${text}`, fields);
    if (NOT_A_KEY.test(message)) {
      return new InvalidColumnReferenceError(`${label} invalid column reference: ${text}`, fields);
    }
    if (/no such savepoint/i.test(message))
      return new TransactionError(`${label} savepoint exception: ${text}`, fields);
  }
  const hit = lookup(code);
  if (hit === undefined) return new DatabaseError(`${label} error [${code}]: ${text}`, fields);
  const [Cls, what] = hit;
  return new Cls(`${label} ${what} [${code}]: ${text}`, fields);
}

/** Table, column and constraint from "UNIQUE constraint failed: t.a, t.b" / "CHECK constraint failed: name". */
function constraintFields(code: string, message: string): DatabaseErrorFields {
  const m = /constraint failed: (.+)$/.exec(message);
  if (m === undefined || m === null) return {};
  const what = m[1] as string;
  if (code === "SQLITE_CONSTRAINT_CHECK") return { constraint: what };
  const first = /^([^\s.,]+)\.([^\s,]+)/.exec(what);
  if (first === null) return {};
  return { table: first[1] as string, column: first[2] as string };
}

/** Errors after which the connection cannot be trusted: it is closed rather than reused. */
export function isFatalSqliteError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return (
    typeof code === "string" &&
    (code.startsWith("SQLITE_CORRUPT") || code.startsWith("SQLITE_NOTADB") || code.startsWith("SQLITE_IOERR"))
  );
}

// ------------------------------------------------------------------------------------------------ the adapter's own

/** SQLITE_BUSY from a lock held by another connection; not BUSY_SNAPSHOT, which no wait can resolve. */
export function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === "SQLITE_BUSY" || code === "SQLITE_BUSY_RECOVERY";
}

export function isReadonlyError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" && code.startsWith("SQLITE_READONLY");
}

/** As PostgreSQL's 25006 (read_only_sql_transaction) maps. */
export function readOnlyTransactionError(cause: unknown): TransactionError {
  return new TransactionError("SQLite: cannot write in a read-only transaction", { cause });
}

export function releasedBeforeStartError(): OperationCancelledError {
  return new OperationCancelledError("SQLite: the session ended before this statement started; it did not run");
}

export function endedWhileBusyError(): OperationCancelledError {
  return new OperationCancelledError(
    "SQLite: the session ended while this statement waited for the database file's lock (held by another " +
      "connection); it did not run",
  );
}

export function lockWaitCancelledError(reason: unknown): OperationCancelledError {
  return new OperationCancelledError("SQLite: cancelled while waiting for the database lock", { cause: reason });
}

export function busyTimeoutError(ms: number, fields: DatabaseErrorFields): SqliteBusyError {
  return new SqliteBusyError(
    `SQLite database is busy [SQLITE_BUSY]: another connection held the database file's lock for more than ${ms} ms ` +
      "(busyTimeoutMs)",
    "SQLITE_BUSY",
    fields,
  );
}

export function busyQueryTimeoutError(ms: number, cause: unknown): QueryTimeoutError {
  return new QueryTimeoutError(
    `SQLite query timeout: the database file stayed locked by another connection for ${ms} ms ` +
      "(timeoutMs); the statement did not run",
    { cause },
  );
}

export function timeoutError(): QueryTimeoutError {
  return new QueryTimeoutError("SQLite query timeout: timeoutMs expired before the statement could start");
}

export function sharedTimeoutError(ms: number): PoolTimeoutError {
  return new PoolTimeoutError(
    `Waited ${ms} ms for SQLite's shared :memory: connection: another session holds an open transaction or stream. ` +
      "Commit or roll it back, or run the nested work through the outer session.",
  );
}

export function writeBusyError(ms: number): SqliteBusyError {
  return new SqliteBusyError(
    `SQLite database is busy [SQLITE_BUSY]: another session of this pool held the write lock for more than ${ms} ms ` +
      "(busyTimeoutMs)",
    "SQLITE_BUSY",
  );
}

export function closedError(): DatabaseConnectionError {
  return new DatabaseConnectionError("SQLite connection error: the database handle is closed; open a new session");
}

export function failedTransactionError(): TransactionError {
  return new TransactionError(
    "SQLite rolled the transaction back after an error in it; ROLLBACK (or leave transaction()) before running more " +
      "statements",
  );
}

export function streamOpenError(): SQLSpecError {
  return new SQLSpecError(
    "SQLite: a stream() is still open on this session's connection; finish or break out of it before writing " +
      "(or use a second session)",
  );
}
