/**
 * Splits a script into statements on top-level `;`, as psql does. Strings, quoted identifiers, comments and
 * dollar-quoted bodies are opaque (the lexer's tokens). Inside CREATE TRIGGER/FUNCTION/PROCEDURE statements,
 * `BEGIN … END` blocks (with nested `CASE … END`, and MySQL's `END IF`/`END LOOP`/`END WHILE`/`END REPEAT` not closing
 * a block) keep their inner `;`, as SQLite triggers, MySQL procedures and PostgreSQL `BEGIN ATOMIC` bodies need.
 *
 * PostgreSQL scripts, as psql reads them:
 * - after `SET standard_conforming_strings = off` (or `false`, `0` …) `'…'` honours backslash escapes until the
 *   setting is on again (`SET … = on`, `RESET standard_conforming_strings`, `RESET ALL`);
 * - `COPY … FROM STDIN;` is followed by data lines up to a line `\.` (or the end of the script): they are the
 *   statement's data, never SQL;
 * - a backslash outside quotes starts a psql meta-command that runs to the end of its line (pg_dump writes
 *   `\restrict …` and `\unrestrict …`): it is a piece of its own, never glued to the SQL around it.
 *
 * The script is scanned statement by statement (the lexer stops after each `;`), so a mode change or a COPY block
 * re-scans nothing.
 */
import { UnsupportedOperationError } from "./errors.js";
import {
  SCAN_BACKSLASH_STRINGS,
  SCAN_PSQL,
  SCAN_STOP_AT_SEMICOLON,
  scan,
  TK_COMMENT,
  TK_LPAREN,
  TK_META,
  TK_RPAREN,
  TK_SEMI,
  TK_WORD,
  TokenBuffer,
} from "./lexer.js";
import type { Dialect } from "./types.js";

/** One statement of a script. */
export interface ScriptStatement {
  /** The statement, trimmed, without its `;`. */
  sql: string;
  /** `COPY … FROM STDIN` only: the inline data lines that followed it, without the `\.` line. */
  copyData?: string;
  /** A psql meta-command line (`\restrict key`, `\connect db`), which is not SQL. */
  metaCommand?: true;
}

const ROUTINE_KINDS = ["TRIGGER", "FUNCTION", "PROCEDURE", "EVENT"];
const BLOCK_END_SUFFIXES = ["IF", "LOOP", "WHILE", "REPEAT"];

/** psql meta-commands that send the statement typed so far (`\g` alone is just a `;`). */
const SENDS = /^\\(g|gx|gset|gdesc|gexec|crosstabview|watch)(\s|$)/;
const PLAIN_SEND = /^\\gx?\s*$/;

const SCS = /^SET\s+(?:SESSION\s+|LOCAL\s+)?standard_conforming_strings\s*(?:=|TO)\s*(?:'([^']*)'|(\w+))/i;
const SCS_RESET = /^RESET\s+(?:standard_conforming_strings|ALL)\b/i;

/** The standard_conforming_strings value a statement sets (true = on), or undefined when it sets none. */
function conformingStringsAfter(statement: string): boolean | undefined {
  const set = SCS.exec(statement);
  if (set) {
    const v = (set[1] ?? set[2] ?? "").toLowerCase();
    if (v === "default") return true;
    return !/^(off?|f(a(l(se?)?)?)?|no?|0)$/.test(v); // PostgreSQL's boolean spellings of false
  }
  return SCS_RESET.test(statement) ? true : undefined;
}

interface Piece extends ScriptStatement {
  /** The statement as written, from its first meaningful token; for COPY it includes the data and `\.` line. */
  raw: string;
}

function splitPieces(script: string, dialect: Dialect): Piece[] {
  const pg = dialect === "postgres";
  const n = script.length;
  const buf = new TokenBuffer();
  const out: Piece[] = [];
  const base = pg ? SCAN_STOP_AT_SEMICOLON | SCAN_PSQL : SCAN_STOP_AT_SEMICOLON;
  let flags = base;
  // psql sets its lexer up line by line, so a SET of standard_conforming_strings counts from the next line on
  let pendingFlags = base;
  let pendingFrom = -1;
  // per statement
  let from = -1; // offset of the statement's first token (a leading comment stays with its statement)
  let first = -1; // offset of the first meaningful token
  let depth = 0; // parentheses
  let block = 0; // BEGIN/CASE … END nesting inside a routine body
  let routine: boolean | undefined; // decided at the first BEGIN/CASE
  let words = 0;
  let create = false;
  let routineHead = false;
  let copy = false; // COPY …
  let fromWord = false; // the previous top-level word was FROM
  let copyStdin = false; // COPY … FROM STDIN
  let skips: number[] | undefined; // [start, end) pairs of meta-commands inside the statement
  const text = (to: number): string => {
    if (skips === undefined) return script.slice(from, to).trim();
    let sql = "";
    let at = from;
    for (let k = 0; k < skips.length; k += 2) {
      sql += script.slice(at, skips[k]);
      at = skips[k + 1]!;
    }
    return (sql + script.slice(at, to)).trim();
  };
  const reset = (): void => {
    skips = undefined;
    from = -1;
    first = -1;
    depth = 0;
    block = 0;
    routine = undefined;
    words = 0;
    create = false;
    routineHead = false;
    copy = false;
    fromWord = false;
    copyStdin = false;
  };

  let pos = 0;
  while (pos < n) {
    if (pendingFrom >= 0 && pos >= pendingFrom) {
      flags = pendingFlags;
      pendingFrom = -1;
    }
    const stop = scan(buf, script, dialect, undefined, pos, flags);
    const count = buf.count;
    let next = stop;
    for (let k = 0; k < count; k++) {
      if (pendingFrom >= 0 && buf.start[k]! >= pendingFrom) {
        next = buf.start[k]!; // rescan the rest with the new setting
        break;
      }
      const kind = buf.kind[k];
      if (kind === TK_META) {
        // psql runs a meta-command where it stands; the statement around it (if any) goes on without it, except
        // that `\g` and its kin send the statement typed so far, like `;`
        const command = script.slice(buf.start[k], buf.end[k]).trimEnd();
        if (first >= 0 && depth <= 0 && block <= 0 && SENDS.test(command)) {
          const sql = text(buf.start[k]!);
          out.push({ sql, raw: sql });
          reset();
        }
        if (!PLAIN_SEND.test(command)) out.push({ sql: command, raw: command, metaCommand: true });
        if (first < 0) {
          from = -1; // comments before it belong to no statement
        } else {
          // at the start of a line, psql also drops the newline that joined that line to the statement
          const start = buf.start[k]!;
          const joined = start - 1 > from && script.charCodeAt(start - 1) === 10;
          skips ??= [];
          skips.push(joined ? start - 1 : start, buf.end[k]!);
        }
        continue;
      }
      if (from < 0) from = buf.start[k]!;
      if (kind === TK_COMMENT) continue;
      if (kind === TK_SEMI) {
        if (depth > 0 || block > 0) continue;
        if (first < 0) {
          reset(); // an empty or comment-only piece
          continue;
        }
        const semi = buf.start[k]!;
        const sql = text(semi);
        if (copyStdin) {
          // the data starts on the line after the `;` and runs to a line `\.` (psql's rule)
          const nl = script.indexOf("\n", semi + 1);
          const dataStart = nl < 0 ? n : nl + 1;
          let at = dataStart;
          let dataEnd = n; // no `\.` line: the data runs to the end of the script
          let rawEnd = n;
          while (at < n) {
            const eol = script.indexOf("\n", at);
            const lineEnd = eol < 0 ? n : eol;
            if (
              script.startsWith("\\.", at) &&
              (lineEnd === at + 2 || (lineEnd === at + 3 && script.charCodeAt(at + 2) === 13))
            ) {
              dataEnd = at;
              rawEnd = at + 2;
              next = lineEnd;
              break;
            }
            at = eol < 0 ? n : eol + 1;
          }
          if (dataEnd === n) next = n;
          out.push({ sql, copyData: script.slice(dataStart, dataEnd), raw: script.slice(from, rawEnd).trimEnd() });
        } else {
          out.push({ sql, raw: sql });
          if (pg) {
            const conforming = conformingStringsAfter(script.slice(first, semi));
            if (conforming !== undefined) {
              pendingFlags = conforming ? base : base | SCAN_BACKSLASH_STRINGS;
              const eol = script.indexOf("\n", semi);
              pendingFrom = eol < 0 ? n : eol + 1;
            }
          }
        }
        reset();
        if (next !== stop) break; // resume after the COPY data
        continue;
      }
      if (first < 0) first = buf.start[k]!;
      if (kind === TK_LPAREN) depth++;
      else if (kind === TK_RPAREN) depth--;
      else if (kind === TK_WORD) {
        if (words < 12) {
          if (words === 0) {
            create = buf.isWord(script, k, "CREATE");
            copy = pg && buf.isWord(script, k, "COPY");
          } else if (create && !routineHead) routineHead = ROUTINE_KINDS.some((kw) => buf.isWord(script, k, kw));
          words++;
        }
        if (copy && depth === 0) {
          // the server reads COPY … FROM STDOUT as FROM STDIN too
          if (fromWord && (buf.isWord(script, k, "STDIN") || buf.isWord(script, k, "STDOUT"))) copyStdin = true;
          fromWord = buf.isWord(script, k, "FROM");
        }
        const isCase = buf.isWord(script, k, "CASE");
        if (buf.isWord(script, k, "BEGIN") || isCase) {
          if (isCase && block === 0) continue; // a plain CASE expression: its END is local
          routine ??= routineHead;
          if (routine) block++;
        } else if (block > 0 && buf.isWord(script, k, "END")) {
          let j = k + 1;
          while (j < count && buf.kind[j] === TK_COMMENT) j++;
          if (j < count && BLOCK_END_SUFFIXES.some((kw) => buf.isWord(script, j, kw))) continue;
          block--;
          if (j < count && buf.isWord(script, j, "CASE")) k = j; // MySQL `END CASE` closes one CASE
        }
      }
    }
    pos = next;
  }
  if (first >= 0) {
    const sql = text(n);
    if (sql.length > 0) out.push({ sql, raw: sql });
  }
  return out;
}

/**
 * The statements of `script`, trimmed, without their `;`; empty and comment-only pieces are dropped. A COPY … FROM
 * STDIN block stays one piece with its data and `\.` line, as written.
 */
export function splitScript(script: string, dialect: Dialect = "postgres"): string[] {
  return splitPieces(script, dialect).map((p) => p.raw);
}

/** The statements of `script`, with the inline data of each `COPY … FROM STDIN` apart from its SQL. */
export function parseScript(script: string, dialect: Dialect = "postgres"): ScriptStatement[] {
  return splitPieces(script, dialect).map((p): ScriptStatement => {
    if (p.copyData !== undefined) return { sql: p.sql, copyData: p.copyData };
    return p.metaCommand ? { sql: p.sql, metaCommand: true } : { sql: p.sql };
  });
}

/**
 * The statements `executeScript` runs one by one. Raises UnsupportedOperationError before anything runs when the
 * script holds a `COPY … FROM STDIN` block with inline data (it needs the session's COPY support, not a query) or a
 * psql meta-command other than pg_dump's `\restrict`/`\unrestrict` (which only restrict psql itself).
 */
export function scriptStatements(script: string, dialect: Dialect): string[] {
  const pieces = splitPieces(script, dialect).filter((p) => !(p.metaCommand && /^\\(un)?restrict\b/.test(p.sql)));
  const meta = pieces.findIndex((p) => p.metaCommand);
  if (meta >= 0) {
    throw new UnsupportedOperationError(
      `executeScript cannot run statement ${meta + 1} of ${pieces.length}, the psql meta-command ` +
        `"${pieces[meta]!.sql.split(/\s/)[0]}": it is a psql command, not SQL. Nothing was run.`,
    );
  }
  const copy = pieces.findIndex((p) => p.copyData !== undefined);
  if (copy >= 0) {
    throw new UnsupportedOperationError(
      `executeScript cannot run statement ${copy + 1} of ${pieces.length}, "${pieces[copy]!.sql}", with the data ` +
        "lines that follow it: COPY … FROM STDIN needs COPY support, not a query. Nothing was run. Load the rows " +
        "with session.loadRecords(), or run the script with psql.",
    );
  }
  return pieces.map((p) => p.sql);
}
