/**
 * Statements known by name (from `.sql` files) and typed queries (from `sqlspec generate`). A TypedQuery is a
 * plain SQL object at runtime; its parameter and row types exist only for the compiler, so a session infers them
 * from the object itself: `session.select(queries.users.getById, { id: 1 })` needs no generic written by hand.
 */
import { SQL } from "./statement.js";
import type { Dialect, Params, Row } from "./types.js";

/** Where a named statement was defined: the file and the 1-based line of its `-- name:` line. */
export interface SqlSource {
  /** Path of the `.sql` file (or generated module). */
  readonly file: string;
  /** 1-based line of the `-- name:` line. */
  readonly line: number;
}

/** Options of {@link NamedSQL} and {@link typedQuery}. */
export interface NamedSQLOptions {
  /** The dialect the text is written for (`-- dialect:` line or the generator's engine). */
  dialect?: Dialect | undefined;
  /** Where the statement was defined, for error messages. */
  source?: SqlSource | undefined;
}

/** A SQL statement with a name, and the dialect it is written for when known. Any session method accepts it. */
export class NamedSQL extends SQL {
  /** The statement's name (`"get_user"`, or `"users.get_user"` for a file in a `users/` folder). */
  readonly name: string;
  /** The dialect the text is written for, when the file says (`-- dialect:`); otherwise undefined. */
  readonly dialect: Dialect | undefined;
  /** Where the statement was defined, when known. */
  readonly source: SqlSource | undefined;

  /**
   * @param name - The statement's name.
   * @param text - Its SQL, with placeholders in any {@link ParameterStyle}.
   * @param options - Its dialect and source location.
   */
  constructor(name: string, text: string, options: NamedSQLOptions = {}) {
    super(text);
    this.name = name;
    this.dialect = options.dialect;
    this.source = options.source;
  }
}

/**
 * Parameters of a typed query: a named object (an interface), a positional tuple, or `undefined` when it has no
 * placeholders. (`object` rather than `Record<string, unknown>`, which an interface does not satisfy.)
 */
export type QueryParameters = object | undefined;

declare const QUERY_TYPES: unique symbol;

/**
 * What the compiler knows about a statement: its parameter type `P`, row type `R` and first-column type `V` (for
 * `selectValue`). The types are phantom: nothing of them exists at runtime.
 */
export interface Typed<P extends QueryParameters, R, V> {
  /** @internal Phantom: carries the types for inference only; never set at runtime. */
  readonly [QUERY_TYPES]: { readonly params: P; readonly row: R; readonly value: V };
}

/** A named statement carrying its parameter, row and first-column types (from `sqlspec generate`). */
export interface TypedQuery<P extends QueryParameters = QueryParameters, R = Row, V = unknown>
  extends NamedSQL,
    Typed<P, R, V> {}

/**
 * A `sql` template with its row type written by the caller: `` sql<User>`SELECT …` ``. A session's select family
 * returns `User` rows for it, `execute` a `SQLResult<User>`; its values are bound already, so it takes no parameters.
 * The first column's type (`selectValue`) is one of the row's property types.
 */
export interface TypedSQL<R> extends SQL, Typed<undefined, R, R[keyof R]> {}

/** Used by generated modules: the statement text typed with its described parameters and rows. */
export function typedQuery<P extends QueryParameters, R, V = unknown>(
  name: string,
  text: string,
  options?: NamedSQLOptions,
): TypedQuery<P, R, V> {
  return new NamedSQL(name, text, options) as TypedQuery<P, R, V>;
}

/** The parameter argument a statement takes: its own type for a typed statement, any `Params` otherwise. */
export type ParamsOf<S> = [S] extends [Typed<infer P, any, any>] ? P : Params;

/**
 * The `(params, options)` arguments of a session method for statement `S`: required and exactly typed for a typed
 * query with placeholders, absent for one without, free-form for anything else.
 */
export type StatementArgs<S, O> = [S] extends [Typed<infer P, any, any>]
  ? [P] extends [undefined]
    ? [params?: undefined, options?: O]
    : [params: P, options?: O]
  : [params?: Params, options?: O];

/** The row type of statement `S`: a typed statement's own, else `T` (the method's generic, `Row` by default). */
export type RowOf<S, T> = [S] extends [Typed<any, infer R, any>] ? R : T;

/** The first column's type of statement `S` (for `selectValue`), else `T`. */
export type ValueOf<S, T> = [S] extends [Typed<any, any, infer V>] ? V : T;
