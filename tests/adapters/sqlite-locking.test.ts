/**
 * SQLite waits for locks, never on the thread: the shared `:memory:` connection held by a session's open transaction
 * or stream, a file database's write lock held by another session of the pool, and a file locked by another config
 * or process (retried on timers). Every wait is bounded by busyTimeoutMs / acquireTimeoutMs, timeoutMs and signal,
 * and ends in a typed error.
 */
import Database from "better-sqlite3";
import { describe, expect, test } from "vitest";
import { SqliteBusyError } from "../../src/adapters/sqlite/index.js";
import { OperationalError, OperationCancelledError, PoolTimeoutError, QueryTimeoutError } from "../../src/index.js";
import { sqliteConfigs } from "../support/sqlite-file.js";

const sqlite = sqliteConfigs();
const { config } = sqlite;
const later = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("sqlite: the shared :memory: connection", () => {
  test("a session opened inside another's transaction joins it instead of waiting", async () => {
    const db = config();
    await db.withSession(async (s) => {
      await s.execute("CREATE TABLE j (id INTEGER PRIMARY KEY)");
      await s.transaction(async (tx) => {
        await tx.execute("INSERT INTO j VALUES (1)");
        // Nested: sees the outer transaction's row and its own transaction() is a savepoint of it.
        const seen = await db.withSession(async (inner) => {
          await expect(
            inner.transaction(async (t2) => {
              await t2.execute("INSERT INTO j VALUES (2)");
              throw new Error("inner");
            }),
          ).rejects.toThrow("inner");
          return inner.selectValue("SELECT count(*) FROM j");
        });
        expect(seen).toBe(1);
        expect(tx.inTransaction).toBe(true);
      });
      expect(await s.selectValue("SELECT count(*) FROM j")).toBe(1);
    });
  });

  test("another session waits for an open transaction, then gets PoolTimeoutError after acquireTimeoutMs", async () => {
    const db = config({ poolConfig: { acquireTimeoutMs: 150 } });
    await db.withSession((s) => s.execute("CREATE TABLE w (id INTEGER PRIMARY KEY)"));
    const holder = await db.provideSession();
    await holder.begin();
    await holder.execute("INSERT INTO w VALUES (1)");
    const t0 = performance.now();
    const err = await db.withSession((s) => s.selectValue("SELECT count(*) FROM w")).catch((e) => e);
    expect(err).toBeInstanceOf(PoolTimeoutError);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    // The waiter did not see (or join) the uncommitted row; after the commit it proceeds.
    const waiting = db.withSession((s) => s.selectValue("SELECT count(*) FROM w"));
    await later(20);
    await holder.commit();
    expect(await waiting).toBe(1);
    await holder.release();
  });

  test("a released session's open transaction is rolled back and the lock freed", async () => {
    const db = config({ poolConfig: { acquireTimeoutMs: 500 } });
    await db.withSession((s) => s.execute("CREATE TABLE r (id INTEGER PRIMARY KEY)"));
    const s1 = await db.provideSession();
    await s1.begin();
    await s1.execute("INSERT INTO r VALUES (1)");
    await s1.release();
    expect(await db.withSession((s) => s.selectValue("SELECT count(*) FROM r"))).toBe(0);
  });

  test("an open stream holds the connection; others wait until it ends", async () => {
    const db = config({ poolConfig: { acquireTimeoutMs: 2000 } });
    const order: string[] = [];
    let started!: () => void;
    const streaming = new Promise<void>((r) => {
      started = r;
    });
    const reader = db.withSession(async (s) => {
      let n = 0;
      for await (const _ of s.stream<{ g: number }>(
        "WITH RECURSIVE c(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM c WHERE g < 50) SELECT g FROM c",
        undefined,
        { batchSize: 10 },
      )) {
        if (++n === 1) started();
        if (n % 10 === 0) await later(5);
      }
      order.push(`stream ${n}`);
    });
    await streaming;
    // Another session (not opened inside the reader's callback) waits for the stream to end.
    const other = db.withSession((o) => o.selectValue("SELECT 7")).then((v) => order.push(`other ${v}`));
    await Promise.all([reader, other]);
    expect(order).toEqual(["stream 50", "other 7"]);
  });
});

test("transaction options: any isolation level runs (SQLite is serializable); readOnly takes no write lock", async () => {
  const { db } = await sqlite.file("CREATE TABLE iso (id INTEGER PRIMARY KEY)", { busyTimeoutMs: 100 });
  const writer = await db.provideSession();
  await writer.begin();
  await writer.execute("INSERT INTO iso VALUES (1)");
  const n = await db.withSession((s) =>
    s.transaction((tx) => tx.selectValue("SELECT count(*) FROM iso"), {
      readOnly: true,
      isolationLevel: "read committed",
    }),
  );
  expect(n).toBe(0);
  await writer.rollback();
  await writer.release();
  await db.withSession((s) =>
    s.transaction((tx) => tx.execute("INSERT INTO iso VALUES (2)"), { isolationLevel: "serializable" }),
  );
  expect(await db.withSession((s) => s.selectValue("SELECT count(*) FROM iso"))).toBe(1);
});

describe("sqlite: two configs (or processes) on one file", () => {
  /** Counts timer ticks: a synchronous busy wait on the thread shows up as ticks that never ran. */
  function ticker(): { count: () => number; stop: () => void } {
    let n = 0;
    const t = setInterval(() => n++, 5);
    return { count: () => n, stop: () => clearInterval(t) };
  }

  test("a writer blocked by another config waits without blocking the event loop, and proceeds once the lock is free", async () => {
    const { path, db: a } = await sqlite.file("CREATE TABLE two (id INTEGER PRIMARY KEY)");
    const b = config({ poolConfig: { database: path, busyTimeoutMs: 3000 } });
    const holder = await a.provideSession();
    await holder.begin();
    await holder.execute("INSERT INTO two VALUES (1)");
    // The holder commits from a timer: only possible when the waiting writer leaves the thread free.
    const committed = new Promise<void>((resolve, reject) =>
      setTimeout(() => holder.commit().then(resolve, reject), 100),
    );
    const ticks = ticker();
    const t0 = performance.now();
    try {
      await b.withSession((s) => s.transaction((tx) => tx.execute("INSERT INTO two VALUES (2)")));
      await b.withSession((s) => s.execute("INSERT INTO two VALUES (3)"));
    } finally {
      ticks.stop();
    }
    const waited = performance.now() - t0;
    await committed;
    await holder.release();
    expect(waited).toBeGreaterThanOrEqual(90);
    expect(waited).toBeLessThan(2000);
    // (A thread held by a synchronous busy wait runs no timer until it ends: 0 ticks. Under load timers run late.)
    expect(ticks.count()).toBeGreaterThanOrEqual(2);
    expect(await a.withSession((s) => s.selectValue("SELECT count(*) FROM two"))).toBe(3);
  });

  test("it fails with SqliteBusyError after busyTimeoutMs (QueryTimeoutError after timeoutMs, OperationCancelledError on abort), the thread free meanwhile", async () => {
    const { path, db: a } = await sqlite.file("CREATE TABLE two (id INTEGER PRIMARY KEY)");
    const b = config({ poolConfig: { database: path, busyTimeoutMs: 200 } });
    const holder = await a.provideSession();
    await holder.begin();
    await holder.execute("INSERT INTO two VALUES (1)");
    try {
      await b.withSession(async (s) => {
        const ticks = ticker();
        const t0 = performance.now();
        const busy = await s.execute("INSERT INTO two VALUES (2)").catch((e) => e);
        const waited = performance.now() - t0;
        ticks.stop();
        expect(busy).toBeInstanceOf(SqliteBusyError);
        expect(busy.which).toBe("SQLITE_BUSY");
        expect(waited).toBeGreaterThanOrEqual(190);
        expect(ticks.count()).toBeGreaterThanOrEqual(2);
        const timedOut = await s.execute("INSERT INTO two VALUES (3)", undefined, { timeoutMs: 40 }).catch((e) => e);
        expect(timedOut).toBeInstanceOf(QueryTimeoutError);
        const began = await s.transaction((tx) => tx.execute("INSERT INTO two VALUES (4)"), undefined).catch((e) => e);
        expect(began).toBeInstanceOf(SqliteBusyError);
        const ac = new AbortController();
        setTimeout(() => ac.abort(), 40);
        const cancelled = await s
          .execute("INSERT INTO two VALUES (5)", undefined, { signal: ac.signal })
          .catch((e) => e);
        expect(cancelled).toBeInstanceOf(OperationCancelledError);
        expect(s.inTransaction).toBe(false);
        // Reads (WAL) never wait.
        expect(await s.selectValue("SELECT count(*) FROM two")).toBe(0);
      });
    } finally {
      await holder.rollback();
      await holder.release();
    }
    expect(await b.withSession((s) => s.execute("INSERT INTO two VALUES (6)").then((r) => r.rowsAffected))).toBe(1);
  });
});

describe("sqlite: withSession's timeoutMs and signal bound the wait for the shared :memory: connection", () => {
  test("PoolTimeoutError after timeoutMs, OperationCancelledError on abort, while another session holds a transaction", async () => {
    const db = config();
    await db.withSession((s) => s.execute("CREATE TABLE w (id INTEGER)"));
    const holder = await db.provideSession();
    await holder.begin();
    await holder.execute("INSERT INTO w VALUES (1)");
    try {
      const t0 = performance.now();
      const timedOut = await db
        .withSession((s) => s.selectValue("SELECT count(*) FROM w"), { timeoutMs: 100 })
        .catch((e) => e);
      expect(timedOut).toBeInstanceOf(PoolTimeoutError);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(90);
      expect(performance.now() - t0).toBeLessThan(1500);
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      const cancelled = await db
        .withSession((s) => s.selectValue("SELECT count(*) FROM w"), { signal: ac.signal })
        .catch((e) => e);
      expect(cancelled).toBeInstanceOf(OperationCancelledError);
      const provided = await db.provideSession({ timeoutMs: 80 });
      expect(await provided.selectValue("SELECT 1").catch((e) => e)).toBeInstanceOf(PoolTimeoutError);
      await provided.release();
    } finally {
      await holder.rollback();
      await holder.release();
    }
    // Nothing left waiting: the connection is free again.
    expect(await db.withSession((s) => s.selectValue("SELECT count(*) FROM w"), { timeoutMs: 100 })).toBe(0);
  });
});

describe("sqlite: a file database's write lock and a file locked elsewhere", () => {
  test("a writer waiting on this pool's write lock: SqliteBusyError after busyTimeoutMs; timeoutMs and signal bound the wait", async () => {
    const { db } = await sqlite.file("CREATE TABLE b (id INTEGER PRIMARY KEY)", { busyTimeoutMs: 150 });
    const writer = await db.provideSession();
    await writer.begin();
    await writer.execute("INSERT INTO b VALUES (1)");
    await db.withSession(async (s) => {
      const busy = await s.execute("INSERT INTO b VALUES (2)").catch((e) => e);
      expect(busy).toBeInstanceOf(SqliteBusyError);
      expect(busy).toBeInstanceOf(OperationalError);
      expect(busy.which).toBe("SQLITE_BUSY");
      const timedOut = await s.execute("INSERT INTO b VALUES (3)", undefined, { timeoutMs: 30 }).catch((e) => e);
      expect(timedOut).toBeInstanceOf(QueryTimeoutError);
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 30);
      const cancelled = await s.execute("INSERT INTO b VALUES (4)", undefined, { signal: ac.signal }).catch((e) => e);
      expect(cancelled).toBeInstanceOf(OperationCancelledError);
      // upsert, loadRecords and transaction() bound the same wait (their BEGIN's) with their timeoutMs / signal.
      const upsert = await s.upsert("b", [{ id: 5 }], { on: ["id"], timeoutMs: 30 }).catch((e) => e);
      expect(upsert).toBeInstanceOf(QueryTimeoutError);
      const ac2 = new AbortController();
      setTimeout(() => ac2.abort(), 30);
      const load = await s.loadRecords("b", [{ id: 6 }, { id: 7 }], { signal: ac2.signal }).catch((e) => e);
      expect(load).toBeInstanceOf(OperationCancelledError);
      const tx = await s.transaction((t) => t.execute("INSERT INTO b VALUES (8)"), { timeoutMs: 30 }).catch((e) => e);
      expect(tx).toBeInstanceOf(QueryTimeoutError);
      expect(s.inTransaction).toBe(false);
      // Reads never wait for the writer.
      expect(await s.selectValue("SELECT count(*) FROM b")).toBe(0);
    });
    await writer.commit();
    await writer.release();
    expect(await db.withSession((s) => s.selectValue("SELECT count(*) FROM b"))).toBe(1);
  });

  test("a lock held by another process is SQLITE_BUSY as SqliteBusyError, after busyTimeoutMs", async () => {
    const { path, db } = await sqlite.file("CREATE TABLE x (id INTEGER PRIMARY KEY)", { busyTimeoutMs: 100 });
    const other = new Database(path);
    other.prepare("BEGIN IMMEDIATE").run();
    try {
      const err = await db.withSession((s) => s.execute("INSERT INTO x VALUES (1)")).catch((e) => e);
      expect(err).toBeInstanceOf(SqliteBusyError);
      expect(err.which).toBe("SQLITE_BUSY");
      expect(err.cause?.code).toMatch(/^SQLITE_BUSY/);
    } finally {
      other.prepare("ROLLBACK").run();
      other.close();
    }
    expect(await db.withSession((s) => s.execute("INSERT INTO x VALUES (1)").then((r) => r.rowsAffected))).toBe(1);
  });
});

describe("sqlite: a configured journal mode", () => {
  test.each(["DELETE", "TRUNCATE", "PERSIST"])(
    "journal_mode %s is set as configured: another pooled connection opens while a session reads",
    async (mode) => {
      const { db } = await sqlite.file("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2)", {
        maxSize: 2,
        busyTimeoutMs: 300,
        pragmas: { journal_mode: mode },
      });
      await db.withSession(async (reader) => {
        const it = reader.stream("SELECT x FROM t", undefined, { batchSize: 1 })[Symbol.asyncIterator]();
        await it.next();
        // Opening the second connection switched the file to WAL and back on every open: the switch back needs the
        // file to itself, so it failed with SqliteBusyError while the stream read.
        expect(await db.withSession((s) => s.selectValue("SELECT count(*) FROM t"))).toBe(2);
        await it.return?.(undefined);
      });
      // Both connections run in the configured mode (only WAL is kept in the file; the others are per connection).
      await Promise.all(
        [1, 2].map(() =>
          db.withSession(async (s) => {
            expect(String(await s.selectValue("PRAGMA journal_mode")).toUpperCase()).toBe(mode);
          }),
        ),
      );
    },
  );
});

describe("sqlite: a session opened inside another's stream loop (:memory:)", () => {
  test("its write is refused as the outer session's own would be, naming the open stream (not a ParameterError)", async () => {
    const db = config();
    await db.withSession((s) =>
      s.executeScript("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1), (2)"),
    );
    const outcomes: string[] = [];
    await db.withSession(async (outer) => {
      for await (const _ of outer.stream("SELECT id FROM t", undefined, { batchSize: 1 })) {
        const own = await outer.execute("INSERT INTO t VALUES (10)").catch((e: Error) => e);
        const nested = await db
          .withSession((inner) => inner.execute("INSERT INTO t VALUES (11)"))
          .catch((e: Error) => e);
        // Observed before: the nested one got ParameterError "This database connection is busy executing a query".
        for (const e of [own, nested]) outcomes.push(`${(e as Error).constructor.name}: ${(e as Error).message}`);
        break;
      }
    });
    expect(outcomes[1]).toBe(outcomes[0]);
    expect(outcomes[0]).toContain("a stream() is still open");
    expect(await db.withSession((s) => s.selectValue("SELECT count(*) FROM t"))).toBe(2);
  });
});
