/**
 * EXPLAIN: `sql.explain(statement, options)` wraps a statement, and `session.explain(…)` runs it and reads the plan.
 * The wrapped statement keeps its bound values. What EXPLAIN can show differs per engine, so the dialect's renderer
 * writes the prefix (and refuses an option its engine lacks, before any I/O) and reads the plan back
 * ({@link ExplainSql}).
 */
import { getRenderer } from "./ast/render.js";
import {
  type BuildContext,
  type BuiltStatement,
  isQueryBuilder,
  QUERY_BUILDER,
  type QueryBuilder,
} from "./builder-protocol.js";
import { ParameterError } from "./errors.js";
import { SQL } from "./statement.js";
import { type Dialect, type DialectName, normalizeDialect, ParameterStyle, type Row } from "./types.js";

/** The plan's form: `"text"` (lines, the default) or `"json"` (the engine's JSON plan document, parsed). */
export type ExplainFormat = "text" | "json";

/**
 * What EXPLAIN shows. An option the engine lacks raises DialectNotSupportedError before anything is sent; `false` for
 * an option the engine lacks is accepted (it asks for what the engine does anyway).
 *
 * | option | PostgreSQL | MySQL / MariaDB | SQLite | DuckDB |
 * |---|---|---|---|---|
 * | `analyze` | `EXPLAIN (ANALYZE)` | `EXPLAIN ANALYZE` / MariaDB `ANALYZE` | — | `EXPLAIN ANALYZE` |
 * | `format: "json"` | `FORMAT JSON` | `FORMAT=JSON` (MySQL: not with `analyze`) | — | `(FORMAT JSON)` |
 * | `verbose`, `costs`, `buffers`, `settings` | yes | — | — | — |
 *
 * **`analyze` runs the statement**: an INSERT/UPDATE/DELETE explained with `analyze` writes, unless `rollback: true`.
 */
export interface ExplainOptions<F extends ExplainFormat = ExplainFormat> {
  /** Run the statement and report actual rows and times (it writes, for DML, unless `rollback`). Default false. */
  analyze?: boolean;
  /** `"text"` (default) or `"json"`. */
  format?: F;
  /** PostgreSQL: output columns, schema-qualified names and more detail. */
  verbose?: boolean;
  /** PostgreSQL: estimated costs (shown by default; `false` hides them). */
  costs?: boolean;
  /** PostgreSQL: buffer usage (with `analyze`; PostgreSQL 13+ also without). */
  buffers?: boolean;
  /** PostgreSQL 12+: configuration parameters that differ from their defaults and affect the plan. */
  settings?: boolean;
  /**
   * Run the EXPLAIN in a transaction that is rolled back (a savepoint inside an open transaction), so `analyze` of
   * DML leaves nothing behind. Where the engine has no savepoints (DuckDB) it is refused inside a transaction.
   * Default false: the statement's effects stay, as with a hand-written EXPLAIN ANALYZE.
   */
  rollback?: boolean;
}

/** A plan read by `session.explain`: what ran and the engine's rows as returned. */
interface ExplainResultBase {
  /** The EXPLAIN statement that ran (placeholders in the adapter's style). */
  readonly statement: string;
  /** The values bound to it: the wrapped statement's own. */
  readonly parameters: readonly unknown[];
  /** The engine's rows as it returned them (PostgreSQL's `QUERY PLAN` rows, SQLite's `id/parent/detail`, …). */
  readonly rows: Row[];
  /** Whether the statement ran (`analyze`). */
  readonly analyzed: boolean;
  /** Whether its effects were rolled back (`rollback`). */
  readonly rolledBack: boolean;
}

/** A JSON plan (`format: "json"`): the engine's plan document, parsed (PostgreSQL: an array with one `{ Plan }`). */
export interface JsonExplainResult extends ExplainResultBase {
  /** Always `"json"`. */
  readonly format: "json";
  /** The parsed JSON plan as the engine wrote it. */
  readonly plan: unknown;
}

/** A text plan: one entry per line (SQLite's tree indented by depth; MySQL's table rows as `column=value` pairs). */
export interface TextExplainResult extends ExplainResultBase {
  /** Always `"text"`. */
  readonly format: "text";
  /** The plan's lines. */
  readonly lines: string[];
}

/** What `session.explain` resolves to for format `F`. */
export type ExplainResult<F extends ExplainFormat = ExplainFormat> = F extends "json"
  ? JsonExplainResult
  : TextExplainResult;

/**
 * A dialect's EXPLAIN: the prefix for options (raising for one the engine lacks) and how its rows read back.
 * @internal
 */
export interface ExplainSql {
  /** `EXPLAIN …` to put before the statement; throws DialectNotSupportedError for an option the engine lacks. */
  prefix(options: ExplainOptions, ctx: BuildContext | undefined): string;
  /** The parsed JSON plan from the result rows. */
  plan(rows: readonly Row[], columns: readonly string[]): unknown;
  /** The text plan's lines from the result rows. */
  lines(rows: readonly Row[], columns: readonly string[]): string[];
}

const FORMATS = new Set<string>(["text", "json"]);
const FLAGS = ["analyze", "verbose", "costs", "buffers", "settings", "rollback"] as const;

/** Checks option types (ParameterError, before any I/O); the dialect checks what its engine supports. */
export function checkExplainOptions(options: ExplainOptions | undefined): void {
  if (options === undefined) return;
  if (options.format !== undefined && !FORMATS.has(options.format)) {
    throw new ParameterError(`explain() format must be "text" or "json", got ${JSON.stringify(options.format)}`);
  }
  for (const flag of FLAGS) {
    const v = options[flag];
    if (v !== undefined && typeof v !== "boolean") {
      throw new ParameterError(`explain() option ${flag} must be a boolean, got ${typeof v}`);
    }
  }
}

/** The statement wrapped by {@link Explain}: a builder, a `SQL` (its values stay bound) or SQL text without values. */
export type ExplainTarget = QueryBuilder | SQL | string;

/**
 * `EXPLAIN` around a statement, rendered for the session's dialect: run it with `session.explain(e)` (the plan,
 * typed by format) or `session.execute(e)` (the engine's rows). The wrapped statement's values stay bound.
 *
 * @example
 * const e = sql.explain(sql.select("*").from("orders").where({ customer: 42 }), { analyze: true, format: "json" });
 * const { plan } = await session.explain(e);
 * e.build("postgres").sql; // EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM "orders" WHERE "customer" = $1
 */
export class Explain<F extends ExplainFormat = ExplainFormat> implements QueryBuilder {
  /** Brand by which sessions recognise a builder. */
  readonly [QUERY_BUILDER] = true as const;
  /** The statement explained. */
  readonly target: ExplainTarget;
  /** The EXPLAIN options. */
  readonly options: Readonly<ExplainOptions<F>>;
  /** The dialect of the wrapped builder, if it has one. */
  readonly dialect: Dialect | undefined;

  /**
   * @param target - A builder, a `SQL` object (values included) or SQL text without values.
   * @param options - What EXPLAIN shows; bad values raise ParameterError here.
   */
  constructor(target: ExplainTarget, options: ExplainOptions<F> = {}) {
    if (target instanceof Explain) throw new ParameterError("explain() of an explain() statement");
    if (!isQueryBuilder(target) && !(target instanceof SQL) && typeof target !== "string") {
      throw new ParameterError(`explain() takes a builder, a SQL object or SQL text, got ${typeof target}`);
    }
    checkExplainOptions(options);
    this.target = target;
    this.options = Object.freeze({ ...options });
    this.dialect = isQueryBuilder(target) ? target.dialect : undefined;
  }

  /**
   * Renders `EXPLAIN … <statement>` for the dialect. No I/O.
   * @throws DialectNotSupportedError for an option the dialect's engine lacks; ParameterError for bad values.
   */
  build(dialect?: DialectName, ctx?: BuildContext): BuiltStatement {
    const d = dialect === undefined ? (this.dialect ?? "postgres") : normalizeDialect(dialect);
    const renderer = getRenderer(d);
    if (renderer.explain === undefined) {
      throw new ParameterError(`explain() is not available for the ${d} dialect`);
    }
    const prefix = renderer.explain.prefix(this.options, ctx);
    const inner = innerStatement(this.target, d, renderer.parameterStyle, ctx);
    return { sql: prefix + inner.sql, parameters: inner.parameters };
  }
}

function innerStatement(
  target: ExplainTarget,
  dialect: Dialect,
  style: ParameterStyle,
  ctx: BuildContext | undefined,
): BuiltStatement {
  if (isQueryBuilder(target)) return target.build(dialect, ctx);
  const statement = typeof target === "string" ? new SQL(target) : target;
  const positional = style === ParameterStyle.NUMERIC ? style : ParameterStyle.QMARK;
  return statement.compile(positional, dialect);
}
