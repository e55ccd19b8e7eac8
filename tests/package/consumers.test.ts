import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PG_URL } from "../support/servers.js";

/**
 * The package as users get it. `npm pack` (which builds), then fresh consumer projects in a temporary directory
 * outside this repository (so nothing resolves from our node_modules), installed from the tarball plus the registry
 * at the versions pinned in our devDependencies (npm's cache makes reruns quick):
 *
 *   pg/      only `pg` (+ @types/pg, @types/node): the same app compiled as an ES module (node16), as CommonJS
 *            (node16, `require`) and for a bundler (esbuild), each type-checked under strict,
 *            exactOptionalPropertyTypes and noUncheckedIndexedAccess with and without skipLibCheck, each run against
 *            the server; every subpath imported and required (without require(esm), as on Node 20.0); both builds
 *            loaded in one process.
 *   pglite/  only PGlite: the README tour type-checked the same ways and run; every subpath bundled although pg,
 *            pg-copy-streams, postgres, mysql2, better-sqlite3 and @duckdb/node-api are missing.
 *
 * Plus @arethetypeswrong/cli and publint on the tarball. About a minute of CPU, so it runs in `npm run test:package`
 * (which .ci/run runs after the build), not in `npm test`.
 */

const root = resolve(import.meta.dirname, "../..");
const fixtures = join(import.meta.dirname, "consumers");
const require = createRequire(import.meta.url);
const tscBin = require.resolve("typescript/bin/tsc");
const rootPackage = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  version: string;
  exports: Record<string, unknown>;
  devDependencies: Record<string, string>;
};
const dev = rootPackage.devDependencies;
/** PGlite's own declarations use Emscripten's global types without depending on them (see README, Install). */
const EMSCRIPTEN_TYPES = "1.41.6";

const STRICT = {
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  target: "es2022",
  skipLibCheck: false,
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(
      cmd,
      args,
      { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 240_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** Runs a command and fails with its output when it exits non-zero. */
async function ok(cmd: string, args: string[], cwd: string, env?: Record<string, string>): Promise<string> {
  const r = await run(cmd, args, cwd, env);
  if (r.code !== 0) {
    throw new Error(`${[cmd, ...args].join(" ")} (in ${cwd}) exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

/** A devDependency's command-line entry, run with this Node. */
function bin(pkg: string): string {
  const dir = join(root, "node_modules", pkg);
  const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { bin: Record<string, string> };
  return join(dir, Object.values(meta.bin)[0]!);
}

function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** Type-checks a project with skipLibCheck off (emitting) and on; returns nothing, throws tsc's output. */
async function typecheck(dir: string, emit: boolean): Promise<void> {
  await Promise.all([
    ok(process.execPath, [tscBin, "-p", dir, "--skipLibCheck", "false", ...(emit ? [] : ["--noEmit"])], dir),
    ok(process.execPath, [tscBin, "-p", dir, "--skipLibCheck", "true", "--noEmit"], dir),
  ]);
}

const subpaths = Object.keys(rootPackage.exports)
  .filter((k) => k !== "./package.json")
  .map((k) => (k === "." ? "sqlspec" : `sqlspec/${k.slice(2)}`));

const work = mkdtempSync(join(tmpdir(), "sqlspec-consumers-"));
const pgDir = join(work, "pg");
const liteDir = join(work, "pglite");
let tarball = "";

beforeAll(async () => {
  const packed = JSON.parse(
    await ok("npm", ["pack", "--json", "--pack-destination", work], root, { npm_config_loglevel: "error" }),
  ) as { filename: string }[];
  tarball = join(work, packed[0]!.filename);
  const install = ["install", "--no-audit", "--no-fund", "--prefer-offline", "--no-package-lock"];

  writeJson(join(pgDir, "package.json"), {
    name: "consumer-pg",
    private: true,
    type: "module",
    dependencies: {
      sqlspec: `file:${tarball}`,
      pg: dev.pg,
      "@types/pg": dev["@types/pg"],
      "@types/node": dev["@types/node"],
    },
  });
  const esm = { module: "node16", lib: ["es2022"], types: ["node"], outDir: "out", rootDir: "." };
  for (const [flavour, type, options] of [
    ["esm", "module", esm],
    ["cjs", "commonjs", esm],
    ["bundler", "module", { module: "esnext", moduleResolution: "bundler", lib: ["es2022"], types: ["node"] }],
  ] as const) {
    writeJson(join(pgDir, flavour, "package.json"), { type });
    writeJson(join(pgDir, flavour, "tsconfig.json"), {
      compilerOptions: { ...STRICT, ...options, ...(flavour === "bundler" ? { noEmit: true } : {}) },
      files: ["app.ts"],
    });
    copyFileSync(join(fixtures, "app.ts"), join(pgDir, flavour, "app.ts"));
  }
  for (const file of ["subpaths.mjs", "subpaths.cjs", "dual.mjs"])
    copyFileSync(join(fixtures, file), join(pgDir, file));

  writeJson(join(liteDir, "package.json"), {
    name: "consumer-pglite",
    private: true,
    type: "module",
    dependencies: {
      sqlspec: `file:${tarball}`,
      "@electric-sql/pglite": dev["@electric-sql/pglite"],
      "@types/node": dev["@types/node"],
      "@types/emscripten": EMSCRIPTEN_TYPES,
    },
  });
  // No `lib` and no `types`: TypeScript's defaults for the target (PGlite's declarations use the DOM's WebAssembly
  // types) and every installed @types package.
  writeJson(join(liteDir, "tsconfig.json"), {
    compilerOptions: { ...STRICT, module: "node16", outDir: "out", rootDir: "." },
    files: ["readme-tour.ts"],
  });
  copyFileSync(join(import.meta.dirname, "readme-tour.ts"), join(liteDir, "readme-tour.ts"));
  copyFileSync(join(fixtures, "bundle-all.mjs"), join(liteDir, "bundle-all.mjs"));
  writeFileSync(
    join(liteDir, "entry.mjs"),
    [
      ...subpaths.map((s, i) => `import * as m${i} from "${s}";`),
      `import "./bundle-all.mjs";`,
      `console.log(JSON.stringify([${subpaths.map((s, i) => `["${s}", Object.keys(m${i}).length]`).join(", ")}]));`,
    ].join("\n"),
  );

  await Promise.all([ok("npm", install, pgDir), ok("npm", install, liteDir)]);
}, 300_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const PG_ENV = { SQLSPEC_TEST_PG_URL: PG_URL };
const EXPECTED_APP = { inserted: 1, name: "Widget", merged: 1, code: "23505", price: "8.50" };

describe.concurrent("the packed tarball", () => {
  test("@arethetypeswrong/cli: no problem for any entry point under node10, node16 (ES and CommonJS) or bundler", async () => {
    const report = JSON.parse(
      await ok(process.execPath, [bin("@arethetypeswrong/cli"), tarball, "--format", "json"], work),
    ) as {
      analysis: { problems: unknown[]; entrypoints: Record<string, unknown> };
    };
    expect(report.analysis.problems).toEqual([]);
    expect(Object.keys(report.analysis.entrypoints).sort()).toEqual(Object.keys(rootPackage.exports).sort());
  }, 120_000);

  test("publint --strict: all good", async () => {
    const out = await ok(process.execPath, [bin("publint"), "run", tarball, "--strict"], work);
    expect(out).toContain("All good!");
  }, 120_000);

  test("ships both builds, the sources the maps point at, LICENSE and CHANGELOG; every source map resolves", () => {
    const pkgRoot = join(pgDir, "node_modules/sqlspec");
    const files = walk(pkgRoot).map((f) => relative(pkgRoot, f));
    for (const f of ["LICENSE", "README.md", "CHANGELOG.md", "dist/cjs/package.json", "src/index.ts"]) {
      expect(files).toContain(f);
    }
    expect(files.some((f) => f.startsWith("tests/") || f.startsWith("bench/") || f.startsWith("scripts/"))).toBe(false);
    const built = files.filter((f) => f.startsWith("dist/") && (f.endsWith(".js") || f.endsWith(".d.ts")));
    expect(built.filter((f) => !files.includes(`${f}.map`))).toEqual([]);
    const maps = files.filter((f) => f.endsWith(".map"));
    const unresolved = maps.flatMap((m) => {
      const map = JSON.parse(readFileSync(join(pkgRoot, m), "utf8")) as { sources: string[] };
      return map.sources.filter((s) => !files.includes(relative(pkgRoot, join(pkgRoot, dirname(m), s))));
    });
    expect(unresolved).toEqual([]);
  });
});

describe.concurrent("a pg-only app", () => {
  test("ES module (node16): type-checks strictly with and without skipLibCheck, runs a query", async () => {
    const dir = join(pgDir, "esm");
    await typecheck(dir, true);
    const out = await ok(process.execPath, [join(dir, "out/app.js"), "esm"], dir, PG_ENV);
    expect(JSON.parse(out)).toEqual(EXPECTED_APP);
  }, 180_000);

  test("CommonJS (node16, require): type-checks strictly with and without skipLibCheck, runs without require(esm)", async () => {
    const dir = join(pgDir, "cjs");
    await typecheck(dir, true);
    const js = readFileSync(join(dir, "out/app.js"), "utf8");
    expect(js).toContain('require("sqlspec")');
    expect(js).toContain('require("sqlspec/adapters/pg")');
    const out = await ok(
      process.execPath,
      ["--no-experimental-require-module", join(dir, "out/app.js"), "cjs"],
      dir,
      PG_ENV,
    );
    expect(JSON.parse(out)).toEqual(EXPECTED_APP);
  }, 180_000);

  test("bundler: type-checks strictly with and without skipLibCheck; esbuild bundles it without pg-copy-streams; the bundle runs", async () => {
    const dir = join(pgDir, "bundler");
    await typecheck(dir, false);
    const outfile = join(dir, "out/app.mjs");
    const result = await build({
      absWorkingDir: dir,
      entryPoints: [join(dir, "app.ts")],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      outfile,
      // pg is CommonJS: an ES bundle gives it a require, as esbuild's docs show
      banner: { js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);' },
      logLevel: "silent",
    });
    expect(result.errors).toEqual([]);
    const out = await ok(process.execPath, [outfile, "bundler"], dir, PG_ENV);
    expect(JSON.parse(out)).toEqual(EXPECTED_APP);
  }, 180_000);

  test("every subpath imports (ESM) and requires (CommonJS, without require(esm)) with no other driver installed", async () => {
    const imported = JSON.parse(await ok(process.execPath, ["subpaths.mjs"], pgDir)) as [string, number][];
    const required = JSON.parse(
      await ok(process.execPath, ["--no-experimental-require-module", "subpaths.cjs"], pgDir),
    ) as [string, number][];
    expect(imported.map(([name]) => name)).toEqual(subpaths);
    expect(required).toEqual(imported);
    for (const [name, count] of imported) expect({ name, count: count > 0 }).toEqual({ name, count: true });
  }, 120_000);

  test("every bin runs from the installed package", async () => {
    const bins = Object.keys((rootPackage as { bin?: Record<string, string> }).bin ?? {});
    expect(bins).toContain("sqlspec");
    for (const name of bins) {
      const version = await ok(join(pgDir, "node_modules/.bin", name), ["--version"], pgDir);
      expect(version.trim()).toBe(rootPackage.version);
      expect(await ok(join(pgDir, "node_modules/.bin", name), ["--help"], pgDir)).toContain("Usage:");
    }
  }, 120_000);

  test("both builds in one process: instanceof matches across them; each session runs the other's statements", async () => {
    const out = JSON.parse(await ok(process.execPath, ["dual.mjs"], pgDir, PG_ENV)) as Record<string, unknown>;
    const facts = {
      answer: 42,
      doc: { a: 1 },
      resultIsOtherSQLResult: true,
      errorIsOtherDataError: true,
      errorIsOtherSQLSpecError: true,
      errorIsOtherIntegrityError: false,
      code: "22012",
    };
    expect(out).toEqual({
      errorClasses: expect.any(Number),
      pairs: (out.errorClasses as number) ** 2,
      "cjs session": facts,
      "esm session": facts,
    });
    expect(out.errorClasses).toBeGreaterThanOrEqual(28);
  }, 120_000);
});

describe.concurrent("a PGlite-only app", () => {
  test("the README tour type-checks strictly with and without skipLibCheck and runs", async () => {
    await typecheck(liteDir, true);
    const out = await ok(process.execPath, [join(liteDir, "out/readme-tour.js")], liteDir);
    expect(out).toBe(
      "1 MERGE\n23505 products_name_key\n1 2\ntrue true\n2 4,Gizmo,1.00\n5,Doohickey,2.50\n\ntrue uuid\n",
    );
  }, 180_000);

  test("esbuild bundles every subpath without the other drivers; missing drivers are named at run time", async () => {
    const outfile = join(liteDir, "out/bundle.mjs");
    const result = await build({
      absWorkingDir: liteDir,
      entryPoints: [join(liteDir, "entry.mjs")],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      outfile,
      // PGlite loads its WASM and data files next to its own module, so it stays external (as PGlite's docs advise).
      external: ["@electric-sql/pglite"],
      logLevel: "silent",
    });
    expect(result.errors).toEqual([]);
    const [first, second] = (await ok(process.execPath, [outfile], liteDir)).trim().split("\n");
    expect(JSON.parse(first!)).toEqual({
      answer: 42,
      missing: ["pg", "postgres", "mysql2", "better-sqlite3", "@duckdb/node-api"],
    });
    expect((JSON.parse(second!) as [string, number][]).map(([name]) => name)).toEqual(subpaths);
  }, 180_000);
});
