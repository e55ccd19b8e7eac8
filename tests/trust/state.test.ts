/**
 * Connection state under errors and concurrency, on every PostgreSQL adapter: a connection never goes back to the
 * pool inside a transaction, a COMMIT the server turned into a rollback is reported as one, PGlite's lock follows the
 * engine's transaction, concurrent transaction() calls on one session never mix their work, abandoned streams are
 * closed on release, and session settings do not leak to the next borrower.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ParameterError, SQLSpecError, sql, TransactionError, UnsupportedOperationError } from "../../src/index.js";
import { type AnyConfig, sleep, TARGETS } from "./targets.js";

for (const target of TARGETS) {
  describe(`connection state: ${target.name}`, () => {
    const T = `trust_state_${target.name}`;
    const opened: AnyConfig[] = [];
    const make = (o: Parameters<typeof target.make>[0] = {}): AnyConfig => {
      const c = target.make(o);
      opened.push(c);
      return c;
    };
    // PGlite is one in-memory database per config: every test of a target shares this one config there.
    const shared = make({ maxSize: 1, acquireTimeoutMs: 3_000 });
    const db = (o: Parameters<typeof target.make>[0] = {}): AnyConfig =>
      target.server ? make({ maxSize: 1, acquireTimeoutMs: 3_000, ...o }) : shared;
    const count = (c: AnyConfig, where: string): Promise<number> =>
      c.withSession((s) => s.selectValue<number>(`SELECT count(*)::int FROM ${T} WHERE ${where}`));

    beforeAll(async () => {
      await shared.withSession((s) =>
        s.executeScript(`
          DROP TABLE IF EXISTS ${T};
          CREATE TABLE ${T} (id int PRIMARY KEY, note text);
          DROP TABLE IF EXISTS ${T}_deferred;
          CREATE TABLE ${T}_deferred (id int, CONSTRAINT ${T}_deferred_u UNIQUE (id) DEFERRABLE INITIALLY DEFERRED);
        `),
      );
    });
    afterAll(async () => {
      await shared
        .withSession((s) => s.executeScript(`DROP TABLE IF EXISTS ${T}; DROP TABLE IF EXISTS ${T}_deferred;`))
        .catch(() => {});
      await Promise.all(opened.map((c) => c.close().catch(() => {})));
    });

    test("execute('BEGIN'), a failed statement, the session ends: the next session is idle and the work is gone", async () => {
      const c = db();
      for (const begin of ["BEGIN", "-- opened by hand\nBEGIN", "start transaction"]) {
        await c.withSession(async (s) => {
          await s.execute(begin);
          expect(s.inTransaction).toBe(true);
          await s.execute(`INSERT INTO ${T} (id) VALUES (1)`);
          const err = await s.execute("SELECT 1/0").catch((e) => e);
          expect(err).toBeInstanceOf(SQLSpecError);
          expect(s.inTransaction).toBe(true);
        });
        // The failure escapes withSession this time (release gets the error).
        await expect(
          c.withSession(async (s) => {
            await s.execute(begin);
            await s.execute(`INSERT INTO ${T} (id) VALUES (2)`);
            await s.execute("SELECT 1/0");
          }),
        ).rejects.toBeInstanceOf(SQLSpecError);
        // An open (not failed) transaction left behind is rolled back too.
        await c.withSession(async (s) => {
          await s.execute(begin);
          await s.execute(`INSERT INTO ${T} (id) VALUES (3)`);
        });
        await c.withSession(async (s) => {
          expect(s.inTransaction).toBe(false);
          expect(await s.selectValue("SELECT 41 + 1")).toBe(42);
        });
        expect(await count(c, "id IN (1, 2, 3)")).toBe(0);
      }
    });

    test("transaction(fn) whose fn swallowed a statement error raises TransactionError; nothing was written", async () => {
      const c = db();
      await c.withSession(async (s) => {
        const err = await s
          .transaction(async (tx) => {
            await tx.execute(`INSERT INTO ${T} (id) VALUES (10)`);
            await tx.execute("SELECT 1/0").catch(() => undefined);
            return "fn returned normally";
          })
          .catch((e) => e);
        expect(err).toBeInstanceOf(TransactionError);
        expect(err.message).toContain("rolled back: the transaction was aborted by an earlier error");
        expect(s.inTransaction).toBe(false);

        // The same through begin()/commit().
        await s.begin();
        await s.execute(`INSERT INTO ${T} (id) VALUES (11)`);
        await s.execute(`INSERT INTO ${T} (id) VALUES (11)`).catch(() => undefined);
        await expect(s.commit()).rejects.toBeInstanceOf(TransactionError);
        expect(s.inTransaction).toBe(false);

        // COMMIT sent as text is answered with ROLLBACK too: the session must not take it for a commit.
        await s.execute("BEGIN");
        await s.execute(`INSERT INTO ${T} (id) VALUES (12)`);
        await s.execute("SELECT 1/0").catch(() => undefined);
        await expect(s.execute("COMMIT")).rejects.toBeInstanceOf(TransactionError);
        expect(s.inTransaction).toBe(false);
      });
      expect(await count(c, "id IN (10, 11, 12)")).toBe(0);
    });

    test("a transaction opened by any spelling of BEGIN keeps other sessions' autocommit writes out of it", async () => {
      const c = db({ maxSize: 2 });
      for (const [i, begin] of [
        "-- opened by hand\nBEGIN",
        "/* c */ START TRANSACTION ISOLATION LEVEL READ COMMITTED",
      ].entries()) {
        const a = await c.provideSession();
        await a.execute(begin);
        await a.execute(`INSERT INTO ${T} (id) VALUES ($1)`, [60 + 2 * i]);
        // Another session, not nested in a's flow: on PGlite it waits for a's transaction; on a server it has its own.
        const b = new Promise<void>((resolve, reject) =>
          setTimeout(
            () =>
              c
                .withSession((o) => o.execute(`INSERT INTO ${T} (id) VALUES ($1)`, [61 + 2 * i]))
                .then(() => resolve(), reject),
            0,
          ),
        );
        await sleep(50);
        await a.execute("ROLLBACK");
        await a.release();
        await b;
      }
      expect(await count(c, "id IN (60, 62)")).toBe(0);
      expect(await count(c, "id IN (61, 63)")).toBe(2);
    });

    test("a COMMIT that fails (deferred constraint) leaves the session idle and typed; the connection is usable", async () => {
      const c = db({ maxSize: 2, acquireTimeoutMs: 1_000 });
      await c.withSession(async (s) => {
        await s.begin();
        await s.execute(`INSERT INTO ${T}_deferred (id) VALUES (1), (1)`);
        const err = await s.commit().catch((e) => e);
        expect(err).toBeInstanceOf(SQLSpecError);
        expect(err.sqlState).toBe("23505");
        expect(s.inTransaction).toBe(false);
        // Another session gets through while this one is still held (PGlite: the lock was freed by the rollback).
        const started = Date.now();
        const other = new Promise<number>((resolve, reject) =>
          setTimeout(() => c.withSession((o) => o.selectValue<number>("SELECT 7")).then(resolve, reject), 0),
        );
        expect(await other).toBe(7);
        expect(Date.now() - started).toBeLessThan(900);
        expect(await s.selectValue("SELECT 8")).toBe(8);
      });
      expect(await c.withSession((s) => s.selectValue(`SELECT count(*)::int FROM ${T}_deferred`))).toBe(0);
    });

    test("the state is current as soon as a failed statement settles (not when the server's next message arrives)", async () => {
      const c = db();
      await c.withSession(async (s) => {
        // Repeated: the server often sends ErrorResponse and ReadyForQuery in separate packets.
        for (let i = 0; i < 40; i++) {
          await s.begin();
          await s.execute(`INSERT INTO ${T}_deferred (id) VALUES (1), (1)`);
          await s.commit().catch(() => undefined);
          expect(s.inTransaction).toBe(false);
          await s.begin();
          await s.execute("SELECT 1/0").catch(() => undefined);
          expect(s.adapter.state(s.conn).transaction).toBe("failed");
          await s.rollback();
          expect(s.inTransaction).toBe(false);
        }
      });
    });

    test("two transaction() calls started together on one session never commit each other's work", async () => {
      const c = db();
      await c.withSession(async (s) => {
        const a = s.transaction(async (tx) => {
          await tx.execute(`INSERT INTO ${T} (id) VALUES (30)`);
          await sleep(30);
          await tx.execute(`INSERT INTO ${T} (id) VALUES (31)`);
          return "a";
        });
        const b = s.transaction(async (tx) => {
          await tx.execute(`INSERT INTO ${T} (id) VALUES (32)`);
          await sleep(10);
          throw new Error("b fails");
        });
        const [ra, rb] = await Promise.allSettled([a, b]);
        expect(ra).toEqual({ status: "fulfilled", value: "a" });
        expect(rb.status).toBe("rejected");
        // Serialized (b ran after a and rolled back) or refused with a typed error: either way b wrote nothing.
        const reason = (rb as PromiseRejectedResult).reason;
        expect(reason instanceof TransactionError || (reason as Error).message === "b fails").toBe(true);
        expect(s.inTransaction).toBe(false);

        // And the other way round: the first fails, the second's work stays.
        const d = s.transaction(async (tx) => {
          await tx.execute(`INSERT INTO ${T} (id) VALUES (33)`);
          await sleep(20);
          throw new Error("d fails");
        });
        const e = s.transaction(async (tx) => {
          await tx.execute(`INSERT INTO ${T} (id) VALUES (34)`);
        });
        const [rd, re] = await Promise.allSettled([d, e]);
        expect(rd.status).toBe("rejected");
        if (re.status === "rejected") expect(re.reason).toBeInstanceOf(TransactionError);
        const ids = await s.select<{ id: number }>(`SELECT id FROM ${T} WHERE id BETWEEN 30 AND 39 ORDER BY id`);
        expect(ids.map((r) => r.id)).toEqual(re.status === "fulfilled" ? [30, 31, 34] : [30, 31]);
        await s.execute(`DELETE FROM ${T} WHERE id BETWEEN 30 AND 39`);
      });
    });

    test("transaction() nested through another session's transaction is still nested, not concurrent", async () => {
      const c = db({ maxSize: 2 });
      await c.withSession((a) =>
        a.transaction(async () => {
          await a.execute(`INSERT INTO ${T} (id) VALUES (70)`);
          await c.withSession((b) =>
            b.transaction(async () => {
              await b.execute(`INSERT INTO ${T} (id) VALUES (71)`);
              // a's own transaction() from inside b's callback, which runs inside a's: a savepoint of a's.
              expect(await a.transaction(async () => "nested")).toBe("nested");
            }),
          );
        }),
      );
      expect(await count(c, "id IN (70, 71)")).toBe(2);
      await c.withSession((s) => s.execute(`DELETE FROM ${T} WHERE id IN (70, 71)`));
    });

    test("a stream abandoned without return() is closed on release; the next session works", async () => {
      const c = db();
      await c.withSession(async (s) => {
        const it = s.stream<{ g: number }>("SELECT g FROM generate_series(1, 100000) g", undefined, { batchSize: 50 });
        const first = await it.next();
        expect(first.value).toEqual({ g: 1 });
        // Abandoned: neither finished nor return()ed.
      });
      // Abandoned while a transaction of the session's own is open: the transaction still rolls back.
      await c.withSession(async (s) => {
        await s.begin();
        await s.execute(`INSERT INTO ${T} (id) VALUES (40)`);
        const it = s.stream<{ g: number }>("SELECT g FROM generate_series(1, 100000) g", undefined, { batchSize: 50 });
        await it.next();
      });
      // Released by hand (provideSession) with a stream never started.
      const held = await c.provideSession();
      held.stream("SELECT g FROM generate_series(1, 10) g");
      await held.release();
      for (let i = 0; i < 3; i++) {
        await c.withSession(async (s) => {
          expect(s.inTransaction).toBe(false);
          expect(await s.selectValue("SELECT count(*)::int FROM pg_cursors WHERE name <> ''")).toBe(0);
          expect(await s.selectValue("SELECT $1::int + 1", [i])).toBe(i + 1);
        });
      }
      expect(await count(c, "id = 40")).toBe(0);
    });

    test("a stream the server fails partway (22012 after 49 batches) leaves nothing for the next borrower", async () => {
      const c = db();
      const sql = "SELECT g FROM generate_series(1, 10000) g WHERE 1/(5000 - g) IS NOT NULL";
      for (let round = 0; round < 2; round++) {
        let seen = 0;
        const err = await c
          .withSession(async (s) => {
            for await (const _ of s.stream(sql, undefined, { batchSize: 100 })) seen++;
          })
          .catch((e) => e);
        expect(err).toBeInstanceOf(SQLSpecError);
        expect(err.sqlState).toBe("22012");
        expect(seen).toBeGreaterThan(0);
        await c.withSession(async (s) => {
          expect(await s.select("SELECT 'fresh' AS mine")).toEqual([{ mine: "fresh" }]);
          expect(await s.select("SELECT g FROM generate_series(1, 3) g")).toEqual([{ g: 1 }, { g: 2 }, { g: 3 }]);
          expect(s.inTransaction).toBe(false);
        });
      }
      // Inside a transaction: the same session rolls back and reads exactly its rows.
      await c.withSession(async (s) => {
        await s.begin();
        const err = await (async () => {
          for await (const _ of s.stream(sql, undefined, { batchSize: 100 })) {
            // drained until the server fails it
          }
        })().catch((e) => e);
        expect(err.sqlState).toBe("22012");
        await s.rollback();
        expect(await s.select("SELECT g FROM generate_series(1, 2) g")).toEqual([{ g: 1 }, { g: 2 }]);
      });
    });

    test("stream() with a batchSize that is not a positive integer raises ParameterError before any I/O", async () => {
      const c = db();
      await c.withSession(async (s) => {
        for (const batchSize of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
          const err = await (async () => {
            for await (const _ of s.stream("SELECT 1", undefined, { batchSize })) {
              // never reached
            }
          })().catch((e) => e);
          expect(err).toBeInstanceOf(ParameterError);
        }
        expect(s.inTransaction).toBe(false);
        expect(await s.selectValue("SELECT 1")).toBe(1);
      });
    });

    test("several statements in one execute() are refused the same way on every adapter, before anything runs", async () => {
      const c = db();
      await c.withSession(async (s) => {
        for (const text of [
          `INSERT INTO ${T} (id) VALUES (50), (51); UPDATE ${T} SET note = 'x' WHERE id = 50`,
          `SELECT 1; SELECT 2`,
          `INSERT INTO ${T} (id) VALUES (52);\n-- trailing comment\n;`,
        ]) {
          const multi = !text.includes("(52)");
          const run = s.execute(text).then(
            (r) => r,
            (e) => e,
          );
          const r = await run;
          if (multi) {
            expect(r).toBeInstanceOf(UnsupportedOperationError);
            expect(r.message).toContain("executeScript");
          } else {
            expect(r.rowsAffected).toBe(1);
          }
        }
        await expect(s.executeMany(`INSERT INTO ${T} (id) VALUES ($1); SELECT 1`, [[53]])).rejects.toBeInstanceOf(
          UnsupportedOperationError,
        );
        await expect(s.select("SELECT 1; SELECT 2")).rejects.toBeInstanceOf(UnsupportedOperationError);
        // A routine body's own semicolons do not make it several statements.
        await s.execute(
          `CREATE OR REPLACE FUNCTION ${T}_f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END`,
        );
        expect(await s.selectValue(`SELECT ${T}_f()`)).toBe(2);
        await s.execute(`DROP FUNCTION ${T}_f()`);
        expect(s.inTransaction).toBe(false);
      });
      expect(await count(c, "id IN (50, 51, 53)")).toBe(0);
      expect(await count(c, "id = 52")).toBe(1);
    });

    test("a stacked statement the lexer never sees (a builder's raw SQL, a ready plan) is refused by the server", async () => {
      const c = db();
      await c.withSession(async (s) => {
        await s.execute(`INSERT INTO ${T} (id, note) VALUES (60, 'kept')`);
        // Parameterless statements go over the extended protocol, where one message holds one statement.
        const stacked = sql.select(sql.raw(`1 AS x; DELETE FROM ${T} WHERE id = 60; SELECT 1`));
        const err = await s.execute(stacked).catch((e) => e);
        expect(err).toBeInstanceOf(SQLSpecError);
        expect((err as SQLSpecError).sqlState).toBe("42601");
        expect(s.inTransaction).toBe(false);
      });
      expect(await count(c, "id = 60")).toBe(1);
      await c.withSession((s) => s.execute(`DELETE FROM ${T} WHERE id = 60`));
    });
  });
}
