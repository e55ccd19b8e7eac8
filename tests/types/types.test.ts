import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { checkFixtures, tsconfigOptions } from "../support/type-fixtures.js";

/**
 * The public types under the strictest options users run (strict, exactOptionalPropertyTypes,
 * noUncheckedIndexedAccess, from tsconfig.json): each fixture here compiles except on the lines it marks, and each
 * marked line fails with the error code its marker names, not some other error. (`npm run typecheck` checks the
 * markers are all used; the packed-package test compiles the same fixtures against the built declarations.)
 */
const dir = import.meta.dirname;
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
  .map((f) => join(dir, f));

describe("type fixtures (tsc over tests/types/*.ts, markers off)", () => {
  const reports = checkFixtures(fixtures, tsconfigOptions("tsconfig.json", { skipLibCheck: false }));

  test.each(fixtures.map((f) => [f.slice(dir.length + 1), f]))(
    "%s: errors exactly where marked, with the marked codes",
    (_, file) => {
      const r = reports.get(file)!;
      expect(Object.keys(r.expected).length).toBeGreaterThan(0);
      expect({ found: r.found, messages: r.messages }).toEqual({ found: r.expected, messages: expect.any(Array) });
    },
  );
});
