/**
 * Rewrites between statement shapes, on nodes. The one translation of an upsert-shaped MERGE into
 * `INSERT … ON CONFLICT` lives here (`mergeToInsert`): the PostgreSQL renderer uses it for servers before 15, the
 * unified `sql.upsert` builder for SQLite/DuckDB/MySQL. Also the source-column typing rule shared by the renderers
 * and the bulk engine (`directColumns`). Never on the plain build() hot path.
 */
import { SQLBuilderError } from "../errors.js";
import { quoteIdent, quotePath } from "../identifiers.js";
import type { Dialect } from "../types.js";
import {
  type ConflictNode,
  type Expr,
  type InsertNode,
  isIdentChar,
  isIdentStart,
  type MergeNode,
  type MergeSource,
  paramName,
  type SetItem,
  type StatementNode,
  type WhenNode,
} from "./nodes.js";

/** Reads a quoted identifier starting at `i` (`"…"` with `""`, or backticks); returns [name, end] or undefined. */
function readQuoted(text: string, i: number): [string, number] | undefined {
  const q = text[i] as string;
  let out = "";
  let j = i + 1;
  for (;;) {
    const k = text.indexOf(q, j);
    if (k < 0) return undefined;
    out += text.slice(j, k);
    if (text[k + 1] === q) {
      out += q;
      j = k + 2;
      continue;
    }
    return [out, k + 1];
  }
}

/**
 * Rewrites `<alias>.<col>` references in trusted SQL text (outside string literals and other quoted names), e.g.
 * `src.name` → `excluded."name"` when a MERGE-style upsert becomes INSERT … ON CONFLICT. The alias matches bare
 * (case-insensitively) or quoted (exactly); the column may be bare or quoted.
 */
export function rewriteQualifier(sqlText: string, alias: string, to: (col: string) => string): string {
  let out = "";
  const n = sqlText.length;
  const la = alias.toLowerCase();
  let i = 0;
  while (i < n) {
    const c = sqlText.charCodeAt(i);
    const prev = i > 0 ? sqlText.charCodeAt(i - 1) : 32;
    const boundary = !isIdentChar(prev) && prev !== 46 && prev !== 34 && prev !== 96;
    let word: string | undefined;
    let end = i;
    if (c === 39) {
      // string literal: copied as is ('' inside is two literal quotes, so skipping to the next quote is enough)
      const close = sqlText.indexOf("'", i + 1);
      const stop = close < 0 ? n : close + 1;
      out += sqlText.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === 34 || c === 96) {
      const q = readQuoted(sqlText, i);
      if (q === undefined) {
        out += sqlText.slice(i);
        break;
      }
      if (boundary && q[0] === alias) word = q[0];
      end = q[1];
      if (word === undefined) {
        out += sqlText.slice(i, end);
        i = end;
        continue;
      }
    } else if (isIdentStart(c) && boundary) {
      end = i + 1;
      while (end < n && isIdentChar(sqlText.charCodeAt(end))) end++;
      const w = sqlText.slice(i, end);
      if (w.toLowerCase() !== la) {
        out += w;
        i = end;
        continue;
      }
      word = w;
    } else {
      out += sqlText[i];
      i++;
      continue;
    }
    // `word` is the alias, ending at `end`: is it followed by `.col`?
    if (sqlText.charCodeAt(end) === 46) {
      const k = end + 1;
      const d = sqlText.charCodeAt(k);
      let col: [string, number] | undefined;
      if (d === 34 || d === 96) col = readQuoted(sqlText, k);
      else if (isIdentStart(d)) {
        let e = k + 1;
        while (e < n && isIdentChar(sqlText.charCodeAt(e))) e++;
        col = [sqlText.slice(k, e), e];
      }
      if (col !== undefined) {
        out += to(col[0]);
        i = col[1];
        continue;
      }
    }
    out += sqlText.slice(i, end);
    i = end;
  }
  return out;
}

/**
 * Replaces references to `alias.<col>` in an expression: refs structurally, raw and fragment text through
 * rewriteQualifier. `to` returns SQL text.
 */
export function mapQualifier(e: Expr, alias: string, to: (col: string) => string): Expr {
  const text = (s: string) => rewriteQualifier(s, alias, to);
  switch (e.kind) {
    case "raw":
      return { ...e, sql: text(e.sql) };
    case "frag":
      return { ...e, parts: e.parts.map(text), args: e.args.map((a) => mapQualifier(a, alias, to)) };
    case "ref":
      return e.path.length === 2 && sameAlias(e.path[0] as string, alias)
        ? { kind: "raw", sql: to(e.path[1] as string) }
        : e;
    case "cmp":
      return { ...e, left: mapQualifier(e.left, alias, to), right: mapQualifier(e.right, alias, to) };
    case "and":
    case "or":
      return { ...e, items: e.items.map((x) => mapQualifier(x, alias, to)) };
    case "null":
      return { ...e, left: mapQualifier(e.left, alias, to) };
    case "between":
      return {
        ...e,
        left: mapQualifier(e.left, alias, to),
        low: mapQualifier(e.low, alias, to),
        high: mapQualifier(e.high, alias, to),
      };
    case "like":
      return { ...e, left: mapQualifier(e.left, alias, to), right: mapQualifier(e.right, alias, to) };
    default:
      return e;
  }
}

function sameAlias(written: string, alias: string): boolean {
  return written === alias || written.toLowerCase() === alias.toLowerCase();
}

/** `alias.col` as a ref or as text that is exactly such a path → `col`; anything else → undefined. */
export function qualifiedColumn(e: Expr, alias: string): string | undefined {
  const path = e.kind === "ref" ? e.path : e.kind === "raw" ? sqlPath(e.sql.trim()) : undefined;
  return path?.length === 2 && sameAlias(path[0] as string, alias) ? path[1] : undefined;
}

/** SQL text that is exactly an identifier path (`src.col`, `"src"."Col"`) → its parts; anything else → undefined. */
function sqlPath(text: string): string[] | undefined {
  const parts: string[] = [];
  let i = 0;
  const n = text.length;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 34 || c === 96) {
      const q = readQuoted(text, i);
      if (q === undefined) return undefined;
      parts.push(q[0]);
      i = q[1];
    } else if (isIdentStart(c)) {
      let e = i + 1;
      while (e < n && isIdentChar(text.charCodeAt(e))) e++;
      parts.push(text.slice(i, e));
      i = e;
    } else return undefined;
    if (i === n) return parts;
    if (text.charCodeAt(i) !== 46) return undefined;
    i++;
  }
}

/** Splits `a AND b AND c` (nodes or top-level text) into its conjuncts. */
function conjuncts(e: Expr): Expr[] | undefined {
  if (e.kind === "and") return e.items.flatMap((x) => conjuncts(x) ?? [x]);
  if (e.kind === "raw") {
    return e.sql.split(/\s+and\s+/i).map((s): Expr => ({ kind: "raw", sql: s.replace(/^\s*\(\s*|\s*\)\s*$/g, "") }));
  }
  return [e];
}

/**
 * Parses an ON clause `a.x = b.x AND a.z = b.z` (text or nodes) into the key columns, when every conjunct compares
 * the same column of `left` and `right`; undefined if it is anything else.
 */
export function equalityPairs(on: Expr, left: string, right: string): string[] | undefined {
  const parts = conjuncts(on);
  if (!parts) return undefined;
  const cols: string[] = [];
  for (const c of parts) {
    let l: Expr | undefined;
    let r: Expr | undefined;
    if (c.kind === "cmp" && c.op === "=") {
      l = c.left;
      r = c.right;
    } else if (c.kind === "raw") {
      const eq = c.sql.split("=");
      if (eq.length !== 2) return undefined;
      l = { kind: "raw", sql: (eq[0] as string).trim() };
      r = { kind: "raw", sql: (eq[1] as string).trim() };
    } else return undefined;
    const a = qualifiedColumn(l, left) ?? qualifiedColumn(r, left);
    const b = qualifiedColumn(r, right) ?? qualifiedColumn(l, right);
    if (a === undefined || b === undefined || a !== b) return undefined;
    cols.push(a);
  }
  return cols.length > 0 ? cols : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Source column typing

/**
 * Source columns that take the type of the target column of the same name: those the statement copies unchanged
 * into that column (`SET c = src.c`, `INSERT (c) VALUES (src.c)`, `INSERT … SELECT src.c` into `c`), and key
 * columns compared with it in ON (`t.c = src.c`, so a uuid or enum key compares in its own type). A column only used
 * in an expression (`t.price * (1 - src.discount)`) or absent from the target keeps its value-inferred type.
 */
export function directColumns(node: StatementNode): Set<string> {
  const out = new Set<string>();
  if (node.kind === "merge") {
    const s = node.source;
    if (s?.kind !== "rows") return out;
    const tAlias = node.alias ?? node.target?.[node.target.length - 1] ?? "";
    for (const w of node.whens) {
      if (w.match === "NOT MATCHED BY SOURCE") continue;
      for (const item of w.set ?? []) {
        const col = qualifiedColumn(item.value, s.alias);
        if (col !== undefined && col === item.column[item.column.length - 1]) out.add(col);
      }
      w.insertColumns?.forEach((c, i) => {
        if (qualifiedColumn(w.insertValues![i]!, s.alias) === c) out.add(c);
      });
    }
    if (node.on) for (const c of equalityPairs(node.on, tAlias, s.alias) ?? []) out.add(c);
  } else if (node.kind === "insert" && node.from?.source.kind === "rows") {
    const alias = node.from.source.alias;
    node.columns.forEach((c, i) => {
      if (qualifiedColumn(node.from!.values[i]!, alias) === c) out.add(c);
    });
  }
  return out;
}

/** The rows source and target of a statement that reads rows (MERGE or INSERT … SELECT FROM rows). */
export function rowsOf(
  node: StatementNode,
): { source: MergeSource & { kind: "rows" }; target: readonly string[] } | undefined {
  if (node.kind === "merge" && node.source?.kind === "rows" && node.target) {
    return { source: node.source, target: node.target };
  }
  if (node.kind === "insert" && node.from?.source.kind === "rows" && node.table.source.kind === "ref") {
    return { source: node.from.source, target: node.table.source.path };
  }
  return undefined;
}

/** The same statement reading `table` (e.g. a COPY-staged temp table) under the rows source's alias. */
export function withTableSource<N extends StatementNode>(node: N, table: readonly string[]): N {
  const rows = rowsOf(node);
  if (!rows) return node;
  const source: MergeSource = {
    kind: "table",
    table: { source: { kind: "ref", path: table }, alias: rows.source.alias },
  };
  if (node.kind === "merge") return { ...node, source };
  if (node.kind === "insert") return { ...node, from: { ...node.from!, source } };
  return node;
}

// ---------------------------------------------------------------------------------------------------------------
// MERGE → INSERT … ON CONFLICT

export interface MergeToInsertOptions {
  /** `values`: rows become VALUES tuples (SQLite, DuckDB, MySQL); `select`: INSERT … SELECT … FROM source. */
  form: "values" | "select";
  dialect: Dialect;
  /** Whether a missing WHEN NOT MATCHED THEN INSERT means "insert every source column" (else it is refused). */
  defaultInsert: boolean;
  /** Raises the caller's error for a MERGE that has no INSERT … ON CONFLICT equivalent; `why` completes "…when". */
  fail: (why: string) => never;
}

/**
 * An upsert-shaped MERGE (ON = equality on key columns, one unconditional WHEN NOT MATCHED THEN INSERT, at most one
 * WHEN MATCHED THEN UPDATE) as the equivalent `INSERT … ON CONFLICT (keys) DO UPDATE | DO NOTHING`. In the update,
 * `src.col` becomes `excluded.<the column it was inserted into>` and, in the values form, `t.col` becomes
 * `<table>.col` (those dialects have no target alias there).
 */
export function mergeToInsert(n: MergeNode, o: MergeToInsertOptions): InsertNode {
  const { fail } = o;
  if (n.target === undefined) throw new SQLBuilderError("The upsert needs a target table.");
  const src = n.source;
  if (src === undefined) throw new SQLBuilderError("The upsert needs rows: call .using(rows, 'src').");
  const tAlias = n.alias ?? (n.target[n.target.length - 1] as string);
  if (n.on === undefined) {
    throw new SQLBuilderError(`The upsert needs its key: call .on('${tAlias}.id = ${aliasOf(src)}.id').`);
  }
  let ins: WhenNode | undefined;
  let upd: WhenNode | undefined;
  for (const w of n.whens) {
    if (w.action === "INSERT" && w.cond) fail("it has no WHEN NOT MATCHED AND <condition> THEN INSERT");
    if (w.action === "INSERT" && !ins) ins = w;
    else if (w.action === "UPDATE" && w.match === "MATCHED" && !upd) upd = w;
    else fail("it has one unconditional WHEN NOT MATCHED THEN INSERT and at most one WHEN MATCHED THEN UPDATE");
  }
  const sAlias = aliasOf(src);
  const keys = equalityPairs(n.on, tAlias, sAlias);
  if (!keys) fail(`the ON clause is an equality on key columns like ${tAlias}.id = ${sAlias}.id`);
  if (!ins && !o.defaultInsert) fail("it has a WHEN NOT MATCHED THEN INSERT clause");
  if (o.form === "values" && src.kind !== "rows") fail("its source is rows (a table or query source needs MERGE)");

  const srcColumns = src.kind === "rows" ? src.columns : [];
  const columns = ins?.insertColumns ?? srcColumns;
  const values: readonly Expr[] =
    ins?.insertValues ?? srcColumns.map((c): Expr => ({ kind: "ref", path: [sAlias, c] }));
  // Per insert column: the source column it copies unchanged, or undefined for an expression/constant.
  const copied = values.map((e) => qualifiedColumn(e, sAlias));
  const insertedAs = new Map<string, string>();
  copied.forEach((s, i) => {
    if (s !== undefined && !insertedAs.has(s)) insertedAs.set(s, columns[i] as string);
  });
  const q = (part: string) => quoteIdent(part, o.dialect);
  const targetText = quotePath(n.target, o.dialect);
  const toExcluded = (col: string): string => {
    const target = insertedAs.get(col);
    if (target === undefined) {
      return fail(`every ${sAlias}.<column> in the update is inserted unchanged (${sAlias}.${col} is not)`);
    }
    return `excluded.${q(target)}`;
  };
  const rewrite = (e: Expr): Expr => {
    const once = mapQualifier(e, sAlias, toExcluded);
    return o.form === "values" ? mapQualifier(once, tAlias, (col) => `${targetText}.${q(col)}`) : once;
  };
  let conflict: ConflictNode;
  if (upd) {
    const set: SetItem[] = upd.set!.map((s) => ({ column: s.column, value: rewrite(s.value) }));
    conflict = upd.cond
      ? { columns: keys!, action: "update", set, where: rewrite(upd.cond) }
      : { columns: keys!, action: "update", set };
  } else conflict = { columns: keys!, action: "nothing" };

  const base = { kind: "insert" as const, columns, keyed: true, conflict };
  let out: InsertNode;
  if (o.form === "values") {
    const rows = (src as MergeSource & { kind: "rows" }).rows;
    const names = columns.map(paramName);
    out = {
      ...base,
      table: { source: { kind: "ref", path: n.target } },
      rows: rows.map((row) =>
        values.map((e, i): Expr => {
          const s = copied[i];
          return s !== undefined ? { kind: "param", name: names[i] as string, value: row[s] ?? null } : e;
        }),
      ),
    };
  } else {
    out = {
      ...base,
      table: { source: { kind: "ref", path: n.target }, alias: tAlias },
      rows: [],
      from: { source: src, values },
    };
  }
  return n.returning ? { ...out, returning: n.returning } : out;
}

function aliasOf(s: MergeSource): string {
  return s.kind === "rows" ? s.alias : s.table.alias;
}
