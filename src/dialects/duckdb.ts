/**
 * DuckDB: PostgreSQL-like syntax with `?` placeholders (ILIKE, DISTINCT ON, ON CONFLICT, RETURNING, bare OFFSET).
 * MERGE INTO (with BY SOURCE and RETURNING) exists from DuckDB 1.4: it renders when the session knows the engine is
 * that new, and is refused otherwise (a bare `toSQL()` cannot know) in favour of INSERT … ON CONFLICT. No row locks.
 */

import type { LockNode, MergeNode } from "../core/ast/nodes.js";
import type { ExplainSql } from "../core/explain.js";
import type { Dialect } from "../core/types.js";
import { BaseRenderer } from "./base.js";
import { DUCKDB_EXPLAIN } from "./explain.js";

/** DuckDB's version as major·10000 + minor·100 + patch: MERGE INTO arrived in 1.4.0. */
export const DUCKDB_MERGE_VERSION = 10400;

function versionText(v: number): string {
  return `${Math.floor(v / 10000)}.${Math.floor(v / 100) % 100}.${v % 100}`;
}

export class DuckdbRenderer extends BaseRenderer {
  override readonly dialect: Dialect = "duckdb";
  readonly explain: ExplainSql = DUCKDB_EXPLAIN;
  protected override hasILike = true;

  protected override bytesLiteral(hex: string): string {
    return `from_hex('${hex}')`;
  }

  protected override lock(_l: LockNode): void {
    this.unsupported("SELECT … FOR UPDATE/SHARE", "DuckDB uses optimistic concurrency: drop the locking clause.");
  }

  protected override merge(n: MergeNode): void {
    const v = this.ctx?.serverVersionNum;
    if (v !== undefined && v >= DUCKDB_MERGE_VERSION) {
      super.merge(n);
      return;
    }
    this.unsupported(
      v === undefined
        ? "MERGE (DuckDB 1.4+; run it through a session so the version is known)"
        : `MERGE on DuckDB ${versionText(v)} (it needs 1.4+)`,
      "Use INSERT … ON CONFLICT: sql.insertInto(table).values(rows).onConflict(...keys).doUpdate(set), " +
        "or sql.upsert(table, { dialect: 'duckdb' }).",
    );
  }
}
