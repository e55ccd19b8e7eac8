#!/usr/bin/env node
/**
 * Builds the two formats the package ships:
 *
 *   dist/esm/  tsc output (ES modules, .d.ts, source maps into ../../src, which is shipped)
 *   dist/cjs/  the same modules converted file by file to CommonJS by esbuild, with a {"type":"commonjs"}
 *              package.json so the copied .d.ts files are read as CommonJS declarations
 *
 * The CommonJS files are converted from tsc's output, not from the TypeScript sources, so both formats share one
 * compiler's semantics (class fields, `declare`, enums). Only modules reachable from the package's "exports" are
 * converted (the `sqlspec` bin and the code only it loads stay ES modules, free to use top-level await and
 * `import.meta`); a reachable module using `import.meta` fails the build, since CommonJS has none. Dynamic
 * `import()` of optional drivers stays a real `import()` (Node 20.0 cannot `require` an ES module such as PGlite); a
 * check below fails the build if a CommonJS file `require`s anything but a relative path or a Node builtin.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const esmDir = join(root, "dist/esm");
const cjsDir = join(root, "dist/cjs");

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

rmSync(join(root, "dist"), { recursive: true, force: true });

const tsc = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
  cwd: root,
  stdio: "inherit",
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const esmFiles = walk(esmDir);

// Optional peers whose types the public declarations name (apache-arrow: selectToArrow/loadArrow). A consumer that
// does not install one must still type-check without skipLibCheck: the import is marked so that, when the package is
// missing, its types are `any` instead of error TS2307; when it is installed they are its own.
const OPTIONAL_TYPE_PEERS = ["apache-arrow"];
for (const file of esmFiles.filter((f) => f.endsWith(".d.ts"))) {
  const text = readFileSync(file, "utf8");
  let changed = text;
  for (const peer of OPTIONAL_TYPE_PEERS) {
    changed = changed.replace(
      new RegExp(`^(import type [^\\n]* from "${peer}";)$`, "gm"),
      "// @ts-ignore -- optional peer dependency\n$1",
    );
  }
  if (changed !== text) writeFileSync(file, changed);
}

const esbuild = await import("esbuild");

// The modules the public entry points load, statically or through relative import().
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const entries = Object.values(pkg.exports)
  .filter((target) => typeof target === "object")
  .map((target) => join(root, target.import.default));
const graph = await esbuild.build({
  absWorkingDir: root,
  entryPoints: entries,
  outdir: join(root, "dist/.graph"),
  bundle: true,
  write: false,
  metafile: true,
  format: "esm",
  platform: "node",
  packages: "external",
  logLevel: "error",
});
const reachable = Object.keys(graph.metafile.inputs)
  .map((p) => join(root, p))
  .filter((p) => p.startsWith(esmDir) && p.endsWith(".js"));

await esbuild.build({
  absWorkingDir: root,
  entryPoints: reachable,
  outbase: esmDir,
  outdir: cjsDir,
  format: "cjs",
  platform: "node",
  target: "node20",
  bundle: false,
  // esbuild follows each input's sourceMappingURL, so the CommonJS maps point at src/*.ts too.
  sourcemap: "linked",
  sourcesContent: false, // src/ ships with the package
  logLevel: "warning",
  logOverride: { "empty-import-meta": "error" },
});
for (const file of esmFiles) {
  if (file.endsWith(".d.ts") || file.endsWith(".d.ts.map")) {
    const target = join(cjsDir, relative(esmDir, file));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file, target);
  }
}
writeFileSync(join(cjsDir, "package.json"), `${JSON.stringify({ type: "commonjs" }, null, 2)}\n`);

// CommonJS output must never require() a package: drivers are ES modules on some versions and Node < 20.19 cannot
// require(esm). They are reached only through import().
const builtins = new Set(builtinModules);
const bad = [];
for (const file of walk(cjsDir).filter((f) => f.endsWith(".js"))) {
  for (const [, spec] of readFileSync(file, "utf8").matchAll(/\brequire\("([^"]+)"\)/g)) {
    if (!spec.startsWith(".") && !spec.startsWith("node:") && !builtins.has(spec)) bad.push(`${file}: ${spec}`);
  }
}
if (bad.length > 0) {
  console.error(`CommonJS build requires packages (use a dynamic import()):\n  ${bad.join("\n  ")}`);
  process.exit(1);
}
