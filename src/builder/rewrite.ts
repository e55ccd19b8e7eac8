/**
 * Rewrites of trusted SQL text for the statements that translate one shape into another (a MERGE-shaped upsert into
 * INSERT … ON CONFLICT, ON CONFLICT into ON DUPLICATE KEY UPDATE). Never on the plain build() hot path.
 */
import { type Expr, isIdentChar, isIdentStart, parsePath } from "./nodes.js";

/**
 * Rewrites `<alias>.<col>` references in trusted SQL text (outside quotes), e.g. `src.name` → `excluded.name` when
 * a MERGE-style upsert becomes INSERT … ON CONFLICT. Not on the hot path: only upsert translations use it.
 */
export function rewriteQualifier(sqlText: string, alias: string, to: (col: string) => string): string {
  let out = "";
  const n = sqlText.length;
  const la = alias.toLowerCase();
  let i = 0;
  while (i < n) {
    const c = sqlText.charCodeAt(i);
    if (c === 39 || c === 34 || c === 96) {
      const end = sqlText.indexOf(sqlText[i]!, i + 1);
      const stop = end < 0 ? n : end + 1;
      out += sqlText.slice(i, stop);
      i = stop;
      continue;
    }
    if (isIdentStart(c) && (i === 0 || (!isIdentChar(sqlText.charCodeAt(i - 1)) && sqlText.charCodeAt(i - 1) !== 46))) {
      let j = i + 1;
      while (j < n && isIdentChar(sqlText.charCodeAt(j))) j++;
      const word = sqlText.slice(i, j);
      if (word.toLowerCase() === la && sqlText.charCodeAt(j) === 46) {
        let k = j + 1;
        let col: string;
        if (sqlText.charCodeAt(k) === 34 || sqlText.charCodeAt(k) === 96) {
          const end = sqlText.indexOf(sqlText[k]!, k + 1);
          col = sqlText.slice(k + 1, end);
          k = end + 1;
        } else {
          while (k < n && isIdentChar(sqlText.charCodeAt(k))) k++;
          col = sqlText.slice(j + 1, k);
        }
        out += to(col);
        i = k;
        continue;
      }
      out += word;
      i = j;
      continue;
    }
    out += sqlText[i];
    i++;
  }
  return out;
}

/** Maps every raw text in an expression through `fn` (used with rewriteQualifier). */
export function mapRaw(e: Expr, fn: (sql: string) => string): Expr {
  switch (e.kind) {
    case "raw":
      return { ...e, sql: fn(e.sql) };
    case "frag":
      return { ...e, parts: e.parts.map(fn) };
    case "ref": {
      const text = e.path.join(".");
      const out = fn(text);
      return out === text ? e : { kind: "raw", sql: out };
    }
    case "cmp":
      return { ...e, left: mapRaw(e.left, fn), right: mapRaw(e.right, fn) };
    case "and":
    case "or":
      return { ...e, items: e.items.map((x) => mapRaw(x, fn)) };
    case "null":
      return { ...e, left: mapRaw(e.left, fn) };
    default:
      return e;
  }
}

/** Parses `a.x = b.y AND a.z = b.w` into [aCol, bCol] pairs keyed by alias; undefined if it is anything else. */
export function equalityPairs(on: Expr, left: string, right: string): string[] | undefined {
  const text = on.kind === "raw" ? on.sql : undefined;
  if (text === undefined) return undefined;
  const cols: string[] = [];
  for (const conj of text.split(/\s+and\s+/i)) {
    const eq = conj.replace(/^\s*\(\s*|\s*\)\s*$/g, "").split("=");
    if (eq.length !== 2) return undefined;
    const a = parsePath(eq[0]!.trim());
    const b = parsePath(eq[1]!.trim());
    if (!a || !b || a.length !== 2 || b.length !== 2) return undefined;
    const [l, r] = a[0]!.toLowerCase() === left.toLowerCase() ? [a, b] : [b, a];
    if (l[0]!.toLowerCase() !== left.toLowerCase() || r[0]!.toLowerCase() !== right.toLowerCase()) return undefined;
    if (l[1] !== r[1]) return undefined;
    cols.push(l[1]!);
  }
  return cols;
}
