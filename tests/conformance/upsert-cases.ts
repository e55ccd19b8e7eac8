/**
 * Upsert input rules every adapter shares (issue 8 §4, §6): a key given twice in one batch and a value no column can
 * hold are typed errors raised before anything is sent, whatever the engine and whatever source the size picks.
 */
import { expect, test } from "vitest";
import {
  CardinalityViolationError,
  InvalidColumnReferenceError,
  ParameterError,
  SQLSpecError,
} from "../../src/index.js";
import type { SuiteContext } from "./suite.js";

export function runUpsertCases(ctx: SuiteContext): void {
  const { T, prefix, profile, withSession } = ctx;
  const count = profile.upsertCount ?? ((inserted: number, updated: number) => inserted + updated);

  test("a key twice in one batch: CardinalityViolationError naming rows and key, nothing written; or last-wins", async () => {
    await withSession(async (s) => {
      await s.execute(`DELETE FROM ${T.products}`);
      const rows = [
        { id: 1, name: "first-secret", stock: 1 },
        { id: 2, name: "other", stock: 2 },
        { id: 1, name: "last", stock: 3 },
      ];
      // Past every engine's one-statement threshold too: the check does not depend on the source.
      const many = [...Array.from({ length: 3000 }, (_, i) => ({ id: i + 10, name: `n${i}`, stock: i })), ...rows];
      for (const [input, first, second] of [
        [rows, 0, 2],
        [many, 3000, 3002],
      ] as const) {
        const err = (await s.upsert(T.products, input, { on: ["id"] }).catch((e) => e)) as SQLSpecError;
        expect(err).toBeInstanceOf(CardinalityViolationError);
        expect(err.message).toContain(`rows ${first} and ${second}`);
        expect(err.message).toContain("(id)");
        expect(err.message).not.toContain("first-secret");
        expect(await s.selectValue(`SELECT count(*) FROM ${T.products}`)).toBe(0);
      }
      const r = await s.upsert(T.products, rows, { on: ["id"], duplicates: "last-wins" });
      expect(r.rowsAffected).toBe(count(2, 0));
      expect(await s.select(`SELECT id, name, stock FROM ${T.products} ORDER BY id`)).toEqual([
        { id: 1, name: "last", stock: 3 },
        { id: 2, name: "other", stock: 2 },
      ]);
      await expect(s.upsert(T.products, rows, { on: ["id"], duplicates: "first" as "error" })).rejects.toBeInstanceOf(
        SQLSpecError,
      );
      await s.execute(`DELETE FROM ${T.products}`);
    });
  });

  test("an `on` that is no unique key: InvalidColumnReferenceError naming the table's unique keys, nothing written", async () => {
    await withSession(async (s) => {
      await s.execute(`DELETE FROM ${T.products}`);
      await s.execute(`INSERT INTO ${T.products} (id, name, stock) VALUES (1, 'a', 1)`);
      for (const n of [1, 3000]) {
        const rows = Array.from({ length: n }, (_, i) => ({ id: i + 2, name: i === 0 ? "a" : `n${i}`, stock: 2 }));
        const err = (await s.upsert(T.products, rows, { on: ["name"] }).catch((e) => e)) as SQLSpecError;
        expect(err).toBeInstanceOf(InvalidColumnReferenceError);
        expect(err.message).toContain("on (name) is not a unique key");
        expect(err.message).toContain("(id)");
      }
      expect(await s.select(`SELECT id, name, stock FROM ${T.products}`)).toEqual([{ id: 1, name: "a", stock: 1 }]);
      await s.execute(`DELETE FROM ${T.products}`);
    });
  });

  test("DDL between upserts through the session is seen: a new column is written, another unique key is checked", async () => {
    const D = `${prefix}_ddl`;
    await withSession(async (s) => {
      await s.execute(`DROP TABLE IF EXISTS ${D}`);
      await s.execute(`CREATE TABLE ${D} (id INTEGER PRIMARY KEY, name VARCHAR(20))`);
      try {
        // Reads (and caches) the table's columns and unique keys.
        await s.upsert(D, [{ id: 1, name: "a" }], { on: ["id"] });
        await s.execute(`ALTER TABLE ${D} ADD COLUMN note VARCHAR(20)`);
        await s.upsert(D, [{ id: 1, name: "b", note: "n" }], { on: ["id"] });
        expect(await s.select(`SELECT id, name, note FROM ${D}`)).toEqual([{ id: 1, name: "b", note: "n" }]);

        await s.execute(`DROP TABLE ${D}`);
        await s.execute(`CREATE TABLE ${D} (id INTEGER NOT NULL, code VARCHAR(20) NOT NULL UNIQUE, name VARCHAR(20))`);
        await s.execute(`INSERT INTO ${D} (id, code, name) VALUES (1, 'x', 'a')`);
        const err = (await s.upsert(D, [{ id: 1, code: "y", name: "b" }], { on: ["id"] }).catch((e) => e)) as Error;
        expect(err).toBeInstanceOf(InvalidColumnReferenceError);
        expect(err.message).toContain("on (id) is not a unique key");
        expect(err.message).toContain("(code)");
        await s.upsert(D, [{ id: 2, code: "x", name: "c" }], { on: ["code"] });
        expect(await s.select(`SELECT id, code, name FROM ${D}`)).toEqual([{ id: 2, code: "x", name: "c" }]);
      } finally {
        await s.execute(`DROP TABLE IF EXISTS ${D}`);
      }
    });
  });

  test("an Invalid Date in an upsert or loadRecords row is ParameterError naming the column, nothing written", async () => {
    await withSession(async (s) => {
      await s.execute(`DELETE FROM ${T.items}`);
      const bad = (n: number) =>
        Array.from({ length: n }, (_, i) => ({
          id: i + 1,
          name: i === n - 1 ? new Date(Number.NaN) : `n${i}`,
          qty: i,
        }));
      for (const n of [2, 3000]) {
        const up = await s.upsert(T.items, bad(n), { on: ["id"] }).catch((e) => e);
        expect(up).toBeInstanceOf(ParameterError);
        expect((up as Error).message).toMatch(/"name"/);
        expect((up as Error).message).toMatch(/Invalid Date/);
        const load = await s.loadRecords(T.items, bad(n)).catch((e) => e);
        expect(load).toBeInstanceOf(ParameterError);
        expect(await s.selectValue(`SELECT count(*) FROM ${T.items}`)).toBe(0);
      }
    });
  });

  test("upsert into a missing table raises what execute on it raises, not 'no unique key'", async () => {
    await withSession(async (s) => {
      const missing = `${prefix}_no_such"x`;
      const quoted = `"${missing.replaceAll('"', '""')}"`;
      const byExecute = await s.execute(`INSERT INTO ${quoted} (id) VALUES (1)`).catch((e) => e);
      expect(byExecute).toBeInstanceOf(SQLSpecError);
      for (const rows of [[{ id: 1 }], Array.from({ length: 3000 }, (_, i) => ({ id: i }))]) {
        const err = await s.upsert(missing, rows, { on: ["id"] }).catch((e) => e);
        expect(err.constructor).toBe(byExecute.constructor);
        expect(err).not.toBeInstanceOf(InvalidColumnReferenceError);
      }
    });
  });
}
