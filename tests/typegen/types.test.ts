import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { checkFixtures, tsconfigOptions } from "../support/type-fixtures.js";

const GOOD = fileURLToPath(new URL("./consumer/good.ts", import.meta.url));
const BAD = fileURLToPath(new URL("./consumer/bad.ts", import.meta.url));

describe("typed use of the generated module (tsc over consumer files)", () => {
  const reports = checkFixtures([GOOD, BAD], tsconfigOptions("tsconfig.json"));

  test("the correct consumer compiles without errors", () => {
    expect(reports.get(GOOD)!.messages).toEqual([]);
  });

  test("a wrong parameter name, a wrong parameter type and nullable misuse are compile errors, each where marked", () => {
    const bad = reports.get(BAD)!;
    expect(Object.keys(bad.expected).length).toBe(9);
    // every marked statement fails with its code, and nothing else fails
    expect(bad.found).toEqual(bad.expected);
  });
});
