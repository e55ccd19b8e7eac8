/**
 * `session.execute(sql.merge()…using(rows)…)` past the COPY threshold: the rows are COPY-staged and the same WHEN
 * clauses run against the staged table (prepareMergeExecution inside a transaction, executeStagedMerge anywhere).
 * Also the INSERT … ON CONFLICT path a pre-15 server gets (version stubbed: only 15 runs here).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { merge } from "../../src/builder/merge.js";
import type { DatabaseConfig } from "../../src/driver/database-config.js";
import { executeStagedMerge, prepareMergeExecution } from "../../src/driver/merge-staging.js";
import { bulkHostOf, type Session } from "../../src/driver/session.js";
import { PG_URL } from "../support/servers.js";

function rows(from: number, n: number, v: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, k) => ({
    id: from + k,
    name: `n${from + k}\t${v}`,
    price: `${(from + k) % 100}.5`,
    qty: (from + k) % 3,
    seen: new Date(Date.UTC(2024, 0, 1) + (from + k) * 1000),
  }));
}

function upsertMerge(table: string, data: Record<string, unknown>[]) {
  return merge()
    .into(table, "t")
    .using(data, "src")
    .on("t.id = src.id")
    .whenMatchedThenUpdate({ name: "src.name", price: "src.price", stock: "t.stock + src.qty", seen: "src.seen" })
    .whenNotMatchedThenInsert({
      id: "src.id",
      name: "src.name",
      price: "src.price",
      stock: "src.qty",
      seen: "src.seen",
    });
}

function stagingSuite(engine: string, makeConfig: () => DatabaseConfig<any, any, any>, prefix: string): void {
  describe(`MERGE staging on ${engine}`, () => {
    let config: DatabaseConfig<any, any, any>;
    let s: Session<any>;
    const T = `${prefix}_t`;
    const REF = `${prefix}_ref`;

    beforeAll(async () => {
      config = makeConfig();
      s = await config.provideSession();
    });
    afterAll(async () => {
      await s.execute(`DROP TABLE IF EXISTS ${T}`);
      await s.execute(`DROP TABLE IF EXISTS ${REF}`);
      await s.release();
      await config.close();
    });

    async function fresh(): Promise<void> {
      for (const t of [T, REF]) {
        await s.execute(`DROP TABLE IF EXISTS ${t}`);
        await s.execute(
          `CREATE TABLE ${t} (id int PRIMARY KEY, name text, price numeric(8,2), stock int, seen timestamptz)`,
        );
        await s.execute(
          `INSERT INTO ${t} SELECT g, 'old', 1, 10, timestamptz '2020-01-01' FROM generate_series(0, 1999) g`,
        );
      }
      s.dataDictionary.invalidate(T);
      s.dataDictionary.invalidate(REF);
    }

    async function same(): Promise<void> {
      const q = (t: string) => `SELECT count(*) AS n, md5(string_agg(x::text, ',' ORDER BY id)) AS h FROM ${t} x`;
      expect(await s.selectOne(q(T))).toEqual(await s.selectOne(q(REF)));
    }

    test("inside a transaction, session.execute stages past the threshold; same result as the jsonb source", async () => {
      await fresh();
      const data = rows(1000, 3000, 1);
      await s.transaction(async () => {
        const r = await s.execute(upsertMerge(T, data));
        expect(r.rowsAffected).toBe(3000);
        expect(r.metadata.strategy).toBe("copy-merge");
      });
      // ON COMMIT DROP: the staged table went with the transaction.
      const left = await s.selectValue(
        "SELECT count(*) FROM pg_class WHERE relname LIKE 'sqlspec%stage%' AND relnamespace = pg_my_temp_schema()",
      );
      expect(Number(left)).toBe(0);
      // Reference: the builder's own single-parameter jsonb source, a few rows at a time (below the threshold).
      for (let i = 0; i < data.length; i += 500) {
        const r = await s.execute(upsertMerge(REF, data.slice(i, i + 500)));
        expect(r.metadata.strategy).toBeUndefined();
      }
      await same();
    });

    test("executeStagedMerge works outside a transaction and leaves no staging table", async () => {
      await fresh();
      const data = rows(500, 4000, 2);
      const r = await executeStagedMerge(bulkHostOf(s), upsertMerge(T, data));
      expect(r?.rowsAffected).toBe(4000);
      expect(r?.metadata.strategy).toBe("copy-merge");
      expect(s.inTransaction).toBe(false);
      for (let i = 0; i < data.length; i += 1000) await s.execute(upsertMerge(REF, data.slice(i, i + 1000)));
      await same();
      const left = await s.selectValue(
        "SELECT count(*) FROM pg_class WHERE relname LIKE 'sqlspec%stage%' AND relnamespace = pg_my_temp_schema()",
      );
      expect(Number(left)).toBe(0);
      // Plain session.execute outside a transaction is correct whichever source the session picks.
      await s.execute(upsertMerge(T, rows(0, 2500, 3)));
      await s.execute(upsertMerge(REF, rows(0, 1250, 3)));
      await s.execute(upsertMerge(REF, rows(1250, 1250, 3)));
      await same();
    });

    test("small sources and non-row sources render as-is", async () => {
      await fresh();
      expect(await prepareMergeExecution(bulkHostOf(s), upsertMerge(T, rows(0, 10, 1)))).toBeUndefined();
      expect(await executeStagedMerge(bulkHostOf(s), upsertMerge(T, rows(0, 10, 1)))).toBeUndefined();
      const fromTable = merge().into(T, "t").using(REF, "src").on("t.id = src.id").whenMatchedThenDelete();
      expect(await executeStagedMerge(bulkHostOf(s), fromTable)).toBeUndefined();
    });

    test("a staged source failing a constraint rolls everything back", async () => {
      await fresh();
      const before = await s.selectValue(`SELECT md5(string_agg(x::text, ',' ORDER BY id)) FROM ${T} x`);
      const bad = rows(1500, 3000, 4);
      (bad[2999] as Record<string, unknown>).price = "123456789";
      await expect(executeStagedMerge(bulkHostOf(s), upsertMerge(T, bad))).rejects.toMatchObject({ sqlState: "22003" });
      expect(await s.selectValue(`SELECT md5(string_agg(x::text, ',' ORDER BY id)) FROM ${T} x`)).toBe(before);
    });

    test("a source column used only in an expression keeps its own type, from JSON and from a stage", async () => {
      const D = `${prefix}_d`;
      await s.execute(`DROP TABLE IF EXISTS ${D}`);
      await s.execute(`CREATE TABLE ${D} (id int PRIMARY KEY, price numeric(10,3), discount numeric(4,2))`);
      try {
        for (const n of [1, 3000]) {
          await s.execute(`DELETE FROM ${D}`);
          await s.execute(`INSERT INTO ${D} SELECT g, 100, 0 FROM generate_series(0, ${n - 1}) g`);
          const data = Array.from({ length: n }, (_, i) => ({ id: i, discount: 0.125 }));
          // discount only feeds an expression: typed by its value (0.125), never rounded to the target's numeric(4,2).
          const m = merge()
            .into(D, "t")
            .using(data, "src")
            .on("t.id = src.id")
            .whenMatchedThenUpdate({ price: "t.price * (1 - src.discount)" });
          const r = n > 1 ? await executeStagedMerge(bulkHostOf(s), m) : await s.execute(m);
          expect(r?.rowsAffected).toBe(n);
          if (n > 1) expect(r?.metadata.strategy).toBe("copy-merge");
          expect(await s.selectValue(`SELECT DISTINCT price::text FROM ${D}`)).toBe("87.500");
        }
      } finally {
        await s.execute(`DROP TABLE IF EXISTS ${D}`);
      }
    });

    test("a server before 15 gets INSERT … ON CONFLICT from the same sources", async () => {
      await fresh();
      const dd = s.dataDictionary as unknown as { getVersion: () => Promise<unknown> };
      const real = dd.getVersion;
      dd.getVersion = async () => ({ versionNum: 140010, version: "14.10" });
      try {
        const plain = rows(1000, 3000, 5).map(({ qty, ...r }): Record<string, unknown> => ({ ...r, stock: qty }));
        const small = await s.upsert(T, plain.slice(0, 100), { on: ["id"] });
        expect(small.metadata.strategy).toBe("insert-on-conflict");
        expect(small.statement).toMatch(/^INSERT INTO .* ON CONFLICT \("id"\) DO UPDATE SET/);
        const big = await s.upsert(T, plain.slice(100), { on: ["id"] });
        expect(big.metadata.strategy).toBe("copy-insert-on-conflict");
        expect(big.rowsAffected).toBe(2900);
        await expect(s.upsert(T, plain, { on: ["id"], strategy: "merge-json" })).rejects.toThrow(/PostgreSQL 15/);
      } finally {
        dd.getVersion = real;
      }
      const plain = rows(1000, 3000, 5).map(({ qty, ...r }): Record<string, unknown> => ({ ...r, stock: qty }));
      await s.upsert(REF, plain, { on: ["id"], strategy: "merge-json" });
      await same();
    });
  });
}

stagingSuite("pg", () => new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 2 } }), "bulk_ms_pg");
stagingSuite("pglite", () => new PgliteConfig(), "bulk_ms_lite");
