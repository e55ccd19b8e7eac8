import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { entryPoints, exportsDrift } from "../../scripts/exports.mjs";

/** Package metadata and files that need no build; tests/package/consumers.test.ts checks the packed tarball. */

const root = resolve(import.meta.dirname, "../..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as Record<string, unknown> & {
  version: string;
  exports: Record<string, unknown>;
  bin?: Record<string, string> | string;
};

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

describe("package.json", () => {
  test("exports, typesVersions, main/module/types and sideEffects match src/ (fix: npm run exports)", () => {
    expect(exportsDrift()).toEqual([]);
  });

  test("every adapter folder with an index.ts is a subpath, and every subpath has its sources", () => {
    const adapters = readdirSync(join(root, "src/adapters"), { withFileTypes: true })
      .filter((e) => e.isDirectory() && readdirSync(join(root, "src/adapters", e.name)).includes("index.ts"))
      .map((e) => `./adapters/${e.name}`);
    for (const a of adapters) expect(Object.keys(pkg.exports)).toContain(a);
    expect(adapters.length).toBeGreaterThanOrEqual(3);
    const sources = walk(join(root, "src")).map((f) => relative(join(root, "src"), f));
    for (const [, file] of entryPoints()) expect(sources).toContain(`${file}.ts`);
  });

  test("every bin is a built ES module whose source exists", () => {
    const bins = typeof pkg.bin === "string" ? { [String(pkg.name)]: pkg.bin } : (pkg.bin ?? {});
    for (const [name, path] of Object.entries(bins)) {
      const match = /^\.\/dist\/esm\/(.+)\.js$/.exec(path);
      expect({ name, path, built: match !== null }).toEqual({ name, path, built: true });
      expect(readFileSync(join(root, "src", `${match![1]}.ts`), "utf8").startsWith("#!/usr/bin/env node")).toBe(true);
    }
  });

  test("metadata users and registries look for", () => {
    expect(pkg.license).toBe("MIT");
    // only the modules imported for their effect (the renderer registry): bundlers may drop any other unused module
    expect(pkg.sideEffects).toEqual(["./dist/esm/dialects/index.js", "./dist/cjs/dialects/index.js"]);
    expect(pkg.repository).toMatchObject({ type: "git", url: expect.stringMatching(/^git\+https:\/\//) });
    expect((pkg.keywords as string[]).length).toBeGreaterThan(5);
    expect(pkg.engines).toEqual({ node: ">=20" });
    expect(pkg.files).toEqual(["dist", "src", "CHANGELOG.md"]);
    const peers = Object.keys(pkg.peerDependencies as object);
    const optional = Object.keys(pkg.peerDependenciesMeta as object);
    expect(optional.sort()).toEqual(peers.sort());
  });
});

describe("files shipped beside the code", () => {
  test("LICENSE is the MIT license", () => {
    const license = readFileSync(join(root, "LICENSE"), "utf8");
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} /);
    expect(license).toContain('THE SOFTWARE IS PROVIDED "AS IS"');
  });

  test("CHANGELOG has a section for the current version", () => {
    expect(readFileSync(join(root, "CHANGELOG.md"), "utf8")).toContain(`\n## ${pkg.version}`);
  });

  test("shipped sources never cite the internal design document or project issues in JSDoc", () => {
    const jsdocIssue = /\/\*\*(?:(?!\*\/)[\s\S])*\bissue \d/i;
    const cites = walk(join(root, "src"))
      .filter((f) => {
        const text = readFileSync(f, "utf8");
        return text.includes("DESIGN") || jsdocIssue.test(text);
      })
      .map((f) => relative(root, f));
    expect(cites).toEqual([]);
  });

  test("tests/package/readme-tour.ts is the README's tour, verbatim", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const tour = /## A quick tour\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    const file = readFileSync(join(root, "tests/package/readme-tour.ts"), "utf8");
    expect(tour).toBeDefined();
    expect(file.slice(file.indexOf("// ---- README tour ----\n") + 25)).toBe(tour);
  });
});
