/**
 * Regression guard (a reviewer found this while BEGIN and COMMIT were pipelined with the statements; withdrawn): postgres.js executeMany/executeStack outside a transaction now writes BEGIN … COMMIT around the sets.
 * A statement the same session issues concurrently (Promise.all) is written by postgres.js in between, so it runs
 * inside that transaction: it reports success, yet the pipeline's failure rolls it back (lost write).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import { PG_URL } from "../support/servers.js";

const T = "r8e_pjs_conc";

describe("postgres.js pipeline vs a concurrent statement of the same session", () => {
  let db: PostgresJsConfig;
  beforeAll(async () => {
    db = new PostgresJsConfig({ poolConfig: { connectionString: PG_URL, maxSize: 1 } });
    await db.execute(`DROP TABLE IF EXISTS ${T}`);
    await db.execute(`CREATE TABLE ${T} (id int PRIMARY KEY)`);
  });
  afterAll(async () => {
    await db.execute(`DROP TABLE IF EXISTS ${T}`);
    await db.close();
  });

  for (const variant of ["plain", "timeoutMs"] as const) {
    test(`executeMany (${variant}) failing at set 2 + concurrent INSERT reported ok: the INSERT's row stays`, async () => {
      await db.execute(`DELETE FROM ${T}`);
      const opts = variant === "timeoutMs" ? { timeoutMs: 5000 } : undefined;
      const [many, single] = await db.withSession((s) =>
        Promise.allSettled([
          s.executeMany(`INSERT INTO ${T} (id) VALUES ($1)`, [[1], [1]], opts),
          s.execute(`INSERT INTO ${T} (id) VALUES (100)`),
        ]),
      );
      const rows = (await db.select<{ id: number }>(`SELECT id FROM ${T} ORDER BY id`)).map((r) => r.id);
      console.log(
        variant,
        "executeMany:",
        many.status,
        "single INSERT:",
        single.status,
        single.status === "rejected" ? String((single as PromiseRejectedResult).reason) : "",
        "rows:",
        rows,
      );
      expect(many.status).toBe("rejected");
      // Whatever happened to it, a statement reported as succeeded must have its effect.
      if (single.status === "fulfilled") expect(rows).toEqual([100]);
    });
  }

  test("executeStack (timeoutMs) failing + concurrent INSERT issued right after", async () => {
    await db.execute(`DELETE FROM ${T}`);
    const [stack, single] = await db.withSession((s) =>
      Promise.allSettled([
        s.executeStack([`INSERT INTO ${T} (id) VALUES (1)`, `INSERT INTO ${T} (id) VALUES (1)`], { timeoutMs: 5000 }),
        s.execute(`INSERT INTO ${T} (id) VALUES (200)`),
      ]),
    );
    const rows = (await db.select<{ id: number }>(`SELECT id FROM ${T} ORDER BY id`)).map((r) => r.id);
    console.log(
      "executeStack:",
      stack.status,
      String((stack as PromiseRejectedResult).reason).slice(0, 100),
      "single INSERT:",
      single.status,
      "rows:",
      rows,
    );
    expect(stack.status).toBe("rejected");
    if (single.status === "fulfilled") expect(rows).toEqual([200]);
  });
});
