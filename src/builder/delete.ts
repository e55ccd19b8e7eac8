/** DELETE FROM … [USING …] WHERE … RETURNING. */
import type { DeleteNode } from "../core/ast/nodes.js";
import type { Dialect } from "../core/types.js";
import { cte, FilterableBuilder, returningItems } from "./base.js";
import { tableNode } from "./input.js";
import type { TableInput } from "./select.js";

/** A DELETE statement; made by `sql.deleteFrom(table)`. Immutable: every method returns a new builder. */
export class DeleteBuilder extends FilterableBuilder<DeleteNode> {
  /** The builder kind, `"delete"`. */
  get kind(): "delete" {
    return "delete";
  }

  /** `DELETE FROM t USING other WHERE …` (PostgreSQL, DuckDB; MySQL renders its multi-table form). */
  using(table: TableInput, alias?: string): this {
    return this.patch({ using: [...(this.node.using ?? []), tableNode(table, alias, "using()")] });
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
 * A DELETE statement. `where()` takes SQL text with placeholders, a `sql` template, or an object of column values.
 *
 * @example
 * await session.execute(sql.deleteFrom("sessions").where("expires_at < :now", { now: new Date() }));
 * await session.execute(sql.deleteFrom("products").where({ id: [3, 4] }).returning("id"));
 */
export function deleteFrom(table: string, alias?: string, dialect?: Dialect): DeleteBuilder {
  return new DeleteBuilder({ kind: "delete", table: tableNode(table, alias, "deleteFrom()") }, dialect);
}
