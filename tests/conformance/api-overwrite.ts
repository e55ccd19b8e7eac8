/** Conformance: loadRecords({ overwrite: true }) empties the table and loads it in one transaction, on every adapter. */
import { afterAll, beforeAll, expect, test } from "vitest";
import { CheckViolationError, IntegrityError, ParameterError } from "../../src/index.js";
import type { SuiteContext } from "./suite.js";

export function runOverwriteCases(ctx: SuiteContext): void {
  const { prefix, gates, withSession } = ctx;
  const table = `${prefix}_ow`;
  const ids = `SELECT id FROM ${table} ORDER BY id`;
  const old = [
    { id: 1, qty: 1 },
    { id: 2, qty: 2 },
  ];
  const idsOf = (rows: { id: unknown }[]) => rows.map((r) => Number(r.id));
  const reset = async (): Promise<void> => {
    await withSession(async (s) => {
      await s.execute(`DELETE FROM ${table}`);
      await s.loadRecords(table, old);
    });
  };

  beforeAll(async () => {
    await withSession(async (s) => {
      await s.execute(`DROP TABLE IF EXISTS ${table}`);
      await s.execute(`CREATE TABLE ${table} (id INTEGER PRIMARY KEY, qty INTEGER CHECK (qty >= 0))`);
    });
  });
  afterAll(async () => {
    await withSession((s) => s.execute(`DROP TABLE IF EXISTS ${table}`)).catch(() => {});
  });

  test("loadRecords overwrite replaces the table's rows; without it rows are added", async () => {
    await reset();
    await withSession(async (s) => {
      const r = await s.loadRecords(table, [{ id: 10, qty: 0 }], { overwrite: true });
      expect(r.rowsAffected).toBe(1);
      expect(idsOf(await s.select(ids))).toEqual([10]);
      await s.loadRecords(table, [{ id: 11, qty: 0 }], { overwrite: false });
      expect(idsOf(await s.select(ids))).toEqual([10, 11]);
      // no rows at all: the table is emptied
      await s.loadRecords(table, [], { overwrite: true });
      expect(await s.select(ids)).toEqual([]);
      // anything but a boolean is refused before anything runs (a truthy string never empties the table)
      await s.loadRecords(table, [{ id: 12, qty: 0 }]);
      await expect(
        s.loadRecords(table, [{ id: 13, qty: 0 }], { overwrite: "yes" as unknown as boolean }),
      ).rejects.toBeInstanceOf(ParameterError);
      expect(idsOf(await s.select(ids))).toEqual([12]);
    });
  });

  test("loadRecords overwrite: a load that fails after the table was emptied leaves the old rows", async () => {
    await reset();
    await withSession(async (s) => {
      const bad = await s
        .loadRecords(
          table,
          [
            { id: 20, qty: 1 },
            { id: 21, qty: -1 },
          ],
          { overwrite: true },
        )
        .catch((e) => e);
      expect(bad).toBeInstanceOf(gates.sqlState ? CheckViolationError : IntegrityError);
      expect(s.inTransaction).toBe(false);
      expect(idsOf(await s.select(ids))).toEqual([1, 2]);
      // a streamed source that throws half-way: the same
      async function* failing() {
        yield { id: 30, qty: 1 };
        throw new Error("source broke");
      }
      const broke = await s.loadRecords(table, failing(), { overwrite: true }).catch((e) => e);
      expect(broke).toBeInstanceOf(Error);
      expect(idsOf(await s.select(ids))).toEqual([1, 2]);
    });
  });

  test("loadRecords overwrite inside a transaction commits or rolls back with it", async () => {
    await reset();
    await withSession(async (s) => {
      await s.begin();
      await s.loadRecords(table, [{ id: 40, qty: 0 }], { overwrite: true });
      expect(idsOf(await s.select(ids))).toEqual([40]);
      await s.rollback();
      expect(idsOf(await s.select(ids))).toEqual([1, 2]);
      await s.transaction(async (tx) => {
        await tx.loadRecords(table, [{ id: 41, qty: 0 }], { overwrite: true });
      });
      expect(idsOf(await s.select(ids))).toEqual([41]);
    });
  });
}
