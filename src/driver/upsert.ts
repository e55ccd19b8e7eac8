// STUB written by the lead so the tree typechecks. The bulk-upsert engineer owns this file and replaces it whole.
import type { QueryBuilder } from "../core/builder-protocol.js";
import { SQLBuilderError } from "../core/errors.js";
import type { SQLResult } from "../core/result.js";
import type { Session } from "./session.js";

export interface UpsertOptions {
  on: string[];
  update?: string[];
  strategy?: "auto" | "merge-json" | "copy-merge" | "insert-on-conflict";
}

export interface LoadRecordsOptions {
  columns?: string[];
}

export async function upsertRows(
  _session: Session<any>,
  _table: string,
  _rows: readonly Record<string, unknown>[],
  _options: UpsertOptions,
): Promise<SQLResult> {
  throw new SQLBuilderError("upsert is not implemented yet");
}

export async function loadRecords(
  _session: Session<any>,
  _table: string,
  _rows: readonly Record<string, unknown>[] | AsyncIterable<Record<string, unknown>>,
  _options?: LoadRecordsOptions,
): Promise<SQLResult> {
  throw new SQLBuilderError("loadRecords is not implemented yet");
}

export async function prepareMergeExecution(
  _session: Session<any>,
  _builder: QueryBuilder,
): Promise<QueryBuilder | undefined> {
  return undefined;
}
