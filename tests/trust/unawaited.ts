/**
 * Statements a transaction() callback issued without awaiting them, on every PostgreSQL adapter. Each one either
 * runs inside that transaction before it commits (transaction() waits for it) or rejects with TransactionError: it
 * never reports success for work the rollback undid, and never runs after the transaction in autocommit.
 * `txid_current()` tells the transaction a statement ran in (outside one, every call gets a new id).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type DatabaseConfig, TransactionError, UniqueViolationError } from "../../src/index.js";
import { failure, type TrustTarget } from "./suite.js";

type AnyConfig = DatabaseConfig<any, any, any>;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function runUnawaitedTrustTests(t: TrustTarget): void {
  const table = `tr_${t.name}_unawaited`;
  let db: AnyConfig;
  const ids = (from: number, to: number): Promise<number[]> =>
    db.withSession(async (s) =>
      (
        await s.select<{ id: number }>(`SELECT id FROM ${table} WHERE id BETWEEN $1 AND $2 ORDER BY id`, [from, to])
      ).map((r) => r.id),
    );

  describe(`trust: ${t.name}: statements a transaction() callback did not await`, () => {
    beforeAll(async () => {
      db = t.make({ maxSize: 2 });
      await db.withSession((s) =>
        s.executeScript(`DROP TABLE IF EXISTS ${table}; CREATE TABLE ${table} (id int PRIMARY KEY, xid bigint);`),
      );
    });
    afterAll(async () => {
      await db.close();
    });

    test("callback throws: the un-awaited INSERT rejects with TransactionError, nothing is written", async () => {
      let insert: Promise<unknown> | undefined;
      const boom = new Error("boom");
      await db.withSession(async (s) => {
        const err = await failure(
          s.transaction(async (tx) => {
            insert = failure(tx.execute(`INSERT INTO ${table} (id) VALUES (1)`));
            throw boom;
          }),
        );
        expect(err).toBe(boom);
        // Rolled back: it must not report success.
        expect(await insert).toBeInstanceOf(TransactionError);
        expect(s.inTransaction).toBe(false);
        expect(await s.selectValue("SELECT 1")).toBe(1);
      });
      expect(await ids(1, 1)).toEqual([]);
    });

    test("callback returns: a statement chained on an un-awaited one runs in the transaction, before its COMMIT", async () => {
      let chained: Promise<unknown> | undefined;
      let settledFirst = false;
      await db.withSession(async (s) => {
        const xid = await s.transaction(async (tx) => {
          const id = await tx.selectValue("SELECT txid_current()");
          chained = tx
            .execute("SELECT pg_sleep(0.05)")
            .then(() => tx.execute(`INSERT INTO ${table} (id, xid) VALUES (2, txid_current())`))
            .then(() => {
              settledFirst = true;
            });
          return id;
        });
        // transaction() resolved only once the chained INSERT had settled.
        expect(settledFirst).toBe(true);
        await chained;
        const row = await s.selectOne<{ xid: unknown }>(`SELECT xid FROM ${table} WHERE id = 2`);
        expect(String(row.xid)).toBe(String(xid));
        expect(s.inTransaction).toBe(false);
      });
    });

    test("callback throws: a statement chained after it is refused with TransactionError, never autocommitted", async () => {
      let chained: Promise<unknown> | undefined;
      let first: Promise<unknown> | undefined;
      await db.withSession(async (s) => {
        const err = await failure(
          s.transaction(async (tx) => {
            const sleep = tx.execute("SELECT pg_sleep(0.05)");
            first = failure(sleep);
            chained = failure(
              sleep.then(
                () => tx.execute(`INSERT INTO ${table} (id) VALUES (3)`),
                () => tx.execute(`INSERT INTO ${table} (id) VALUES (3)`),
              ),
            );
            throw new Error("boom");
          }),
        );
        expect(err.message).toBe("boom");
        expect(await first).toBeInstanceOf(TransactionError);
        expect(await chained).toBeInstanceOf(TransactionError);
        await pause(20);
      });
      expect(await ids(3, 3)).toEqual([]);
    });

    test("a statement issued after transaction() finished (a timer the callback set) is refused, not autocommitted", async () => {
      let late: Promise<any> | undefined;
      await db.withSession(async (s) => {
        await s.transaction(async (tx) => {
          late = failure(pause(30).then(() => tx.execute(`INSERT INTO ${table} (id) VALUES (4)`)));
          await tx.execute(`INSERT INTO ${table} (id) VALUES (5)`);
        });
        const err = await late;
        expect(err).toBeInstanceOf(TransactionError);
        expect(err.message).toMatch(/after/);
        // The session goes on: a statement of its own (not from the ended callback) runs.
        expect(await s.selectValue("SELECT 1")).toBe(1);
      });
      expect(await ids(4, 5)).toEqual([5]);
    });

    test("an un-awaited statement that fails makes transaction() roll back and reject with its error", async () => {
      let dup: Promise<unknown> | undefined;
      await db.withSession(async (s) => {
        await s.execute(`INSERT INTO ${table} (id) VALUES (6)`);
        const err = await failure(
          s.transaction(async (tx) => {
            await tx.execute(`INSERT INTO ${table} (id) VALUES (7)`);
            dup = failure(tx.execute(`INSERT INTO ${table} (id) VALUES (6)`));
          }),
        );
        expect(err).toBeInstanceOf(UniqueViolationError);
        expect(err.sqlState).toBe("23505");
        expect(await dup).toBe(err);
        expect(s.inTransaction).toBe(false);
      });
      expect(await ids(6, 7)).toEqual([6]);
    });

    test("nested: a savepoint callback that throws rolls back its un-awaited INSERT (TransactionError); the outer commits", async () => {
      let inner: Promise<unknown> | undefined;
      await db.withSession(async (s) => {
        await s.transaction(async (tx) => {
          await tx.execute(`INSERT INTO ${table} (id) VALUES (8)`);
          const err = await failure(
            tx.transaction(async (sp) => {
              inner = failure(sp.execute(`INSERT INTO ${table} (id) VALUES (9)`));
              throw new Error("inner");
            }),
          );
          expect(err.message).toBe("inner");
          expect(await inner).toBeInstanceOf(TransactionError);
        });
      });
      expect(await ids(8, 9)).toEqual([8]);
    });
  });
}
