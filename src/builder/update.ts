/** UPDATE … SET … [FROM …] WHERE … RETURNING. `set()` is a data position: every value is bound. */
import { paramName, type UpdateNode } from "../core/ast/nodes.js";
import { SQLBuilderError } from "../core/errors.js";
import { parseName } from "../core/identifiers.js";
import type { Dialect } from "../core/types.js";
import { cte, FilterableBuilder, returningItems } from "./base.js";
import { dataSet, exprOf, tableNode } from "./input.js";
import type { TableInput } from "./select.js";

/** An UPDATE statement; made by `sql.update(table)`. Immutable: every method returns a new builder. */
export class UpdateBuilder extends FilterableBuilder<UpdateNode> {
  /** The builder kind, `"update"`. */
  get kind(): "update" {
    return "update";
  }

  /** `set({ price: 9.5 })` or `set("price", 9.5)`; cross into SQL with `sql.raw("price * 2")`. */
  set(values: object | string, value?: unknown): this {
    let items: UpdateNode["set"];
    if (typeof values === "string") {
      if (value === undefined) {
        throw new SQLBuilderError(`set("${values}", value) needs a value (null for NULL, sql.raw(…) for SQL).`);
      }
      items = [{ column: parseName(values, "set() column"), value: exprOf(value, paramName(values), "value") }];
    } else items = dataSet(values, "set()");
    return this.patch({ set: [...this.node.set, ...items] });
  }

  /** `UPDATE t SET … FROM other` (MySQL renders the multi-table form). */
  from(table: TableInput, alias?: string): this {
    return this.patch({ from: [...(this.node.from ?? []), tableNode(table, alias, "from()")] });
  }

  /** `RETURNING columns` (`*` when none are given). Not on MySQL/MariaDB. */
  returning(...columns: unknown[]): this {
    return this.patch({ returning: returningItems(columns) });
  }

  /** `WITH name [(columns)] AS (query)` before the statement. */
  with(name: string, query: unknown, opts?: { recursive?: boolean; columns?: readonly string[] }): this {
    return this.patch({ with: [...(this.node.with ?? []), cte(name, query, opts?.recursive === true, opts?.columns)] });
  }
}

/**
 * An UPDATE statement: `set()` binds every value (cross into SQL with `sql.raw`), `where()` as on SELECT.
 *
 * @example
 * const r = await session.execute(sql.update("products").set({ price: 9.5 }).where({ id: 1 }));
 * r.rowsAffected; // 1
 */
export function update(table: string, alias?: string, dialect?: Dialect): UpdateBuilder {
  return new UpdateBuilder({ kind: "update", table: tableNode(table, alias, "update()"), set: [] }, dialect);
}
