/**
 * `session.explain`: compiles the statement as the session would run it (its values bound), puts the dialect's
 * EXPLAIN prefix in front, runs it, and reads the plan back. With `rollback` it runs inside a transaction (a savepoint
 * in an open one) that is always rolled back, so `analyze` of DML leaves nothing behind.
 */
import { getRenderer } from "../core/ast/render.js";
import type { BuildContext } from "../core/builder-protocol.js";
import { ParameterError } from "../core/errors.js";
import {
  checkExplainOptions,
  Explain,
  type ExplainOptions,
  type ExplainResult,
  type ExplainSql,
} from "../core/explain.js";
import type { SQLResult } from "../core/result.js";
import type { Params } from "../core/types.js";
import type { ExecuteOptions, Session, Statement } from "./session.js";

/** Thrown inside transaction() to roll the EXPLAIN's effects back; never escapes. */
const ROLLBACK = Symbol("explain rollback");

/** Runs compiled SQL (the adapter's parameter style) on the session's connection, as the session runs its own. */
export type RunCompiled = (sql: string, values: unknown[], options: ExecuteOptions | undefined) => Promise<SQLResult>;

export async function explainStatement(
  session: Session<any>,
  statement: Statement,
  params: Params | undefined,
  options: (ExplainOptions & ExecuteOptions) | undefined,
  runCompiled: RunCompiled,
): Promise<ExplainResult> {
  let explain: ExplainOptions;
  let target: Statement;
  if (statement instanceof Explain) {
    if (params !== undefined) throw new ParameterError("An explain() statement carries its own parameters; pass none");
    explain = { ...statement.options, ...pickExplain(options) };
    target = statement.target;
  } else {
    explain = options ?? {};
    target = statement;
  }
  checkExplainOptions(explain);
  const sqlOf = explainSqlOf(session);
  const ctx = session.adapter.renderNeedsServer ? await serverContext(session) : undefined;
  const prefix = sqlOf.prefix(explain, ctx);
  const compiled = await session.compile(target, params);
  const text = prefix + compiled.sql;
  const run = () => runCompiled(text, compiled.values, executeOnly(options));
  let result: Awaited<ReturnType<typeof run>>;
  if (explain.rollback === true) {
    let captured: typeof result | undefined;
    try {
      await session.transaction(async () => {
        captured = await run();
        throw ROLLBACK;
      });
    } catch (err) {
      if (err !== ROLLBACK) throw err;
    }
    result = captured as typeof result;
  } else {
    result = await run();
  }
  const base = {
    statement: text,
    parameters: compiled.values,
    rows: result.data,
    analyzed: explain.analyze === true,
    rolledBack: explain.rollback === true,
  };
  if (explain.format === "json") return { ...base, format: "json", plan: sqlOf.plan(result.data, result.columnNames) };
  return { ...base, format: "text", lines: sqlOf.lines(result.data, result.columnNames) } as ExplainResult;
}

function explainSqlOf(session: Session<any>): ExplainSql {
  const sqlOf = getRenderer(session.dialect).explain;
  if (sqlOf === undefined) throw new ParameterError(`explain() is not available on ${session.adapter.databaseLabel}`);
  return sqlOf;
}

/** The server facts a builder renders for (its version and flavor), from the session's cached data dictionary. */
export async function serverContext(session: Session<any>): Promise<BuildContext> {
  const v = await session.dataDictionary.getVersion();
  return { serverVersionNum: v.versionNum, ...(v.flavor !== undefined ? { serverFlavor: v.flavor } : {}) };
}

function pickExplain(options: ExplainOptions | undefined): ExplainOptions {
  const out: ExplainOptions = {};
  if (options === undefined) return out;
  for (const key of ["analyze", "format", "verbose", "costs", "buffers", "settings", "rollback"] as const) {
    if (options[key] !== undefined) (out as Record<string, unknown>)[key] = options[key];
  }
  return out;
}

function executeOnly(options: ExecuteOptions | undefined): ExecuteOptions | undefined {
  if (options === undefined || (options.signal === undefined && options.timeoutMs === undefined)) return undefined;
  const out: ExecuteOptions = {};
  if (options.signal !== undefined) out.signal = options.signal;
  if (options.timeoutMs !== undefined) out.timeoutMs = options.timeoutMs;
  return out;
}
