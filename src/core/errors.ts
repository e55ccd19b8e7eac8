/**
 * The error hierarchy. Every error sqlspec raises extends SQLSpecError; database errors are mapped from SQLSTATE
 * by `errorFromSqlState`, which every adapter (PostgreSQL, MySQL, …) shares.
 */

export interface DatabaseErrorFields {
  sqlState?: string | undefined;
  detail?: string | undefined;
  hint?: string | undefined;
  constraint?: string | undefined;
  table?: string | undefined;
  column?: string | undefined;
  cause?: unknown | undefined;
}

export class SQLSpecError extends Error {
  // `declare`: set only when present, so logged errors don't list a row of undefined fields.
  declare sqlState?: string;
  declare detail?: string;
  declare hint?: string;
  declare constraint?: string;
  declare table?: string;
  declare column?: string;
  declare cause: unknown;

  constructor(message: string, fields: DatabaseErrorFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = new.target.name;
    if (fields.sqlState !== undefined) this.sqlState = fields.sqlState;
    if (fields.detail !== undefined) this.detail = fields.detail;
    if (fields.hint !== undefined) this.hint = fields.hint;
    if (fields.constraint !== undefined) this.constraint = fields.constraint;
    if (fields.table !== undefined) this.table = fields.table;
    if (fields.column !== undefined) this.column = fields.column;
  }
}

// Errors raised by the database, mapped from SQLSTATE.
export class DatabaseError extends SQLSpecError {}
export class IntegrityError extends DatabaseError {}
export class UniqueViolationError extends IntegrityError {}
export class ForeignKeyViolationError extends IntegrityError {}
export class NotNullViolationError extends IntegrityError {}
export class CheckViolationError extends IntegrityError {}
export class SQLParsingError extends DatabaseError {}
export class PermissionDeniedError extends DatabaseError {}
export class DatabaseConnectionError extends DatabaseError {}
export class TransactionError extends DatabaseError {}
export class SerializationConflictError extends TransactionError {}
export class DeadlockError extends TransactionError {}
export class DataError extends DatabaseError {}
export class OperationalError extends DatabaseError {}
export class QueryTimeoutError extends OperationalError {}
export class OperationCancelledError extends OperationalError {}

// Errors raised by the library itself.
export class NotFoundError extends SQLSpecError {}
export class MultipleResultsFoundError extends SQLSpecError {}
export class ImproperConfigurationError extends SQLSpecError {}
export class MissingDependencyError extends ImproperConfigurationError {
  readonly packageName: string;
  constructor(packageName: string, feature: string, cause?: unknown) {
    super(
      `${feature} needs the npm package "${packageName}", which is not installed. Install it with: npm install ${packageName}`,
      { cause },
    );
    this.packageName = packageName;
  }
}
export class ParameterError extends SQLSpecError {}
export class SQLBuilderError extends SQLSpecError {}
export class DialectNotSupportedError extends SQLBuilderError {}
export class SQLFileNotFoundError extends SQLSpecError {}
export class SQLFileParseError extends SQLSpecError {}
export class MigrationError extends SQLSpecError {}
export class PoolTimeoutError extends SQLSpecError {}
/** A statement the library recognises but cannot run on this path (for example COPY data inline in a script). */
export class UnsupportedOperationError extends SQLSpecError {}

type ErrorClass = new (message: string, fields?: DatabaseErrorFields) => DatabaseError;

const EXACT: Record<string, [ErrorClass, string]> = {
  "23505": [UniqueViolationError, "unique constraint violation"],
  "23503": [ForeignKeyViolationError, "foreign key violation"],
  "23502": [NotNullViolationError, "not-null constraint violation"],
  "23514": [CheckViolationError, "check constraint violation"],
  "40001": [SerializationConflictError, "serialization conflict"],
  "40P01": [DeadlockError, "deadlock detected"],
  "42501": [PermissionDeniedError, "permission denied"],
};

const BY_CLASS: Record<string, [ErrorClass, string]> = {
  "23": [IntegrityError, "integrity constraint violation"],
  "42": [SQLParsingError, "syntax error or undefined object"],
  "28": [PermissionDeniedError, "invalid authorization"],
  "08": [DatabaseConnectionError, "connection error"],
  "40": [TransactionError, "transaction rollback"],
  "22": [DataError, "data exception"],
  "53": [OperationalError, "insufficient resources"],
  "54": [OperationalError, "program limit exceeded"],
  "55": [OperationalError, "object not in prerequisite state"],
  "57": [OperationalError, "operator intervention"],
  "58": [OperationalError, "system error"],
  "25": [TransactionError, "invalid transaction state"],
  "3B": [TransactionError, "savepoint exception"],
};

/**
 * Maps a SQLSTATE to the typed error. `57014` (query_canceled) becomes QueryTimeoutError when the cancel came from
 * a timeout and OperationCancelledError otherwise; the caller says which through `cancelKind`.
 * The message never includes parameter values: only the server's own message.
 */
export function errorFromSqlState(
  databaseLabel: string,
  sqlState: string | undefined,
  serverMessage: string,
  fields: DatabaseErrorFields = {},
  cancelKind: "timeout" | "cancel" = "timeout",
): DatabaseError {
  const all = { ...fields, sqlState };
  if (sqlState === "57014") {
    const Cls = cancelKind === "cancel" ? OperationCancelledError : QueryTimeoutError;
    const what = cancelKind === "cancel" ? "query cancelled" : "query timeout";
    return new Cls(`${databaseLabel} ${what} [57014]: ${serverMessage}`, all);
  }
  const hit = sqlState ? (EXACT[sqlState] ?? BY_CLASS[sqlState.slice(0, 2)]) : undefined;
  const [Cls, what] = hit ?? [DatabaseError, "error"];
  return new Cls(`${databaseLabel} ${what}${sqlState ? ` [${sqlState}]` : ""}: ${serverMessage}`, all);
}
