/**
 * Regression guard (a reviewer found this while BEGIN and COMMIT were pipelined with the statements; withdrawn): postgres.js re-runs a prepared query whose plan went stale (routine RevalidateCachedQuery /
 * FetchPreparedStatement) at its ReadyForQuery, by writing it again: behind the COMMIT the new atomic pipeline wrote
 * already. The retried statement then runs outside the pipeline's transaction and commits on its own.
 * No pooler needed: another connection's ALTER TABLE makes the cached plan stale.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import { PG_URL } from "../support/servers.js";

const T = "r8e_retry";
const admin = new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 1 } });
let db: PostgresJsConfig;
beforeAll(async () => {
  db = new PostgresJsConfig({ poolConfig: { connectionString: PG_URL, maxSize: 1 } });
});
afterAll(async () => {
  await admin.execute(`DROP TABLE IF EXISTS ${T}`);
  await db.close();
  await admin.close();
});

for (const api of ["executeMany", "executeStack"] as const) {
  test(`${api}: a set failing after a stale cached plan leaves nothing committed`, async () => {
    await admin.execute(`DROP TABLE IF EXISTS ${T}`);
    await admin.execute(`CREATE TABLE ${T} (id int PRIMARY KEY)`);
    const sql = `INSERT INTO ${T} (id) VALUES ($1) RETURNING *`;
    const out = await db.withSession(async (s) => {
      // Prepared on this connection (postgres.js caches the named statement).
      await s.executeMany(sql, [[1], [2]]);
      await s.execute(`DELETE FROM ${T}`);
      // Another connection changes the row type: the cached plan must not change result type.
      await admin.execute(`ALTER TABLE ${T} ADD COLUMN extra int`);
      // Set 2 duplicates set 1: the call must fail and write nothing.
      const r =
        api === "executeMany"
          ? s.executeMany(sql, [[10], [10]])
          : s.executeStack([
              [sql, [10]],
              [sql, [10]],
            ]);
      return r.then(
        () => "fulfilled",
        (e: Error) => `rejected ${e.name}: ${e.message.slice(0, 120)}`,
      );
    });
    const rows = (await admin.select<{ id: number }>(`SELECT id FROM ${T} ORDER BY id`)).map((r) => r.id);
    console.log(api, out, "rows committed:", rows);
    expect(out).toMatch(/^rejected/);
    expect(rows).toEqual([]);
  });
}
