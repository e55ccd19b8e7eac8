import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { getPlan } from "../../src/core/compiler.js";
import { ParameterError } from "../../src/core/errors.js";
import { lex } from "../../src/core/lexer.js";
import { placeholderFor } from "../../src/core/parameters.js";
import { splitScript } from "../../src/core/splitter.js";
import { type Dialect, ParameterStyle } from "../../src/core/types.js";

const S = ParameterStyle;

/** Text that looks like placeholders/terminators but must stay literal inside quotes and comments. */
const noise = fc
  .array(
    fc.constantFrom(":a", "?", "$1", "@b", "%s", "%(c)s", ":1", "::int", ";", "x", " ", "-", "/", "*", "$", "?|"),
    {
      maxLength: 6,
    },
  )
  .map((xs) => xs.join(""));

type Frag = { text: string } | { ph: string };

const literal: fc.Arbitrary<Frag> = fc
  .oneof(
    fc.constantFrom("SELECT", "a", "t.col", "=", ",", "(", ")", "1", "+", "AND", "x::text", "data ?| b", "arr[1:2]"),
    noise.map((s) => `'${s.replaceAll("'", "''")}'`),
    noise.map((s) => `E'\\'${s.replaceAll("'", "\\'")}'`),
    noise.map((s) => `"${s.replaceAll('"', '""')}"`),
    noise.map((s) => `-- ${s.replaceAll("\n", " ")}\n`),
    noise.map((s) => s.replaceAll(/[/*]/g, "")).map((s) => `/* ${s} /* ${s} */ */`),
    noise.map((s) => `$$${s.replaceAll("$", "")}$$`),
    noise.map((s) => `$q$${s}$q$`),
  )
  .map((text) => ({ text }));

const names = fc.constantFrom("a", "b", "id", "x_1");

function gen(ph: fc.Arbitrary<string>): fc.Arbitrary<Frag[]> {
  return fc.array(fc.oneof({ weight: 3, arbitrary: literal }, { weight: 1, arbitrary: ph.map((p) => ({ ph: p })) }), {
    maxLength: 14,
  });
}

const join = (frags: Frag[], render: (ph: string, k: number) => string): string => {
  let k = 0;
  return frags.map((f) => ("text" in f ? f.text : render(f.ph, k++))).join(" ");
};

/** Whether the text holds the jsonb `?|` operator and at least one placeholder (no ? style output then). */
function beside(frags: Frag[]): boolean {
  return frags.some((f) => "ph" in f) && frags.some((f) => "text" in f && f.text === "data ?| b");
}

/** Oracle: named placeholders numbered by first appearance. */
function numberNames(frags: Frag[]): Map<string, number> {
  const order = new Map<string, number>();
  for (const f of frags) if ("ph" in f && !order.has(f.ph)) order.set(f.ph, order.size);
  return order;
}

const namedStyles: [ParameterStyle, (n: string) => string][] = [
  [S.NAMED_COLON, (n) => `:${n}`],
  [S.NAMED_AT, (n) => `@${n}`],
  [S.NAMED_PYFORMAT, (n) => `%(${n})s`],
];

describe("property: conversion changes nothing but placeholders", () => {
  for (const [style, write] of namedStyles) {
    it(`${style} → $n and → ? (exact oracle)`, () => {
      fc.assert(
        fc.property(gen(names), (frags) => {
          const input = join(frags, write);
          const order = numberNames(frags);
          const params = Object.fromEntries([...order.keys()].map((n) => [n, `v_${n}`]));
          const numeric = getPlan(input, S.NUMERIC, "postgres");
          expect(numeric.sql).toBe(join(frags, (n) => `$${order.get(n)! + 1}`));
          expect(numeric.bind(params)).toEqual([...order.keys()].map((n) => `v_${n}`));
          if (beside(frags)) {
            // an operator with ? next to ? placeholders would be ambiguous: refused, never emitted
            expect(() => getPlan(input, S.QMARK, "postgres")).toThrow(ParameterError);
            return;
          }
          const qmark = getPlan(input, S.QMARK, "postgres");
          expect(qmark.sql).toBe(join(frags, () => "?"));
          expect(qmark.bind(params)).toEqual(frags.flatMap((f) => ("ph" in f ? [`v_${f.ph}`] : [])));
        }),
        { numRuns: 300 },
      );
    });
  }

  it("$n (reordered, reused) → ? and → :name", () => {
    fc.assert(
      fc.property(gen(fc.constantFrom("1", "2", "3")), (frags) => {
        const used = new Set(frags.flatMap((f) => ("ph" in f ? [Number(f.ph)] : [])));
        const max = Math.max(0, ...used);
        fc.pre(used.size === max); // gaps are an error case, tested elsewhere
        const input = join(frags, (n) => `$${n}`);
        const params = Array.from({ length: max }, (_, k) => k * 10);
        if (beside(frags)) {
          expect(() => getPlan(input, S.QMARK, "postgres")).toThrow(ParameterError);
          return;
        }
        const q = getPlan(input, S.QMARK, "postgres");
        expect(q.sql).toBe(join(frags, () => "?"));
        expect(q.bind(params)).toEqual(frags.flatMap((f) => ("ph" in f ? [(Number(f.ph) - 1) * 10] : [])));
        expect(getPlan(input, S.NAMED_COLON, "postgres").sql).toBe(join(frags, (n) => `:p${n}`));
      }),
      { numRuns: 300 },
    );
  });

  it("? and %s → $n (sequential numbering)", () => {
    // on PostgreSQL a bare ? is a placeholder where a value goes, so the generated ? follow an operator
    for (const [style, mark, dialect] of [
      [S.QMARK, "= ?", "postgres"],
      [S.POSITIONAL_PYFORMAT, "%s", "postgres"],
    ] as const) {
      fc.assert(
        fc.property(gen(fc.constant(mark)), (frags) => {
          const input = join(frags, () => mark);
          const plan = getPlan(input, S.NUMERIC, dialect as Dialect);
          expect(plan.sql).toBe(join(frags, (_p, k) => mark.replace(/\?|%s/, placeholderFor(S.NUMERIC, k))));
          expect(plan.placeholderCount).toBe(frags.filter((f) => "ph" in f).length);
          void style;
        }),
        { numRuns: 200 },
      );
    }
  });
});

describe("property: numeric ⇄ named round trip is stable", () => {
  it("named → $n → :name → $n gives the same text and values", () => {
    fc.assert(
      fc.property(gen(names), (frags) => {
        const input = join(frags, (n) => `:${n}`);
        const params = Object.fromEntries([...numberNames(frags).keys()].map((n) => [n, n.toUpperCase()]));
        const n1 = getPlan(input, S.NUMERIC, "postgres");
        const values = n1.bind(params);
        const named = getPlan(n1.sql, S.NAMED_COLON, "postgres");
        const n2 = getPlan(named.sql, S.NUMERIC, "postgres");
        expect(n2.sql).toBe(n1.sql);
        expect(getPlan(n2.sql, S.NAMED_COLON, "postgres").sql).toBe(named.sql);
        const namedValues = Object.fromEntries(named.parameterNames!.map((nm, k) => [nm, named.bind(values)[k]]));
        expect(n2.bind(namedValues)).toEqual(values);
      }),
      { numRuns: 300 },
    );
  });
});

function subsequence(piece: string, text: string): boolean {
  let at = 0;
  for (const ch of piece) {
    at = text.indexOf(ch, at);
    if (at < 0) return false;
    at++;
  }
  return true;
}

describe("property: robustness on arbitrary text", () => {
  const sqlish = fc
    .array(
      fc.constantFrom(
        "'",
        '"',
        "`",
        "$",
        "$$",
        "$a$",
        ":",
        "::",
        "?",
        "@",
        "%",
        "(",
        ")",
        ";",
        "--",
        "/*",
        "*/",
        "\n",
        "E",
        "a",
        "1",
        " ",
        "\\",
        "#",
        "[",
      ),
      { maxLength: 40 },
    )
    .map((xs) => xs.join(""));
  const dialects: Dialect[] = ["postgres", "sqlite", "mysql", "duckdb"];

  it("tokens cover the text exactly; compile throws only ParameterError; splitting never throws", () => {
    fc.assert(
      fc.property(sqlish, fc.constantFrom(...dialects), (text, dialect) => {
        const tokens = lex(text, dialect);
        let prev = 0;
        for (const t of tokens) {
          expect(t.start).toBeGreaterThanOrEqual(prev);
          expect(text.slice(prev, t.start).trim()).toBe(""); // gaps are whitespace only
          expect(t.end).toBeGreaterThan(t.start);
          prev = t.end;
        }
        expect(text.slice(prev).trim()).toBe("");
        try {
          const plan = getPlan(text, S.NUMERIC, dialect);
          // only a SELECT has a COUNT variant; anything else is refused with the base class, never run twice
          if (plan.operationType === "SELECT") plan.countPlan();
          else expect(() => plan.countPlan()).toThrow(/selectWithTotal needs a SELECT/);
        } catch (e) {
          expect(e).toBeInstanceOf(ParameterError);
        }
        // pieces come from the text in order (psql meta-commands are cut out of the statement they interrupt)
        for (const piece of splitScript(text, dialect)) expect(subsequence(piece, text), piece).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
