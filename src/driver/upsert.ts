/**
 * The one bulk engine for rows given as data: `session.upsert`, `session.loadRecords`, and COPY staging for
 * `session.execute(sql.merge()…using(rows))`. Strategy choice lives here, once, for every adapter, from the adapter's
 * capabilities and the dialect renderer (never an engine name). Statements are built as nodes (core/ast) and rendered
 * by the dialect, so an upsert and the MERGE builder share one SQL form:
 *
 *   default   INSERT INTO t AS t (cols) SELECT src.cols FROM <source> AS src ON CONFLICT (on) DO UPDATE SET
 *             c = excluded.c — race-free under concurrent writers, and `on` must be a unique key (the server
 *             checks; the error names the table's unique keys);
 *   "merge"   MERGE INTO t AS t USING <source> AS src ON t.k = src.k WHEN MATCHED … WHEN NOT MATCHED … (explicit
 *             only: under concurrent inserts of one key PostgreSQL's MERGE raises a unique violation, and with an
 *             `on` that is no unique key it duplicates rows, so the engine checks the key first).
 *
 * <source> is typed by the server when the statement runs, never from a client-side catalog copy that DDL can
 * outdate: `json_populate_recordset(NULL::t, $1::json)` over one JSON parameter, or, past the COPY threshold, a
 * stage `CREATE TEMP TABLE … ON COMMIT DROP AS SELECT (NULL::t).c … WITH NO DATA` filled by COPY. The catalog (cached
 * per pool, dropped on DDL run through a session and re-read for a column it lacks) only tells the encoder which
 * columns hold JSON documents or arrays; JSON and COPY encode every value by the same rules (core/values).
 *
 * PostgreSQL 15, measured on this machine (2 cores, half-new/half-existing rows into (id int pk, name text, price
 * numeric, stock int, updated_at timestamptz), one transaction, raw pg):
 *   N      MERGE json_to_recordset   MERGE jsonb_to_recordset   COPY → ON COMMIT DROP temp table → MERGE
 *   1k            8.8 ms                    13.8 ms                   9.5 ms
 *   2k           16.8 ms                    27.6 ms                  12.9 ms
 *   10k          78.8 ms                   131.0 ms                  35.2 ms
 *   100k          951 ms (10k chunks 819)  1866 ms                    456 ms
 * One JSON parameter wins while COPY's fixed cost (BEGIN, CREATE, COPY, the statement, COMMIT: five round trips plus
 * temp-table catalog work, ~6 ms) dominates; past it COPY staging wins at every size, and chunking the JSON never
 * catches up. The same holds for INSERT … ON CONFLICT from the same sources (see `npm run bench`).
 */

import { insertInto } from "../builder/insert.js";
import {
  type Expr,
  hasNode,
  type InsertNode,
  type MergeNode,
  type RefExpr,
  type RowsSource,
  type StatementNode,
} from "../core/ast/nodes.js";
import { getRenderer, RecordsPayload, type StagingSql } from "../core/ast/render.js";
import { rowsOf, withTableSource } from "../core/ast/rewrite.js";
import type { QueryBuilder } from "../core/builder-protocol.js";
import { CardinalityViolationError, ProgrammingError, SQLBuilderError, type SQLSpecError } from "../core/errors.js";
import { parseName, quoteIdent, quotePath, quoteQualified } from "../core/identifiers.js";
import { type BulkStrategyName, type ResultMetadata, SQLResult } from "../core/result.js";
import type { ColumnOf, Dialect, OperationType, Row } from "../core/types.js";
import { encodeRecordsJson } from "../core/values.js";
import { ObjectRows } from "./copy-rows.js";
import { arraysOfAsync, copyRows, inTransaction, ownsTransaction, type RowSource, STAGE } from "./copy-staging.js";
import { CallDeadline } from "./deadline.js";
import {
  bulkOf,
  type NativeBulkStrategy,
  type NativeSource,
  nativeBulkLoad,
  nativeBulkUpsert,
  nativeSource,
} from "./native-bulk.js";
import type { OnProgress } from "./progress.js";
import type { Session } from "./session.js";
import {
  type ColumnPlan,
  type ColumnsOf,
  catalogTypes,
  checkRowValues,
  type DuplicateKeys,
  dedupe,
  isUniqueKey,
  notUniqueKey,
  planColumns,
  rowColumns,
  serverDuplicate,
} from "./upsert-checks.js";

export { rowColumns } from "./upsert-checks.js";

/**
 * `auto` = `insert-on-conflict` (one JSON parameter, or COPY-staged past the threshold); `merge` = MERGE from the
 * same sources; `merge-json` / `copy-merge` force MERGE's source. `values` / `json` / `copy` are the INSERT-form
 * engines' sources (MySQL/MariaDB, see native-bulk.ts).
 */
export type UpsertStrategy = "auto" | "insert-on-conflict" | "merge" | "merge-json" | "copy-merge" | NativeBulkStrategy;

/** Options of `session.upsert`; `R` is the row type, so `on` and `update` name its columns. */
export interface UpsertOptions<R extends object = Row> {
  /** Key columns: a primary key or unique constraint/index of the table (the ON CONFLICT target). */
  on: readonly ColumnOf<R>[];
  /** Columns updated on a match. Default: every data column that is not a key. `[]` = insert-only. */
  update?: readonly ColumnOf<R>[];
  /**
   * Force a strategy; default `"auto"` (the fastest for the server and row count). An unknown name raises
   * SQLBuilderError; a strategy the server cannot run (MERGE before PostgreSQL 15, a PostgreSQL strategy elsewhere)
   * too, before any I/O.
   */
  strategy?: UpsertStrategy;
  /**
   * A key given twice in one batch: `"error"` (default) raises CardinalityViolationError naming the key columns and
   * row positions before anything is sent; `"last-wins"` keeps only the last row per key.
   */
  duplicates?: DuplicateKeys;
  /** Rows above which PostgreSQL stages through COPY. Default: measured per engine (capabilities.bulkCopyThreshold). */
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

/** Measured crossovers (see the header): above this many rows COPY staging beats one JSON parameter. */
export const DEFAULT_COPY_THRESHOLD = { server: 2000, pglite: 1500 } as const;

/** Rows per statement when there is no COPY: one JSON document each, inside one transaction. */
const JSON_CHUNK_ROWS = 20_000;

type AnySession = Session<any>;
type Rows = readonly Readonly<Record<string, unknown>>[];

const STRATEGIES = new Set<UpsertStrategy>([
  "auto",
  "insert-on-conflict",
  "merge",
  "merge-json",
  "copy-merge",
  "values",
  "json",
  "copy",
]);

const SRC = "src";
const TARGET = "t";

// ---------------------------------------------------------------------------------------------------- upsert

/**
 * Inserts or updates `rows` by the `on` key with the fastest source for the size; `metadata.strategy` says which ran.
 * Atomic: it runs in its own transaction, or inside the caller's when one is open.
 */
export async function upsertRows(
  session: AnySession,
  table: string,
  input: Rows,
  options: UpsertOptions,
): Promise<SQLResult> {
  const started = performance.now();
  // One limit for the whole call: each statement gets the signal and what is left of the time.
  const deadline = new CallDeadline(options);
  const on = options?.on ?? [];
  if (on.length === 0) throw new SQLBuilderError(`upsert into "${table}" needs { on: [key columns] }`);
  const strategy = options.strategy ?? "auto";
  if (!STRATEGIES.has(strategy)) {
    throw new SQLBuilderError(`Unknown upsert strategy "${strategy}"; use one of: ${[...STRATEGIES].join(", ")}`);
  }
  const duplicates = options.duplicates ?? "error";
  if (duplicates !== "error" && duplicates !== "last-wins") {
    throw new SQLBuilderError(`upsert duplicates must be "error" or "last-wins", got ${JSON.stringify(duplicates)}`);
  }
  const path = parseName(table, "upsert() table name");
  const staging = getRenderer(session.dialect).staging;
  if (input.length === 0) return emptyResult("INSERT", started, "none");
  const plan = planColumns(table, rowColumns(input), on, options.update);
  const rows = dedupe(table, input, plan.on, duplicates);

  if (staging === undefined) {
    const bulk = bulkOf(session);
    const native =
      bulk !== undefined &&
      (strategy === "auto" || strategy === "values" || strategy === "json" || strategy === "copy");
    if (!native && strategy !== "auto" && strategy !== "insert-on-conflict") {
      throw new SQLBuilderError(`upsert strategy "${strategy}" is not available on ${session.adapter.databaseLabel}`);
    }
    // The engine's own statements bind these values; say which column and row holds a bad one, as COPY/JSON do.
    const source = native ? nativeSource(session, bulk, rows, plan.columns, strategy) : undefined;
    if (source === undefined) checkRowValues(rows, plan.columns);
    // MySQL's ON DUPLICATE KEY UPDATE matches on any unique key whatever `on` says: check `on` is one, as the
    // PostgreSQL path's ON CONFLICT target does on the server.
    await checkUniqueKey(session, table, plan.on);
    try {
      return native
        ? await nativeBulkUpsert(session, bulk, table, rows, plan, source as NativeSource, started, deadline)
        : await nativeUpsert(session, table, rows, plan, started, deadline);
    } catch (err) {
      throw await staleKey(session, table, plan.on, err);
    }
  }

  const types = await catalogTypes(columnsOf(session), table, plan.columns);
  const caps = session.adapter.capabilities;
  const canCopy = caps.copy && typeof session.adapter.copyIn === "function";
  const form = strategy === "merge" || strategy === "merge-json" || strategy === "copy-merge" ? "merge" : "insert";
  if (strategy === "copy-merge" && !canCopy) {
    throw new SQLBuilderError(`The ${session.adapter.databaseLabel} adapter has no COPY support here (copyIn)`);
  }
  const version = (await session.dataDictionary.getVersion()).versionNum;
  if (form === "merge") {
    if (version > 0 && version < 150000) {
      const label = `${Math.floor(version / 10000)}.${version % 10000} (server_version_num ${version})`;
      throw new SQLBuilderError(
        `MERGE needs PostgreSQL 15+, but the server is ${label}; use the default strategy ("auto") on this server`,
      );
    }
    // MERGE would silently insert a second row for a key that is not unique: check first.
    const keys = await session.dataDictionary.getUniqueKeys(table, { fresh: true });
    if (!isUniqueKey(plan.on, keys)) throw notUniqueKey(table, plan.on, keys);
  }
  const staged =
    strategy === "copy-merge" ||
    (strategy !== "merge-json" && canCopy && rows.length > copyThresholdFor(session, options));
  const node = form === "merge" ? mergeNode(path, plan, rows) : insertNode(path, plan, rows);
  const op: OperationType = form === "merge" ? "MERGE" : "INSERT";
  const name: BulkStrategyName =
    form === "merge"
      ? staged
        ? "copy-merge"
        : "merge-json"
      : staged
        ? "copy-insert-on-conflict"
        : "insert-on-conflict";
  const metadata: ResultMetadata = { strategy: name, rows: rows.length };
  const ctx = version > 0 ? { serverVersionNum: version } : undefined;
  try {
    if (staged) {
      return await inTransaction(session, deadline, async () => {
        const r = await runStaged(session, staging, node, types, ctx, op, metadata, deadline);
        return retimed(r, started);
      });
    }
    if (!canCopy && rows.length > JSON_CHUNK_ROWS) {
      return await inTransaction(session, deadline, async () => {
        let total = 0;
        let last: SQLResult | undefined;
        for (let i = 0; i < rows.length; i += JSON_CHUNK_ROWS) {
          const chunk = rows.slice(i, i + JSON_CHUNK_ROWS);
          const n = form === "merge" ? mergeNode(path, plan, chunk) : insertNode(path, plan, chunk);
          last = await runJson(session, n, ctx, types, op, metadata, deadline);
          total += last.rowsAffected;
        }
        return result({ ...(last as SQLResult), rowsAffected: total, started, metadata });
      });
    }
    return retimed(await runJson(session, node, ctx, types, op, metadata, deadline), started);
  } catch (err) {
    throw await explain(session, table, plan, form, err);
  }
}

/** The server's refusals that mean "not an upsert key" (42P10) or "a key twice" (21000), said in upsert terms. */
async function explain(
  session: AnySession,
  table: string,
  plan: ColumnPlan,
  form: "merge" | "insert",
  err: unknown,
): Promise<unknown> {
  const state = (err as SQLSpecError | undefined)?.sqlState;
  if (state === "21000") return serverDuplicate(table, plan.on, err);
  if (state !== "42P10" || form !== "insert") return err;
  // Inside the caller's failed transaction the catalog cannot be read; say so instead.
  if (session.released || session.adapter.state(session.conn).transaction === "failed") {
    return notUniqueKey(table, plan.on, undefined, err);
  }
  const keys = await session.dataDictionary.getUniqueKeys(table, { fresh: true }).catch(() => undefined);
  return notUniqueKey(table, plan.on, keys, err);
}

/**
 * The engine refused the statement after the cached catalog said `on` is a unique key: DDL run elsewhere may have
 * changed the keys since (SQLite and DuckDB refuse an ON CONFLICT target that is none). Re-read them and say so in
 * upsert terms; any other refusal stays as it was.
 */
async function staleKey(session: AnySession, table: string, on: readonly string[], err: unknown): Promise<unknown> {
  if (!(err instanceof ProgrammingError) || err instanceof CardinalityViolationError) return err;
  if (session.released || session.adapter.state(session.conn).transaction === "failed") return err;
  const keys = await session.dataDictionary.getUniqueKeys(table, { fresh: true }).catch(() => undefined);
  return keys !== undefined && !isUniqueKey(on, keys) ? notUniqueKey(table, on, keys, err) : err;
}

/** `on` is a unique key of the table (the cached catalog first, re-read before refusing). */
async function checkUniqueKey(session: AnySession, table: string, on: readonly string[]): Promise<void> {
  if (isUniqueKey(on, await session.dataDictionary.getUniqueKeys(table))) return;
  const keys = await session.dataDictionary.getUniqueKeys(table, { fresh: true });
  if (!isUniqueKey(on, keys)) throw notUniqueKey(table, on, keys);
}

function columnsOf(session: AnySession): ColumnsOf {
  return (table, refresh) => {
    if (refresh) session.dataDictionary.invalidate(table);
    return session.dataDictionary.getColumns(table);
  };
}

function copyThresholdFor(session: AnySession, options: { copyThreshold?: number } | undefined): number {
  const t = options?.copyThreshold ?? session.copyThreshold;
  if (t !== undefined) return t;
  // The adapter declares its measured crossover (capabilities.bulkCopyThreshold); no engine names here.
  return session.adapter.capabilities.bulkCopyThreshold ?? DEFAULT_COPY_THRESHOLD.server;
}

// ---------------------------------------------------------------------------------------------------- statements

const ref = (...path: string[]): RefExpr => ({ kind: "ref", path });

function rowsSource(rows: Rows, columns: readonly string[]): RowsSource {
  return { kind: "rows", rows, columns, alias: SRC };
}

/** `INSERT INTO t AS t (cols) SELECT src.cols FROM <rows> AS src ON CONFLICT (on) DO UPDATE SET c = excluded.c`. */
export function insertNode(target: readonly string[], plan: ColumnPlan, rows: Rows): InsertNode {
  return {
    kind: "insert",
    table: { source: { kind: "ref", path: target }, alias: TARGET },
    columns: plan.columns,
    rows: [],
    from: { source: rowsSource(rows, plan.columns), values: plan.columns.map((c) => ref(SRC, c)) },
    conflict:
      plan.update.length > 0
        ? {
            columns: plan.on,
            action: "update",
            set: plan.update.map((c) => ({ column: [c], value: ref("excluded", c) })),
          }
        : { columns: plan.on, action: "nothing" },
  };
}

/** `MERGE INTO t AS t USING <rows> AS src ON t.k = src.k WHEN MATCHED THEN UPDATE … WHEN NOT MATCHED THEN INSERT …`. */
export function mergeNode(target: readonly string[], plan: ColumnPlan, rows: Rows): MergeNode {
  let on: Expr | undefined;
  for (const c of plan.on) {
    const eq: Expr = { kind: "cmp", left: ref(TARGET, c), op: "=", right: ref(SRC, c) };
    on =
      on === undefined
        ? eq
        : on.kind === "and"
          ? { kind: "and", items: [...on.items, eq] }
          : { kind: "and", items: [on, eq] };
  }
  const whens: MergeNode["whens"] = [
    ...(plan.update.length > 0
      ? [
          {
            match: "MATCHED" as const,
            action: "UPDATE" as const,
            set: plan.update.map((c) => ({ column: [c], value: ref(SRC, c) })),
          },
        ]
      : []),
    {
      match: "NOT MATCHED" as const,
      action: "INSERT" as const,
      insertColumns: plan.columns,
      insertValues: plan.columns.map((c) => ref(SRC, c)),
    },
  ];
  return { kind: "merge", target, alias: TARGET, source: rowsSource(rows, plan.columns), ...(on ? { on } : {}), whens };
}

/** Renders a rows statement with its JSON parameter encoded by the records encoder (the COPY path's value rules). */
function renderJson(
  session: AnySession,
  node: StatementNode,
  ctx: { serverVersionNum: number } | undefined,
  types: readonly (string | undefined)[] | undefined,
): { sql: string; values: unknown[] } {
  const built = getRenderer(session.dialect).render(node, ctx);
  const params = built.parameters as unknown[];
  const ser = session.jsonSerializer;
  const values = params.map((p) =>
    p instanceof RecordsPayload ? encodeRecordsJson(p.rows, p.columns, types, ser) : p,
  );
  return { sql: built.sql, values };
}

async function runJson(
  session: AnySession,
  node: StatementNode,
  ctx: { serverVersionNum: number } | undefined,
  types: readonly (string | undefined)[],
  op: OperationType,
  metadata: ResultMetadata,
  deadline: CallDeadline,
): Promise<SQLResult> {
  const { sql, values } = renderJson(session, node, ctx, types);
  // The JSON text is bound as a string: every PG adapter passes strings to json parameters untouched.
  return session.runCompiled(sql, values, op, metadata, deadline.next());
}

/**
 * COPYs the statement's rows into a stage typed by the server like its rows source (`AS SELECT … WITH NO DATA`), then
 * runs the same statement reading the stage. Runs inside a transaction (the stage is ON COMMIT DROP); inside the
 * caller's it drops the stage itself.
 */
async function runStaged(
  session: AnySession,
  staging: StagingSql,
  node: StatementNode,
  types: readonly string[],
  ctx: { serverVersionNum: number } | undefined,
  op: OperationType,
  metadata: ResultMetadata,
  deadline: CallDeadline,
): Promise<SQLResult> {
  const stage = await stageSource(session, staging, node, STAGE, types, deadline);
  const staged = getRenderer(session.dialect).render(withTableSource(node, [stage]), ctx);
  const r = await session.runCompiled(staged.sql, staged.parameters as unknown[], op, metadata, deadline.next());
  if (!ownsTransaction(session)) await session.runCompiled(staging.dropStage([stage]), [], "DDL");
  return r;
}

/**
 * Encodes a rows statement's rows for COPY (`types` say which columns hold JSON documents or arrays), then creates the
 * stage and COPYs them in. The stage is created only once every value has encoded, so a value that cannot be stored
 * fails before any I/O and never leaves a stage behind in the caller's transaction.
 */
async function stageSource(
  session: AnySession,
  staging: StagingSql,
  node: StatementNode,
  stage: string,
  types: readonly string[],
  deadline?: CallDeadline,
): Promise<string> {
  const source = rowsOf(node)?.source;
  if (source === undefined) throw new SQLBuilderError("Only a statement reading rows can be staged.");
  const beforeCopy = async (): Promise<void> => {
    await session.runCompiled(staging.createStage([stage], node), [], "DDL", undefined, deadline?.next());
  };
  const rows = new ObjectRows(source.rows, source.columns);
  await copyRows(session, stage, source.columns, types, rows, { ...deadline?.next(), beforeCopy });
  return stage;
}

/**
 * Encoding types of a builder's rows source: the SQL type the stage gives each column (explicit `types`, inferred
 * from the values), and for a column typed by the target, the target column's catalog type.
 */
async function sourceTypes(session: AnySession, staging: StagingSql, node: StatementNode): Promise<string[]> {
  const rows = rowsOf(node);
  if (rows === undefined) throw new SQLBuilderError("Only a statement reading rows can be staged.");
  const own = staging.sourceTypes(node);
  const fromTarget = rows.source.columns.filter((_, i) => own[i] === undefined);
  const target = quotePath(rows.target, session.dialect);
  const catalog = fromTarget.length > 0 ? await catalogTypes(columnsOf(session), target, fromTarget) : [];
  let k = 0;
  return own.map((t) => t ?? (catalog[k++] as string));
}

// ---------------------------------------------------------------------------------------------------- loadRecords

/**
 * Plain bulk load: COPY where the adapter has it (streamed, bounded memory), for an array or an async iterable of
 * rows (objects, or arrays in `columns` order). One COPY is one atomic statement. Without COPY, INSERT … SELECT from
 * JSON documents of JSON_CHUNK_ROWS rows, in one transaction.
 */
export async function loadRecords(
  session: AnySession,
  table: string,
  rows: readonly (Readonly<Record<string, unknown>> | readonly unknown[])[] | RowSource,
  options?: LoadRecordsOptions,
): Promise<SQLResult> {
  const started = performance.now();
  const deadline = new CallDeadline(options);
  const path = parseName(table, "loadRecords() table name");
  if (options?.overwrite !== true) return loadRows(session, table, path, rows, options, started, deadline);
  // The table is emptied and loaded in one transaction: a failed load rolls the emptying back too.
  const clear = getRenderer(session.dialect).transactionalTruncate
    ? `TRUNCATE TABLE ${quoteQualified(table, session.dialect)}`
    : `DELETE FROM ${quoteQualified(table, session.dialect)}`;
  return inTransaction(session, deadline, async () => {
    await session.runCompiled(clear, [], "DELETE", undefined, deadline.next());
    return loadRows(session, table, path, rows, options, started, deadline);
  });
}

async function loadRows(
  session: AnySession,
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
  const bulk = bulkOf(session);
  const staging = getRenderer(session.dialect).staging;
  if (staging === undefined && all !== undefined) checkRowValues(all, columns);
  if (bulk !== undefined) {
    const source = all ?? replay(first, rest as RowSource, staging === undefined ? columns : undefined);
    return nativeBulkLoad(session, bulk, table, source, columns, started, deadline);
  }
  if (staging === undefined) {
    if (all === undefined) throw new SQLBuilderError("loadRecords from an async iterable needs COPY or a JSON source");
    return nativeInsert(session, table, all, columns, started, deadline);
  }
  const types = await catalogTypes(columnsOf(session), table, columns);
  if (session.adapter.capabilities.copy && typeof session.adapter.copyIn === "function") {
    const source = all !== undefined ? new ObjectRows(all, columns) : arraysOfAsync(rest as RowSource, columns, first);
    const count = await copyRows(session, table, columns, types, source, deadline.next());
    const sql = `COPY ${quoteQualified(table, session.dialect)} (${columns.map((c) => quoteIdent(c, session.dialect)).join(", ")}) FROM STDIN`;
    return result({
      rowsAffected: count,
      operationType: "COPY",
      statement: sql,
      started,
      metadata: { strategy: "copy" },
    });
  }
  return jsonLoad(session, path, all ?? replay(first, rest as RowSource), columns, types, started, deadline);
}

/** loadRecords without COPY: `INSERT INTO t (cols) SELECT … FROM json_populate_recordset(…)` per chunk. */
async function jsonLoad(
  session: AnySession,
  path: readonly string[],
  rows: readonly unknown[] | AsyncIterable<unknown>,
  columns: readonly string[],
  types: readonly string[],
  started: number,
  deadline: CallDeadline,
): Promise<SQLResult> {
  const version = (await session.dataDictionary.getVersion()).versionNum;
  const ctx = version > 0 ? { serverVersionNum: version } : undefined;
  const plan: ColumnPlan = { columns: [...columns], on: [], update: [] };
  const metadata: ResultMetadata = { strategy: "json" };
  return inTransaction(session, deadline, async () => {
    let total = 0;
    let statement = "";
    const flush = async (chunk: Rows): Promise<void> => {
      const { conflict: _, ...node } = insertNode(path, plan, chunk);
      const r = await runJson(session, node, ctx, types, "INSERT", metadata, deadline);
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
  const dup = getRenderer(session.dialect).conflictClause === "on-duplicate-key";
  const name = dup ? "on-duplicate-key-update" : "insert-on-conflict";
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

/** `first` then `rest`; with `check`, each row's values checked as checkRowValues does. */
async function* replay(first: unknown, rest: RowSource, check?: readonly string[]): AsyncGenerator<unknown> {
  if (check) checkRowValues([first], check);
  yield first;
  let i = 1;
  for await (const row of rest) {
    if (check) checkRowValues([row], check, i++);
    yield row;
  }
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
  readonly node: StatementNode;
  withSourceTable(table: string): QueryBuilder;
}

function isStageable(b: QueryBuilder): b is StageableMerge {
  return (
    hasNode(b) && typeof (b as Partial<StageableMerge>).withSourceTable === "function" && rowsOf(b.node) !== undefined
  );
}

/** The dialect's staging SQL when this builder's rows should be COPY-staged (many rows, COPY available), else undefined. */
function stagingFor(session: AnySession, builder: QueryBuilder): StagingSql | undefined {
  const staging = getRenderer(session.dialect).staging;
  if (staging === undefined || !session.adapter.capabilities.copy || !isStageable(builder)) return undefined;
  const rows = rowsOf(builder.node)?.source.rows;
  return rows !== undefined && rows.length > copyThresholdFor(session, undefined) ? staging : undefined;
}

let stageSeq = 0;

/**
 * Session hook for `execute(sql.merge()…using(rows)…)`: past the COPY threshold, and inside an open transaction (an
 * `ON COMMIT DROP` table needs one), the rows are COPY-staged and the same MERGE reads the staged table. Otherwise
 * undefined: the builder renders its single-parameter json source. `executeStagedMerge` covers the no-transaction
 * case too.
 */
export async function prepareMergeExecution(
  session: AnySession,
  builder: QueryBuilder,
): Promise<QueryBuilder | undefined> {
  const staging = stagingFor(session, builder);
  if (staging === undefined || !session.inTransaction) return undefined;
  const node = (builder as StageableMerge).node;
  const types = await sourceTypes(session, staging, node);
  // Numbered: the caller's transaction may stage several statements before it commits.
  const stage = await stageSource(session, staging, node, `${STAGE}_${++stageSeq}`, types);
  return (builder as StageableMerge).withSourceTable(quoteIdent(stage, session.dialect));
}

/**
 * Runs a MERGE-from-rows through a COPY-staged source when that is faster (in its own transaction, or the
 * caller's), returning its result; undefined when the builder should simply be executed as-is.
 */
export async function executeStagedMerge(session: AnySession, builder: QueryBuilder): Promise<SQLResult | undefined> {
  const staging = stagingFor(session, builder);
  if (staging === undefined) return undefined;
  const started = performance.now();
  const rows = rowsOf((builder as StageableMerge).node)?.source.rows.length ?? 0;
  const types = await sourceTypes(session, staging, (builder as StageableMerge).node);
  return inTransaction(session, undefined, async () => {
    const stage = await stageSource(session, staging, (builder as StageableMerge).node, STAGE, types);
    const r = await session.execute((builder as StageableMerge).withSourceTable(quoteIdent(stage, session.dialect)));
    if (!ownsTransaction(session)) await session.runCompiled(staging.dropStage([stage]), [], "DDL");
    return result({ ...r, started, metadata: { ...r.metadata, strategy: "copy-merge", rows } });
  });
}
