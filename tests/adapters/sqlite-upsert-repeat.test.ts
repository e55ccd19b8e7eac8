/**
 * SQLite: the repeat of an upsert (same table, row columns and options) runs its statements as one transaction in a
 * single call (upsert-fast.ts), on what the first call derived from the catalog. It must be the same upsert: the same
 * rows written and result, the same errors before anything is written, nothing written when a statement fails, and
 * the general path again whenever the catalog changed, the session is not idle, or the rows need the catalog's key
 * rules.
 */
import Database from "better-sqlite3";
import { describe, expect, test } from "vitest";
import {
  CardinalityViolationError,
  NotNullViolationError,
  ParameterError,
  type Session,
  SQLBuilderError,
  SQLParsingError,
} from "../../src/index.js";
import { sqliteConfigs } from "../support/sqlite-file.js";
import { spyAtomic } from "./upsert-repeat/compare.js";

const sqlite = sqliteConfigs("sqlspec-upsert-repeat-");
const TABLE = "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER)";

type AnySession = Session<any>;

const rows = (from: number, n: number, name = "n") =>
  Array.from({ length: n }, (_, i) => ({ id: from + i, name: `${name}${from + i}`, qty: i }));

async function all(s: AnySession): Promise<unknown[]> {
  return s.select("SELECT id, name, qty FROM t ORDER BY id");
}

describe("sqlite: a repeated upsert", () => {
  test("runs as one call to the engine, with the first call's result shape and the same rows written", async () => {
    const { db } = await sqlite.file(TABLE, { maxSize: 1 });
    await db.withSession(async (s) => {
      const spy = spyAtomic(s);
      try {
        const first = await s.upsert("t", rows(1, 450), { on: ["id"] });
        expect(spy.calls).toEqual([]);
        const second = await s.upsert("t", rows(401, 450, "m"), { on: ["id"] });
        // 450 rows in 64-row statements: one call that ran them all.
        expect(spy.calls).toEqual([450]);
        expect(second.rowsAffected).toBe(450);
        expect(second.metadata).toEqual(first.metadata);
        expect(second.operationType).toBe(first.operationType);
        expect(second.statement).toContain('ON CONFLICT ("id") DO UPDATE SET');
        const got = (await all(s)) as { id: number; name: string }[];
        expect(got).toHaveLength(850);
        expect(got[399]).toEqual({ id: 400, name: "n400", qty: 399 });
        expect(got[400]).toEqual({ id: 401, name: "m401", qty: 0 });
        expect(s.inTransaction).toBe(false);
      } finally {
        spy.restore();
      }
    });
  });

  test("bad rows raise the general path's errors before anything is written", async () => {
    const { db } = await sqlite.file(TABLE, { maxSize: 1 });
    await db.withSession(async (s) => {
      await s.upsert("t", rows(1, 3), { on: ["id"] });
      const spy = spyAtomic(s);
      try {
        const dup = await s
          .upsert("t", [...rows(10, 3), { id: 11, name: "again", qty: 1 }], { on: ["id"] })
          .catch((e) => e);
        expect(dup).toBeInstanceOf(CardinalityViolationError);
        const nan = await s.upsert("t", [{ id: 20, name: "x", qty: Number.NaN }], { on: ["id"] }).catch((e) => e);
        expect(nan).toBeInstanceOf(ParameterError);
        expect((nan as Error).message).toContain('column "qty" of row 0');
        const lone = await s.upsert("t", [{ id: 21, name: "\ud800", qty: 1 }], { on: ["id"] }).catch((e) => e);
        expect(lone).toBeInstanceOf(ParameterError);
        const keys = await s
          .upsert("t", [{ id: 22, name: "a", qty: 1 }, { id: 23, nmae: "typo", qty: 1 } as never], { on: ["id"] })
          .catch((e) => e);
        expect(keys).toBeInstanceOf(SQLBuilderError);
        expect((keys as Error).message).toContain("Row 1 has different keys");
        const nullKey = await s.upsert("t", [{ id: null, name: "a", qty: 1 } as never], { on: ["id"] }).catch((e) => e);
        expect(nullKey).toBeInstanceOf(NotNullViolationError);
        // None of them reached the engine.
        expect(spy.calls).toEqual([]);
      } finally {
        spy.restore();
      }
      expect((await all(s)).length).toBe(3);
    });
  });

  test("a statement that fails is rolled back whole, with its typed error; the session goes on", async () => {
    const { db } = await sqlite.file(TABLE, { maxSize: 1 });
    await db.withSession(async (s) => {
      await s.upsert("t", rows(1, 3), { on: ["id"] });
      const spy = spyAtomic(s);
      try {
        // Row 350 breaks NOT NULL in the sixth statement: the first five (rows 0–319) must not stay written.
        const bad = rows(100, 400).map((r, i) => (i === 350 ? { ...r, name: null as unknown as string } : r));
        const err = await s.upsert("t", bad, { on: ["id"] }).catch((e) => e);
        expect(spy.calls).toEqual(["failed"]);
        expect(err).toBeInstanceOf(NotNullViolationError);
        expect((err as Error).message).not.toContain("n449");
        expect(s.inTransaction).toBe(false);
        expect((await all(s)).length).toBe(3);
        // The next one runs (and commits) on the same connection.
        await s.upsert("t", rows(4, 2), { on: ["id"] });
        expect(spy.calls).toEqual(["failed", 2]);
      } finally {
        spy.restore();
      }
      expect((await all(s)).length).toBe(5);
    });
  });

  test("inside a transaction it is the general path (a savepoint the outer rollback undoes)", async () => {
    const { db } = await sqlite.file(TABLE, { maxSize: 1 });
    await db.withSession(async (s) => {
      await s.upsert("t", rows(1, 3), { on: ["id"] });
      const spy = spyAtomic(s);
      try {
        await s
          .transaction(async (tx) => {
            await tx.upsert("t", rows(10, 3), { on: ["id"] });
            throw new Error("undo");
          })
          .catch(() => undefined);
        expect(spy.calls).toEqual([]);
      } finally {
        spy.restore();
      }
      expect((await all(s)).length).toBe(3);
    });
  });

  test("after DDL through the config, and after DDL by another connection, the plan is not used", async () => {
    const { db, path } = await sqlite.file(TABLE, { maxSize: 1 });
    await db.withSession((s) => s.upsert("t", rows(1, 3), { on: ["id"] }));
    // Another connection rebuilds t with a different key: the upsert's ON CONFLICT (id) is no key any more.
    const other = new Database(path);
    other.exec(
      "CREATE TABLE t2 (id INTEGER, name TEXT NOT NULL, qty INTEGER, UNIQUE (name)); DROP TABLE t; ALTER TABLE t2 RENAME TO t",
    );
    other.close();
    await new Promise((r) => setTimeout(r, 5));
    const err = await db
      .withSession(async (s) => {
        const spy = spyAtomic(s);
        try {
          return await s.upsert("t", rows(1, 3), { on: ["id"] });
        } finally {
          // The schema cookie moved: the repeat saw it inside its transaction and wrote nothing (undefined), so the
          // general path ran (and refused the key).
          expect(spy.calls).toEqual([undefined]);
          spy.restore();
        }
      })
      .catch((e) => e);
    // What a config that never ran it (the general path, reading the catalog afresh) raises.
    const fresh = sqlite.config({ poolConfig: { database: path } });
    const expected = await fresh.withSession((s) => s.upsert("t", rows(1, 3), { on: ["id"] })).catch((e) => e);
    expect(expected).toBeInstanceOf(Error);
    expect((err as Error).constructor).toBe((expected as Error).constructor);
    expect((err as Error).message).toBe((expected as Error).message);
    expect((err as Error).message).toContain("unique key");
    // Through the config: a column dropped; the repeat must see the new catalog (an error naming the column).
    await db.withSession(async (s) => {
      await s.execute("DROP TABLE t");
      await s.execute(TABLE);
      await s.upsert("t", rows(1, 3), { on: ["id"] });
      await s.upsert("t", rows(1, 3), { on: ["id"] });
      await s.execute("ALTER TABLE t DROP COLUMN qty");
      const gone = await s.upsert("t", rows(1, 3), { on: ["id"] }).catch((e) => e);
      expect(gone).toBeInstanceOf(SQLBuilderError);
      expect((gone as Error).message).toContain('"qty"');
    });
  });

  test("DDL by another connection just before the repeat (no pause) is seen: the plan is checked inside its transaction", async () => {
    const { db, path } = await sqlite.file("CREATE TABLE j (id INTEGER PRIMARY KEY, doc TEXT)", { maxSize: 1 });
    const other = new Database(path);
    try {
      await db.withSession(async (s) => {
        await s.upsert("j", [{ id: 1, doc: "plain" }], { on: ["id"] });
        await s.upsert("j", [{ id: 1, doc: "plain" }], { on: ["id"] });
        // Rebuilt by another connection at once (well within the cookie's re-read interval): doc is now JSON, so the
        // string must be JSON text, as a config that never ran the upsert reads the catalog.
        other.exec("DROP TABLE j; CREATE TABLE j (id INTEGER PRIMARY KEY, doc JSON)");
        const err = await s.upsert("j", [{ id: 2, doc: "not json" }], { on: ["id"] }).catch((e) => e);
        expect(err).toBeInstanceOf(ParameterError);
        expect((err as Error).message).toContain('column "doc" of row 0');
        expect(await s.select("SELECT id FROM j")).toEqual([]);
      });
    } finally {
      other.close();
    }
  });

  test("the general path, too, reads the catalog as it is now: DDL by another connection just before is seen", async () => {
    const { db, path } = await sqlite.file("CREATE TABLE j (id INTEGER PRIMARY KEY, doc TEXT)", { maxSize: 1 });
    const other = new Database(path);
    try {
      await db.withSession(async (s) => {
        // The column types are cached by this upsert; the next one (other options: no plan to repeat) reads the cache.
        await s.upsert("j", [{ id: 1, doc: "plain" }], { on: ["id"], update: ["doc"] });
        other.exec("DROP TABLE j; CREATE TABLE j (id INTEGER PRIMARY KEY, doc JSON)");
        const err = await s.upsert("j", [{ id: 2, doc: "not json" }], { on: ["id"] }).catch((e) => e);
        expect(err).toBeInstanceOf(ParameterError);
        expect((err as Error).message).toContain('column "doc" of row 0');
        const load = await s.loadRecords("j", [{ id: 3, doc: "not json" }]).catch((e) => e);
        expect(load).toBeInstanceOf(ParameterError);
        expect(await s.select("SELECT id FROM j")).toEqual([]);
      });
    } finally {
      other.close();
    }
  });

  test("DDL another connection commits while the upsert waits for the lock is seen (checked once the lock is held)", async () => {
    const { db, path } = await sqlite.file("CREATE TABLE j (id INTEGER PRIMARY KEY, doc TEXT)", { maxSize: 1 });
    const other = new Database(path);
    try {
      await db.withSession(async (s) => {
        // The repeat of an upsert (a plan kept), an upsert with other options (the general path on cached types), and
        // loadRecords (undefined options).
        const calls = [{ on: ["id"], update: ["doc"] }, { on: ["id"] }, undefined] as const;
        for (const options of calls) {
          other.exec("DROP TABLE j; CREATE TABLE j (id INTEGER PRIMARY KEY, doc TEXT)");
          await s.upsert("j", [{ id: 1, doc: "plain" }], { on: ["id"], update: ["doc"] });
          await s.upsert("j", [{ id: 1, doc: "plain" }], { on: ["id"], update: ["doc"] });
          other.exec("BEGIN IMMEDIATE");
          const row = { id: 2, doc: "not json" };
          const pending = (
            options === undefined ? s.loadRecords("j", [row]) : s.upsert("j", [row], options as { on: ["id"] })
          ).catch((e) => e);
          await new Promise((r) => setTimeout(r, 30));
          other.exec("DROP TABLE j; CREATE TABLE j (id INTEGER PRIMARY KEY, doc JSON)");
          other.exec("COMMIT");
          const err = await pending;
          expect(err).toBeInstanceOf(ParameterError);
          expect((err as Error).message).toContain('column "doc" of row 0');
          expect(await s.select("SELECT id FROM j")).toEqual([]);
        }
      });
    } finally {
      other.close();
    }
  });

  test("a handle closed under the session: upsert and loadRecords raise the closed-handle error; nothing to load touches nothing", async () => {
    const { db } = await sqlite.file(TABLE, { maxSize: 1 });
    const settle = (p: Promise<unknown>) =>
      p.then(
        (r) => `ok ${(r as { rowsAffected: number }).rowsAffected}`,
        (e: Error) => `${e.constructor.name}: ${e.message}`,
      );
    const out = await db.withSession(async (s) => {
      (s.conn as { handle: { db: Database.Database } }).handle.db.close();
      return {
        execute: await settle(s.execute("SELECT 1")),
        upsert: await settle(s.upsert("t", rows(1, 1), { on: ["id"] })),
        load: await settle(s.loadRecords("t", rows(1, 1))),
        loadNothing: await settle(s.loadRecords("t", [])),
      };
    });
    const closed =
      "DatabaseConnectionError: SQLite connection error: the database handle is closed; open a new session";
    expect(out).toEqual({ execute: closed, upsert: closed, load: closed, loadNothing: "ok 0" });
    let released: AnySession | undefined;
    await db.withSession(async (s) => {
      released = s;
    });
    expect(await settle((released as AnySession).loadRecords("t", []))).toBe("ok 0");
  });

  test("option getters are read in the general path's order: the same error with or without an observer", async () => {
    const out: unknown[] = [];
    const observed = { observability: { logger: false as const, onQueryStart: () => undefined } };
    for (const extra of [{}, observed]) {
      const { db } = await sqlite.file(TABLE, { maxSize: 1 }, extra);
      const options = {
        get on(): string[] {
          throw new Error("on");
        },
        get strategy(): string {
          throw new Error("strategy");
        },
      };
      out.push(await db.withSession((s) => s.upsert("t", rows(1, 1), options as never).catch((e: Error) => e.message)));
    }
    expect(out).toEqual(["on", "on"]);
  });

  test("a missing table after the plan was kept is reported as on the first call", async () => {
    const { db } = await sqlite.file(TABLE, { maxSize: 1 });
    await db.withSession(async (s) => {
      await s.upsert("t", rows(1, 3), { on: ["id"] });
      await s.execute("DROP TABLE t");
      const err = await s.upsert("t", rows(1, 3), { on: ["id"] }).catch((e) => e);
      expect(err).toBeInstanceOf(SQLParsingError);
    });
  });

  test("the file locked by another connection: the repeat waits as the first call does, then writes", async () => {
    const { db, path } = await sqlite.file(TABLE, { maxSize: 1, busyTimeoutMs: 2000 });
    await db.withSession((s) => s.upsert("t", rows(1, 3), { on: ["id"] }));
    const other = new Database(path);
    other.exec("BEGIN IMMEDIATE; INSERT INTO t VALUES (100, 'held', 0)");
    setTimeout(() => other.exec("COMMIT"), 50);
    const t0 = performance.now();
    const r = await db.withSession(async (s) => {
      const spy = spyAtomic(s);
      try {
        const out = await s.upsert("t", rows(1, 3, "z"), { on: ["id"] });
        // BEGIN found the file locked: nothing ran there, and the general path waited for the lock.
        expect(spy.calls).toEqual([undefined]);
        return out;
      } finally {
        spy.restore();
      }
    });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(40);
    other.close();
    expect(r.rowsAffected).toBe(3);
    const names = (await db.withSession((s) => s.select<{ name: string }>("SELECT name FROM t ORDER BY id"))).map(
      (r) => r.name,
    );
    expect(names).toEqual(["z1", "z2", "z3", "held"]);
  });

  test("two sessions of one config repeating upserts at once both write everything", async () => {
    const { db } = await sqlite.file(TABLE, { maxSize: 4 });
    await db.withSession((s) => s.upsert("t", rows(1, 3), { on: ["id"] }));
    await Promise.all(
      Array.from({ length: 8 }, (_, k) =>
        db.withSession((s) => s.upsert("t", rows(1000 * (k + 1), 300), { on: ["id"] })),
      ),
    );
    expect(await db.withSession((s) => s.selectValue("SELECT count(*) FROM t"))).toBe(3 + 8 * 300);
  });

  test("rollback journal: a COMMIT that must wait for a reader waits as the first call does (not a busy error)", async () => {
    const { db } = await sqlite.file(TABLE, { maxSize: 2, busyTimeoutMs: 2000, pragmas: { journal_mode: "DELETE" } });
    await db.withSession((s) => s.upsert("t", rows(1, 3), { on: ["id"] }));
    // Both pooled connections open before the read starts (opening one sets the journal mode, which waits for locks).
    await Promise.all([1, 2].map(() => db.withSession((s) => s.execute("SELECT 1"))));
    let upsert: Promise<unknown> | undefined;
    let calls: (number | undefined | "failed")[] = [];
    await db.withSession(async (reader) => {
      // A read in progress holds SQLite's shared lock: a writer's COMMIT needs it gone.
      const it = reader.stream<{ id: number }>("SELECT id FROM t", undefined, { batchSize: 1 })[Symbol.asyncIterator]();
      await it.next();
      upsert = db.withSession(async (s) => {
        const spy = spyAtomic(s);
        try {
          return await s.upsert("t", rows(1, 3, "w"), { on: ["id"] });
        } finally {
          calls = spy.calls;
          spy.restore();
        }
      });
      await new Promise((r) => setTimeout(r, 50));
      await it.return?.(undefined);
    });
    const r = await upsert;
    expect((r as { rowsAffected: number }).rowsAffected).toBe(3);
    // The one-call transaction gave way (rolled back, nothing written) and the general path waited for the reader.
    expect(calls).toEqual([undefined]);
    const names = (await db.withSession((s) => s.select<{ name: string }>("SELECT name FROM t ORDER BY id"))).map(
      (x) => x.name,
    );
    expect(names).toEqual(["w1", "w2", "w3"]);
  });
});
