/**
 * session.upsert / session.loadRecords against the PostgreSQL server (PgConfig) and PGlite: the result of every
 * strategy equals a reference upsert written in plain SQL (count + md5 over the ordered rows), and bad input fails
 * cleanly before (or without) writing anything.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import { CheckViolationError, NotNullViolationError, SQLBuilderError } from "../../src/core/errors.js";
import type { DatabaseConfig } from "../../src/driver/database-config.js";
import type { Session } from "../../src/driver/session.js";
import { PG_URL } from "../support/servers.js";

const COLUMNS = `(id int PRIMARY KEY, name text, price numeric(12,2), stock int CHECK (stock >= 0), updated_at timestamptz,
  tags text[], meta jsonb, big bigint, note text NOT NULL DEFAULT '')`;

/** Row i of a given version, built in JS; `referenceSql` builds the identical row in SQL. */
function row(i: number, v: number): Record<string, unknown> {
  return {
    id: i,
    name: i % 7 === 0 ? null : `n${i}\t\\N\n"é😀 ${v}`,
    price: `${i % 1000}.${String(i % 100).padStart(2, "0")}`,
    stock: i % 13 === 0 ? null : i % 77,
    updated_at: new Date(Date.UTC(2024, 0, 1) + i * 1000 + v * 7),
    tags: i % 5 === 0 ? null : [`t${i}`, "a b", null],
    meta: { i, v, s: "x\ny" },
    big: BigInt(i) * 1_000_000_000_000n,
  };
}

function rows(from: number, count: number, v: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, k) => row(from + k, v));
}

const DATA_COLS = "id, name, price, stock, updated_at, tags, meta, big";
function referenceSelect(from: number, count: number, v: number): string {
  return `SELECT g,
    CASE WHEN g % 7 = 0 THEN NULL ELSE 'n' || g || E'\\t\\\\N\\n"é😀 ' || ${v} END,
    ((g % 1000) || '.' || lpad((g % 100)::text, 2, '0'))::numeric,
    CASE WHEN g % 13 = 0 THEN NULL ELSE g % 77 END,
    timestamptz '2024-01-01 00:00:00+00' + make_interval(secs => g + ${v * 7} / 1000.0),
    CASE WHEN g % 5 = 0 THEN NULL ELSE ARRAY['t' || g, 'a b', NULL] END,
    jsonb_build_object('i', g, 'v', ${v}, 's', E'x\\ny'),
    g::bigint * 1000000000000
  FROM generate_series(${from}, ${from + count - 1}) g`;
}
function referenceUpsert(table: string, from: number, count: number, v: number): string {
  return `INSERT INTO ${table} (${DATA_COLS}) ${referenceSelect(from, count, v)}
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, price = excluded.price, stock = excluded.stock,
    updated_at = excluded.updated_at, tags = excluded.tags, meta = excluded.meta, big = excluded.big`;
}

async function checksum(s: Session<any>, table: string): Promise<{ count: number; md5: string | null }> {
  const r = await s.selectOne<{ count: unknown; md5: string | null }>(
    `SELECT count(*) AS count, md5(string_agg(t::text, ',' ORDER BY id)) AS md5 FROM ${table} t`,
  );
  return { count: Number(r.count), md5: r.md5 };
}

/** Counts statements the adapter is asked to run (plus COPYs), to prove "nothing was sent". */
function spyWrites(s: Session<any>): { writes: string[]; restore: () => void } {
  const adapter = s.adapter as any;
  const query = adapter.query;
  const copyIn = adapter.copyIn;
  const writes: string[] = [];
  adapter.query = function (this: unknown, conn: unknown, sql: string, ...rest: unknown[]) {
    if (!/^\s*(SELECT|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)/i.test(sql)) writes.push(sql);
    return query.call(adapter, conn, sql, ...rest);
  };
  adapter.copyIn = function (this: unknown, ...args: unknown[]) {
    writes.push("COPY");
    return copyIn.apply(adapter, args);
  };
  return {
    writes,
    restore: () => {
      adapter.query = query;
      adapter.copyIn = copyIn;
    },
  };
}

function upsertSuite(
  engine: string,
  makeConfig: () => DatabaseConfig<any, any, any>,
  prefix: string,
  sizes: readonly number[] = [1, 999, 10_000, 100_000],
): void {
  describe(`upsert on ${engine}`, () => {
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

    /** Both tables hold rows [from, to) of version 0. */
    async function fresh(to: number, from = 0): Promise<void> {
      for (const t of [T, REF]) {
        await s.execute(`DROP TABLE IF EXISTS ${t}`);
        await s.execute(`CREATE TABLE ${t} ${COLUMNS}`);
      }
      if (to > from) {
        await s.execute(`INSERT INTO ${T} (${DATA_COLS}) ${referenceSelect(from, to - from, 0)}`);
        await s.execute(`INSERT INTO ${REF} SELECT * FROM ${T}`);
      }
      s.dataDictionary.invalidate(T);
    }

    for (const n of sizes) {
      // 100k rows on PGlite (WASM) take tens of seconds when the machine is loaded: a timeout, not a weaker check.
      test(`N=${n}, half overlapping: auto strategy equals the plain-SQL reference`, { timeout: 180_000 }, async () => {
        // Existing rows [n/2, n); the upsert covers [n/2, n/2 + n): half updates, half inserts.
        const start = Math.floor(n / 2);
        await fresh(n, start);
        const r = await s.upsert(T, rows(start, n, 1), { on: ["id"] });
        await s.execute(referenceUpsert(REF, start, n, 1));
        expect(r.rowsAffected).toBe(n);
        expect(r.metadata.strategy).toBe(
          n > (engine === "pglite" ? 1500 : 2000) ? "copy-insert-on-conflict" : "insert-on-conflict",
        );
        const [got, want] = [await checksum(s, T), await checksum(s, REF)];
        expect(got.count).toBe(n);
        expect(got).toEqual(want);
      });
    }

    for (const strategy of ["merge-json", "copy-merge", "insert-on-conflict"] as const) {
      test(`strategy ${strategy} gives the same table`, async () => {
        await fresh(3000);
        const r = await s.upsert(T, rows(1500, 3000, 1), { on: ["id"], strategy });
        await s.execute(referenceUpsert(REF, 1500, 3000, 1));
        expect(r.rowsAffected).toBe(3000);
        expect(r.metadata.strategy).toBe(strategy === "insert-on-conflict" ? "copy-insert-on-conflict" : strategy);
        expect(await checksum(s, T)).toEqual(await checksum(s, REF));
      });
    }

    test("insert-on-conflict from JSON below the threshold, and update: [] inserts only", async () => {
      await fresh(10);
      const r = await s.upsert(T, rows(5, 10, 1), { on: ["id"], strategy: "insert-on-conflict" });
      expect(r.metadata.strategy).toBe("insert-on-conflict");
      await s.execute(referenceUpsert(REF, 5, 10, 1));
      expect(await checksum(s, T)).toEqual(await checksum(s, REF));
      const before = await checksum(s, T);
      const r2 = await s.upsert(T, rows(0, 20, 2), { on: ["id"], update: [] });
      expect(r2.rowsAffected).toBe(5);
      expect((await checksum(s, T)).count).toBe(before.count + 5);
      const name = await s.selectValue(`SELECT name FROM ${T} WHERE id = 1`);
      expect(name).toContain(" 0");
    });

    test("explicit update columns leave the others alone", async () => {
      await fresh(4);
      await s.upsert(T, [{ id: 1, name: "renamed", stock: 5 }], { on: ["id"], update: ["name"] });
      const r = await s.selectOne<{ name: string; stock: number }>(`SELECT name, stock FROM ${T} WHERE id = 1`);
      expect(r).toEqual({ name: "renamed", stock: 1 });
    });

    test("rows = [] sends nothing", async () => {
      const spy = spyWrites(s);
      try {
        const r = await s.upsert(`${prefix}_missing_table`, [], { on: ["id"] });
        expect(r.rowsAffected).toBe(0);
        const l = await s.loadRecords(`${prefix}_missing_table`, []);
        expect(l.rowsAffected).toBe(0);
        expect(l.operationType).toBe("COPY");
      } finally {
        spy.restore();
      }
      expect(spy.writes).toEqual([]);
    });

    test("bad input raises SQLBuilderError naming the problem, before any write", async () => {
      await fresh(3);
      const before = await checksum(s, T);
      const spy = spyWrites(s);
      try {
        await expect(
          s.upsert(
            T,
            [
              { id: 1, name: "a" },
              { id: 2, nam: "b" },
            ],
            { on: ["id"] },
          ),
        ).rejects.toThrow(SQLBuilderError);
        await expect(
          s.upsert(
            T,
            [
              { id: 1, name: "a" },
              { id: 2, nam: "b" },
            ],
            { on: ["id"] },
          ),
        ).rejects.toThrow(/missing "name"; extra "nam"/);
        const untyped: Record<string, unknown>[] = [{ id: 1, name: "a" }];
        await expect(s.upsert(T, untyped, { on: ["sku"] })).rejects.toThrow(/"sku"/);
        await expect(s.upsert(T, [{ id: 1, colour: "red" }], { on: ["id"] })).rejects.toThrow(
          /no column\(s\) "colour"/,
        );
        await expect(
          s.upsert(
            T,
            rows(0, 3000, 1).map((r): Record<string, unknown> => ({ ...r, colour: 1 })),
            { on: ["id"] },
          ),
        ).rejects.toThrow(/"colour"/);
        await expect(s.upsert(T, [{ id: 1 }], { on: [] })).rejects.toThrow(SQLBuilderError);
        await expect(s.upsert(`${prefix}_nope`, [{ id: 1 }], { on: ["id"] })).rejects.toThrow(/not found/);
        await expect(s.loadRecords(T, [{ id: 9, colour: "red" }])).rejects.toThrow(/"colour"/);
      } finally {
        spy.restore();
      }
      expect(spy.writes).toEqual([]);
      expect(await checksum(s, T)).toEqual(before);
    });

    for (const n of [10, 5000]) {
      test(`one row violating a constraint (N=${n}) → typed error, nothing written`, async () => {
        await fresh(n);
        const before = await checksum(s, T);
        const bad = rows(n - 3, n, 1);
        (bad[Math.floor(n / 2)] as Record<string, unknown>).stock = -1;
        await expect(s.upsert(T, bad, { on: ["id"] })).rejects.toThrow(CheckViolationError);
        expect(await checksum(s, T)).toEqual(before);
        const nul = rows(n - 3, n, 1).map((r): Record<string, unknown> => ({ ...r, note: "x" }));
        (nul[n - 1] as Record<string, unknown>).note = null;
        await expect(s.upsert(T, nul, { on: ["id"] })).rejects.toThrow(NotNullViolationError);
        expect(await checksum(s, T)).toEqual(before);
      });
    }

    test("inside the caller's transaction: rolled back with it, committed with it, no staging table left", async () => {
      await fresh(100);
      const before = await checksum(s, T);
      await expect(
        s.transaction(async () => {
          await s.upsert(T, rows(50, 3000, 1), { on: ["id"] });
          throw new Error("caller aborts");
        }),
      ).rejects.toThrow("caller aborts");
      expect(await checksum(s, T)).toEqual(before);
      await s.transaction(async () => {
        const r = await s.upsert(T, rows(50, 3000, 1), { on: ["id"] });
        expect(r.metadata.strategy).toBe("copy-insert-on-conflict");
        const m = await s.upsert(T, rows(50, 3000, 1), { on: ["id"], strategy: "merge" });
        expect(m.metadata.strategy).toBe("copy-merge");
        const left = await s.selectValue(
          `SELECT count(*) FROM pg_class WHERE relname LIKE 'sqlspec%stage%' AND relnamespace = pg_my_temp_schema()`,
        );
        expect(Number(left)).toBe(0);
      });
      await s.execute(referenceUpsert(REF, 50, 3000, 1));
      expect(await checksum(s, T)).toEqual(await checksum(s, REF));
    });

    test("loadRecords: COPY from an array and from an async iterable", async () => {
      await fresh(0);
      const r = await s.loadRecords(T, rows(0, 5000, 1));
      expect(r.operationType).toBe("COPY");
      expect(r.rowsAffected).toBe(5000);
      async function* more(): AsyncGenerator<Record<string, unknown>> {
        for (let i = 5000; i < 25_000; i++) yield row(i, 1);
      }
      const r2 = await s.loadRecords(T, more());
      expect(r2.rowsAffected).toBe(20_000);
      await s.execute(`INSERT INTO ${REF} (${DATA_COLS}) ${referenceSelect(0, 25_000, 1)}`);
      expect(await checksum(s, T)).toEqual(await checksum(s, REF));
      const r3 = await s.loadRecords(T, [[30_000, "arr"]] as never, { columns: ["id", "name"] });
      expect(r3.rowsAffected).toBe(1);
    });
  });
}

upsertSuite("pg", () => new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 2 } }), "bulk_up_pg");
upsertSuite("pglite", () => new PgliteConfig(), "bulk_up_lite");
// postgres.js shares every code path above the adapter; its 100k case adds time, not coverage.
upsertSuite(
  "postgresjs",
  () => new PostgresJsConfig({ poolConfig: { connectionString: PG_URL, maxSize: 2 } }),
  "bulk_up_pgjs",
  [1, 999, 10_000],
);
