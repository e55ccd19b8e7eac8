import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseScript, type ScriptStatement } from "../../src/core/splitter.js";
import { comparable, type PsqlStatement, psqlSplit } from "../support/psql-oracle.js";

/**
 * The splitter against psql itself: psql (PostgreSQL 15's client, on this machine and in CI) splits each script and
 * sends each statement to a fake server that records it (tests/support/psql-oracle.ts). Statements, their order and
 * every COPY block's data must agree exactly, modulo what psql drops before a statement (whitespace and leading
 * comments) and the trailing `;` it keeps.
 */
const corpus = join(import.meta.dirname, "corpus");

function ours(script: string): ScriptStatement[] {
  return comparable(parseScript(script, "postgres"));
}

function theirs(seen: PsqlStatement[]): ScriptStatement[] {
  return comparable(seen);
}

describe("splitter agrees with psql", () => {
  for (const file of readdirSync(corpus).filter((f) => f.endsWith(".sql"))) {
    it(`corpus/${file}`, async () => {
      const script = readFileSync(join(corpus, file), "utf8");
      const expected = theirs(await psqlSplit(script));
      expect(expected.length).toBeGreaterThan(2); // psql really ran the file
      expect(ours(script)).toEqual(expected);
    });
  }

  it("on generated scripts", async () => {
    // pieces that are easy to get wrong; joined with separators that psql and we must both honour
    const piece = fc.constantFrom(
      "SELECT 1",
      "SELECT 'a;b'",
      "SELECT 'c''d;'",
      "SELECT E'e\\';f'",
      "SELECT 'g\\'",
      'SELECT "h;i"',
      "SELECT $$j;$$",
      "SELECT $q$k;$$;$q$",
      "SELECT /* l; /* m; */ n; */ 2",
      "SELECT 3 -- o;",
      "SELECT 3 -- p;\r",
      "SELECT doc ? 'k', doc @? '$.a'",
      "SELECT a[:2], @f.f1 FROM t",
      "SELECT 4 `",
      "SET standard_conforming_strings = off",
      "SET standard_conforming_strings = on",
      "COPY t (a) FROM stdin;\n1;x\n'y\n\\.",
      "COPY t (a) FROM stdin;\n\\.",
      "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END",
      "DO $$BEGIN PERFORM 1; END$$",
      "\\restrict abc123\nSELECT 5",
      "SELECT 6 \\unrestrict abc123\n",
    );
    const sep = fc.constantFrom(";\n", "; ", ";", ";\r\n", ";\n-- c;\n", "; /* d; */ ", ";;\n");
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(piece, sep), { minLength: 1, maxLength: 12 }), async (parts) => {
        const script = parts.map(([p, s]) => p + (p.startsWith("COPY") && p.includes("\\.") ? "\n" : s)).join("");
        expect(ours(script)).toEqual(theirs(await psqlSplit(script)));
      }),
      { numRuns: Number(process.env.PSQL_RUNS ?? 25) },
    );
  });
});
