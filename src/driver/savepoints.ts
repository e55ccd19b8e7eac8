/**
 * Named savepoints (`session.savepoint(name)`, `releaseSavepoint`, `rollbackToSavepoint`). A name is checked before
 * anything is sent: it must be a plain identifier, so it can never carry SQL, and it is quoted all the same. Names
 * are case-insensitive everywhere (sent lower-cased).
 */
import { ParameterError, TransactionError } from "../core/errors.js";
import { quoteIdent } from "../core/identifiers.js";
import type { Dialect } from "../core/types.js";

export type SavepointAction = "create" | "release" | "rollback";

/** What the check needs to know about the session. */
export interface SavepointTarget {
  readonly dialect: Dialect;
  readonly inTransaction: boolean;
  readonly adapter: { readonly capabilities: { readonly savepoints: boolean }; readonly databaseLabel: string };
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** PostgreSQL truncates identifiers beyond 63 bytes (two long names could become one); MySQL allows 64. */
const MAX_LENGTH = 63;
/** Nested transaction() calls and cursors name their savepoints with this prefix. */
const RESERVED = /^sqlspec_/i;

const VERB: Record<SavepointAction, string> = {
  create: "SAVEPOINT ",
  release: "RELEASE SAVEPOINT ",
  rollback: "ROLLBACK TO SAVEPOINT ",
};

/**
 * The statement for a savepoint action, or a typed error before any I/O: ParameterError for a name that is not a
 * plain identifier (letters, digits, `_`; at most 63 characters; not the reserved `sqlspec_` prefix), and
 * TransactionError outside a transaction or where the adapter has no savepoints. The value of a bad name is not
 * echoed (it may be user input).
 */
export function savepointStatement(target: SavepointTarget, action: SavepointAction, name: unknown): string {
  if (typeof name !== "string" || !IDENTIFIER.test(name) || name.length > MAX_LENGTH) {
    throw new ParameterError(
      `A savepoint name must be an identifier: a letter or _, then letters, digits or _, at most ${MAX_LENGTH} ` +
        `characters (got ${typeof name === "string" ? `a string of ${name.length} characters` : typeof name})`,
    );
  }
  if (RESERVED.test(name)) {
    throw new ParameterError("Savepoint names starting with sqlspec_ are reserved for nested transaction() calls");
  }
  if (!target.adapter.capabilities.savepoints) {
    throw new TransactionError(`${target.adapter.databaseLabel} has no savepoints`);
  }
  if (!target.inTransaction) {
    throw new TransactionError(`Savepoints exist only inside a transaction: call begin() or transaction() first`);
  }
  // Case-folded, then quoted: names are case-insensitive on every adapter, as MySQL and SQLite compare them and as
  // PostgreSQL folds unquoted ones (a quoted "A" there would not match a later "a").
  return VERB[action] + quoteIdent(name.toLowerCase(), target.dialect);
}
