/**
 * The bulk engine's own stage (`CREATE TEMP TABLE sqlspec_stage … ON COMMIT DROP`, and its DROP) is no schema change
 * for anything else on the connection: the pool's catalog cache is kept (a second COPY-staged upsert reads no
 * catalog), pg keeps the application's prepared statements, and postgres.js keeps the connection (it discards one
 * after a real schema change, having no way to drop its prepared statements).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import type { DatabaseConfig, ObservabilityConfig } from "../../src/index.js";
import { PG_URL } from "../support/servers.js";

type Make = (observability: ObservabilityConfig) => DatabaseConfig<any, any, any>;

const targets: Array<[string, Make]> = [
  ["pg", (observability) => new PgConfig({ observability, poolConfig: { connectionString: PG_URL, maxSize: 1 } })],
  [
    "postgresjs",
    (observability) => new PostgresJsConfig({ observability, poolConfig: { connectionString: PG_URL, maxSize: 1 } }),
  ],
  ["pglite", (observability) => new PgliteConfig({ observability, driverFeatures: { enablePgvector: false } })],
];

const rows = (from: number, n: number) =>
  Array.from({ length: n }, (_, k) => ({ id: from + k, name: `n${from + k}`, price: "1.50" }));

describe.each(targets)("the upsert stage is private DDL on %s", (name, make) => {
  const sent: string[] = [];
  const db = make({ onQueryStart: (e) => sent.push(e.sql) });
  const T = `stage_ddl_${name}`;

  beforeAll(async () => {
    await db.withSession((s) =>
      s.executeScript(`DROP TABLE IF EXISTS ${T}; CREATE TABLE ${T} (id int PRIMARY KEY, name text, price numeric)`),
    );
  });
  afterAll(async () => {
    await db.withSession((s) => s.execute(`DROP TABLE IF EXISTS ${T}`));
    await db.close();
  });

  test("a COPY-staged upsert keeps the catalog cache: the next one reads no catalog", async () => {
    await db.withSession(async (s) => {
      const first = await s.upsert(T, rows(0, 10), { on: ["id"], copyThreshold: 0 });
      expect(first.metadata.strategy).toBe("copy-insert-on-conflict");
      sent.length = 0;
      const again = await s.upsert(T, rows(5, 10), { on: ["id"], copyThreshold: 0 });
      expect(again.rowsAffected).toBe(10);
      expect(sent.some((sql) => /CREATE TEMP TABLE/.test(sql))).toBe(true);
      expect(sent.filter((sql) => /pg_attribute|pg_catalog|information_schema/.test(sql))).toEqual([]);
      expect(await s.selectValue(`SELECT count(*)::int FROM ${T}`)).toBe(15);
    });
  });

  test("DDL of the application's own still drops the cache (the next upsert re-reads the columns)", async () => {
    await db.withSession(async (s) => {
      await s.upsert(T, rows(0, 2), { on: ["id"], copyThreshold: 0 });
      await s.execute(`ALTER TABLE ${T} ALTER COLUMN price TYPE numeric(10,1)`);
      sent.length = 0;
      await s.upsert(T, [{ id: 1, name: "x", price: "2.25" }], { on: ["id"], copyThreshold: 0 });
      expect(sent.some((sql) => /pg_attribute|pg_catalog|information_schema/.test(sql))).toBe(true);
      expect(await s.selectValue(`SELECT price::text FROM ${T} WHERE id = 1`)).toBe("2.3");
      await s.execute(`ALTER TABLE ${T} ALTER COLUMN price TYPE numeric`);
    });
  });

  if (name === "pg") {
    test("the application's prepared statements stay prepared across a staged upsert", async () => {
      await db.withSession(async (s) => {
        const text = "SELECT $1::int + 1 AS v";
        expect(await s.selectValue(text, [1])).toBe(2);
        await s.upsert(T, rows(100, 5), { on: ["id"], copyThreshold: 0 });
        const count = "SELECT count(*)::int FROM pg_prepared_statements WHERE statement = $1";
        expect(await s.selectValue(count, [text])).toBe(1);
      });
    });
  }

  if (name !== "pglite") {
    test("the connection is kept across a staged upsert (same backend in the next session)", async () => {
      const pid = await db.withSession(async (s) => {
        expect(await s.selectValue("SELECT $1::int + 1 AS v", [1])).toBe(2);
        await s.upsert(T, rows(200, 5), { on: ["id"], copyThreshold: 0 });
        return s.selectValue<number>("SELECT pg_backend_pid()");
      });
      expect(await db.withSession((s) => s.selectValue<number>("SELECT pg_backend_pid()"))).toBe(pid);
    });
  }
});
