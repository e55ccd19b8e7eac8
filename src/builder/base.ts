/**
 * What every builder shares: the QueryBuilder brand, build()/toSQL(), copy-on-write derivation, and the where
 * family used by SELECT, UPDATE and DELETE. Builders never mutate: each call returns a new builder around a new
 * node, so a derived builder can never change its parent.
 */
import {
  and,
  type CteNode,
  type Expr,
  hasNode,
  or,
  paramName,
  type SelectItem,
  type StatementNode,
} from "../core/ast/nodes.js";
import { getRenderer } from "../core/ast/render.js";
import { type BuildContext, type BuiltStatement, QUERY_BUILDER, type QueryBuilder } from "../core/builder-protocol.js";
import { SQLBuilderError } from "../core/errors.js";
import type { LimitOffsetFilter, OrderByFilter, StatementFilter } from "../core/filters.js";
import { RawFragment, SQL } from "../core/statement.js";
import { type Dialect, type DialectName, normalizeDialect, type Params } from "../core/types.js";
import { filterCondition } from "./filters.js";
import { aliasName, type ConditionInput, compared, condition, exprOf, nameExpr, selectItem } from "./input.js";

const KNOWN = new Set<string>(["postgres", "sqlite", "mysql", "duckdb", "oracle", "bigquery"]);

/** The dialect a builder renders for: `given` (aliases resolved), else the builder's own, else `"postgres"`. */
export function resolveDialect(given: DialectName | undefined, own: Dialect | undefined): Dialect {
  if (given === undefined) return own ?? "postgres";
  return KNOWN.has(given) ? (given as Dialect) : normalizeDialect(given);
}

/** Options of `builder.toSQL()`. */
export interface ToSQLOptions {
  /** Inline values as escaped literals (for logs). Never execute the result. */
  showParameters?: boolean;
  /** Catalog facts as a session would supply them (column types, unique keys, server version). */
  ctx?: BuildContext;
}

/**
 * What every builder shares: `build()`, `toSQL()`, `withDialect()`. Builders are immutable: each call returns a new
 * builder, so a builder can be reused and branched safely.
 */
export abstract class BaseBuilder<N extends StatementNode> implements QueryBuilder {
  /** Brand by which sessions recognise a builder. */
  readonly [QUERY_BUILDER] = true as const;

  /** @internal Builders are made by `sql.select(…)`, `sql.insertInto(…)`, …, not with `new`. */
  constructor(
    /** @internal The statement tree; its shape is not part of the public API. */
    readonly node: N,
    /** The dialect the builder was made for, if any; `build()` without a dialect uses it. */
    readonly dialect?: Dialect,
  ) {}

  /** A new builder of the same class around `node` (subclasses keep their constructor signature). */
  protected derive(node: N, dialect: Dialect | undefined = this.dialect): this {
    const Ctor = this.constructor as new (node: N, dialect?: Dialect) => this;
    return new Ctor(node, dialect);
  }

  protected patch(p: Partial<N>): this {
    return this.derive({ ...this.node, ...p });
  }

  /** The same statement bound to a dialect (used by build()/toSQL() when none is passed). */
  withDialect(dialect: DialectName): this {
    return this.derive(this.node, normalizeDialect(dialect));
  }

  /** Hook for builders whose node depends on the target dialect (the unified upsert). */
  protected prepare(_dialect: Dialect, _ctx?: BuildContext): StatementNode {
    return this.node;
  }

  /**
   * Renders SQL and parameters for `dialect` (default: the builder's own, else `"postgres"`). No I/O.
   * @throws {@link SQLBuilderError} when the statement is incomplete or invalid;
   * {@link DialectNotSupportedError} when the dialect cannot express it.
   */
  build(dialect?: DialectName, ctx?: BuildContext): BuiltStatement {
    const d = resolveDialect(dialect, this.dialect);
    return getRenderer(d).render(this.prepare(d, ctx), ctx);
  }

  /** SQL text for logs; with `showParameters` the values are inlined as correctly escaped literals. */
  toSQL(dialect?: DialectName | ToSQLOptions, opts?: ToSQLOptions): string {
    if (typeof dialect === "object") {
      opts = dialect;
      dialect = undefined;
    }
    const d = resolveDialect(dialect, this.dialect);
    return getRenderer(d).render(this.prepare(d, opts?.ctx), opts?.ctx, { inline: opts?.showParameters === true }).sql;
  }

  /** `toSQL()` with placeholders (never values). */
  toString(): string {
    return this.toSQL();
  }
}

export function cte(name: string, query: unknown, recursive: boolean, columns?: readonly string[]): CteNode {
  const n = aliasName(name, "with() name");
  let q: StatementNode | undefined;
  if (hasNode(query)) q = query.node;
  else if (typeof query === "string") {
    if (query.trim() !== "") q = { kind: "rawStatement", expr: { kind: "raw", sql: query } };
  } else if (query instanceof SQL || query instanceof RawFragment) {
    q = { kind: "rawStatement", expr: exprOf(query, "value", "raw") };
  }
  if (q === undefined) throw new SQLBuilderError(`with("${n}", …) needs a query builder, sql\`…\` or SQL text.`);
  if (columns === undefined) return { name: n, query: q, recursive };
  if (columns.length === 0) throw new SQLBuilderError(`with("${n}", …): the column list is empty.`);
  return { name: n, query: q, recursive, columns: columns.map((c) => aliasName(c, "with() column")) };
}

export function returningItems(cols: readonly unknown[]): SelectItem[] {
  return cols.length === 0 ? [{ expr: { kind: "raw", sql: "*" } }] : cols.map((c) => selectItem(c, "returning()"));
}

/** A readable parameter name after a column argument (which may also be sql.raw(…)). */
function valueName(column: unknown): string {
  return typeof column === "string" ? paramName(column) : "param";
}

/**
 * The where family, shared by SELECT, UPDATE and DELETE. Conditions from several calls are AND-ed (`orWhere`: OR-ed).
 */
export abstract class FilterableBuilder<
  N extends StatementNode & {
    /** @internal */
    readonly where?: Expr;
  },
> extends BaseBuilder<N> {
  protected addWhere(e: Expr, useOr = false): this {
    return this.patch({ where: useOr ? or(this.node.where, e) : and(this.node.where, e) } as Partial<N>);
  }

  /**
   * `where("p.price > ?", [10])` (any placeholder style), `where("id = :id", { id: 1 })`, `where(sql\`…\`)`, or
   * `where({ col: value })`: every object value is bound; null → IS NULL; an array → IN (= ANY on postgres);
   * undefined raises SQLBuilderError (use null for IS NULL).
   */
  where(cond: ConditionInput, params?: Params): this {
    return this.addWhere(condition(cond, params, this.dialect, "where()"));
  }

  /** Like `where`, but OR-ed with the conditions so far: `(earlier) OR cond`. */
  orWhere(cond: ConditionInput, params?: Params): this {
    return this.addWhere(condition(cond, params, this.dialect, "orWhere()"), true);
  }

  /**
   * `column IN (values)` (bound; `= ANY($1)` on PostgreSQL), or `column IN (subquery)` for a builder. An empty array
   * matches nothing.
   */
  whereIn(column: string, values: readonly unknown[] | QueryBuilder): this {
    return this.in(column, values, false);
  }

  /** `column NOT IN (values)` or `NOT IN (subquery)`. */
  whereNotIn(column: string, values: readonly unknown[] | QueryBuilder): this {
    return this.in(column, values, true);
  }

  private in(column: string, values: readonly unknown[] | QueryBuilder, not: boolean): this {
    const left = nameExpr(column, "whereIn() column");
    if (hasNode(values)) return this.addWhere({ kind: "in", left, not, list: { kind: "sub", query: values.node } });
    if (!Array.isArray(values))
      throw new SQLBuilderError(`whereIn(${JSON.stringify(column)}, …) needs an array or a subquery.`);
    return this.addWhere({ kind: "in", left, not, list: { kind: "param", name: valueName(column), value: values } });
  }

  /** `column BETWEEN low AND high` (both bounds included, both bound). */
  whereBetween(column: string, low: unknown, high: unknown): this {
    const name = valueName(column);
    return this.addWhere({
      kind: "between",
      left: nameExpr(column, "whereBetween() column"),
      low: exprOf(compared(low, "whereBetween() low bound"), `${name}_low`, "value"),
      high: exprOf(compared(high, "whereBetween() high bound"), `${name}_high`, "value"),
      not: false,
    });
  }

  /** `column LIKE pattern`; the pattern is bound, its `%` and `_` are wildcards. */
  whereLike(column: string, pattern: unknown): this {
    return this.like(column, pattern, false, false);
  }

  /** `column NOT LIKE pattern`. */
  whereNotLike(column: string, pattern: unknown): this {
    return this.like(column, pattern, false, true);
  }

  /** Case-insensitive LIKE: ILIKE on postgres/duckdb, `LOWER(col) LIKE LOWER(?)` elsewhere. */
  whereILike(column: string, pattern: unknown): this {
    return this.like(column, pattern, true, false);
  }

  private like(column: string, pattern: unknown, ci: boolean, not: boolean): this {
    const right = exprOf(compared(pattern, "The LIKE pattern"), valueName(column), "value");
    return this.addWhere({ kind: "like", left: nameExpr(column, "whereLike() column"), right, not, ci });
  }

  /** `EXISTS (subquery)`. @throws {@link SQLBuilderError} when `query` is not a builder. */
  whereExists(query: QueryBuilder): this {
    return this.exists(query, "EXISTS ");
  }

  /** `NOT EXISTS (subquery)`. */
  whereNotExists(query: QueryBuilder): this {
    return this.exists(query, "NOT EXISTS ");
  }

  private exists(query: QueryBuilder, keyword: string): this {
    if (!hasNode(query)) throw new SQLBuilderError("whereExists() needs a query builder.");
    return this.addWhere({ kind: "frag", parts: [keyword, ""], args: [{ kind: "sub", query: query.node }] });
  }

  /**
   * Applies statement filters (SearchFilter, InCollectionFilter, BeforeAfterFilter, …) as this statement's own
   * conditions, AND-ed with its WHERE: field names refer to the statement's source columns (`"p.name"` works). A
   * filter with a null/undefined collection or no bounds adds nothing. OrderByFilter and LimitOffsetFilter apply to
   * a select builder only (they add ORDER BY, and set LIMIT/OFFSET replacing any set before).
   */
  filter(...filters: readonly StatementFilter[]): this {
    let b: this = this;
    for (const f of filters) {
      if (f.kind === "orderBy" || f.kind === "limitOffset") b = b.paginate(f);
      else {
        const e = filterCondition(f);
        if (e !== undefined) b = b.filterWhere(e);
      }
    }
    return b;
  }

  /** Where a filter's condition goes (the select builder refuses a set operation, whose WHERE is one branch's). */
  protected filterWhere(e: Expr): this {
    return this.addWhere(e);
  }

  protected paginate(f: OrderByFilter | LimitOffsetFilter): this {
    throw new SQLBuilderError(
      `${f.kind === "orderBy" ? "OrderByFilter" : "LimitOffsetFilter"} orders or pages rows: it applies to a select builder only.`,
    );
  }

  /** `column IS NULL`. */
  whereNull(column: string): this {
    return this.addWhere({ kind: "null", left: nameExpr(column, "whereNull() column"), not: false });
  }

  /** `column IS NOT NULL`. */
  whereNotNull(column: string): this {
    return this.addWhere({ kind: "null", left: nameExpr(column, "whereNotNull() column"), not: true });
  }
}
