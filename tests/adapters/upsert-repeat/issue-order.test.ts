/**
 * Issue order: a call of the session issued first and not awaited, then the same upsert; the repeat (fast path) must
 * end as the general path (a fresh config, same file state) ends. Only bulk calls are counted; other calls are not.
 */
import { expect, test } from "vitest";
import { sql } from "../../../src/index.js";
import { sqliteConfigs } from "../../support/sqlite-file.js";
import { type AnySession, dump, spyAtomic } from "./compare.js";

const sqlite = sqliteConfigs("review2-order-");
const TABLE =
  "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER); INSERT INTO t VALUES (1, 'seed', 0)";

async function run(warm: boolean, first: (s: AnySession) => Promise<unknown>) {
  const { db, path } = await sqlite.file(TABLE, { maxSize: 1 });
  if (warm) await db.withSession((s) => s.upsert("t", [{ id: 2, name: "w", qty: 0 }], { on: ["id"] }));
  let settled: string[] = [];
  let fast: unknown[] = [];
  await db.withSession(async (s) => {
    const spy = spyAtomic(s);
    const a = first(s);
    const b = s.upsert("t", [{ id: 1, name: "upsert", qty: 2 }], { on: ["id"] });
    const r = await Promise.allSettled([a, b]);
    spy.restore();
    fast = spy.calls;
    settled = r.map((x) => (x.status === "fulfilled" ? "ok" : (x.reason as Error).constructor.name));
  });
  return { settled, row1: dump(path).find((r) => (r as unknown[])[0] === 1n), fast };
}

test.each([
  ["execute(builder UPDATE)", (s: AnySession) => s.execute(sql.update("t").set({ name: "builder" }).where({ id: 1 }))],
  ["execute(text UPDATE)", (s: AnySession) => s.execute("UPDATE t SET name = 'text' WHERE id = 1")],
  ["executeScript(UPDATE)", (s: AnySession) => s.executeScript("UPDATE t SET name = 'script' WHERE id = 1")],
  ["executeStack([UPDATE])", (s: AnySession) => s.executeStack(["UPDATE t SET name = 'stack' WHERE id = 1"])],
  ["executeMany(UPDATE)", (s: AnySession) => s.executeMany("UPDATE t SET name = ? WHERE id = 1", [["many"]])],
  [
    "select(builder) reads before the upsert",
    async (s: AnySession) => {
      const rows = await s.select(sql.select("name").from("t").where({ id: 1 }));
      if ((rows[0] as { name: string }).name !== "seed")
        throw new Error(`read ${String((rows[0] as { name: string }).name)}`);
    },
  ],
  [
    "begin() then commit()",
    async (s: AnySession) => {
      await s.begin();
      await s.execute("UPDATE t SET name = 'tx' WHERE id = 1");
      await s.commit();
    },
  ],
  ["selectWithTotal", (s: AnySession) => s.selectWithTotal("SELECT * FROM t")],
])("%s issued first, then the repeat: same outcome as the general path", async (_n, first) => {
  const general = await run(false, first);
  const repeat = await run(true, first);
  console.log(_n, { general, repeat });
  expect({ settled: repeat.settled, row1: repeat.row1 }).toEqual({ settled: general.settled, row1: general.row1 });
});
