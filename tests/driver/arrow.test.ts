import { Field, makeData, RecordBatch, Schema, Struct, Table, TimeMillisecond, tableFromArrays } from "apache-arrow";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DuckdbConfig } from "../../src/adapters/duckdb/index.js";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import { SqliteConfig } from "../../src/adapters/sqlite/index.js";
import {
  type DatabaseConfig,
  DataError,
  NotNullViolationError,
  ParameterError,
  type Session,
  SQLSpec,
  UniqueViolationError,
  UnsupportedOperationError,
} from "../../src/index.js";
import { PG_URL } from "../support/servers.js";

/**
 * session.selectToArrow / loadArrow on every PostgreSQL adapter: the schema comes from the result's type OIDs, values
 * keep their precision (int8 as bigint, numeric exact, microseconds with timestamps: "string"), NULLs stay nulls, the
 * streaming form yields RecordBatches, and loadArrow loads through COPY atomically.
 */
type AnyConfig = DatabaseConfig<any, any, any>;
type Features = { timestamps?: "date" | "string"; int8?: "number" | "bigint" | "string" };

const adapters: [string, (f: Features) => AnyConfig][] = [
  ["pglite", (f) => new PgliteConfig({ driverFeatures: { enablePgvector: false, ...f } })],
  ["pg", (f) => new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 2 }, driverFeatures: f })],
  [
    "postgresjs",
    (f) => new PostgresJsConfig({ poolConfig: { connectionString: PG_URL, maxSize: 2 }, driverFeatures: f }),
  ],
];

const BIG = 9007199254740993n; // 2^53 + 1: a float64 would round it

/** A Decimal128 value's words as the unscaled bigint. */
function decimalUnscaled(words: Uint32Array): bigint {
  let n = 0n;
  for (let k = 3; k >= 0; k--) n = (n << 32n) | BigInt(words[k] as number);
  return n >> 127n === 1n ? n - (1n << 128n) : n;
}

for (const [name, makeConfig] of adapters) {
  describe(`Arrow on ${name}`, () => {
    const T = `arrow_${name}_types`;
    const L = `arrow_${name}_load`;
    const spec = new SQLSpec();
    let db: AnyConfig;
    let textDb: AnyConfig;
    let numberDb: AnyConfig;
    const run = <R>(fn: (s: Session<any>) => Promise<R>): Promise<R> => db.withSession(fn);

    beforeAll(async () => {
      // int8 beyond 2^53 needs int8 "bigint" or "string" (as every read does); the default "number" is streamed below.
      db = spec.addConfig(makeConfig({ int8: "bigint" }));
      textDb = spec.addConfig(makeConfig({ timestamps: "string", int8: "string" }));
      numberDb = spec.addConfig(makeConfig({}));
      // PGlite configs are separate in-memory databases: each gets the tables.
      const configs = name === "pglite" ? [db, textDb] : [db];
      for (const config of configs) {
        await config.withSession((s) =>
          s.executeScript(`
          DROP TABLE IF EXISTS ${T};
          CREATE TABLE ${T} (id int2, i4 int4, i8 int8, f4 float4, f8 float8, n numeric(12,4), b bool, t text,
            v varchar(10), by bytea, d date, ts timestamp, tz timestamptz, j json, jb jsonb, ia int4[], ta text[],
            i8a int8[], u uuid);
          INSERT INTO ${T} VALUES
            (1, 2147483647, ${BIG}, 1.5, 2.25, 12345678.1234, true, 'héllo', 'v', '\\x00ff', '2024-02-29',
             '2024-05-06 07:08:09.123456', '2024-05-06 07:08:09.123456+00', '{"a": [1, 2]}', '{"b": null}',
             '{1,NULL,3}', '{"x y",NULL}', '{${BIG}}', '5f0c6b64-8a5c-4d6e-9b7a-0d3a1c9f2e11'),
            (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
             NULL);
          DROP TABLE IF EXISTS ${L};
          CREATE TABLE ${L} (id int8 PRIMARY KEY, amount numeric(12,4), at timestamptz, tags text[], note text NOT NULL);
        `),
        );
      }
      // PGlite instances start slowly on a loaded machine.
    }, 180_000);
    afterAll(async () => {
      await run((s) => s.executeScript(`DROP TABLE IF EXISTS ${T}; DROP TABLE IF EXISTS ${L};`));
      await spec.closeAllPools();
    });

    test("the schema comes from the column types; values keep precision; NULLs stay null", async () => {
      const table = await run((s) => s.selectToArrow(`SELECT * FROM ${T} ORDER BY id`));
      expect(table.numRows).toBe(2);
      const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
      expect(types).toEqual({
        id: "Int16",
        i4: "Int32",
        i8: "Int64",
        f4: "Float32",
        f8: "Float64",
        n: "Utf8",
        b: "Bool",
        t: "Utf8",
        v: "Utf8",
        by: "Binary",
        d: "Date32<DAY>",
        ts: "Timestamp<MILLISECOND>",
        tz: "Timestamp<MILLISECOND, UTC>",
        j: "Utf8",
        jb: "Utf8",
        ia: "List<Int32>",
        ta: "List<Utf8>",
        i8a: "List<Int64>",
        u: "Utf8",
      });
      const row = table.get(0)?.toJSON() as Record<string, unknown>;
      expect(row.id).toBe(1);
      expect(row.i4).toBe(2147483647);
      expect(row.i8).toBe(BIG);
      expect(row.f4).toBe(1.5);
      expect(row.f8).toBe(2.25);
      expect(row.n).toBe("12345678.1234");
      expect(row.b).toBe(true);
      expect(row.t).toBe("héllo");
      expect([...(row.by as Uint8Array)]).toEqual([0, 255]);
      expect(row.d).toBe(Date.UTC(2024, 1, 29));
      expect(row.ts).toBe(Date.UTC(2024, 4, 6, 7, 8, 9, 123));
      expect(row.tz).toBe(Date.UTC(2024, 4, 6, 7, 8, 9, 123));
      expect(JSON.parse(row.j as string)).toEqual({ a: [1, 2] });
      expect(JSON.parse(row.jb as string)).toEqual({ b: null });
      expect([...(row.ia as Iterable<unknown>)]).toEqual([1, null, 3]);
      expect([...(row.ta as Iterable<unknown>)]).toEqual(["x y", null]);
      expect([...(row.i8a as Iterable<unknown>)]).toEqual([BIG]);
      expect(row.u).toBe("5f0c6b64-8a5c-4d6e-9b7a-0d3a1c9f2e11");
      const nulls = table.get(1)?.toJSON() as Record<string, unknown>;
      for (const [k, v] of Object.entries(nulls)) if (k !== "id") expect([k, v]).toEqual([k, null]);
      for (const f of table.schema.fields) if (f.name !== "id") expect(table.getChild(f.name)?.nullCount).toBe(1);
    });

    test("an empty result is a Table with the result's schema", async () => {
      const table = await run((s) => s.selectToArrow(`SELECT id, i8, tz FROM ${T} WHERE id < 0`));
      expect(table.numRows).toBe(0);
      expect(table.schema.fields.map((f) => String(f.type))).toEqual(["Int16", "Int64", "Timestamp<MILLISECOND, UTC>"]);
    });

    test("two result columns of one name: UnsupportedOperationError (table and batch forms), never Arrow's TypeError", async () => {
      const dup = `SELECT id, i8 AS x, tz AS x FROM ${T}`;
      await expect(run((s) => s.selectToArrow(dup))).rejects.toBeInstanceOf(UnsupportedOperationError);
      await expect(
        run(async (s) => {
          for await (const _ of s.selectToArrow(dup, undefined, { batchSize: 1 })) {
            // never reached
          }
        }),
      ).rejects.toBeInstanceOf(UnsupportedOperationError);
    });

    test("numeric as Decimal128 by option; a value it cannot hold raises DataError, never rounded", async () => {
      const table = await run((s) =>
        s.selectToArrow(`SELECT n, -n AS neg FROM ${T} WHERE id = 1`, undefined, {
          numeric: { precision: 20, scale: 4 },
        }),
      );
      expect(String(table.schema.fields[0]?.type)).toBe("Decimal[20e+4]");
      const col = table.getChild("n")?.data[0]?.values as Uint32Array;
      expect(decimalUnscaled(col.subarray(0, 4))).toBe(123456781234n);
      const neg = table.getChild("neg")?.data[0]?.values as Uint32Array;
      expect(decimalUnscaled(neg.subarray(0, 4))).toBe(-123456781234n);
      const err = await run((s) =>
        s.selectToArrow(`SELECT n FROM ${T} WHERE id = 1`, undefined, { numeric: { precision: 20, scale: 2 } }),
      ).catch((e) => e);
      expect(err).toBeInstanceOf(DataError);
      expect(err.message).toContain('"n"');
      expect(err.message).not.toContain("12345678");
      const bad = await run((s) =>
        s.selectToArrow("SELECT 1", undefined, { numeric: { precision: 40, scale: 2 } }),
      ).catch((e) => e);
      expect(bad).toBeInstanceOf(ParameterError);
    });

    test('timestamps: "string" keeps microseconds (Timestamp<MICROSECOND>)', async () => {
      const table = await textDb.withSession((s) => s.selectToArrow(`SELECT d, ts, tz FROM ${T} ORDER BY id`));
      expect(table.schema.fields.map((f) => String(f.type))).toEqual([
        "Date32<DAY>",
        "Timestamp<MICROSECOND>",
        "Timestamp<MICROSECOND, UTC>",
      ]);
      const micros = BigInt(Date.UTC(2024, 4, 6, 7, 8, 9, 123)) * 1000n + 456n;
      const raw = (column: string): bigint | undefined =>
        (table.getChild(column)?.data[0]?.values as BigInt64Array | undefined)?.[0];
      expect(raw("ts")).toBe(micros);
      expect(raw("tz")).toBe(micros);
      expect(table.getChild("tz")?.get(1)).toBeNull();
    });

    test("timestamps are UTC whatever the process TZ and the server session TimeZone (Asia/Tokyo)", async () => {
      const before = process.env.TZ;
      process.env.TZ = "Asia/Tokyo";
      try {
        expect(new Date(2024, 0, 1).getTimezoneOffset()).toBe(-540);
        for (const config of [db, textDb]) {
          const table = await config.withSession(async (s) => {
            await s.execute("SET TIME ZONE 'Asia/Tokyo'");
            return s.selectToArrow(
              "SELECT '2024-01-01 00:00:00'::timestamp AS ts, '2024-01-01 00:00:00+00'::timestamptz AS tz, " +
                "'2024-01-01'::date AS d",
            );
          });
          const row = table.get(0)?.toJSON() as Record<string, unknown>;
          expect(row.ts).toBe(Date.UTC(2024, 0, 1));
          expect(row.tz).toBe(Date.UTC(2024, 0, 1));
          expect(row.d).toBe(Date.UTC(2024, 0, 1));
        }
      } finally {
        if (before === undefined) delete process.env.TZ;
        else process.env.TZ = before;
      }
    });

    test("{ batchSize } streams RecordBatches of that size, one schema", async () => {
      const batches: RecordBatch[] = [];
      await numberDb.withSession(async (s) => {
        for await (const batch of s.selectToArrow(
          "SELECT g::int8 AS n, g::text AS t FROM generate_series(1, 5) g ORDER BY g",
          undefined,
          { batchSize: 2 },
        )) {
          batches.push(batch);
        }
      });
      expect(batches.map((b) => b.numRows)).toEqual([2, 2, 1]);
      for (const b of batches) expect(b.schema.fields.map((f) => String(f.type))).toEqual(["Int64", "Utf8"]);
      const table = new Table(batches);
      expect([...(table.getChild("n") ?? [])]).toEqual([1n, 2n, 3n, 4n, 5n]);
      expect([...(table.getChild("t") ?? [])]).toEqual(["1", "2", "3", "4", "5"]);
      const none: RecordBatch[] = [];
      await run(async (s) => {
        for await (const b of s.selectToArrow(`SELECT id FROM ${T} WHERE id < 0`, undefined, { batchSize: 10 })) {
          none.push(b);
        }
      });
      expect(none).toEqual([]);
    }, 180_000);

    test("loadArrow loads a Table through COPY: int8 exact, decimals exact, microseconds kept, lists", async () => {
      const source = await textDb.withSession((s) =>
        s.selectToArrow(
          `SELECT i8 + g AS id, n AS amount, tz AS at, ta AS tags, 'row ' || g AS note
             FROM ${T}, generate_series(1, 3) g WHERE id = 1`,
          undefined,
          { numeric: { precision: 12, scale: 4 } },
        ),
      );
      const r = await textDb.withSession((s) => s.loadArrow(L, source));
      expect(r.rowsAffected).toBe(3);
      const rows = await textDb.withSession((s) =>
        s.select(`SELECT id::text, amount, at::text AS at, tags, note FROM ${L} ORDER BY id`),
      );
      expect(rows[0]).toEqual({
        id: String(BIG + 1n),
        amount: "12345678.1234",
        at: "2024-05-06 07:08:09.123456+00",
        tags: ["x y", null],
        note: "row 1",
      });
      expect(rows).toHaveLength(3);
      await textDb.withSession((s) => s.execute(`DELETE FROM ${L}`));
    });

    test("loadArrow writes nothing when the load fails (typed error)", async () => {
      const dup = tableFromArrays({ id: new BigInt64Array([1n, 2n, 1n]), note: ["a", "b", "c"] });
      const e1 = await run((s) => s.loadArrow(L, dup)).catch((e) => e);
      expect(e1).toBeInstanceOf(UniqueViolationError);
      const missing = tableFromArrays({ id: new BigInt64Array([5n, 6n]), note: ["a", null] as (string | null)[] });
      const e2 = await run((s) => s.loadArrow(L, missing)).catch((e) => e);
      expect(e2).toBeInstanceOf(NotNullViolationError);
      expect(await run((s) => s.selectValue(`SELECT count(*)::int FROM ${L}`))).toBe(0);
    });

    test("loadArrow refuses a column type it cannot load, before any I/O", async () => {
      const schema = new Schema([new Field("t", new TimeMillisecond(), true)]);
      const data = makeData({
        type: new Struct(schema.fields),
        length: 1,
        nullCount: 0,
        children: [makeData({ type: new TimeMillisecond(), length: 1, nullCount: 0, data: new Int32Array([1]) })],
      });
      const timeTable = new Table([new RecordBatch(schema, data)]);
      const err = await run((s) => s.loadArrow("no_such_table_at_all", timeTable)).catch((e) => e);
      expect(err).toBeInstanceOf(ParameterError);
      expect(err.message).toContain('"t"');
      const notTable = await run((s) => s.loadArrow(L, { rows: [] } as unknown as Table)).catch((e) => e);
      expect(notTable).toBeInstanceOf(ParameterError);
    });
  });
}

describe("Arrow on an adapter without result column types", () => {
  test("selectToArrow raises UnsupportedOperationError before any I/O", async () => {
    const spec = new SQLSpec();
    const db = spec.addConfig(new SqliteConfig({ poolConfig: { database: ":memory:" } }));
    try {
      const err = await db.withSession((s) => s.selectToArrow("SELECT * FROM no_such_table")).catch((e) => e);
      expect(err).toBeInstanceOf(UnsupportedOperationError);
    } finally {
      await spec.closeAllPools();
    }
  });
});

describe("Arrow on duckdb", () => {
  const spec = new SQLSpec();
  const db = spec.addConfig(
    new DuckdbConfig({ poolConfig: { database: ":memory:" }, driverFeatures: { int8: "bigint" } }),
  );
  const text = spec.addConfig(
    new DuckdbConfig({ poolConfig: { database: ":memory:" }, driverFeatures: { timestamps: "string" } }),
  );
  afterAll(() => spec.closeAllPools());
  const QUERY =
    "SELECT 1::SMALLINT AS s, 2::INTEGER AS i, 9007199254740993::BIGINT AS b, 1.5::FLOAT AS f, 2.25::DOUBLE AS d, " +
    "12345678.1234::DECIMAL(12,4) AS n, 170141183460469231731687303715884105727::HUGEINT AS h, true AS t, 'héllo' AS v, " +
    "'\\x00\\xFF'::BLOB AS bl, DATE '2024-02-29' AS dt, TIMESTAMP '2024-05-06 07:08:09.123456' AS ts, " +
    "TIMESTAMPTZ '2024-05-06 07:08:09.123456+00' AS tz, [1, NULL, 3] AS l, [[1], [2, 3]] AS ll, " +
    "{'a': 1} AS st, NULL::INTEGER AS ni";

  test("the schema comes from DuckDB's column types; values keep precision", async () => {
    const table = await db.withSession(async (s) => {
      await s.execute("SET TimeZone = 'Asia/Tokyo'");
      return s.selectToArrow(QUERY);
    });
    expect(Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]))).toEqual({
      s: "Int16",
      i: "Int32",
      b: "Int64",
      f: "Float32",
      d: "Float64",
      n: "Utf8",
      h: "Utf8",
      t: "Bool",
      v: "Utf8",
      bl: "Binary",
      dt: "Date32<DAY>",
      ts: "Timestamp<MILLISECOND>",
      tz: "Timestamp<MILLISECOND, UTC>",
      l: "List<Int32>",
      ll: "List<List<Int32>>",
      st: "Utf8",
      ni: "Int32",
    });
    const row = table.get(0)?.toJSON() as Record<string, unknown>;
    expect(row.b).toBe(BIG);
    expect(row.n).toBe("12345678.1234");
    expect(row.h).toBe("170141183460469231731687303715884105727");
    expect([...(row.bl as Uint8Array)]).toEqual([0, 255]);
    expect(row.dt).toBe(Date.UTC(2024, 1, 29));
    expect(row.ts).toBe(Date.UTC(2024, 4, 6, 7, 8, 9, 123));
    expect(row.tz).toBe(Date.UTC(2024, 4, 6, 7, 8, 9, 123));
    expect([...(row.l as Iterable<unknown>)]).toEqual([1, null, 3]);
    expect([...(row.ll as Iterable<Iterable<unknown>>)].map((x) => [...x])).toEqual([[1], [2, 3]]);
    expect(JSON.parse(row.st as string)).toEqual({ a: 1 });
    expect(row.ni).toBeNull();
  });

  test('timestamps: "string" keeps microseconds; batches stream', async () => {
    const table = await text.withSession((s) => s.selectToArrow("SELECT ts, tz FROM (" + QUERY + ")"));
    expect(table.schema.fields.map((f) => String(f.type))).toEqual([
      "Timestamp<MICROSECOND>",
      "Timestamp<MICROSECOND, UTC>",
    ]);
    const micros = BigInt(Date.UTC(2024, 4, 6, 7, 8, 9, 123)) * 1000n + 456n;
    const raw = (column: string): bigint | undefined =>
      (table.getChild(column)?.data[0]?.values as BigInt64Array | undefined)?.[0];
    expect(raw("ts")).toBe(micros);
    expect(raw("tz")).toBe(micros);
    const sizes: number[] = [];
    await db.withSession(async (s) => {
      for await (const b of s.selectToArrow("SELECT range AS n FROM range(5)", undefined, { batchSize: 2 })) {
        sizes.push(b.numRows);
        expect(String(b.schema.fields[0]?.type)).toBe("Int64");
      }
    });
    expect(sizes).toEqual([2, 2, 1]);
  });
});
