/**
 * Review 13b: SQLite upsert lifecycle defects, each reproduced before its fix.
 */
import { describe, expect, test } from "vitest";
import { OperationCancelledError, SQLSpecError } from "../../src/index.js";
import { sqliteConfigs } from "../support/sqlite-file.js";

const sqlite = sqliteConfigs("sqlspec-review13b-life-");

describe("sqlite: upsert signal", () => {
  test("an AbortSignal aborted 5 ms into a 200k-row upsert stops it (nothing written)", async () => {
    const { db } = await sqlite.file("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, q REAL)");
    const rows = Array.from({ length: 200_000 }, (_, i) => ({ id: i + 1, name: `n${i}`, q: i }));
    const ac = new AbortController();
    let ticks = 0;
    const tick = setInterval(() => ticks++, 5);
    setTimeout(() => ac.abort(), 5);
    const t0 = performance.now();
    const out = await db
      .withSession((s) => s.upsert("t", rows, { on: ["id"], signal: ac.signal }))
      .catch((e: unknown) => e);
    const ms = performance.now() - t0;
    clearInterval(tick);
    // Observed: the upsert runs its ~1,000 statements without ever letting a timer fire (ticks 0, ~300 ms here) and
    // resolves with rowsAffected 200000; executeMany yields every 10 ms for exactly this reason (session-bulk.ts eachSet).
    expect({ ms: Math.round(ms), ticks }).toMatchObject({ ticks: expect.any(Number) });
    expect(out).toBeInstanceOf(OperationCancelledError);
    expect(await db.withSession((s) => s.selectValue("SELECT count(*) FROM t"))).toBe(0);
  });
});

describe("sqlite: an upsert the session's callback did not await", () => {
  test("rejects with OperationCancelledError as executeMany does (not a bare SQLSpecError)", async () => {
    const { db } = await sqlite.file("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)", { maxSize: 1 });
    let many: Promise<unknown> = Promise.resolve();
    let up: Promise<unknown> = Promise.resolve();
    await db.withSession(async (s) => {
      many = s.executeMany("INSERT INTO t VALUES (?, ?)", [
        [3, "c"],
        [4, "d"],
      ]);
      many.catch(() => {});
    });
    await db.withSession(async (s) => {
      up = s.upsert("t", [{ id: 1, name: "a" }], { on: ["id"] });
      up.catch(() => {});
    });
    expect(await many.catch((e: unknown) => e)).toBeInstanceOf(OperationCancelledError);
    const err = await up.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SQLSpecError);
    // Observed: SQLSpecError 'This session was released; open a new one with provideSession()' (the base class).
    expect(err).toBeInstanceOf(OperationCancelledError);
  });
});

describe("sqlite: upsert while a stream is open", () => {
  test("inside a transaction it is refused with the same error as outside (not ParameterError)", async () => {
    const { db } = await sqlite.file(
      "CREATE TABLE src (id INTEGER PRIMARY KEY); INSERT INTO src VALUES (1), (2), (3); CREATE TABLE dst (id INTEGER PRIMARY KEY)",
    );
    const attempt = (inTx: boolean) =>
      db.withSession(async (s) => {
        const body = async () => {
          for await (const row of s.stream<{ id: number }>("SELECT id FROM src", undefined, { batchSize: 1 })) {
            await s.upsert("dst", [{ id: row.id }], { on: ["id"] });
          }
        };
        return inTx ? s.transaction(body) : body();
      });
    const outside = await attempt(false).catch((e: unknown) => e);
    const inside = await attempt(true).catch((e: unknown) => e);
    expect((outside as Error).message).toContain("a stream() is still open");
    // Observed inside: ParameterError 'SQLite: This database connection is busy executing a query' (the SAVEPOINT
    // is a "readonly" statement to SQLite, so the adapter's open-stream guard lets it through to better-sqlite3).
    expect((inside as Error).constructor).toBe((outside as Error).constructor);
    expect((inside as Error).message).toContain("a stream() is still open");
  });
});
