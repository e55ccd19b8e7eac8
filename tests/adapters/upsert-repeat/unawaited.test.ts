/**
 * Calls not awaited: an upsert the session's callback did not await, and an upsert issued after another bulk call of
 * the same session that has not reached the engine yet (it must not run first: issue order).
 */
import { expect, test } from "vitest";
import { sqliteConfigs } from "../../support/sqlite-file.js";
import { dump } from "./compare.js";

const sqlite = sqliteConfigs("review-unawaited-");
const TABLE = "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER)";

async function notAwaited(warm: boolean): Promise<{ settled: string; rows: unknown[] }> {
  const { db, path } = await sqlite.file(TABLE, { maxSize: 1 });
  if (warm) await db.withSession((s) => s.upsert("t", [{ id: 1, name: "a", qty: 1 }], { on: ["id"] }));
  let p: Promise<unknown> | undefined;
  await db.withSession(async (s) => {
    p = s.upsert("t", [{ id: 2, name: "b", qty: 2 }], { on: ["id"] });
  });
  const settled = await (p as Promise<unknown>).then(
    () => "fulfilled",
    (e: Error) => `rejected ${e.constructor.name}`,
  );
  return { settled, rows: dump(path).filter((r) => (r as unknown[])[0] === 2n) };
}

test("an upsert the callback did not await reports what happened: written and fulfilled, or cancelled and not written", async () => {
  // The general path had not reached the engine when the session ended (cancelled, nothing written); the repeat ran at
  // the call, before the callback returned (written, fulfilled). Either way the outcome matches the table.
  for (const warm of [false, true]) {
    const { settled, rows } = await notAwaited(warm);
    if (warm) expect(settled).toBe("fulfilled");
    expect(settled === "fulfilled" ? 1 : 0).toBe(rows.length);
    if (settled !== "fulfilled") expect(settled).toBe("rejected OperationCancelledError");
  }
});

async function issueOrder(warm: boolean): Promise<unknown[]> {
  let settled: string[] = [];
  const { db, path } = await sqlite.file(TABLE, { maxSize: 1 });
  if (warm) await db.withSession((s) => s.upsert("t", [{ id: 1, name: "a", qty: 1 }], { on: ["id"] }));
  await db.withSession(async (s) => {
    // Issued first (another column order: never the repeat), then the repeat for the same key.
    const first = s.upsert("t", [{ qty: 10, id: 1, name: "first" }], { on: ["id"] });
    const second = s.upsert("t", [{ id: 1, name: "second", qty: 20 }], { on: ["id"] });
    const r = await Promise.allSettled([first, second]);
    settled = r.map((x) =>
      x.status === "fulfilled" ? "ok" : `${(x.reason as Error).constructor.name}: ${(x.reason as Error).message}`,
    );
  });
  return [settled, dump(path)];
}

test("two upserts issued in order without awaiting: the repeat is refused as on the general path, not silently overwritten", async () => {
  const general = await issueOrder(false);
  const fast = await issueOrder(true);
  // General path: the second is refused (TransactionError: concurrent tasks need a session each), the first's row stays.
  expect((general[0] as string[])[1]).toMatch(/^TransactionError/);
  // The repeat waits its turn as the general path does (it ran first and was overwritten: a lost update).
  expect(fast).toEqual(general);
});
