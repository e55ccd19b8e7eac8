/** Conformance: named savepoints on every adapter that has them; a typed refusal where it has none. */
import { expect, test } from "vitest";
import { ParameterError, TransactionError } from "../../src/index.js";
import type { SuiteContext } from "./suite.js";

type When = (open: boolean, gate: string) => (title: string, fn: () => Promise<void>) => void;

export function runSavepointCases(ctx: SuiteContext, when: When): void {
  const { T, gates, withSession } = ctx;
  const ids = `SELECT id FROM ${T.items} WHERE id BETWEEN 600 AND 699 ORDER BY id`;
  const insert = (id: number) => `INSERT INTO ${T.items} (id, name, qty) VALUES (${id}, 'sp', 0)`;

  when(gates.savepoints, "savepoints")("named savepoints: create, roll back to, roll back again, release", async () => {
    await withSession(async (s) => {
      await s.execute(`DELETE FROM ${T.items} WHERE id BETWEEN 600 AND 699`);
      await s.begin();
      await s.execute(insert(601));
      await s.savepoint("first");
      await s.execute(insert(602));
      await s.savepoint("Second");
      await s.execute(insert(603));
      await s.rollbackToSavepoint("Second");
      expect((await s.select<{ id: number }>(ids)).map((r) => r.id)).toEqual([601, 602]);
      // a savepoint stays after a rollback to it
      await s.execute(insert(604));
      await s.rollbackToSavepoint("Second");
      await s.rollbackToSavepoint("first");
      expect((await s.select<{ id: number }>(ids)).map((r) => r.id)).toEqual([601]);
      await s.execute(insert(605));
      await s.releaseSavepoint("first");
      expect(s.inTransaction).toBe(true);
      await s.commit();
      expect((await s.select<{ id: number }>(ids)).map((r) => r.id)).toEqual([601, 605]);
      await s.execute(`DELETE FROM ${T.items} WHERE id BETWEEN 600 AND 699`);
    });
  });

  when(gates.savepoints, "savepoints")(
    "savepoint names are case-insensitive on every adapter (PostgreSQL too)",
    async () => {
      await withSession(async (s) => {
        await s.execute(`DELETE FROM ${T.items} WHERE id BETWEEN 600 AND 699`);
        await s.begin();
        await s.savepoint("Mixed_A");
        await s.execute(insert(631));
        await s.rollbackToSavepoint("mixed_a");
        expect((await s.select<{ id: number }>(ids)).map((r) => r.id)).toEqual([]);
        await s.execute(insert(632));
        await s.releaseSavepoint("MIXED_A");
        // a savepoint written in raw SQL, unquoted, is reached by the same name in any case
        await s.execute("SAVEPOINT Raw_One");
        await s.execute(insert(633));
        await s.rollbackToSavepoint("RAW_ONE");
        await s.commit();
        expect((await s.select<{ id: number }>(ids)).map((r) => r.id)).toEqual([632]);
        await s.execute(`DELETE FROM ${T.items} WHERE id BETWEEN 600 AND 699`);
      });
    },
  );

  when(gates.savepoints, "savepoints")("a rollback to a savepoint recovers from a failed statement", async () => {
    await withSession(async (s) => {
      await s.transaction(async () => {
        await s.execute(insert(611));
        await s.savepoint("before_dup");
        await expect(s.execute(insert(611))).rejects.toThrow();
        await s.rollbackToSavepoint("before_dup");
        await s.execute(insert(612));
      });
      expect((await s.select<{ id: number }>(ids)).map((r) => r.id)).toEqual([611, 612]);
      await s.execute(`DELETE FROM ${T.items} WHERE id BETWEEN 600 AND 699`);
    });
  });

  test("savepoint names: anything but a plain identifier is a ParameterError before any I/O", async () => {
    await withSession(async (s) => {
      await s.begin();
      await s.execute(insert(621));
      const bad: unknown[] = [
        `x"; DROP TABLE ${T.items}; --`,
        "x`; DROP TABLE t",
        "a b",
        "",
        "1abc",
        "a-b",
        "café",
        "a".repeat(64),
        "sqlspec_sp_1",
        "SQLSPEC_x",
        null,
        42,
      ];
      for (const name of bad) {
        for (const call of [s.savepoint, s.releaseSavepoint, s.rollbackToSavepoint]) {
          const err = await call.call(s, name as string).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(ParameterError);
          // the value is not echoed back
          if (typeof name === "string" && name.length > 3) expect((err as Error).message).not.toContain(name);
        }
      }
      // nothing reached the server: the transaction is intact and not failed
      expect(s.inTransaction).toBe(true);
      expect((await s.select<{ id: number }>(ids)).map((r) => r.id)).toEqual([621]);
      await s.rollback();
      expect(await s.select(ids)).toEqual([]);
    });
  });

  when(gates.savepoints, "savepoints")(
    "savepoints outside a transaction and unknown names are TransactionErrors",
    async () => {
      await withSession(async (s) => {
        await expect(s.savepoint("outside")).rejects.toBeInstanceOf(TransactionError);
        await expect(s.rollbackToSavepoint("outside")).rejects.toBeInstanceOf(TransactionError);
        expect(s.inTransaction).toBe(false);
        await s.begin();
        const err = await s.releaseSavepoint("never_created").catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TransactionError);
        await s.rollback();
        expect(await s.selectValue("SELECT 1")).toBe(1);
      });
    },
  );

  when(!gates.savepoints, "has savepoints")(
    "named savepoints where the adapter has none: TransactionError",
    async () => {
      await withSession(async (s) => {
        await s.begin();
        await expect(s.savepoint("a")).rejects.toBeInstanceOf(TransactionError);
        await s.rollback();
      });
    },
  );
}
