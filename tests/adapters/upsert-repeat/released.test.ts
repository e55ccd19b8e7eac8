/** upsert on a session already released: the same error as the general path, and nothing run on the pooled handle. */
import { expect, test } from "vitest";
import { sqliteConfigs } from "../../support/sqlite-file.js";
import type { AnySession } from "./compare.js";

const sqlite = sqliteConfigs("review-released-");
const TABLE = "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER)";

async function afterRelease(warm: boolean): Promise<string> {
  const { db } = await sqlite.file(TABLE, { maxSize: 1 });
  if (warm) await db.withSession((s) => s.upsert("t", [{ id: 1, name: "a", qty: 1 }], { on: ["id"] }));
  let saved: AnySession | undefined;
  await db.withSession(async (s) => {
    saved = s;
  });
  // The pooled handle is now another session's, with a stream open on it.
  return db.withSession(async (other) => {
    for await (const _ of other.stream("SELECT 1 UNION ALL SELECT 2")) {
      return (saved as AnySession).upsert("t", [{ id: 2, name: "b", qty: 2 }], { on: ["id"] }).then(
        () => "ok",
        (e: Error) => `${e.constructor.name}: ${e.message}`,
      );
    }
    return "no rows";
  });
}

test("released session", async () => {
  const general = await afterRelease(false);
  const fast = await afterRelease(true);
  console.log({ general, fast });
  expect(fast).toBe(general);
});
