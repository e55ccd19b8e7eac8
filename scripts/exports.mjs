#!/usr/bin/env node
/**
 * The package's subpath exports, derived from the source tree so they cannot drift from it:
 *
 *   "."                     src/index.ts
 *   "./adapters/<name>"     every src/adapters/<name>/index.ts (shared code without an index.ts stays private)
 *   "./extensions/<name>"   every src/extensions/<name>/index.ts
 *   "./loader"              src/loader/index.ts
 *
 * A new public folder is one line in PUBLIC below; a new adapter or extension needs none. Each entry resolves to
 * the ES build for `import` and the CommonJS build for `require`, each with its own declarations. `typesVersions`
 * repeats the subpaths for TypeScript's legacy `moduleResolution: "node"` (node10), which ignores "exports".
 * `sideEffects` lists the modules that src/ imports only for their effect (`import "./dialects/index.js"`, which
 * registers the renderers), in both builds, so bundlers tree-shake everything else without dropping those.
 *
 *   node scripts/exports.mjs           prints the exports map
 *   node scripts/exports.mjs --check   exits 1 when package.json differs (tests/package/exports.test.ts runs this)
 *   node scripts/exports.mjs --write   rewrites package.json's "sideEffects", "exports", "typesVersions", "main",
 *                                      "module" and "types"
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Public folders under src/ (a trailing `/*` means every subfolder with an index.ts). */
export const PUBLIC = ["adapters/*", "extensions/*", "loader"];

/** Entry points as [subpath, path under src/ without ".ts"], "." first, the rest sorted. */
export function entryPoints(srcDir = join(root, "src")) {
  const found = [];
  for (const pattern of PUBLIC) {
    if (pattern.endsWith("/*")) {
      const parent = pattern.slice(0, -2);
      const dir = join(srcDir, parent);
      if (!existsSync(dir)) continue;
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory() && existsSync(join(dir, e.name, "index.ts"))) found.push(`${parent}/${e.name}`);
      }
    } else if (existsSync(join(srcDir, pattern, "index.ts"))) {
      found.push(pattern);
    }
  }
  found.sort();
  return [[".", "index"], ...found.map((p) => [`./${p}`, `${p}/index`])];
}

function target(format, file) {
  return { types: `./dist/${format}/${file}.d.ts`, default: `./dist/${format}/${file}.js` };
}

/** The exports map for the current source tree. */
export function expectedExports(srcDir) {
  const exports = {};
  for (const [subpath, file] of entryPoints(srcDir)) {
    exports[subpath] = { import: target("esm", file), require: target("cjs", file) };
  }
  exports["./package.json"] = "./package.json";
  return exports;
}

/** Subpath declarations for TypeScript's node10 resolution, which ignores "exports". */
export function expectedTypesVersions(srcDir) {
  const paths = {};
  for (const [subpath, file] of entryPoints(srcDir)) {
    if (subpath !== ".") paths[subpath.slice(2)] = [`./dist/cjs/${file}.d.ts`];
  }
  return { "*": paths };
}

/** The top-level fields for tools that ignore "exports" (node10 resolution, older bundlers). */
export const LEGACY_FIELDS = {
  main: "./dist/cjs/index.js",
  module: "./dist/esm/index.js",
  types: "./dist/cjs/index.d.ts",
};

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** Built files of every module that some source imports for its side effect only (a bare `import "./x.js"`). */
export function expectedSideEffects(srcDir = join(root, "src")) {
  const modules = new Set();
  for (const file of walk(srcDir).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))) {
    for (const [, spec] of readFileSync(file, "utf8").matchAll(/^import\s+"(\.{1,2}\/[^"]+)\.js";/gm)) {
      modules.add(
        relative(srcDir, join(dirname(file), spec))
          .split("\\")
          .join("/"),
      );
    }
  }
  return [...modules].sort().flatMap((m) => [`./dist/esm/${m}.js`, `./dist/cjs/${m}.js`]);
}

/** Every field this script derives, in package.json order. */
export function derivedFields(srcDir) {
  return {
    sideEffects: expectedSideEffects(srcDir),
    ...LEGACY_FIELDS,
    exports: expectedExports(srcDir),
    typesVersions: expectedTypesVersions(srcDir),
  };
}

function readPackage() {
  return JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
}

/** Differences between package.json and the derived fields, as readable lines (empty when in sync). */
export function exportsDrift(pkg = readPackage()) {
  const problems = [];
  const want = expectedExports();
  if (JSON.stringify(pkg.sideEffects) !== JSON.stringify(expectedSideEffects())) {
    problems.push(`"sideEffects" should list ${JSON.stringify(expectedSideEffects())}`);
  }
  if (JSON.stringify(pkg.typesVersions) !== JSON.stringify(expectedTypesVersions())) {
    problems.push(`"typesVersions" differs from the source tree`);
  }
  if (JSON.stringify(pkg.exports) !== JSON.stringify(want)) {
    const have = Object.keys(pkg.exports ?? {});
    const missing = Object.keys(want).filter((k) => !have.includes(k));
    const extra = have.filter((k) => !(k in want));
    problems.push(
      `"exports" differs from the source tree (missing: ${missing.join(", ") || "none"}; ` +
        `extra: ${extra.join(", ") || "none"}; or an entry's shape changed)`,
    );
  }
  for (const [key, value] of Object.entries(LEGACY_FIELDS)) {
    if (pkg[key] !== value) problems.push(`"${key}" should be ${JSON.stringify(value)}`);
  }
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mode = process.argv[2];
  if (mode === "--write") {
    const text = readFileSync(join(root, "package.json"), "utf8");
    const pkg = JSON.parse(text);
    // Rebuild the object so the rewritten fields keep their usual place in package.json.
    const derived = derivedFields();
    const out = {};
    for (const [key, value] of Object.entries(pkg)) {
      if (key === "sideEffects") out.sideEffects = derived.sideEffects;
      if (key in derived) continue;
      out[key] = value;
      if (key === "engines") {
        const { sideEffects: _placed, ...rest } = derived;
        Object.assign(out, "sideEffects" in out ? rest : derived);
      }
    }
    if (!("exports" in out)) Object.assign(out, derived);
    writeFileSync(join(root, "package.json"), `${JSON.stringify(out, null, 2)}\n`);
    console.log(`package.json: ${entryPoints().length} entry points`);
  } else if (mode === "--check") {
    const problems = exportsDrift();
    if (problems.length > 0) {
      console.error(`package.json is out of date: run \`npm run exports\`\n  ${problems.join("\n  ")}`);
      process.exit(1);
    }
  } else {
    console.log(JSON.stringify(expectedExports(), null, 2));
  }
}
