/**
 * DuckDB errors → the typed hierarchy. @duckdb/node-api raises plain Errors whose message starts with DuckDB's error
 * class ("Constraint Error: …", "Parser Error: …"); there is no SQLSTATE and no code, so the class and the message
 * decide. Key values DuckDB quotes (`Duplicate key "id: 1"`) are redacted; the native error stays on `cause`.
 */
import {
  CheckViolationError,
  DatabaseConnectionError,
  DatabaseError,
  type DatabaseErrorFields,
  DataError,
  DuplicateObjectError,
  FeatureNotSupportedError,
  ForeignKeyViolationError,
  IntegrityError,
  NotNullViolationError,
  OperationalError,
  OperationCancelledError,
  ParameterError,
  PermissionDeniedError,
  QueryTimeoutError,
  redactServerMessage,
  SerializationConflictError,
  SQLParsingError,
  SQLSpecError,
  TransactionError,
  UniqueViolationError,
} from "../../core/errors.js";

type ErrorClass = new (message: string, fields?: DatabaseErrorFields) => DatabaseError;

const BY_CLASS: Record<string, [ErrorClass, string]> = {
  "Parser Error": [SQLParsingError, "syntax error"],
  "Catalog Error": [SQLParsingError, "undefined object"],
  "Binder Error": [SQLParsingError, "binder error"],
  "Conversion Error": [DataError, "conversion error"],
  // The Appender's cast of a value to its column ("Failed to cast value: Could not convert …").
  "Failed to cast value": [DataError, "conversion error"],
  "Invalid Input Error": [DataError, "invalid input"],
  "Out of Range Error": [DataError, "value out of range"],
  "Mismatch Type Error": [DataError, "datatype mismatch"],
  "TransactionContext Error": [TransactionError, "transaction error"],
  "Transaction Error": [TransactionError, "transaction conflict"],
  "Not implemented Error": [FeatureNotSupportedError, "feature not supported"],
  "Permission Error": [PermissionDeniedError, "permission denied"],
  "IO Error": [OperationalError, "I/O error"],
  "Out of Memory Error": [OperationalError, "out of memory"],
  "Connection Error": [DatabaseConnectionError, "connection error"],
  "Fatal Error": [DatabaseConnectionError, "fatal error"],
};

/** `key "id: 1"`, `duplicate key "1"`, `key "(a, b)=(1, 2)"`: the quoted text holds row values. */
const KEY_VALUE = /(key\s+)"[^"]*"/gi;

export function mapDuckdbError(err: unknown, kind?: "timeout" | "cancel"): SQLSpecError {
  if (err instanceof SQLSpecError) return err;
  const raw = err instanceof Error ? err.message : String(err);
  // The first line carries the error; the rest is the statement with a caret (SQL text, not values).
  const first = raw.split("\n", 1)[0] as string;
  const colon = first.indexOf(": ");
  const cls = colon > 0 ? first.slice(0, colon) : "";
  const body = redactServerMessage((colon > 0 ? first.slice(colon + 2) : first).replace(KEY_VALUE, '$1"[redacted]"'));
  const fields: DatabaseErrorFields = { cause: err };
  if (cls === "INTERRUPT Error") {
    return kind === "timeout"
      ? new QueryTimeoutError(`DuckDB query timeout: ${body}`, fields)
      : new OperationCancelledError(`DuckDB query cancelled: ${body}`, fields);
  }
  // The Appender reports constraint failures as "Failed to append: CHECK constraint failed …".
  if (
    cls === "Constraint Error" ||
    /constraint violation/i.test(body) ||
    (cls === "Failed to append" && /constraint/i.test(body))
  ) {
    return constraintError(body, fields);
  }
  if (cls === "Catalog Error" && /already exists/i.test(body)) {
    return new DuplicateObjectError(`DuckDB duplicate object: ${body}`, fields);
  }
  if (err instanceof TypeError || err instanceof RangeError) return new ParameterError(`DuckDB: ${body}`, fields);
  // Optimistic concurrency: a row or catalog entry changed by another open transaction ("Conflict on update!",
  // "Catalog write-write conflict on …"). PostgreSQL reports this as 40001; retrying the transaction can succeed.
  if ((cls === "TransactionContext Error" || cls === "Transaction Error") && /conflict/i.test(body)) {
    return new SerializationConflictError(`DuckDB serialization conflict: ${body}`, fields);
  }
  const hit = BY_CLASS[cls];
  if (hit === undefined) return new DatabaseError(`DuckDB error: ${cls ? `${cls}: ` : ""}${body}`, fields);
  return new hit[0](`DuckDB ${hit[1]}: ${body}`, fields);
}

function constraintError(body: string, fields: DatabaseErrorFields): DatabaseError {
  if (/primary key|unique/i.test(body))
    return new UniqueViolationError(`DuckDB unique constraint violation: ${body}`, fields);
  if (/foreign key/i.test(body)) return new ForeignKeyViolationError(`DuckDB foreign key violation: ${body}`, fields);
  const nn = /NOT NULL constraint failed: (?:([^\s.]+)\.)?(\S+)/.exec(body);
  if (nn !== null) {
    return new NotNullViolationError(`DuckDB not-null constraint violation: ${body}`, {
      ...fields,
      ...(nn[1] !== undefined ? { table: nn[1] } : {}),
      column: nn[2] as string,
    });
  }
  if (/CHECK constraint/i.test(body))
    return new CheckViolationError(`DuckDB check constraint violation: ${body}`, fields);
  return new IntegrityError(`DuckDB integrity constraint violation: ${body}`, fields);
}

/**
 * An error the caller's own row source threw (loadRecords, upsert from an iterable): not DuckDB's, so not a
 * DatabaseError. It stays on `cause`, as on PostgreSQL; sqlspec's own errors (a deadline, a bad value) pass as they are.
 */
export function rowSourceError(err: unknown): SQLSpecError {
  if (err instanceof SQLSpecError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SQLSpecError(`DuckDB Appender: the row source failed: ${message}`, { cause: err });
}

/** After these the connection (or the database) cannot be trusted. */
export function isFatalDuckdbError(err: unknown): boolean {
  const m = err instanceof Error ? err.message : "";
  return m.startsWith("FATAL Error") || m.startsWith("Fatal Error") || m.startsWith("Connection Error");
}
