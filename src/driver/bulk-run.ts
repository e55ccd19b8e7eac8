/**
 * How the bulk engine's rows statements run on the host: one JSON parameter, or a COPY-filled stage typed by the
 * server that the same statement then reads; plus the engine's results (no rows come back from an upsert or a COPY).
 */
import type { StatementNode } from "../core/ast/nodes.js";
import { getRenderer, type StagingSql } from "../core/ast/render.js";
import { rowsOf, withTableSource } from "../core/ast/rewrite.js";
import type { QueryBuilder } from "../core/builder-protocol.js";
import { SQLBuilderError } from "../core/errors.js";
import { quotePath } from "../core/identifiers.js";
import { type BulkStrategyName, type ResultMetadata, SQLResult } from "../core/result.js";
import type { OperationType, Row } from "../core/types.js";
import type { BulkHost } from "./bulk-host.js";
import { ObjectRows } from "./copy-rows.js";
import { copyRows, inTransaction, ownsTransaction, STAGE } from "./copy-staging.js";
import type { CallDeadline } from "./deadline.js";
import { type ColumnsOf, catalogTypes } from "./upsert-checks.js";
import { renderJson } from "./upsert-statements.js";

/** Measured crossovers (see upsert.ts): above this many rows COPY staging beats one JSON parameter. */
export const DEFAULT_COPY_THRESHOLD = { server: 2000, pglite: 1500 } as const;

/** Rows per statement when there is no COPY: one JSON document each, inside one transaction. */
export const JSON_CHUNK_ROWS = 20_000;

type ServerContext = { serverVersionNum: number } | undefined;

/** Rows above which PostgreSQL stages through COPY: the call's option, the config's, then the adapter's measured one. */
export function copyThresholdFor(host: BulkHost, options: { copyThreshold?: number } | undefined): number {
  const t = options?.copyThreshold ?? host.copyThreshold;
  if (t !== undefined) return t;
  // The adapter declares its measured crossover (capabilities.bulkCopyThreshold); no engine names here.
  return host.capabilities.bulkCopyThreshold ?? DEFAULT_COPY_THRESHOLD.server;
}

/** The catalog's columns of a table, re-read (cache entry dropped first) when `refresh` says so. */
export function columnsOf(host: BulkHost): ColumnsOf {
  return (table, refresh) => {
    if (refresh) host.catalog.invalidate(table);
    return host.catalog.getColumns(table);
  };
}

export async function runJson(
  host: BulkHost,
  node: StatementNode,
  ctx: ServerContext,
  types: readonly (string | undefined)[],
  op: OperationType,
  metadata: ResultMetadata,
  deadline: CallDeadline,
): Promise<SQLResult> {
  const { sql, values } = renderJson(host.dialect, host.jsonSerializer, node, ctx, types);
  // The JSON text is bound as a string: every PG adapter passes strings to json parameters untouched.
  return host.run(sql, values, op, metadata, deadline.next());
}

/**
 * COPYs the statement's rows into a stage typed by the server like its rows source (`AS SELECT … WITH NO DATA`), then
 * runs the same statement reading the stage. Runs inside a transaction (the stage is ON COMMIT DROP); inside the
 * caller's it drops the stage itself.
 */
export async function runStaged(
  host: BulkHost,
  staging: StagingSql,
  node: StatementNode,
  types: readonly string[],
  ctx: ServerContext,
  op: OperationType,
  metadata: ResultMetadata,
  deadline: CallDeadline,
): Promise<SQLResult> {
  const stage = await stageSource(host, staging, node, STAGE, types, deadline);
  const staged = getRenderer(host.dialect).render(withTableSource(node, [stage]), ctx);
  const r = await host.run(staged.sql, staged.parameters as unknown[], op, metadata, deadline.next());
  if (!ownsTransaction(host)) await host.stage(staging.dropStage([stage]));
  return r;
}

/**
 * Encodes a rows statement's rows for COPY (`types` say which columns hold JSON documents or arrays), then creates the
 * stage and COPYs them in. The stage is created only once every value has encoded, so a value that cannot be stored
 * fails before any I/O and never leaves a stage behind in the caller's transaction.
 */
export async function stageSource(
  host: BulkHost,
  staging: StagingSql,
  node: StatementNode,
  stage: string,
  types: readonly string[],
  deadline?: CallDeadline,
): Promise<string> {
  const source = rowsOf(node)?.source;
  if (source === undefined) throw new SQLBuilderError("Only a statement reading rows can be staged.");
  const beforeCopy = async (): Promise<void> => {
    await host.stage(staging.createStage([stage], node), deadline?.next());
  };
  const rows = new ObjectRows(source.rows, source.columns);
  await copyRows(host, stage, source.columns, types, rows, { ...deadline?.next(), beforeCopy });
  return stage;
}

/**
 * Encoding types of a builder's rows source: the SQL type the stage gives each column (explicit `types`, inferred
 * from the values), and for a column typed by the target, the target column's catalog type.
 */
export async function sourceTypes(host: BulkHost, staging: StagingSql, node: StatementNode): Promise<string[]> {
  const rows = rowsOf(node);
  if (rows === undefined) throw new SQLBuilderError("Only a statement reading rows can be staged.");
  const own = staging.sourceTypes(node);
  const fromTarget = rows.source.columns.filter((_, i) => own[i] === undefined);
  const target = quotePath(rows.target, host.dialect);
  const catalog = fromTarget.length > 0 ? await catalogTypes(columnsOf(host), target, fromTarget) : [];
  let k = 0;
  return own.map((t) => t ?? (catalog[k++] as string));
}

/** Runs the statements atomically and sums the server's counts. */
export async function runAll(
  host: BulkHost,
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
      const r = await host.execute(st, deadline.next());
      total += r.rowsAffected;
      statement = r.statement;
    }
    return result({ rowsAffected: total, operationType, statement, started, metadata });
  };
  // One statement runs on its own, unless what the call read must be checked under the lock first.
  return statements.length > 1 || host.catalogPending === true ? inTransaction(host, deadline, run) : run();
}

// ---------------------------------------------------------------------------------------------------- results

/** A result for work the engine did itself (no rows come back from an upsert or a COPY). */
export function result(r: {
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

export function emptyResult(operationType: OperationType, started: number, strategy: BulkStrategyName): SQLResult {
  return result({ rowsAffected: 0, operationType, statement: "", started, metadata: { strategy, rows: 0 } });
}

/** The whole call's time (catalog lookup, staging, the statement), not only the last statement's. */
export function retimed(r: SQLResult, started: number): SQLResult {
  return result({ ...r, started, metadata: r.metadata });
}
