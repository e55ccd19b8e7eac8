/**
 * The one bulk engine for rows given as data: `session.upsert` (here), `session.loadRecords` (load-records.ts), and
 * COPY staging for `session.execute(sql.merge()…using(rows))` (merge-staging.ts). It talks to the session only
 * through a BulkHost (bulk-host.ts). Strategy choice lives here, once, for every adapter, from the host's
 * capabilities and the dialect renderer (never an engine name); statements are built as nodes
 * (upsert-statements.ts) and rendered by the dialect, so an upsert and the MERGE builder share one SQL form; they
 * run through bulk-run.ts (JSON parameter or COPY stage), or native-bulk.ts on INSERT-form engines (MySQL, SQLite,
 * DuckDB). On PostgreSQL:
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

import { getRenderer } from "../core/ast/render.js";
import {
  CardinalityViolationError,
  NotNullViolationError,
  ProgrammingError,
  SQLBuilderError,
  type SQLSpecError,
} from "../core/errors.js";
import { parseName } from "../core/identifiers.js";
import type { BulkStrategyName, ResultMetadata, SQLResult } from "../core/result.js";
import type { ColumnOf, OperationType, Row } from "../core/types.js";
import type { BulkCapabilities, UniqueIndex } from "./adapter.js";
import type { BulkHost } from "./bulk-host.js";
import {
  columnsOf,
  copyThresholdFor,
  emptyResult,
  JSON_CHUNK_ROWS,
  result,
  retimed,
  runAll,
  runJson,
  runStaged,
} from "./bulk-run.js";
import { inTransaction } from "./copy-staging.js";
import { CallDeadline } from "./deadline.js";
import {
  type NativeBulkStrategy,
  type NativeSource,
  nativeBulkUpsert,
  nativeStrategy,
  scannedChunks,
  textsFor,
} from "./native-bulk.js";
import type { OnProgress } from "./progress.js";
import { keyPartKinds, NON_NUMBER_KEY_PART, NULL_KEY_PART } from "./row-reader.js";
import {
  type ColumnPlan,
  catalogTypes,
  checkRowValues,
  type DuplicateKeys,
  dedupe,
  firstRowKeys,
  isNumberType,
  isUniqueKey,
  type KeyRule,
  notUniqueKey,
  planColumns,
  rowColumns,
  serverDuplicate,
} from "./upsert-checks.js";
import { fastOptions, type NativeUpsertPlan, planKey } from "./upsert-fast.js";
import { insertNode, mergeNode, nativeUpsertStatements } from "./upsert-statements.js";

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

// ---------------------------------------------------------------------------------------------------- upsert

/**
 * Inserts or updates `rows` by the `on` key with the fastest source for the size; `metadata.strategy` says which ran.
 * Atomic: it runs in its own transaction, or inside the caller's when one is open.
 */
export async function upsertRows(
  host: BulkHost,
  table: string,
  input: Rows,
  options: UpsertOptions,
  started = performance.now(),
): Promise<SQLResult> {
  // One limit for the whole call (from `started`, also when it starts over): each statement gets what is left.
  const deadline = new CallDeadline(options, started);
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
  const staging = getRenderer(host.dialect).staging;
  if (input.length === 0) return emptyResult("INSERT", started, "none");
  const bulk = staging === undefined ? host.bulk : undefined;
  // Its repeats may run at once (upsert-fast.ts, tried by the session before this) on a plan kept at the end, built
  // from what the catalog says from here on.
  const generation =
    bulk !== undefined && host.keepsPlans && fastOptions(options) ? host.catalog.generation() : undefined;
  const native =
    bulk !== undefined && (strategy === "auto" || strategy === "values" || strategy === "json" || strategy === "copy");
  if (staging === undefined && !native && strategy !== "auto" && strategy !== "insert-on-conflict") {
    throw new SQLBuilderError(`upsert strategy "${strategy}" is not available on ${host.databaseLabel}`);
  }
  const chosen = native ? nativeStrategy(host, bulk, input.length, strategy) : undefined;
  // VALUES statements read every row in one pass: keys, values, the key facts the checks below need.
  let chunks =
    chosen === "values" ? scannedChunks(bulk as BulkCapabilities, input, firstRowKeys(input), on) : undefined;
  const plan = planColumns(table, chunks === undefined ? rowColumns(input) : firstRowKeys(input), on, options.update);
  const rules = await keyRules(host, table, input, plan.on, chunks?.kinds);
  const rows = dedupe(table, input, plan.on, duplicates, rules, chunks?.keysDistinct === true);
  if (chunks !== undefined && rows !== input)
    chunks = scannedChunks(bulk as BulkCapabilities, rows, plan.columns, plan.on, keptPositions(input, rows));

  if (staging === undefined) {
    // The engine's own statements bind these values; say which column and row holds a bad one, as COPY/JSON do.
    if (chunks !== undefined) chunks.throwBadValue();
    else checkRowValues(rows, plan.columns, 0, bulk?.refusedValue);
    const source: NativeSource | undefined =
      chosen === undefined ? undefined : chunks === undefined ? { strategy: chosen } : { strategy: chosen, chunks };
    // MySQL's ON DUPLICATE KEY UPDATE matches on any unique key whatever `on` says: check `on` is one, as the
    // PostgreSQL path's ON CONFLICT target does on the server. An engine that checks the target itself before writing
    // anything (bulk.checksConflictTarget) is left to refuse it; staleKey says so in upsert terms.
    if (!(native && bulk.checksConflictTarget === true)) await checkUniqueKey(host, table, plan.on);
    let done: SQLResult;
    try {
      done = native
        ? await nativeBulkUpsert(
            host,
            bulk as BulkCapabilities,
            table,
            rows,
            plan,
            source as NativeSource,
            started,
            deadline,
          )
        : await nativeUpsert(host, table, rows, plan, started, deadline);
    } catch (err) {
      throw await staleKey(host, table, plan.on, err);
    }
    if (generation !== undefined && chosen === "values" && bulk?.checksConflictTarget === true) {
      await keepPlan(host, bulk, table, plan, options, generation);
    }
    return done;
  }

  const types = await catalogTypes(columnsOf(host), table, plan.columns);
  const caps = host.capabilities;
  const canCopy = caps.copy && host.canCopyIn;
  const form = strategy === "merge" || strategy === "merge-json" || strategy === "copy-merge" ? "merge" : "insert";
  if (strategy === "copy-merge" && !canCopy) {
    throw new SQLBuilderError(`The ${host.databaseLabel} adapter has no COPY support here (copyIn)`);
  }
  const version = (await host.catalog.getVersion()).versionNum;
  let nullSafe: readonly string[] = [];
  if (form === "merge") {
    if (version > 0 && version < 150000) {
      const label = `${Math.floor(version / 10000)}.${version % 10000} (server_version_num ${version})`;
      throw new SQLBuilderError(
        `MERGE needs PostgreSQL 15+, but the server is ${label}; use the default strategy ("auto") on this server`,
      );
    }
    // MERGE would silently insert a second row for a key that is not unique: check first.
    const indexes = await host.catalog.getUniqueIndexes(table, { fresh: true });
    const keys = indexes.map((k) => k.columns);
    if (!isUniqueKey(plan.on, keys)) throw notUniqueKey(table, plan.on, keys);
    nullSafe = nullSafeColumns(indexes, plan.on, rows);
  }
  const staged =
    strategy === "copy-merge" ||
    (strategy !== "merge-json" && canCopy && rows.length > copyThresholdFor(host, options));
  const node = form === "merge" ? mergeNode(path, plan, rows, nullSafe) : insertNode(path, plan, rows);
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
      return await inTransaction(host, deadline, async () => {
        const r = await runStaged(host, staging, node, types, ctx, op, metadata, deadline);
        return retimed(r, started);
      });
    }
    if (!canCopy && rows.length > JSON_CHUNK_ROWS) {
      return await inTransaction(host, deadline, async () => {
        let total = 0;
        let last: SQLResult | undefined;
        for (let i = 0; i < rows.length; i += JSON_CHUNK_ROWS) {
          const chunk = rows.slice(i, i + JSON_CHUNK_ROWS);
          const n = form === "merge" ? mergeNode(path, plan, chunk, nullSafe) : insertNode(path, plan, chunk);
          last = await runJson(host, n, ctx, types, op, metadata, deadline);
          total += last.rowsAffected;
        }
        return result({ ...(last as SQLResult), rowsAffected: total, started, metadata });
      });
    }
    return retimed(await runJson(host, node, ctx, types, op, metadata, deadline), started);
  } catch (err) {
    throw await explain(host, table, plan, form, err);
  }
}

/** The server's refusals that mean "not an upsert key" (42P10) or "a key twice" (21000), said in upsert terms. */
async function explain(
  host: BulkHost,
  table: string,
  plan: ColumnPlan,
  form: "merge" | "insert",
  err: unknown,
): Promise<unknown> {
  const state = (err as SQLSpecError | undefined)?.sqlState;
  if (state === "21000") return serverDuplicate(table, plan.on, err);
  if (state !== "42P10" || form !== "insert") return err;
  // Inside the caller's failed transaction the catalog cannot be read; say so instead.
  if (!host.canQuery) {
    return notUniqueKey(table, plan.on, undefined, err);
  }
  const keys = await host.catalog.getUniqueKeys(table, { fresh: true }).catch(() => undefined);
  return notUniqueKey(table, plan.on, keys, err);
}

/**
 * The engine refused the statement after the cached catalog said `on` is a unique key: DDL run elsewhere may have
 * changed the keys since (SQLite and DuckDB refuse an ON CONFLICT target that is none). Re-read them and say so in
 * upsert terms; any other refusal stays as it was.
 */
export async function staleKey(host: BulkHost, table: string, on: readonly string[], err: unknown): Promise<unknown> {
  if (!(err instanceof ProgrammingError) || err instanceof CardinalityViolationError) return err;
  if (!host.canQuery) return err;
  const keys = await host.catalog.getUniqueKeys(table, { fresh: true }).catch(() => undefined);
  if (keys === undefined || isUniqueKey(on, keys)) return err;
  if (keys.length === 0 && (await isMissing(host, table).catch(() => false))) return err;
  return notUniqueKey(table, on, keys, err);
}

/**
 * How the table's unique indexes on `on` compare keys (NULL parts equal under NULLS NOT DISTINCT, text folded by the
 * collation), one rule per distinct comparison: the engine checks every one of them. The catalog is read only when a
 * NULL or text key part makes it matter.
 */
async function keyRules(
  host: BulkHost,
  table: string,
  rows: Rows,
  on: readonly string[],
  scanned?: number,
): Promise<KeyRule[]> {
  const kinds = scanned ?? keyPartKinds(rows, on);
  const nulls = (kinds & NULL_KEY_PART) !== 0;
  if (nulls) await refuseNullKeys(host, table, rows, on);
  if (kinds === 0) return [];
  // A key part that is not a number compares by the column's type: read the types (cached per pool).
  let numeric: boolean[] | undefined;
  if ((kinds & NON_NUMBER_KEY_PART) !== 0) {
    const types = new Map((await host.catalog.getColumns(table)).map((c) => [c.name, c.type]));
    numeric = on.map((c) => isNumberType(types.get(c) ?? ""));
    if (!numeric.includes(true)) numeric = undefined;
  }
  const rules = new Map<string, KeyRule>();
  for (const index of await host.catalog.getUniqueIndexes(table)) {
    if (!isUniqueKey(on, [index.columns])) continue;
    const nullsEqual = nulls && index.nullsNotDistinct;
    const folds = index.folds;
    const rule: KeyRule = { nullsEqual };
    if (folds !== undefined) rule.folds = on.map((c) => folds[index.columns.indexOf(c)]);
    if (numeric !== undefined) rule.numeric = numeric;
    rules.set(JSON.stringify(rule), rule);
  }
  if (rules.size === 0 && numeric !== undefined) return [{ nullsEqual: false, numeric }];
  return [...rules.values()];
}

/**
 * The `on` columns MERGE must join NULL-safely (NULL matches NULL): under a NULLS NOT DISTINCT unique index on exactly those
 * columns a stored NULL part is the match, which `=` never finds (the insert then hits the index). Only columns where
 * some row holds a NULL: for the others `=` matches the same rows and keeps the join an index lookup.
 */
function nullSafeColumns(indexes: readonly UniqueIndex[], on: readonly string[], rows: Rows): readonly string[] {
  if (!indexes.some((k) => k.nullsNotDistinct && isUniqueKey(on, [k.columns]))) return [];
  return on.filter((c) => rows.some((row) => (row as Readonly<Record<string, unknown>>)[c] == null));
}

/**
 * A NULL in a NOT NULL key column is refused before any write, on every engine alike: PostgreSQL and DuckDB would
 * fail the statement, SQLite's INTEGER PRIMARY KEY would silently take a new rowid.
 */
async function refuseNullKeys(host: BulkHost, table: string, rows: Rows, on: readonly string[]): Promise<void> {
  const notNull = new Set((await host.catalog.getColumns(table)).filter((c) => !c.nullable).map((c) => c.name));
  for (const c of on) {
    if (!notNull.has(c)) continue;
    const r = rows.findIndex((row) => (row as Readonly<Record<string, unknown>>)[c] == null);
    if (r >= 0) {
      throw new NotNullViolationError(
        `upsert into "${table}": key column "${c}" of row ${r} is NULL, and the column is NOT NULL`,
        { sqlState: "23502", table, column: c },
      );
    }
  }
}

/**
 * `on` is a unique key of the table (the cached catalog first, re-read before refusing). A table the catalog does not
 * know is left to the engine, which reports it missing as execute would.
 */
async function checkUniqueKey(host: BulkHost, table: string, on: readonly string[]): Promise<void> {
  if (isUniqueKey(on, await host.catalog.getUniqueKeys(table))) return;
  const keys = await host.catalog.getUniqueKeys(table, { fresh: true });
  if (!isUniqueKey(on, keys) && !(keys.length === 0 && (await isMissing(host, table)))) {
    throw notUniqueKey(table, on, keys);
  }
}

/** The catalog has no columns for the table (read now, not from the cache). */
async function isMissing(host: BulkHost, table: string): Promise<boolean> {
  return (await columnsOf(host)(table, true)).length === 0;
}

async function nativeUpsert(
  host: BulkHost,
  table: string,
  rows: Rows,
  plan: ColumnPlan,
  started: number,
  deadline: CallDeadline,
): Promise<SQLResult> {
  const statements = nativeUpsertStatements(host.dialect, table, rows, plan);
  const dup = getRenderer(host.dialect).conflictClause === "on-duplicate-key";
  const name = dup ? "on-duplicate-key-update" : "insert-on-conflict";
  return runAll(host, statements, "INSERT", { strategy: name, rows: rows.length }, started, deadline);
}

/** Where each row last-wins kept stood in the caller's rows (the filter keeps their order). */
function keptPositions(input: Rows, kept: Rows): number[] {
  const out: number[] = [];
  for (let i = 0, j = 0; i < input.length && j < kept.length; i++) if (input[i] === kept[j]) out[j++] = i;
  return out;
}

/**
 * Keeps what this upsert derived from the catalog for its repeats (upsert-fast.ts), under the catalog generation read
 * before the first catalog fact: when anything was dropped since, nothing is kept. Only where the engine checks the
 * ON CONFLICT target itself (no unique-key check to repeat). The upsert has committed: nothing here may fail it, so
 * a plan that cannot be built from the cached facts is simply not kept.
 */
async function keepPlan(
  host: BulkHost,
  bulk: BulkCapabilities,
  table: string,
  plan: ColumnPlan,
  options: UpsertOptions,
  generation: number,
): Promise<void> {
  try {
    if (host.catalog.generation() !== generation) return;
    // Cached (read by the upsert under this generation): no catalog query here.
    const types = await catalogTypes(columnsOf(host), table, plan.columns);
    const version = await host.catalog.getVersion();
    const shape = { table, columns: plan.columns, update: plan.update, key: plan.on[0] as string, on: plan.on };
    const kept: NativeUpsertPlan = {
      columns: plan.columns,
      on: plan.on,
      types,
      text: textsFor((n) => bulk.sql.upsertValues(shape, n, version)),
    };
    host.catalog.keepPlan(planKey(table, plan.columns, options), kept, generation);
  } catch {
    // Not kept: the next call takes the general path again.
  }
}
