/** `sqlspec/loader`: named statements from `.sql` files. */

export { NamedSQL, type SqlSource } from "../core/typed-query.js";
export { type ColumnAnnotation, stripAnnotations } from "./annotations.js";
export { editDistance, type LoadedQuery, type LoaderStats, nearNames, SQLFileLoader } from "./loader.js";
export { type ParsedStatement, parseSqlText } from "./parse.js";
