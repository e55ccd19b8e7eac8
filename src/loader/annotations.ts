/**
 * Column annotations in aliases, as sqlx writes them: `AS "email!"` (force non-null), `AS "nickname?"` (force
 * nullable), `AS "meta: OrderMeta"` / `AS "meta!: OrderMeta"` (declare the TypeScript type). The annotation is
 * removed from the text that runs, so the returned key is the bare name (`email`).
 */
import { lex, TK_COMMENT, TK_QIDENT, TK_WORD, wordIs } from "../core/lexer.js";
import type { Dialect } from "../core/types.js";

/** One alias annotation (`AS "email!"`, `AS "meta: OrderMeta"`) found in a statement. */
export interface ColumnAnnotation {
  /** The alias as the database returns it (annotation removed). */
  readonly column: string;
  /** `"!"` forces non-null, `"?"` forces nullable. */
  readonly nullability: "!" | "?" | undefined;
  /** A TypeScript type expression declared after `:`. */
  readonly type: string | undefined;
}

const ANNOTATED = /^(.*?)([!?])?(?:\s*:\s*(\S.*?))?\s*$/s;

/** Strips alias annotations from `text`; returns the runnable text and what the annotations said. */
export function stripAnnotations(
  text: string,
  dialect: Dialect = "postgres",
): {
  /** The statement with the annotations removed (what runs). */
  text: string;
  /** The annotations, in text order. */
  annotations: ColumnAnnotation[];
} {
  if (!text.includes("!") && !text.includes("?") && !text.includes(":")) return { text, annotations: [] };
  const tokens = lex(text, dialect);
  const annotations: ColumnAnnotation[] = [];
  let out = "";
  let copied = 0;
  let afterAs = false;
  for (const t of tokens) {
    if (t.kind === TK_COMMENT) continue;
    if (afterAs && t.kind === TK_QIDENT) {
      const quote = text[t.start]!;
      const inner = text
        .slice(t.start + 1, t.end - 1)
        .split(quote + quote)
        .join(quote);
      const m = ANNOTATED.exec(inner);
      if (m && (m[2] !== undefined || m[3] !== undefined) && m[1]!.length > 0) {
        const column = m[1]!;
        annotations.push({ column, nullability: m[2] as "!" | "?" | undefined, type: m[3] });
        out += text.slice(copied, t.start) + quote + column.split(quote).join(quote + quote) + quote;
        copied = t.end;
      }
    }
    afterAs = t.kind === TK_WORD && wordIs(text, t, "AS");
  }
  return annotations.length === 0 ? { text, annotations } : { text: out + text.slice(copied), annotations };
}
