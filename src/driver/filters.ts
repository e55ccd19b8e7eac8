import { quoteQualified } from "../core/identifiers.js";
import { scan, TK_COMMENT, TK_SEMI, TokenBuffer } from "../core/lexer.js";
import { placeholderFor } from "../core/parameters.js";
import type { Dialect, ParameterStyle } from "../core/types.js";

/**
 * Statement filters: composable refinements applied to a query by wrapping it as a subquery, so they work for any
 * statement text without parsing it. Field names are identifiers (quoted); values are always bound.
 */
export type StatementFilter =
  | LimitOffsetFilter
  | OrderByFilter
  | SearchFilter
  | InCollectionFilter
  | NotInCollectionFilter;

export class LimitOffsetFilter {
  readonly kind = "limitOffset";
  constructor(
    readonly limit: number,
    readonly offset = 0,
  ) {}
}

export class OrderByFilter {
  readonly kind = "orderBy";
  constructor(
    readonly field: string,
    readonly direction: "asc" | "desc" = "asc",
  ) {}
}

/** `field LIKE %value%` (case-insensitive by default) over one or more fields, OR-ed. */
export class SearchFilter {
  readonly kind = "search";
  readonly fields: readonly string[];
  constructor(
    field: string | readonly string[],
    readonly value: string,
    readonly ignoreCase = true,
  ) {
    this.fields = typeof field === "string" ? [field] : field;
  }
}

/** `field IN (values)`. `null`/`undefined` values mean no filter (as in sqlspec); an empty list matches nothing. */
export class InCollectionFilter {
  readonly kind = "inCollection";
  constructor(
    readonly field: string,
    readonly values: readonly unknown[] | null | undefined,
  ) {}
}

/** `field NOT IN (values)`. `null`/`undefined` values or an empty list mean no filter. */
export class NotInCollectionFilter {
  readonly kind = "notInCollection";
  constructor(
    readonly field: string,
    readonly values: readonly unknown[] | null | undefined,
  ) {}
}

/**
 * The statement without what may follow its last meaningful token (whitespace, `;`, comments), so it can be wrapped
 * as a subquery: a trailing `;` or `-- comment` would otherwise break or swallow the wrapper's `)`.
 */
function statementBody(sql: string, dialect: Dialect): string {
  let end = sql.length;
  while (end > 0 && sql.charCodeAt(end - 1) <= 32) end--;
  const last = sql.charCodeAt(end - 1);
  // fast path: ends in a word, `)` or quote, and has no comment marker anywhere that could hide the end
  if (last !== 59 && last !== 47 && !sql.includes("--") && !(dialect === "mysql" && sql.includes("#"))) {
    return end === sql.length ? sql : sql.slice(0, end);
  }
  const buf = new TokenBuffer();
  scan(buf, sql, dialect, undefined);
  let k = buf.count - 1;
  while (k >= 0 && (buf.kind[k] === TK_COMMENT || buf.kind[k] === TK_SEMI)) k--;
  return k < 0 ? "" : sql.slice(0, buf.end[k]);
}

export interface FilteredStatement {
  sql: string;
  values: unknown[];
}

/**
 * Wraps `sql` (already in the target style, with `values`) as `SELECT * FROM (sql) AS _sqlspec_f WHERE … ORDER BY …
 * LIMIT … OFFSET …`. `pagination: false` leaves out ORDER BY/LIMIT/OFFSET (the count query of selectWithTotal).
 */
export function applyFilters(
  sql: string,
  values: readonly unknown[],
  filters: readonly StatementFilter[],
  style: ParameterStyle,
  dialect: Dialect,
  pagination = true,
): FilteredStatement {
  const out = values.slice();
  const bind = (v: unknown) => {
    out.push(v);
    return placeholderFor(style, out.length - 1);
  };
  const where: string[] = [];
  const order: string[] = [];
  let limit: LimitOffsetFilter | undefined;
  for (const f of filters) {
    switch (f.kind) {
      case "search": {
        const op = f.ignoreCase ? (dialect === "postgres" || dialect === "duckdb" ? "ILIKE" : "LIKE") : "LIKE";
        const pattern = `%${f.value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        // PostgreSQL and MySQL escape with backslash by default; SQLite and DuckDB need it spelled out.
        const escapeClause = dialect === "sqlite" || dialect === "duckdb" ? " ESCAPE '\\'" : "";
        const conds = f.fields.map((field) => {
          const col = quoteQualified(field, dialect);
          return f.ignoreCase && op === "LIKE"
            ? `LOWER(${col}) LIKE LOWER(${bind(pattern)})${escapeClause}`
            : `${col} ${op} ${bind(pattern)}${escapeClause}`;
        });
        where.push(conds.length === 1 ? (conds[0] as string) : `(${conds.join(" OR ")})`);
        break;
      }
      case "inCollection":
      case "notInCollection": {
        if (f.values === null || f.values === undefined) break; // no filter
        const col = quoteQualified(f.field, dialect);
        const not = f.kind === "notInCollection";
        if (f.values.length === 0) {
          where.push(not ? "1 = 1" : "1 = 0");
        } else if (dialect === "postgres") {
          where.push(not ? `NOT (${col} = ANY(${bind(f.values)}))` : `${col} = ANY(${bind(f.values)})`);
        } else {
          where.push(`${col} ${not ? "NOT IN" : "IN"} (${f.values.map(bind).join(", ")})`);
        }
        break;
      }
      case "orderBy":
        order.push(`${quoteQualified(f.field, dialect)} ${f.direction === "desc" ? "DESC" : "ASC"}`);
        break;
      case "limitOffset":
        limit = f;
        break;
    }
  }
  let text = `SELECT * FROM (${statementBody(sql, dialect)}) AS _sqlspec_f`;
  if (where.length > 0) text += ` WHERE ${where.join(" AND ")}`;
  if (pagination) {
    if (order.length > 0) text += ` ORDER BY ${order.join(", ")}`;
    if (limit) text += ` LIMIT ${bind(limit.limit)} OFFSET ${bind(limit.offset)}`;
  }
  return { sql: text, values: out };
}

export function hasPagination(filters: readonly StatementFilter[]): boolean {
  return filters.some((f) => f.kind === "limitOffset" || f.kind === "orderBy");
}
