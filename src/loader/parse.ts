/**
 * The `.sql` file format: blocks that start with `-- name: <name>`, an optional `-- dialect: <d>` on the next line,
 * and a body that runs to the next `-- name:` line. Pure text in, statements out; no I/O.
 */
import { SQLFileParseError } from "../core/errors.js";
import { type Dialect, normalizeDialect } from "../core/types.js";

/** One named statement as written in a file (before namespaces are applied). */
export interface ParsedStatement {
  /** Normalised: hyphens become underscores; any `!`/`*`/`<!`/`$`/`^`/`#` suffix is left out (see `suffix`). */
  readonly name: string;
  /** The operation suffix written after the name (aiosql style), if any. */
  readonly suffix: string | undefined;
  /** The `-- dialect:` line right after the name line, normalised; undefined when absent. */
  readonly dialect: Dialect | undefined;
  /** The body with leading comments dropped, trailing whitespace and one trailing `;` removed. */
  readonly text: string;
  /** 1-based line of the `-- name:` line. */
  readonly line: number;
  /** 1-based line where `text` starts. */
  readonly bodyLine: number;
}

const NAME_LINE = /^\s*--\s*name\s*:(.*)$/i;
const NAME_TOKEN = /^([\w-]+?)([^\w\s-]*)$/;
const DIALECT_LINE = /^\s*--\s*dialect\s*:\s*(\S*)\s*$/i;

/** Parses one file's content. `file` only labels errors. Raises SQLFileParseError naming the file and line. */
export function parseSqlText(content: string, file: string): ParsedStatement[] {
  const lines = content.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  const blocks: { name: string; suffix: string | undefined; line: number; start: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = NAME_LINE.exec(lines[i]!);
    if (!m) continue;
    const raw = m[1]!.trim();
    const token = NAME_TOKEN.exec(raw);
    if (!token) {
      throw new SQLFileParseError(
        `${file}:${i + 1}: invalid query name "${raw}" (use letters, digits, "_" and "-", e.g. "-- name: get_user_by_id")`,
      );
    }
    blocks.push({ name: token[1]!.replace(/-/g, "_"), suffix: token[2] || undefined, line: i + 1, start: i });
  }
  if (blocks.length === 0) {
    throw new SQLFileParseError(`${file}: no named SQL statement (a block starts with a "-- name: <name>" line)`);
  }
  const firstCode = firstCodeLine(lines, 0, blocks[0]!.start);
  if (firstCode >= 0) {
    throw new SQLFileParseError(
      `${file}:${firstCode + 1}: SQL before the first "-- name:" line (every statement needs a name)`,
    );
  }
  const out: ParsedStatement[] = [];
  const seen = new Map<string, number>();
  for (let b = 0; b < blocks.length; b++) {
    const block = blocks[b]!;
    const end = b + 1 < blocks.length ? blocks[b + 1]!.start : lines.length;
    const previous = seen.get(block.name);
    if (previous !== undefined) {
      throw new SQLFileParseError(
        `${file}: duplicate query name "${block.name}" at lines ${previous} and ${block.line}`,
      );
    }
    seen.set(block.name, block.line);
    let i = block.start + 1;
    let dialect: Dialect | undefined;
    const d = i < end ? DIALECT_LINE.exec(lines[i]!) : null;
    if (d) {
      try {
        dialect = normalizeDialect(d[1]!);
      } catch (err) {
        throw new SQLFileParseError(`${file}:${i + 1}: ${(err as Error).message}`, { cause: err });
      }
      i++;
    }
    const bodyStart = skipLeadingComments(lines, i, end);
    const text = trimBody(lines.slice(bodyStart, end).join("\n"));
    if (text.length === 0) {
      throw new SQLFileParseError(`${file}:${block.line}: query "${block.name}" has no SQL`);
    }
    out.push({ name: block.name, suffix: block.suffix, dialect, text, line: block.line, bodyLine: bodyStart + 1 });
  }
  return out;
}

/** First line in [from, to) that is not blank and not a `--` comment, or -1. */
function firstCodeLine(lines: readonly string[], from: number, to: number): number {
  for (let i = skipLeadingComments(lines, from, to); i < to; i++) if (lines[i]!.trim() !== "") return i;
  return -1;
}

/** Skips blank lines, `--` comment lines and leading `/* … *\/` blocks. */
function skipLeadingComments(lines: readonly string[], from: number, to: number): number {
  let i = from;
  while (i < to) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("--")) {
      i++;
      continue;
    }
    if (line.startsWith("/*")) {
      let j = i;
      let rest = line.slice(2);
      while (!rest.includes("*/") && j + 1 < to) rest = lines[++j]!;
      const close = rest.indexOf("*/");
      if (close < 0 || rest.slice(close + 2).trim() !== "") return i; // code follows the comment on that line
      i = j + 1;
      continue;
    }
    break;
  }
  return i;
}

function trimBody(body: string): string {
  let text = body.trimEnd();
  if (text.endsWith(";")) text = text.slice(0, -1).trimEnd();
  return text;
}
