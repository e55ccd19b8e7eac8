/**
 * The error hierarchy. Every error sqlspec raises extends SQLSpecError; database errors are mapped from SQLSTATE
 * by `errorFromSqlState`, which every adapter (PostgreSQL, MySQL, …) shares.
 */
import { brandError } from "./brand.js";

/** The optional fields an error's constructor copies onto it (see {@link SQLSpecError} for their meaning). */
export interface DatabaseErrorFields {
  /** Five-character SQLSTATE, e.g. `"23505"`. */
  sqlState?: string | undefined;
  /** The server's detail line (PostgreSQL `DETAIL`); may contain row values. */
  detail?: string | undefined;
  /** The server's hint (PostgreSQL `HINT`). */
  hint?: string | undefined;
  /** Name of the violated constraint or key. */
  constraint?: string | undefined;
  /** Table the error concerns. */
  table?: string | undefined;
  /** Column the error concerns. */
  column?: string | undefined;
  /** The underlying error (the driver's own error object for database errors). */
  cause?: unknown | undefined;
}

/**
 * Base class of every error sqlspec raises: catch it for all of them, or a subclass for one situation.
 * Fields are set only when known (library-raised errors usually carry none of the database fields).
 * Messages never contain bound values.
 */
export class SQLSpecError extends Error {
  // `declare`: set only when present, so logged errors don't list a row of undefined fields.
  /**
   * Five-character SQLSTATE from the server (`"23505"`), or mapped from the engine's own code (MySQL errno,
   * SQLite result code); absent on errors sqlspec raises itself.
   */
  declare sqlState?: string;
  /** The server's detail line (PostgreSQL `DETAIL`, e.g. `Key (id)=(1) already exists.`); may contain row values. */
  declare detail?: string;
  /** The server's hint (PostgreSQL `HINT`), when it gave one. */
  declare hint?: string;
  /** Name of the constraint or key the statement violated (integrity errors), when the server names it. */
  declare constraint?: string;
  /** Table the error concerns, when the server names one. */
  declare table?: string;
  /** Column the error concerns, when the server names one. */
  declare column?: string;
  /** The SQL text of the statement that failed (placeholders, never values), when a statement failed. */
  declare statement?: string;
  /** The underlying error: for database errors the driver's error, which keeps the server's unredacted message. */
  declare cause: unknown;

  static {
    brandError(SQLSpecError, "SQLSpecError");
  }

  /**
   * @param message - Human-readable text; keep bound values out of it.
   * @param fields - SQLSTATE, server details and `cause`; only the fields given are set.
   */
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
/**
 * An error the database reported. Raised as is for a SQLSTATE (or engine code) no subclass covers; catch it for every
 * server-side failure.
 */
export class DatabaseError extends SQLSpecError {
  static {
    brandError(DatabaseError, "DatabaseError");
  }
}
/** A constraint violation (SQLSTATE class 23; SQLite `SQLITE_CONSTRAINT`). The subclasses name the constraint kind. */
export class IntegrityError extends DatabaseError {
  static {
    brandError(IntegrityError, "IntegrityError");
  }
}
/**
 * A unique or primary-key violation (SQLSTATE 23505; MySQL errno 1062; SQLite
 * `SQLITE_CONSTRAINT_UNIQUE`/`_PRIMARYKEY`). `constraint` names the key when the server does.
 */
export class UniqueViolationError extends IntegrityError {
  static {
    brandError(UniqueViolationError, "UniqueViolationError");
  }
}
/**
 * A foreign-key violation: the referenced row is missing, or referencing rows still exist (SQLSTATE 23503; MySQL errno
 * 1451/1452).
 */
export class ForeignKeyViolationError extends IntegrityError {
  static {
    brandError(ForeignKeyViolationError, "ForeignKeyViolationError");
  }
}
/** NULL, or no value and no default, for a NOT NULL column (SQLSTATE 23502; MySQL errno 1048/1364). */
export class NotNullViolationError extends IntegrityError {
  static {
    brandError(NotNullViolationError, "NotNullViolationError");
  }
}
/** A CHECK constraint rejected the row (SQLSTATE 23514; MySQL errno 3819, MariaDB 4025). */
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
/**
 * A missing privilege or failed authentication (SQLSTATE 42501 and class 28; MySQL access-denied errnos; SQLite
 * `SQLITE_READONLY`/`_AUTH`/`_PERM`).
 */
export class PermissionDeniedError extends DatabaseError {
  static {
    brandError(PermissionDeniedError, "PermissionDeniedError");
  }
}
/**
 * The connection could not be opened or was lost (SQLSTATE class 08, a closed socket, a terminated backend, a closed
 * pool or handle). The session cannot be used afterwards: open a new one.
 */
export class DatabaseConnectionError extends DatabaseError {
  static {
    brandError(DatabaseConnectionError, "DatabaseConnectionError");
  }
}
/**
 * A transaction could not proceed (SQLSTATE classes 40, 25, 3B), or the transaction API was misused: `begin()` inside
 * an open transaction, `commit()`/`rollback()` with none open, an unknown isolation level, nesting on an engine without
 * savepoints.
 */
export class TransactionError extends DatabaseError {
  static {
    brandError(TransactionError, "TransactionError");
  }
}
/**
 * A serializable or repeatable-read transaction conflicted with a concurrent one (SQLSTATE 40001): retry the whole
 * transaction.
 */
export class SerializationConflictError extends TransactionError {
  static {
    brandError(SerializationConflictError, "SerializationConflictError");
  }
}
/**
 * The server broke a deadlock by aborting this transaction (SQLSTATE 40P01; MySQL errno 1213): retry the whole
 * transaction.
 */
export class DeadlockError extends TransactionError {
  static {
    brandError(DeadlockError, "DeadlockError");
  }
}
/**
 * A value that cannot be stored or converted (SQLSTATE class 22: out of range, invalid text for the type, division by
 * zero; MySQL truncation errnos). sqlspec raises it too when an int8 beyond ±2^53 − 1 is read with `int8: "number"`.
 */
export class DataError extends DatabaseError {
  static {
    brandError(DataError, "DataError");
  }
}
/**
 * A server condition outside the statement's control (SQLSTATE classes 53, 54, 55, 57, 58: resources, limits, object
 * state, operator intervention; MySQL lock wait timeout; SQLite disk, memory and lock errors).
 */
export class OperationalError extends DatabaseError {
  static {
    brandError(OperationalError, "OperationalError");
  }
}
/**
 * The statement outlived its time limit (`timeoutMs`, the pool's `statementTimeoutMs`, or a server timeout) and was
 * cancelled (SQLSTATE 57014; MySQL errno 3024, MariaDB 1969).
 */
export class QueryTimeoutError extends OperationalError {
  static {
    brandError(QueryTimeoutError, "QueryTimeoutError");
  }
}
/**
 * The operation was cancelled through its `AbortSignal`: before it was sent, while waiting for a connection or lock, or
 * on the server (SQLSTATE 57014 not caused by a timeout).
 */
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
/** No row where exactly one was required (`selectOne`, `selectValue`, `SQLResult.one()`, `SQLResult.scalar()`). */
export class NotFoundError extends SQLSpecError {
  static {
    brandError(NotFoundError, "NotFoundError");
  }
}
/**
 * More than one row where at most one was allowed (`selectOne`, `selectOneOrNull`, `selectValue`, `selectValueOrNull`,
 * `SQLResult.one()`).
 */
export class MultipleResultsFoundError extends SQLSpecError {
  static {
    brandError(MultipleResultsFoundError, "MultipleResultsFoundError");
  }
}
/**
 * A configuration mistake, detected before any I/O: a duplicate `bindKey`, a config that was never passed to
 * `SQLSpec.addConfig`, an invalid pool or driver-feature option.
 */
export class ImproperConfigurationError extends SQLSpecError {
  static {
    brandError(ImproperConfigurationError, "ImproperConfigurationError");
  }
}
/**
 * An optional peer package (`pg`, `mysql2`, `better-sqlite3`, …) is not installed; the message says what to `npm
 * install`.
 */
export class MissingDependencyError extends ImproperConfigurationError {
  static {
    brandError(MissingDependencyError, "MissingDependencyError");
  }
  /** The npm package to install, e.g. `"pg"`. */
  readonly packageName: string;
  /**
   * @param packageName - The npm package that is missing.
   * @param feature - What needed it, for the message (e.g. `"PgConfig"`).
   * @param cause - The import error.
   */
  constructor(packageName: string, feature: string, cause?: unknown) {
    super(
      `${feature} needs the npm package "${packageName}", which is not installed. Install it with: npm install ${packageName}`,
      { cause },
    );
    this.packageName = packageName;
  }
}
/**
 * Parameters that do not fit the statement: a count mismatch, a missing or unused name, or a value the adapter cannot
 * bind. Raised before anything reaches the database.
 */
export class ParameterError extends SQLSpecError {
  static {
    brandError(ParameterError, "ParameterError");
  }
}
/**
 * A builder call that cannot produce valid SQL (no table, no ON condition, an invalid identifier, rows with no columns,
 * …). Raised by the builder call or when the statement is built, before any I/O.
 */
export class SQLBuilderError extends SQLSpecError {
  static {
    brandError(SQLBuilderError, "SQLBuilderError");
  }
}
/**
 * The dialect cannot express the statement (MERGE on SQLite, MySQL or DuckDB; MERGE on PostgreSQL < 15 that no INSERT …
 * ON CONFLICT rewrite covers), or the dialect name is unknown. The message names the alternative.
 */
export class DialectNotSupportedError extends SQLBuilderError {
  static {
    brandError(DialectNotSupportedError, "DialectNotSupportedError");
  }
}
/**
 * A named query, or a `.sql` file or folder, that does not exist; for a query name the message lists the nearest names.
 */
export class SQLFileNotFoundError extends SQLSpecError {
  static {
    brandError(SQLFileNotFoundError, "SQLFileNotFoundError");
  }
}
/**
 * A malformed `.sql` file: an invalid or duplicate `-- name:` (in one file or across files), SQL before the first name,
 * an unknown `-- dialect:`, an empty body. The message gives file and line.
 */
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
  /** The migration's version as its file name writes it. */
  declare version?: string;
  /** Absolute path of the migration file. */
  declare file?: string;
  /** Statements that ran and stayed before the one that failed (see {@link MigrationErrorFields.statementsRun}). */
  declare statementsRun?: readonly string[];

  static {
    brandError(MigrationError, "MigrationError");
  }

  /**
   * @param message - What went wrong.
   * @param fields - Version, file, statements run, and the database fields.
   */
  constructor(message: string, fields: MigrationErrorFields = {}) {
    super(message, fields);
    if (fields.version !== undefined) this.version = fields.version;
    if (fields.file !== undefined) this.file = fields.file;
    if (fields.statementsRun !== undefined) this.statementsRun = fields.statementsRun;
  }
}
/** No connection became free within the pool's `acquireTimeoutMs`, or the pool was closed (before or while waiting). */
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

/**
 * A statement of `session.executeStack()` failed. `index` is its position in the stack and `cause` its own typed
 * error (UniqueViolationError, ParameterError, …; `sqlState` is copied). `results` are the statements that ran
 * before it and stayed committed: always empty unless the stack ran with `{ transaction: false }`.
 */
export class StackExecutionError extends SQLSpecError {
  /** The failing statement's position in the stack (-1 when not known). */
  index = -1;
  /** Results of the statements that ran before the failure and stayed (only with `{ transaction: false }`). */
  results: readonly unknown[] = [];
  static {
    brandError(StackExecutionError, "StackExecutionError");
  }

  /** The error for statement `index` of `count` failing with `cause`. */
  static at(index: number, count: number, cause: SQLSpecError, results: readonly unknown[] = []): StackExecutionError {
    const e = new StackExecutionError(
      `Statement ${index} of the stack (${count} statements) failed: ${cause.message}`,
      {
        cause,
        sqlState: cause.sqlState,
        constraint: cause.constraint,
        table: cause.table,
        column: cause.column,
      },
    );
    e.index = index;
    e.results = results;
    return e;
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
 * Cuts bound string values out of a message, ignoring case: the server echoes some input back case-folded, as an
 * identifier (`$1::regclass` → `relation "sk_live_x" does not exist`), where redactServerMessage keeps it. Strings
 * shorter than `minLength` are left alone (they would match ordinary words).
 */
export function scrubBoundValues(message: string, values: readonly unknown[], minLength = 4): string {
  let out = message;
  for (const v of values) {
    if (typeof v === "string") {
      if (v.length >= minLength) out = cutInsensitive(out, v);
    } else if (Array.isArray(v)) {
      out = scrubBoundValues(out, v, minLength);
    }
  }
  return out;
}

function cutInsensitive(message: string, value: string): string {
  if (message.includes(value)) message = message.split(value).join(REDACTED);
  const lower = value.toLowerCase();
  if (lower.length !== value.length || !message.toLowerCase().includes(lower)) return message;
  let out = "";
  let from = 0;
  const hay = message.toLowerCase();
  for (let at = hay.indexOf(lower); at !== -1; at = hay.indexOf(lower, from)) {
    out += message.slice(from, at) + REDACTED;
    from = at + lower.length;
  }
  return out + message.slice(from);
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
