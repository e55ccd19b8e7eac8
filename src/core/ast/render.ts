/**
 * The renderer registry: below both builder/ and dialects/, so builders render through it without importing a
 * renderer, and renderers register themselves without importing a builder. `dialects/index.ts` registers one
 * renderer per dialect when it is loaded; the package entry point and the session load it.
 */
import type { BuildContext, BuiltStatement } from "../builder-protocol.js";
import { SQLSpecError } from "../errors.js";
import type { ExplainSql } from "../explain.js";
import { JsonValue } from "../json.js";
import type { Dialect, ParameterStyle } from "../types.js";
import type { StatementNode } from "./nodes.js";

export interface RenderOptions {
  /** Inline every value as an escaped literal (toSQL with showParameters, for logs). */
  inline?: boolean;
}

/** SQL text the bulk engine needs from a dialect that can stage rows (PostgreSQL: COPY into a temp table). */
export interface StagingSql {
  /**
   * `CREATE TEMP TABLE <stage> … ON COMMIT DROP` whose columns are typed as the statement's rows source would be
   * (the same-named target column's type, `types`, or the inferred type), so the staged rows mean what the JSON
   * source means.
   */
  createStage(stage: readonly string[], statement: StatementNode): string;
  /**
   * Per source column, the SQL type the stage gives it (explicit `types`, or inferred from the values), or undefined
   * where the column takes the target column's type.
   */
  sourceTypes(statement: StatementNode): (string | undefined)[];
  dropStage(stage: readonly string[]): string;
}

export interface Renderer {
  readonly dialect: Dialect;
  render(node: StatementNode, ctx?: BuildContext, opts?: RenderOptions): BuiltStatement;
  /** Present where rows can be COPY-staged. */
  readonly staging?: StagingSql;
  /** The dialect's quoting of a (possibly qualified) parsed name. */
  quoteName(parts: readonly string[]): string;
  /** How the dialect tests that a column contains a substring (shared by builders and filters on SQL text). */
  containsTemplate(not: boolean, ignoreCase: boolean): ContainsTemplate;
  /** The placeholder style it writes (`$n`, `?`, `:name`, `@name`): a fact of the dialect's SQL text. */
  readonly parameterStyle: ParameterStyle;
  /** A list binds as ONE array parameter (`= ANY($n)`) rather than one placeholder per item. */
  readonly arrayParameters: boolean;
  /** How an insert's conflict clause renders: `ON CONFLICT (…) DO …`, or MySQL's `ON DUPLICATE KEY UPDATE`. */
  readonly conflictClause: "on-conflict" | "on-duplicate-key";
  /** `TRUNCATE` runs inside a transaction and rolls back with it (PostgreSQL); elsewhere tables are emptied by DELETE. */
  readonly transactionalTruncate: boolean;
  /** EXPLAIN for the dialect's engine; absent where sqlspec has none (Oracle, BigQuery). */
  readonly explain?: ExplainSql;
}

/**
 * `parts[0] + column + parts[1] + placeholder + parts[2]`; the placeholder binds `containsPattern(value)` when
 * `pattern` is true (LIKE with `%`, `_` and backslash escaped) and the value itself otherwise.
 */
export interface ContainsTemplate {
  readonly parts: readonly [string, string, string];
  readonly pattern: boolean;
}

/** The LIKE pattern matching any text that contains `value`: wildcards and the escape character made literal. */
export function containsPattern(value: string): string {
  return `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

const renderers = new Map<Dialect, Renderer>();

export function registerRenderer(renderer: Renderer): void {
  renderers.set(renderer.dialect, renderer);
}

export function getRenderer(dialect: Dialect): Renderer {
  const r = renderers.get(dialect);
  if (r === undefined) {
    throw new SQLSpecError(
      `No SQL renderer is registered for ${dialect}: import "sqlspec" (it loads every dialect) before building.`,
    );
  }
  return r;
}

/**
 * The rows of a rows source as one JSON parameter. It is a JsonValue, so any adapter binds it as JSON through its
 * serializer; the bulk engine swaps it for the records serializer's text (the same text, faster).
 */
export class RecordsPayload extends JsonValue {
  constructor(
    readonly rows: readonly Readonly<Record<string, unknown>>[],
    readonly columns: readonly string[],
  ) {
    super(rows);
  }
}
