import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { importDriver } from "../../src/driver/dependencies.js";
import {
  DatabaseConnectionError,
  DataError,
  MissingDependencyError,
  PoolTimeoutError,
  type Session,
  SQLSpec,
  sql,
  TransactionError,
  UniqueViolationError,
} from "../../src/index.js";

/** PGlite-specific behaviour: the single connection, codecs, pgvector, persistence. Shared PG behaviour is in
 * tests/conformance/postgres.ts, which also runs against PGlite. */
describe("PgliteConfig", () => {
  const spec = new SQLSpec();
  const db = spec.addConfig(new PgliteConfig({ poolConfig: { acquireTimeoutMs: 2_000 } }));

  beforeAll(async () => {
    await db.withSession((s) =>
      s.executeScript(`
        CREATE TABLE items (id int PRIMARY KEY, name text UNIQUE, doc jsonb, tags text[], big int8, embedding vector(3));
      `),
    );
  });
  afterAll(() => spec.closeAllPools());

  test("50 concurrent withSession calls, each with a transaction, all finish and all commit", async () => {
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        db.withSession((s) =>
          s.transaction(async (tx) => {
            await tx.execute("INSERT INTO items (id, name) VALUES ($1, $2)", [1000 + i, `c${i}`]);
            // Yield between statements so transactions would interleave if the lock did not hold them apart.
            await new Promise((r) => setTimeout(r, 1));
            await tx.execute("UPDATE items SET name = name || '!' WHERE id = $1", [1000 + i]);
          }),
        ),
      ),
    );
    const n = await db.withSession((s) =>
      s.selectValue("SELECT count(*) FROM items WHERE id >= 1000 AND name LIKE '%!'"),
    );
    expect(n).toBe(50);
    await db.withSession((s) => s.execute("DELETE FROM items WHERE id >= 1000"));
  });

  test("a session's statements queued behind its own keep the lock: another session's write never runs inside them", async () => {
    // Session A sends an autocommit statement and, while it runs, a BEGIN (not awaited in between). The lock A's first
    // statement took must stay with A until its BEGIN settled; released earlier, B's INSERT would run inside A's
    // transaction and vanish with A's rollback.
    await db.withSession((s) => s.execute("CREATE TABLE queued_lock (id int)"));
    let began: Promise<unknown> | undefined;
    const other = db.withSession(async (a) => {
      const slow = a.execute("SELECT pg_sleep(0.1)");
      await Promise.resolve();
      began = a.execute("BEGIN");
      await slow;
      await new Promise((r) => setTimeout(r, 20));
      await a.execute("ROLLBACK");
    });
    await new Promise((r) => setTimeout(r, 10));
    await db.withSession((b) => b.execute("INSERT INTO queued_lock VALUES (1)"));
    await other;
    await began;
    expect(await db.withSession((s) => s.selectValue("SELECT count(*)::int FROM queued_lock"))).toBe(1);
    await db.withSession((s) => s.execute("DROP TABLE queued_lock"));
  });

  test("a session opened and closed inside a failed transaction leaves it failed (its release is not the holder's)", async () => {
    await db.withSession(async (s) => {
      await s.transaction(async () => {
        const err = await s
          .transaction(async () => {
            await s.execute("SELECT 1/0").catch(() => undefined);
            // An idle inner session: its release must not clear the failure that belongs to the outer lease.
            await db.withSession(async () => undefined);
          })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TransactionError);
        // The nested part was rolled back, so the outer transaction goes on.
        expect(await s.selectValue("SELECT 7")).toBe(7);
      });
    });
  });

  test("a session opened inside another session's transaction joins it (savepoint) instead of deadlocking", async () => {
    await db.withSession(async (outer) => {
      await outer.transaction(async () => {
        await outer.execute("INSERT INTO items (id, name) VALUES (1, 'outer')");
        await db.withSession(async (inner) => {
          await inner.execute("INSERT INTO items (id, name) VALUES (2, 'inner')");
          // The inner session's own transaction fails and rolls back only its part.
          await expect(
            inner.transaction(async () => {
              await inner.execute("INSERT INTO items (id, name) VALUES (3, 'inner-tx')");
              throw new Error("boom");
            }),
          ).rejects.toThrow("boom");
        });
      });
    });
    const ids = await db.withSession((s) => s.select<{ id: number }>("SELECT id FROM items WHERE id < 10 ORDER BY id"));
    expect(ids.map((r) => r.id)).toEqual([1, 2]);
    await db.withSession((s) => s.execute("DELETE FROM items WHERE id < 10"));
  });

  test("a session outside any callback waits for an open transaction, then times out with PoolTimeoutError", async () => {
    const holder = await db.provideSession();
    await holder.begin();
    await holder.execute("INSERT INTO items (id, name) VALUES (20, 'held')");
    const started = Date.now();
    // Not nested in the holder's callback (a separate async flow), so it must wait and then fail, not hang.
    const waiter = new Promise<Session<unknown>>((resolve) => setTimeout(() => resolve(db.provideSession()), 0)).then(
      (s) => s.execute("SELECT 1").finally(() => s.release()),
    );
    await expect(waiter).rejects.toBeInstanceOf(PoolTimeoutError);
    expect(Date.now() - started).toBeLessThan(5_000);
    await holder.rollback();
    await holder.release();
    expect(await db.withSession((s) => s.selectValue("SELECT count(*) FROM items WHERE id = 20"))).toBe(0);
  });

  test("await using releases the session and rolls back an open transaction", async () => {
    {
      await using s = await db.provideSession();
      await s.begin();
      await s.execute("INSERT INTO items (id, name) VALUES (30, 'disposed')");
    }
    expect(await db.withSession((s) => s.selectValue("SELECT count(*) FROM items WHERE id = 30"))).toBe(0);
  });

  test("pgvector: number[] and Float32Array bind to vector, vector reads back as number[]", async () => {
    await db.withSession(async (s) => {
      await s.execute("INSERT INTO items (id, embedding) VALUES ($1, $2), ($3, $4)", [
        40,
        [1, 2, 3],
        41,
        new Float32Array([0.5, -1, 2.25]),
      ]);
      const rows = await s.select<{ id: number; embedding: number[] }>(
        "SELECT id, embedding FROM items WHERE id IN (40, 41) ORDER BY embedding <-> $1 LIMIT 2",
        [[1, 2, 3]],
      );
      expect(rows).toEqual([
        { id: 40, embedding: [1, 2, 3] },
        { id: 41, embedding: [0.5, -1, 2.25] },
      ]);
      await s.execute("DELETE FROM items WHERE id IN (40, 41)");
    });
  });

  test("json: objects and arrays into jsonb, text[] stays a PostgreSQL array, null into jsonb", async () => {
    await db.withSession(async (s) => {
      await s.execute("INSERT INTO items (id, doc, tags) VALUES ($1, $2, $3), ($4, $5, $6)", [
        50,
        { a: [1, { b: "x" }], big: 2n ** 62n },
        ["x", "y,z", 'q"uote'],
        51,
        [1, 2, 3],
        null,
      ]);
      const rows = await s.select(
        "SELECT id, doc, tags, jsonb_typeof(doc) AS kind FROM items WHERE id IN (50, 51) ORDER BY id",
      );
      expect(rows).toEqual([
        { id: 50, doc: { a: [1, { b: "x" }], big: 2 ** 62 }, tags: ["x", "y,z", 'q"uote'], kind: "object" },
        { id: 51, doc: [1, 2, 3], tags: null, kind: "array" },
      ]);
      await s.execute("INSERT INTO items (id, doc) VALUES ($1, $2)", [52, null]);
      expect(await s.selectValue("SELECT doc IS NULL FROM items WHERE id = 52")).toBe(true);
      await s.execute("DELETE FROM items WHERE id IN (50, 51, 52)");
    });
  });

  test("int8 binds exactly; by default a value beyond 2^53 raises DataError instead of coming back rounded", async () => {
    await db.withSession(async (s) => {
      const big = 2n ** 63n - 1n;
      await s.execute("INSERT INTO items (id, big) VALUES (60, $1), (61, $2)", [big, 42]);
      await expect(s.select("SELECT big FROM items WHERE id IN (60, 61) ORDER BY id")).rejects.toBeInstanceOf(
        DataError,
      );
      expect(await s.selectValue("SELECT big FROM items WHERE id = 61")).toBe(42);
      expect(await s.selectValue("SELECT big::text FROM items WHERE id = 60")).toBe(String(big));
      expect(await s.selectValue("SELECT count(*) FROM items WHERE big = $1", [big])).toBe(1);
      await s.execute("DELETE FROM items WHERE id IN (60, 61)");
    });
  });

  test("a unique violation is typed and the session stays usable", async () => {
    await db.withSession(async (s) => {
      await s.execute("INSERT INTO items (id, name) VALUES (70, 'dup')");
      const err = await s.execute("INSERT INTO items (id, name) VALUES (71, 'dup')").catch((e) => e);
      expect(err).toBeInstanceOf(UniqueViolationError);
      expect(err.sqlState).toBe("23505");
      expect(err.constraint).toBe("items_name_key");
      expect(err.message).toMatch(/^PostgreSQL unique constraint violation \[23505\]: /);
      expect(await s.selectValue("SELECT name FROM items WHERE id = 70")).toBe("dup");
      await s.execute("DELETE FROM items WHERE id = 70");
    });
  });
});

describe("PgliteConfig closed under a running session", () => {
  test("the session's next statement rejects with DatabaseConnectionError (in and out of a transaction); the session settles", async () => {
    for (const inTransaction of [false, true]) {
      const config = new PgliteConfig({ poolConfig: { acquireTimeoutMs: 2_000 } });
      await config.withSession((s) => s.execute("SELECT 1"));
      let closeNow: () => void = () => {};
      const closing = new Promise<void>((r) => {
        closeNow = r;
      });
      let resume: () => void = () => {};
      const closed = new Promise<void>((r) => {
        resume = r;
      });
      const running = config.withSession(async (s) => {
        if (inTransaction) await s.begin();
        closeNow();
        await closed;
        return s.selectValue("SELECT 3");
      });
      await closing;
      await config.close();
      resume();
      const err = await running.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, `in transaction: ${inTransaction}`).toBeInstanceOf(DatabaseConnectionError);
      expect((err as Error).message).toMatch(/closed/);
      expect((err as Error).message).not.toMatch(/_IsTransactionBlock/);
    }
  });
});

describe("PgliteConfig driver features", () => {
  test("custom jsonSerializer/jsonDeserializer are used, and onConnectionCreate runs after setup without disabling codecs", async () => {
    const calls: string[] = [];
    const spec = new SQLSpec();
    const db = spec.addConfig(
      new PgliteConfig({
        driverFeatures: {
          jsonSerializer: (v) => {
            calls.push("ser");
            return JSON.stringify(v);
          },
          jsonDeserializer: (t) => {
            calls.push("de");
            return { wrapped: JSON.parse(t) };
          },
          enablePgvector: false,
          onConnectionCreate: async (pg: PGlite) => {
            // Runs after sqlspec's setup: the vector extension was not created because enablePgvector is false.
            const r = await pg.query<{ n: number }>(
              "SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'vector'",
            );
            calls.push(`hook:${r.rows[0]?.n}`);
          },
        },
      }),
    );
    try {
      const v = await db.withSession((s) => s.selectValue("SELECT $1::jsonb AS j", [{ a: 1 }]));
      expect(v).toEqual({ wrapped: { a: 1 } });
      expect(calls).toEqual(["hook:0", "ser", "de"]);
    } finally {
      await spec.closeAllPools();
    }
  });

  test("enableJsonCodecs: false returns json as text", async () => {
    const spec = new SQLSpec();
    const db = spec.addConfig(new PgliteConfig({ driverFeatures: { enableJsonCodecs: false, enablePgvector: false } }));
    try {
      expect(await db.withSession((s) => s.selectValue(`SELECT '{"a": 1}'::json`))).toBe('{"a": 1}');
    } finally {
      await spec.closeAllPools();
    }
  });

  test("dataDir persists across pools", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sqlspec-pglite-"));
    try {
      const spec = new SQLSpec();
      const db = spec.addConfig(
        new PgliteConfig({ poolConfig: { dataDir: dir }, driverFeatures: { enablePgvector: false } }),
      );
      await db.withSession((s) =>
        s.executeScript("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here');"),
      );
      await spec.closeAllPools();
      // closeAllPools closed the database; the same config opens it again from disk.
      expect(await db.withSession((s) => s.selectValue(sql`SELECT v FROM kept`))).toBe("still here");
      await spec.closeAllPools();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a driver package that is not installed raises MissingDependencyError naming the npm package", async () => {
    const err = await importDriver(
      "not-a-real-driver-pkg",
      "FakeConfig",
      () => import(/* @vite-ignore */ `not-a-real-driver-pkg${""}`),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(MissingDependencyError);
    expect(err.packageName).toBe("not-a-real-driver-pkg");
    expect(err.message).toContain("npm install not-a-real-driver-pkg");
  });
});
