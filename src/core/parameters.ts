/**
 * Placeholder analysis and binding. The lexer finds placeholders; this module decides what values the statement
 * expects (the input schema) and binds a params array/record to an output order.
 *
 * Mixed styles (resolved once per statement, not per call):
 * - named styles (`:a`, `@a`, `$a`, `%(a)s`) may be mixed with each other and share one namespace;
 * - numbered styles (`$1`, `:1`) may be mixed with each other (both name an explicit position);
 * - sequential styles (`?`, `%s`) may be mixed with each other (positions in order of appearance);
 * - any other mix (named with positional, numbered with sequential) is ambiguous and raises ParameterError.
 *   On PostgreSQL a bare `?` next to other placeholders is the jsonb operator, so it never causes a mix (see lexer).
 *
 * Binding is strict: a missing name, an unused key, a wrong count, an object for positional SQL, an array for named
 * SQL, and values for SQL without placeholders all raise ParameterError. Messages name placeholders and keys but
 * never include values.
 */
import { ParameterError } from "./errors.js";
import { lex, TK_PLACEHOLDER, type Token } from "./lexer.js";
import type { Dialect, Params } from "./types.js";
import { ParameterStyle } from "./types.js";

export type PlaceholderRef = { kind: "positional"; index: number } | { kind: "named"; name: string };

const NAMED = new Set<ParameterStyle>([
  ParameterStyle.NAMED_COLON,
  ParameterStyle.NAMED_AT,
  ParameterStyle.NAMED_DOLLAR,
  ParameterStyle.NAMED_PYFORMAT,
]);

export function isNamedStyle(style: ParameterStyle): boolean {
  return NAMED.has(style);
}

/** Styles whose placeholders are rendered once per value position (`?`, `%s`): repeated values are repeated. */
export function isSequentialStyle(style: ParameterStyle): boolean {
  return style === ParameterStyle.QMARK || style === ParameterStyle.POSITIONAL_PYFORMAT;
}

/** Renders one placeholder. `index0` is the 0-based value position; named styles fall back to `p<index0+1>`. */
export function placeholderFor(style: ParameterStyle, index0: number, name?: string): string {
  switch (style) {
    case ParameterStyle.QMARK:
      return "?";
    case ParameterStyle.NUMERIC:
      return `$${index0 + 1}`;
    case ParameterStyle.POSITIONAL_COLON:
      return `:${index0 + 1}`;
    case ParameterStyle.POSITIONAL_PYFORMAT:
      return "%s";
    case ParameterStyle.NAMED_COLON:
      return `:${name ?? `p${index0 + 1}`}`;
    case ParameterStyle.NAMED_AT:
      return `@${name ?? `p${index0 + 1}`}`;
    case ParameterStyle.NAMED_DOLLAR:
      return `$${name ?? `p${index0 + 1}`}`;
    case ParameterStyle.NAMED_PYFORMAT:
      return `%(${name ?? `p${index0 + 1}`})s`;
    default:
      throw new ParameterError(`Unknown parameter style "${String(style)}"`);
  }
}

/** What a statement expects from its params, derived once from its placeholders. */
export interface InputSchema {
  readonly kind: "none" | "positional" | "named";
  /** The style of the first placeholder (undefined when there are none). */
  readonly style: ParameterStyle | undefined;
  /** positional: the number of values expected; named: the number of unique names. */
  readonly count: number;
  /** named: unique names in order of first appearance. */
  readonly names: readonly string[] | undefined;
  /** Per placeholder occurrence: its 0-based position (positional) or index into `names` (named). */
  readonly keys: readonly number[];
  /** A defect every bind must report (a gap in `$n` numbering). */
  readonly problem: string | undefined;
  /** Appended to count errors (e.g. the PostgreSQL jsonb `?` ambiguity). */
  readonly hint?: string;
}

function describe(style: ParameterStyle | undefined, names: readonly string[] | undefined, count: number): string {
  const s = style ?? ParameterStyle.NUMERIC;
  if (names) {
    const shown = names.slice(0, 8).map((nm, k) => placeholderFor(s, k, nm));
    return shown.join(", ") + (names.length > 8 ? ", …" : "");
  }
  if (count === 0) return "no placeholders";
  if (isSequentialStyle(s)) return `${count} × ${placeholderFor(s, 0)}`;
  return count === 1 ? placeholderFor(s, 0) : `${placeholderFor(s, 0)}..${placeholderFor(s, count - 1)}`;
}

/** Derives the input schema from the placeholder tokens (in text order). Raises ParameterError on ambiguous mixes. */
export function resolveInput(placeholders: readonly Token[]): InputSchema {
  if (placeholders.length === 0) {
    return { kind: "none", style: undefined, count: 0, names: undefined, keys: [], problem: undefined };
  }
  let named: Token | undefined;
  let numbered: Token | undefined;
  let sequential: Token | undefined;
  for (const t of placeholders) {
    const s = t.style as ParameterStyle;
    if (NAMED.has(s)) named ??= t;
    else if (isSequentialStyle(s)) sequential ??= t;
    else numbered ??= t;
  }
  const first = placeholders[0]!.style;
  const positional = numbered ?? sequential;
  if (named && positional) {
    throw new ParameterError(
      `The SQL mixes named (${placeholderFor(named.style!, 0, named.name)}) and positional ` +
        `(${placeholderFor(positional.style!, positional.num - 1)}) placeholders; use one kind per statement.`,
    );
  }
  if (numbered && sequential) {
    throw new ParameterError(
      `The SQL mixes numbered (${placeholderFor(numbered.style!, numbered.num - 1)}) and sequential ` +
        `(${placeholderFor(sequential.style!, 0)}) placeholders, which is ambiguous; use one style per statement.`,
    );
  }
  const keys: number[] = new Array(placeholders.length);
  if (named) {
    const names: string[] = [];
    for (let k = 0; k < placeholders.length; k++) {
      const name = placeholders[k]!.name!;
      let at = names.indexOf(name); // statements have few names: a scan beats building a Map
      if (at < 0) {
        at = names.length;
        names.push(name);
      }
      keys[k] = at;
    }
    return { kind: "named", style: first, count: names.length, names, keys, problem: undefined };
  }
  if (sequential) {
    for (let k = 0; k < placeholders.length; k++) keys[k] = k;
    return { kind: "positional", style: first, count: keys.length, names: undefined, keys, problem: undefined };
  }
  let max = 0;
  const seen: boolean[] = [];
  let distinct = 0;
  for (let k = 0; k < placeholders.length; k++) {
    const num = placeholders[k]!.num;
    if (num < 1) {
      throw new ParameterError(
        `Placeholder ${placeholderFor(placeholders[k]!.style!, num - 1)} is invalid: numbering starts at 1.`,
      );
    }
    keys[k] = num - 1;
    if (!seen[num]) {
      seen[num] = true;
      distinct++;
    }
    if (num > max) max = num;
  }
  let problem: string | undefined;
  if (distinct !== max) {
    const style = numbered!.style!;
    const missing: string[] = [];
    for (let v = 1; v <= max && missing.length < 5; v++) if (!seen[v]) missing.push(placeholderFor(style, v - 1));
    problem =
      `The SQL never uses ${missing.join(", ")}: numbered placeholders must run from ` +
      `${placeholderFor(style, 0)} to ${placeholderFor(style, max - 1)} without gaps.`;
  }
  return { kind: "positional", style: first, count: max, names: undefined, keys, problem };
}

const hasOwn = Object.prototype.hasOwnProperty;

function quoteList(items: readonly string[]): string {
  const shown = items.slice(0, 8).map((s) => `"${s}"`);
  return shown.join(", ") + (items.length > 8 ? `, … (${items.length} in all)` : "");
}

/**
 * Validates `params` against `schema` and returns one new array: `out[i] = value for sources[i]`, where each
 * source is a position (positional input) or an index into `schema.names` (named input).
 */
export function bindValues(
  schema: InputSchema,
  sources: readonly number[],
  params: Params | undefined | null,
): unknown[] {
  if (params === undefined || params === null) {
    if (schema.kind === "none") return [];
    if (schema.kind === "named") {
      throw new ParameterError(
        `The SQL expects named parameters (${describe(schema.style, schema.names, 0)}) but none were given.`,
      );
    }
    throw new ParameterError(
      `The SQL expects ${schema.count} positional parameter${schema.count === 1 ? "" : "s"} ` +
        `(${describe(schema.style, undefined, schema.count)}) but none were given.${schema.hint ?? ""}`,
    );
  }
  const n = sources.length;
  if (Array.isArray(params)) {
    const len = params.length;
    if (schema.kind === "positional") {
      if (len !== schema.count) {
        throw new ParameterError(
          `The SQL expects ${schema.count} positional parameter${schema.count === 1 ? "" : "s"} ` +
            `(${describe(schema.style, undefined, schema.count)}) but ${len} ${len === 1 ? "was" : "were"} given` +
            `${len > schema.count ? " (too many)" : " (too few)"}.${schema.hint ?? ""}`,
        );
      }
      if (schema.problem !== undefined) throw new ParameterError(schema.problem);
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) out[i] = params[sources[i]!];
      return out;
    }
    if (schema.kind === "none") {
      if (len === 0) return [];
      throw new ParameterError(
        `The SQL has no placeholders, but ${len} positional value${len === 1 ? " was" : "s were"} given.`,
      );
    }
    throw new ParameterError(
      `The SQL uses named placeholders (${describe(schema.style, schema.names, 0)}) and expects an object of ` +
        `values, but an array of ${len} was given.`,
    );
  }
  if (typeof params !== "object") {
    throw new ParameterError(`Parameters must be an array or an object, but a ${typeof params} was given.`);
  }
  const record = params as Record<string, unknown>;
  if (schema.kind === "positional") {
    throw new ParameterError(
      `The SQL uses ${schema.count} positional placeholder${schema.count === 1 ? "" : "s"} ` +
        `(${describe(schema.style, undefined, schema.count)}) and expects an array, but an object was given.`,
    );
  }
  let given = 0;
  for (const key in record) if (hasOwn.call(record, key)) given++;
  if (schema.kind === "none") {
    if (given === 0) return [];
    throw new ParameterError(
      `The SQL has no placeholders, but named values were given for ${quoteList(Object.keys(record))}.`,
    );
  }
  const names = schema.names!;
  let missing: string[] | undefined;
  for (let k = 0; k < names.length; k++) {
    if (hasOwn.call(record, names[k]!)) continue;
    missing ??= [];
    missing.push(names[k]!);
  }
  if (missing !== undefined) {
    throw new ParameterError(
      `Missing named parameter${missing.length === 1 ? "" : "s"} ${quoteList(missing)}: the SQL uses ` +
        `${describe(schema.style, names, 0)}; the object given has ${given === 0 ? "no keys" : `keys ${quoteList(Object.keys(record))}`}.`,
    );
  }
  if (given !== names.length) {
    const used = new Set(names);
    const extra = Object.keys(record).filter((k) => !used.has(k));
    throw new ParameterError(
      `Unused named parameter${extra.length === 1 ? "" : "s"} ${quoteList(extra)}: the SQL uses only ` +
        `${describe(schema.style, names, 0)}.`,
    );
  }
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) out[i] = record[names[sources[i]!]!];
  return out;
}

/**
 * Splits text at its placeholders: `text === parts[0] + ph(refs[0]) + parts[1] + …`.
 * Positional indices are 0-based (`?`/`%s` count in order, `$n`/`:n` → n-1). `style` is the first placeholder's
 * style (undefined when there are none). Ambiguous mixes raise ParameterError, as in compilation.
 */
export function splitPlaceholders(
  text: string,
  dialect: Dialect = "postgres",
  inputStyle?: ParameterStyle,
): { parts: string[]; refs: PlaceholderRef[]; style: ParameterStyle | undefined } {
  const phs = lex(text, dialect, { inputStyle }).filter((t) => t.kind === TK_PLACEHOLDER);
  const schema = resolveInput(phs);
  const parts: string[] = [];
  const refs: PlaceholderRef[] = [];
  let prev = 0;
  for (let k = 0; k < phs.length; k++) {
    const t = phs[k]!;
    parts.push(text.slice(prev, t.start));
    refs.push(
      schema.kind === "named" ? { kind: "named", name: t.name! } : { kind: "positional", index: schema.keys[k]! },
    );
    prev = t.end;
  }
  parts.push(text.slice(prev));
  return { parts, refs, style: schema.style };
}

/** The placeholder styles present in `text`, in order of first appearance. */
export function detectParameterStyles(text: string, dialect: Dialect = "postgres"): ParameterStyle[] {
  const found: ParameterStyle[] = [];
  for (const t of lex(text, dialect)) {
    if (t.kind === TK_PLACEHOLDER && !found.includes(t.style!)) found.push(t.style!);
  }
  return found;
}
