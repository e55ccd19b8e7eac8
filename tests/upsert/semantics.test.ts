/**
 * What `session.upsert` / `loadRecords` mean, on pg, postgres.js and PGlite:
 * - the source is typed by the server when the statement runs, so DDL between calls (ADD COLUMN, a widened numeric,
 *   another schema first on search_path) can never make it use stale types;
 * - the default is INSERT … ON CONFLICT (race-free under concurrent writers); MERGE only as an explicit strategy;
 *   `on` must be a unique key, and a key given twice in one batch is one typed error (or `duplicates: "last-wins"`);
 * - every source (one JSON parameter or COPY) stores the same values, and a JSON string bound to json/jsonb means the
 *   same document everywhere.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import {
  CardinalityViolationError,
  InvalidColumnReferenceError,
  type SQLSpecError,
  UniqueViolationError,
} from "../../src/core/errors.js";
import type { DatabaseConfig } from "../../src/driver/database-config.js";
import type { Session } from "../../src/driver/session.js";
import { sql } from "../../src/index.js";
import { PG_URL } from "../support/servers.js";

type AnyConfig = DatabaseConfig<any, any, any>;

/** Both sources: one JSON parameter (default for few rows) and COPY staging (copyThreshold 0). */
const SOURCES = [
  { name: "json", opts: {} },
  { name: "copy", opts: { copyThreshold: 0 } },
] as const;

function semanticsSuite(engine: string, make: () => AnyConfig, concurrent: boolean): void {
  const p = `sem_${engine}`;
  let db: AnyConfig;
  let s: Session<any>;

  describe(`upsert semantics on ${engine}`, () => {
    beforeAll(async () => {
      db = make();
      s = await db.provideSession();
      await s.executeScript(`DROP SCHEMA IF EXISTS ${p}_a CASCADE; DROP SCHEMA IF EXISTS ${p}_b CASCADE`);
    });
    afterAll(async () => {
      await s.executeScript(
        `DROP SCHEMA IF EXISTS ${p}_a CASCADE; DROP SCHEMA IF EXISTS ${p}_b CASCADE;
         DROP TABLE IF EXISTS ${p}_t, ${p}_u, ${p}_v, ${p}_j`,
      );
      await s.release();
      await db.close();
    });

    async function table(name: string, cols: string): Promise<void> {
      await s.execute(`DROP TABLE IF EXISTS ${name}`);
      await s.execute(`CREATE TABLE ${name} ${cols}`);
    }

    /** DDL from another session of the same config: nothing the upserting session saw tells it about the change. */
    async function elsewhere(ddl: string): Promise<void> {
      await db.withSession((o) => o.execute(ddl));
    }

    for (const src of SOURCES) {
      test(`${src.name}: ADD COLUMN between two upserts is seen by the second`, async () => {
        const T = `${p}_t`;
        await table(T, "(id int PRIMARY KEY, a text)");
        await s.upsert(T, [{ id: 1, a: "x" }], { on: ["id"], ...src.opts });
        await elsewhere(`ALTER TABLE ${T} ADD COLUMN b numeric(12,4)`);
        await s.upsert(T, [{ id: 1, a: "y", b: "1.2345" }], { on: ["id"], ...src.opts });
        expect(await s.select(`SELECT id, a, b::text AS b FROM ${T}`)).toEqual([{ id: 1, a: "y", b: "1.2345" }]);
      });

      test(`${src.name}: widening numeric(10,2) to numeric(12,4) keeps 4 places on the next upsert`, async () => {
        const T = `${p}_t`;
        await table(T, "(id int PRIMARY KEY, v numeric(10,2))");
        await s.upsert(T, [{ id: 1, v: "1.2345" }], { on: ["id"], ...src.opts });
        expect(await s.selectValue(`SELECT v::text FROM ${T}`)).toBe("1.23");
        await elsewhere(`ALTER TABLE ${T} ALTER COLUMN v TYPE numeric(12,4)`);
        await s.upsert(T, [{ id: 1, v: "1.2345" }], { on: ["id"], ...src.opts });
        expect(await s.selectValue(`SELECT v::text FROM ${T}`)).toBe("1.2345");
      });

      test(`${src.name}: with two schemas on search_path the upsert types the table the name resolves to`, async () => {
        await s.executeScript(
          `DROP SCHEMA IF EXISTS ${p}_a CASCADE; DROP SCHEMA IF EXISTS ${p}_b CASCADE;
           CREATE SCHEMA ${p}_a; CREATE SCHEMA ${p}_b;
           CREATE TABLE ${p}_a.st (id int PRIMARY KEY, v numeric(10,2));
           CREATE TABLE ${p}_b.st (id int PRIMARY KEY, v numeric(12,4), w text)`,
        );
        // Its own session: on PGlite a session that SETs something holds the one connection until its release.
        await db.withSession(async (o) => {
          await o.execute(`SET search_path = ${p}_a, public`);
          await o.upsert("st", [{ id: 1, v: "1.2345" }], { on: ["id"], ...src.opts });
          await o.execute(`SET search_path = ${p}_b, public`);
          await o.upsert("st", [{ id: 1, v: "1.2345", w: "b" }], { on: ["id"], ...src.opts });
        });
        expect(await s.selectValue(`SELECT v::text FROM ${p}_a.st`)).toBe("1.23");
        expect(await s.select(`SELECT v::text AS v, w FROM ${p}_b.st`)).toEqual([{ v: "1.2345", w: "b" }]);
      });
    }

    test("the default is INSERT … ON CONFLICT from either source; MERGE is an explicit strategy", async () => {
      const T = `${p}_t`;
      await table(T, "(id int PRIMARY KEY, v text)");
      const small = await s.upsert(T, [{ id: 1, v: "a" }], { on: ["id"] });
      expect(small.operationType).toBe("INSERT");
      expect(small.metadata.strategy).toBe("insert-on-conflict");
      expect(small.statement).toMatch(/^INSERT INTO .* ON CONFLICT \("id"\) DO UPDATE/);
      const many = Array.from({ length: 3000 }, (_, i) => ({ id: i, v: `v${i}` }));
      const big = await s.upsert(T, many, { on: ["id"] });
      expect(big.metadata.strategy).toBe("copy-insert-on-conflict");
      expect(big.rowsAffected).toBe(3000);
      const merge = await s.upsert(T, [{ id: 1, v: "m" }], { on: ["id"], strategy: "merge" });
      expect(merge.operationType).toBe("MERGE");
      expect(merge.metadata.strategy).toBe("merge-json");
      const mergeCopy = await s.upsert(T, many, { on: ["id"], strategy: "merge" });
      expect(mergeCopy.metadata.strategy).toBe("copy-merge");
      expect(await s.selectValue(`SELECT count(*)::int FROM ${T}`)).toBe(3000);
    });

    for (const strategy of ["auto", "merge"] as const) {
      test(`strategy ${strategy}: an \`on\` that is not a unique key raises, naming the table's unique keys`, async () => {
        const T = `${p}_u`;
        await table(T, "(id int PRIMARY KEY, sku text, region text, v text, UNIQUE (sku, region))");
        await s.execute(`INSERT INTO ${T} VALUES (1, 'a', 'eu', 'x')`);
        for (const opts of [{}, { copyThreshold: 0 }]) {
          const err = (await s
            .upsert(T, [{ id: 2, sku: "a", region: "us", v: "y" }], { on: ["sku"], strategy, ...opts })
            .catch((e) => e)) as SQLSpecError;
          expect(err).toBeInstanceOf(InvalidColumnReferenceError);
          expect(err.message).toContain("(sku)");
          expect(err.message).toContain("(id)");
          expect(err.message).toContain("(sku, region)");
        }
        expect(await s.selectValue(`SELECT count(*)::int FROM ${T}`)).toBe(1);
        // A unique key in another column order is the same key.
        await s.upsert(T, [{ id: 2, sku: "a", region: "eu", v: "z" }], {
          on: ["region", "sku"],
          update: ["v"],
          strategy,
        });
        expect(await s.select(`SELECT id, v FROM ${T}`)).toEqual([{ id: 1, v: "z" }]);
      });
    }

    for (const src of SOURCES) {
      test(`${src.name}: a key given twice in one batch is one typed error before anything is sent`, async () => {
        const T = `${p}_t`;
        await table(T, "(id int, k text, v text, PRIMARY KEY (id, k))");
        const rows = [
          { id: 1, k: "a", v: "first" },
          { id: 2, k: "a", v: "other" },
          { id: 1, k: "a", v: "last" },
        ];
        for (const strategy of ["auto", "merge"] as const) {
          const err = (await s
            .upsert(T, rows, { on: ["id", "k"], strategy, ...src.opts })
            .catch((e) => e)) as SQLSpecError;
          expect(err).toBeInstanceOf(CardinalityViolationError);
          expect(err.message).toMatch(/rows 0 and 2/);
          expect(err.message).toContain("(id, k)");
          expect(err.message).not.toContain("first");
          expect(err.detail).toBe("Key (id, k)=(1, a) is duplicated");
        }
        expect(await s.selectValue(`SELECT count(*)::int FROM ${T}`)).toBe(0);
        const r = await s.upsert(T, rows, { on: ["id", "k"], duplicates: "last-wins", ...src.opts });
        expect(r.rowsAffected).toBe(2);
        expect(await s.select(`SELECT id, v FROM ${T} ORDER BY id`)).toEqual([
          { id: 1, v: "last" },
          { id: 2, v: "other" },
        ]);
      });
    }

    test("every source and plain INSERT store the same NaN, ±Infinity and out-of-range years", async () => {
      const T = `${p}_v`;
      await table(T, "(id int PRIMARY KEY, f float8, n numeric, ts timestamptz, d date, tsl timestamp)");
      const late = new Date(Date.UTC(10_000, 0, 1, 12));
      const early = new Date(Date.UTC(-1, 5, 1, 12));
      const values = [
        [Number.NaN, Number.NaN, late, late, late],
        [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, early, early, early],
        [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, late, early, late],
      ];
      const rowsFor = (base: number) => values.map(([f, n, ts, d, tsl], i) => ({ id: base + i, f, n, ts, d, tsl }));
      for (const [i, v] of rowsFor(0).entries()) {
        await s.execute(`INSERT INTO ${T} VALUES ($1, $2, $3, $4, $5, $6)`, [i, v.f, v.n, v.ts, v.d, v.tsl]);
      }
      await s.upsert(T, rowsFor(10), { on: ["id"] });
      await s.upsert(T, rowsFor(20), { on: ["id"], copyThreshold: 0 });
      await s.upsert(T, rowsFor(30), { on: ["id"], strategy: "merge" });
      await s.loadRecords(T, rowsFor(40));
      const text = await s.select<{ id: number; r: string }>(
        `SELECT id, concat_ws('|', f, n, ts AT TIME ZONE 'UTC', d, tsl) AS r FROM ${T} ORDER BY id`,
      );
      const byBase = new Map<number, string[]>();
      for (const { id, r } of text) byBase.set(Math.floor(id / 10), [...(byBase.get(Math.floor(id / 10)) ?? []), r]);
      const plain = byBase.get(0);
      expect(plain?.[0]).toBe("NaN|NaN|10000-01-01 12:00:00|10000-01-01|10000-01-01 12:00:00");
      expect(plain?.[1]).toBe("Infinity|Infinity|0002-06-01 12:00:00 BC|0002-06-01 BC|0002-06-01 12:00:00 BC");
      for (const base of [1, 2, 3, 4]) expect(byBase.get(base)).toEqual(plain);
    });

    test("a JSON string bound to jsonb/json is the document it spells on every path; sql.json(s) is a JSON string", async () => {
      const T = `${p}_j`;
      await table(T, "(id int PRIMARY KEY, doc jsonb, raw json)");
      const text = '{"a": [1, 2]}';
      await s.execute(`INSERT INTO ${T} VALUES ($1, $2, $3)`, [1, text, text]);
      await s.upsert(T, [{ id: 2, doc: text, raw: text }], { on: ["id"] });
      await s.upsert(T, [{ id: 3, doc: text, raw: text }], { on: ["id"], copyThreshold: 0 });
      await s.upsert(T, [{ id: 4, doc: text, raw: text }], { on: ["id"], strategy: "merge" });
      await s.loadRecords(T, [{ id: 5, doc: text, raw: text }]);
      await s.execute(sql.insertInto(T).values({ id: 6, doc: text, raw: text }));
      const wrapped = sql.json(text);
      await s.execute(`INSERT INTO ${T} VALUES ($1, $2, $3)`, [11, wrapped, wrapped]);
      await s.upsert(T, [{ id: 12, doc: wrapped, raw: wrapped }], { on: ["id"] });
      await s.upsert(T, [{ id: 13, doc: wrapped, raw: wrapped }], { on: ["id"], copyThreshold: 0 });
      await s.loadRecords(T, [{ id: 15, doc: wrapped, raw: wrapped }]);
      const got = await s.select<{ id: number; d: string; r: string }>(
        `SELECT id, jsonb_typeof(doc) AS d, json_typeof(raw) AS r FROM ${T} ORDER BY id`,
      );
      expect(got.filter((g) => g.id < 10).map((g) => [g.d, g.r])).toEqual(Array(6).fill(["object", "object"]));
      expect(got.filter((g) => g.id > 10).map((g) => [g.d, g.r])).toEqual(Array(4).fill(["string", "string"]));
    });

    if (concurrent) {
      for (const [strategy, raises] of [
        ["auto", false],
        ["merge", true],
      ] as const) {
        test(`concurrent writers of a new key: ${strategy} ${raises ? "raises a unique violation (why it is not the default)" : "updates, never raises"}`, async () => {
          const T = `${p}_t`;
          await table(T, "(id int PRIMARY KEY, v text)");
          const other = await db.provideSession();
          try {
            await s.begin();
            await s.upsert(T, [{ id: 7, v: "first" }], { on: ["id"] });
            // The second writer blocks on the first one's uncommitted row, then sees it committed.
            const second = other.upsert(T, [{ id: 7, v: "second" }], { on: ["id"], strategy }).then(
              () => undefined,
              (e: unknown) => e,
            );
            await new Promise((r) => setTimeout(r, 300));
            await s.commit();
            const err = await second;
            if (raises) expect(err).toBeInstanceOf(UniqueViolationError);
            else expect(err).toBeUndefined();
            expect(await s.selectValue(`SELECT v FROM ${T} WHERE id = 7`)).toBe(raises ? "first" : "second");
          } finally {
            if (s.inTransaction) await s.rollback();
            await other.release();
          }
        });
      }
    }
  });
}

semanticsSuite("pg", () => new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 3 } }), true);
semanticsSuite("pgjs", () => new PostgresJsConfig({ poolConfig: { connectionString: PG_URL, maxSize: 3 } }), true);
semanticsSuite("lite", () => new PgliteConfig({ driverFeatures: { enablePgvector: false } }), false);
