import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { inspect } from "node:util";
import { build } from "esbuild";
import { afterAll, describe, expect, test } from "vitest";
import * as sqlspec from "../../src/index.js";

type ErrorClass = new (message: string) => Error;

function errorClasses(mod: Record<string, unknown>): [string, ErrorClass][] {
  return Object.entries(mod).filter(
    (entry): entry is [string, ErrorClass] => typeof entry[1] === "function" && entry[1].prototype instanceof Error,
  );
}

function expectNamed(classes: [string, ErrorClass][]): void {
  for (const [exported, Cls] of classes) {
    const err = new Cls("boom");
    expect({ exported, name: err.name }).toEqual({ exported, name: exported });
    expect(String(err)).toBe(`${exported}: ${err.message}`);
    expect(err.stack?.split("\n")[0]).toBe(`${exported}: ${err.message}`);
  }
}

describe("error names", () => {
  test("every exported error class has its own name", () => {
    const classes = errorClasses(sqlspec);
    expect(classes.length).toBeGreaterThanOrEqual(28);
    expectNamed(classes);
  });

  describe("after a minifier renamed the classes", () => {
    const dir = mkdtempSync(join(tmpdir(), "sqlspec-minified-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    test("instances still carry the names users match on", async () => {
      const out = join(dir, "index.mjs");
      await build({
        entryPoints: [join(import.meta.dirname, "../../src/index.ts")],
        bundle: true,
        minify: true,
        format: "esm",
        platform: "node",
        packages: "external",
        outfile: out,
        logLevel: "silent",
      });
      const minified = (await import(pathToFileURL(out).href)) as Record<string, unknown>;
      const classes = errorClasses(minified);
      // the minifier did rename the classes (otherwise this test would prove nothing)
      expect(classes.filter(([exported, Cls]) => Cls.name !== exported).length).toBeGreaterThan(20);
      expectNamed(classes);
      const Unique = minified.UniqueViolationError as typeof sqlspec.UniqueViolationError;
      expect(new Unique("dup", { sqlState: "23505" })).toBeInstanceOf(sqlspec.IntegrityError);
    });
  });

  test("an application's subclass is named after its class unless it names itself", () => {
    class AppError extends sqlspec.DataError {}
    expect(String(new AppError("x"))).toBe("AppError: x");
    expect(new AppError("x")).toBeInstanceOf(sqlspec.DataError);
    class NamedAppError extends sqlspec.DataError {
      override name = "NamedAppError";
    }
    expect(String(new NamedAppError("x"))).toBe("NamedAppError: x");
  });
});

describe("err.code mirrors sqlState (as node-postgres' errors carry it)", () => {
  test("database errors expose the SQLSTATE as code; library errors have none", () => {
    const err = sqlspec.errorFromSqlState("PostgreSQL", "23505", "duplicate key", { constraint: "t_pkey" });
    expect(err).toBeInstanceOf(sqlspec.UniqueViolationError);
    expect(err.code).toBe("23505");
    expect(new sqlspec.DataError("x", { sqlState: "22003" }).code).toBe("22003");
    expect(new sqlspec.NotFoundError("none").code).toBeUndefined();
  });

  test("code is not an own field: logged errors do not repeat the SQLSTATE", () => {
    const err = new sqlspec.DataError("x", { sqlState: "22003" });
    expect(Object.keys(err)).toEqual(["sqlState"]);
    expect(inspect(err).match(/22003/g)).toHaveLength(1);
  });
});
