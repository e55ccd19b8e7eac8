import { DialectNotSupportedError } from "./errors.js";

/** A result row as returned by a driver. */
export type Row = Record<string, unknown>;

/** Dialects the renderers know. Adapters exist for the first four. */
export type Dialect = "postgres" | "sqlite" | "mysql" | "duckdb" | "oracle" | "bigquery";

/**
 * Values bound by name: any object whose own properties name the placeholders, so an interface or a class
 * instance is accepted as well as an object literal. Every placeholder needs a property; unused properties raise.
 */
export type NamedParams = object;

/** Values bound to a statement: positional (an array, in placeholder order) or by name. */
export type Params = readonly unknown[] | NamedParams;

/**
 * The column names of row type `R`: its string keys (`"id" | "name"` for `interface User { id; name }`), or any
 * string for untyped rows (`Record<string, unknown>`) and value arrays.
 */
export type ColumnOf<R> = [R] extends [readonly unknown[]] ? string : Extract<keyof R, string>;

/** The kind of statement a result reports (`SQLResult.operationType`), from its leading keyword. */
export type OperationType = "SELECT" | "INSERT" | "UPDATE" | "DELETE" | "MERGE" | "DDL" | "SCRIPT" | "COPY" | "EXECUTE";

/**
 * Placeholder styles: any of them is accepted in statement text and converted to the adapter's native style.
 * Pass one as `new SQL(text, params, { inputStyle })` to recognise only that style.
 */
export const ParameterStyle = {
  /** `?` */
  QMARK: "qmark",
  /** `$1` */
  NUMERIC: "numeric",
  /** `:1` */
  POSITIONAL_COLON: "positional_colon",
  /** `:name` */
  NAMED_COLON: "named_colon",
  /** `@name` */
  NAMED_AT: "named_at",
  /** `$name` */
  NAMED_DOLLAR: "named_dollar",
  /** `%(name)s` */
  NAMED_PYFORMAT: "pyformat_named",
  /** `%s` */
  POSITIONAL_PYFORMAT: "pyformat_positional",
} as const;
/** One of the {@link ParameterStyle} values. */
export type ParameterStyle = (typeof ParameterStyle)[keyof typeof ParameterStyle];

/**
 * Every name a dialect option accepts: the dialects and their aliases. A misspelt name does not compile;
 * `normalizeDialect` parses names read at run time (case-insensitively) and raises on unknown ones.
 */
export type DialectName = Dialect | "postgresql" | "pg" | "pglite" | "sqlite3" | "mariadb";

const DIALECT_ALIASES: Record<DialectName, Dialect> = {
  postgres: "postgres",
  postgresql: "postgres",
  pg: "postgres",
  pglite: "postgres",
  sqlite: "sqlite",
  sqlite3: "sqlite",
  mysql: "mysql",
  mariadb: "mysql",
  duckdb: "duckdb",
  oracle: "oracle",
  bigquery: "bigquery",
};

export const KNOWN_DIALECTS: readonly Dialect[] = ["postgres", "sqlite", "mysql", "duckdb", "oracle", "bigquery"];

/** Resolves a dialect name case-insensitively (`postgresql` and `pg` are aliases). Unknown names raise. */
export function normalizeDialect(name: DialectName | (string & {})): Dialect {
  const hit = (DIALECT_ALIASES as Record<string, Dialect | undefined>)[String(name).toLowerCase()];
  if (hit === undefined) {
    throw new DialectNotSupportedError(
      `Unknown dialect "${name}". Known dialects: ${KNOWN_DIALECTS.join(", ")} (aliases: postgresql, pg, sqlite3, mariadb).`,
    );
  }
  return hit;
}
