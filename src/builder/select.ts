/** SELECT: columns, FROM/joins, the where family, grouping, ordering, paging, CTEs, set operations, row locks. */

import {
  and,
  type Expr,
  hasNode,
  type JoinType,
  type LockNode,
  type OrderItem,
  type SelectNode,
  type SetOpNode,
} from "../core/ast/nodes.js";
import type { QueryBuilder } from "../core/builder-protocol.js";
import { SQLBuilderError } from "../core/errors.js";
import type { LimitOffsetFilter, OrderByFilter } from "../core/filters.js";
import type { RawFragment } from "../core/statement.js";
import type { Params } from "../core/types.js";
import { cte, FilterableBuilder } from "./base.js";
import { type ConditionInput, condition, nameExpr, selectItem, tableNode, tablePath } from "./input.js";

/** A table name (`products`, `products p`, `public.products`), a subquery builder, or SQL. */
export type TableInput = string | QueryBuilder | object;

function count(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new SQLBuilderError(`${what} must be a non-negative integer, got ${n}.`);
  return n;
}

/**
 * A SELECT statement; made by `sql.select(…)`. Immutable: every method returns a new builder.
 * Execute it with a session (`session.select(builder)`) or render it with `build(dialect)`.
 */
export class SelectBuilder extends FilterableBuilder<SelectNode> {
  /** The builder kind, `"select"`. */
  get kind(): "select" {
    return "select";
  }

  /**
   * Adds columns. A string is a column name (`"p.name"`, `"p.name AS product"`, quoted parts allowed), never SQL:
   * pass expressions as `sql.raw("count(*)")` or `` sql`lower(${sql.ref("name")})` ``.
   */
  select(...columns: unknown[]): SelectBuilder {
    return this.patch({ columns: [...this.node.columns, ...columns.map((c) => selectItem(c))] });
  }

  /** Same as {@link SelectBuilder.select}: adds columns to the select list. */
  columns(...columns: unknown[]): SelectBuilder {
    return this.select(...columns);
  }

  /** `SELECT DISTINCT` (or plain SELECT again with `distinct(false)`). */
  distinct(on = true): SelectBuilder {
    return this.patch({ distinct: on });
  }

  /** PostgreSQL/DuckDB `DISTINCT ON (…)`; names, or sql.raw(…) for expressions. */
  distinctOn(...columns: (string | RawFragment | object)[]): SelectBuilder {
    if (columns.length === 0) throw new SQLBuilderError("distinctOn() needs at least one column.");
    return this.patch({ distinctOn: columns.map((c) => nameExpr(c, "distinctOn()")) });
  }

  /**
   * Adds a FROM item: a table name (`"products"`, `"products p"`, `"public.products"`), a subquery builder (give it an
   * `alias`), or SQL. Several calls list several tables.
   */
  from(table: TableInput, alias?: string): SelectBuilder {
    return this.patch({ from: [...(this.node.from ?? []), tableNode(table, alias, "from()")] });
  }

  private addJoin(
    type: JoinType,
    lateral: boolean,
    table: TableInput,
    on: ConditionInput | undefined,
    alias?: string,
  ): SelectBuilder {
    const t = tableNode(table, alias, "join");
    if (type === "CROSS") return this.patch({ joins: [...(this.node.joins ?? []), { type, lateral, table: t }] });
    if (on === undefined) throw new SQLBuilderError(`A ${type} JOIN needs its ON condition.`);
    const j = { type, lateral, table: t, on: condition(on, undefined, this.dialect, "join … ON") };
    return this.patch({ joins: [...(this.node.joins ?? []), j] });
  }

  /**
   * `INNER JOIN table [alias] ON on`; `on` takes everything `where` takes (`"p.id = o.product_id"`, an object, a `sql`
   * template).
   */
  join(table: TableInput, on: ConditionInput, alias?: string): SelectBuilder {
    return this.addJoin("INNER", false, table, on, alias);
  }
  /** `INNER JOIN … ON …` (the same as {@link SelectBuilder.join}). */
  innerJoin(table: TableInput, on: ConditionInput, alias?: string): SelectBuilder {
    return this.addJoin("INNER", false, table, on, alias);
  }
  /** `LEFT JOIN … ON …`. */
  leftJoin(table: TableInput, on: ConditionInput, alias?: string): SelectBuilder {
    return this.addJoin("LEFT", false, table, on, alias);
  }
  /** `RIGHT JOIN … ON …`. */
  rightJoin(table: TableInput, on: ConditionInput, alias?: string): SelectBuilder {
    return this.addJoin("RIGHT", false, table, on, alias);
  }
  /** `FULL JOIN … ON …`. */
  fullJoin(table: TableInput, on: ConditionInput, alias?: string): SelectBuilder {
    return this.addJoin("FULL", false, table, on, alias);
  }
  /** `CROSS JOIN table` (no ON condition). */
  crossJoin(table: TableInput, alias?: string): SelectBuilder {
    return this.addJoin("CROSS", false, table, undefined, alias);
  }
  /** `INNER JOIN LATERAL (subquery) AS alias ON …` (ON defaults to TRUE). */
  joinLateral(table: TableInput, alias: string, on: ConditionInput = "TRUE"): SelectBuilder {
    return this.addJoin("INNER", true, table, on, alias);
  }
  /** `LEFT JOIN LATERAL (subquery) AS alias ON …` (ON defaults to TRUE). */
  leftJoinLateral(table: TableInput, alias: string, on: ConditionInput = "TRUE"): SelectBuilder {
    return this.addJoin("LEFT", true, table, on, alias);
  }
  /** `CROSS JOIN LATERAL (subquery) AS alias`. */
  crossJoinLateral(table: TableInput, alias: string): SelectBuilder {
    return this.addJoin("CROSS", true, table, undefined, alias);
  }

  /** Names, or sql.raw(…) for expressions. */
  groupBy(...columns: (string | RawFragment | object)[]): SelectBuilder {
    if (columns.length === 0) throw new SQLBuilderError("groupBy() needs at least one column.");
    return this.patch({
      groupBy: [...(this.node.groupBy ?? []), ...columns.map((c) => nameExpr(c, "groupBy()"))],
    });
  }

  /** Adds a HAVING condition (AND-ed with earlier ones); takes what `where` takes. */
  having(cond: ConditionInput, params?: Params): SelectBuilder {
    return this.patch({ having: and(this.node.having, condition(cond, params, this.dialect, "having()")) });
  }

  /** `orderBy("name")`, `orderBy("price", "desc", "last")`; the column is an identifier (sql.raw for expressions). */
  orderBy(
    column: string | RawFragment,
    direction?: "asc" | "desc" | "ASC" | "DESC",
    nulls?: "first" | "last" | "FIRST" | "LAST",
  ) {
    const item: { -readonly [K in keyof OrderItem]: OrderItem[K] } = { expr: nameExpr(column, "orderBy()") };
    if (direction !== undefined) item.dir = oneOf(direction, ["ASC", "DESC"], "orderBy() direction");
    if (nulls !== undefined) item.nulls = oneOf(nulls, ["FIRST", "LAST"], "orderBy() nulls");
    return this.patch({ orderBy: [...(this.node.orderBy ?? []), item] });
  }

  protected override filterWhere(e: Expr): this {
    if (this.node.setOps?.length) {
      throw new SQLBuilderError(
        "filter() on a UNION/INTERSECT/EXCEPT would filter its first branch only: filter a select over it instead " +
          '(sql.select("*").from(unionBuilder, "u").filter(…)).',
      );
    }
    return super.filterWhere(e);
  }

  protected override paginate(f: OrderByFilter | LimitOffsetFilter): this {
    if (f.kind === "limitOffset") return this.patch({ limit: f.limit, offset: f.offset });
    const item: OrderItem = { expr: { kind: "ref", path: f.path }, dir: f.direction === "desc" ? "DESC" : "ASC" };
    return this.patch({ orderBy: [...(this.node.orderBy ?? []), item] });
  }

  /** `LIMIT n`; replaces an earlier limit. @throws {@link SQLBuilderError} unless `n` is a non-negative integer. */
  limit(n: number): SelectBuilder {
    return this.patch({ limit: count(n, "limit") });
  }

  /** `OFFSET n`; replaces an earlier offset. @throws {@link SQLBuilderError} unless `n` is a non-negative integer. */
  offset(n: number): SelectBuilder {
    return this.patch({ offset: count(n, "offset") });
  }

  /** `WITH name [(columns)] AS (query)`; `query` is a builder, SQL, or a SQL string. */
  with(name: string, query: unknown, opts?: { recursive?: boolean; columns?: readonly string[] }): SelectBuilder {
    return this.patch({ with: [...(this.node.with ?? []), cte(name, query, opts?.recursive === true, opts?.columns)] });
  }

  /** `WITH RECURSIVE name [(columns)] AS (query)`. */
  withRecursive(name: string, query: unknown, columns?: readonly string[]): SelectBuilder {
    return this.with(name, query, columns ? { recursive: true, columns } : { recursive: true });
  }

  private setOp(op: SetOpNode["op"], all: boolean, query: QueryBuilder | object): SelectBuilder {
    if (!hasNode(query)) throw new SQLBuilderError(`${op} needs another query builder.`);
    return this.patch({ setOps: [...(this.node.setOps ?? []), { op, all, query: query.node }] });
  }
  /** `… UNION query` (duplicates removed). */
  union(query: QueryBuilder): SelectBuilder {
    return this.setOp("UNION", false, query);
  }
  /** `… UNION ALL query`. */
  unionAll(query: QueryBuilder): SelectBuilder {
    return this.setOp("UNION", true, query);
  }
  /** `… INTERSECT query`. */
  intersect(query: QueryBuilder): SelectBuilder {
    return this.setOp("INTERSECT", false, query);
  }
  /** `… INTERSECT ALL query`. */
  intersectAll(query: QueryBuilder): SelectBuilder {
    return this.setOp("INTERSECT", true, query);
  }
  /** `… EXCEPT query`. */
  except(query: QueryBuilder): SelectBuilder {
    return this.setOp("EXCEPT", false, query);
  }
  /** `… EXCEPT ALL query`. */
  exceptAll(query: QueryBuilder): SelectBuilder {
    return this.setOp("EXCEPT", true, query);
  }

  private lockWith(p: Partial<LockNode>): SelectBuilder {
    return this.patch({ lock: { mode: "UPDATE", ...this.node.lock, ...p } });
  }
  /** `FOR UPDATE`: lock the selected rows until the transaction ends (SQLite has no row locks). */
  forUpdate(): SelectBuilder {
    return this.lockWith({ mode: "UPDATE" });
  }
  /** `FOR SHARE`: a shared row lock until the transaction ends. */
  forShare(): SelectBuilder {
    return this.lockWith({ mode: "SHARE" });
  }
  /**
   * `… SKIP LOCKED`: leave out rows another transaction has locked (a `FOR UPDATE` lock unless another mode was set).
   */
  skipLocked(): SelectBuilder {
    return this.lockWith({ wait: "SKIP LOCKED" });
  }
  /** `… NOWAIT`: fail at once, instead of waiting, when a row is locked. */
  nowait(): SelectBuilder {
    return this.lockWith({ wait: "NOWAIT" });
  }
  /** `FOR UPDATE OF t1, t2`. */
  of(...tables: string[]): SelectBuilder {
    if (tables.length === 0) throw new SQLBuilderError("of() needs at least one table.");
    return this.lockWith({ of: tables.map((t) => tablePath(t, "of() table")) });
  }
}

/**
 * A SELECT statement. Strings in name positions (`select`, `from`, `orderBy`, where-object keys) are identifiers,
 * quoted per dialect; an expression goes through `sql.raw(…)` or a `sql` template. Values are always bound.
 *
 * @example
 * const stmt = sql
 *   .select("id", "name")
 *   .from("products", "p")
 *   .where("p.price > ?", [10])
 *   .where({ active: true })
 *   .orderBy("name")
 *   .limit(10);
 * const rows = await session.select<{ id: number; name: string }>(stmt);
 */
export function select(...columns: unknown[]): SelectBuilder {
  return new SelectBuilder({ kind: "select", columns: columns.map((c) => selectItem(c)) });
}

/** `v` upper-cased when it is one of `allowed`; anything else is a SQLBuilderError, never a silent default. */
function oneOf<T extends string>(v: unknown, allowed: readonly T[], what: string): T {
  const up = typeof v === "string" ? v.toUpperCase() : undefined;
  if (up !== undefined && (allowed as readonly string[]).includes(up)) return up as T;
  throw new SQLBuilderError(
    `${what} must be ${allowed.map((a) => `"${a.toLowerCase()}"`).join(" or ")}, got ${JSON.stringify(v)}.`,
  );
}
