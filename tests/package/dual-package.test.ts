import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";

/**
 * The dual-package hazard: an app that loads both the ES and the CommonJS build (or two installed copies) has two
 * sets of classes. Errors, SQL, SQLResult and the template fragments must still match `instanceof` across the copies,
 * with the class hierarchy intact. Two fresh module graphs of the sources stand in for the two builds here;
 * tests/package/consumers.test.ts checks the real builds from the packed tarball.
 */
type Index = typeof import("../../src/index.js");
type Pglite = typeof import("../../src/adapters/pglite/index.js");

let a: Index;
let b: Index;
let bPglite: Pglite;

beforeAll(async () => {
  a = await import("../../src/index.js");
  vi.resetModules();
  b = await import("../../src/index.js");
  bPglite = await import("../../src/adapters/pglite/index.js");
});

function errorClasses(copy: Index): [string, new (message: string) => Error][] {
  return Object.entries(copy as Record<string, unknown>).filter(
    (entry): entry is [string, new (message: string) => Error] =>
      typeof entry[1] === "function" && entry[1].prototype instanceof Error,
  );
}

describe("two copies of sqlspec in one process", () => {
  test("they really are two copies", () => {
    expect(b.SQLSpecError).not.toBe(a.SQLSpecError);
    expect(b.SQL).not.toBe(a.SQL);
    expect(errorClasses(a).length).toBeGreaterThanOrEqual(28);
  });

  test("every error class: instanceof across copies answers exactly as within one copy", () => {
    const classesA = errorClasses(a);
    for (const [name, ClsB] of errorClasses(b)) {
      const fromB = new ClsB("m");
      const fromA = new (a[name as keyof Index] as new (message: string) => Error)("m");
      for (const [other, ClsA] of classesA) {
        expect({ name, other, is: fromB instanceof ClsA }).toEqual({ name, other, is: fromA instanceof ClsA });
      }
      expect(fromB instanceof Error).toBe(true);
    }
  });

  test("the hierarchy holds across copies, siblings stay apart", () => {
    const err = new b.UniqueViolationError("dup", { sqlState: "23505" });
    expect(err).toBeInstanceOf(a.UniqueViolationError);
    expect(err).toBeInstanceOf(a.IntegrityError);
    expect(err).toBeInstanceOf(a.DatabaseError);
    expect(err).toBeInstanceOf(a.SQLSpecError);
    expect(err).not.toBeInstanceOf(a.ForeignKeyViolationError);
    expect(err).not.toBeInstanceOf(a.NotFoundError);
    expect(new b.IntegrityError("x")).not.toBeInstanceOf(a.UniqueViolationError);
    expect(new b.MissingDependencyError("pg", "PgConfig")).toBeInstanceOf(a.ImproperConfigurationError);
  });

  test("a user's subclass of a sqlspec error keeps ordinary instanceof semantics", () => {
    class AppError extends a.SQLSpecError {}
    const mine = new AppError("mine");
    expect(mine).toBeInstanceOf(AppError);
    expect(mine).toBeInstanceOf(a.SQLSpecError);
    expect(mine).toBeInstanceOf(b.SQLSpecError);
    expect(new a.SQLSpecError("plain")).not.toBeInstanceOf(AppError);
    expect(new b.SQLSpecError("plain")).not.toBeInstanceOf(AppError);
    expect(new a.UniqueViolationError("u")).not.toBeInstanceOf(AppError);
  });

  test("non-objects and look-alikes are not instances", () => {
    for (const value of [null, undefined, 0, "SQL", Symbol("x"), {}, { text: "SELECT 1" }, () => 1]) {
      expect(value instanceof a.SQL).toBe(false);
      expect(value instanceof a.SQLSpecError).toBe(false);
      expect(value instanceof a.SQLResult).toBe(false);
    }
  });

  test("SQL, SQLResult and the template fragments match across copies", () => {
    expect(b.sql`SELECT ${1}`).toBeInstanceOf(a.SQL);
    expect(new b.SQL("SELECT 1")).toBeInstanceOf(a.SQL);
    expect(a.isSQL(new b.SQL("SELECT 1"))).toBe(true);
    expect(b.sql.raw("x")).toBeInstanceOf(a.RawFragment);
    expect(b.sql.ref("x")).toBeInstanceOf(a.RefFragment);
    expect(b.sql.value(1)).toBeInstanceOf(a.ValueFragment);
    expect(b.sql.json([1])).toBeInstanceOf(a.JsonValue);
    expect(b.sql.raw("x")).not.toBeInstanceOf(a.RefFragment);
    const result = new b.SQLResult({
      data: [],
      rowsAffected: 0,
      columnNames: [],
      operationType: "SELECT",
      statement: "SELECT 1",
      parameters: [],
      executionTimeMs: 0,
    });
    expect(result).toBeInstanceOf(a.SQLResult);
  });

  test("a template nests the other copy's fragments and statements as its own", () => {
    const inner = b.sql`price < ${10}`;
    const outer = a.sql`SELECT * FROM ${b.sql.ref("products")} WHERE ${inner} AND ${b.sql.raw("true")} AND d = ${b.sql.json([1])}`;
    const { sql, parameters } = outer.compile();
    expect(sql).toBe('SELECT * FROM "products" WHERE price < $1 AND true AND d = $2');
    expect(parameters[0]).toBe(10);
    expect(parameters[1]).toBeInstanceOf(a.JsonValue);
    expect((parameters[1] as InstanceType<Index["JsonValue"]>).value).toEqual([1]);
  });

  describe("one copy's session runs the other copy's statements and raises errors both copies catch", () => {
    let spec: InstanceType<Index["SQLSpec"]>;
    let db: InstanceType<Pglite["PgliteConfig"]>;
    beforeAll(() => {
      spec = new b.SQLSpec();
      db = spec.addConfig(new bPglite.PgliteConfig());
    });
    afterAll(() => spec.closeAllPools());

    test("SQL from copy A executes on copy B's session; copy B's errors are copy A's classes", async () => {
      await db.withSession(async (session) => {
        await session.execute("CREATE TABLE dual_items (id int PRIMARY KEY, doc jsonb)");
        const inserted = await session.execute(a.sql`INSERT INTO dual_items VALUES (${1}, ${a.sql.json([1, 2])})`);
        expect(inserted.rowsAffected).toBe(1);
        expect(inserted).toBeInstanceOf(a.SQLResult);
        expect(await session.selectValue(new a.SQL("SELECT doc FROM dual_items WHERE id = $1", [1]))).toEqual([1, 2]);
        const failure = await session.execute(a.sql`INSERT INTO dual_items VALUES (${1}, NULL)`).catch((e) => e);
        expect(failure).toBeInstanceOf(a.UniqueViolationError);
        expect(failure).toBeInstanceOf(a.IntegrityError);
        expect(failure).toBeInstanceOf(b.UniqueViolationError);
        expect(failure.code).toBe("23505");
      });
    });
  });
});
