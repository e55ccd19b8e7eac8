/**
 * `session.loadRecords`: plain bulk load. COPY where the adapter has it (streamed, bounded memory), for an array or an
 * async iterable of rows (objects, or arrays in `columns` order); one COPY is one atomic statement. Without COPY,
 * INSERT … SELECT from JSON documents of JSON_CHUNK_ROWS rows, in one transaction; on INSERT-form engines, their own
 * loader or multi-row VALUES (native-bulk.ts).
 */
import { insertInto } from "../builder/insert.js";
import { getRenderer } from "../core/ast/render.js";
import { ParameterError, SQLBuilderError } from "../core/errors.js";
import { parseName, quoteIdent, quoteQualified } from "../core/identifiers.js";
import type { ResultMetadata, SQLResult } from "../core/result.js";
import type { ColumnOf, Row } from "../core/types.js";
import type { BulkHost } from "./bulk-host.js";
import { columnsOf, emptyResult, JSON_CHUNK_ROWS, result, runAll, runJson } from "./bulk-run.js";
import { ObjectRows } from "./copy-rows.js";
import { arraysOfAsync, copyRows, inTransaction, type RowSource } from "./copy-staging.js";
import { CallDeadline } from "./deadline.js";
import { nativeBulkLoad } from "./native-bulk.js";
import type { OnProgress } from "./progress.js";
import { type ColumnPlan, catalogTypes, checkRowValues, type RefusedValue, rowColumns } from "./upsert-checks.js";
import { chunkRows, insertNode } from "./upsert-statements.js";

type Rows = readonly Readonly<Record<string, unknown>>[];

/** Options of `session.loadRecords`; `R` is the row type, so `columns` names its columns. */
export interface LoadRecordsOptions<R extends object = Row> {
  /** Columns to load, in order (required for value-array rows). Default: the first row's keys. */
  columns?: readonly ColumnOf<R>[];
  /**
   * Empty the table first, in the same transaction as the load (a savepoint inside the caller's transaction): when
   * the load fails, the old rows are back. PostgreSQL runs `TRUNCATE` (an ACCESS EXCLUSIVE lock until commit; it
   * fails on a table other tables reference by foreign key); MySQL/MariaDB, whose TRUNCATE commits at once, SQLite and
   * DuckDB run `DELETE FROM`. With no rows at all the table is emptied.
   */
  overwrite?: boolean;
  /** Rows sent so far, at most every ~100 ms (as the source is read, or during a COPY) and once at the end. */
  onProgress?: OnProgress;
  /** Stops the load (OperationCancelledError); the COPY is cancelled on the server, nothing is written. */
  signal?: AbortSignal;
  /** The whole load's time limit (QueryTimeoutError, nothing written); refused where statements cannot be interrupted. */
  timeoutMs?: number;
}

/**
 * Plain bulk load: COPY where the adapter has it (streamed, bounded memory), for an array or an async iterable of
 * rows (objects, or arrays in `columns` order). One COPY is one atomic statement. Without COPY, INSERT … SELECT from
 * JSON documents of JSON_CHUNK_ROWS rows, in one transaction.
 */
export async function loadRecords(
  host: BulkHost,
  table: string,
  rows: readonly (Readonly<Record<string, unknown>> | readonly unknown[])[] | RowSource,
  options?: LoadRecordsOptions,
  started = performance.now(),
): Promise<SQLResult> {
  if (options?.overwrite !== undefined && typeof options.overwrite !== "boolean") {
    throw new ParameterError(`loadRecords() overwrite must be true or false, got ${typeof options.overwrite}`);
  }
  // One limit for the whole call (from `started`, also when it starts over).
  const deadline = new CallDeadline(options, started);
  const path = parseName(table, "loadRecords() table name");
  // Nothing to load or empty: the connection is not touched (as loadRows returns for it).
  if (Array.isArray(rows) && rows.length === 0 && options?.overwrite !== true)
    return emptyResult("COPY", started, "copy");
  if (options?.overwrite !== true) return loadRows(host, table, path, rows, options, started, deadline);
  // The table is emptied and loaded in one transaction: a failed load rolls the emptying back too.
  const clear = getRenderer(host.dialect).transactionalTruncate
    ? `TRUNCATE TABLE ${quoteQualified(table, host.dialect)}`
    : `DELETE FROM ${quoteQualified(table, host.dialect)}`;
  return inTransaction(host, deadline, async () => {
    await host.run(clear, [], "DELETE", undefined, deadline.next());
    return loadRows(host, table, path, rows, options, started, deadline);
  });
}

async function loadRows(
  host: BulkHost,
  table: string,
  path: readonly string[],
  rows: readonly (Readonly<Record<string, unknown>> | readonly unknown[])[] | RowSource,
  options: LoadRecordsOptions | undefined,
  started: number,
  deadline: CallDeadline,
): Promise<SQLResult> {
  let first: unknown;
  let rest: RowSource | undefined;
  if (Array.isArray(rows)) {
    if (rows.length === 0) return emptyResult("COPY", started, "copy");
    first = rows[0];
  } else {
    // Peek the first row for the column list, then replay it in front of the rest.
    const it = (rows as RowSource)[Symbol.asyncIterator]();
    const head = await it.next();
    if (head.done) return emptyResult("COPY", started, "copy");
    first = head.value;
    rest = { [Symbol.asyncIterator]: () => it };
  }
  let columns = options?.columns;
  if (columns === undefined) {
    if (Array.isArray(first)) throw new SQLBuilderError("loadRecords with array rows needs { columns: [...] }");
    columns = rest === undefined ? rowColumns(rows as Rows) : Object.keys(first as object);
  }
  if (columns.length === 0) throw new SQLBuilderError(`loadRecords into "${table}": the rows have no columns`);
  const all = rest === undefined ? (rows as readonly unknown[]) : undefined;
  const bulk = host.bulk;
  const staging = getRenderer(host.dialect).staging;
  if (staging === undefined && all !== undefined) checkRowValues(all, columns, 0, bulk?.refusedValue);
  if (bulk !== undefined) {
    const check = staging === undefined ? columns : undefined;
    const source = all ?? replay(first, rest as RowSource, check, bulk.refusedValue);
    return nativeBulkLoad(host, bulk, table, source, columns, started, deadline);
  }
  if (staging === undefined) {
    if (all === undefined) throw new SQLBuilderError("loadRecords from an async iterable needs COPY or a JSON source");
    return nativeInsert(host, table, all, columns, started, deadline);
  }
  const types = await catalogTypes(columnsOf(host), table, columns);
  if (host.capabilities.copy && host.canCopyIn) {
    const source = all !== undefined ? new ObjectRows(all, columns) : arraysOfAsync(rest as RowSource, columns, first);
    const count = await copyRows(host, table, columns, types, source, deadline.next());
    const sql = `COPY ${quoteQualified(table, host.dialect)} (${columns.map((c) => quoteIdent(c, host.dialect)).join(", ")}) FROM STDIN`;
    return result({
      rowsAffected: count,
      operationType: "COPY",
      statement: sql,
      started,
      metadata: { strategy: "copy" },
    });
  }
  return jsonLoad(host, path, all ?? replay(first, rest as RowSource), columns, types, started, deadline);
}

/** loadRecords without COPY: `INSERT INTO t (cols) SELECT … FROM json_populate_recordset(…)` per chunk. */
async function jsonLoad(
  host: BulkHost,
  path: readonly string[],
  rows: readonly unknown[] | AsyncIterable<unknown>,
  columns: readonly string[],
  types: readonly string[],
  started: number,
  deadline: CallDeadline,
): Promise<SQLResult> {
  const version = (await host.catalog.getVersion()).versionNum;
  const ctx = version > 0 ? { serverVersionNum: version } : undefined;
  const plan: ColumnPlan = { columns: [...columns], on: [], update: [] };
  const metadata: ResultMetadata = { strategy: "json" };
  return inTransaction(host, deadline, async () => {
    let total = 0;
    let statement = "";
    const flush = async (chunk: Rows): Promise<void> => {
      const { conflict: _, ...node } = insertNode(path, plan, chunk);
      const r = await runJson(host, node, ctx, types, "INSERT", metadata, deadline);
      total += r.rowsAffected;
      statement = r.statement;
    };
    let chunk: Record<string, unknown>[] = [];
    const add = async (row: unknown): Promise<void> => {
      chunk.push(
        Array.isArray(row) ? Object.fromEntries(columns.map((c, i) => [c, row[i]])) : pick(row as Row, columns),
      );
      if (chunk.length >= JSON_CHUNK_ROWS) {
        await flush(chunk);
        chunk = [];
      }
    };
    if (Array.isArray(rows)) for (const row of rows) await add(row);
    else for await (const row of rows as AsyncIterable<unknown>) await add(row);
    if (chunk.length > 0) await flush(chunk);
    return result({ rowsAffected: total, operationType: "COPY", statement, started, metadata });
  });
}

/** loadRecords on a dialect with neither COPY nor a rows source: the builder's multi-row INSERT, chunked. */
async function nativeInsert(
  host: BulkHost,
  table: string,
  rows: readonly unknown[],
  columns: readonly string[],
  started: number,
  deadline: CallDeadline,
): Promise<SQLResult> {
  const objects = rows.map((r) =>
    Array.isArray(r) ? Object.fromEntries(columns.map((c, i) => [c, r[i]])) : pick(r as Row, columns),
  );
  const statements = chunkRows(objects, columns.length, host.dialect).map((chunk) =>
    insertInto(table, undefined, host.dialect).values(chunk),
  );
  return runAll(host, statements, "COPY", { strategy: "insert", rows: rows.length }, started, deadline);
}

/** `first` then `rest`; with `check`, each row's values checked as checkRowValues does. */
async function* replay(
  first: unknown,
  rest: RowSource,
  check?: readonly string[],
  refused?: RefusedValue,
): AsyncGenerator<unknown> {
  if (check) checkRowValues([first], check, 0, refused);
  yield first;
  let i = 1;
  for await (const row of rest) {
    if (check) checkRowValues([row], check, i++, refused);
    yield row;
  }
}

function pick(row: Readonly<Record<string, unknown>>, columns: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns) out[c] = row[c] ?? null;
  return out;
}
