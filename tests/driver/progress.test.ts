import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PgConfig } from "../../src/adapters/pg/index.js";
import type { Progress } from "../../src/driver/progress.js";
import { SQLSpec } from "../../src/index.js";
import { PG_URL } from "../support/servers.js";

const spec = new SQLSpec();
const db = spec.addConfig(new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 2 } }));
const T = "obs_progress";

beforeAll(async () => {
  await db.withSession((s) =>
    s.executeScript(`DROP TABLE IF EXISTS ${T}; CREATE TABLE ${T} (id int PRIMARY KEY, name text NOT NULL)`),
  );
});
afterAll(async () => {
  await db.withSession((s) => s.execute(`DROP TABLE IF EXISTS ${T}`));
  await spec.closeAllPools();
});

function expectProgress(calls: Progress[], total: number): void {
  expect(calls.length).toBeGreaterThanOrEqual(2);
  expectProgressShape(calls, total);
}

function expectProgressShape(calls: Progress[], total: number): void {
  expect(calls.length).toBeGreaterThanOrEqual(1);
  for (let i = 1; i < calls.length; i++) {
    expect((calls[i] as Progress).rows).toBeGreaterThan((calls[i - 1] as Progress).rows);
    expect((calls[i] as Progress).elapsedMs).toBeGreaterThanOrEqual((calls[i - 1] as Progress).elapsedMs);
  }
  expect(calls.at(-1)?.rows).toBe(total);
  // At most every ~100 ms: the calls before the final one are spaced by the interval.
  for (let i = 1; i < calls.length - 1; i++) {
    expect((calls[i] as Progress).elapsedMs - (calls[i - 1] as Progress).elapsedMs).toBeGreaterThanOrEqual(99);
  }
}

describe("onProgress", () => {
  test("a 1M-row loadRecords from an async source reports increasing counts while it runs", async () => {
    await db.withSession((s) => s.execute(`TRUNCATE ${T}`));
    const N = 1_000_000;
    async function* rows() {
      for (let i = 1; i <= N; i++) yield { id: i, name: `row ${i}` };
    }
    const calls: Progress[] = [];
    const r = await db.withSession((s) => s.loadRecords(T, rows(), { onProgress: (p) => calls.push({ ...p }) }));
    expect(r.rowsAffected).toBe(N);
    expectProgress(calls, N);
    expect(calls.filter((c) => c.rows < N).length).toBeGreaterThanOrEqual(2); // during the load, not only at the end
    expect(await db.withSession((s) => s.selectValue(`SELECT count(*)::int FROM ${T}`))).toBe(N);
  }, 300_000);

  test("loadRecords and upsert of an array report during the COPY and at the end", async () => {
    await db.withSession((s) => s.execute(`TRUNCATE ${T}`));
    const N = 300_000;
    const rows = Array.from({ length: N }, (_, i) => ({ id: i + 1, name: `n${i}` }));
    // An array is encoded as fast as the socket takes it: on an idle machine 300k rows can pass in less than one
    // reporting interval (100 ms), so only the shape is certain — increasing counts, spaced, ending at the total.
    // Reports *during* a load are asserted for a streamed source above, which is paced by its producer.
    const load: Progress[] = [];
    await db.withSession((s) => s.loadRecords(T, rows, { onProgress: (p) => load.push({ ...p }) }));
    expectProgressShape(load, N);
    const up: Progress[] = [];
    const r = await db.withSession((s) => s.upsert(T, rows, { on: ["id"], onProgress: (p) => up.push({ ...p }) }));
    expect(r.metadata?.strategy).toBe("copy-insert-on-conflict");
    expectProgressShape(up, N);
  }, 300_000);

  test("stream reports rows read; a callback that throws does not break it", async () => {
    const calls: Progress[] = [];
    let n = 0;
    await db.withSession(async (s) => {
      for await (const _ of s.stream(`SELECT g FROM generate_series(1, 200000) g`, [], {
        batchSize: 5000,
        onProgress: (p) => {
          calls.push({ ...p });
          throw new Error("progress bug");
        },
      })) {
        n++;
      }
    });
    expect(n).toBe(200_000);
    expect(calls.at(-1)?.rows).toBe(200_000);
    for (let i = 1; i < calls.length; i++)
      expect((calls[i] as Progress).rows).toBeGreaterThan((calls[i - 1] as Progress).rows);
  });

  test("small work still gets one final report", async () => {
    const calls: Progress[] = [];
    await db.withSession((s) => s.upsert(T, [{ id: 1, name: "x" }], { on: ["id"], onProgress: (p) => calls.push(p) }));
    expect(calls.map((c) => c.rows)).toEqual([1]);
  });
});
