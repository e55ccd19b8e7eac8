/**
 * INSERT: `values()` rows (objects with one key set, or tuples after `columns()`), `fromSelect()`, ON CONFLICT,
 * ON DUPLICATE KEY UPDATE and RETURNING. `values()` is a data position: every value is bound, strings included.
 * `doUpdate`/`onDuplicateKeyUpdate` are action positions: strings are SQL (`"EXCLUDED.name"`), others bound.
 */
import { type Expr, hasNode, type InsertNode, paramName, type StatementNode } from "../core/ast/nodes.js";
import { getRenderer } from "../core/ast/render.js";
import type { BuildContext } from "../core/builder-protocol.js";
import { DialectNotSupportedError, SQLBuilderError } from "../core/errors.js";
import type { Dialect } from "../core/types.js";
import { BaseBuilder, cte, returningItems } from "./base.js";
import {
  type ActionValues,
  actionSet,
  aliasName,
  type ConditionInput,
  checkSameKeys,
  condition,
  exprOf,
  isRowObject,
  tableNode,
} from "./input.js";

type Row = Readonly<Record<string, unknown>>;

/** An INSERT statement; made by `sql.insertInto(table)`. Immutable: every method returns a new builder. */
export class InsertBuilder<N extends InsertNode = InsertNode> extends BaseBuilder<N> {
  /** The builder kind, `"insert"`. */
  get kind(): "insert" {
    return "insert";
  }

  /** The insert columns; with them, values() also takes tuples: `.columns("a", "b").values([1, 2])`. */
  columns(...columns: string[]): this {
    if (this.node.rows.length > 0) {
      throw new SQLBuilderError("Call .columns() before .values(): the rows already fix the column list.");
    }
    if (columns.length === 0) throw new SQLBuilderError("columns() needs at least one column name.");
    return this.patch({
      columns: columns.map((c) => aliasName(c, "columns()")),
      keyed: false,
    } as unknown as Partial<N>);
  }

  /**
   * One row or many: `values({ id: 1, name: "x" })`, `values([{…}, {…}])`, or tuples after columns():
   * `values([1, "x"])`, `values([[1, "x"], [2, "y"]])`. Object rows must all have the same keys.
   */
  values(rows: object | readonly object[] | readonly unknown[]): this {
    if (typeof rows !== "object" || rows === null) {
      throw new SQLBuilderError("values() takes a row object, an array of rows, or tuples after .columns().");
    }
    let list: readonly (Row | readonly unknown[])[];
    if (Array.isArray(rows)) {
      const nested = rows.length > 0 && rows.every((r) => isRowObject(r) || Array.isArray(r));
      list = nested ? (rows as readonly (Row | readonly unknown[])[]) : [rows as readonly unknown[]];
    } else list = [rows as Row];
    if (list.length === 0) throw new SQLBuilderError("values([]) has no rows: pass at least one row.");
    const first = list[0]!;
    let columns = this.node.columns;
    let keyed = this.node.keyed === true;
    const out: Expr[][] = [];
    if (Array.isArray(first)) {
      if (keyed || columns.length === 0) {
        throw new SQLBuilderError("Tuple rows need .columns(…) first (or pass objects keyed by column).");
      }
      const names = columns.map(paramName);
      for (const t of list) {
        if (!Array.isArray(t)) throw new SQLBuilderError("values(): do not mix tuple rows and object rows.");
        if (t.length !== columns.length) {
          throw new SQLBuilderError(
            `INSERT has ${columns.length} column(s) (${columns.join(", ")}) but a row has ${t.length} value(s): ` +
              "give every row exactly one value per column.",
          );
        }
        out.push(t.map((v, i) => exprOf(v, names[i]!, "value")));
      }
    } else {
      const objs = list as Row[];
      if (objs.some((r) => !isRowObject(r))) {
        throw new SQLBuilderError("values(): do not mix tuple rows and object rows.");
      }
      if (columns.length === 0 || !keyed) {
        if (columns.length > 0 && Object.keys(first as Row).length !== columns.length) {
          throw new SQLBuilderError(
            `INSERT has ${columns.length} column(s) (${columns.join(", ")}) but the row has ` +
              `${Object.keys(first as Row).length} key(s): make them match.`,
          );
        }
        if (columns.length === 0) columns = Object.keys(first as Row);
        if (columns.length === 0) throw new SQLBuilderError("values({}): the row has no columns.");
        keyed = true;
      }
      // Compare every row with the column list fixed by the first row (or an earlier values() call).
      checkSameKeys(objs, "values()", columns);
      const names = columns.map(paramName);
      for (const r of objs) {
        const row: Expr[] = new Array(columns.length);
        for (let i = 0; i < columns.length; i++) row[i] = exprOf(r[columns[i]!], names[i]!, "value");
        out.push(row);
      }
    }
    return this.patch({ columns, keyed, rows: [...this.node.rows, ...out] } as unknown as Partial<N>);
  }

  /** `INSERT INTO t (columns) SELECT …`. */
  fromSelect(query: object, columns?: readonly string[]): this {
    if (!hasNode(query)) throw new SQLBuilderError("fromSelect() needs a query builder.");
    const select: StatementNode = query.node;
    const p = columns ? { select, columns: columns.map((c) => aliasName(c, "fromSelect() column")) } : { select };
    return this.patch(p as unknown as Partial<N>);
  }

  /**
   * `ON CONFLICT (cols) DO NOTHING | DO UPDATE SET …`. MySQL/MariaDB render ON DUPLICATE KEY UPDATE, which fires on a
   * duplicate in any unique key and cannot target `cols`: there call it without columns (or use
   * `onDuplicateKeyUpdate`, or `session.upsert`, which checks the key against the catalog); with columns
   * `doNothing()`/`doUpdate()` (or build()) raise DialectNotSupportedError (a SQLBuilderError).
   * @throws {@link SQLBuilderError} when the INSERT already has a conflict clause.
   */
  onConflict(...columns: string[]): OnConflictBuilder<this> {
    this.noConflictClauseYet("onConflict()");
    return new OnConflictBuilder(
      this,
      columns.map((c) => aliasName(c, "onConflict() column")),
    );
  }

  /**
   * MySQL `ON DUPLICATE KEY UPDATE`; strings are SQL (`"VALUES(name)"`), other values are bound.
   * @throws {@link SQLBuilderError} when the INSERT already has a conflict clause.
   */
  onDuplicateKeyUpdate(set: ActionValues): this {
    this.noConflictClauseYet("onDuplicateKeyUpdate()");
    return this.patch({ duplicate: actionSet(set, "onDuplicateKeyUpdate()") } as unknown as Partial<N>);
  }

  // Two conflict clauses would render two (MariaDB: syntax error), and replacing the first would drop a call.
  private noConflictClauseYet(call: string): void {
    if (this.node.conflict || this.node.duplicate) {
      throw new SQLBuilderError(
        `${call}: this INSERT already has its conflict clause (onConflict(…) or onDuplicateKeyUpdate(…)); ` +
          "an INSERT takes one. Start again from insertInto() for a different one.",
      );
    }
  }

  protected override prepare(dialect: Dialect, _ctx?: BuildContext): StatementNode {
    if (this.node.conflict) checkConflictTarget(dialect, this.node.conflict.columns);
    return this.node;
  }

  /** `RETURNING columns` (`*` when none are given); names, or `sql.raw(…)` for expressions. Not on MySQL/MariaDB. */
  returning(...columns: unknown[]): this {
    return this.patch({ returning: returningItems(columns) } as unknown as Partial<N>);
  }

  /** `WITH name [(columns)] AS (query)` before the statement; `query` is a builder, a `sql` template or SQL text. */
  with(name: string, query: unknown, opts?: { recursive?: boolean; columns?: readonly string[] }): this {
    const ctes = [...(this.node.with ?? []), cte(name, query, opts?.recursive === true, opts?.columns)];
    return this.patch({ with: ctes } as unknown as Partial<N>);
  }

  /** @internal Used by OnConflictBuilder. */
  withConflict(conflict: InsertNode["conflict"]): this {
    return this.patch({ conflict } as unknown as Partial<N>);
  }
}

/** The step after `onConflict(…)`: finish with `doNothing()` or `doUpdate(…)`, which return the insert builder. */
export class OnConflictBuilder<B extends InsertBuilder<any>> {
  /** @internal Made by `InsertBuilder.onConflict`. */
  constructor(
    private readonly parent: B,
    private readonly columns: readonly string[],
  ) {}

  /** `DO NOTHING`: conflicting rows are skipped (MySQL renders a no-op ON DUPLICATE KEY UPDATE). */
  doNothing(): B {
    if (this.parent.dialect) checkConflictTarget(this.parent.dialect, this.columns);
    return this.parent.withConflict({ columns: this.columns, action: "nothing" });
  }

  /**
   * `DO UPDATE SET …`. `set` is an action position: `{ name: "EXCLUDED.name", hits: "t.hits + 1", price: 9.5 }`
   * (strings are SQL, other values bound), or a column list `["name", "price"]` meaning `name = EXCLUDED.name, …`.
   * `where` limits which conflicting rows are updated.
   */
  doUpdate(set: ActionValues | readonly string[], opts?: { where?: ConditionInput }): B {
    if (this.parent.dialect) checkConflictTarget(this.parent.dialect, this.columns);
    const items = actionSet(set, "doUpdate()", "excluded");
    const where =
      opts?.where === undefined ? undefined : condition(opts.where, undefined, this.parent.dialect, "doUpdate() where");
    return this.parent.withConflict(
      where
        ? { columns: this.columns, action: "update", set: items, where }
        : { columns: this.columns, action: "update", set: items },
    );
  }
}

/**
 * A renderer whose conflict clause is ON DUPLICATE KEY UPDATE fires on any unique key: conflict columns it cannot
 * write are refused rather than dropped (the statement would update a row matched by another key).
 */
function checkConflictTarget(dialect: Dialect, columns: readonly string[]): void {
  if (columns.length === 0 || getRenderer(dialect).conflictClause !== "on-duplicate-key") return;
  const cols = columns.map((c) => JSON.stringify(c)).join(", ");
  throw new DialectNotSupportedError(
    `onConflict(${cols}): ${dialect}'s ON DUPLICATE KEY UPDATE cannot target conflict columns — it fires on a ` +
      "duplicate in any unique key, so the key would be ignored. Use .onConflict() without columns or " +
      ".onDuplicateKeyUpdate(set) to accept that, or session.upsert(table, rows, { on: [...] }), which checks the " +
      "key is a unique key of the table.",
  );
}

/**
 * An INSERT statement: `values()` binds every value (rows are objects keyed by column, or tuples after
 * `columns()`); `onConflict(…).doUpdate(…)` / `onDuplicateKeyUpdate(…)` take SQL expressions.
 *
 * @example
 * const stmt = sql
 *   .insertInto("products")
 *   .values([{ id: 1, name: "Widget" }, { id: 2, name: "Gadget" }])
 *   .onConflict("id")
 *   .doUpdate({ name: "EXCLUDED.name" })
 *   .returning("id");
 * const ids = await session.select<{ id: number }>(stmt);
 */
export function insertInto(table: string, alias?: string, dialect?: Dialect): InsertBuilder {
  return new InsertBuilder(
    { kind: "insert", table: tableNode(table, alias, "insertInto()"), columns: [], rows: [] },
    dialect,
  );
}
