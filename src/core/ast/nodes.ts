/**
 * Immutable statement nodes: what builders produce, what the dialect renderers and the bulk engine read. They live
 * below both builder/ and dialects/ so the imports run one way (builder → core/ast ← dialects).
 *
 * Names in nodes are already parsed: a `RefExpr` path holds the exact parts (`["Bulk", "Record.Target"]`), and every
 * renderer quotes each part with its dialect's one quoting function.
 */
import { isQueryBuilder } from "../builder-protocol.js";

// ---------------------------------------------------------------------------------------------------------------
// Expressions

/** Trusted SQL text, rendered verbatim. */
export interface RawExpr {
  readonly kind: "raw";
  readonly sql: string;
  /** Set when the text holds a top-level OR, so it is parenthesised inside AND. */
  readonly loose?: boolean;
}
/** An identifier path (`t.col`), every part quoted per dialect. A last part `*` is never quoted. */
export interface RefExpr {
  readonly kind: "ref";
  readonly path: readonly string[];
}
/** A bound value. `name` is the readable base name used by named dialects (`:name` / `@name`). */
export interface ParamExpr {
  readonly kind: "param";
  readonly name: string;
  readonly value: unknown;
  /** The same node appears more than once (a named placeholder used twice): reuse one slot where possible. */
  readonly shared?: boolean;
}
/** User SQL with placeholders: parts[0] args[0] parts[1] … (parts.length === args.length + 1). */
export interface FragExpr {
  readonly kind: "frag";
  readonly parts: readonly string[];
  readonly args: readonly Expr[];
  readonly loose?: boolean;
}
export interface CmpExpr {
  readonly kind: "cmp";
  readonly left: Expr;
  readonly op: string;
  readonly right: Expr;
}
/** `left IN (…)`; a param whose value is an array renders `= ANY($n)` on postgres. */
export interface InExpr {
  readonly kind: "in";
  readonly left: Expr;
  readonly not: boolean;
  readonly list: ParamExpr | SubqueryExpr;
}
export interface BetweenExpr {
  readonly kind: "between";
  readonly left: Expr;
  readonly low: Expr;
  readonly high: Expr;
  readonly not: boolean;
}
export interface NullExpr {
  readonly kind: "null";
  readonly left: Expr;
  readonly not: boolean;
}
/** LIKE / ILIKE; ILIKE is emulated with LOWER() where the dialect lacks it. */
export interface LikeExpr {
  readonly kind: "like";
  readonly left: Expr;
  readonly right: Expr;
  readonly not: boolean;
  readonly ci: boolean;
}
/** `left` contains `value` as a substring (the search filters); each dialect decides how (LIKE, ILIKE, instr). */
export interface ContainsExpr {
  readonly kind: "contains";
  readonly left: Expr;
  readonly value: string;
  /** The readable parameter name. */
  readonly name: string;
  readonly not: boolean;
  readonly ci: boolean;
}
export interface LogicExpr {
  readonly kind: "and" | "or";
  readonly items: readonly Expr[];
}
export interface SubqueryExpr {
  readonly kind: "sub";
  readonly query: StatementNode;
}

export type Expr =
  | RawExpr
  | RefExpr
  | ParamExpr
  | FragExpr
  | CmpExpr
  | InExpr
  | BetweenExpr
  | NullExpr
  | LikeExpr
  | ContainsExpr
  | LogicExpr
  | SubqueryExpr;

// ---------------------------------------------------------------------------------------------------------------
// Statements

export interface TableNode {
  /** A ref (table name), a subquery, or raw SQL (a table function). */
  readonly source: Expr;
  readonly alias?: string | undefined;
}
export type JoinType = "INNER" | "LEFT" | "RIGHT" | "FULL" | "CROSS";
export interface JoinNode {
  readonly type: JoinType;
  readonly lateral: boolean;
  readonly table: TableNode;
  readonly on?: Expr;
}
export interface SelectItem {
  readonly expr: Expr;
  readonly alias?: string;
}
export interface OrderItem {
  readonly expr: Expr;
  readonly dir?: "ASC" | "DESC";
  readonly nulls?: "FIRST" | "LAST";
}
export interface CteNode {
  readonly name: string;
  readonly columns?: readonly string[];
  readonly query: StatementNode;
  readonly recursive: boolean;
}
export interface SetOpNode {
  readonly op: "UNION" | "INTERSECT" | "EXCEPT";
  readonly all: boolean;
  readonly query: StatementNode;
}
export interface LockNode {
  readonly mode: "UPDATE" | "SHARE";
  readonly of?: readonly (readonly string[])[];
  readonly wait?: "NOWAIT" | "SKIP LOCKED";
}
/** `column = value`; the column is a path (MySQL's multi-table UPDATE may qualify it). */
export interface SetItem {
  readonly column: readonly string[];
  readonly value: Expr;
}

export interface SelectNode {
  readonly kind: "select";
  readonly with?: readonly CteNode[];
  readonly distinct?: boolean;
  readonly distinctOn?: readonly Expr[];
  readonly columns: readonly SelectItem[];
  readonly from?: readonly TableNode[];
  readonly joins?: readonly JoinNode[];
  readonly where?: Expr;
  readonly groupBy?: readonly Expr[];
  readonly having?: Expr;
  readonly setOps?: readonly SetOpNode[];
  readonly orderBy?: readonly OrderItem[];
  readonly limit?: number;
  readonly offset?: number;
  readonly lock?: LockNode;
}

export interface ConflictNode {
  /** Conflict target columns; empty = any constraint (DO NOTHING only). */
  readonly columns: readonly string[];
  readonly action: "nothing" | "update";
  readonly set?: readonly SetItem[];
  readonly where?: Expr;
}
/** @internal */
export interface InsertNode {
  readonly kind: "insert";
  readonly with?: readonly CteNode[];
  /** The target; its alias renders `INSERT INTO t AS alias` (PostgreSQL, SQLite, DuckDB). */
  readonly table: TableNode;
  readonly columns: readonly string[];
  /** Column names came from object keys (then values() rows must keep the same key set). */
  readonly keyed?: boolean;
  readonly rows: readonly (readonly Expr[])[];
  readonly select?: StatementNode;
  /** `INSERT … SELECT values FROM source AS alias`: a rows source or a (staged) table, read by the bulk engine. */
  readonly from?: { readonly source: MergeSource; readonly values: readonly Expr[] };
  readonly conflict?: ConflictNode | undefined;
  readonly duplicate?: readonly SetItem[];
  readonly returning?: readonly SelectItem[];
}
export interface UpdateNode {
  readonly kind: "update";
  readonly with?: readonly CteNode[];
  readonly table: TableNode;
  readonly set: readonly SetItem[];
  readonly from?: readonly TableNode[];
  readonly where?: Expr;
  readonly returning?: readonly SelectItem[];
}
export interface DeleteNode {
  readonly kind: "delete";
  readonly with?: readonly CteNode[];
  readonly table: TableNode;
  readonly using?: readonly TableNode[];
  readonly where?: Expr;
  readonly returning?: readonly SelectItem[];
}

/**
 * Rows given as data (`using(rows)`, `session.upsert`): bound as ONE JSON parameter where the dialect can expand it,
 * or COPY-staged by the engine. Column types: `types` (explicit), else the same-named target column's where the
 * statement copies the column unchanged (see `directColumns`), else inferred from the values (`kinds`).
 */
export interface RowsSource {
  readonly kind: "rows";
  readonly rows: readonly Readonly<Record<string, unknown>>[];
  readonly columns: readonly string[];
  readonly alias: string;
  readonly types?: Readonly<Record<string, string>>;
  /** Value kinds inferred once, when the rows were given. */
  readonly kinds?: Readonly<Record<string, ValueKind>>;
}
export interface TableSource {
  readonly kind: "table";
  readonly table: TableNode & { readonly alias: string };
}
export type MergeSource = RowsSource | TableSource;

export interface WhenNode {
  readonly match: "MATCHED" | "NOT MATCHED" | "NOT MATCHED BY SOURCE";
  readonly cond?: Expr;
  readonly action: "UPDATE" | "DELETE" | "INSERT";
  readonly set?: readonly SetItem[];
  readonly insertColumns?: readonly string[];
  readonly insertValues?: readonly Expr[];
}
export interface MergeNode {
  readonly kind: "merge";
  /** The target table's parsed name. */
  readonly target?: readonly string[];
  readonly alias?: string;
  readonly source?: MergeSource;
  readonly on?: Expr;
  readonly whens: readonly WhenNode[];
  readonly returning?: readonly SelectItem[];
}
/** A `SQL` object or string used as a whole statement (CTE body, union member, MERGE source). */
export interface RawStatementNode {
  readonly kind: "rawStatement";
  readonly expr: Expr;
}

/** @internal The statement tree a builder renders; its shape is not part of the public API. */
export type StatementNode = SelectNode | InsertNode | UpdateNode | DeleteNode | MergeNode | RawStatementNode;

// ---------------------------------------------------------------------------------------------------------------
// Small helpers shared by builders, renderers and the engine

export const TRUE_EXPR: RawExpr = { kind: "raw", sql: "TRUE" };

/**
 * A builder (anything carrying a statement node). Checked through the symbol brand, which JSON input cannot forge:
 * a user value shaped like `{ node: { kind: "rawStatement", … } }` stays data and is bound.
 */
export interface HasNode {
  readonly node: StatementNode;
}
export function hasNode(v: unknown): v is HasNode {
  return isQueryBuilder(v) && typeof (v as { node?: { kind?: unknown } }).node?.kind === "string";
}

export function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c > 127;
}
export function isIdentChar(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57) || c === 36;
}

/** Last identifier-ish part of a column name, usable as a parameter name in every dialect. */
export function paramName(col: string): string {
  const dot = col.lastIndexOf(".");
  const base = dot >= 0 ? col.slice(dot + 1) : col;
  let out = "";
  for (let i = 0; i < base.length; i++) {
    const c = base.charCodeAt(i);
    out += (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (c >= 48 && c <= 57) ? base[i] : "_";
  }
  if (out === "" || (out.charCodeAt(0) >= 48 && out.charCodeAt(0) <= 57)) out = `p_${out}`;
  return out;
}

export function and(a: Expr | undefined, b: Expr): Expr {
  if (a === undefined) return b;
  if (a.kind === "and") return { kind: "and", items: [...a.items, b] };
  return { kind: "and", items: [a, b] };
}
export function or(a: Expr | undefined, b: Expr): Expr {
  if (a === undefined) return b;
  return { kind: "or", items: [a, b] };
}

/** Value kinds inferred from row data; each dialect maps them to its own type names. */
export type ValueKind = "int" | "bigint" | "float" | "text" | "bool" | "json" | "timestamp" | "bytes";

export function inferKind(rows: readonly Readonly<Record<string, unknown>>[], col: string): ValueKind {
  let kind: ValueKind | undefined;
  for (let i = 0; i < rows.length; i++) {
    const v = rows[i]![col];
    if (v === null || v === undefined) continue;
    let k: ValueKind;
    switch (typeof v) {
      case "number":
        k = !Number.isInteger(v) ? "float" : v >= -2147483648 && v <= 2147483647 ? "int" : "bigint";
        break;
      case "bigint":
        k = "bigint";
        break;
      case "string":
        k = "text";
        break;
      case "boolean":
        k = "bool";
        break;
      default:
        k = v instanceof Date ? "timestamp" : v instanceof Uint8Array ? "bytes" : "json";
    }
    if (kind === undefined || kind === k) kind = k;
    else if (
      (kind === "int" || kind === "bigint" || kind === "float") &&
      (k === "int" || k === "bigint" || k === "float")
    )
      kind = kind === "float" || k === "float" ? "float" : "bigint";
    else return "text";
  }
  return kind ?? "text";
}
