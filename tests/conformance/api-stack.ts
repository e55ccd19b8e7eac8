/** Conformance: session.executeStack() — one result per statement, atomic by default, failures name the index. */
import { expect, test } from "vitest";
import {
  ParameterError,
  StackExecutionError,
  sql,
  TransactionError,
  UniqueViolationError,
  UnsupportedOperationError,
} from "../../src/index.js";
import type { SuiteContext } from "./suite.js";

export function runStackCases(ctx: SuiteContext): void {
  const { T, gates, withSession } = ctx;
  const range = `id BETWEEN 700 AND 799`;
  const ids = `SELECT id FROM ${T.items} WHERE ${range} ORDER BY id`;
  const ins = `INSERT INTO ${T.items} (id, name, qty) VALUES (?, ?, ?)`;
  const idList = async (s: { select<R>(q: string): Promise<R[]> }) =>
    (await s.select<{ id: number }>(ids)).map((r) => r.id);

  test("executeStack: one result per statement, in order, with rows, counts and builders", async () => {
    await withSession(async (s) => {
      await s.execute(`DELETE FROM ${T.items} WHERE ${range}`);
      const results = await s.executeStack([
        [ins, [701, "a", 1]],
        [ins, [702, "b", 2]],
        [`UPDATE ${T.items} SET qty = qty + :d WHERE ${range}`, { d: 10 }],
        sql.select("id", "qty").from(T.items).where(range).orderBy("id"),
        `SELECT count(*) AS n FROM ${T.items} WHERE ${range}`,
      ]);
      expect(results).toHaveLength(5);
      expect(results.map((r) => r.rowsAffected).slice(0, 3)).toEqual([1, 1, 2]);
      expect(results.map((r) => r.operationType)).toEqual(["INSERT", "INSERT", "UPDATE", "SELECT", "SELECT"]);
      expect(results[3]?.data).toEqual([
        { id: 701, qty: 11 },
        { id: 702, qty: 12 },
      ]);
      expect(results[3]?.columnNames).toEqual(["id", "qty"]);
      expect(Number(results[4]?.scalar())).toBe(2);
      expect(s.inTransaction).toBe(false);
      expect(await s.executeStack([])).toEqual([]);
      await s.execute(`DELETE FROM ${T.items} WHERE ${range}`);
    });
  });

  test("executeStack: a failure names its index, keeps its typed cause, and leaves nothing of the stack", async () => {
    await withSession(async (s) => {
      await s.execute(`DELETE FROM ${T.items} WHERE ${range}`);
      const err = await s
        .executeStack([
          [ins, [711, "a", 1]],
          [ins, [712, "b", 1]],
          [ins, [711, "dup", 1]],
          [ins, [713, "c", 1]],
        ])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StackExecutionError);
      const e = err as StackExecutionError;
      expect(e.index).toBe(2);
      expect(e.cause).toBeInstanceOf(UniqueViolationError);
      if (gates.sqlState) expect(e.sqlState).toBe("23505");
      expect(e.message).toMatch(/^Statement 2 of the stack \(4 statements\) failed/);
      expect(e.results).toEqual([]);
      expect(await idList(s)).toEqual([]);
      expect(s.inTransaction).toBe(false);
      expect(await s.selectValue("SELECT 1")).toBe(1);
    });
  });

  test("executeStack: bad input anywhere fails before anything is sent", async () => {
    await withSession(async (s) => {
      await s.execute(`DELETE FROM ${T.items} WHERE ${range}`);
      const err = await s
        .executeStack([
          [ins, [721, "a", 1]],
          [ins, [722, "missing a value"]],
        ])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StackExecutionError);
      expect((err as StackExecutionError).index).toBe(1);
      expect((err as StackExecutionError).cause).toBeInstanceOf(ParameterError);
      const copy = await s.executeStack([`COPY ${T.items} FROM STDIN`]).catch((e: unknown) => e);
      expect((copy as StackExecutionError).cause).toBeInstanceOf(UnsupportedOperationError);
      expect(await idList(s)).toEqual([]);
    });
  });

  test("executeStack: transaction control inside an atomic stack is refused before anything is sent", async () => {
    await withSession(async (s) => {
      await s.execute(`DELETE FROM ${T.items} WHERE ${range}`);
      const control = [
        "COMMIT",
        "commit work",
        "/* c */ ROLLBACK",
        "BEGIN",
        "BEGIN TRANSACTION",
        "START TRANSACTION",
        "END",
        "SAVEPOINT x",
        "RELEASE SAVEPOINT x",
        "ROLLBACK TO SAVEPOINT x",
        "PREPARE TRANSACTION 'x'",
        "ABORT",
      ];
      for (const stmt of control) {
        const err = await s.executeStack([[ins, [751, "a", 1]], stmt, [ins, [751, "dup", 1]]]).catch((e: unknown) => e);
        expect(err, stmt).toBeInstanceOf(StackExecutionError);
        expect((err as StackExecutionError).index, stmt).toBe(1);
        expect((err as StackExecutionError).cause, stmt).toBeInstanceOf(UnsupportedOperationError);
        expect((err as Error).message).toMatch(/atomic stack/);
        expect(await idList(s), stmt).toEqual([]);
        expect(s.inTransaction).toBe(false);
      }
      // inside the caller's transaction too; the transaction goes on
      await s.begin();
      await s.execute(ins, [752, "kept", 1]);
      await expect(s.executeStack([[ins, [753, "a", 1]], "COMMIT"])).rejects.toBeInstanceOf(StackExecutionError);
      expect(s.inTransaction).toBe(true);
      await s.rollback();
      expect(await idList(s)).toEqual([]);
      // not transaction control: words that only start like it
      const ok = await s.executeStack([`SELECT 1 AS "commit"`]);
      expect(ok).toHaveLength(1);
    });
  });

  test("executeStack inside a transaction: a failure undoes the stack only; the transaction goes on", async () => {
    await withSession(async (s) => {
      await s.execute(`DELETE FROM ${T.items} WHERE ${range}`);
      const tx = s.transaction(async () => {
        await s.execute(ins, [731, "before", 1]);
        const err = await s
          .executeStack([
            [ins, [732, "a", 1]],
            [ins, [731, "dup", 1]],
          ])
          .catch((e: unknown) => e);
        expect((err as StackExecutionError).index).toBe(1);
        if (gates.savepoints) {
          // the savepoint took the stack back; the transaction is usable
          await s.execute(ins, [733, "after", 1]);
        }
      });
      if (gates.savepoints) await tx;
      // without savepoints the stack is part of the caller's transaction: its failure fails that transaction
      else await expect(tx).rejects.toBeInstanceOf(TransactionError);
      expect(await idList(s)).toEqual(gates.savepoints ? [731, 733] : []);
      await s.execute(`DELETE FROM ${T.items} WHERE ${range}`);
    });
  });

  test("executeStack { transaction: false }: statements before the failure stay, the error lists them", async () => {
    await withSession(async (s) => {
      await s.execute(`DELETE FROM ${T.items} WHERE ${range}`);
      const err = (await s
        .executeStack(
          [
            [ins, [741, "a", 1]],
            [ins, [742, "b", 1]],
            [ins, [741, "dup", 1]],
            [ins, [743, "never", 1]],
          ],
          { transaction: false },
        )
        .catch((e: unknown) => e)) as StackExecutionError;
      expect(err).toBeInstanceOf(StackExecutionError);
      expect(err.index).toBe(2);
      expect(err.results).toHaveLength(2);
      expect(await idList(s)).toEqual([741, 742]);
      expect(s.inTransaction).toBe(false);
      await s.execute(`DELETE FROM ${T.items} WHERE ${range}`);
    });
  });
}
