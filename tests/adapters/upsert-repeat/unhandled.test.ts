/**
 * A failing call nobody awaits (fire-and-forget) must still surface as an unhandledRejection, as execute() does and
 * as upsert() did before the bulk-call counter: the counter's side chain `p.then(done, done)` handles `p` itself.
 */
import { expect, test } from "vitest";
import { sqliteConfigs } from "../../support/sqlite-file.js";

const sqlite = sqliteConfigs("review2-unhandled-");

async function unhandledOf(fire: (s: any) => void): Promise<string[]> {
  const { db } = await sqlite.file("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)", { maxSize: 1 });
  const saved = process.listeners("unhandledRejection");
  process.removeAllListeners("unhandledRejection");
  const seen: string[] = [];
  process.on("unhandledRejection", (e) => seen.push((e as Error).constructor.name));
  try {
    await db.withSession(async (s) => {
      fire(s);
      await new Promise((r) => setTimeout(r, 50));
    });
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    process.removeAllListeners("unhandledRejection");
    for (const l of saved) process.on("unhandledRejection", l as never);
  }
  return seen;
}

test("execute() not awaited, failing: reported", async () => {
  expect(await unhandledOf((s) => void s.execute("INSERT INTO t VALUES (1, NULL)"))).toEqual(["NotNullViolationError"]);
});

test("upsert() not awaited, failing: reported as execute() is", async () => {
  expect(await unhandledOf((s) => void s.upsert("t", [{ id: 1, name: null }], { on: ["id"] }))).toHaveLength(1);
});

test("loadRecords() not awaited, failing: reported as execute() is", async () => {
  expect(await unhandledOf((s) => void s.loadRecords("t", [{ id: 1, name: null }]))).toHaveLength(1);
});
