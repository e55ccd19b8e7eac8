/**
 * A low-cardinality description of a statement for logs, spans and metrics: its operation (`SELECT`, `INSERT`, …)
 * and the first table it targets. Read with the SQL lexer (never inside strings or comments), once per distinct
 * text: results are cached, and only observability calls this.
 */
import { detectOperationType } from "../core/compiler.js";
import { isTrivia, lex, TK_LPAREN, TK_OP, TK_QIDENT, TK_RPAREN, TK_WORD, type Token } from "../core/lexer.js";
import type { Dialect, OperationType } from "../core/types.js";

export interface QuerySummary {
  /** The statement's verb as written, upper-cased: `SELECT`, `INSERT`, `BEGIN`, `SAVEPOINT`, … */
  readonly operation: string;
  /** The first table the statement reads or writes (as written, quotes removed), when one is named. */
  readonly collection: string | undefined;
  /** `operation collection` (or the operation alone). */
  readonly summary: string;
  readonly operationType: OperationType;
}

const LIMIT = 1000;
const cache = new Map<string, QuerySummary>();

export function summarize(sql: string, dialect: Dialect): QuerySummary {
  let s = cache.get(sql);
  if (s === undefined) {
    try {
      s = compute(sql, dialect);
    } catch {
      // Observability must never fail a statement: text the lexer rejects gets no summary.
      s = { operation: "", collection: undefined, summary: "", operationType: "EXECUTE" };
    }
    // Statements are few in practice; a workload of unique texts (literals inlined) just starts over.
    if (cache.size >= LIMIT) cache.clear();
    cache.set(sql, s);
  }
  return s;
}

const MAIN_VERBS = new Set(["SELECT", "INSERT", "UPDATE", "DELETE", "MERGE"]);
/** Verb → the keyword after which the target table follows (undefined: right after the verb). */
const TARGET_AFTER: Record<string, string | undefined> = {
  SELECT: "FROM",
  INSERT: "INTO",
  MERGE: "INTO",
  DELETE: "FROM",
  UPDATE: undefined,
  COPY: undefined,
  TRUNCATE: undefined,
};
const SKIP_WORDS = new Set(["ONLY", "TABLE", "IF", "NOT", "EXISTS", "IGNORE", "LOW_PRIORITY", "TEMPORARY", "TEMP"]);
const DDL_OBJECTS = new Set(["TABLE", "VIEW", "INDEX", "SEQUENCE", "SCHEMA", "TYPE", "FUNCTION", "EXTENSION"]);

function compute(sql: string, dialect: Dialect): QuerySummary {
  const tokens = lex(sql, dialect).filter((t) => !isTrivia(t));
  const word = (t: Token | undefined): string | undefined =>
    t?.kind === TK_WORD ? sql.slice(t.start, t.end).toUpperCase() : undefined;
  let i = 0;
  let operation = word(tokens[0]) ?? "";
  if (operation === "WITH") {
    // The main statement is the first verb at depth 0 after the CTE list (CTE bodies sit inside parentheses).
    let depth = 0;
    for (i = 1; i < tokens.length; i++) {
      const t = tokens[i] as Token;
      if (t.kind === TK_LPAREN) depth++;
      else if (t.kind === TK_RPAREN) depth--;
      else if (depth === 0 && MAIN_VERBS.has(word(t) ?? "")) break;
    }
    operation = word(tokens[i]) ?? "WITH";
  }
  let collection: string | undefined;
  let opName = operation;
  if (operation in TARGET_AFTER) {
    const after = TARGET_AFTER[operation];
    let k = i + 1;
    if (after !== undefined) {
      let depth = 0;
      for (; k < tokens.length; k++) {
        const t = tokens[k] as Token;
        if (t.kind === TK_LPAREN) depth++;
        else if (t.kind === TK_RPAREN) depth--;
        else if (depth === 0 && word(t) === after) break;
      }
      k++;
    }
    collection = nameAt(sql, tokens, k, word);
  } else if ((operation === "CREATE" || operation === "DROP" || operation === "ALTER") && tokens.length > i + 1) {
    let k = i + 1;
    while (k < tokens.length && !DDL_OBJECTS.has(word(tokens[k]) ?? "") && k < i + 4) k++;
    const object = word(tokens[k]);
    if (object !== undefined && DDL_OBJECTS.has(object)) {
      opName = `${operation} ${object}`;
      collection = nameAt(sql, tokens, k + 1, word);
    }
  }
  const operationType = detectOperationType(sql);
  return {
    operation: opName,
    collection,
    summary: collection === undefined ? opName : `${opName} ${collection}`,
    operationType,
  };
}

/** A (possibly dotted) name starting at token k, after skipping ONLY / IF NOT EXISTS and the like. */
function nameAt(
  sql: string,
  tokens: readonly Token[],
  k: number,
  word: (t: Token | undefined) => string | undefined,
): string | undefined {
  while (k < tokens.length && SKIP_WORDS.has(word(tokens[k]) ?? "")) k++;
  const parts: string[] = [];
  for (; k < tokens.length; k++) {
    const t = tokens[k] as Token;
    if (t.kind === TK_WORD || t.kind === TK_QIDENT) {
      parts.push(unquote(sql.slice(t.start, t.end)));
      const next = tokens[k + 1];
      if (next === undefined || next.kind !== TK_OP || sql.slice(next.start, next.end) !== ".") break;
      k++;
    } else {
      break;
    }
  }
  return parts.length > 0 ? parts.join(".") : undefined;
}

function unquote(s: string): string {
  const q = s[0];
  if ((q === '"' || q === "`" || q === "[") && s.length >= 2) {
    return s.slice(1, -1).replaceAll(q === "[" ? "]]" : q + q, q === "[" ? "]" : q);
  }
  return s;
}
