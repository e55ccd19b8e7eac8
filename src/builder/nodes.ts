/**
 * Immutable AST nodes shared by every builder and renderer, plus the helpers that turn user input into nodes.
 *
 * All parsing of user strings (placeholders, "table alias", "col AS alias") happens here, when a builder method is
 * called, so that rendering (`build()`) is a single pass of string concatenation over finished nodes.
 */
import { isQueryBuilder } from "../core/builder-protocol.js";
import { ParameterError, SQLBuilderError } from "../core/errors.js";
import { splitPlaceholders } from "../core/parameters.js";
import { RawFragment, RefFragment, SQL, ValueFragment } from "../core/statement.js";
import type { Dialect, ParameterStyle } from "../core/types.js";

// ---------------------------------------------------------------------------------------------------------------
// Expressions

/** Trusted SQL text, rendered verbatim. */
export interface RawExpr {
  readonly kind: "raw";
  readonly sql: string;
  /** Set when the text holds a top-level OR, so it is parenthesised inside AND. */
  readonly loose?: boolean;
}
/** An identifier path (`t.col`), quoted per dialect only where needed. `*` is never quoted. */
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
  readonly of?: readonly string[];
  readonly wait?: "NOWAIT" | "SKIP LOCKED";
}
export interface SetItem {
  readonly column: string;
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
export interface InsertNode {
  readonly kind: "insert";
  readonly with?: readonly CteNode[];
  readonly table: TableNode;
  readonly columns: readonly string[];
  /** Column names came from object keys (then values() rows must keep the same key set). */
  readonly keyed?: boolean;
  readonly rows: readonly (readonly Expr[])[];
  readonly select?: StatementNode;
  readonly conflict?: ConflictNode | undefined;
  readonly duplicate?: readonly SetItem[];
  readonly returning?: readonly SelectItem[];
  /** MERGE-shaped calls of the unified upsert, turned into rows + ON CONFLICT at build time (see upsert.ts). */
  readonly upsert?: UpsertSpec;
}
export interface UpsertSpec {
  readonly targetAlias: string;
  readonly source?: (MergeSource & { readonly kind: "rows" }) | undefined;
  readonly on?: Expr;
  readonly update?: { readonly set: readonly SetItem[]; readonly cond?: Expr };
  readonly insert?: { readonly columns: readonly string[]; readonly values: readonly Expr[]; readonly cond?: Expr };
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

export type MergeSource =
  | {
      readonly kind: "rows";
      readonly rows: readonly Readonly<Record<string, unknown>>[];
      readonly columns: readonly string[];
      readonly alias: string;
      readonly types?: Readonly<Record<string, string>>;
      /** Value kinds inferred once, when the rows were given. */
      readonly kinds?: Readonly<Record<string, ValueKind>>;
    }
  | { readonly kind: "table"; readonly table: TableNode & { readonly alias: string } };

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
  readonly target?: string;
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

export type StatementNode = SelectNode | InsertNode | UpdateNode | DeleteNode | MergeNode | RawStatementNode;

// ---------------------------------------------------------------------------------------------------------------
// Helpers: user input → nodes

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

/** `a`, `a.b`, `a.b.c`, `t.*` (bare identifier path) → parts; anything else → undefined. */
export function parsePath(s: string): string[] | undefined {
  const out: string[] = [];
  let start = 0;
  const n = s.length;
  if (n === 0) return undefined;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? s.charCodeAt(i) : 46;
    if (c === 46) {
      if (i === start) return undefined;
      out.push(s.slice(start, i));
      start = i + 1;
    } else if (c === 42) {
      // `*` only as a whole last part
      if (i !== start || (i + 1 < n && s.charCodeAt(i + 1) !== 46) || i + 1 !== n) return undefined;
    } else if (i === start ? !isIdentStart(c) : !isIdentChar(c)) {
      return undefined;
    }
  }
  return out;
}

/** Splits `x AS alias` / `x alias` when the alias is a bare word and `x` has no spaces. */
function splitAlias(s: string): [string, string | undefined] {
  const t = s.trim();
  const sp = t.lastIndexOf(" ");
  if (sp < 0) return [t, undefined];
  const alias = t.slice(sp + 1);
  let head = t.slice(0, sp).trimEnd();
  if (head.length > 3 && head.slice(-3).toLowerCase() === " as") head = head.slice(0, -3).trimEnd();
  if (parsePath(alias)?.length !== 1 || head.includes(" ")) return [t, undefined];
  return [head, alias];
}

/** A column expression as written in select()/returning(): identifier paths are quoted, others are raw SQL. */
export function selectItem(col: unknown): SelectItem {
  if (typeof col === "string") {
    const path = parsePath(col);
    if (path) return { expr: { kind: "ref", path } };
    const [head, alias] = splitAlias(col);
    const hp = alias ? parsePath(head) : undefined;
    if (hp && alias) return { expr: { kind: "ref", path: hp }, alias };
    return { expr: { kind: "raw", sql: col } };
  }
  return { expr: exprOf(col, "value", "raw") };
}

/** A table position: `name`, `schema.name`, `name alias`, `name AS alias`, a builder (subquery) or SQL. */
export function tableNode(table: unknown, alias?: string): TableNode {
  if (typeof table === "string") {
    const path = parsePath(table);
    if (path) return alias ? { source: { kind: "ref", path }, alias } : { source: { kind: "ref", path } };
    const [head, a] = splitAlias(table);
    const hp = a ? parsePath(head) : undefined;
    if (hp) return { source: { kind: "ref", path: hp }, alias: alias ?? a };
    return alias ? { source: { kind: "raw", sql: table }, alias } : { source: { kind: "raw", sql: table } };
  }
  if (hasNode(table)) {
    if (!alias) throw new SQLBuilderError("A subquery used as a table needs an alias: pass it as the second argument.");
    return { source: { kind: "sub", query: table.node }, alias };
  }
  // sql`…` is a query, so it gets parentheses; sql.raw("generate_series(1, 3)") is spliced as written.
  const e: Expr =
    table instanceof SQL
      ? { kind: "sub", query: { kind: "rawStatement", expr: exprOf(table, "value", "raw") } }
      : exprOf(table, "value", "raw");
  return alias ? { source: e, alias } : { source: e };
}

/**
 * A column argument (where-object keys, whereIn/whereLike/… columns, orderBy): always an identifier, quoted per
 * part, so a column name taken from a request can never inject SQL. `sql.raw(…)`/`sql\`…\`` give an expression.
 */
export function columnRef(col: unknown): Expr {
  if (typeof col === "string") return { kind: "ref", path: col.split(".") };
  return exprOf(col, "value", "raw");
}

/** A developer-written expression position (select list, groupBy): identifier paths quoted, anything else SQL. */
export function refOrRaw(col: string): Expr {
  const path = parsePath(col);
  return path ? { kind: "ref", path } : { kind: "raw", sql: col };
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

/**
 * Value → expression. `mode` says what a plain string means: "value" binds it (data positions), "raw" makes it
 * SQL (action positions, per the DESIGN value rule). sql.raw/sql.value/sql.ref/SQL/builders always cross explicitly.
 */
export function exprOf(v: unknown, name: string, strings: "value" | "raw"): Expr {
  if (typeof v === "object" && v !== null) {
    if (v instanceof ValueFragment) return { kind: "param", name, value: v.value };
    if (v instanceof RawFragment) return { kind: "raw", sql: v.text };
    if (v instanceof RefFragment) return { kind: "ref", path: v.parts };
    if (v instanceof SQL) return fragment(v.text, v.params, undefined, v.inputStyle);
    if (hasNode(v)) return { kind: "sub", query: v.node };
  } else if (typeof v === "string" && strings === "raw") {
    return { kind: "raw", sql: v };
  }
  return { kind: "param", name, value: v };
}

/** Names the value of a positional `?` after the column compared with it (`price > ?` → `price`). */
function guessName(before: string): string {
  let i = before.length - 1;
  while (i >= 0) {
    const c = before.charCodeAt(i);
    if (c === 32 || c === 61 || c === 60 || c === 62 || c === 33 || c === 40 || c === 44) i--;
    else break;
  }
  const end = i + 1;
  while (i >= 0 && isIdentChar(before.charCodeAt(i))) i--;
  const word = before.slice(i + 1, end);
  if (word === "" || !isIdentStart(word.charCodeAt(0))) return "param";
  const lw = word.toLowerCase();
  if (lw === "in" || lw === "like" || lw === "ilike" || lw === "and" || lw === "between" || lw === "is") return "param";
  return paramName(word);
}

const OR_WORD = /\bor\b/i;

type Analysis = { split: ReturnType<typeof splitPlaceholders>; loose: boolean };
const analysed = new Map<string, Analysis>();

/**
 * Placeholder split of a where()/on() string, cached by text: such strings are nearly always literals in code, so
 * rebuilding a query skips the lexer. Bounded; cleared when full.
 */
function analyse(text: string, dialect: Dialect | undefined, inputStyle: ParameterStyle | undefined): Analysis {
  const key = `${dialect ?? ""}\u0000${inputStyle ?? ""}\u0000${text}`;
  let hit = analysed.get(key);
  if (hit === undefined) {
    // The builder's own dialect, when known, decides lexing (postgres `?` next to `$1` is a jsonb operator).
    hit = { split: splitPlaceholders(text, dialect, inputStyle), loose: OR_WORD.test(text) };
    if (analysed.size >= 1000) analysed.clear();
    analysed.set(key, hit);
  }
  return hit;
}

/** SQL text with placeholders (any style) plus its values → a fragment whose args are bound params. */
export function fragment(
  text: string,
  params?: readonly unknown[] | Readonly<Record<string, unknown>>,
  dialect?: Dialect,
  inputStyle?: ParameterStyle,
): Expr {
  const { split, loose } = analyse(text, dialect, inputStyle);
  if (split.refs.length === 0) {
    if (params !== undefined && Array.isArray(params) && params.length > 0) {
      throw new ParameterError(`${params.length} value(s) given for SQL without placeholders: ${text}`);
    }
    return loose ? { kind: "raw", sql: text, loose } : { kind: "raw", sql: text };
  }
  const args: Expr[] = [];
  const byName = new Map<string, ParamExpr>();
  const seenNames = new Map<string, number>();
  for (const r of split.refs) seenNames.set(r.kind === "named" ? r.name : `#${r.index}`, 0);
  for (const r of split.refs) {
    const key = r.kind === "named" ? r.name : `#${r.index}`;
    seenNames.set(key, (seenNames.get(key) ?? 0) + 1);
  }
  let positionalUsed = 0;
  for (let i = 0; i < split.refs.length; i++) {
    const r = split.refs[i]!;
    if (r.kind === "named") {
      if (params === undefined || Array.isArray(params) || !(r.name in (params as object))) {
        throw new ParameterError(`Missing value for :${r.name} in: ${text}. Pass it in the params object.`);
      }
      let p = byName.get(r.name);
      if (!p) {
        const shared = (seenNames.get(r.name) ?? 0) > 1;
        const value = (params as Record<string, unknown>)[r.name];
        p = shared
          ? { kind: "param", name: paramName(r.name), value, shared }
          : { kind: "param", name: paramName(r.name), value };
        byName.set(r.name, p);
      }
      args.push(p);
    } else {
      if (params === undefined || !Array.isArray(params) || r.index >= params.length) {
        throw new ParameterError(`Missing value #${r.index + 1} for a positional placeholder in: ${text}`);
      }
      positionalUsed = Math.max(positionalUsed, r.index + 1);
      const key = `#${r.index}`;
      let p = byName.get(key);
      if (!p) {
        const shared = (seenNames.get(key) ?? 0) > 1;
        const name = guessName(split.parts[i]!);
        const value = params[r.index];
        p = shared ? { kind: "param", name, value, shared } : { kind: "param", name, value };
        byName.set(key, p);
      }
      args.push(p);
    }
  }
  if (Array.isArray(params) && positionalUsed < params.length) {
    throw new ParameterError(`${params.length} values given but only ${positionalUsed} placeholders in: ${text}`);
  }
  return loose ? { kind: "frag", parts: split.parts, args, loose } : { kind: "frag", parts: split.parts, args };
}

export type ConditionInput = string | Readonly<Record<string, unknown>> | object;

/** where()/having()/on() input → expression. Objects bind every value (null → IS NULL, array → IN). */
export function condition(
  input: ConditionInput,
  params?: readonly unknown[] | Readonly<Record<string, unknown>>,
  dialect?: Dialect,
): Expr {
  if (typeof input === "string") return fragment(input, params, dialect);
  if (input instanceof SQL || input instanceof RawFragment || hasNode(input)) return exprOf(input, "value", "raw");
  const items: Expr[] = [];
  for (const key of Object.keys(input)) {
    const v = (input as Record<string, unknown>)[key];
    const left = columnRef(key);
    const name = paramName(key);
    if (v === null || v === undefined) items.push({ kind: "null", left, not: false });
    else if (Array.isArray(v)) items.push({ kind: "in", left, not: false, list: { kind: "param", name, value: v } });
    else items.push({ kind: "cmp", left, op: "=", right: exprOf(v, name, "value") });
  }
  if (items.length === 0) throw new SQLBuilderError("where({}) needs at least one column: the object was empty.");
  return items.length === 1 ? items[0]! : { kind: "and", items };
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

/** Data-position SET list: every value bound (strings included). */
export function dataSet(values: Readonly<Record<string, unknown>>): SetItem[] {
  const out: SetItem[] = [];
  for (const k of Object.keys(values)) out.push({ column: k, value: exprOf(values[k], paramName(k), "value") });
  return out;
}

/** Action-position SET list: strings are SQL expressions, other values bound; `[cols]` means `col = <alias>.col`. */
export function actionSet(values: Readonly<Record<string, unknown>> | readonly string[], alias?: string): SetItem[] {
  if (Array.isArray(values)) {
    if (!alias) throw new SQLBuilderError("A column list needs a source alias; pass an object of expressions instead.");
    return values.map((c: string) => ({ column: c, value: { kind: "ref", path: [alias, c] } }));
  }
  const out: SetItem[] = [];
  const obj = values as Readonly<Record<string, unknown>>;
  for (const k of Object.keys(obj)) out.push({ column: k, value: exprOf(obj[k], paramName(k), "raw") });
  return out;
}

/**
 * Checks that every row has exactly `keys` (default: the first row's keys) and returns them; otherwise throws
 * naming the missing and extra keys of the first differing row.
 */
export function checkSameKeys(
  rows: readonly Readonly<Record<string, unknown>>[],
  what: string,
  expected?: readonly string[],
): string[] {
  const keys = expected ? [...expected] : Object.keys(rows[0]!);
  const set = new Set(keys);
  for (let r = expected ? 0 : 1; r < rows.length; r++) {
    const row = rows[r]!;
    let count = 0;
    let same = true;
    for (const k in row) {
      count++;
      if (!set.has(k)) {
        same = false;
        break;
      }
    }
    if (same && count === keys.length) continue;
    const other = Object.keys(row);
    const missing = keys.filter((k) => !other.includes(k));
    const extra = other.filter((k) => !set.has(k));
    const diff = [
      missing.length ? `missing: ${missing.join(", ")}` : "",
      extra.length ? `extra: ${extra.join(", ")}` : "",
    ]
      .filter(Boolean)
      .join("; ");
    throw new SQLBuilderError(
      `${what}: row ${r} has different keys than the columns (${keys.join(", ")}): ${diff}. ` +
        "Give every row the same keys (use null for absent values).",
    );
  }
  return keys;
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
