/**
 * MySQL / MariaDB errors → the typed hierarchy. MySQL reports SQLSTATE 23000 for every integrity error (and HY000
 * for many others), so the class is chosen by the server's error number first and by SQLSTATE only as a fallback.
 * Messages never carry bound values: the quoted value in "Duplicate entry '…'" / "Incorrect integer value: '…'" is
 * redacted; the driver error stays on `cause`.
 */
import {
  CheckViolationError,
  DatabaseConnectionError,
  type DatabaseError,
  type DatabaseErrorFields,
  DataError,
  DeadlockError,
  errorFromSqlState,
  ForeignKeyViolationError,
  NotNullViolationError,
  OperationalError,
  OperationCancelledError,
  PermissionDeniedError,
  QueryTimeoutError,
  SQLParsingError,
  SQLSpecError,
  TransactionError,
  UniqueViolationError,
} from "../../core/errors.js";

/** Fields of a mysql2 error. */
export interface MysqlErrorLike {
  message?: string;
  code?: string;
  errno?: number;
  sqlState?: string;
  sqlMessage?: string;
  fatal?: boolean;
}

type ErrorClass = new (message: string, fields?: DatabaseErrorFields) => DatabaseError;

/** Server error numbers (MySQL and MariaDB share them below 3000; 3xxx are MySQL's, 4xxx MariaDB's). */
export const ErrNo = {
  DUP_ENTRY: 1062,
  ROW_IS_REFERENCED: 1451,
  NO_REFERENCED_ROW: 1452,
  ROW_IS_REFERENCED_OLD: 1217,
  NO_REFERENCED_ROW_OLD: 1216,
  BAD_NULL: 1048,
  NO_DEFAULT_FOR_FIELD: 1364,
  CHECK_MYSQL: 3819,
  CHECK_MARIADB: 4025,
  LOCK_DEADLOCK: 1213,
  SP_DOES_NOT_EXIST: 1305,
  LOCK_WAIT_TIMEOUT: 1205,
  PARSE: 1064,
  NO_SUCH_TABLE: 1146,
  BAD_FIELD: 1054,
  ACCESS_DENIED: 1045,
  DB_ACCESS_DENIED: 1044,
  TABLE_ACCESS_DENIED: 1142,
  COLUMN_ACCESS_DENIED: 1143,
  SPECIFIC_ACCESS_DENIED: 1227,
  QUERY_INTERRUPTED: 1317,
  /** MySQL: max_execution_time exceeded. */
  QUERY_TIMEOUT_MYSQL: 3024,
  /** MariaDB: max_statement_time exceeded. */
  STATEMENT_TIMEOUT_MARIADB: 1969,
  CONNECTION_KILLED: 1927,
  SERVER_SHUTDOWN: 1053,
  TOO_MANY_CONNECTIONS: 1040,
  UNSUPPORTED_PS: 1295,
  DATA_TOO_LONG: 1406,
  TRUNCATED_WRONG_VALUE: 1292,
  DATA_TRUNCATED: 1265,
  TRUNCATED_WRONG_VALUE_FOR_FIELD: 1366,
  WARN_DATA_OUT_OF_RANGE: 1264,
  DIVISION_BY_ZERO: 1365,
  INVALID_JSON_TEXT: 3140,
  READ_ONLY_TRANSACTION: 1792,
} as const;

const BY_ERRNO: Record<number, [ErrorClass, string]> = {
  [ErrNo.DUP_ENTRY]: [UniqueViolationError, "unique constraint violation"],
  [ErrNo.ROW_IS_REFERENCED]: [ForeignKeyViolationError, "foreign key violation"],
  [ErrNo.NO_REFERENCED_ROW]: [ForeignKeyViolationError, "foreign key violation"],
  [ErrNo.ROW_IS_REFERENCED_OLD]: [ForeignKeyViolationError, "foreign key violation"],
  [ErrNo.NO_REFERENCED_ROW_OLD]: [ForeignKeyViolationError, "foreign key violation"],
  [ErrNo.BAD_NULL]: [NotNullViolationError, "not-null constraint violation"],
  [ErrNo.NO_DEFAULT_FOR_FIELD]: [NotNullViolationError, "not-null constraint violation"],
  [ErrNo.CHECK_MYSQL]: [CheckViolationError, "check constraint violation"],
  [ErrNo.CHECK_MARIADB]: [CheckViolationError, "check constraint violation"],
  [ErrNo.LOCK_DEADLOCK]: [DeadlockError, "deadlock detected"],
  // Like PostgreSQL's lock_not_available (55P03): the statement waited too long for a row lock.
  [ErrNo.LOCK_WAIT_TIMEOUT]: [OperationalError, "lock wait timeout"],
  [ErrNo.PARSE]: [SQLParsingError, "syntax error"],
  [ErrNo.NO_SUCH_TABLE]: [SQLParsingError, "undefined table"],
  [ErrNo.BAD_FIELD]: [SQLParsingError, "undefined column"],
  [ErrNo.ACCESS_DENIED]: [PermissionDeniedError, "access denied"],
  [ErrNo.DB_ACCESS_DENIED]: [PermissionDeniedError, "access denied"],
  [ErrNo.TABLE_ACCESS_DENIED]: [PermissionDeniedError, "permission denied"],
  [ErrNo.COLUMN_ACCESS_DENIED]: [PermissionDeniedError, "permission denied"],
  [ErrNo.SPECIFIC_ACCESS_DENIED]: [PermissionDeniedError, "permission denied"],
  [ErrNo.QUERY_TIMEOUT_MYSQL]: [QueryTimeoutError, "query timeout"],
  [ErrNo.STATEMENT_TIMEOUT_MARIADB]: [QueryTimeoutError, "query timeout"],
  [ErrNo.CONNECTION_KILLED]: [DatabaseConnectionError, "connection error"],
  [ErrNo.SERVER_SHUTDOWN]: [DatabaseConnectionError, "connection error"],
  [ErrNo.TOO_MANY_CONNECTIONS]: [DatabaseConnectionError, "connection error"],
  [ErrNo.DATA_TOO_LONG]: [DataError, "data exception"],
  [ErrNo.TRUNCATED_WRONG_VALUE]: [DataError, "data exception"],
  [ErrNo.DATA_TRUNCATED]: [DataError, "data exception"],
  [ErrNo.TRUNCATED_WRONG_VALUE_FOR_FIELD]: [DataError, "data exception"],
  [ErrNo.WARN_DATA_OUT_OF_RANGE]: [DataError, "data exception"],
  [ErrNo.DIVISION_BY_ZERO]: [DataError, "data exception"],
  [ErrNo.INVALID_JSON_TEXT]: [DataError, "data exception"],
  [ErrNo.READ_ONLY_TRANSACTION]: [TransactionError, "read-only transaction"],
};

/** Client-side codes mysql2 uses when the socket is gone or never came up. */
const CONNECTION_CODES = new Set([
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR",
  "PROTOCOL_ENQUEUE_AFTER_QUIT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "EAI_AGAIN",
  "ER_SERVER_SHUTDOWN",
  "ER_CONNECTION_KILLED",
]);

/**
 * Maps a mysql2 error. `cancelKind` says whether a "query interrupted" (1317) came from our own timeout or from an
 * AbortSignal; without one, an interruption is reported as a cancellation.
 */
export function mapMysqlError(err: unknown, label: string, cancelKind?: "timeout" | "cancel"): SQLSpecError {
  if (err instanceof SQLSpecError) return err;
  const e = (err ?? {}) as MysqlErrorLike;
  const serverMessage = typeof e.sqlMessage === "string" ? e.sqlMessage : undefined;
  const message = redact(serverMessage ?? (typeof e.message === "string" ? e.message : String(err)));
  const errno = typeof e.errno === "number" ? e.errno : undefined;
  const sqlState = typeof e.sqlState === "string" && e.sqlState !== "" ? e.sqlState : undefined;
  if (serverMessage !== undefined && errno !== undefined) {
    const fields: DatabaseErrorFields = {
      cause: err,
      ...(sqlState ? { sqlState } : {}),
      ...detailsOf(errno, serverMessage),
    };
    const tag = `[${sqlState ? `${sqlState}/` : ""}${errno}]`;
    if (errno === ErrNo.QUERY_INTERRUPTED) {
      const Cls = cancelKind === "timeout" ? QueryTimeoutError : OperationCancelledError;
      return new Cls(
        `${label} ${cancelKind === "timeout" ? "query timeout" : "query cancelled"} ${tag}: ${message}`,
        fields,
      );
    }
    // 1305 is "<kind> <name> does not exist" for routines and savepoints alike; only the savepoint is a transaction error.
    if (errno === ErrNo.SP_DOES_NOT_EXIST && /^SAVEPOINT /i.test(serverMessage)) {
      return new TransactionError(`${label} savepoint exception ${tag}: ${message}`, fields);
    }
    const hit = BY_ERRNO[errno];
    if (hit) return new hit[0](`${label} ${hit[1]} ${tag}: ${message}`, fields);
    // Everything else by SQLSTATE class (42S02 → parsing, 28000 → permission, 08xxx → connection, 22xxx → data …).
    const mapped = errorFromSqlState(label, sqlState, message, fields, cancelKind ?? "cancel");
    mapped.message = sqlState
      ? mapped.message.replace(`[${sqlState}]:`, `${tag}:`)
      : `${label} error ${tag}: ${message}`;
    return mapped;
  }
  if ((e.code !== undefined && CONNECTION_CODES.has(e.code)) || e.fatal === true) {
    return new DatabaseConnectionError(`${label} connection error: ${message}`, { cause: err });
  }
  return new SQLSpecError(`${label} error: ${message}`, { cause: err });
}

/** Whether the error leaves the connection unusable (it is then discarded, never reused). */
export function isFatalMysqlError(err: unknown): boolean {
  if (err instanceof DatabaseConnectionError) return true;
  const e = err as MysqlErrorLike | undefined;
  if (!e || typeof e !== "object") return false;
  if (e.fatal === true) return true;
  return e.code !== undefined && CONNECTION_CODES.has(e.code);
}

/** Constraint / column names the server puts in its message (never values). */
function detailsOf(errno: number, msg: string): DatabaseErrorFields {
  switch (errno) {
    case ErrNo.DUP_ENTRY: {
      // MySQL 8: "for key 'table.key'", MariaDB: "for key 'key'".
      const m = /for key '([^']*)'$/.exec(msg);
      if (!m) return {};
      const key = m[1] as string;
      const dot = key.lastIndexOf(".");
      return dot > 0 ? { constraint: key.slice(dot + 1), table: key.slice(0, dot) } : { constraint: key };
    }
    case ErrNo.ROW_IS_REFERENCED:
    case ErrNo.NO_REFERENCED_ROW: {
      // "… (`db`.`child`, CONSTRAINT `fk_name` FOREIGN KEY (`col`) REFERENCES …)"
      const m = /\(`[^`]*`\.`([^`]*)`, CONSTRAINT `([^`]*)` FOREIGN KEY \(`([^`]*)`/.exec(msg);
      return m ? { table: m[1] as string, constraint: m[2] as string, column: m[3] as string } : {};
    }
    case ErrNo.BAD_NULL:
    case ErrNo.NO_DEFAULT_FOR_FIELD: {
      const m = /(?:Column|Field) '([^']*)'/.exec(msg);
      return m ? { column: m[1] as string } : {};
    }
    case ErrNo.CHECK_MYSQL:
    case ErrNo.CHECK_MARIADB: {
      // MySQL: "Check constraint 'name' is violated."; MariaDB: "CONSTRAINT `name` failed for `db`.`t`"
      const m = /[Cc]heck constraint '([^']*)'|CONSTRAINT `([^`]*)` failed for `[^`]*`\.`([^`]*)`/.exec(msg);
      if (!m) return {};
      return m[1] !== undefined
        ? { constraint: m[1] }
        : { constraint: m[2] as string, ...(m[3] !== undefined ? { table: m[3] } : {}) };
    }
    case ErrNo.DATA_TOO_LONG:
    case ErrNo.TRUNCATED_WRONG_VALUE_FOR_FIELD:
    case ErrNo.WARN_DATA_OUT_OF_RANGE: {
      const m = /for column (?:`[^`]*`\.`[^`]*`\.)?[`']([^`']*)[`']/.exec(msg);
      return m ? { column: m[1] as string } : {};
    }
    default:
      return {};
  }
}

/** Quoted values the server echoes back in a message (duplicate keys, rejected values) become `'…'`. */
function redact(message: string): string {
  return message.replace(
    /(Duplicate entry |value: |value |Truncated incorrect [\w ]+ value: )'(?:[^'\\]|\\.|'')*'/g,
    "$1'…'",
  );
}
