/**
 * pg without the optional pg-copy-streams: the adapter says so when the pool is made (capabilities.copy false), and
 * upsert/loadRecords use JSON sources at every size, never failing once a batch passes the COPY threshold.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadPg, PgAdapter } from "../../src/adapters/pg/driver.js";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { SQLBuilderError } from "../../src/core/errors.js";
import type { Session } from "../../src/driver/session.js";
import { PG_URL } from "../support/servers.js";

/** PgConfig as it is made when `import("pg-copy-streams")` finds no package. */
class NoCopyPgConfig extends PgConfig {
  protected override async createAdapter(): Promise<PgAdapter> {
    return new PgAdapter(await loadPg("PgConfig"), {
      pool: this.poolConfig,
      features: this.features,
      statementCacheSize: 100,
      statementCacheBytes: 1024 * 1024,
      copyFrom: undefined,
    });
  }
}

describe("pg without pg-copy-streams", () => {
  const T = "nocopy_items";
  const db = new NoCopyPgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 2 } });
  let s: Session<any>;

  beforeAll(async () => {
    s = await db.provideSession();
    await s.execute(`DROP TABLE IF EXISTS ${T}`);
    await s.execute(`CREATE TABLE ${T} (id int PRIMARY KEY, name text NOT NULL, qty int)`);
  });
  afterAll(async () => {
    await s.execute(`DROP TABLE IF EXISTS ${T}`);
    await s.release();
    await db.close();
  });

  test("the adapter declares no COPY; upsert past the threshold (and past a JSON chunk) runs from JSON", async () => {
    expect(s.adapter.capabilities.copy).toBe(false);
    for (const n of [2001, 25_000]) {
      const rows = Array.from({ length: n }, (_, i) => ({ id: i, name: `n${n}-${i}`, qty: i }));
      const r = await s.upsert(T, rows, { on: ["id"] });
      expect(r.metadata.strategy).toBe("insert-on-conflict");
      expect(r.rowsAffected).toBe(n);
      expect(await s.selectValue(`SELECT count(*)::int FROM ${T}`)).toBe(n);
      expect(await s.selectValue(`SELECT name FROM ${T} WHERE id = $1`, [n - 1])).toBe(`n${n}-${n - 1}`);
    }
    const merged = await s.upsert(T, [{ id: 1, name: "m", qty: 1 }], { on: ["id"], strategy: "merge" });
    expect(merged.metadata.strategy).toBe("merge-json");
    // Asking for COPY explicitly is a typed error before anything is sent.
    await expect(s.upsert(T, [{ id: 1, name: "x", qty: 1 }], { on: ["id"], strategy: "copy-merge" })).rejects.toThrow(
      SQLBuilderError,
    );
    expect(await s.selectValue(`SELECT name FROM ${T} WHERE id = 1`)).toBe("m");
  });

  test("loadRecords of any size, array or async iterable, loads from JSON", async () => {
    await s.execute(`DELETE FROM ${T}`);
    const rows = Array.from({ length: 2001 }, (_, i) => ({ id: i, name: `l${i}`, qty: i }));
    const r = await s.loadRecords(T, rows);
    expect(r.metadata.strategy).toBe("json");
    expect(r.rowsAffected).toBe(2001);
    async function* more(): AsyncGenerator<unknown[]> {
      for (let i = 5000; i < 7001; i++) yield [i, `a${i}`, i];
    }
    const a = await s.loadRecords(T, more(), { columns: ["id", "name", "qty"] });
    expect(a.rowsAffected).toBe(2001);
    expect(await s.selectValue(`SELECT count(*)::int FROM ${T}`)).toBe(4002);
  });
});
