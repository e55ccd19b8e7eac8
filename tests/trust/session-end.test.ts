/**
 * What a session leaves behind when it ends, and who may use it while it runs, on every PostgreSQL adapter (and
 * MySQL and SQLite where the defect applied): statements still running at release are cancelled and waited for before the
 * connection is reset and handed on; transaction control from another task is refused; a nested transaction() after
 * a caught error leaves the outer one usable; a raw COMMIT the server answered with ROLLBACK is an error.
 */
import { tmpdir } from "node:os";
import pg from "pg";
import { afterAll, describe, expect, test } from "vitest";
import { MysqlConfig } from "../../src/adapters/mysql/index.js";
import { SqliteConfig } from "../../src/adapters/sqlite/index.js";
import {
  OperationCancelledError,
  PoolTimeoutError,
  TransactionError,
  UnsupportedOperationError,
} from "../../src/index.js";
import { MYSQL_URL, PG_URL } from "../support/servers.js";
import { type AnyConfig, sleep, TARGETS } from "./targets.js";

interface EndTarget {
  name: string;
  server: boolean;
  make(o?: { maxSize?: number; acquireTimeoutMs?: number }): AnyConfig;
  sleep(seconds: number): string;
}

const PG_TARGETS: EndTarget[] = TARGETS.map((t) => ({ ...t, sleep: (s: number) => `SELECT pg_sleep(${s})` }));
const MYSQL: EndTarget = {
  name: "mysql",
  server: true,
  make: (o = {}) =>
    new MysqlConfig({
      poolConfig: {
        connectionString: MYSQL_URL,
        maxSize: o.maxSize ?? 1,
        acquireTimeoutMs: o.acquireTimeoutMs ?? 5000,
      },
    }),
  sleep: (s) => `SELECT SLEEP(${s})`,
};
const SQLITE: EndTarget = {
  name: "sqlite",
  server: false,
  make: () => new SqliteConfig({ poolConfig: { database: `${tmpdir()}/sqlspec-session-end-${process.pid}.db` } }),
  // better-sqlite3 runs a statement to completion on the calling thread: nothing to sleep in, nothing to cancel mid-way.
  sleep: () => "SELECT 1",
};
const SQLITE_MEMORY: EndTarget = {
  name: "sqlite_memory",
  server: false,
  make: () => new SqliteConfig({ poolConfig: { database: ":memory:" } }),
  sleep: () => "SELECT 1",
};

const opened: AnyConfig[] = [];
afterAll(async () => {
  await Promise.all(opened.map((c) => c.close().catch(() => {})));
});

function open(t: EndTarget, o: { maxSize?: number; acquireTimeoutMs?: number } = {}): AnyConfig {
  const c = t.make({ maxSize: 1, ...o });
  opened.push(c);
  return c;
}

async function ids(c: AnyConfig, table: string): Promise<number[]> {
  const rows = await c.withSession((s) => s.select<{ id: number }>(`SELECT id FROM ${table} ORDER BY id`));
  return rows.map((r) => Number(r.id));
}

for (const t of [...PG_TARGETS, MYSQL, SQLITE, SQLITE_MEMORY]) {
  describe(`session end: ${t.name}`, () => {
    test("statements left running by a callback are settled (cancelled) before the connection is handed on", async () => {
      const c = open(t);
      const T = `se_unawaited_${t.name}`;
      await c.withSession((s) => s.executeScript(`DROP TABLE IF EXISTS ${T}; CREATE TABLE ${T} (id int PRIMARY KEY)`));
      const abandoned: Promise<unknown>[] = [];
      await c.withSession(async (s) => {
        abandoned.push(s.execute(t.sleep(0.3)), s.execute("BEGIN"), s.execute(`INSERT INTO ${T} VALUES (5)`));
        for (const p of abandoned) p.catch(() => {});
      });
      const outcomes = await Promise.allSettled(abandoned);
      // The BEGIN and the INSERT in its transaction either never ran or were rolled back by the reset: neither may
      // claim success (and the row must not appear later).
      for (const o of outcomes.slice(1)) {
        expect(o.status).toBe("rejected");
        expect((o as PromiseRejectedResult).reason).toBeInstanceOf(OperationCancelledError);
      }
      // An embedded engine completed the first statement outside any transaction: it keeps its result.
      if (!t.server) expect(outcomes[0]?.status).toBe("fulfilled");
      const inTx = await c.withSession(async (s) => {
        await s.execute(`INSERT INTO ${T} VALUES (1)`);
        return s.inTransaction;
      });
      expect(inTx).toBe(false);
      expect(await ids(c, T)).toEqual([1]);
      await c.withSession((s) => s.execute(`DROP TABLE ${T}`));
    });
  });
}

describe("session end: sqlite file (a statement waiting for this pool's write lock)", () => {
  test("release ends the wait: the statement never runs; the lease's later statements queue behind it", async () => {
    const c = open(SQLITE);
    const T = "se_lockwait_sqlite";
    await c.withSession((s) => s.executeScript(`DROP TABLE IF EXISTS ${T}; CREATE TABLE ${T} (id int PRIMARY KEY)`));
    const holdWriteLock = (until: Promise<void>, id: number) =>
      c.withSession(async (s) => {
        await s.execute("BEGIN");
        await s.execute(`INSERT INTO ${T} VALUES (${id})`);
        await until;
        await s.execute("COMMIT");
      });
    let free = (): void => {};
    let holder = holdWriteLock(
      new Promise<void>((resolve) => {
        free = resolve;
      }),
      1,
    );
    await sleep(20);
    const abandoned: Promise<unknown>[] = [];
    await c.withSession(async (s) => {
      // The INSERT waits for the write lock; the read issued after it must not run before it (nor after the end).
      abandoned.push(s.execute(`INSERT INTO ${T} VALUES (2)`), s.execute(`SELECT count(*) FROM ${T}`));
      for (const p of abandoned) p.catch(() => {});
    });
    for (const o of await Promise.allSettled(abandoned)) {
      expect(o.status).toBe("rejected");
      expect((o as PromiseRejectedResult).reason).toBeInstanceOf(OperationCancelledError);
    }
    free();
    await holder;
    expect(await ids(c, T)).toEqual([1]);

    holder = holdWriteLock(sleep(50), 4);
    await sleep(20);
    const [, seen] = await c.withSession((s) =>
      Promise.all([s.execute(`INSERT INTO ${T} VALUES (3)`), s.selectValue(`SELECT count(*) FROM ${T} WHERE id = 3`)]),
    );
    await holder;
    expect(Number(seen)).toBe(1);
    expect(await ids(c, T)).toEqual([1, 3, 4]);
  });
});

for (const t of PG_TARGETS.filter((x) => x.server)) {
  describe(`session end: ${t.name} (a statement blocked on a lock)`, () => {
    test("release cancels it: it never commits later, and the next borrower is served at once", async () => {
      const c = open(t, { acquireTimeoutMs: 2000 });
      const T = `se_blocked_${t.name}`;
      const other = new pg.Client({ connectionString: PG_URL });
      await other.connect();
      try {
        await other.query(`DROP TABLE IF EXISTS ${T}; CREATE TABLE ${T} (id int PRIMARY KEY, v int)`);
        await other.query(`INSERT INTO ${T} VALUES (1, 0)`);
        await other.query("BEGIN");
        await other.query(`UPDATE ${T} SET v = 1 WHERE id = 1`);
        let abandoned: Promise<unknown> = Promise.resolve();
        await c.withSession(async (s) => {
          abandoned = s.execute(`UPDATE ${T} SET v = 2 WHERE id = 1`);
          abandoned.catch(() => {});
          await sleep(100);
        });
        await expect(abandoned).rejects.toBeInstanceOf(OperationCancelledError);
        const t0 = Date.now();
        expect(await c.withSession((s) => s.selectValue("SELECT 42"))).toBe(42);
        expect(Date.now() - t0).toBeLessThan(1500);
        await other.query("ROLLBACK");
        await sleep(50);
        const v = await c.withSession((s) => s.selectValue(`SELECT v FROM ${T} WHERE id = 1`));
        expect(v).toBe(0);
      } finally {
        await other.query("ROLLBACK").catch(() => {});
        await other.query(`DROP TABLE IF EXISTS ${T}`).catch(() => {});
        await other.end();
      }
    });
  });
}

for (const t of [...PG_TARGETS, SQLITE]) {
  describe(`transaction ownership: ${t.name}`, () => {
    const c = t.server ? undefined : open(t);
    const db = (): AnyConfig => c ?? open(t);

    test("commit()/rollback()/begin()/execute() from another task while transaction() runs raise TransactionError", async () => {
      const d = db();
      const T = `se_owner_${t.name}`;
      await d.withSession((s) => s.executeScript(`DROP TABLE IF EXISTS ${T}; CREATE TABLE ${T} (id int PRIMARY KEY)`));
      const others: [string, (s: any) => Promise<unknown>][] = [
        ["commit", (s) => s.commit()],
        ["rollback", (s) => s.rollback()],
        ["begin", (s) => s.begin()],
        ["execute", (s) => s.execute(`INSERT INTO ${T} VALUES (11)`)],
        ["executeMany", (s) => s.executeMany(`INSERT INTO ${T} VALUES (?)`, [[12], [13]])],
        ["executeScript", (s) => s.executeScript(`INSERT INTO ${T} VALUES (14)`)],
      ];
      for (const [label, other] of others) {
        const [inner, outer] = await d.withSession((s) =>
          Promise.allSettled([
            s.transaction(async (tx) => {
              await tx.execute(`INSERT INTO ${T} VALUES (10)`);
              await sleep(100);
              throw new Error("fn fails: roll back 10");
            }),
            (async () => {
              await sleep(30);
              return other(s);
            })(),
          ]),
        );
        expect((inner as PromiseRejectedResult).reason?.message, label).toBe("fn fails: roll back 10");
        expect(outer?.status, label).toBe("rejected");
        expect((outer as PromiseRejectedResult).reason, label).toBeInstanceOf(TransactionError);
        expect(await ids(d, T), label).toEqual([]);
      }
      await d.withSession((s) => s.execute(`DROP TABLE ${T}`));
    });
  });
}

for (const t of PG_TARGETS) {
  describe(`transactions after a caught error: ${t.name}`, () => {
    test("a nested transaction() whose fn caught a statement error rejects and leaves the outer one usable", async () => {
      const d = open(t);
      const T = `se_nested_${t.name}`;
      await d.withSession((s) => s.executeScript(`DROP TABLE IF EXISTS ${T}; CREATE TABLE ${T} (id int PRIMARY KEY)`));
      await d.withSession((s) =>
        s.transaction(async (tx) => {
          await tx.execute(`INSERT INTO ${T} VALUES (1)`);
          const inner = await tx
            .transaction(async (t2) => {
              await t2.execute(`INSERT INTO ${T} VALUES (2)`);
              await t2.execute("SELECT 1/0").catch(() => {});
              return "resolved";
            })
            .catch((e) => e);
          expect(inner).toBeInstanceOf(TransactionError);
          expect(inner.message).toMatch(/rolled back: the transaction was aborted by an earlier error/);
          expect(tx.inTransaction).toBe(true);
          await tx.execute(`INSERT INTO ${T} VALUES (3)`);
        }),
      );
      expect(await ids(d, T)).toEqual([1, 3]);
      await d.withSession((s) => s.execute(`DROP TABLE ${T}`));
    });

    test("execute('COMMIT') the server answers with ROLLBACK raises TransactionError; the session is idle", async () => {
      const d = open(t);
      const T = `se_commit_${t.name}`;
      await d.withSession((s) => s.executeScript(`DROP TABLE IF EXISTS ${T}; CREATE TABLE ${T} (id int PRIMARY KEY)`));
      for (const commit of ["COMMIT", "-- done\nend"]) {
        const err = await d.withSession(async (s) => {
          await s.begin();
          await s.execute(`INSERT INTO ${T} VALUES (4)`);
          await s.execute("SELECT 1/0").catch(() => {});
          const e = await s.execute(commit).catch((x) => x);
          expect(s.inTransaction).toBe(false);
          return e;
        });
        expect(err, commit).toBeInstanceOf(TransactionError);
        expect(err.message).toMatch(/rolled back/);
        const viaScript = await d.withSession(async (s) => {
          await s.begin();
          await s.execute("SELECT 1/0").catch(() => {});
          return s.executeScript(commit).catch((x) => x);
        });
        expect(viaScript, commit).toBeInstanceOf(TransactionError);
      }
      // A COMMIT that commits is still a plain result.
      await d.withSession(async (s) => {
        await s.begin();
        await s.execute(`INSERT INTO ${T} VALUES (5)`);
        await s.execute("COMMIT");
      });
      expect(await ids(d, T)).toEqual([5]);
      await d.withSession((s) => s.execute(`DROP TABLE ${T}`));
    });
  });
}

for (const t of [...PG_TARGETS.filter((x) => x.server), MYSQL]) {
  describe(`begin() from two tasks: ${t.name}`, () => {
    test("the second begin() while the first's BEGIN is in flight raises TransactionError", async () => {
      const d = open(t);
      const T = `se_begin_${t.name}`;
      await d.withSession((s) => s.executeScript(`DROP TABLE IF EXISTS ${T}; CREATE TABLE ${T} (id int PRIMARY KEY)`));
      const [a, b] = await d.withSession((s) =>
        Promise.allSettled([
          (async () => {
            await s.begin();
            await s.execute(`INSERT INTO ${T} VALUES (1)`);
            await sleep(50);
            await s.rollback();
          })(),
          (async () => {
            await s.begin();
            await s.execute(`INSERT INTO ${T} VALUES (2)`);
            await s.commit();
          })(),
        ]),
      );
      expect(a?.status).toBe("fulfilled");
      expect(b?.status).toBe("rejected");
      expect((b as PromiseRejectedResult).reason).toBeInstanceOf(TransactionError);
      expect(await ids(d, T)).toEqual([]);
      await d.withSession((s) => s.execute(`DROP TABLE ${T}`));
    });
  });
}

for (const t of PG_TARGETS.filter((x) => x.server)) {
  describe(`close(): ${t.name}`, () => {
    // With and without an acquire timeout (pg-pool queues the two differently), and with a per-call timeoutMs.
    test.each([
      { pool: { acquireTimeoutMs: 20_000 }, call: undefined },
      { pool: {}, call: undefined },
      { pool: {}, call: { timeoutMs: 20_000 } },
    ])(
      "a session waiting for a connection rejects at once with PoolTimeoutError when the pool closes (%o)",
      async ({ pool, call }) => {
        const c = t.make({ maxSize: 1, ...pool });
        await c.withSession((s) => s.selectValue("SELECT 1"));
        const running = c.withSession((s) => s.execute("SELECT pg_sleep(0.5)")).catch(() => {});
        await sleep(100);
        const waiter = c
          .withSession((s) => s.selectValue("SELECT 2"), call)
          .then(
            () => "resolved",
            (e) => e,
          );
        await sleep(50);
        const t0 = Date.now();
        await c.close();
        const err = await Promise.race([waiter, sleep(3000).then(() => "pending after 3 s")]);
        expect(err).toBeInstanceOf(PoolTimeoutError);
        expect(err.message).toMatch(/pool was closed while waiting for a connection/);
        expect(Date.now() - t0).toBeLessThan(3000);
        await running;
        const after = await c.withSession((s) => s.selectValue("SELECT 3"));
        expect(after).toBe(3);
        await c.close();
      },
    );
  });
}

for (const t of PG_TARGETS) {
  describe(`streams: ${t.name}`, () => {
    test("a second stream() opened while one is being read raises UnsupportedOperationError; the first goes on", async () => {
      const c = open(t);
      const got = await c.withSession(async (s) => {
        const a = s.stream<{ g: number }>("SELECT g FROM generate_series(1, 50) g", [], { batchSize: 5 });
        const b = s.stream<{ g: number }>("SELECT g FROM generate_series(1, 50) g", [], { batchSize: 5 });
        const ia = a[Symbol.asyncIterator]();
        const ib = b[Symbol.asyncIterator]();
        const first = await ia.next();
        const err = await ib.next().catch((e) => e);
        let n = first.done ? 0 : 1;
        for (let x = await ia.next(); !x.done; x = await ia.next()) n++;
        // Once the first is done, a new stream opens.
        let m = 0;
        for await (const _ of s.stream("SELECT g FROM generate_series(1, 7) g", [], { batchSize: 5 })) m++;
        return { err, n, m };
      });
      expect(got.err).toBeInstanceOf(UnsupportedOperationError);
      expect(got.err.message).toMatch(/one stream at a time/);
      expect(got.n).toBe(50);
      expect(got.m).toBe(7);
      expect(await c.withSession((s) => s.selectValue("SELECT 42"))).toBe(42);
    });
  });
}

describe("a stream never read before its session ended", () => {
  test("reading it afterwards raises OperationCancelledError (SQLite, PGlite): it does not end empty", async () => {
    const { SqliteConfig } = await import("../../src/adapters/sqlite/index.js");
    const { PgliteConfig } = await import("../../src/adapters/pglite/index.js");
    const { OperationCancelledError } = await import("../../src/index.js");
    for (const db of [new SqliteConfig(), new PgliteConfig()]) {
      try {
        let stream: AsyncGenerator<unknown> | undefined;
        await db.withSession(async (s) => {
          await s.execute("CREATE TABLE late (id INTEGER)");
          await s.execute("INSERT INTO late VALUES (1), (2)");
          stream = s.stream("SELECT id FROM late", undefined, { batchSize: 1 });
        });
        const read: unknown[] = [];
        const err = await (async () => {
          for await (const row of stream as AsyncGenerator<unknown>) read.push(row);
        })().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(OperationCancelledError);
        expect(read).toEqual([]);
      } finally {
        await db.close();
      }
    }
  });
});
