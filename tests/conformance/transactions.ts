/**
 * Conformance: transaction options that change what a transaction may do, on every adapter.
 */
import { expect, test } from "vitest";
import { TransactionError, UniqueViolationError } from "../../src/index.js";
import type { SuiteContext } from "./suite.js";

export function runTransactionCases(ctx: SuiteContext): void {
  const { T, withSession } = ctx;

  test("a readOnly transaction refuses writes with TransactionError; the next transaction writes again", async () => {
    await withSession(async (s) => {
      const name = (id: number) => s.selectValue(`SELECT name FROM ${T.items} WHERE id = ?`, [id]);
      await s.execute(`DELETE FROM ${T.items} WHERE id BETWEEN ? AND ?`, [400, 409]);
      await s.execute(`INSERT INTO ${T.items} (id, name, qty) VALUES (?, 'kept', 1)`, [400]);
      const err = await s
        .transaction(
          async (tx) => {
            expect(await tx.selectValue(`SELECT count(*) FROM ${T.items} WHERE id = ?`, [400])).toBe(1);
            await tx.execute(`UPDATE ${T.items} SET name = 'changed' WHERE id = ?`, [400]);
          },
          { readOnly: true },
        )
        .catch((e) => e);
      expect(err).toBeInstanceOf(TransactionError);
      expect(s.inTransaction).toBe(false);
      expect(await name(400)).toBe("kept");
      // Read-only ends with its transaction: the same session (and connection) writes afterwards.
      await s.transaction((tx) => tx.execute(`UPDATE ${T.items} SET name = 'written' WHERE id = ?`, [400]));
      await s.execute(`INSERT INTO ${T.items} (id, name, qty) VALUES (?, 'autocommit', 1)`, [401]);
      expect(await name(400)).toBe("written");
      expect(await name(401)).toBe("autocommit");
      // Committed, not thrown: the read-only state ends with it all the same.
      await s.transaction((tx) => tx.selectValue(`SELECT count(*) FROM ${T.items}`), { readOnly: true });
      await s.execute(`DELETE FROM ${T.items} WHERE id = ?`, [401]);
      expect(await s.selectValue(`SELECT count(*) FROM ${T.items} WHERE id BETWEEN ? AND ?`, [400, 409])).toBe(1);
      await s.execute(`DELETE FROM ${T.items} WHERE id BETWEEN ? AND ?`, [400, 409]);
    });
  });

  test("executeMany inside transaction() or after begin() runs in that transaction: kept or undone with it", async () => {
    await withSession(async (s) => {
      const ids = () => s.select(`SELECT id FROM ${T.items} WHERE id BETWEEN ? AND ? ORDER BY id`, [410, 419]);
      const insert = `INSERT INTO ${T.items} (id, name, qty) VALUES (?, ?, 1)`;
      await s.execute(`DELETE FROM ${T.items} WHERE id BETWEEN ? AND ?`, [410, 419]);
      await s.transaction(async (tx) => {
        const r = await tx.executeMany(insert, [
          [410, "a"],
          [411, "b"],
        ]);
        expect(r.rowsAffected).toBe(2);
        expect(tx.inTransaction).toBe(true);
      });
      await s.begin();
      await s.executeMany(insert, [[412, "c"]]);
      expect(s.inTransaction).toBe(true);
      await s.rollback();
      await s.begin();
      await s.executeMany(insert, [[413, "d"]]);
      await s.commit();
      expect(await ids()).toEqual([{ id: 410 }, { id: 411 }, { id: 413 }]);
      await s.execute(`DELETE FROM ${T.items} WHERE id BETWEEN ? AND ?`, [410, 419]);
    });
  });

  test("statements a transaction() callback did not await: waited for before COMMIT, rolled back ones reject, late ones are refused", async () => {
    const caught = (p: Promise<unknown>): Promise<any> =>
      p.then(
        () => undefined,
        (e: unknown) => e,
      );
    const insert = `INSERT INTO ${T.items} (id, name, qty) VALUES (?, 'x', 1)`;
    await withSession(async (s) => {
      const ids = async () =>
        (
          await s.select<{ id: unknown }>(`SELECT id FROM ${T.items} WHERE id BETWEEN ? AND ? ORDER BY id`, [420, 429])
        ).map((r) => Number(r.id));
      await s.execute(`DELETE FROM ${T.items} WHERE id BETWEEN ? AND ?`, [420, 429]);
      // Callback throws: the pending INSERT reports the rollback, not success.
      let pending: Promise<any> | undefined;
      const boom = await caught(
        s.transaction(async (tx) => {
          pending = caught(tx.execute(insert, [420]));
          throw new Error("boom");
        }),
      );
      expect(boom.message).toBe("boom");
      expect(await pending).toBeInstanceOf(TransactionError);
      // Callback returns: a statement chained on a pending one runs before COMMIT.
      let chained = false;
      await s.transaction(async (tx) => {
        void tx.execute(insert, [421]).then(() =>
          tx.execute(insert, [422]).then(() => {
            chained = true;
          }),
        );
      });
      expect(chained).toBe(true);
      // Issued once the transaction has ended (a timer of the callback): refused, never autocommitted.
      let late: Promise<any> | undefined;
      await s.transaction(async (tx) => {
        late = caught(new Promise((r) => setTimeout(r, 20)).then(() => tx.execute(insert, [423])));
      });
      expect(await late).toBeInstanceOf(TransactionError);
      // A pending statement that fails: rolled back, transaction() rejects with its error.
      let dup: Promise<any> | undefined;
      const err = await caught(
        s.transaction(async (tx) => {
          await tx.execute(insert, [424]);
          dup = caught(tx.execute(insert, [421]));
        }),
      );
      expect(err).toBeInstanceOf(UniqueViolationError);
      expect(await dup).toBe(err);
      expect(s.inTransaction).toBe(false);
      expect(await ids()).toEqual([421, 422]);
      await s.execute(`DELETE FROM ${T.items} WHERE id BETWEEN ? AND ?`, [420, 429]);
    });
  });
}
