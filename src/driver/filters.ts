import { containsPattern, getRenderer } from "../core/ast/render.js";
import { type LimitOffsetFilter, rangeConditions, type StatementFilter } from "../core/filters.js";
import { quotePath } from "../core/identifiers.js";
import { scan, TK_COMMENT, TK_SEMI, TokenBuffer } from "../core/lexer.js";
import { placeholderFor } from "../core/parameters.js";
import type { Dialect, ParameterStyle } from "../core/types.js";

export type { StatementFilter } from "../core/filters.js";

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
 * LIMIT … OFFSET …`. `pagination: false` leaves out ORDER BY/LIMIT/OFFSET (the count query of selectWithTotal);
 * `totalColumn` adds `count(*) OVER ()` under that name (selectWithTotal's page and total in one statement).
 */
export function applyFilters(
  sql: string,
  values: readonly unknown[],
  filters: readonly StatementFilter[],
  style: ParameterStyle,
  dialect: Dialect,
  pagination = true,
  totalColumn?: string,
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
      case "search":
      case "notInSearch": {
        const not = f.kind === "notInSearch";
        const t = getRenderer(dialect).containsTemplate(not, f.ignoreCase);
        const conds = f.paths.map((path) => {
          const [a, b, c] = t.parts;
          return `${a}${quotePath(path, dialect)}${b}${bind(t.pattern ? containsPattern(f.value) : f.value)}${c}`;
        });
        // search: any field contains the value; not-in-search: no field does.
        where.push(conds.length === 1 ? (conds[0] as string) : `(${conds.join(not ? " AND " : " OR ")})`);
        break;
      }
      case "beforeAfter":
      case "onBeforeAfter": {
        const col = quotePath(f.path, dialect);
        for (const [op, v] of rangeConditions(f)) where.push(`${col} ${op} ${bind(v)}`);
        break;
      }
      case "null":
      case "notNull":
        where.push(`${quotePath(f.path, dialect)} ${f.kind === "null" ? "IS NULL" : "IS NOT NULL"}`);
        break;
      case "inCollection":
      case "anyCollection":
      case "notInCollection":
      case "notAnyCollection": {
        if (f.values === null || f.values === undefined) break; // no filter
        const col = quotePath(f.path, dialect);
        const not = f.kind === "notInCollection" || f.kind === "notAnyCollection";
        if (f.values.length === 0) {
          where.push(not ? "1 = 1" : "1 = 0");
        } else if (getRenderer(dialect).arrayParameters) {
          where.push(not ? `NOT (${col} = ANY(${bind(f.values)}))` : `${col} = ANY(${bind(f.values)})`);
        } else {
          where.push(`${col} ${not ? "NOT IN" : "IN"} (${f.values.map(bind).join(", ")})`);
        }
        break;
      }
      case "orderBy":
        order.push(`${quotePath(f.path, dialect)} ${f.direction === "desc" ? "DESC" : "ASC"}`);
        break;
      case "limitOffset":
        limit = f;
        break;
    }
  }
  // The window count runs over the filtered rows before ORDER BY/LIMIT: the page and the total in one statement.
  const total = totalColumn === undefined ? "" : `, count(*) OVER () AS ${totalColumn}`;
  let text = `SELECT *${total} FROM (${statementBody(sql, dialect)}) AS _sqlspec_f`;
  if (where.length > 0) text += ` WHERE ${where.join(" AND ")}`;
  if (pagination) {
    if (order.length > 0) text += ` ORDER BY ${order.join(", ")}`;
    if (limit) text += ` LIMIT ${bind(limit.limit)} OFFSET ${bind(limit.offset)}`;
  }
  return { sql: text, values: out };
}
