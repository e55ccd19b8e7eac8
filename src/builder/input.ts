/**
 * User input → statement nodes. All parsing of user strings (placeholders, names, `table alias`, `col AS alias`)
 * happens here, when a builder method is called, so that rendering is one pass over finished nodes.
 *
 * One rule for name positions (`select`, `from`/`join`, `groupBy`, `distinctOn`, `orderBy`, `returning`, where-object
 * keys, table names everywhere): a string is an identifier — a dotted path whose parts may be quoted
 * (`"Bulk"."Record.Target"`), with `col AS alias` where an alias makes sense. It is never SQL: an expression goes
 * through `sql.raw(…)` or a `sql` template. A missing or empty name is a SQLBuilderError, never a parameter.
 */

import {
  type Expr,
  hasNode,
  isIdentChar,
  isIdentStart,
  type ParamExpr,
  paramName,
  type SelectItem,
  type SetItem,
  type TableNode,
} from "../core/ast/nodes.js";
import { ParameterError, SQLBuilderError } from "../core/errors.js";
import { type ParsedName, parseName, parseNameWithAlias, parseSingleName } from "../core/identifiers.js";
import { JsonValue } from "../core/json.js";
import { splitPlaceholders } from "../core/parameters.js";
import { RawFragment, RefFragment, SQL, ValueFragment } from "../core/statement.js";
import type { Dialect, ParameterStyle, Params } from "../core/types.js";

/** Whether `v` crosses into SQL explicitly (sql.raw, sql.ref, sql.value, a sql`` template, a builder). */
function isExplicit(v: unknown): boolean {
  return (
    v instanceof RawFragment || v instanceof RefFragment || v instanceof ValueFragment || v instanceof SQL || hasNode(v)
  );
}

/**
 * A row given as data: a plain object or a class instance, keyed by column (its own enumerable properties). An array,
 * a value object (Date, Buffer, Map, Set, RegExp, sql.json) or a piece of SQL is not a row.
 */
export function isRowObject(v: unknown): v is object {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) return true;
  return !(
    isExplicit(v) ||
    v instanceof JsonValue ||
    v instanceof Date ||
    v instanceof Map ||
    v instanceof Set ||
    v instanceof RegExp ||
    v instanceof ArrayBuffer ||
    ArrayBuffer.isView(v)
  );
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

function notAName(what: string, v: unknown): SQLBuilderError {
  return new SQLBuilderError(
    `${what} must be a name (a string such as "col" or "t.col") or sql.raw(…)/sql\`…\`, got ${describe(v)}.`,
  );
}

/** A name-position argument without alias (groupBy, orderBy, distinctOn, where keys, whereX columns). */
export function nameExpr(col: unknown, what: string): Expr {
  if (typeof col === "string") return { kind: "ref", path: parseName(col, what) };
  if (isExplicit(col)) return exprOf(col, "value", "raw");
  throw notAName(what, col);
}

/** A select/returning item: a name with an optional alias, or an explicit expression. */
export function selectItem(col: unknown, what = "select()"): SelectItem {
  if (typeof col === "string") {
    const n: ParsedName = parseNameWithAlias(col, what, true);
    return n.alias === undefined
      ? { expr: { kind: "ref", path: n.parts } }
      : { expr: { kind: "ref", path: n.parts }, alias: n.alias };
  }
  if (isExplicit(col)) return { expr: exprOf(col, "value", "raw") };
  throw notAName(what, col);
}

/** An alias argument: one identifier (quotes understood). */
export function aliasName(alias: unknown, what = "alias"): string {
  return parseSingleName(alias, what);
}

/** The parsed path of a table name (`products`, `public.products`, `"Bulk"."Record.Target"`); no alias. */
export function tablePath(table: unknown, what = "table name"): readonly string[] {
  return parseName(table, what);
}

/**
 * A table position: a name (`products`, `schema.products`, `products p`, `products AS p`, quoted parts), a subquery
 * builder (alias required), `sql\`…\`` (a subquery), `sql.raw("generate_series(1, 3)")` or `sql.ref(name)`.
 */
export function tableNode(table: unknown, alias?: unknown, what = "table"): TableNode {
  const a = alias === undefined ? undefined : aliasName(alias, `${what} alias`);
  if (typeof table === "string") {
    const n = parseNameWithAlias(table, `${what} name`, true);
    const as = a ?? n.alias;
    return as === undefined
      ? { source: { kind: "ref", path: n.parts } }
      : { source: { kind: "ref", path: n.parts }, alias: as };
  }
  if (hasNode(table)) {
    if (!a) throw new SQLBuilderError("A subquery used as a table needs an alias: pass it as the second argument.");
    return { source: { kind: "sub", query: table.node }, alias: a };
  }
  let e: Expr;
  // sql`…` is a query, so it gets parentheses; sql.raw("generate_series(1, 3)") is spliced as written.
  if (table instanceof SQL) e = { kind: "sub", query: { kind: "rawStatement", expr: exprOf(table, "value", "raw") } };
  else if (table instanceof RawFragment || table instanceof RefFragment) e = exprOf(table, "value", "raw");
  else throw notAName(`${what} name`, table);
  return a === undefined ? { source: e } : { source: e, alias: a };
}

/**
 * Value → expression. `mode` says what a plain string means: "value" binds it (data positions), "raw" makes it
 * SQL (action positions). sql.raw/sql.value/sql.ref/SQL/builders always cross explicitly.
 */
export function exprOf(v: unknown, name: string, strings: "value" | "raw"): Expr {
  if (typeof v === "object" && v !== null) {
    if (v instanceof ValueFragment) return { kind: "param", name, value: v.value };
    // Empty SQL would render a dangling `FROM ` / `WHERE ` / `SELECT  FROM`: refused where it is given.
    if (v instanceof RawFragment) return { kind: "raw", sql: nonEmpty(v.text, "sql.raw()") };
    if (v instanceof RefFragment) return { kind: "ref", path: v.parts };
    if (v instanceof SQL) return fragment(nonEmpty(v.text, "sql`…`"), v.params, undefined, v.inputStyle);
    if (hasNode(v)) return { kind: "sub", query: v.node };
  } else if (typeof v === "string" && strings === "raw") {
    if (v.trim() === "") throw new SQLBuilderError("An SQL expression cannot be empty text.");
    return { kind: "raw", sql: v };
  }
  return { kind: "param", name, value: v };
}

function nonEmpty(text: string, what: string): string {
  if (text.trim() === "") throw new SQLBuilderError(`${what} is empty: an SQL expression cannot be empty text.`);
  return text;
}

/**
 * A value compared with a column (where-object values, whereBetween bounds, LIKE patterns). `undefined` is refused:
 * it is what a missing property or a typo gives, and reading it as NULL would match (or delete) the NULL rows.
 */
export function compared(v: unknown, what: string): unknown {
  if (v === undefined) {
    throw new SQLBuilderError(`${what} is undefined: pass a value, or null for IS NULL (whereNull() for a column).`);
  }
  return v;
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
export function fragment(text: string, params?: Params, dialect?: Dialect, inputStyle?: ParameterStyle): Expr {
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

/**
 * A condition, as `where`, `having`, join `on` and `{ where }` options take it: SQL text (placeholders bound from
 * the `params` argument), a `sql` template or builder, or an object of column values
 * (`{ active: true, id: [1, 2], deleted_at: null }`: every value bound; null → IS NULL, an array → IN, undefined is
 * refused).
 */
export type ConditionInput = string | object;

/**
 * An action position's column map (`doUpdate`, `onDuplicateKeyUpdate`, `whenMatchedThenUpdate`,
 * `whenNotMatchedThenInsert`): a string value is a SQL expression (`"EXCLUDED.name"`, `"src.price"`,
 * `"t.stock + src.qty"`); any other value is bound. Never put user input in the strings.
 */
export type ActionValues = Readonly<Record<string, unknown>>;

/** where()/having()/on() input → expression. Objects bind every value (null → IS NULL, array → IN). */
export function condition(input: ConditionInput, params?: Params, dialect?: Dialect, what = "where()"): Expr {
  if (typeof input === "string") {
    if (input.trim() === "") throw new SQLBuilderError(`${what} needs a condition, got empty text.`);
    return fragment(input, params, dialect);
  }
  if (input instanceof SQL || input instanceof RawFragment || hasNode(input)) return exprOf(input, "value", "raw");
  if (typeof input !== "object" || input === null || Array.isArray(input) || isExplicit(input)) {
    throw new SQLBuilderError(
      `${what} takes SQL text, sql\`…\` or an object of column values, got ${describe(input)}.`,
    );
  }
  const items: Expr[] = [];
  for (const key of Object.keys(input)) {
    const v = (input as Record<string, unknown>)[key];
    const left = nameExpr(key, `${what} column`);
    const name = paramName(key);
    if (compared(v, `${what} value for ${JSON.stringify(key)}`) === null)
      items.push({ kind: "null", left, not: false });
    else if (Array.isArray(v)) items.push({ kind: "in", left, not: false, list: { kind: "param", name, value: v } });
    else items.push({ kind: "cmp", left, op: "=", right: exprOf(v, name, "value") });
  }
  if (items.length === 0) throw new SQLBuilderError(`${what} needs at least one column: the object was empty.`);
  return items.length === 1 ? items[0]! : { kind: "and", items };
}

function setColumn(key: string): readonly string[] {
  return parseName(key, "SET column");
}

/** Data-position SET list: every value bound (strings included). */
export function dataSet(values: object, what: string): SetItem[] {
  const out: SetItem[] = [];
  if (!isRowObject(values)) {
    throw new SQLBuilderError(`${what} takes an object of column values, got ${describe(values)}.`);
  }
  const record = values as Readonly<Record<string, unknown>>;
  for (const k of Object.keys(record))
    out.push({ column: setColumn(k), value: exprOf(record[k], paramName(k), "value") });
  if (out.length === 0) throw new SQLBuilderError(`${what} is empty: pass at least one column.`);
  return out;
}

/**
 * Action-position SET list: strings are SQL expressions, other values bound; `[cols]` means `col = <alias>.col`.
 * An empty object or list raises SQLBuilderError (it would render `UPDATE SET` with nothing after it).
 */
export function actionSet(
  values: Readonly<Record<string, unknown>> | readonly string[],
  what: string,
  alias?: string,
): SetItem[] {
  let out: SetItem[];
  if (Array.isArray(values)) {
    if (!alias) throw new SQLBuilderError("A column list needs a source alias; pass an object of expressions instead.");
    out = values.map((c: unknown) => ({
      column: [parseSingleName(c, `${what} column`)],
      value: { kind: "ref", path: [alias, parseSingleName(c, `${what} column`)] } as Expr,
    }));
  } else if (typeof values === "object" && values !== null) {
    const obj = values as Readonly<Record<string, unknown>>;
    out = Object.keys(obj).map((k) => ({ column: setColumn(k), value: exprOf(obj[k], paramName(k), "raw") }));
  } else {
    throw new SQLBuilderError(
      `${what} takes an object of column expressions or a column list, got ${describe(values)}.`,
    );
  }
  if (out.length === 0) throw new SQLBuilderError(`${what} needs at least one column to set: the update was empty.`);
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
