/** UPDATE … SET … [FROM …] WHERE … RETURNING. `set()` is a data position: every value is bound. */
import { SQLBuilderError } from "../core/errors.js";
import type { Dialect } from "../core/types.js";
import { cte, FilterableBuilder, returningItems } from "./base.js";
import { dataSet, exprOf, paramName, tableNode, type UpdateNode } from "./nodes.js";
import type { TableInput } from "./select.js";

export class UpdateBuilder extends FilterableBuilder<UpdateNode> {
  get kind(): "update" {
    return "update";
  }

  /** `set({ price: 9.5 })` or `set("price", 9.5)`; cross into SQL with `sql.raw("price * 2")`. */
  set(values: Readonly<Record<string, unknown>> | string, value?: unknown): this {
    const items =
      typeof values === "string"
        ? [{ column: values, value: exprOf(value, paramName(values), "value") }]
        : dataSet(values);
    if (items.length === 0) throw new SQLBuilderError("set({}) is empty: pass at least one column.");
    return this.patch({ set: [...this.node.set, ...items] });
  }

  /** `UPDATE t SET … FROM other` (MySQL renders the multi-table form). */
  from(table: TableInput, alias?: string): this {
    return this.patch({ from: [...(this.node.from ?? []), tableNode(table, alias)] });
  }

  returning(...columns: unknown[]): this {
    return this.patch({ returning: returningItems(columns) });
  }

  with(name: string, query: unknown, opts?: { recursive?: boolean; columns?: readonly string[] }): this {
    return this.patch({ with: [...(this.node.with ?? []), cte(name, query, opts?.recursive === true, opts?.columns)] });
  }
}

export function update(table: string, alias?: string, dialect?: Dialect): UpdateBuilder {
  return new UpdateBuilder({ kind: "update", table: tableNode(table, alias), set: [] }, dialect);
}
