import type { Dialect, DialectName } from "./types.js";

/** Brand that lets the session recognise any builder without importing builder/. */
export const QUERY_BUILDER: unique symbol = Symbol.for("sqlspec.queryBuilder") as never;

/** Facts a session supplies when it renders a builder for its own server. */
export interface BuildContext {
  /** Catalog column types: table name (as written in the builder) → column → formatted type, e.g. "numeric(10,2)". */
  columnTypes?: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Unique/primary key column sets per table (MERGE → INSERT … ON CONFLICT rewrite on PostgreSQL < 15). */
  uniqueKeys?: ReadonlyMap<string, readonly (readonly string[])[]>;
  /** PostgreSQL server_version_num (e.g. 150004); capability checks use it. Undefined = assume newest. */
  serverVersionNum?: number;
  /** The server behind the dialect when it changes the SQL, e.g. "mysql" vs "mariadb" (ON DUPLICATE KEY UPDATE form). */
  serverFlavor?: string;
}

export interface BuiltStatement {
  sql: string;
  /** Positional values for positional dialects ($1 / ?), or a name → value record for named ones (:name / @name). */
  parameters: unknown[] | Record<string, unknown>;
}

export interface QueryBuilder {
  readonly [QUERY_BUILDER]: true;
  /** The dialect given when the builder was created, if any. */
  readonly dialect?: Dialect | undefined;
  build(dialect?: DialectName, ctx?: BuildContext): BuiltStatement;
  /** Tables whose catalog column types/unique keys the renderer wants before build (MERGE from rows). */
  catalogTables?(): string[];
}

export function isQueryBuilder(value: unknown): value is QueryBuilder {
  return (
    typeof value === "object" && value !== null && (value as { [QUERY_BUILDER]?: unknown })[QUERY_BUILDER] === true
  );
}
