/**
 * COPY staging for the upsert engine: rows COPYed into an `ON COMMIT DROP` temp table typed like the target, inside
 * the caller's transaction or one of the engine's own. The rows reach the adapter as an ObjectRows source, which the
 * shared encoder reads in place.
 */
import { quoteIdent } from "../core/identifiers.js";
import type { Adapter, CopyInOptions } from "./adapter.js";
import { ObjectRows, rowArray } from "./copy-rows.js";
import type { CallDeadline } from "./deadline.js";
import type { Session } from "./session.js";

type AnySession = Session<any>;
type Rows = readonly Readonly<Record<string, unknown>>[];

/**
 * The staging table's name. One fixed name keeps the CREATE and MERGE texts stable, so they stay cached as prepared
 * statements instead of churning the per-connection LRU; it is free again after each call (ON COMMIT DROP, or an
 * explicit DROP inside a caller's transaction). Stages that must outlive the call get numbered names.
 */
export const STAGE = "sqlspec_stage";
let stageSeq = 0;

/** A column name is one identifier even when it contains dots; always quoted. */
export function quoteIdentPg(name: string): string {
  return quoteIdent(name, "postgres");
}

/** `"col" type, …` for a recordset alias or a staging table. */
export function columnDefs(columns: readonly string[], types: readonly string[]): string {
  return columns.map((c, i) => `${quoteIdentPg(c)} ${types[i]}`).join(", ");
}

const owned = new WeakSet<AnySession>();

/** Whether the running inTransaction call opened the transaction itself (ON COMMIT DROP then frees the stage). */
export function ownsTransaction(session: AnySession): boolean {
  return owned.has(session);
}

/**
 * Runs fn in the caller's open transaction, or in a new one that this call commits (or rolls back on error). The
 * call's deadline bounds the BEGIN too (it can wait: SQLite's write lock, PGlite's one connection).
 */
export async function inTransaction<T>(
  session: AnySession,
  deadline: CallDeadline | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  if (session.inTransaction) return fn();
  return session.transaction(async () => {
    owned.add(session);
    try {
      return await fn();
    } finally {
      owned.delete(session);
    }
  }, deadline?.next());
}

/** COPYs rows into a fresh `ON COMMIT DROP` temp table typed like the target's columns; returns its name. */
export async function stageRows(
  session: AnySession,
  columns: readonly string[],
  types: readonly string[],
  rows: Rows,
  name?: string,
  options?: CopyInOptions,
): Promise<string> {
  const stage = name ?? `${STAGE}_${++stageSeq}`;
  // The table is created once the rows are encoded: a value that cannot be stored fails before any I/O.
  const beforeCopy = async (): Promise<void> => {
    await session.runCompiled(
      `CREATE TEMP TABLE ${quoteIdentPg(stage)} (${columnDefs(columns, types)}) ON COMMIT DROP`,
      [],
      "DDL",
      undefined,
      options,
    );
  };
  await copyRows(session, stage, columns, types, new ObjectRows(rows, columns), { ...options, beforeCopy });
  return stage;
}

export async function dropStage(session: AnySession, stage: string): Promise<void> {
  // Inside a caller's transaction the table would live until its commit; free it now.
  await session.runCompiled(`DROP TABLE IF EXISTS ${quoteIdentPg(stage)}`, [], "DDL");
}

export type RowSource = AsyncIterable<Readonly<Record<string, unknown>> | readonly unknown[]>;

export async function* arraysOfAsync(
  rows: RowSource,
  columns: readonly string[],
  first: unknown,
): AsyncGenerator<unknown[]> {
  yield rowArray(first, columns);
  for await (const row of rows) yield rowArray(row, columns);
}

/** COPY through the adapter; driver errors come back typed. */
export async function copyRows(
  session: AnySession,
  table: string,
  columns: readonly string[],
  types: readonly string[],
  source: Iterable<unknown[]> | AsyncIterable<unknown[]>,
  options?: CopyInOptions,
): Promise<number> {
  const copyIn = session.adapter.copyIn as NonNullable<Adapter<unknown>["copyIn"]>;
  try {
    return await copyIn.call(session.adapter, session.conn, table, [...columns], source, [...types], options);
  } catch (err) {
    throw session.mapError(err, `COPY ${table} FROM STDIN`);
  }
}
