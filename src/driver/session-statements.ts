/**
 * A statement as the session runs it: text, a `SQL` object or a builder compiled for the session's adapter (its
 * dialect, placeholder style and server), the result built from what the adapter returned, and the bodies of
 * executeScript and selectWithTotal.
 */
import { getRenderer } from "../core/ast/render.js";
import type { BuildContext, QueryBuilder } from "../core/builder-protocol.js";
import { isQueryBuilder } from "../core/builder-protocol.js";
import { builtOperationType, getPlan } from "../core/compiler.js";
import { ParameterError, SQLSpecError, UnsupportedOperationError } from "../core/errors.js";
import { Explain, type ExplainOptions, type ExplainResult } from "../core/explain.js";
import { type ResultMetadata, SQLResult } from "../core/result.js";
import { scriptStatements } from "../core/splitter.js";
import { SQL } from "../core/statement.js";
import { type Dialect, type OperationType, ParameterStyle, type Params, type Row } from "../core/types.js";
import type { RawResult } from "./adapter.js";
import { explainStatement, type RunCompiled, serverContext } from "./explain.js";
import { applyFilters, type StatementFilter } from "./filters.js";
import { prepareMergeExecution } from "./merge-staging.js";
import { validateRows } from "./schema.js";
import type { Session } from "./session.js";
import { CATALOG_CHANGES, internals, isCommit, type Prepared, rolledBackCommit } from "./session-internals.js";
import type { ExecuteOptions, SelectOptions, Statement } from "./session-options.js";

/** selectWithTotal's window count column; removed from every row before the caller sees it. */
const TOTAL_COLUMN = "_sqlspec_total";

export function textOf(
  statement: string | SQL,
  dialect: Dialect,
): { text: string; inputStyle: ParameterStyle | undefined } {
  return typeof statement === "string"
    ? { text: statement, inputStyle: undefined }
    : { text: statement.textFor(dialect), inputStyle: statement.inputStyle };
}

/**
 * Drivers disagree on several statements in one call (one runs them and reports the last count under the first
 * statement's type, another refuses): refused the same way everywhere, before anything is sent.
 */
export function oneStatementOnly(count: number): UnsupportedOperationError {
  return new UnsupportedOperationError(
    `The text holds ${count} statements; execute() and the select family run one statement per call. ` +
      "Run scripts with executeScript(), which runs each statement in turn. Nothing was run.",
  );
}

/** Whether the text is a COPY statement (the cached plan's operation; nothing is bound). */
export function isCopy(statement: string | SQL, dialect: Dialect, style: ParameterStyle): boolean {
  if (typeof statement !== "string" && !(statement instanceof SQL)) return false;
  const { text, inputStyle } = textOf(statement, dialect);
  return getPlan(text, style, dialect, inputStyle).operationType === "COPY";
}

export function prepareText(
  statement: string | SQL,
  params: Params | undefined,
  dialect: Dialect,
  style: ParameterStyle,
): Prepared {
  let text: string;
  let inputStyle: ParameterStyle | undefined;
  if (typeof statement === "string") {
    text = statement;
  } else if (statement instanceof SQL) {
    text = statement.textFor(dialect);
    inputStyle = statement.inputStyle;
    if (params === undefined) params = statement.params;
  } else {
    throw new SQLSpecError(`Cannot execute ${typeof statement}: expected a string, SQL object or query builder`);
  }
  const plan = getPlan(text, style, dialect, inputStyle);
  if (plan.statementCount > 1) throw oneStatementOnly(plan.statementCount);
  return { sql: plan.sql, values: plan.bind(params), operationType: plan.operationType, plan };
}

/**
 * Renders a builder for the session's own dialect and server (catalog types, version), then compiles it. Counted as
 * compiling until its caller resumes (a turn after the render, even one that awaited nothing): a call issued after it
 * that could run at once (a repeated SQLite upsert) waits its turn.
 */
export async function prepareBuilder(
  session: Session<any>,
  builder: QueryBuilder,
  params: Params | undefined,
): Promise<Prepared> {
  const state = internals.state(session);
  state.compiling++;
  try {
    return await renderBuilder(session, builder, params);
  } finally {
    state.compiling--;
  }
}

async function renderBuilder(
  session: Session<any>,
  builder: QueryBuilder,
  params: Params | undefined,
): Promise<Prepared> {
  if (params !== undefined) {
    throw new ParameterError("A query builder carries its own parameters; pass none to execute()");
  }
  const { adapter, dialect } = session;
  const style = adapter.parameterStyle;
  let metadata: ResultMetadata | undefined;
  if (adapter.capabilities.copy && builder.catalogTables) {
    const staged = await prepareMergeExecution(internals.bulkHost(session), builder);
    if (staged) {
      builder = staged;
      metadata = { strategy: "copy-merge" };
    }
  }
  const ctx = builder.catalogTables
    ? await buildContext(session, builder.catalogTables())
    : adapter.renderNeedsServer
      ? await serverContext(session)
      : undefined;
  const built = builder.build(dialect, ctx);
  // The renderer's placeholder style is a fact of the dialect's SQL text; `$n` text is read as `$n` only.
  const written = getRenderer(dialect).parameterStyle;
  const nativeStyle = written === ParameterStyle.NUMERIC ? written : undefined;
  if (written === style && Array.isArray(built.parameters)) {
    // already in the driver's style with its values in order: a ready plan, so the text is not lexed again
    // (a multi-row INSERT of a new batch size would otherwise be compiled, and cached, once per size)
    const ready: Prepared = {
      sql: built.sql,
      values: built.parameters,
      operationType: builtOperationType(built.sql),
      plan: undefined,
    };
    if (metadata) ready.metadata = metadata;
    return ready;
  }
  const plan = getPlan(built.sql, style, dialect, Array.isArray(built.parameters) ? nativeStyle : undefined);
  const prepared: Prepared = {
    sql: plan.sql,
    values: plan.bind(built.parameters),
    operationType: plan.operationType,
    plan,
  };
  if (metadata) prepared.metadata = metadata;
  return prepared;
}

async function buildContext(session: Session<any>, tables: readonly string[]): Promise<BuildContext> {
  const dictionary = session.dataDictionary;
  const version = await dictionary.getVersion();
  const columnTypes = new Map<string, Map<string, string>>();
  const uniqueKeys = new Map<string, string[][]>();
  for (const table of tables) {
    const cols = await dictionary.getColumns(table);
    columnTypes.set(table, new Map(cols.map((c) => [c.name, c.type])));
    if (version.versionNum > 0 && version.versionNum < 150000) {
      uniqueKeys.set(table, await dictionary.getUniqueKeys(table));
    }
  }
  return { columnTypes, uniqueKeys, ...(version.versionNum > 0 ? { serverVersionNum: version.versionNum } : {}) };
}

/** A statement's result; its command tag may say the catalog changed, or that a COMMIT was answered with ROLLBACK. */
export function ranResult<T>(session: Session<any>, p: Prepared, raw: RawResult, started: number): SQLResult<T> {
  if (raw.command !== undefined ? CATALOG_CHANGES.has(raw.command) : p.operationType === "DDL" && !p.internal) {
    internals.catalogChanged(session, raw.command ?? "DDL", p.sql);
  } else if (raw.command === "ROLLBACK" && isCommit(p.sql)) {
    throw rolledBackCommit();
  }
  return resultOf<T>(p.sql, p.values, p.operationType, raw, started, p.metadata);
}

export function resultOf<T>(
  sql: string,
  parameters: readonly unknown[],
  operationType: OperationType,
  raw: RawResult,
  started: number,
  metadata?: ResultMetadata,
): SQLResult<T> {
  return new SQLResult<T>({
    data: raw.rows as T[],
    rowsAffected: raw.rowsAffected,
    columnNames: raw.columns,
    operationType,
    statement: sql,
    parameters,
    executionTimeMs: performance.now() - started,
    lastInsertId: raw.lastInsertId,
    metadata: raw.metadata === undefined ? metadata : { ...raw.metadata, ...metadata },
  });
}

export function emptyRaw(): RawResult {
  return { rows: [], columns: [], rowsAffected: 0 };
}

/** A script statement's verb is CREATE, ALTER, DROP, … (for engines that send no command tag). */
function isDdl(statement: string, style: ParameterStyle, dialect: Dialect): boolean {
  try {
    return getPlan(statement, style, dialect, style).operationType === "DDL";
  } catch {
    return false;
  }
}

/** session.executeScript: each statement of the script in turn. */
export async function runScript(session: Session<any>, script: string | SQL): Promise<SQLResult> {
  const { adapter, dialect } = session;
  const text = typeof script === "string" ? script : script.textFor(dialect);
  if (internals.transactions(session).length !== 0) internals.sameTask(session, "executeScript()");
  const statements = scriptStatements(text, dialect);
  const started = performance.now();
  let total = 0;
  try {
    for (const stmt of statements) {
      const raw = await adapter.query(session.conn, stmt, [], {});
      total += raw.rowsAffected;
      if (raw.command === "ROLLBACK" && isCommit(stmt)) throw rolledBackCommit();
      if (raw.command !== undefined ? CATALOG_CHANGES.has(raw.command) : isDdl(stmt, adapter.parameterStyle, dialect)) {
        internals.catalogChanged(session, raw.command ?? "DDL", stmt);
      }
    }
  } catch (err) {
    throw internals.fail(session, err, text);
  }
  const raw: RawResult = { rows: [], columns: [], rowsAffected: total };
  return resultOf<Row>(text, [], "SCRIPT", raw, started, { statements: statements.length });
}

/** An empty page means "no match" unless it was asked for past the first row (or for no rows at all). */
function pagesPastEnd(filters: readonly StatementFilter[]): boolean {
  for (const f of filters) if (f.kind === "limitOffset" && (f.offset > 0 || f.limit === 0)) return true;
  return false;
}

/** A statement with filters applied (wrapped as a subquery); `pagination` false leaves out LIMIT/OFFSET filters. */
export function filtered(
  session: Session<any>,
  p: Prepared,
  filters: readonly StatementFilter[],
  pagination: boolean,
): Prepared {
  const f = applyFilters(p.sql, p.values, filters, session.adapter.parameterStyle, session.dialect, pagination);
  return { sql: f.sql, values: f.values, operationType: "SELECT", plan: undefined };
}

/** session.selectWithTotal: a page of rows and the total without the page's limits. */
export async function selectPageWithTotal<T>(
  session: Session<any>,
  statement: Statement,
  params: Params | undefined,
  options: SelectOptions<T> | undefined,
): Promise<[T[], number]> {
  const style = session.adapter.parameterStyle;
  const dialect = session.dialect;
  const prepared = isQueryBuilder(statement)
    ? await prepareBuilder(session, statement, params)
    : prepareText(statement, params, dialect, style);
  const filters = options?.filters ?? [];
  if (filters.length > 0) {
    // One statement, so one round trip and one snapshot: the page with a window count of every filtered row.
    const f = applyFilters(prepared.sql, prepared.values, filters, style, dialect, true, TOTAL_COLUMN);
    const result = await internals.run<T>(
      session,
      { sql: f.sql, values: f.values, operationType: "SELECT", plan: undefined },
      options,
    );
    const rows = result.data as Record<string, unknown>[];
    let total = 0;
    if (rows.length > 0) {
      total = Number(rows[0]?.[TOTAL_COLUMN]);
      // The helper column was added last, so deleting it restores each row's shape (a cheap map transition).
      for (const row of rows) delete row[TOTAL_COLUMN];
    } else if (pagesPastEnd(filters)) {
      // An empty page after an offset (or a zero limit) says nothing about the total: count, as before.
      total = await count(session, filtered(session, prepared, filters, false), options);
    }
    const data = options?.schema ? await validateRows(options.schema, result.data) : result.data;
    return [data, total];
  }
  // Without filters the statement is the user's own, its LIMIT/OFFSET inside: the page with a count of the rows
  // without them as a scalar subquery (one statement, one snapshot). Without LIMIT/OFFSET the rows are the total.
  const totalPlan = getPlan(prepared.sql, style, dialect, style).totalPlan(TOTAL_COLUMN);
  if (totalPlan === undefined) {
    const rows = await internals.run<T>(session, prepared, options);
    const data = options?.schema ? await validateRows(options.schema, rows.data) : rows.data;
    return [data, rows.data.length];
  }
  const result = await internals.run<T>(
    session,
    { sql: totalPlan.sql, values: totalPlan.bind(prepared.values), operationType: "SELECT", plan: totalPlan },
    options,
  );
  const page = result.data as Record<string, unknown>[];
  // An empty page says nothing about the total (its OFFSET may be past the end): count, as before.
  const total = page.length > 0 ? Number(page[0]?.[TOTAL_COLUMN]) : await count(session, prepared, options);
  for (const row of page) delete row[TOTAL_COLUMN];
  const data = options?.schema ? await validateRows(options.schema, result.data) : result.data;
  return [data, total];
}

/** `SELECT count(*)` over `base` with its top-level LIMIT/OFFSET dropped. */
async function count(session: Session<any>, base: Prepared, options: ExecuteOptions | undefined): Promise<number> {
  const style = session.adapter.parameterStyle;
  const countPlan = getPlan(base.sql, style, session.dialect, style).countPlan();
  const counted: Prepared = {
    sql: countPlan.sql,
    values: countPlan.bind(base.values),
    operationType: "SELECT",
    plan: countPlan,
  };
  return Number((await internals.run(session, counted, options)).scalar());
}

/** session.explain: the statement compiled as the session would run it, explained on its connection. */
export function explainOn(
  session: Session<any>,
  statement: Statement,
  paramsOrOptions: Params | ExecuteOptions | undefined,
  options: (ExplainOptions & ExecuteOptions) | undefined,
): Promise<ExplainResult> {
  const run: RunCompiled = (sql, values, opts) =>
    internals.run(session, { sql, values, operationType: "SELECT", plan: undefined }, opts);
  if (statement instanceof Explain) {
    if (options !== undefined) return explainStatement(session, statement, paramsOrOptions as Params, options, run);
    return explainStatement(session, statement, undefined, paramsOrOptions as ExecuteOptions | undefined, run);
  }
  return explainStatement(session, statement, paramsOrOptions as Params | undefined, options, run);
}
