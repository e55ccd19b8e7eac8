/** Sessions side by side: :memory: nested sessions, two configs on one file, a statement waiting for the file's lock. */
import Database from "better-sqlite3";
import { expect, test } from "vitest";
import { sqliteConfigs } from "../../support/sqlite-file.js";
import { dump, spyAtomic } from "./compare.js";

const sqlite = sqliteConfigs("review-conc-");
const TABLE = "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER)";
const rows = (from: number, n: number, name = "n") =>
  Array.from({ length: n }, (_, i) => ({ id: from + i, name: `${name}${from + i}`, qty: i }));

test(":memory: — a nested session inside another's transaction and stream: the repeat waits its turn / joins", async () => {
  const db = sqlite.memory();
  await db.withSession(async (s) => {
    await s.execute(TABLE);
    await s.upsert("t", rows(1, 3), { on: ["id"] });
  });
  // Inside transaction(): the nested session shares the parent's transaction; the outer rollback undoes it.
  await db
    .withSession((outer) =>
      outer.transaction(async () => {
        await db.withSession(async (inner) => {
          const spy = spyAtomic(inner);
          await inner.upsert("t", rows(10, 3), { on: ["id"] });
          spy.restore();
          expect(spy.calls).toEqual([]);
        });
        throw new Error("undo");
      }),
    )
    .catch(() => undefined);
  expect(await db.withSession((s) => s.selectValue("SELECT count(*) FROM t"))).toBe(3);
  // Inside a stream of the outer session.
  const r = await db.withSession(async (outer) => {
    for await (const _ of outer.stream("SELECT * FROM t")) {
      return db
        .withSession((inner) => inner.upsert("t", rows(20, 3), { on: ["id"] }))
        .then(
          (x) => `ok ${x.rowsAffected}`,
          (e: Error) => `${e.constructor.name}: ${e.message}`,
        );
    }
  });
  expect(r).toMatch(/^(ok 3|\w+Error: .*)$/);
  console.log("memory nested in stream:", r);
});

test("two configs on one file, 8 sessions each, repeated upserts at once: everything written", async () => {
  const { db: a, path } = await sqlite.file(TABLE, { maxSize: 4, busyTimeoutMs: 10_000 });
  const b = sqlite.config({ poolConfig: { database: path, maxSize: 4, busyTimeoutMs: 10_000 } });
  await a.withSession((s) => s.upsert("t", rows(1, 3), { on: ["id"] }));
  await b.withSession((s) => s.upsert("t", rows(1, 3), { on: ["id"] }));
  const work = [];
  for (let k = 0; k < 8; k++) {
    work.push(
      a.withSession(async (s) => {
        for (let j = 0; j < 5; j++) await s.upsert("t", rows(100_000 * (k + 1) + j * 1000, 300), { on: ["id"] });
      }),
    );
    work.push(
      b.withSession(async (s) => {
        for (let j = 0; j < 5; j++)
          await s.upsert("t", rows(5_000_000 + 100_000 * (k + 1) + j * 1000, 300), { on: ["id"] });
      }),
    );
  }
  await Promise.all(work);
  expect(dump(path).length).toBe(3 + 16 * 5 * 300);
});

test("a statement of the session waits for the file's lock; the repeat issued after it runs after it", async () => {
  const { db, path } = await sqlite.file(TABLE, { maxSize: 1, busyTimeoutMs: 3000 });
  await db.withSession((s) => s.upsert("t", rows(1, 3), { on: ["id"] }));
  const other = new Database(path);
  other.exec("BEGIN IMMEDIATE");
  setTimeout(() => other.exec("COMMIT"), 50);
  await db.withSession(async (s) => {
    const spy = spyAtomic(s);
    const del = s.execute("UPDATE t SET name = 'from-update' WHERE id = 1");
    const up = s.upsert("t", [{ id: 1, name: "from-upsert", qty: 5 }], { on: ["id"] });
    await Promise.all([del, up]);
    spy.restore();
    // Asked, and declined (the lease has a statement waiting).
    expect(spy.calls).toEqual([undefined]);
  });
  other.close();
  expect(dump(path)[0]).toEqual([1n, "from-upsert", 5n]);
});

test("config.close() and reopen: the plan is dropped; the file rebuilt meanwhile is read afresh", async () => {
  const { db, path } = await sqlite.file(TABLE, { maxSize: 1 });
  await db.withSession((s) => s.upsert("t", rows(1, 3), { on: ["id"] }));
  await db.close();
  const other = new Database(path);
  other.exec("DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, name JSON NOT NULL, qty INTEGER)");
  other.close();
  const out = await db.withSession(async (s) => {
    const spy = spyAtomic(s);
    const r = await s.upsert("t", [{ id: 9, name: "{bad", qty: 1 }], { on: ["id"] }).catch((e) => e);
    spy.restore();
    return { r, calls: spy.calls };
  });
  expect(out.calls).toEqual([]);
  expect((out.r as Error).constructor.name).toBe("ParameterError");
});
