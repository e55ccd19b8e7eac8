/**
 * Statement compilation: text → lexer → placeholder schema → a cached StatementPlan in the target style.
 * A plan depends only on (text, input style, target style, dialect), never on values, so it is cached in an LRU and
 * a repeated statement costs one Map lookup plus `bind()` (one output array).
 */

import { ParameterError, SQLSpecError } from "./errors.js";
import {
  scan,
  TK_COMMENT,
  TK_LPAREN,
  TK_OP,
  TK_PLACEHOLDER,
  TK_RPAREN,
  TK_SEMI,
  TK_WORD,
  type Token,
  TokenBuffer,
} from "./lexer.js";
import { bindValues, type InputSchema, isSequentialStyle, placeholderFor, resolveInput } from "./parameters.js";
import { splitScript } from "./splitter.js";
import type { Dialect, OperationType, Params } from "./types.js";
import { ParameterStyle } from "./types.js";

/** A statement's text compiled for one placeholder style and dialect: cached, reused for every execution. */
export interface StatementPlan {
  /** The text in the target style. */
  readonly sql: string;
  /** From the leading keyword; `WITH … INSERT/UPDATE/DELETE/MERGE` looks past the CTEs. */
  readonly operationType: OperationType;
  /** SELECT-like, or has a top-level RETURNING. */
  readonly returnsRows: boolean;
  /**
   * How many statements the text holds (a trailing `;` and comments do not count). A session runs one statement per
   * call and refuses more before anything is sent; scripts go through `executeScript`.
   */
  readonly statementCount: number;
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
  /**
   * The page and its total in one statement: `SELECT *, (<countPlan's query>) AS <column> FROM (<text>) AS
   * _sqlspec_page`, one snapshot and one round trip. Undefined when the text has no top-level LIMIT/OFFSET/FETCH:
   * its rows are all the rows, so their number is the total. Its bind() takes the same params as this plan.
   */
  totalPlan(column: string): StatementPlan | undefined;
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

const WITH_BODY_KEYWORDS = ["SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES", "TABLE"];

/** Whether token `k` carries meaning (not a comment; whitespace is never a token). */
function significant(buf: TokenBuffer, k: number): boolean {
  return buf.kind[k] !== TK_COMMENT;
}

function operationOf(text: string, buf: TokenBuffer): OperationType {
  const count = buf.count;
  let k = 0;
  while (k < count && (!significant(buf, k) || buf.kind[k] === TK_LPAREN)) k++;
  if (k === count || buf.kind[k] !== TK_WORD) return "EXECUTE";
  const word = text.slice(buf.start[k], buf.end[k]).toUpperCase();
  if (word !== "WITH") return OPS[word] ?? "EXECUTE";
  // past the CTE list (all CTE bodies are parenthesised) the first depth-0 statement keyword decides
  let depth = 0;
  for (k++; k < count; k++) {
    const kind = buf.kind[k];
    if (kind === TK_LPAREN) depth++;
    else if (kind === TK_RPAREN) depth--;
    else if (kind === TK_SEMI && depth === 0) break;
    else if (depth === 0 && kind === TK_WORD) {
      for (const kw of WITH_BODY_KEYWORDS) if (buf.isWord(text, k, kw)) return OPS[kw]!;
    }
  }
  return "SELECT";
}

const scratch = new TokenBuffer(); // compile() is synchronous, so one buffer serves every call

const LEADING_WORD = /^[\s(]*([A-Za-z]+)/;

/**
 * The operation type of SQL text that a builder rendered (no leading comments): read from its first word without
 * lexing the whole text; only a WITH needs the lexer, to find its body.
 */
export function builtOperationType(text: string): OperationType {
  const word = LEADING_WORD.exec(text)?.[1]?.toUpperCase();
  if (word === undefined || word === "WITH") return detectOperationType(text);
  return OPS[word] ?? "EXECUTE";
}

// Statements that begin, end or divide a transaction. BEGIN counts only alone or with a transaction word after it
// (a PL/SQL or BigQuery BEGIN … END block is a body); START, END and PREPARE only as the transaction forms.
const TX_ALWAYS = new Set(["COMMIT", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "XA"]);
const TX_AFTER: Record<string, ReadonlySet<string> | undefined> = {
  BEGIN: new Set(["TRANSACTION", "WORK", "TRAN", "ISOLATION", "READ", "DEFERRED", "IMMEDIATE", "EXCLUSIVE", "NOT"]),
  END: new Set(["TRANSACTION", "WORK"]),
  START: new Set(["TRANSACTION"]),
  PREPARE: new Set(["TRANSACTION"]),
};

/**
 * The leading keyword(s) of a transaction-control statement (`BEGIN`, `START TRANSACTION`, `COMMIT`, `END`,
 * `ROLLBACK`, `SAVEPOINT`, `RELEASE`, `PREPARE TRANSACTION`, `XA …`), else undefined. Read from the lexer's tokens,
 * so comments and quoting are understood. Such statements classify as `"EXECUTE"`; only those need asking.
 */
export function transactionControlOf(text: string, dialect: Dialect): string | undefined {
  const buf = scratch;
  scan(buf, text, dialect, undefined);
  const toks: number[] = []; // the first two tokens that are neither comments nor `;`
  for (let k = 0; k < buf.count && toks.length < 2; k++) {
    if (significant(buf, k) && buf.kind[k] !== TK_SEMI) toks.push(k);
  }
  const word = (k: number | undefined): string | undefined =>
    k !== undefined && buf.kind[k] === TK_WORD ? text.slice(buf.start[k], buf.end[k]).toUpperCase() : undefined;
  const first = word(toks[0]);
  if (first === undefined) return undefined;
  if (TX_ALWAYS.has(first)) return first;
  const after = TX_AFTER[first];
  if (after === undefined) return undefined;
  if (toks.length === 1) return first === "BEGIN" || first === "END" ? first : undefined;
  const second = word(toks[1]);
  return second !== undefined && after.has(second) ? `${first} ${second}` : undefined;
}

/** The operation type of a statement, from its leading keyword (see StatementPlan.operationType). */
export function detectOperationType(text: string): OperationType {
  scan(scratch, text, "postgres", undefined);
  return operationOf(text, scratch);
}

interface Shape {
  /** End offset of the last meaningful token (trailing `;`, whitespace and comments excluded). */
  end: number;
  /** Top-level ORDER BY/LIMIT/OFFSET/FETCH region to drop for COUNT: [start, end) offsets, or undefined. */
  cut: [number, number] | undefined;
  returning: boolean;
  /** A meaningful token follows a top-level `;`: the text may hold more than one statement. */
  more: boolean;
  /** A top-level LIMIT/OFFSET/FETCH (of the whole query, not of a set operation's branch): the rows are a page. */
  paged: boolean;
}

function shapeOf(text: string, buf: TokenBuffer): Shape {
  const count = buf.count;
  let depth = 0;
  let end = 0;
  let tailStart = -1;
  let lockStart = -1;
  let returning = false;
  let afterDot = false; // `t.limit` is a column, not a clause
  let semi = false;
  let more = false;
  let paged = false;
  for (let k = 0; k < count; k++) {
    if (!significant(buf, k)) continue;
    const kind = buf.kind[k];
    if (kind === TK_SEMI && depth === 0) {
      afterDot = false;
      semi = true;
      continue;
    }
    if (semi) more = true;
    end = buf.end[k]!;
    if (kind === TK_LPAREN) depth++;
    else if (kind === TK_RPAREN) depth--;
    else if (depth === 0 && kind === TK_WORD && !afterDot) {
      if (buf.isWord(text, k, "UNION") || buf.isWord(text, k, "INTERSECT") || buf.isWord(text, k, "EXCEPT")) {
        tailStart = -1; // ORDER BY/LIMIT before a set operator belong to a branch, not the whole query
        lockStart = -1;
        paged = false;
      } else if (buf.isWord(text, k, "RETURNING")) {
        returning = true;
      } else {
        const pageWord = buf.isWord(text, k, "LIMIT") || buf.isWord(text, k, "OFFSET") || buf.isWord(text, k, "FETCH");
        if (pageWord) paged = true;
        if (tailStart < 0) {
          if (pageWord) {
            tailStart = buf.start[k]!;
          } else if (buf.isWord(text, k, "ORDER")) {
            let j = k + 1;
            while (j < count && !significant(buf, j)) j++;
            if (j < count && buf.isWord(text, j, "BY")) tailStart = buf.start[k]!;
          }
        } else if (lockStart < 0 && buf.isWord(text, k, "FOR")) {
          lockStart = buf.start[k]!; // FOR UPDATE/SHARE stays: it is not part of the pagination
        }
      }
    }
    afterDot = kind === TK_OP && text.charCodeAt(buf.start[k]!) === 46;
  }
  let cut: [number, number] | undefined;
  if (tailStart >= 0) cut = [tailStart, lockStart >= 0 ? lockStart : end];
  return { end, cut, returning, more, paged };
}

/** What a plan keeps to derive its COUNT variant on demand. */
interface CountSource {
  readonly text: string;
  readonly spans: Spans;
  readonly shape: Shape;
}

/** Placeholder offsets, start and end interleaved: compact, because a plan may be kept for a long time. */
type Spans = Int32Array;

class Plan implements StatementPlan {
  private count: Plan | undefined;
  private total: { column: string; plan: Plan | undefined } | undefined;
  constructor(
    readonly target: ParameterStyle,
    readonly dialect: Dialect,
    readonly inputStyle: ParameterStyle | undefined,
    readonly sql: string,
    readonly operationType: OperationType,
    readonly returnsRows: boolean,
    readonly parameterNames: readonly string[] | undefined,
    private readonly schema: InputSchema,
    private readonly sources: ArrayLike<number>,
    private readonly countSource: CountSource | undefined,
    readonly statementCount = 1,
  ) {}

  get placeholderCount(): number {
    return this.sources.length;
  }

  /** Bytes this plan keeps besides its texts (see planBytes). */
  get retainedBytes(): number {
    let bytes = 4 * (this.schema.keys.length + this.sources.length);
    for (const names of [this.schema.names, this.parameterNames]) {
      if (names !== undefined) for (const nm of names) bytes += 24 + nm.length;
    }
    if (this.countSource !== undefined) bytes += 64 + this.countSource.spans.byteLength;
    return bytes;
  }

  bind(params: Params | undefined): unknown[] {
    return bindValues(this.schema, this.sources, params);
  }

  countPlan(): StatementPlan {
    if (this.count === undefined) {
      const src = this.countSource;
      if (src === undefined) {
        throw new SQLSpecError(
          `Cannot count the rows of a ${this.operationType} statement: selectWithTotal needs a SELECT`,
        );
      } else {
        const r = render(src.text, src.spans, this.schema, this.target, src.shape.end, src.shape.cut);
        const sql = `SELECT count(*) AS total FROM (${r.sql.trimEnd()}) AS _sqlspec_count`;
        const { target, dialect, inputStyle, schema } = this;
        this.count = new Plan(target, dialect, inputStyle, sql, "SELECT", true, r.names, schema, r.sources, undefined);
      }
    }
    return this.count;
  }

  totalPlan(column: string): StatementPlan | undefined {
    if (this.total?.column !== column) this.total = { column, plan: this.renderTotal(column) };
    return this.total.plan;
  }

  private renderTotal(column: string): Plan | undefined {
    const src = this.countSource;
    if (src === undefined) this.countPlan(); // raises the "needs a SELECT" error
    const { text, spans, shape } = src as CountSource;
    if (!shape.paged) return undefined;
    // One text holding the count's body, then the page's; its placeholders are the source's, each at its new
    // offset, so a numbered target reuses one slot for a value both parts use and a sequential one binds it twice.
    const countHead = "SELECT *, (SELECT count(*) FROM (";
    const pageHead = `) AS _sqlspec_count) AS ${column} FROM (`;
    const cut = shape.cut as [number, number];
    const countBody = (text.slice(0, cut[0]) + text.slice(cut[1], shape.end)).trimEnd();
    const pageAt = countHead.length + countBody.length + pageHead.length;
    const combined = `${countHead}${countBody}${pageHead}${text.slice(0, shape.end)}) AS _sqlspec_page`;
    const n = spans.length >> 1;
    const offsets: number[] = [];
    const keys: number[] = [];
    for (let k = 0; k < n; k++) {
      const start = spans[2 * k]!;
      const stop = spans[2 * k + 1]!;
      if (!kept(start, stop, shape.end, cut)) continue;
      const shift = start >= cut[1] ? countHead.length - (cut[1] - cut[0]) : countHead.length;
      offsets.push(start + shift, stop + shift);
      keys.push(this.schema.keys[k]!);
    }
    for (let k = 0; k < n; k++) {
      const start = spans[2 * k]!;
      const stop = spans[2 * k + 1]!;
      if (stop > shape.end) continue;
      offsets.push(start + pageAt, stop + pageAt);
      keys.push(this.schema.keys[k]!);
    }
    const schema = { ...this.schema, keys: Int32Array.from(keys) };
    const r = render(combined, Int32Array.from(offsets), schema, this.target, combined.length, undefined);
    const { target, dialect, inputStyle } = this;
    return new Plan(target, dialect, inputStyle, r.sql, "SELECT", true, r.names, this.schema, r.sources, undefined);
  }
}

interface Rendered {
  sql: string;
  sources: number[];
  names: string[] | undefined;
}

function kept(start: number, stop: number, end: number, cut: [number, number] | undefined): boolean {
  return stop <= end && (cut === undefined || stop <= cut[0] || start >= cut[1]);
}

function nameFor(schema: InputSchema, key: number, slot: number): string {
  return schema.kind === "named" || schema.kind === "mixed" ? schema.names![key]! : `p${slot + 1}`;
}

/** Rebuilds `text[0, end)` minus `cut`, replacing each kept placeholder with the target style's. */
function render(
  text: string,
  spans: Spans,
  schema: InputSchema,
  target: ParameterStyle,
  end: number,
  cut: [number, number] | undefined,
): Rendered {
  const sequential = isSequentialStyle(target);
  const wantNames =
    schema.kind === "named" ||
    !(sequential || target === ParameterStyle.NUMERIC || target === ParameterStyle.POSITIONAL_COLON);
  // numbered and named targets: one slot per distinct source, in source order (first appearance for names)
  let slotOf: number[] | undefined;
  const sources: number[] = [];
  const count = spans.length >> 1;
  if (!sequential && count > 0) {
    slotOf = new Array(schema.count).fill(-1);
    for (let k = 0; k < count; k++) if (kept(spans[2 * k]!, spans[2 * k + 1]!, end, cut)) slotOf[schema.keys[k]!] = 0;
    for (let key = 0; key < schema.count; key++) {
      if (slotOf[key] === 0) {
        slotOf[key] = sources.length;
        sources.push(key);
      }
    }
  }
  let sql = "";
  let prev = 0;
  for (let k = 0; k < count; k++) {
    const start = spans[2 * k]!;
    const stop = spans[2 * k + 1]!;
    if (!kept(start, stop, end, cut)) continue;
    if (cut !== undefined && start >= cut[1] && prev < cut[1]) {
      sql += text.slice(prev, cut[0]);
      prev = cut[1];
    }
    const key = schema.keys[k]!;
    let slot: number;
    if (sequential) {
      slot = sources.length;
      sources.push(key);
    } else slot = slotOf![key]!;
    sql += text.slice(prev, start) + placeholderFor(target, slot, wantNames ? nameFor(schema, key, slot) : undefined);
    prev = stop;
  }
  if (cut !== undefined && prev < cut[1]) {
    sql += text.slice(prev, cut[0]);
    prev = cut[1];
  }
  sql += prev === 0 && end === text.length ? text : text.slice(prev, end);
  let names: string[] | undefined;
  if (wantNames) {
    names = [];
    if (sequential) {
      for (const key of sources) {
        const nm = nameFor(schema, key, names.length);
        if (!names.includes(nm)) names.push(nm);
      }
    } else for (let s = 0; s < sources.length; s++) names.push(nameFor(schema, sources[s]!, s));
  }
  return { sql, sources, names };
}

const PG_QMARK_HINT =
  " (On PostgreSQL a ? where a value is expected is a placeholder, and a ? between two operands is the jsonb" +
  " operator; write placeholders as $n to leave no doubt.)";

/** The text around `at`, for messages about SQL text (never about values). */
function near(text: string, at: number): string {
  const from = Math.max(0, at - 20);
  return `${from > 0 ? "…" : ""}${text.slice(from, at + 21).replace(/\s+/g, " ")}${at + 21 < text.length ? "…" : ""}`;
}

/**
 * A rendered statement is built by appending slices, which V8 keeps as a tree of pieces (tens of bytes each) until the
 * string is read; a cached plan keeps it for long, so it is made flat once here (`Number()` flattens its argument).
 */
function flat(s: string): string {
  if (s.length > 256) void Number(s);
  return s;
}

/**
 * What a cached plan keeps alive, in bytes, estimated from its parts: the key text and rendered SQL (one byte a
 * character, as V8 stores ASCII), a few small integers a placeholder, names, and fixed object overhead.
 */
function planBytes(text: string, plan: Plan): number {
  return 200 + text.length + (plan.sql === text ? 0 : plan.sql.length) + plan.retainedBytes;
}

function compile(text: string, target: ParameterStyle, dialect: Dialect, inputStyle: ParameterStyle | undefined): Plan {
  const buf = text.length > 100_000 ? new TokenBuffer() : scratch; // don't keep a huge script's buffer alive
  scan(buf, text, dialect, inputStyle);
  // only placeholders become objects, and only while compiling
  const phs: Token[] = [];
  for (let k = 0; k < buf.count; k++) {
    if (buf.kind[k] !== TK_PLACEHOLDER) continue;
    phs.push({
      kind: TK_PLACEHOLDER,
      start: buf.start[k]!,
      end: buf.end[k]!,
      style: buf.style[k],
      name: buf.name[k],
      num: buf.num[k]!,
    });
  }
  if (buf.ambiguousQmarkAt >= 0) {
    throw new ParameterError(
      `The ? at offset ${buf.ambiguousQmarkAt} ("${near(text, buf.ambiguousQmarkAt)}") is ambiguous: it follows an ` +
        "operand, so it is not where a value goes, and no operand follows it, so it is not the jsonb ? operator." +
        " Write placeholders as $n, or give the operator its right-hand side.",
    );
  }
  if (target === ParameterStyle.QMARK && buf.qmarkOperatorAt >= 0 && phs.length > 0) {
    const at = buf.qmarkOperatorAt;
    const op = operatorAt(buf, text, at);
    const fn = JSONB_QMARK_FUNCTIONS[op];
    throw new ParameterError(
      `Cannot compile to ? placeholders: the statement uses the operator ${op} at offset ${at} ` +
        `("${near(text, at)}"), and a ? placeholder beside it would be read ambiguously. Compile to $n ` +
        `(ParameterStyle.NUMERIC) instead${fn === undefined ? "" : `, or write a ${op} b as ${fn}(a, b)`}.`,
    );
  }
  let schema = resolveInput(phs);
  // a plan may live long: its per-placeholder arrays are packed (4 bytes an entry, no spare capacity)
  schema = { ...schema, keys: Int32Array.from(schema.keys) };
  if (dialect === "postgres" && schema.style === ParameterStyle.QMARK) {
    schema = { ...schema, hint: PG_QMARK_HINT };
  }
  const operationType = operationOf(text, buf);
  const shape = shapeOf(text, buf);
  const returnsRows = operationType === "SELECT" || shape.returning;
  const spans = new Int32Array(phs.length * 2);
  for (let k = 0; k < phs.length; k++) {
    spans[2 * k] = phs[k]!.start;
    spans[2 * k + 1] = phs[k]!.end;
  }
  const r = render(text, spans, schema, target, text.length, undefined);
  // only a SELECT can be counted; keeping nothing for the rest matters for big multi-row INSERT plans
  const countSource: CountSource | undefined = operationType === "SELECT" ? { text, spans, shape } : undefined;
  return new Plan(
    target,
    dialect,
    inputStyle,
    r.sql === text ? text : flat(r.sql),
    operationType,
    returnsRows,
    r.names,
    schema,
    Int32Array.from(r.sources),
    countSource,
    // A `;` inside a routine body (BEGIN ATOMIC … END) is not a statement end: the splitter knows, the scan does not.
    shape.more ? splitScript(text, dialect).length : 1,
  );
}

/** The jsonb key operators and the functions that mean the same (other ?-operators have no such twin here). */
const JSONB_QMARK_FUNCTIONS: Record<string, string | undefined> = {
  "?": "jsonb_exists",
  "?|": "jsonb_exists_any",
  "?&": "jsonb_exists_all",
};

/** The text of the operator token starting at `at`. */
function operatorAt(buf: TokenBuffer, text: string, at: number): string {
  for (let k = 0; k < buf.count; k++) {
    if (buf.start[k] === at) return text.slice(at, buf.end[k]);
  }
  return "?";
}

// ---- cache ---------------------------------------------------------------------------------------------------
// Keyed by text first (one Map lookup on a hit, no key concatenation); each text holds its few (target, dialect,
// inputStyle) variants. Recency is an intrusive doubly linked list: a hit moves the entry to the front with a few
// pointer writes, and eviction pops the tail in O(1). (Evicting through Map iteration degrades badly: V8 leaves
// deleted slots at the front of the table, so every "oldest key" lookup walks over them.)

interface Entry {
  text: string;
  plans: Plan[];
  bytes: number;
  prev: Entry | undefined; // towards the most recent
  next: Entry | undefined; // towards the least recent
}

let capacity = 1000;
let byteBudget = 32 * 1024 * 1024;
let bytes = 0;
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
  while ((size > capacity || bytes > byteBudget) && tail !== undefined) {
    const e = tail;
    unlink(e);
    cache.delete(e.text);
    size -= e.plans.length;
    bytes -= e.bytes;
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
  const planSize = planBytes(text, plan);
  if (planSize > byteBudget / 4) return plan; // one huge statement must not flush everything else
  if (entry !== undefined) {
    entry.plans.push(plan);
    entry.bytes += planSize - text.length; // the key text is counted once per entry
  } else {
    const e: Entry = { text, plans: [plan], bytes: planSize, prev: undefined, next: undefined };
    cache.set(text, e);
    pushFront(e);
  }
  size++;
  bytes += entry !== undefined ? planSize - text.length : planSize;
  if (size > capacity || bytes > byteBudget) evict();
  return plan;
}

/**
 * Sets the LRU bounds: `n` cached plans at most (0 disables caching; default 1000), and optionally `maxBytes`, the
 * estimated memory the cached plans may keep (default 32 MiB). A plan above a quarter of the byte budget is used
 * once and not cached.
 */
export function setStatementCacheSize(n: number, maxBytes?: number): void {
  capacity = Math.max(0, Math.floor(n));
  if (maxBytes !== undefined) byteBudget = Math.max(0, Math.floor(maxBytes));
  evict();
}

/** The statement-plan cache's counters, since start or the last {@link clearStatementCache}. */
export function statementCacheStats(): {
  /** Plans cached now. */
  size: number;
  /** Estimated memory the cached plans keep, in bytes. */
  bytes: number;
  /** The byte budget (see {@link setStatementCacheSize}). */
  maxBytes: number;
  /** Lookups answered from the cache. */
  hits: number;
  /** Lookups that compiled the text. */
  misses: number;
} {
  return { size, bytes, maxBytes: byteBudget, hits, misses };
}

/** Empties the cache and resets the counters (tests and benchmarks). */
export function clearStatementCache(): void {
  cache.clear();
  head = undefined;
  tail = undefined;
  size = 0;
  bytes = 0;
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
