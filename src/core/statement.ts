/**
 * The SQL statement object and the `sql` tagged template. Nothing here does I/O: `compile()` goes through the
 * cached compiler and returns `{ sql, parameters }`.
 */
import { brand } from "./brand.js";
import { isQueryBuilder } from "./builder-protocol.js";
import { getPlan, type StatementPlan } from "./compiler.js";
import { SQLBuilderError } from "./errors.js";
import { parseName, quotePath } from "./identifiers.js";
import { JsonValue } from "./json.js";
import { splitPlaceholders } from "./parameters.js";
import type { TypedSQL } from "./typed-query.js";
import type { Dialect, Params } from "./types.js";
import { ParameterStyle } from "./types.js";

/** Trusted SQL text spliced verbatim into a template. Never pass user input. */
export class RawFragment {
  static {
    brand(RawFragment, "RawFragment");
  }
  constructor(
    /** The SQL text, inserted as is. */
    readonly text: string,
  ) {}
}

/**
 * An identifier (`"t"."col"`), quoted per dialect at compile time with the dialect's one quoting function. A string
 * is read like every other name (`schema.table`, quoted parts such as `"Bulk"."Record.Target"`); an array gives the
 * parts as they are.
 */
export class RefFragment {
  static {
    brand(RefFragment, "RefFragment");
  }
  /** The identifier's parts, unquoted (`["t", "col"]`). */
  readonly parts: readonly string[];
  /** @throws {@link SQLBuilderError} for an empty name or an empty part. */
  constructor(name: string | readonly string[]) {
    if (typeof name !== "string" && !Array.isArray(name)) {
      throw new SQLBuilderError(`sql.ref() takes a name or an array of name parts, got ${String(name)}`);
    }
    this.parts = typeof name === "string" ? parseName(name, "sql.ref()") : [...name];
    if (this.parts.length === 0 || this.parts.some((p) => typeof p !== "string" || p.length === 0)) {
      throw new SQLBuilderError(`sql.ref(): invalid identifier ${JSON.stringify(name)}`);
    }
  }
  /** The quoted identifier for `dialect` (default `"postgres"`); a `*` part stays bare. */
  render(dialect: Dialect = "postgres"): string {
    // `*` stays bare so sql.ref("t.*") works
    return quotePath(this.parts, dialect);
  }
}

/** Forces its value to be bound as a parameter, whatever it is. */
export class ValueFragment {
  static {
    brand(ValueFragment, "ValueFragment");
  }
  constructor(
    /** The value to bind. */
    readonly value: unknown,
  ) {}
}

/** A template piece: literal SQL text, an identifier, or a bound value (its 0-based index into params). */
type Chunk = string | RefFragment | number;

/**
 * The pieces of a statement built by the template, so nesting and per-dialect quoting need no re-lexing. Kept on the
 * statement itself (a WeakMap entry per statement costs more than building the statement).
 */
let chunksOf: (s: SQL) => readonly Chunk[] | undefined;
let withChunks: (s: SQL, chunks: readonly Chunk[]) => SQL;

/**
 * A statement: text plus optional params. Placeholders may be any ParameterStyle (or restricted to `inputStyle`);
 * `compile()` converts them to the target style.
 */
export class SQL {
  // `instanceof SQL` also accepts a SQL made by another copy of sqlspec (the other module format).
  static {
    brand(SQL, "SQL");
  }
  /** The SQL text as written (for a template: rendered with `$n` placeholders). */
  readonly text: string;
  /** The bound values: positional (array) or named (object); `undefined` when none were given. */
  readonly params: Params | undefined;
  /** The only placeholder style the text may use, when restricted; otherwise every style is recognised. */
  readonly inputStyle?: ParameterStyle;
  #otherText: { dialect: Dialect; text: string } | undefined;
  #chunks: readonly Chunk[] | undefined;
  static {
    chunksOf = (s) => (#chunks in s ? s.#chunks : undefined); // a SQL from another copy of sqlspec has none
    withChunks = (s, chunks) => {
      s.#chunks = chunks;
      return s;
    };
  }

  /**
   * @param text - SQL with placeholders in any {@link ParameterStyle}.
   * @param params - Values for the placeholders: an array for positional ones, an object for named ones.
   * @param options - `inputStyle` restricts recognised placeholders to one style.
   */
  constructor(text: string, params?: Params, options?: { inputStyle?: ParameterStyle }) {
    this.text = text;
    this.params = params;
    if (options?.inputStyle !== undefined) this.inputStyle = options.inputStyle;
  }

  /** The text as the given dialect must see it (identifiers from `sql.ref` are quoted per dialect). */
  textFor(dialect: Dialect = "postgres"): string {
    // PostgreSQL, SQLite and DuckDB quote alike; the text was rendered for PostgreSQL.
    if (dialect === "postgres" || dialect === "sqlite" || dialect === "duckdb") return this.text;
    const chunks = this.#chunks;
    if (chunks === undefined || !chunks.some((c) => c instanceof RefFragment)) return this.text;
    if (this.#otherText?.dialect !== dialect) this.#otherText = { dialect, text: renderChunks(chunks, dialect) };
    return this.#otherText.text;
  }

  /** The cached plan for this statement's text in the target style. */
  plan(style: ParameterStyle = ParameterStyle.NUMERIC, dialect: Dialect = "postgres"): StatementPlan {
    return getPlan(this.textFor(dialect), style, dialect, this.inputStyle);
  }

  /** Converts placeholders to `style` and binds the params. Raises ParameterError on any mismatch. No I/O. */
  compile(
    style: ParameterStyle = ParameterStyle.NUMERIC,
    dialect: Dialect = "postgres",
  ): {
    /** The SQL with placeholders in `style`. */
    sql: string;
    /** The values in placeholder order (named parameters deduplicated). */
    parameters: unknown[];
  } {
    const plan = this.plan(style, dialect);
    return { sql: plan.sql, parameters: plan.bind(this.params) };
  }

  /** The SQL text (never the values). */
  toString(): string {
    return this.text;
  }
}

/** Whether `value` is a {@link SQL} statement (also one made by another copy of sqlspec). */
export function isSQL(value: unknown): value is SQL {
  return value instanceof SQL;
}

function renderChunks(chunks: readonly Chunk[], dialect: Dialect): string {
  let out = "";
  for (const c of chunks) {
    if (typeof c === "string") out += c;
    else if (typeof c === "number") out += `$${c + 1}`;
    else out += c.render(dialect);
  }
  return out;
}

/** Appends a nested statement's chunks, shifting its parameter numbers past the values already bound. */
function appendNested(chunks: Chunk[], params: unknown[], nested: SQL): void {
  const own = chunksOf(nested);
  const base = params.length;
  if (own !== undefined) {
    for (const c of own) chunks.push(typeof c === "number" ? c + base : c);
    for (const v of nested.params as readonly unknown[]) params.push(v);
    return;
  }
  // any other statement: convert it to $n once, then splice its pieces
  const plan = getPlan(nested.text, ParameterStyle.NUMERIC, "postgres", nested.inputStyle);
  const values = plan.bind(nested.params);
  const { parts, refs } = splitPlaceholders(plan.sql, "postgres", ParameterStyle.NUMERIC);
  for (let k = 0; k < refs.length; k++) {
    chunks.push(parts[k]!);
    const ref = refs[k]!;
    chunks.push(base + (ref.kind === "positional" ? ref.index : 0));
  }
  chunks.push(parts[refs.length]!);
  for (const v of values) params.push(v);
}

/** What a call site's template renders to when every interpolation is a plain value (its text never varies). */
interface PlainTemplate {
  readonly text: string;
  readonly chunks: readonly Chunk[];
}

/** Per call site: the strings array of a tagged template is one frozen object per site, reused on every call. */
const PLAIN_TEMPLATES = new WeakMap<TemplateStringsArray, PlainTemplate>();
const NUMERIC_INPUT = { inputStyle: ParameterStyle.NUMERIC };

/** Whether a template value changes the text (fragments, statements, builders) rather than binding as a value. */
function shapesText(v: unknown): boolean {
  return (
    typeof v === "object" &&
    v !== null &&
    (v instanceof RawFragment ||
      v instanceof RefFragment ||
      v instanceof ValueFragment ||
      isSQL(v) ||
      isQueryBuilder(v))
  );
}

function template(strings: TemplateStringsArray, ...values: unknown[]): SQL {
  let k = 0;
  while (k < values.length && !shapesText(values[k])) k++;
  if (k === values.length) {
    // the common case: only values, so the text is the call site's, rendered once
    let plain = PLAIN_TEMPLATES.get(strings);
    if (plain === undefined) {
      const chunks: Chunk[] = [strings[0]!];
      for (let j = 0; j < values.length; j++) chunks.push(j, strings[j + 1]!);
      plain = { text: renderChunks(chunks, "postgres"), chunks };
      PLAIN_TEMPLATES.set(strings, plain);
    }
    return withChunks(new SQL(plain.text, values, NUMERIC_INPUT), plain.chunks);
  }
  return composedTemplate(strings, values);
}

function composedTemplate(strings: TemplateStringsArray, values: unknown[]): SQL {
  const chunks: Chunk[] = [strings[0]!];
  const params: unknown[] = [];
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (v instanceof RawFragment) chunks.push(v.text);
    else if (v instanceof RefFragment) chunks.push(v);
    else if (v instanceof ValueFragment) chunks.push(params.push(v.value) - 1);
    else if (isSQL(v)) appendNested(chunks, params, v);
    else if (isQueryBuilder(v)) {
      // a builder nested in a template renders for PostgreSQL ($n), like the template itself
      const built = v.build("postgres");
      const positional = Array.isArray(built.parameters);
      appendNested(
        chunks,
        params,
        new SQL(built.sql, built.parameters, positional ? { inputStyle: ParameterStyle.NUMERIC } : undefined),
      );
    } else chunks.push(params.push(v) - 1); // arrays and JsonValue bind as one value
    chunks.push(strings[k + 1]!);
  }
  return withChunks(new SQL(renderChunks(chunks, "postgres"), params, NUMERIC_INPUT), chunks);
}

/** The type of `sql`'s tagged-template part and its helpers (`sql.raw`, `sql.ref`, `sql.value`, `sql.json`). */
export interface SqlTag {
  /**
   * A statement with bound values. With a row type, `` sql<User>`SELECT …` ``, the session's select family returns
   * `User` rows for it (as Kysely's `sql<T>` types an expression); without one it is a plain `SQL`.
   *
   * @example
   * const user = await session.selectOne(sql<User>`SELECT * FROM users WHERE id = ${id}`); // user: User
   */
  <R = never>(strings: TemplateStringsArray, ...values: unknown[]): [R] extends [never] ? SQL : TypedSQL<R>;
  /** Trusted SQL text, spliced verbatim. */
  raw(text: string): RawFragment;
  /** A quoted identifier; dots separate parts (`"t"."col"`), or pass the parts as an array. */
  ref(name: string | readonly string[]): RefFragment;
  /** Always bound as a parameter. */
  value(value: unknown): ValueFragment;
  /** Bound as one JSON parameter (never as a PostgreSQL array). */
  json(value: unknown): JsonValue;
}

/** The `sql` tagged template: interpolations become bound `$n` parameters unless wrapped in raw/ref. */
// The row type of `sql<R>` exists only for the compiler: at run time every template is a plain SQL.
export const sqlTag = Object.assign(template, {
  raw: (text: string) => new RawFragment(text),
  ref: (name: string | readonly string[]) => new RefFragment(name),
  value: (value: unknown) => new ValueFragment(value),
  json: (value: unknown) => new JsonValue(value),
}) as SqlTag;
