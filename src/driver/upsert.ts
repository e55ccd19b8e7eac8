/**
 * The bulk upsert engine: `session.upsert`, `session.loadRecords`, and COPY staging for `session.execute(merge…
 * using(rows))`. Strategy choice lives here, once, for every adapter; adapters only provide `query` and `copyIn`.
 *
 * PostgreSQL 15, measured on this machine (2 cores, half-new/half-existing rows into (id int pk, name text, price
 * numeric, stock int, updated_at timestamptz), one transaction, raw pg):
 *   N      MERGE json_to_recordset   MERGE jsonb_to_recordset   COPY → ON COMMIT DROP temp table → MERGE
 *   1k            8.8 ms                    13.8 ms                   9.5 ms
 *   2k           16.8 ms                    27.6 ms                  12.9 ms
 *   10k          78.8 ms                   131.0 ms                  35.2 ms
 *   100k          951 ms (10k chunks 819)  1866 ms                    456 ms
 * One JSON parameter wins while COPY's fixed cost (BEGIN, CREATE, COPY, MERGE, COMMIT: five round trips plus
 * temp-table catalog work, ~6 ms) dominates; past it COPY staging wins at every size, and chunking the JSON never
 * catches up. `json_to_recordset` beats `jsonb_to_recordset` ~1.7× (no jsonb value is built). Through this engine
 * (session, catalog types, stable prepared statements) the two cross at ~2,000 rows on the server; on PGlite (PG 18
 * in WASM, COPY from a Blob) at ~1,500, where COPY's lead stays smaller (1.2–1.4× at 3k–100k).
 */

import { insertInto } from "../builder/insert.js";
import { hasNode } from "../core/ast/nodes.js";
import { getRenderer } from "../core/ast/render.js";
import { rowsOf } from "../core/ast/rewrite.js";
import type { QueryBuilder } from "../core/builder-protocol.js";
import { SQLBuilderError } from "../core/errors.js";
import { quoteQualified as quoteQualifiedFor } from "../core/identifiers.js";
import { type BulkStrategyName, type ResultMetadata, SQLResult } from "../core/result.js";
import type { ColumnOf, Dialect, OperationType, Row } from "../core/types.js";
import { encodeRecordsJson } from "../core/values.js";
import type { ColumnInfo } from "./adapter.js";
import { ObjectRows } from "./copy-rows.js";
import {
  arraysOfAsync,
  columnDefs,
  copyRows,
  dropStage,
  inTransaction,
  ownsTransaction,
  quoteIdentPg,
  type RowSource,
  STAGE,
  stageRows,
} from "./copy-staging.js";
import { CallDeadline } from "./deadline.js";
import { bulkOf, type NativeBulkStrategy, nativeBulkLoad, nativeBulkUpsert } from "./native-bulk.js";
import type { OnProgress } from "./progress.js";
import type { Session } from "./session.js";

/** `values` / `json` / `copy` are the INSERT-form engines' sources (MySQL/MariaDB, see native-bulk.ts). */
export type UpsertStrategy = "auto" | "merge-json" | "copy-merge" | "insert-on-conflict" | NativeBulkStrategy;

/** Options of `session.upsert`; `R` is the row type, so `on` and `update` name its columns. */
export interface UpsertOptions<R extends object = Row> {
  /** Key columns: the MERGE ON equality / the ON CONFLICT target (a unique key of the table). */
  on: readonly ColumnOf<R>[];
  /** Columns updated on a match. Default: every data column that is not a key. `[]` = insert-only. */
  update?: readonly ColumnOf<R>[];
  /**
   * Force a strategy; default `"auto"` (the fastest for the server and row count). An unknown name raises
   * SQLBuilderError; a strategy the server cannot run (MERGE before PostgreSQL 15, a PostgreSQL strategy elsewhere)
   * too, before any I/O.
   */
  strategy?: UpsertStrategy;
  /** Rows above which PostgreSQL stages through COPY. Default: measured per engine (see DEFAULT_COPY_THRESHOLD). */
  copyThreshold?: number;
  /** Rows sent so far, at most every ~100 ms (during a COPY) and once at the end. */
  onProgress?: OnProgress;
  /** Stops the upsert (OperationCancelledError); the statement running is cancelled on the server, nothing is written. */
  signal?: AbortSignal;
  /** The whole upsert's time limit (QueryTimeoutError, nothing written); refused where statements cannot be interrupted. */
  timeoutMs?: number;
}

/** Options of `session.loadRecords`; `R` is the row type, so `columns` names its columns. */
export interface LoadRecordsOptions<R extends object = Row> {
  /** Columns to load, in order (required for value-array rows). Default: the first row's keys. */
  columns?: readonly ColumnOf<R>[];
  /** Rows sent so far, at most every ~100 ms (as the source is read, or during a COPY) and once at the end. */
  onProgress?: OnProgress;
  /** Stops the load (OperationCancelledError); the COPY is cancelled on the server, nothing is written. */
  signal?: AbortSignal;
  /** The whole load's time limit (QueryTimeoutError, nothing written); refused where statements cannot be interrupted. */
  timeoutMs?: number;
}

/** Measured crossovers (see the header): above this many rows COPY staging beats one JSON-parameter MERGE. */
export const DEFAULT_COPY_THRESHOLD = { server: 2000, pglite: 1500 } as const;

type AnySession = Session<any>;
type Rows = readonly Readonly<Record<string, unknown>>[];

// ---------------------------------------------------------------------------------------------------- upsert

/**
 * Inserts or updates `rows` by the `on` key with the fastest strategy for the server; `metadata.strategy` says
 * which ran. Atomic: it runs in its own transaction, or inside the caller's when one is open.
 */
export async function upsertRows(
  session: AnySession,
  table: string,
  rows: Rows,
  options: UpsertOptions,
): Promise<SQLResult> {
  const started = performance.now();
  const deadline = new CallDeadline(options);
  const on = options?.on ?? [];
  if (on.length === 0) throw new SQLBuilderError(`upsert into "${table}" needs { on: [key columns] }`);
  const strategy = options.strategy ?? "auto";
  if (!STRATEGIES.has(strategy)) {
    throw new SQLBuilderError(`Unknown upsert strategy "${strategy}"; use one of: ${[...STRATEGIES].join(", ")}`);
  }
  if (rows.length === 0) return emptyResult(session.dialect === "postgres" ? "MERGE" : "INSERT", started, "none");
  const columns = rowColumns(rows);
  const plan = planColumns(table, columns, on, options.update);

  if (session.dialect !== "postgres") {
    const bulk = bulkOf(session);
    if (
      bulk !== undefined &&
      strategy !== "merge-json" &&
      strategy !== "copy-merge" &&
      strategy !== "insert-on-conflict"
    ) {
      return nativeBulkUpsert(session, bulk, table, rows, plan, strategy, started, deadline);
    }
    if (strategy === "merge-json" || strategy === "copy-merge") {
      throw new SQLBuilderError(
        `upsert strategy "${strategy}" needs PostgreSQL; ${session.dialect} uses its native upsert`,
      );
    }
    return nativeUpsert(session, table, rows, plan, started, deadline);
  }

  const catalog = await catalogColumns(session, table);
  const types = columnTypes(table, columns, catalog);
  const version = (await session.dataDictionary.getVersion()).versionNum;
  const hasMerge = version === 0 || version >= 150000;
  const threshold = copyThresholdFor(session, options);
  const canCopy = typeof session.adapter.copyIn === "function";

  const { form, staged, name } = chooseStrategy(strategy, rows.length, threshold, hasMerge, canCopy, session);
  const target = quoteTable(table);
  const metadata = { strategy: name, rows: rows.length };
  if (!staged) {
    const source = `(SELECT * FROM json_to_recordset($1::json) AS src(${columnDefs(columns, types)}))`;
    const sql = form === "merge" ? mergeSql(target, source, plan) : insertSql(target, source, plan);
    // The JSON text is bound as a string: every PG adapter passes strings to json parameters untouched.
    const result = await session.runCompiled(
      sql,
      [encodeRecordsJson(rows, columns, types, session.jsonSerializer)],
      form === "merge" ? "MERGE" : "INSERT",
      metadata,
      deadline.next(),
    );
    return retimed(result, started);
  }
  return inTransaction(session, deadline, async () => {
    const stage = await stageRows(session, columns, types, rows, STAGE, deadline.next());
    const sql = form === "merge" ? mergeSql(target, stage, plan) : insertSql(target, `(SELECT * FROM ${stage})`, plan);
    const result = await session.runCompiled(sql, [], form === "merge" ? "MERGE" : "INSERT", metadata, deadline.next());
    if (!ownsTransaction(session)) await dropStage(session, stage);
    return retimed(result, started);
  });
}

const STRATEGIES = new Set<UpsertStrategy>([
  "auto",
  "merge-json",
  "copy-merge",
  "insert-on-conflict",
  "values",
  "json",
  "copy",
]);

/**
 * The statement form (MERGE, or INSERT … ON CONFLICT before 15 / on request) and the source (one JSON parameter,
 * or COPY staging past the threshold); the name is what `metadata.strategy` reports.
 */
function chooseStrategy(
  strategy: UpsertStrategy,
  n: number,
  threshold: number,
  hasMerge: boolean,
  canCopy: boolean,
  session: AnySession,
): { form: "merge" | "insert"; staged: boolean; name: BulkStrategyName } {
  if (strategy === "merge-json" && !hasMerge) {
    throw new SQLBuilderError('MERGE needs PostgreSQL 15+; use strategy "insert-on-conflict" on this server');
  }
  if (strategy === "copy-merge" && !canCopy) {
    throw new SQLBuilderError(`The ${session.adapter.databaseLabel} adapter has no COPY support (copyIn)`);
  }
  const form = hasMerge && strategy !== "insert-on-conflict" ? "merge" : "insert";
  const staged = strategy === "copy-merge" || (strategy !== "merge-json" && canCopy && n > threshold);
  const name =
    form === "merge"
      ? staged
        ? "copy-merge"
        : "merge-json"
      : staged
        ? "copy-insert-on-conflict"
        : "insert-on-conflict";
  return { form, staged, name };
}

interface ColumnPlan {
  columns: string[];
  on: string[];
  update: string[];
}

function planColumns(
  table: string,
  columns: string[],
  on: readonly string[],
  update: readonly string[] | undefined,
): ColumnPlan {
  const have = new Set(columns);
  const missingKeys = on.filter((c) => !have.has(c));
  if (missingKeys.length > 0) {
    throw new SQLBuilderError(
      `upsert into "${table}": key column(s) ${list(missingKeys)} are not in the rows (row keys: ${columns.join(", ")})`,
    );
  }
  const keys = new Set(on);
  const upd = update ? [...update] : columns.filter((c) => !keys.has(c));
  const missingUpd = upd.filter((c) => !have.has(c));
  if (missingUpd.length > 0) {
    throw new SQLBuilderError(`upsert into "${table}": update column(s) ${list(missingUpd)} are not in the rows`);
  }
  return { columns, on: [...on], update: upd };
}

/** The rows' shared key set; a row with a different set raises SQLBuilderError naming the differing keys. */
export function rowColumns(rows: Rows): string[] {
  const first = rows[0] as Readonly<Record<string, unknown>>;
  const keys = Object.keys(first);
  const width = keys.length;
  let set: Set<string> | undefined;
  for (let i = 1; i < rows.length; i++) {
    const row = rows[i] as Readonly<Record<string, unknown>>;
    // Rows built alike list their keys in the same order: comparing in order is a pointer check per key, ~4× cheaper
    // than a Set lookup. Any other order falls back to the set comparison.
    let n = 0;
    let inOrder = true;
    for (const k in row) {
      if (k !== keys[n]) {
        inOrder = false;
        break;
      }
      n++;
    }
    if (inOrder && n === width) continue;
    set ??= new Set(keys);
    n = 0;
    let bad = false;
    for (const k in row) {
      n++;
      if (!set.has(k)) {
        bad = true;
        break;
      }
    }
    if (bad || n !== width) throw keyMismatch(i, keys, row);
  }
  return keys;
}

function keyMismatch(index: number, keys: readonly string[], row: Readonly<Record<string, unknown>>): SQLBuilderError {
  const own = Object.keys(row);
  const missing = keys.filter((k) => !(k in row));
  const extra = own.filter((k) => !keys.includes(k));
  const parts = [missing.length ? `missing ${list(missing)}` : "", extra.length ? `extra ${list(extra)}` : ""];
  return new SQLBuilderError(
    `Row ${index} has different keys from row 0 (${parts.filter(Boolean).join("; ")}). ` +
      "Give every row the same keys (use null for absent values).",
  );
}

async function catalogColumns(session: AnySession, table: string): Promise<ColumnInfo[]> {
  const cols = await session.dataDictionary.getColumns(table);
  if (cols.length === 0) throw new SQLBuilderError(`Table "${table}" was not found (no columns in the catalog)`);
  return cols;
}

/** Catalog types for the data columns; a column the table lacks raises before anything is written. */
function columnTypes(table: string, columns: readonly string[], catalog: readonly ColumnInfo[]): string[] {
  const byName = new Map(catalog.map((c) => [c.name, c.type]));
  const unknown = columns.filter((c) => !byName.has(c));
  if (unknown.length > 0) {
    throw new SQLBuilderError(
      `Table "${table}" has no column(s) ${list(unknown)} (its columns: ${catalog.map((c) => c.name).join(", ")})`,
    );
  }
  return columns.map((c) => byName.get(c) as string);
}

function copyThresholdFor(session: AnySession, options: { copyThreshold?: number } | undefined): number {
  const t = options?.copyThreshold ?? session.copyThreshold;
  if (t !== undefined) return t;
  // The adapter declares its measured crossover (capabilities.bulkCopyThreshold); no engine names here.
  return session.adapter.capabilities.bulkCopyThreshold ?? DEFAULT_COPY_THRESHOLD.server;
}

// ---------------------------------------------------------------------------------------------------- SQL text

function quoteTable(table: string): string {
  return quoteQualifiedFor(table, "postgres");
}

/** The upsert as MERGE from `source` (a parenthesised query or a table name), aliased `src`. */
export function mergeSql(target: string, source: string, plan: ColumnPlan): string {
  const cols = plan.columns.map(quoteIdentPg);
  let sql = `MERGE INTO ${target} AS t USING ${source} AS src ON `;
  sql += plan.on.map((c) => `t.${quoteIdentPg(c)} = src.${quoteIdentPg(c)}`).join(" AND ");
  if (plan.update.length > 0) {
    sql += ` WHEN MATCHED THEN UPDATE SET ${plan.update.map((c) => `${quoteIdentPg(c)} = src.${quoteIdentPg(c)}`).join(", ")}`;
  }
  sql += ` WHEN NOT MATCHED THEN INSERT (${cols.join(", ")}) VALUES (${cols.map((c) => `src.${c}`).join(", ")})`;
  return sql;
}

/** The upsert as INSERT … SELECT … ON CONFLICT (PostgreSQL < 15, or when asked for). */
export function insertSql(target: string, source: string, plan: ColumnPlan): string {
  const cols = plan.columns.map(quoteIdentPg);
  let sql = `INSERT INTO ${target} AS t (${cols.join(", ")}) SELECT ${cols.map((c) => `src.${c}`).join(", ")} FROM ${source} AS src`;
  sql += ` ON CONFLICT (${plan.on.map(quoteIdentPg).join(", ")}) DO `;
  sql +=
    plan.update.length > 0
      ? `UPDATE SET ${plan.update.map((c) => `${quoteIdentPg(c)} = excluded.${quoteIdentPg(c)}`).join(", ")}`
      : "NOTHING";
  return sql;
}

// ---------------------------------------------------------------------------------------------------- loadRecords

/**
 * Plain bulk load: COPY on PostgreSQL (streamed, bounded memory), for an array or an async iterable of rows
 * (objects, or arrays in `columns` order). One COPY is one atomic statement.
 */
export async function loadRecords(
  session: AnySession,
  table: string,
  rows: readonly (Readonly<Record<string, unknown>> | readonly unknown[])[] | RowSource,
  options?: LoadRecordsOptions,
): Promise<SQLResult> {
  const started = performance.now();
  const deadline = new CallDeadline(options);
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
  const bulk = bulkOf(session);
  if (bulk !== undefined) {
    return nativeBulkLoad(
      session,
      bulk,
      table,
      rest === undefined ? (rows as readonly unknown[]) : replay(first, rest),
      columns,
      started,
      deadline,
    );
  }
  if (session.dialect !== "postgres" || typeof session.adapter.copyIn !== "function") {
    if (rest !== undefined) throw new SQLBuilderError("loadRecords from an async iterable needs COPY (PostgreSQL)");
    return nativeInsert(session, table, rows as readonly unknown[], columns, started, deadline);
  }
  const types = columnTypes(table, columns, await catalogColumns(session, table));
  const source =
    rest === undefined ? new ObjectRows(rows as readonly unknown[], columns) : arraysOfAsync(rest, columns, first);
  const count = await copyRows(session, table, columns, types, source, deadline.next());
  const sql = `COPY ${quoteTable(table)} (${columns.map(quoteIdentPg).join(", ")}) FROM STDIN`;
  return result({
    rowsAffected: count,
    operationType: "COPY",
    statement: sql,
    started,
    metadata: { strategy: "copy" },
  });
}

// ---------------------------------------------------------------------------------------------------- results

/** A result for work this module did itself (no rows come back from an upsert or a COPY). */
function result(r: {
  rowsAffected: number;
  operationType: OperationType;
  statement: string;
  started: number;
  metadata: ResultMetadata;
  parameters?: readonly unknown[];
}): SQLResult {
  return new SQLResult<Row>({
    data: [],
    rowsAffected: r.rowsAffected,
    columnNames: [],
    operationType: r.operationType,
    statement: r.statement,
    parameters: r.parameters ?? [],
    executionTimeMs: performance.now() - r.started,
    metadata: r.metadata,
  });
}

function emptyResult(operationType: OperationType, started: number, strategy: BulkStrategyName): SQLResult {
  return result({ rowsAffected: 0, operationType, statement: "", started, metadata: { strategy, rows: 0 } });
}

/** The whole call's time (catalog lookup, staging, the statement), not only the last statement's. */
function retimed(r: SQLResult, started: number): SQLResult {
  return result({ ...r, started, metadata: r.metadata });
}

function list(names: readonly string[]): string {
  return names.map((n) => `"${n}"`).join(", ");
}

// ---------------------------------------------------------------------------------------------------- other dialects

/** Bound parameters per statement, under each driver's limit (SQLite 32766, MySQL's protocol 65535). */
const MAX_PARAMS: Partial<Record<Dialect, number>> = { sqlite: 32_766, mysql: 65_535, duckdb: 65_535 };

function chunkRows<T>(rows: readonly T[], width: number, dialect: Dialect): T[][] {
  const per = Math.max(1, Math.floor((MAX_PARAMS[dialect] ?? 65_535) / Math.max(1, width)));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += per) out.push(rows.slice(i, i + per));
  return out;
}

/**
 * The native upsert for dialects without MERGE-from-rows: `INSERT … ON CONFLICT (key) DO UPDATE SET col =
 * excluded.col` (SQLite, DuckDB; the MySQL renderer turns it into `ON DUPLICATE KEY UPDATE col = VALUES(col)`),
 * chunked under the dialect's parameter limit.
 */
export function nativeUpsertStatements(
  dialect: Dialect,
  table: string,
  rows: Rows,
  options: { on: readonly string[]; update?: readonly string[] },
): QueryBuilder[] {
  if (rows.length === 0) return [];
  const plan = planColumns(table, rowColumns(rows), options.on, options.update);
  return chunkRows(rows, plan.columns.length, dialect).map((chunk) => {
    const conflict = insertInto(table, undefined, dialect)
      .values(chunk)
      .onConflict(...plan.on);
    return plan.update.length > 0 ? conflict.doUpdate(plan.update) : conflict.doNothing();
  });
}

async function nativeUpsert(
  session: AnySession,
  table: string,
  rows: Rows,
  plan: ColumnPlan,
  started: number,
  deadline: CallDeadline,
): Promise<SQLResult> {
  const statements = nativeUpsertStatements(session.dialect, table, rows, plan);
  const name = session.dialect === "mysql" ? "on-duplicate-key-update" : "insert-on-conflict";
  return runAll(session, statements, "INSERT", { strategy: name, rows: rows.length }, started, deadline);
}

async function nativeInsert(
  session: AnySession,
  table: string,
  rows: readonly unknown[],
  columns: readonly string[],
  started: number,
  deadline: CallDeadline,
): Promise<SQLResult> {
  const objects = rows.map((r) =>
    Array.isArray(r) ? Object.fromEntries(columns.map((c, i) => [c, r[i]])) : pick(r as Row, columns),
  );
  const statements = chunkRows(objects, columns.length, session.dialect).map((chunk) =>
    insertInto(table, undefined, session.dialect).values(chunk),
  );
  return runAll(session, statements, "COPY", { strategy: "insert", rows: rows.length }, started, deadline);
}

async function* replay(first: unknown, rest: RowSource): AsyncGenerator<unknown> {
  yield first;
  yield* rest;
}

function pick(row: Readonly<Record<string, unknown>>, columns: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns) out[c] = row[c] ?? null;
  return out;
}

/** Runs the statements atomically and sums the server's counts. */
async function runAll(
  session: AnySession,
  statements: readonly QueryBuilder[],
  operationType: OperationType,
  metadata: ResultMetadata,
  started: number,
  deadline: CallDeadline,
): Promise<SQLResult> {
  const run = async (): Promise<SQLResult> => {
    let total = 0;
    let statement = "";
    for (const st of statements) {
      const r = await session.execute(st, undefined, deadline.next());
      total += r.rowsAffected;
      statement = r.statement;
    }
    return result({ rowsAffected: total, operationType, statement, started, metadata });
  };
  return statements.length > 1 ? inTransaction(session, deadline, run) : run();
}

// ---------------------------------------------------------------------------------------------------- MERGE hook

/** What the MergeBuilder exposes for staging (driver/ reads its node; it needs no builder class). */
interface StageableMerge extends QueryBuilder {
  readonly node: import("../core/ast/nodes.js").StatementNode;
  withSourceTable(table: string): QueryBuilder;
}

function isStageable(b: QueryBuilder): b is StageableMerge {
  return (
    hasNode(b) && typeof (b as Partial<StageableMerge>).withSourceTable === "function" && rowsOf(b.node) !== undefined
  );
}

/** Rows to stage for this MERGE, or undefined when it should render as-is (few rows, no COPY, not PostgreSQL). */
function stagedRows(session: AnySession, builder: QueryBuilder): Rows | undefined {
  if (session.dialect !== "postgres" || typeof session.adapter.copyIn !== "function" || !isStageable(builder)) {
    return undefined;
  }
  const rows = rowsOf(builder.node)?.source.rows;
  return rows !== undefined && rows.length > copyThresholdFor(session, undefined) ? rows : undefined;
}

/** COPYs a MERGE's rows into a temp table typed as its rows source is (created AS SELECT … WITH NO DATA). */
async function stageMergeSource(session: AnySession, builder: StageableMerge, name?: string): Promise<string> {
  const staging = getRenderer("postgres").staging!;
  const source = rowsOf(builder.node)!.source;
  const stage = name ?? `${STAGE}_${Date.now()}`;
  await session.runCompiled(staging.createStage([stage], builder.node), [], "DDL");
  const typeRows = await session.runCompiled<{ type: string }>(staging.stageTypesSql, [quoteIdentPg(stage)], "SELECT");
  const types = typeRows.data.map((r) => r.type);
  await copyRows(session, stage, source.columns, types, new ObjectRows(source.rows, source.columns));
  return stage;
}

/**
 * Session hook for `execute(sql.merge()…using(rows)…)` on PostgreSQL: past the COPY threshold, and inside an open
 * transaction (an `ON COMMIT DROP` table needs one), the rows are COPY-staged and the same MERGE reads the staged
 * table. Otherwise undefined: the builder renders its single-parameter json source. `executeStagedMerge` covers
 * the no-transaction case too.
 */
export async function prepareMergeExecution(
  session: AnySession,
  builder: QueryBuilder,
): Promise<QueryBuilder | undefined> {
  const rows = stagedRows(session, builder);
  if (rows === undefined || !session.inTransaction) return undefined;
  const stage = await stageMergeSource(session, builder as StageableMerge);
  return (builder as StageableMerge).withSourceTable(quoteIdentPg(stage));
}

/**
 * Runs a MERGE-from-rows through a COPY-staged source when that is faster (in its own transaction, or the
 * caller's), returning its result; undefined when the builder should simply be executed as-is.
 */
export async function executeStagedMerge(session: AnySession, builder: QueryBuilder): Promise<SQLResult | undefined> {
  const rows = stagedRows(session, builder);
  if (rows === undefined) return undefined;
  const started = performance.now();
  return inTransaction(session, undefined, async () => {
    const stage = await stageMergeSource(session, builder as StageableMerge, STAGE);
    const result = await session.execute((builder as StageableMerge).withSourceTable(quoteIdentPg(stage)));
    if (!ownsTransaction(session)) await dropStage(session, stage);
    const r = retimed(result, started);
    r.metadata.strategy = "copy-merge";
    r.metadata.rows = rows.length;
    return r;
  });
}
