/**
 * DuckDB: `timeoutMs` / `signal` on a stream and on a cached statement, and a failing row source for loadRecords.
 */
import { afterAll, describe, expect, test } from "vitest";
import { DuckdbConfig } from "../../src/adapters/duckdb/index.js";
import { DatabaseError, OperationCancelledError, QueryTimeoutError, SQLSpecError } from "../../src/index.js";

const opened: DuckdbConfig[] = [];
afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()));
});
function config(): DuckdbConfig {
  const c = new DuckdbConfig();
  opened.push(c);
  return c;
}

const HUGE = "SELECT range AS r FROM range(0, 200000000)";

async function drain(it: AsyncIterable<unknown>): Promise<{ rows: number; err: unknown }> {
  let rows = 0;
  try {
    for await (const _ of it) rows++;
  } catch (err) {
    return { rows, err };
  }
  return { rows, err: undefined };
}

describe("duckdb: interrupts", () => {
  test("timeoutMs or a signal firing while a stream is read raises; the result is not cut short quietly", async () => {
    await config().withSession(async (s) => {
      const timed = await drain(s.stream(HUGE, [], { timeoutMs: 100 }));
      expect(timed.err).toBeInstanceOf(QueryTimeoutError);
      expect(timed.rows).toBeLessThan(200_000_000);
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 100);
      const cancelled = await drain(s.stream(HUGE, [], { signal: ac.signal }));
      expect(cancelled.err).toBeInstanceOf(OperationCancelledError);
      // A slow reader: the time runs out between fetches.
      let slow = 0;
      const err = await (async () => {
        for await (const _ of s.stream(HUGE, [], { timeoutMs: 100, batchSize: 2048 })) {
          if (++slow % 2048 === 0) await new Promise((r) => setTimeout(r, 60));
        }
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QueryTimeoutError);
      expect(await s.selectValue("SELECT 5")).toBe(5);
      // A stream that ends within its time is whole.
      expect((await drain(s.stream("SELECT * FROM range(10000)", [], { timeoutMs: 10_000 }))).rows).toBe(10_000);
    });
  });

  test("a slow reader gets no more rows once the stream's timeoutMs has passed (not only at the next chunk fetch)", async () => {
    await config().withSession(async (s) => {
      // A chunk is 2,048 rows: the deadline was checked only when the next one was fetched (1,918 late rows here).
      const t0 = performance.now();
      let late = 0;
      const err = await (async () => {
        for await (const _ of s.stream("SELECT * FROM range(1000000) r(x)", [], { batchSize: 100, timeoutMs: 100 })) {
          if (performance.now() - t0 > 100) late++;
          await new Promise((r) => setTimeout(r, 1));
        }
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QueryTimeoutError);
      // The batch in hand when the time ran out, and what a late timer (a loaded machine) lets through.
      expect(late).toBeLessThan(400);
      expect(await s.selectValue("SELECT 5")).toBe(5);
    });
  });

  test("a stream interrupted inside a transaction leaves it failed: COMMIT rolls back", async () => {
    await config().withSession(async (s) => {
      await s.execute("CREATE TABLE ti (id INTEGER)");
      await s.begin();
      await s.execute("INSERT INTO ti VALUES (1)");
      const r = await drain(s.stream(HUGE, [], { timeoutMs: 100 }));
      expect(r.err).toBeInstanceOf(QueryTimeoutError);
      await s.rollback();
      expect(await s.selectValue("SELECT count(*) FROM ti")).toBe(0);
    });
  });

  test("timeoutMs: 0 rejects a cached statement before it starts; nothing is written", async () => {
    await config().withSession(async (s) => {
      await s.execute("CREATE TABLE q (id INTEGER)");
      const out: unknown[] = [];
      for (let i = 0; i < 10; i++) {
        out.push(await s.execute("INSERT INTO q VALUES (?)", [i], { timeoutMs: 0 }).catch((e: unknown) => e));
      }
      for (const e of out) expect(e).toBeInstanceOf(QueryTimeoutError);
      expect(await s.selectValue("SELECT count(*) FROM q")).toBe(0);
      await s.execute("INSERT INTO q VALUES (?)", [1], { timeoutMs: 10_000 });
      expect(await s.selectValue("SELECT count(*) FROM q")).toBe(1);
    });
  });

  test("loadRecords: the caller's failing source is its own error (on cause), not a DatabaseError; nothing kept", async () => {
    await config().withSession(async (s) => {
      await s.execute("CREATE TABLE src (id INTEGER PRIMARY KEY)");
      const broke = new Error("source broke");
      async function* rows() {
        for (let i = 0; i < 5000; i++) {
          if (i === 4000) throw broke;
          yield { id: i };
        }
      }
      const err = await s.loadRecords("src", rows()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SQLSpecError);
      expect(err).not.toBeInstanceOf(DatabaseError);
      expect((err as Error).cause).toBe(broke);
      expect(await s.selectValue("SELECT count(*) FROM src")).toBe(0);
      // A bad value is still reported as DuckDB's.
      const bad = await s.loadRecords("src", [{ id: 1 }, { id: 1 }]).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(DatabaseError);
      expect(await s.selectValue("SELECT count(*) FROM src")).toBe(0);
    });
  });
});
