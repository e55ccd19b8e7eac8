/**
 * A SQLite session's end and its statement order, on a real file database: a statement retrying on a file locked by
 * another connection is cancelled when its session ends (it never runs later, the connection is reused in a known
 * state), and stream() opens in the order the session issued it, after statements still waiting.
 */
import Database from "better-sqlite3";
import { describe, expect, test } from "vitest";
import { OperationCancelledError } from "../../src/index.js";
import { sqliteConfigs } from "../support/sqlite-file.js";

const sqlite = sqliteConfigs("sqlspec-sqlite-lifecycle-");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("sqlite: a busy retry when the session ends", () => {
  test("release cancels it at once: the statement rejects with OperationCancelledError and never runs later", async () => {
    const { path, db } = await sqlite.file("CREATE TABLE t (id INTEGER PRIMARY KEY)", {
      busyTimeoutMs: 3000,
      maxSize: 1,
    });
    const other = new Database(path);
    try {
      other.prepare("BEGIN IMMEDIATE").run();
      let abandoned: Promise<unknown> = Promise.resolve();
      const t0 = performance.now();
      await db.withSession(async (s) => {
        // Finds the file locked by `other` and retries on timers; the callback returns without awaiting it.
        abandoned = s.execute("INSERT INTO t VALUES (1)");
        abandoned.catch(() => {});
        await sleep(30);
      });
      const ended = performance.now() - t0;
      const err = await abandoned.catch((e) => e);
      expect(err).toBeInstanceOf(OperationCancelledError);
      // Ended with the session, not after the retry's busyTimeoutMs (or the 5 s drain).
      expect(ended).toBeLessThan(1000);
      // The lock frees now: a retry still pending would run the INSERT after its session ended.
      other.prepare("ROLLBACK").run();
      await sleep(100);
      const after = await db.withSession(async (s) => {
        const inTx = s.inTransaction;
        await s.execute("INSERT INTO t VALUES (2)");
        return { inTx, ids: await s.select<{ id: number }>("SELECT id FROM t ORDER BY id") };
      });
      expect(after.inTx).toBe(false);
      expect(after.ids).toEqual([{ id: 2 }]);
    } finally {
      if (other.inTransaction) other.prepare("ROLLBACK").run();
      other.close();
    }
  });

  test("inside a transaction: the retry is cancelled and release rolls the transaction back", async () => {
    const { path, db } = await sqlite.file("CREATE TABLE t (id INTEGER PRIMARY KEY); CREATE TABLE u (id INTEGER)", {
      busyTimeoutMs: 3000,
      maxSize: 1,
    });
    const other = new Database(path);
    try {
      let abandoned: Promise<unknown> = Promise.resolve();
      const t0 = performance.now();
      await db.withSession(async (s) => {
        // A deferred read transaction: its write below needs the file's write lock, which `other` takes first.
        await s.execute("BEGIN DEFERRED");
        await s.select("SELECT * FROM u");
        other.prepare("BEGIN IMMEDIATE").run();
        abandoned = s.execute("INSERT INTO t VALUES (1)");
        abandoned.catch(() => {});
        await sleep(30);
      });
      const ended = performance.now() - t0;
      expect(await abandoned.catch((e) => e)).toBeInstanceOf(OperationCancelledError);
      expect(ended).toBeLessThan(1000);
      other.prepare("INSERT INTO u VALUES (7)").run();
      other.prepare("COMMIT").run();
      await sleep(100);
      const seen = await db.withSession(async (s) => ({
        inTx: s.inTransaction,
        t: await s.selectValue("SELECT count(*) FROM t"),
        u: await s.selectValue("SELECT count(*) FROM u"),
      }));
      expect(seen).toEqual({ inTx: false, t: 0, u: 1 });
    } finally {
      if (other.inTransaction) other.prepare("ROLLBACK").run();
      other.close();
    }
  });
});

describe("sqlite: stream() follows the session's statement order", () => {
  test("a stream opened while the session's INSERT waits for the write lock reads after the INSERT", async () => {
    const { db } = await sqlite.file("CREATE TABLE t (id INTEGER PRIMARY KEY)", { maxSize: 2 });
    let free = (): void => {};
    const holder = db.withSession(async (s) => {
      await s.execute("BEGIN");
      await s.execute("INSERT INTO t VALUES (1)");
      await new Promise<void>((resolve) => {
        free = resolve;
      });
      await s.execute("COMMIT");
    });
    await sleep(20);
    setTimeout(() => free(), 50);
    const seen = await db.withSession(async (s) => {
      // Issued first, waits for the holder's write lock; the stream is issued after it and must not overtake it.
      const insert = s.execute("INSERT INTO t VALUES (2)");
      const ids: unknown[] = [];
      for await (const row of s.stream<{ id: number }>("SELECT id FROM t ORDER BY id")) ids.push(row.id);
      await insert;
      return ids;
    });
    await holder;
    expect(seen).toEqual([1, 2]);
  });

  test("a stream opened while the session's INSERT retries on a file locked elsewhere reads after the INSERT", async () => {
    const { path, db } = await sqlite.file("CREATE TABLE t (id INTEGER PRIMARY KEY)", { busyTimeoutMs: 3000 });
    const other = new Database(path);
    try {
      other.prepare("BEGIN IMMEDIATE").run();
      other.prepare("INSERT INTO t VALUES (1)").run();
      setTimeout(() => other.prepare("COMMIT").run(), 50);
      const seen = await db.withSession(async (s) => {
        const insert = s.execute("INSERT INTO t VALUES (2)");
        const ids: unknown[] = [];
        for await (const row of s.stream<{ id: number }>("SELECT id FROM t ORDER BY id")) ids.push(row.id);
        await insert;
        return ids;
      });
      expect(seen).toEqual([1, 2]);
    } finally {
      if (other.inTransaction) other.prepare("ROLLBACK").run();
      other.close();
    }
  });

  test("a statement issued while the stream waits for its turn runs after the stream opened", async () => {
    const { path, db } = await sqlite.file("CREATE TABLE t (id INTEGER PRIMARY KEY)", { busyTimeoutMs: 3000 });
    const other = new Database(path);
    try {
      other.prepare("BEGIN IMMEDIATE").run();
      setTimeout(() => other.prepare("COMMIT").run(), 50);
      const got = await db.withSession(async (s) => {
        const insert = s.execute("INSERT INTO t VALUES (2)");
        const it = s.stream<{ id: number }>("SELECT id FROM t ORDER BY id")[Symbol.asyncIterator]();
        const first = it.next();
        // A read issued after the stream: it runs once the stream has opened (its snapshot holds the INSERT too).
        const count = s.selectValue("SELECT count(*) FROM t");
        const rows: unknown[] = [];
        for (let r = await first; !r.done; r = await it.next()) rows.push(r.value.id);
        await insert;
        return { rows, count: await count };
      });
      expect(got).toEqual({ rows: [2], count: 1 });
    } finally {
      if (other.inTransaction) other.prepare("ROLLBACK").run();
      other.close();
    }
  });
});
