/**
 * The error hierarchy. Every error sqlspec raises extends SQLSpecError; database errors are mapped from SQLSTATE
 * by `errorFromSqlState`, which every adapter (PostgreSQL, MySQL, …) shares.
 */
import { brandError } from "./brand.js";

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
  /** The SQL text of the statement that failed (placeholders, never values), when a statement failed. */
  declare statement?: string;
  declare cause: unknown;

  static {
    brandError(SQLSpecError, "SQLSpecError");
  }

  constructor(message: string, fields: DatabaseErrorFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    // sqlspec's classes carry a fixed name on their prototype; an application's subclass is named after itself.
    if (!Object.hasOwn(new.target.prototype, "name")) this.name = new.target.name;
    if (fields.sqlState !== undefined) this.sqlState = fields.sqlState;
    if (fields.detail !== undefined) this.detail = fields.detail;
    if (fields.hint !== undefined) this.hint = fields.hint;
    if (fields.constraint !== undefined) this.constraint = fields.constraint;
    if (fields.table !== undefined) this.table = fields.table;
    if (fields.column !== undefined) this.column = fields.column;
  }

  /** The SQLSTATE under the name node-postgres' errors use (`err.code`); undefined for the library's own errors. */
  get code(): string | undefined {
    return this.sqlState;
  }
}

// Errors raised by the database, mapped from SQLSTATE.
export class DatabaseError extends SQLSpecError {
  static {
    brandError(DatabaseError, "DatabaseError");
  }
}
export class IntegrityError extends DatabaseError {
  static {
    brandError(IntegrityError, "IntegrityError");
  }
}
export class UniqueViolationError extends IntegrityError {
  static {
    brandError(UniqueViolationError, "UniqueViolationError");
  }
}
export class ForeignKeyViolationError extends IntegrityError {
  static {
    brandError(ForeignKeyViolationError, "ForeignKeyViolationError");
  }
}
export class NotNullViolationError extends IntegrityError {
  static {
    brandError(NotNullViolationError, "NotNullViolationError");
  }
}
export class CheckViolationError extends IntegrityError {
  static {
    brandError(CheckViolationError, "CheckViolationError");
  }
}
/** The statement does not fit the schema or the rules of SQL (PEP 249's ProgrammingError). */
export class ProgrammingError extends DatabaseError {
  static {
    brandError(ProgrammingError, "ProgrammingError");
  }
}
/** A syntax error or an undefined object (42601, 42P01, 42703, 42883, … and the rest of class 42). */
export class SQLParsingError extends ProgrammingError {
  static {
    brandError(SQLParsingError, "SQLParsingError");
  }
}
/** The object to create already exists (42P07 table/relation, 42710, 42701 column, 42P06 schema, 42723 function, …). */
export class DuplicateObjectError extends ProgrammingError {
  static {
    brandError(DuplicateObjectError, "DuplicateObjectError");
  }
}
/** An expression's type does not fit its target (42804), e.g. a boolean inserted into an integer column. */
export class DatatypeMismatchError extends ProgrammingError {
  static {
    brandError(DatatypeMismatchError, "DatatypeMismatchError");
  }
}
/** A column reference that matches nothing it must (42P10), e.g. an ON CONFLICT target without a unique index. */
export class InvalidColumnReferenceError extends ProgrammingError {
  static {
    brandError(InvalidColumnReferenceError, "InvalidColumnReferenceError");
  }
}
/** A value for a GENERATED ALWAYS column (428C9). */
export class GeneratedAlwaysError extends ProgrammingError {
  static {
    brandError(GeneratedAlwaysError, "GeneratedAlwaysError");
  }
}
/** A subquery or a conflicting batch yields more rows than allowed (21000), e.g. ON CONFLICT touching a row twice. */
export class CardinalityViolationError extends ProgrammingError {
  static {
    brandError(CardinalityViolationError, "CardinalityViolationError");
  }
}
/** The server does not implement the feature (0A000). */
export class FeatureNotSupportedError extends DatabaseError {
  static {
    brandError(FeatureNotSupportedError, "FeatureNotSupportedError");
  }
}
export class PermissionDeniedError extends DatabaseError {
  static {
    brandError(PermissionDeniedError, "PermissionDeniedError");
  }
}
export class DatabaseConnectionError extends DatabaseError {
  static {
    brandError(DatabaseConnectionError, "DatabaseConnectionError");
  }
}
export class TransactionError extends DatabaseError {
  static {
    brandError(TransactionError, "TransactionError");
  }
}
export class SerializationConflictError extends TransactionError {
  static {
    brandError(SerializationConflictError, "SerializationConflictError");
  }
}
export class DeadlockError extends TransactionError {
  static {
    brandError(DeadlockError, "DeadlockError");
  }
}
export class DataError extends DatabaseError {
  static {
    brandError(DataError, "DataError");
  }
}
export class OperationalError extends DatabaseError {
  static {
    brandError(OperationalError, "OperationalError");
  }
}
export class QueryTimeoutError extends OperationalError {
  static {
    brandError(QueryTimeoutError, "QueryTimeoutError");
  }
}
export class OperationCancelledError extends OperationalError {
  static {
    brandError(OperationCancelledError, "OperationCancelledError");
  }
}
/** The database named does not exist (3D000). */
export class DatabaseNotFoundError extends OperationalError {
  static {
    brandError(DatabaseNotFoundError, "DatabaseNotFoundError");
  }
}

// Errors raised by the library itself.
export class NotFoundError extends SQLSpecError {
  static {
    brandError(NotFoundError, "NotFoundError");
  }
}
export class MultipleResultsFoundError extends SQLSpecError {
  static {
    brandError(MultipleResultsFoundError, "MultipleResultsFoundError");
  }
}
export class ImproperConfigurationError extends SQLSpecError {
  static {
    brandError(ImproperConfigurationError, "ImproperConfigurationError");
  }
}
export class MissingDependencyError extends ImproperConfigurationError {
  static {
    brandError(MissingDependencyError, "MissingDependencyError");
  }
  readonly packageName: string;
  constructor(packageName: string, feature: string, cause?: unknown) {
    super(
      `${feature} needs the npm package "${packageName}", which is not installed. Install it with: npm install ${packageName}`,
      { cause },
    );
    this.packageName = packageName;
  }
}
export class ParameterError extends SQLSpecError {
  static {
    brandError(ParameterError, "ParameterError");
  }
}
export class SQLBuilderError extends SQLSpecError {
  static {
    brandError(SQLBuilderError, "SQLBuilderError");
  }
}
export class DialectNotSupportedError extends SQLBuilderError {
  static {
    brandError(DialectNotSupportedError, "DialectNotSupportedError");
  }
}
export class SQLFileNotFoundError extends SQLSpecError {
  static {
    brandError(SQLFileNotFoundError, "SQLFileNotFoundError");
  }
}
export class SQLFileParseError extends SQLSpecError {
  static {
    brandError(SQLFileParseError, "SQLFileParseError");
  }
}
/** What a MigrationError knows beyond its message. */
export interface MigrationErrorFields extends DatabaseErrorFields {
  /** The migration's version as its file name writes it. */
  version?: string | undefined;
  /** Absolute path of the migration file. */
  file?: string | undefined;
  /**
   * Statements that ran and stayed (non-transactional DDL, e.g. MySQL, or `-- transactional: false`) before the one
   * that failed: the version is not recorded, so these may need cleaning up by hand.
   */
  statementsRun?: readonly string[] | undefined;
}

/** A migration could not be read, checked, or applied; `version` and `cause` say which and why. */
export class MigrationError extends SQLSpecError {
  declare version?: string;
  declare file?: string;
  declare statementsRun?: readonly string[];

  static {
    brandError(MigrationError, "MigrationError");
  }

  constructor(message: string, fields: MigrationErrorFields = {}) {
    super(message, fields);
    if (fields.version !== undefined) this.version = fields.version;
    if (fields.file !== undefined) this.file = fields.file;
    if (fields.statementsRun !== undefined) this.statementsRun = fields.statementsRun;
  }
}
export class PoolTimeoutError extends SQLSpecError {
  static {
    brandError(PoolTimeoutError, "PoolTimeoutError");
  }
}
/** A statement the library recognises but cannot run on this path (for example COPY data inline in a script). */
export class UnsupportedOperationError extends SQLSpecError {
  static {
    brandError(UnsupportedOperationError, "UnsupportedOperationError");
  }
}

type ErrorClass = new (message: string, fields?: DatabaseErrorFields) => DatabaseError;

const EXACT: Record<string, [ErrorClass, string]> = {
  "23505": [UniqueViolationError, "unique constraint violation"],
  "23503": [ForeignKeyViolationError, "foreign key violation"],
  "23502": [NotNullViolationError, "not-null constraint violation"],
  "23514": [CheckViolationError, "check constraint violation"],
  "40001": [SerializationConflictError, "serialization conflict"],
  "40P01": [DeadlockError, "deadlock detected"],
  "42501": [PermissionDeniedError, "permission denied"],
  "42P07": [DuplicateObjectError, "duplicate object"],
  "42710": [DuplicateObjectError, "duplicate object"],
  "42701": [DuplicateObjectError, "duplicate object"],
  "42P06": [DuplicateObjectError, "duplicate object"],
  "42P04": [DuplicateObjectError, "duplicate object"],
  "42723": [DuplicateObjectError, "duplicate object"],
  "42P03": [DuplicateObjectError, "duplicate object"],
  "42P05": [DuplicateObjectError, "duplicate object"],
  "42804": [DatatypeMismatchError, "datatype mismatch"],
  "42P10": [InvalidColumnReferenceError, "invalid column reference"],
  "428C9": [GeneratedAlwaysError, "generated column violation"],
  "21000": [CardinalityViolationError, "cardinality violation"],
  "0A000": [FeatureNotSupportedError, "feature not supported"],
  "3D000": [DatabaseNotFoundError, "database does not exist"],
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
  "21": [CardinalityViolationError, "cardinality violation"],
  "0A": [FeatureNotSupportedError, "feature not supported"],
};

/**
 * Words after which a quoted name in a server message is an identifier (kept), not a value (redacted):
 * `relation "t"`, `constraint "t_pkey"`, `column "c"`, MySQL's `for key 'PRIMARY'`, `at or near "SELEC"` (SQL text).
 */
const IDENTIFIER_BEFORE =
  /\b(?:relation|table|column|constraint|index|type|schema|function|procedure|routine|aggregate|operator|sequence|view|trigger|domain|database|role|user|extension|savepoint|cursor|statement|portal|parameter|encoding|collation|tablespace|policy|rule|publication|subscription|server|language|conversion|key|near)\s*$/i;
/** A value quoted after a colon that ends the message (`invalid input syntax for type integer: "…"`); may hold quotes. */
const TRAILING_VALUE = /: "[\s\S]*"$/;
/** `value "…" is out of range`, `"…" is out of range for type real`, `"…" is not a valid binary digit`. */
const VALUE_IS = /"[\s\S]*?"(?= is (?:out of range|not a valid))/g;
/** Byte values (`invalid byte sequence for encoding "UTF8": 0xe2 0x82`). */
const BYTES = /\b0x[0-9a-f]{2}(?: 0x[0-9a-f]{2})*/gi;
const QUOTED = /"[^"]*"|'(?:[^'\\]|\\.)*'/g;
const REDACTED = "[redacted]";

/**
 * Removes bound values from a server message, keeping its shape and the identifiers it names: a quoted segment is
 * redacted unless a word like `relation`, `column` or `constraint` introduces it. The server's own text stays on the
 * error's `cause` (and a row's values on `detail`).
 */
export function redactServerMessage(message: string): string {
  const out = message
    .replace(TRAILING_VALUE, `: "${REDACTED}"`)
    .replace(VALUE_IS, `"${REDACTED}"`)
    .replace(BYTES, REDACTED);
  return out.replace(QUOTED, (m: string, offset: number) => {
    if (m.length === REDACTED.length + 2 && m.slice(1, -1) === REDACTED) return m;
    if (IDENTIFIER_BEFORE.test(out.slice(Math.max(0, offset - 32), offset))) return m;
    const q = m[0] as string;
    return q + REDACTED + q;
  });
}

/**
 * Maps a SQLSTATE to the typed error. `57014` (query_canceled) becomes QueryTimeoutError when the cancel came from
 * a timeout and OperationCancelledError otherwise; the caller says which through `cancelKind`.
 * The message never includes bound values: the server's message with quoted values redacted (redactServerMessage).
 */
export function errorFromSqlState(
  databaseLabel: string,
  sqlState: string | undefined,
  serverMessage: string,
  fields: DatabaseErrorFields = {},
  cancelKind: "timeout" | "cancel" = "timeout",
): DatabaseError {
  const all = { ...fields, sqlState };
  serverMessage = redactServerMessage(serverMessage);
  if (sqlState === "57014") {
    const Cls = cancelKind === "cancel" ? OperationCancelledError : QueryTimeoutError;
    const what = cancelKind === "cancel" ? "query cancelled" : "query timeout";
    return new Cls(`${databaseLabel} ${what} [57014]: ${serverMessage}`, all);
  }
  const hit = sqlState ? (EXACT[sqlState] ?? BY_CLASS[sqlState.slice(0, 2)]) : undefined;
  const [Cls, what] = hit ?? [DatabaseError, "error"];
  return new Cls(`${databaseLabel} ${what}${sqlState ? ` [${sqlState}]` : ""}: ${serverMessage}`, all);
}
