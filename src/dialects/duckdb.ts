/**
 * DuckDB: PostgreSQL-like syntax with `?` placeholders (ILIKE, DISTINCT ON, ON CONFLICT, RETURNING, bare OFFSET).
 * MERGE is refused in favour of INSERT … ON CONFLICT; there are no row locks.
 */

import type { LockNode, MergeNode } from "../core/ast/nodes.js";
import type { Dialect } from "../core/types.js";
import { BaseRenderer } from "./base.js";

export class DuckdbRenderer extends BaseRenderer {
  override readonly dialect: Dialect = "duckdb";
  protected override hasILike = true;

  protected override bytesLiteral(hex: string): string {
    return `from_hex('${hex}')`;
  }

  protected override lock(_l: LockNode): void {
    this.unsupported("SELECT … FOR UPDATE/SHARE", "DuckDB uses optimistic concurrency: drop the locking clause.");
  }

  protected override merge(_n: MergeNode): void {
    this.unsupported(
      "MERGE",
      "Use INSERT … ON CONFLICT: sql.insertInto(table).values(rows).onConflict(...keys).doUpdate(set), " +
        "or sql.upsert(table, { dialect: 'duckdb' }).",
    );
  }
}
