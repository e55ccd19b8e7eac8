/**
 * The better-sqlite3 adapter: the conformance suite on `:memory:` (one shared connection) and on a file (a pool),
 * then what is SQLite's own: the shared connection's lock, serialized writers on a file, the int8 rule, dates in
 * any process time zone, and typed busy errors.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, test } from "vitest";
import { SqliteBusyError, SqliteConfig, type SqliteConfigOptions } from "../../src/adapters/sqlite/index.js";
import { importDriver } from "../../src/driver/dependencies.js";
import {
  DataError,
  ForeignKeyViolationError,
  InvalidColumnReferenceError,
  MissingDependencyError,
  OperationalError,
  OperationCancelledError,
  ParameterError,
  PoolTimeoutError,
  QueryTimeoutError,
  SQLParsingError,
  sql,
  TransactionError,
} from "../../src/index.js";
import { runConformance } from "../conformance/suite.js";

const dir = mkdtempSync(join(tmpdir(), "sqlspec-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

runConformance("sqlite", () => new SqliteConfig({ poolConfig: { database: ":memory:" } }));
runConformance("sqlite_file", () => new SqliteConfig({ poolConfig: { database: join(dir, "conformance.db") } }));

const opened: SqliteConfig[] = [];
afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()));
});
function config(o: SqliteConfigOptions = {}): SqliteConfig {
  const c = new SqliteConfig(o);
  opened.push(c);
  return c;
}
let files = 0;
const file = (): string => join(dir, `t${++files}.db`);
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

describe("sqlite: a file database", () => {
  test("defaults to WAL and foreign keys; two concurrent writers are serialized, never SQLITE_BUSY", async () => {
    const db = config({ poolConfig: { database: file() } });
    await db.withSession(async (s) => {
      expect(await s.selectValue("PRAGMA journal_mode")).toBe("wal");
      expect(await s.selectValue("PRAGMA foreign_keys")).toBe(1);
      await s.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER)");
      await s.execute("INSERT INTO c VALUES (1, 0)");
    });
    // Each writer reads, yields to the other, then writes: with BEGIN DEFERRED on two handles this is the classic
    // lock-upgrade deadlock (SQLITE_BUSY); BEGIN IMMEDIATE behind the write lock serializes them.
    const bump = () =>
      db.withSession((s) =>
        s.transaction(async (tx) => {
          const n = await tx.selectValue<number>("SELECT n FROM c WHERE id = 1");
          await later(10);
          await tx.execute("UPDATE c SET n = ? WHERE id = 1", [n + 1]);
        }),
      );
    await Promise.all(Array.from({ length: 6 }, bump));
    expect(await db.withSession((s) => s.selectValue("SELECT n FROM c WHERE id = 1"))).toBe(6);
  });

  test("readers run while a writer holds its transaction open, and see only committed data", async () => {
    const db = config({ poolConfig: { database: file() } });
    await db.withSession((s) => s.executeScript("CREATE TABLE v (id INTEGER PRIMARY KEY); INSERT INTO v VALUES (1)"));
    const writer = await db.provideSession();
    await writer.begin();
    await writer.execute("INSERT INTO v VALUES (2)");
    expect(await db.withSession((s) => s.selectValue("SELECT count(*) FROM v"))).toBe(1);
    await writer.commit();
    expect(await db.withSession((s) => s.selectValue("SELECT count(*) FROM v"))).toBe(2);
    await writer.release();
  });

  test("a writer waiting on this pool's write lock: SqliteBusyError after busyTimeoutMs; timeoutMs and signal bound the wait", async () => {
    const db = config({ poolConfig: { database: file(), busyTimeoutMs: 150 } });
    await db.withSession((s) => s.execute("CREATE TABLE b (id INTEGER PRIMARY KEY)"));
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
    const path = file();
    const db = config({ poolConfig: { database: path, busyTimeoutMs: 100 } });
    await db.withSession((s) => s.execute("CREATE TABLE x (id INTEGER PRIMARY KEY)"));
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

  test("a changed PRAGMA does not leak to the next session (the connection is closed)", async () => {
    const db = config({ poolConfig: { database: file(), maxSize: 1 } });
    await db.withSession((s) => s.execute("PRAGMA foreign_keys = OFF"));
    expect(await db.withSession((s) => s.selectValue("PRAGMA foreign_keys"))).toBe(1);
  });

  test("pragmas from poolConfig apply to every connection; bad pragma names are refused", async () => {
    const db = config({ poolConfig: { database: file(), pragmas: { synchronous: "NORMAL", cache_size: -4000 } } });
    expect(await db.withSession((s) => s.selectValue("PRAGMA synchronous"))).toBe(1);
    expect(await db.withSession((s) => s.selectValue("PRAGMA cache_size"))).toBe(-4000);
    const bad = config({ poolConfig: { database: file(), pragmas: { "x; DROP TABLE t": 1 } } });
    await expect(bad.withSession((s) => s.selectValue("SELECT 1"))).rejects.toThrow(/invalid pragma name/);
  });
});

describe("sqlite: values", () => {
  test("INTEGER follows driverFeatures.int8; a REAL beyond 2^53 stays a number", async () => {
    const setup =
      "CREATE TABLE n (id INTEGER PRIMARY KEY, big INTEGER, r REAL); INSERT INTO n VALUES (1, 9007199254740993, 1e20)";
    const num = config();
    await num.withSession(async (s) => {
      await s.executeScript(setup);
      await expect(s.selectValue("SELECT big FROM n")).rejects.toBeInstanceOf(DataError);
      await expect(s.selectValue("SELECT big + 0 FROM n")).rejects.toBeInstanceOf(DataError);
      expect(await s.selectValue("SELECT r FROM n")).toBe(1e20);
      expect(await s.selectValue("SELECT r * 1 FROM n")).toBe(1e20);
      // RETURNING is read with safe integers (it cannot be re-run).
      await expect(s.execute("UPDATE n SET big = big RETURNING big")).rejects.toBeInstanceOf(DataError);
    });
    const big = config({ driverFeatures: { int8: "bigint" } });
    await big.withSession(async (s) => {
      await s.executeScript(setup);
      expect(await s.selectOne("SELECT id, big, r FROM n")).toEqual({ id: 1n, big: 9007199254740993n, r: 1e20 });
      const ins = await s.execute("INSERT INTO n (big) VALUES (?)", [-9223372036854775808n]);
      expect(ins.lastInsertId).toBe(2n);
      expect(await s.selectValue("SELECT big FROM n WHERE id = 2")).toBe(-9223372036854775808n);
    });
    const str = config({ driverFeatures: { int8: "string" } });
    await str.withSession(async (s) => {
      await s.executeScript(setup);
      expect(await s.selectOne("SELECT id, big FROM n")).toEqual({ id: "1", big: "9007199254740993" });
      const [rows] = await Promise.all([s.select("SELECT big FROM n")]);
      expect(rows).toEqual([{ big: "9007199254740993" }]);
    });
  });

  test("lastInsertId and rowsAffected come from the engine; an UPDATE reports no stale rowid", async () => {
    await config().withSession(async (s) => {
      await s.execute("CREATE TABLE ids (id INTEGER PRIMARY KEY, v TEXT)");
      const a = await s.execute("INSERT INTO ids (v) VALUES (?), (?)", ["a", "b"]);
      expect(a.rowsAffected).toBe(2);
      expect(a.lastInsertId).toBe(2);
      const u = await s.execute("UPDATE ids SET v = 'c'");
      expect(u.rowsAffected).toBe(2);
      expect(u.lastInsertId).toBeUndefined();
      const d = await s.execute("DELETE FROM ids WHERE id = 1 RETURNING v");
      expect(d.rowsAffected).toBe(1);
      expect(d.data).toEqual([{ v: "c" }]);
    });
  });

  test("Dates are stored as UTC text and read back exactly whatever the process time zone", async () => {
    const tz = process.env.TZ;
    process.env.TZ = "Asia/Tokyo";
    try {
      await config().withSession(async (s) => {
        await s.execute("CREATE TABLE d (id INTEGER PRIMARY KEY, at DATETIME, day DATE)");
        const at = new Date("2024-03-01T00:30:00.250Z");
        await s.execute("INSERT INTO d VALUES (1, ?, '2024-03-01')", [at]);
        expect(await s.selectValue("SELECT CAST(at AS TEXT) FROM d")).toBe("2024-03-01 00:30:00.250");
        expect(await s.selectValue("SELECT datetime(at) FROM d")).toBe("2024-03-01 00:30:00");
        const row = await s.selectOne<{ at: Date; day: Date }>("SELECT at, day FROM d");
        expect(row.at.getTime()).toBe(at.getTime());
        expect(row.day.toISOString()).toBe("2024-03-01T00:00:00.000Z");
        await s.execute("INSERT INTO d VALUES (2, '2024-03-01T09:30:00+09:00', 'not a date')");
        const r2 = await s.selectOne<{ at: Date; day: unknown }>("SELECT at, day FROM d WHERE id = 2");
        expect(r2.at.toISOString()).toBe("2024-03-01T00:30:00.000Z");
        expect(r2.day).toBe("not a date");
      });
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  test("builders render for SQLite and run: booleans as 1/0, ON CONFLICT upsert", async () => {
    await config().withSession(async (s) => {
      await s.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT, on_ BOOLEAN)");
      await s.execute(sql.insertInto("kv").values([{ k: "a", v: "1", on_: true }]));
      await s.execute(
        sql
          .upsert("kv", { dialect: "sqlite" })
          .values([{ k: "a", v: "2", on_: false }])
          .onConflict("k")
          .doUpdate(["v", "on_"]),
      );
      expect(await s.selectOne("SELECT v, on_ FROM kv")).toEqual({ v: "2", on_: false });
    });
  });

  test("upsert after DDL run behind sqlspec's back (another connection): a new column is written, the current unique keys decide", async () => {
    const path = file();
    const db = config({ poolConfig: { database: path } });
    const other = new Database(path);
    try {
      other.exec("CREATE TABLE up (id INTEGER PRIMARY KEY, name TEXT)");
      await db.withSession(async (s) => {
        // The pool caches the table's columns and unique keys.
        await s.upsert("up", [{ id: 1, name: "a" }], { on: ["id"] });
        other.exec("ALTER TABLE up ADD COLUMN note TEXT");
        await s.upsert("up", [{ id: 1, name: "b", note: "n" }], { on: ["id"] });
        expect(await s.select("SELECT id, name, note FROM up")).toEqual([{ id: 1, name: "b", note: "n" }]);
        // Cached again: (id) is the unique key.
        await s.upsert("up", [{ id: 1, name: "c", note: "n" }], { on: ["id"] });

        other.exec(
          "DROP TABLE up; CREATE TABLE up (id INTEGER NOT NULL, code TEXT NOT NULL UNIQUE, name TEXT); " +
            "INSERT INTO up VALUES (1, 'x', 'a')",
        );
        for (const n of [1, 500]) {
          const rows = Array.from({ length: n }, (_, i) => ({ id: i + 1, code: `y${i}`, name: "b" }));
          const err = (await s.upsert("up", rows, { on: ["id"] }).catch((e) => e)) as Error;
          expect(err).toBeInstanceOf(InvalidColumnReferenceError);
          expect(err.message).toContain("on (id) is not a unique key");
          expect(err.message).toContain("(code)");
          expect(await s.select("SELECT id, code, name FROM up")).toEqual([{ id: 1, code: "x", name: "a" }]);
        }
        // Inside the caller's transaction: only the upsert's own work is undone.
        await s.transaction(async () => {
          await s.execute("INSERT INTO up VALUES (2, 'z', 'kept')");
          const err = await s.upsert("up", [{ id: 1, code: "w", name: "b" }], { on: ["id"] }).catch((e) => e);
          expect(err).toBeInstanceOf(InvalidColumnReferenceError);
        });
        await s.upsert("up", [{ id: 3, code: "x", name: "c" }], { on: ["code"] });
        expect(await s.select("SELECT id, code, name FROM up ORDER BY id")).toEqual([
          { id: 2, code: "z", name: "kept" },
          { id: 3, code: "x", name: "c" },
        ]);
      });
    } finally {
      other.close();
    }
  });

  test("upsert rows in any key order, with values that need encoding in some chunks only, land as single inserts do", async () => {
    const db = config({ poolConfig: { database: ":memory:" } });
    await db.withSession(async (s) => {
      await s.execute("CREATE TABLE mix (id INTEGER PRIMARY KEY, flag INTEGER, at TEXT, note TEXT, data BLOB)");
      // 450 rows = chunks of 200, 200, 50: plain values only, a boolean / Date / undefined / Buffer in the second,
      // and rows listing their keys in another order in the third.
      const rows = Array.from({ length: 450 }, (_, i) => {
        if (i >= 400) return { note: `n${i}`, data: null, at: "t", flag: i, id: i };
        if (i === 250) return { id: i, flag: true, at: new Date(Date.UTC(2024, 0, 2)), note: undefined, data: null };
        if (i === 260) return { id: i, flag: 1, at: "t", note: "b", data: Buffer.from([1, 2]) };
        return { id: i, flag: i, at: "t", note: `n${i}`, data: null };
      });
      const r = await s.upsert("mix", rows, { on: ["id"] });
      expect(r.rowsAffected).toBe(450);
      const got = await s.select<{ id: number; flag: number; at: string; note: string | null; data: Buffer | null }>(
        "SELECT id, flag, at, note, data FROM mix ORDER BY id",
      );
      expect(got).toHaveLength(450);
      expect(got[0]).toEqual({ id: 0, flag: 0, at: "t", note: "n0", data: null });
      expect(got[250]).toEqual({ id: 250, flag: 1, at: "2024-01-02 00:00:00.000", note: null, data: null });
      expect(got[260]?.data).toEqual(Buffer.from([1, 2]));
      expect(got[449]).toEqual({ id: 449, flag: 449, at: "t", note: "n449", data: null });
      // A bad value anywhere is a ParameterError naming its column and row, and nothing is written.
      const bad = rows.map((row, i) => (i === 420 ? { ...row, note: Symbol("x") } : { ...row, flag: -1 }));
      const err = (await s.upsert("mix", bad, { on: ["id"] }).catch((e) => e)) as Error;
      expect(err).toBeInstanceOf(ParameterError);
      expect(err.message).toContain('column "note" of row 420');
      expect(await s.selectValue("SELECT count(*) FROM mix WHERE flag = -1")).toBe(0);
    });
  });

  test("syntax errors are SQLParsingError; a failed transaction is never silently committed", async () => {
    await config().withSession(async (s) => {
      await expect(s.execute("SELECT FROM")).rejects.toBeInstanceOf(SQLParsingError);
      await expect(s.execute("SELECT * FROM missing_table")).rejects.toBeInstanceOf(SQLParsingError);
      await expect(s.commit()).rejects.toBeInstanceOf(TransactionError);
    });
  });
});

test("a missing better-sqlite3 raises MissingDependencyError naming it", async () => {
  const err = await importDriver(
    "better-sqlite3",
    "SqliteConfig",
    () => import(/* @vite-ignore */ `better-sqlite3-not-installed${""}`),
  ).catch((e) => e);
  expect(err).toBeInstanceOf(MissingDependencyError);
  expect(err.message).toContain("npm install better-sqlite3");
});

test("transaction options: any isolation level runs (SQLite is serializable); readOnly takes no write lock", async () => {
  const db = config({ poolConfig: { database: file(), busyTimeoutMs: 100 } });
  await db.withSession((s) => s.execute("CREATE TABLE iso (id INTEGER PRIMARY KEY)"));
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
    const path = file();
    const a = config({ poolConfig: { database: path } });
    const b = config({ poolConfig: { database: path, busyTimeoutMs: 3000 } });
    await a.withSession((s) => s.execute("CREATE TABLE two (id INTEGER PRIMARY KEY)"));
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
    const path = file();
    const a = config({ poolConfig: { database: path } });
    const b = config({ poolConfig: { database: path, busyTimeoutMs: 200 } });
    await a.withSession((s) => s.execute("CREATE TABLE two (id INTEGER PRIMARY KEY)"));
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

test("a readOnly transaction leaves a configured query_only as it found it, and is no setting change", async () => {
  const path = file();
  await config({ poolConfig: { database: path } }).withSession((s) => s.execute("CREATE TABLE qo (id INTEGER)"));
  const ro = config({ poolConfig: { database: path, pragmas: { query_only: true }, maxSize: 1 } });
  await ro.withSession(async (s) => {
    await s.transaction((tx) => tx.selectValue("SELECT count(*) FROM qo"), { readOnly: true });
    expect(await s.selectValue("PRAGMA query_only")).toBe(1);
    await expect(s.execute("INSERT INTO qo VALUES (1)")).rejects.toThrow(/read-only|readonly/);
  });
  const rw = config({ poolConfig: { database: path, maxSize: 1 } });
  const handles = new Set<unknown>();
  for (let i = 0; i < 2; i++) {
    await rw.withSession(async (s) => {
      handles.add((s.conn as { handle: unknown }).handle);
      await s.transaction((tx) => tx.selectValue("SELECT count(*) FROM qo"), { readOnly: true });
      expect(s.adapter.state(s.conn).settingsChanged).toBe(false);
      await s.execute("INSERT INTO qo VALUES (1)");
    });
  }
  // The connection was reused, not closed as one whose settings changed.
  expect(handles.size).toBe(1);
});

describe("sqlite: a failed COMMIT ends the transaction", () => {
  test.each([
    [":memory:", ":memory:"],
    ["a file", "file"],
  ])(
    "%s: a COMMIT refused by a deferred foreign key rolls back; the session is idle and the next statement autocommits",
    async (_, kind) => {
      const db = config({ poolConfig: { database: kind === "file" ? file() : ":memory:", acquireTimeoutMs: 500 } });
      await db.withSession((s) =>
        s.executeScript(
          "CREATE TABLE p (id INTEGER PRIMARY KEY); " +
            "CREATE TABLE c (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED); " +
            "CREATE TABLE other (id INTEGER)",
        ),
      );
      await db.withSession(async (s) => {
        await s.begin();
        await s.execute("INSERT INTO c VALUES (1, 99)");
        const err = await s.commit().catch((e) => e);
        expect(err).toBeInstanceOf(ForeignKeyViolationError);
        expect(s.inTransaction).toBe(false);
        expect(s.adapter.state(s.conn).transaction).toBe("idle");
        // Another session is not kept waiting by a transaction that no longer exists.
        expect(await db.withSession((o) => o.selectValue("SELECT count(*) FROM c"))).toBe(0);
        expect((await s.execute("INSERT INTO other VALUES (1)")).rowsAffected).toBe(1);
      });
      expect(await db.withSession((s) => s.selectValue("SELECT count(*) FROM other"))).toBe(1);
      expect(await db.withSession((s) => s.selectValue("SELECT count(*) FROM c"))).toBe(0);
    },
  );
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

describe("sqlite: values SQLite cannot store faithfully raise ParameterError before any I/O", () => {
  test.each([
    ["a string with a lone surrogate", "a\uD800b", "v TEXT"],
    ["NaN", Number.NaN, "v REAL"],
  ])("%s: execute, upsert and loadRecords write nothing and name the parameter or column", async (_, bad, col) => {
    const db = config();
    await db.withSession(async (s) => {
      await s.execute(`CREATE TABLE bv (id INTEGER PRIMARY KEY, ${col}, k INTEGER NOT NULL DEFAULT 0)`);
      const exec = await s.execute("INSERT INTO bv (id, v) VALUES (?, ?)", [1, bad]).catch((e) => e);
      expect(exec).toBeInstanceOf(ParameterError);
      expect(exec.message).toContain("Parameter 2");
      for (const run of [
        () =>
          s.upsert(
            "bv",
            [
              { id: 2, v: 1 },
              { id: 3, v: bad },
            ],
            { on: ["id"] },
          ),
        () =>
          s.loadRecords("bv", [
            { id: 4, v: 1 },
            { id: 5, v: bad },
          ]),
      ]) {
        const err = await run().catch((e) => e);
        expect(err).toBeInstanceOf(ParameterError);
        expect(err.message).toMatch(/"v"|Parameter \d+/);
      }
      expect(await s.selectValue("SELECT count(*) FROM bv")).toBe(0);
    });
  });

  test("±Infinity is stored as REAL infinity and read back", async () => {
    const db = config();
    await db.withSession(async (s) => {
      await s.execute("CREATE TABLE inf (id INTEGER PRIMARY KEY, v REAL)");
      await s.execute("INSERT INTO inf VALUES (1, ?)", [Number.POSITIVE_INFINITY]);
      await s.upsert("inf", [{ id: 2, v: Number.NEGATIVE_INFINITY }], { on: ["id"] });
      await s.loadRecords("inf", [{ id: 3, v: Number.POSITIVE_INFINITY }]);
      expect((await s.select("SELECT v FROM inf ORDER BY id")).map((r) => r.v)).toEqual([
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        Number.POSITIVE_INFINITY,
      ]);
    });
  });
});

describe("sqlite: loadRecords from an async iterable", () => {
  test("rows are inserted in slices inside one transaction; a bad row late in the source writes nothing", async () => {
    const db = config();
    await db.withSession(async (s) => {
      await s.execute("CREATE TABLE ai (id INTEGER PRIMARY KEY, v TEXT)");
      async function* source(n: number, bad?: number) {
        for (let i = 0; i < n; i++) yield { id: i, v: i === bad ? Number.NaN : `r${i}` };
      }
      const r = await s.loadRecords("ai", source(2500));
      expect(r.rowsAffected).toBe(2500);
      expect(await s.selectValue("SELECT count(*) FROM ai")).toBe(2500);
      await s.execute("DELETE FROM ai");
      const err = await s.loadRecords("ai", source(2500, 2400)).catch((e) => e);
      expect(err).toBeInstanceOf(ParameterError);
      expect(await s.selectValue("SELECT count(*) FROM ai")).toBe(0);
      expect(s.inTransaction).toBe(false);
    });
  });
});
