/**
 * `session.execute(sql.merge()…using(rows))` past the COPY threshold: the builder's rows are COPY-staged and the same
 * MERGE reads the staged table (the upsert engine's stage and runner, bulk-run.ts).
 */
import { hasNode, type StatementNode } from "../core/ast/nodes.js";
import { getRenderer, type StagingSql } from "../core/ast/render.js";
import { rowsOf } from "../core/ast/rewrite.js";
import type { QueryBuilder } from "../core/builder-protocol.js";
import { quoteIdent } from "../core/identifiers.js";
import type { SQLResult } from "../core/result.js";
import type { BulkHost } from "./bulk-host.js";
import { copyThresholdFor, result, sourceTypes, stageSource } from "./bulk-run.js";
import { inTransaction, ownsTransaction, STAGE } from "./copy-staging.js";

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
function stagingFor(host: BulkHost, builder: QueryBuilder): StagingSql | undefined {
  const staging = getRenderer(host.dialect).staging;
  if (staging === undefined || !host.capabilities.copy || !isStageable(builder)) return undefined;
  const rows = rowsOf(builder.node)?.source.rows;
  return rows !== undefined && rows.length > copyThresholdFor(host, undefined) ? staging : undefined;
}

let stageSeq = 0;

/**
 * Session hook for `execute(sql.merge()…using(rows)…)`: past the COPY threshold, and inside an open transaction (an
 * `ON COMMIT DROP` table needs one), the rows are COPY-staged and the same MERGE reads the staged table. Otherwise
 * undefined: the builder renders its single-parameter json source. `executeStagedMerge` covers the no-transaction
 * case too.
 */
export async function prepareMergeExecution(host: BulkHost, builder: QueryBuilder): Promise<QueryBuilder | undefined> {
  const staging = stagingFor(host, builder);
  if (staging === undefined || !host.inTransaction) return undefined;
  const node = (builder as StageableMerge).node;
  const types = await sourceTypes(host, staging, node);
  // Numbered: the caller's transaction may stage several statements before it commits.
  const stage = await stageSource(host, staging, node, `${STAGE}_${++stageSeq}`, types);
  return (builder as StageableMerge).withSourceTable(quoteIdent(stage, host.dialect));
}

/**
 * Runs a MERGE-from-rows through a COPY-staged source when that is faster (in its own transaction, or the
 * caller's), returning its result; undefined when the builder should simply be executed as-is.
 */
export async function executeStagedMerge(host: BulkHost, builder: QueryBuilder): Promise<SQLResult | undefined> {
  const staging = stagingFor(host, builder);
  if (staging === undefined) return undefined;
  const started = performance.now();
  const rows = rowsOf((builder as StageableMerge).node)?.source.rows.length ?? 0;
  const types = await sourceTypes(host, staging, (builder as StageableMerge).node);
  return inTransaction(host, undefined, async () => {
    const stage = await stageSource(host, staging, (builder as StageableMerge).node, STAGE, types);
    const r = await host.execute((builder as StageableMerge).withSourceTable(quoteIdent(stage, host.dialect)));
    if (!ownsTransaction(host)) await host.stage(staging.dropStage([stage]));
    return result({ ...r, started, metadata: { ...r.metadata, strategy: "copy-merge", rows } });
  });
}
