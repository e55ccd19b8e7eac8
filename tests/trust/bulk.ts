/**
 * Bulk calls (executeMany, upsert, loadRecords) against cancellation, transactions and the event loop, on every
 * PostgreSQL adapter (pg, postgres.js, PGlite). Tables are prefixed per adapter (`tb_<name>_…`) because the server
 * adapters share one database.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  CheckViolationError,
  OperationCancelledError,
  TransactionError,
  UnsupportedOperationError,
} from "../../src/index.js";
import type { TrustTarget } from "./suite.js";

type AnyConfig = ReturnType<TrustTarget["make"]>;

/** The error a promise rejects with, or undefined when it resolves. */
const failure = (p: Promise<unknown>): Promise<any> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function runBulkTrustTests(t: TrustTarget): void {
  const p = `tb_${t.name}`;
  const opened: AnyConfig[] = [];
  const config = (o?: Parameters<TrustTarget["make"]>[0]): AnyConfig => {
    const c = t.make(o);
    opened.push(c);
    return c;
  };
  let db: AnyConfig;

  describe(`bulk trust: ${t.name}`, () => {
    beforeAll(async () => {
      db = config({ maxSize: 4 });
      await db.withSession((s) =>
        s.executeScript(`
          DROP TABLE IF EXISTS ${p}_a, ${p}_c;
          CREATE TABLE ${p}_a (id int PRIMARY KEY, v text);
          CREATE TABLE ${p}_c (id int PRIMARY KEY, n int CHECK (n >= 0));
        `),
      );
    });
    afterAll(async () => {
      await Promise.all(opened.map((c) => c.close().catch(() => {})));
    });
    test("upsert/loadRecords from another task while transaction() runs → TransactionError, nothing joins it", async () => {
      await db.withSession(async (s) => {
        await s.execute(`DELETE FROM ${p}_c`);
        const a = failure(
          s.transaction(async () => {
            await sleep(200);
            throw new Error("A fails");
          }),
        );
        await sleep(20);
        const rows = [{ id: 1, n: 1 }];
        for (const [what, run] of [
          ["upsert", () => s.upsert(`${p}_c`, rows, { on: ["id"] })],
          ["upsert copy", () => s.upsert(`${p}_c`, rows, { on: ["id"], copyThreshold: 0 })],
          ["loadRecords", () => s.loadRecords(`${p}_c`, rows)],
          ["executeMany", () => s.executeMany(`INSERT INTO ${p}_c VALUES ($1, $2)`, [[1, 1]])],
        ] as [string, () => Promise<unknown>][]) {
          const err = await failure(run());
          expect(err, what).toBeInstanceOf(TransactionError);
        }
        expect((await a).message).toBe("A fails");
        expect(s.inTransaction).toBe(false);
        expect(await s.selectValue(`SELECT count(*)::int FROM ${p}_c`)).toBe(0);
      });
    });

    test("a failed upsert/loadRecords inside transaction() undoes only itself (savepoint), like executeMany", async () => {
      const bad = [
        { id: 10, n: 1 },
        { id: 11, n: -1 },
      ];
      await db.withSession(async (s) => {
        for (const [what, run] of [
          [
            "executeMany",
            (tx) =>
              tx.executeMany(`INSERT INTO ${p}_c VALUES ($1, $2)`, [
                [10, 1],
                [11, -1],
              ]),
          ],
          ["upsert", (tx) => tx.upsert(`${p}_c`, bad, { on: ["id"] })],
          ["upsert copy", (tx) => tx.upsert(`${p}_c`, bad, { on: ["id"], copyThreshold: 0 })],
          ["loadRecords", (tx) => tx.loadRecords(`${p}_c`, bad)],
        ] as [string, (tx: typeof s) => Promise<unknown>][]) {
          await s.execute(`DELETE FROM ${p}_c`);
          const err = await s.transaction(async (tx) => {
            await tx.execute(`INSERT INTO ${p}_c VALUES (1, 1)`);
            const e = await failure(run(tx));
            await tx.execute(`INSERT INTO ${p}_c VALUES (2, 1)`);
            return e;
          });
          expect(err, what).toBeInstanceOf(CheckViolationError);
          expect(s.inTransaction, what).toBe(false);
          expect(await s.select(`SELECT id FROM ${p}_c ORDER BY id`), what).toEqual([{ id: 1 }, { id: 2 }]);
        }
        // A successful bulk call inside the transaction commits with it.
        await s.execute(`DELETE FROM ${p}_c`);
        await s.transaction(async (tx) => {
          await tx.upsert(`${p}_c`, [{ id: 5, n: 5 }], { on: ["id"] });
          await tx.loadRecords(`${p}_c`, [{ id: 6, n: 6 }]);
        });
        expect(await s.select(`SELECT id FROM ${p}_c ORDER BY id`)).toEqual([{ id: 5 }, { id: 6 }]);
      });
    });

    test("upsert after DROP/CREATE with new types (DDL through any session of the pool) uses the current types", async () => {
      const tb = `${p}_ddl`;
      await db.withSession(async (s) => {
        await s.executeScript(`DROP TABLE IF EXISTS ${tb}; CREATE TABLE ${tb} (id int PRIMARY KEY, v numeric(10,2))`);
        await s.upsert(tb, [{ id: 1, v: "1.25" }], { on: ["id"] });
        // The DDL runs on another session of the same pool, as a script.
        await db.withSession((other) =>
          other.executeScript(`DROP TABLE ${tb}; CREATE TABLE ${tb} (id text PRIMARY KEY, v numeric(12,4))`),
        );
        for (const copyThreshold of [undefined, 0]) {
          const r = await s.upsert(tb, [{ id: "k", v: "1.2345" }], {
            on: ["id"],
            ...(copyThreshold !== undefined ? { copyThreshold } : {}),
          });
          expect(r.rowsAffected).toBe(1);
        }
        // And as single statements on this session.
        await s.execute(`DROP TABLE ${tb}`);
        await s.execute(`CREATE TABLE ${tb} (id int PRIMARY KEY, v numeric(12,4))`);
        await s.upsert(tb, [{ id: 1, v: "1.2345" }], { on: ["id"] });
        await s.loadRecords(tb, [{ id: 2, v: "2.5678" }]);
        expect(await s.select(`SELECT id, v::text AS v FROM ${tb} ORDER BY id`)).toEqual([
          { id: 1, v: "1.2345" },
          { id: 2, v: "2.5678" },
        ]);
      });
    });

    test("upsert/loadRecords after DROP/CREATE run behind sqlspec's back use the current types (server-typed)", async () => {
      const tb = `${p}_raw`;
      await db.withSession(async (s) => {
        await s.executeScript(`DROP TABLE IF EXISTS ${tb}; CREATE TABLE ${tb} (id int PRIMARY KEY, v numeric(10,2))`);
        await s.upsert(tb, [{ id: 1, v: "1.25" }], { on: ["id"] });
        await t.raw(s, `DROP TABLE ${tb}`);
        await t.raw(s, `CREATE TABLE ${tb} (id text PRIMARY KEY, v numeric(12,4))`);
        await s.upsert(tb, [{ id: "a", v: "1.2345" }], { on: ["id"] });
        await s.upsert(tb, [{ id: "b", v: "2.3456" }], { on: ["id"], copyThreshold: 0 });
        await s.loadRecords(tb, [{ id: "c", v: "3.4567" }]);
        expect(await s.select(`SELECT id, v::text AS v FROM ${tb} ORDER BY id`)).toEqual([
          { id: "a", v: "1.2345" },
          { id: "b", v: "2.3456" },
          { id: "c", v: "3.4567" },
        ]);
      });
    });

    if (!t.interrupts) {
      test("executeMany of 20,000 sets: timers keep firing, an abort stops it at the next statement, nothing written", async () => {
        await db.withSession(async (s) => {
          await s.execute(`DELETE FROM ${p}_a`);
          const ac = new AbortController();
          const started = Date.now();
          let firedAt = -1;
          setTimeout(() => {
            firedAt = Date.now() - started;
            ac.abort();
          }, 30);
          const sets = Array.from({ length: 20_000 }, (_, i) => [i, "x"]);
          const err = await failure(
            s.executeMany(`INSERT INTO ${p}_a (id, v) VALUES ($1, $2)`, sets, { signal: ac.signal }),
          );
          const settled = Date.now() - started;
          expect(err).toBeInstanceOf(OperationCancelledError);
          expect(firedAt).toBeGreaterThanOrEqual(0);
          expect(firedAt).toBeLessThan(1000);
          // Stopped soon after the abort, not after the 20,000 statements (seconds on PGlite).
          expect(settled - firedAt).toBeLessThan(1000);
          expect(s.inTransaction).toBe(false);
          expect(await s.selectValue(`SELECT count(*)::int FROM ${p}_a`)).toBe(0);
        });
      });

      test("loadRecords with timeoutMs is refused before the source is read; an abort stops reading it", async () => {
        let pulled = 0;
        async function* source(n: number): AsyncGenerator<{ id: number; v: string }> {
          for (let i = 0; i < n; i++) {
            pulled++;
            if (i % 1000 === 0) await sleep(10);
            yield { id: i, v: "x" };
          }
        }
        await db.withSession(async (s) => {
          const refused = await failure(s.loadRecords(`${p}_a`, source(50_000), { timeoutMs: 1000 }));
          expect(refused).toBeInstanceOf(UnsupportedOperationError);
          expect(refused.message).toMatch(/timeoutMs/);
          expect(pulled).toBe(0);
          const up = await failure(s.upsert(`${p}_a`, [{ id: 1, v: "a" }], { on: ["id"], timeoutMs: 1000 }));
          expect(up).toBeInstanceOf(UnsupportedOperationError);
          const many = await failure(s.executeMany(`INSERT INTO ${p}_a VALUES ($1, $2)`, [[1, "a"]], { timeoutMs: 1 }));
          expect(many).toBeInstanceOf(UnsupportedOperationError);

          pulled = 0;
          const ac = new AbortController();
          setTimeout(() => ac.abort(), 50);
          const started = Date.now();
          const aborted = await failure(s.loadRecords(`${p}_a`, source(50_000), { signal: ac.signal }));
          expect(aborted).toBeInstanceOf(OperationCancelledError);
          // About 50 ms of a source that yields 1,000 rows per 10 ms: far from all 50,000.
          expect(pulled).toBeLessThan(20_000);
          expect(Date.now() - started).toBeLessThan(1000);
          expect(await s.selectValue(`SELECT count(*)::int FROM ${p}_a`)).toBe(0);
        });
      });
    }
  });
}
