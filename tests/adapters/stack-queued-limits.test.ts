/** executeStack and executeMany with a signal or timeoutMs, queued behind a running statement of the session (pg): given up promptly, never sent. */
import { afterAll, beforeAll, expect, test } from "vitest";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PG_URL } from "../support/servers.js";

const T = "stack_queued_limits";
const db = new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 1 } });
beforeAll(async () => {
  await db.execute(`DROP TABLE IF EXISTS ${T}`);
  await db.execute(`CREATE TABLE ${T} (id int PRIMARY KEY)`);
});
afterAll(async () => {
  await db.execute(`DROP TABLE IF EXISTS ${T}`);
  await db.close();
});

for (const api of ["executeStack", "executeMany"] as const) {
  for (const how of ["signal", "timeoutMs"] as const) {
    test(`${api} with ${how}, queued behind pg_sleep(0.5): rejects promptly, never sent`, async () => {
      await db.execute(`DELETE FROM ${T}`);
      const r = await db.withSession(async (s) => {
        const ac = new AbortController();
        const opts = how === "signal" ? { signal: ac.signal } : { timeoutMs: 50 };
        const t0 = Date.now();
        const long = s.execute("SELECT pg_sleep(0.5)");
        const queued =
          api === "executeStack"
            ? s.executeStack([`INSERT INTO ${T} VALUES (1)`, `INSERT INTO ${T} VALUES (2)`], opts)
            : s.executeMany(`INSERT INTO ${T} VALUES ($1)`, [[1], [2]], opts);
        setTimeout(() => ac.abort(), 50);
        const settled = await queued.then(
          () => "fulfilled",
          (e: Error) => `rejected ${e.name}`,
        );
        const ms = Date.now() - t0;
        await long;
        return { settled, ms };
      });
      const rows = await db.select(`SELECT id FROM ${T}`);
      expect(r.settled).toMatch(/rejected/);
      expect(r.ms).toBeLessThan(300);
      expect(rows).toEqual([]);
    });
  }
}
