/**
 * The repeat of an upsert on an engine that runs on the calling thread (SQLite): the same table, row columns and
 * options as an upsert that ran through the general path before, which kept what it derived from the catalog (the
 * column plan, the columns' types, the statement texts) for as long as those catalog facts are current. The rows are
 * read and checked exactly as the general path reads them (scannedChunks, dedupe, the JSON text check, in that order,
 * raising the same errors before anything runs); the statements then run as one transaction in a single call
 * (Adapter.runAtomicSync), without the per-statement and per-transaction steps that an engine which can make the
 * caller wait needs. Whether the plan is still current is asked inside that transaction, where the answer holds until
 * it commits. Anything else (a key part that is NULL or not a number, rows dropped by last-wins, a session
 * that is not idle, a lock to wait for) leaves the call to the general path, with nothing written.
 *
 * Why: at 10k rows those steps cost SQLite about a tenth of the upsert (see bench/sqlite.ts), and an application
 * repeats the same upsert.
 */
import type { SQLResult } from "../core/result.js";
import type { BulkCapabilities } from "./adapter.js";
import type { BatchStatement, BulkCatalog } from "./bulk-host.js";
import { nativeResult, scannedChunks } from "./native-bulk.js";
import { checkJsonStrings, type DuplicateKeys, dedupe } from "./upsert-checks.js";

type Rows = readonly Readonly<Record<string, unknown>>[];

/** Rows above which the general path runs: it gives the event loop a turn every few milliseconds, this does not. */
const FAST_MAX_ROWS = 20_000;

/** What the general path derived for one table, row column list and options. */
export interface NativeUpsertPlan {
  readonly columns: readonly string[];
  readonly on: readonly string[];
  /** The catalog types of `columns` (for the JSON text check). */
  readonly types: readonly string[];
  /** The statement text for a chunk of n rows. */
  readonly text: (rows: number) => string;
}

/** The upsert options the fast path reads. */
export interface FastUpsertOptions {
  on: readonly string[];
  update?: readonly string[] | undefined;
  duplicates?: DuplicateKeys | undefined;
  strategy?: string | undefined;
  onProgress?: unknown;
  signal?: unknown;
  timeoutMs?: unknown;
}

/** The plan's key: table, the rows' columns (row 0's keys, as the general path takes them), `on`, `update`. */
export function planKey(table: string, columns: readonly string[], options: FastUpsertOptions): string {
  const update = options.update === undefined ? "*" : JSON.stringify(options.update);
  return `upsert:${JSON.stringify([table, columns, options.on])}:${update}`;
}

/**
 * Options that leave nothing for the general path to do or check (no forced source, progress, signal or time limit;
 * a `duplicates` the general path accepts).
 */
export function fastOptions(options: FastUpsertOptions): boolean {
  // Read in the general path's order (onProgress, the limits, on, strategy, duplicates): a getter that throws
  // raises the same error on both paths.
  if (options.onProgress !== undefined || options.signal !== undefined || options.timeoutMs !== undefined) return false;
  if (!Array.isArray(options.on)) return false;
  const strategy = options.strategy;
  if (strategy !== undefined && strategy !== "auto" && strategy !== "values") return false;
  const duplicates = options.duplicates;
  return duplicates === undefined || duplicates === "error" || duplicates === "last-wins";
}

/** The outcome of a fast upsert: its result, or the typed error of a statement (rolled back) for the caller to explain. */
export type FastOutcome = { result: SQLResult } | { error: unknown; on: readonly string[] };

/**
 * Runs a statement batch as one transaction at once on an idle session (its typed error thrown when a statement
 * fails), asking `current` once the transaction has begun; undefined, having written nothing, when it cannot now or
 * `current` says no.
 */
export type RunAtOnce = (statements: Iterable<BatchStatement>, current: () => boolean) => number | undefined;

/**
 * Runs the upsert on the plan kept for it (`options` passed fastOptions, the session is idle), or returns undefined,
 * having run nothing, for the general path. Errors in the rows are thrown as the general path throws them.
 */
export function fastUpsert(
  catalog: Pick<BulkCatalog, "keptPlan" | "isCurrent">,
  run: RunAtOnce,
  bulk: BulkCapabilities,
  table: string,
  input: Rows,
  options: FastUpsertOptions,
  started: number,
): FastOutcome | undefined {
  const first = input[0];
  if (input.length > FAST_MAX_ROWS || typeof first !== "object" || first === null) return undefined;
  const kept = catalog.keptPlan(planKey(table, Object.keys(first), options));
  if (kept === undefined) return undefined;
  const plan = kept.plan as NativeUpsertPlan;
  const generation = kept.generation;
  // The same read as the general path's, so the same rows pass and the same errors are raised (none depends on the
  // catalog but the JSON check's, asked about below).
  const chunks = scannedChunks(bulk, input, plan.columns, plan.on);
  // A NULL or non-number key part: the general path reads the catalog's key rules for it.
  if (chunks.kinds !== 0) return undefined;
  const rows = dedupe(table, input, plan.on, options.duplicates ?? "error", [], chunks.keysDistinct);
  if (rows !== input) return undefined;
  chunks.throwBadValue();
  // Whether the plan still describes the schema; a stamp that cannot be read leaves the call to the general path.
  const current = (): boolean => {
    try {
      return catalog.isCurrent(generation);
    } catch {
      return false;
    }
  };
  try {
    checkJsonStrings(rows, plan.columns, plan.types);
  } catch (err) {
    // The types may be another connection's old schema: only the current catalog may refuse a value.
    if (!current()) return undefined;
    throw err;
  }
  const per = chunks.perChunk;
  const count = chunks.count;
  const fullText = plan.text(per);
  const lastText = plan.text(rows.length - per * (count - 1));
  function* statements(): Generator<BatchStatement> {
    for (let i = 0; i < count; i++) yield { sql: i === count - 1 ? lastText : fullText, values: chunks.fill(i) };
  }
  let total: number | undefined;
  try {
    total = run(statements(), current);
  } catch (error) {
    return { error, on: plan.on };
  }
  if (total === undefined) return undefined;
  return { result: nativeResult(total, "INSERT", lastText, started, { strategy: "values", rows: rows.length }) };
}
