/**
 * Reads PostgreSQL's node-tree text (`nodeToString`, what `debug_print_parse` logs) into plain objects:
 * `{QUERY :commandType 1 :rtable (...) ...}` → `{ type: "QUERY", commandType: "1", rtable: [...] }`.
 * The format is the server's own serialisation of the analysed query; it is stable in shape across 14–18
 * (later versions add fields, which readers simply ignore).
 */

export type PgValue = string | PgNode | PgValue[] | null;
export interface PgNode {
  readonly type: string;
  readonly [field: string]: PgValue;
}

/** Tokens as `pg_strtok` splits them: `(`, `)`, `{`, `}` alone; anything else up to whitespace or one of those. */
function tokenize(text: string): string[] {
  const out: string[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text[i]!;
    if (c === " " || c === "\n" || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    if (c === "(" || c === ")" || c === "{" || c === "}") {
      out.push(c);
      i++;
      continue;
    }
    let j = i;
    let token = "";
    while (j < n) {
      const d = text[j]!;
      if (d === " " || d === "\n" || d === "\t" || d === "\r" || d === "(" || d === ")" || d === "{" || d === "}")
        break;
      if (d === "\\" && j + 1 < n) {
        token += text[j + 1];
        j += 2;
        continue;
      }
      token += d;
      j++;
    }
    out.push(token);
    i = j;
  }
  return out;
}

/** Parses the first node in `text` (a `{QUERY …}` from a "parse tree:" log line). */
export function parseNodeTree(text: string): PgNode {
  const tokens = tokenize(text);
  let k = 0;
  const peek = (): string | undefined => tokens[k];
  const next = (): string => {
    const t = tokens[k++];
    if (t === undefined) throw new Error("unexpected end of node tree");
    return t;
  };
  const value = (): PgValue => {
    const t = next();
    if (t === "{") return node();
    if (t === "(") return list();
    if (t === "<>") return null;
    if (peek() === "[") {
      // a datum: `4 [ 1 0 0 0 ]`; only its length and presence matter here
      while (k < tokens.length && next() !== "]");
    }
    if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) return t.slice(1, -1);
    return t;
  };
  const node = (): PgNode => {
    const out: Record<string, PgValue> = { type: next() };
    for (;;) {
      const t = next();
      if (t === "}") return out as PgNode;
      if (t.startsWith(":")) out[t.slice(1)] = peek() === "}" ? null : value();
    }
  };
  const list = (): PgValue[] => {
    const items: PgValue[] = [];
    while (peek() !== ")") items.push(value());
    next();
    return items;
  };
  while (k < tokens.length && tokens[k] !== "{") k++;
  next();
  return node();
}

export function isNode(v: PgValue | undefined, type?: string): v is PgNode {
  return v !== null && v !== undefined && typeof v === "object" && !Array.isArray(v) && (!type || v.type === type);
}

export function listOf(v: PgValue | undefined): PgValue[] {
  return Array.isArray(v) ? v : [];
}

export function nodesOf(v: PgValue | undefined): PgNode[] {
  return listOf(v).filter((x): x is PgNode => isNode(x));
}

export function int(v: PgValue | undefined): number {
  return typeof v === "string" ? Number.parseInt(v, 10) : Number.NaN;
}
