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

/** A builder's output: SQL for one dialect and the values to bind. */
export interface BuiltStatement {
  /** The SQL text, identifiers quoted, placeholders in the dialect's native style. */
  sql: string;
  /** Positional values for positional dialects ($1 / ?), or a name → value record for named ones (:name / @name). */
  parameters: unknown[] | Record<string, unknown>;
}

/**
 * What a session accepts as a builder: every `sql.select`/`insertInto`/`update`/`deleteFrom`/`merge`/`upsert`
 * builder implements it.
 */
export interface QueryBuilder {
  /** Brand by which sessions recognise a builder (also one from another copy of sqlspec). */
  readonly [QUERY_BUILDER]: true;
  /** The dialect given when the builder was created, if any. */
  readonly dialect?: Dialect | undefined;
  /**
   * Renders the statement. No I/O.
   * @param dialect - Target dialect; default the builder's own, else `"postgres"`.
   * @param ctx - Catalog facts a session supplies; omit it when building by hand.
   * @throws {@link SQLBuilderError} when the statement is incomplete or invalid; {@link DialectNotSupportedError}
   * when the dialect cannot express it.
   */
  build(dialect?: DialectName, ctx?: BuildContext): BuiltStatement;
  /** Tables whose catalog column types/unique keys the renderer wants before build (MERGE from rows). */
  catalogTables?(): string[];
}

/** Whether `value` is a query builder (a {@link QueryBuilder}). */
export function isQueryBuilder(value: unknown): value is QueryBuilder {
  return (
    typeof value === "object" && value !== null && (value as { [QUERY_BUILDER]?: unknown })[QUERY_BUILDER] === true
  );
}
