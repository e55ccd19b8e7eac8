/**
 * Splits a script into statements on top-level `;`. Strings, quoted identifiers, comments and dollar-quoted bodies
 * are opaque (the lexer's tokens). Inside CREATE TRIGGER/FUNCTION/PROCEDURE statements, `BEGIN … END` blocks (with
 * nested `CASE … END`, and MySQL's `END IF`/`END LOOP`/`END WHILE`/`END REPEAT` not closing a block) keep their
 * inner `;`, as SQLite triggers, MySQL procedures and PostgreSQL `BEGIN ATOMIC` bodies need.
 */
import { isTrivia, lex, TK_LPAREN, TK_RPAREN, TK_SEMI, TK_WORD, type Token, wordIs } from "./lexer.js";
import type { Dialect } from "./types.js";

const ROUTINE_KINDS = ["TRIGGER", "FUNCTION", "PROCEDURE", "EVENT"];

function isRoutineHead(text: string, tokens: readonly Token[], from: number, to: number): boolean {
  // CREATE [OR REPLACE] [TEMP|TEMPORARY] [DEFINER = x] TRIGGER|FUNCTION|PROCEDURE: look at the first few words
  let words = 0;
  let sawCreate = false;
  for (let k = from; k < to && words < 12; k++) {
    const t = tokens[k]!;
    if (t.kind !== TK_WORD) continue;
    if (words++ === 0) {
      if (!wordIs(text, t, "CREATE")) return false;
      sawCreate = true;
      continue;
    }
    if (sawCreate && ROUTINE_KINDS.some((kw) => wordIs(text, t, kw))) return true;
  }
  return false;
}

/** The statements of `script`, trimmed, without their `;`; empty and comment-only pieces are dropped. */
export function splitScript(script: string, dialect: Dialect = "postgres"): string[] {
  const tokens = lex(script, dialect);
  const out: string[] = [];
  let stmtStart = 0; // token index where the current statement starts
  let depth = 0; // parentheses
  let block = 0; // BEGIN/CASE … END nesting inside a routine body
  let routine: boolean | undefined; // decided on the statement's first meaningful words
  let meaningful = false;
  const flush = (endTok: number): void => {
    if (meaningful) {
      const start = tokens[stmtStart]?.start ?? script.length;
      const end = endTok < tokens.length ? tokens[endTok]!.start : script.length;
      const piece = script.slice(start, end).trim();
      if (piece.length > 0) out.push(piece);
    }
    stmtStart = endTok + 1;
    depth = 0;
    block = 0;
    routine = undefined;
    meaningful = false;
  };
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (isTrivia(t)) continue;
    if (t.kind === TK_SEMI) {
      if (depth <= 0 && block <= 0) flush(k);
      continue;
    }
    meaningful = true;
    if (t.kind === TK_LPAREN) depth++;
    else if (t.kind === TK_RPAREN) depth--;
    else if (t.kind === TK_WORD) {
      if (wordIs(script, t, "BEGIN") || wordIs(script, t, "CASE")) {
        if (wordIs(script, t, "CASE") && block === 0) continue; // a plain CASE expression: its END is local
        routine ??= isRoutineHead(script, tokens, stmtStart, k);
        if (routine) block++;
      } else if (wordIs(script, t, "END") && block > 0) {
        let j = k + 1;
        while (j < tokens.length && isTrivia(tokens[j]!)) j++;
        const nx = tokens[j];
        if (nx !== undefined && ["IF", "LOOP", "WHILE", "REPEAT"].some((kw) => wordIs(script, nx, kw))) continue;
        block--;
        if (nx !== undefined && wordIs(script, nx, "CASE")) k = j; // MySQL `END CASE` closes one CASE
      }
    }
  }
  flush(tokens.length);
  return out;
}
