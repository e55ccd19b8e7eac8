/**
 * Statement compilation: text → lexer → placeholder schema → a cached StatementPlan in the target style.
 * A plan depends only on (text, input style, target style, dialect), never on values, so it is cached in an LRU and
 * a repeated statement costs one Map lookup plus `bind()` (one output array).
 */
import {
  isTrivia,
  lex,
  TK_LPAREN,
  TK_OP,
  TK_PLACEHOLDER,
  TK_RPAREN,
  TK_SEMI,
  TK_WORD,
  type Token,
  wordIs,
} from "./lexer.js";
import { bindValues, type InputSchema, isSequentialStyle, placeholderFor, resolveInput } from "./parameters.js";
import type { Dialect, OperationType, Params } from "./types.js";
import { ParameterStyle } from "./types.js";

export interface StatementPlan {
  /** The text in the target style. */
  readonly sql: string;
  /** From the leading keyword; `WITH … INSERT/UPDATE/DELETE/MERGE` looks past the CTEs. */
  readonly operationType: OperationType;
  /** SELECT-like, or has a top-level RETURNING. */
  readonly returnsRows: boolean;
  /** Placeholders in the output that take distinct values: always the length of `bind()`'s result. */
  readonly placeholderCount: number;
  /** Named input (or a named target): the unique names, in output order. Positional → undefined. */
  readonly parameterNames: readonly string[] | undefined;
  /** Validates params and returns the values in target order. Throws ParameterError. */
  bind(params: Params | undefined): unknown[];
  /**
   * `SELECT count(*) AS total FROM (<text without top-level ORDER BY/LIMIT/OFFSET/FETCH>) AS _sqlspec_count`.
   * Its bind() takes the same params as this plan and drops values used only by the removed clauses.
   */
  countPlan(): StatementPlan;
}

const OPS: Record<string, OperationType> = {
  SELECT: "SELECT",
  INSERT: "INSERT",
  REPLACE: "INSERT",
  UPDATE: "UPDATE",
  DELETE: "DELETE",
  MERGE: "MERGE",
  UPSERT: "INSERT",
  EXPLAIN: "SELECT",
  DESCRIBE: "SELECT",
  DESC: "SELECT",
  SHOW: "SELECT",
  VALUES: "SELECT",
  TABLE: "SELECT",
  PRAGMA: "SELECT",
  FROM: "SELECT", // DuckDB's FROM-first SELECT
  CREATE: "DDL",
  ALTER: "DDL",
  DROP: "DDL",
  TRUNCATE: "DDL",
  COMMENT: "DDL",
  GRANT: "DDL",
  REVOKE: "DDL",
  RENAME: "DDL",
  COPY: "COPY",
};

/** Index of the next non-trivia token at or after `k` (tokens.length when none). */
function nextSig(tokens: readonly Token[], k: number): number {
  while (k < tokens.length && isTrivia(tokens[k]!)) k++;
  return k;
}

function operationOf(text: string, tokens: readonly Token[]): OperationType {
  let k = 0;
  while (k < tokens.length && (isTrivia(tokens[k]!) || tokens[k]!.kind === TK_LPAREN)) k++;
  const first = tokens[k];
  if (first === undefined || first.kind !== TK_WORD) return "EXECUTE";
  const word = text.slice(first.start, first.end).toUpperCase();
  if (word !== "WITH") return OPS[word] ?? "EXECUTE";
  // past the CTE list (all CTE bodies are parenthesised) the first depth-0 statement keyword decides
  let depth = 0;
  for (k++; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.kind === TK_LPAREN) depth++;
    else if (t.kind === TK_RPAREN) depth--;
    else if (t.kind === TK_SEMI && depth === 0) break;
    else if (depth === 0 && t.kind === TK_WORD) {
      for (const kw of ["SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES", "TABLE"]) {
        if (wordIs(text, t, kw)) return OPS[kw]!;
      }
    }
  }
  return "SELECT";
}

/** The operation type of a statement, from its leading keyword (see StatementPlan.operationType). */
export function detectOperationType(text: string): OperationType {
  return operationOf(text, lex(text, "postgres"));
}

interface Shape {
  /** End offset of the last meaningful token (trailing `;`, whitespace and comments excluded). */
  end: number;
  /** Top-level ORDER BY/LIMIT/OFFSET/FETCH region to drop for COUNT: [start, end) offsets, or undefined. */
  cut: [number, number] | undefined;
  returning: boolean;
}

function shapeOf(text: string, tokens: readonly Token[]): Shape {
  let depth = 0;
  let end = 0;
  let tailStart = -1;
  let lockStart = -1;
  let returning = false;
  let prevSig: Token | undefined;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (isTrivia(t)) continue;
    if (t.kind === TK_SEMI && depth === 0) {
      prevSig = t;
      continue;
    }
    end = t.end;
    if (t.kind === TK_LPAREN) depth++;
    else if (t.kind === TK_RPAREN) depth--;
    else if (depth === 0 && t.kind === TK_WORD && !(prevSig?.kind === TK_OP && text.charCodeAt(prevSig.start) === 46)) {
      if (wordIs(text, t, "UNION") || wordIs(text, t, "INTERSECT") || wordIs(text, t, "EXCEPT")) {
        tailStart = -1; // ORDER BY/LIMIT before a set operator belong to a branch, not the whole query
        lockStart = -1;
      } else if (wordIs(text, t, "RETURNING")) {
        returning = true;
      } else if (tailStart < 0) {
        if (wordIs(text, t, "LIMIT") || wordIs(text, t, "OFFSET") || wordIs(text, t, "FETCH")) tailStart = t.start;
        else if (wordIs(text, t, "ORDER")) {
          const nx = tokens[nextSig(tokens, k + 1)];
          if (nx !== undefined && wordIs(text, nx, "BY")) tailStart = t.start;
        }
      } else if (lockStart < 0 && wordIs(text, t, "FOR")) {
        lockStart = t.start; // FOR UPDATE/SHARE stays: it is not part of the pagination
      }
    }
    prevSig = t;
  }
  let cut: [number, number] | undefined;
  if (tailStart >= 0) cut = [tailStart, lockStart >= 0 ? lockStart : end];
  return { end, cut, returning };
}

class Plan implements StatementPlan {
  private count: Plan | undefined;
  constructor(
    readonly target: ParameterStyle,
    readonly dialect: Dialect,
    readonly inputStyle: ParameterStyle | undefined,
    readonly sql: string,
    readonly operationType: OperationType,
    readonly returnsRows: boolean,
    readonly parameterNames: readonly string[] | undefined,
    private readonly schema: InputSchema,
    private readonly sources: readonly number[],
    private readonly makeCount: (() => Plan) | undefined,
  ) {}

  get placeholderCount(): number {
    return this.sources.length;
  }

  bind(params: Params | undefined): unknown[] {
    return bindValues(this.schema, this.sources, params);
  }

  countPlan(): StatementPlan {
    if (this.count === undefined) this.count = this.makeCount ? this.makeCount() : this;
    return this.count;
  }
}

interface Rendered {
  sql: string;
  sources: number[];
  names: string[] | undefined;
}

/** Rebuilds `text[0, end)` minus `cut`, replacing each kept placeholder with the target style's. */
function render(
  text: string,
  phs: readonly Token[],
  schema: InputSchema,
  target: ParameterStyle,
  end: number,
  cut: [number, number] | undefined,
): Rendered {
  const keep = (t: Token): boolean => t.end <= end && (cut === undefined || t.end <= cut[0] || t.start >= cut[1]);
  const sequential = isSequentialStyle(target);
  const named = schema.kind === "named";
  const wantNames =
    named || !(sequential || target === ParameterStyle.NUMERIC || target === ParameterStyle.POSITIONAL_COLON);
  // numbered and named targets: one slot per distinct source, in source order (first appearance for names)
  let slotOf: Int32Array | undefined;
  const sources: number[] = [];
  if (!sequential) {
    const used = new Uint8Array(schema.count);
    for (let k = 0; k < phs.length; k++) if (keep(phs[k]!)) used[schema.keys[k]!] = 1;
    slotOf = new Int32Array(schema.count);
    for (let key = 0; key < schema.count; key++) {
      if (used[key]) {
        slotOf[key] = sources.length;
        sources.push(key);
      }
    }
  }
  const slotName = (key: number, slot: number): string => (named ? schema.names![key]! : `p${slot + 1}`);
  let sql = "";
  let prev = 0;
  for (let k = 0; k < phs.length; k++) {
    const t = phs[k]!;
    if (!keep(t)) continue;
    if (cut !== undefined && t.start >= cut[1] && prev < cut[1]) {
      sql += text.slice(prev, cut[0]);
      prev = cut[1];
    }
    const key = schema.keys[k]!;
    let slot: number;
    if (sequential) {
      slot = sources.length;
      sources.push(key);
    } else slot = slotOf![key]!;
    sql += text.slice(prev, t.start) + placeholderFor(target, slot, wantNames ? slotName(key, slot) : undefined);
    prev = t.end;
  }
  if (cut !== undefined && prev < cut[1]) {
    sql += text.slice(prev, cut[0]);
    prev = cut[1];
  }
  sql += text.slice(prev, end);
  let names: string[] | undefined;
  if (wantNames) {
    names = [];
    if (sequential) {
      const seen = new Set<number>();
      for (const key of sources) {
        if (seen.has(key)) continue;
        seen.add(key);
        names.push(slotName(key, names.length));
      }
    } else for (let s = 0; s < sources.length; s++) names.push(slotName(sources[s]!, s));
  }
  return { sql, sources, names };
}

function compile(text: string, target: ParameterStyle, dialect: Dialect, inputStyle: ParameterStyle | undefined): Plan {
  const tokens = lex(text, dialect, { inputStyle });
  const phs = tokens.filter((t) => t.kind === TK_PLACEHOLDER);
  const schema = resolveInput(phs);
  const operationType = operationOf(text, tokens);
  const shape = shapeOf(text, tokens);
  const returnsRows = operationType === "SELECT" || shape.returning;
  const rendered = render(text, phs, schema, target, text.length, undefined);
  const makeCount = (): Plan => {
    const r = render(text, phs, schema, target, shape.end, shape.cut);
    const sql = `SELECT count(*) AS total FROM (${r.sql.trimEnd()}) AS _sqlspec_count`;
    return new Plan(target, dialect, inputStyle, sql, "SELECT", true, r.names, schema, r.sources, undefined);
  };
  return new Plan(
    target,
    dialect,
    inputStyle,
    rendered.sql,
    operationType,
    returnsRows,
    rendered.names,
    schema,
    rendered.sources,
    makeCount,
  );
}

// ---- cache ---------------------------------------------------------------------------------------------------
// Keyed by text first (one Map lookup on a hit, no key concatenation); each text holds its few (target, dialect,
// inputStyle) variants. Recency is an intrusive doubly linked list: a hit moves the entry to the front with a few
// pointer writes, and eviction pops the tail in O(1). (Evicting through Map iteration degrades badly: V8 leaves
// deleted slots at the front of the table, so every "oldest key" lookup walks over them.)

interface Entry {
  text: string;
  plans: Plan[];
  prev: Entry | undefined; // towards the most recent
  next: Entry | undefined; // towards the least recent
}

let capacity = 1000;
let size = 0;
let hits = 0;
let misses = 0;
const cache = new Map<string, Entry>();
let head: Entry | undefined; // most recently used
let tail: Entry | undefined; // least recently used

function unlink(e: Entry): void {
  if (e.prev !== undefined) e.prev.next = e.next;
  else head = e.next;
  if (e.next !== undefined) e.next.prev = e.prev;
  else tail = e.prev;
  e.prev = undefined;
  e.next = undefined;
}

function pushFront(e: Entry): void {
  e.next = head;
  if (head !== undefined) head.prev = e;
  head = e;
  if (tail === undefined) tail = e;
}

function evict(): void {
  while (size > capacity && tail !== undefined) {
    const e = tail;
    unlink(e);
    cache.delete(e.text);
    size -= e.plans.length;
  }
}

/** The cached plan for (text, target, dialect, inputStyle); compiles on a miss. Raises ParameterError on mixes. */
export function getPlan(
  text: string,
  target: ParameterStyle,
  dialect: Dialect,
  inputStyle?: ParameterStyle,
): StatementPlan {
  const entry = cache.get(text);
  if (entry !== undefined) {
    if (entry !== head) {
      unlink(entry);
      pushFront(entry);
    }
    const plans = entry.plans;
    for (let k = 0; k < plans.length; k++) {
      const p = plans[k]!;
      if (p.target === target && p.dialect === dialect && p.inputStyle === inputStyle) {
        hits++;
        return p;
      }
    }
  }
  misses++;
  const plan = compile(text, target, dialect, inputStyle);
  if (capacity <= 0) return plan;
  if (entry !== undefined) entry.plans.push(plan);
  else {
    const e: Entry = { text, plans: [plan], prev: undefined, next: undefined };
    cache.set(text, e);
    pushFront(e);
  }
  size++;
  if (size > capacity) evict();
  return plan;
}

/** Sets the LRU capacity (number of cached plans; 0 disables caching). Default 1000. */
export function setStatementCacheSize(n: number): void {
  capacity = Math.max(0, Math.floor(n));
  evict();
}

export function statementCacheStats(): { size: number; hits: number; misses: number } {
  return { size, hits, misses };
}

/** Empties the cache and resets the counters (tests and benchmarks). */
export function clearStatementCache(): void {
  cache.clear();
  head = undefined;
  tail = undefined;
  size = 0;
  hits = 0;
  misses = 0;
}

/** Convenience: compile and bind in one call (no I/O). */
export function compileStatement(
  text: string,
  params: Params | undefined,
  target: ParameterStyle = ParameterStyle.NUMERIC,
  dialect: Dialect = "postgres",
  inputStyle?: ParameterStyle,
): { sql: string; parameters: unknown[] } {
  const plan = getPlan(text, target, dialect, inputStyle);
  return { sql: plan.sql, parameters: plan.bind(params) };
}
