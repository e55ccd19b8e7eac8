/**
 * The oldest-driver tier tests what it claims: each alias holds exactly the lower bound of its peer range, and the
 * adapters' driver imports resolve to the alias in this project.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { OLDEST_DRIVERS } from "./drivers.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

describe("oldest drivers", () => {
  for (const [name, alias] of Object.entries(OLDEST_DRIVERS)) {
    test(`${alias} is ${name} at the lower bound of its peer range`, () => {
      const range = pkg.peerDependencies[name];
      const lower = /^(?:>=|\^)(\S+)/.exec(range ?? "")?.[1];
      expect(lower, `peer range of ${name}: ${range}`).toBeDefined();
      expect(pkg.devDependencies[alias]).toBe(`npm:${name}@${lower}`);
      const installed = JSON.parse(
        readFileSync(new URL(`../../node_modules/${alias}/package.json`, import.meta.url), "utf8"),
      ) as {
        name: string;
        version: string;
      };
      expect(installed).toMatchObject({ name, version: lower });
    });
  }

  test("driver imports resolve to the aliases here", async () => {
    expect(await import("pg")).toBe(await import("pg-oldest" as string));
    expect(await import("postgres")).toBe(await import("postgres-oldest" as string));
    expect(await import("mysql2")).toBe(await import("mysql2-oldest" as string));
    expect(await import("better-sqlite3")).toBe(await import("better-sqlite3-oldest" as string));
  });
});
