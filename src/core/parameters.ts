/**
 * Placeholder analysis and binding. The lexer finds placeholders; this module decides what values the statement
 * expects (the input schema) and binds a params array/record to an output order.
 *
 * Kinds of placeholder: named (`:a`, `@a`, `$a`, `%(a)s`, one namespace), numbered (`$1`, `:1`, SQLite's `?1`) and
 * sequential (`?`, `%s`). A statement of one kind binds as that kind always did. A statement that mixes kinds is
 * resolved as Python sqlspec resolves it (README, "Mixing placeholder styles"): its distinct placeholders, in order
 * of first appearance, are the value positions; an array fills them in order, an object binds names by name and
 * fills the positional ones from its other keys. Resolved once per statement, not per call.
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
  readonly kind: "none" | "positional" | "named" | "mixed";
  /** The style of the first placeholder (undefined when there are none). */
  readonly style: ParameterStyle | undefined;
  /** positional: values expected; named: unique names; mixed: distinct placeholders ("slots"). */
  readonly count: number;
  /**
   * named: unique names in order of first appearance. mixed: one name per slot, generated (`p<n>`) for the
   * positional ones, which `slots` marks.
   */
  readonly names: readonly string[] | undefined;
  /** Per placeholder occurrence: its 0-based position (positional), index into `names` (named) or slot (mixed). */
  readonly keys: ArrayLike<number>;
  /** A defect every bind must report (a gap in `$n` numbering). */
  readonly problem: string | undefined;
  /** Appended to count errors (e.g. the PostgreSQL jsonb `?` ambiguity). */
  readonly hint?: string;
  /** mixed: per slot, what it is. */
  readonly slots?: readonly Slot[];
  /** named: every name is `param_<k>` at its k-th position, so an array binds it too (sqlspec's generated names). */
  readonly arrayNames?: boolean;
}

/** One distinct placeholder of a mixed statement. */
export interface Slot {
  /** Named slots: the name. */
  readonly name: string | undefined;
  /** As the text spells it (`:name`, `$2`, `?`), for messages. */
  readonly label: string;
  /** Numbered slots: keys that bind it explicitly from an object (`$2`, `2`). */
  readonly keys: readonly string[] | undefined;
}

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  const s = n % 10 === 1 ? "st" : n % 10 === 2 ? "nd" : n % 10 === 3 ? "rd" : "th";
  return `${n}${s}`;
}

function labelOf(t: Token): string {
  const s = t.style!;
  if (NAMED.has(s)) return placeholderFor(s, 0, t.name);
  if (isSequentialStyle(s)) return placeholderFor(s, 0);
  return placeholderFor(s, t.num - 1);
}

function describe(
  schema: InputSchema | undefined,
  style: ParameterStyle | undefined,
  names: readonly string[] | undefined,
  count: number,
): string {
  if (schema?.slots) {
    const shown = schema.slots.slice(0, 8).map((s) => s.label);
    return shown.join(", ") + (schema.slots.length > 8 ? ", …" : "");
  }
  const s = style ?? ParameterStyle.NUMERIC;
  if (names) {
    const shown = names.slice(0, 8).map((nm, k) => placeholderFor(s, k, nm));
    return shown.join(", ") + (names.length > 8 ? ", …" : "");
  }
  if (count === 0) return "no placeholders";
  if (isSequentialStyle(s)) return `${count} × ${placeholderFor(s, 0)}`;
  return count === 1 ? placeholderFor(s, 0) : `${placeholderFor(s, 0)}..${placeholderFor(s, count - 1)}`;
}

const PARAM_N = /^param_(\d+)$/;

/**
 * Statements that mix kinds (named with numbered or `?`, or numbered with `?`), resolved as Python sqlspec does:
 * the distinct placeholders, in order of first appearance, are the values' positions. A numbered placeholder must
 * then be the n-th distinct one, so its number and its position agree (sqlspec ignores the number; where the two
 * disagree we refuse rather than guess).
 */
function resolveMixed(placeholders: readonly Token[]): InputSchema {
  const slots: Slot[] = [];
  const slotOf = new Map<string, number>();
  const keys: number[] = new Array(placeholders.length);
  const realNames = new Set<string>();
  for (const t of placeholders) if (NAMED.has(t.style!)) realNames.add(t.name!);
  for (let k = 0; k < placeholders.length; k++) {
    const t = placeholders[k]!;
    const s = t.style!;
    const named = NAMED.has(s);
    const id = named ? `:${t.name}` : isSequentialStyle(s) ? `?${k}` : `#${t.num}`;
    let slot = slotOf.get(id);
    if (slot === undefined) {
      slot = slots.length;
      const label = labelOf(t);
      if (!named && !isSequentialStyle(s) && t.num !== slot + 1) {
        const before = slots
          .map((x) => x.label)
          .slice(0, 4)
          .join(", ");
        throw new ParameterError(
          `${label} cannot be read: this statement mixes placeholder kinds, so values are taken in order of first ` +
            `appearance and ${label} must be the ${ordinal(t.num)} distinct placeholder, but it is the ` +
            `${ordinal(slot + 1)}${before ? ` (after ${before})` : ""}. Number it ${placeholderFor(s, slot)}, or ` +
            "use one placeholder kind.",
        );
      }
      slots.push({
        name: named ? t.name : undefined,
        label,
        keys: named || isSequentialStyle(s) ? undefined : [label, String(t.num)],
      });
      slotOf.set(id, slot);
    }
    keys[k] = slot;
  }
  const names = slots.map((s, k) => {
    if (s.name !== undefined) return s.name;
    let nm = `p${k + 1}`;
    while (realNames.has(nm)) nm += "_";
    return nm;
  });
  return {
    kind: "mixed",
    style: placeholders[0]!.style,
    count: slots.length,
    names,
    keys,
    problem: undefined,
    slots,
  };
}

/** Derives the input schema from the placeholder tokens (in text order). Raises ParameterError on contradictions. */
export function resolveInput(placeholders: readonly Token[]): InputSchema {
  if (placeholders.length === 0) {
    return { kind: "none", style: undefined, count: 0, names: undefined, keys: [], problem: undefined };
  }
  let named = false;
  let numbered = false;
  let sequential = false;
  for (const t of placeholders) {
    const s = t.style as ParameterStyle;
    if (NAMED.has(s)) named = true;
    else if (isSequentialStyle(s)) sequential = true;
    else numbered = true;
  }
  if (Number(named) + Number(numbered) + Number(sequential) > 1) return resolveMixed(placeholders);
  const first = placeholders[0]!.style;
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
    const arrayNames = names.every((nm, k) => PARAM_N.exec(nm)?.[1] === String(k));
    const schema: InputSchema = { kind: "named", style: first, count: names.length, names, keys, problem: undefined };
    return arrayNames ? { ...schema, arrayNames } : schema;
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
    const style = placeholders[0]!.style!;
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

function countError(schema: InputSchema, what: string, given: string): ParameterError {
  const n = schema.count;
  return new ParameterError(
    `The SQL expects ${n} ${what}${n === 1 ? "" : "s"} (${describe(schema, schema.style, schema.kind === "named" ? schema.names : undefined, n)}) ` +
      `but ${given}.${schema.hint ?? ""}`,
  );
}

function given(len: number, expected: number): string {
  return `${len} ${len === 1 ? "was" : "were"} given${len > expected ? " (too many)" : " (too few)"}`;
}

/**
 * A mixed statement bound from an object: named placeholders by name; a numbered one by a key spelled as it
 * (`"$2"` or `"2"`) when present; the positional ones left take the object's other keys, in the object's key order.
 * Every key must be used exactly once.
 */
function mixedFromObject(schema: InputSchema, record: Record<string, unknown>): unknown[] {
  const slots = schema.slots!;
  const values = new Array<unknown>(slots.length);
  const used = new Set<string>();
  const open: number[] = [];
  let missing: string[] | undefined;
  for (let k = 0; k < slots.length; k++) {
    const slot = slots[k]!;
    if (slot.name !== undefined) {
      if (hasOwn.call(record, slot.name)) {
        values[k] = record[slot.name];
        used.add(slot.name);
      } else {
        missing ??= [];
        missing.push(slot.name);
      }
      continue;
    }
    const key = slot.keys?.find((x) => hasOwn.call(record, x));
    if (key !== undefined && !used.has(key)) {
      values[k] = record[key];
      used.add(key);
    } else open.push(k);
  }
  const others = Object.keys(record).filter((key) => !used.has(key));
  if (missing !== undefined) {
    throw new ParameterError(
      `Missing named parameter${missing.length === 1 ? "" : "s"} ${quoteList(missing)}: the SQL uses ` +
        `${describe(schema, undefined, undefined, 0)}; the object given has ` +
        `${Object.keys(record).length === 0 ? "no keys" : `keys ${quoteList(Object.keys(record))}`}.`,
    );
  }
  if (others.length < open.length) {
    const labels = open.slice(others.length).map((k) => slots[k]!.label);
    throw new ParameterError(
      `The object has no value for ${labels.join(", ")}: in this statement, which mixes named and positional ` +
        `placeholders (${describe(schema, undefined, undefined, 0)}), the keys that are not placeholder names fill ` +
        'the positional placeholders in order (or key one by its text, e.g. "$2").',
    );
  }
  if (others.length > open.length) {
    throw new ParameterError(
      `Unused named parameter${others.length - open.length === 1 ? "" : "s"} ` +
        `${quoteList(others.slice(open.length))}: the SQL uses only ${describe(schema, undefined, undefined, 0)}.`,
    );
  }
  for (let k = 0; k < open.length; k++) values[open[k]!] = record[others[k]!];
  return values;
}

/**
 * Validates `params` against `schema` and returns one new array: `out[i] = value for sources[i]`, where each
 * source is a position (positional input), an index into `schema.names` (named input) or a slot (mixed input).
 */
export function bindValues(
  schema: InputSchema,
  sources: ArrayLike<number>,
  params: Params | undefined | null,
): unknown[] {
  if (params === undefined || params === null) {
    if (schema.kind === "none") return [];
    if (schema.kind === "named") {
      throw new ParameterError(
        `The SQL expects named parameters (${describe(schema, schema.style, schema.names, 0)}) but none were given.`,
      );
    }
    throw countError(schema, schema.kind === "mixed" ? "value" : "positional parameter", "none were given");
  }
  const n = sources.length;
  if (Array.isArray(params)) {
    const len = params.length;
    if (schema.kind === "positional" || schema.kind === "mixed" || schema.arrayNames) {
      if (len !== schema.count) {
        throw countError(
          schema,
          schema.kind === "positional" ? "positional parameter" : "value",
          given(len, schema.count),
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
    const names = schema.names!;
    if (names.every((nm) => PARAM_N.test(nm))) {
      const k = names.findIndex((nm, at) => nm !== `param_${at}`);
      throw new ParameterError(
        `An array binds :param_N placeholders in order of first appearance, so :${names[k]} must be the ` +
          `${ordinal(Number(PARAM_N.exec(names[k]!)![1]) + 1)} distinct placeholder, but it is the ${ordinal(k + 1)} ` +
          `(${describe(schema, schema.style, names, 0)}). Pass an object, or renumber them.`,
      );
    }
    throw new ParameterError(
      `The SQL uses named placeholders (${describe(schema, schema.style, names, 0)}) and expects an object of ` +
        `values, but an array of ${len} was given.`,
    );
  }
  if (typeof params !== "object") {
    throw new ParameterError(`Parameters must be an array or an object, but a ${typeof params} was given.`);
  }
  const record = params as Record<string, unknown>;
  if (schema.kind === "positional" || (schema.kind === "mixed" && schema.slots!.every((s) => s.name === undefined))) {
    throw new ParameterError(
      `The SQL uses ${schema.count} positional placeholder${schema.count === 1 ? "" : "s"} ` +
        `(${describe(schema, schema.style, undefined, schema.count)}) and expects an array, but an object was given.`,
    );
  }
  if (schema.kind === "mixed") {
    const values = mixedFromObject(schema, record);
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = values[sources[i]!];
    return out;
  }
  let count = 0;
  for (const key in record) if (hasOwn.call(record, key)) count++;
  if (schema.kind === "none") {
    if (count === 0) return [];
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
        `${describe(schema, schema.style, names, 0)}; the object given has ${count === 0 ? "no keys" : `keys ${quoteList(Object.keys(record))}`}.`,
    );
  }
  if (count !== names.length) {
    const used = new Set(names);
    const extra = Object.keys(record).filter((k) => !used.has(k));
    throw new ParameterError(
      `Unused named parameter${extra.length === 1 ? "" : "s"} ${quoteList(extra)}: the SQL uses only ` +
        `${describe(schema, schema.style, names, 0)}.`,
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
    const named = schema.kind === "named" || (schema.kind === "mixed" && schema.slots![schema.keys[k]!]!.name);
    refs.push(named ? { kind: "named", name: t.name! } : { kind: "positional", index: schema.keys[k]! });
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
