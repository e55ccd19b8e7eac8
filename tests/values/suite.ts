/**
 * One value-mapping suite for every PostgreSQL adapter (pg, postgresjs, pglite): the same statements, the same
 * expected JS values, so the adapters agree with each other by construction. It runs in the "values" vitest project,
 * whose process time zone is Asia/Tokyo (UTC+9), so any local-time conversion shows up as a 9-hour or one-day shift.
 * Tables are prefixed per adapter (`vt_<name>_…`) because the server adapters share one database.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  CardinalityViolationError,
  type DatabaseConfig,
  DatabaseError,
  DatabaseNotFoundError,
  DataError,
  DatatypeMismatchError,
  type DriverFeatures,
  DuplicateObjectError,
  FeatureNotSupportedError,
  GeneratedAlwaysError,
  InvalidColumnReferenceError,
  OperationalError,
  ParameterError,
  ProgrammingError,
  type Session,
  SQLParsingError,
  sql,
  UniqueViolationError,
} from "../../src/index.js";

type AnyConfig = DatabaseConfig<any, any, any>;
type MakeConfig = (features?: DriverFeatures<any>) => AnyConfig;

const utc = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): Date => {
  const date = new Date(Date.UTC(2000, mo - 1, d, h, mi, s, ms));
  date.setUTCFullYear(y);
  return date;
};

/** 23:30 UTC is already the next day in Tokyo: a local-time conversion moves the date. */
const LATE = utc(2024, 6, 1, 23, 30, 45, 123);
const BC = utc(-43, 3, 15, 12, 0, 0, 0); // 44 BC
const FAR = utc(10000, 1, 2, 3, 4, 5, 6);

/** The error a promise rejects with (typed loosely for assertions). */
const failure = (p: Promise<unknown>): Promise<any> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

async function* rowsOf<T>(rows: readonly T[]): AsyncGenerator<T> {
  for (const r of rows) yield r;
}

export function runValueTests(name: string, make: MakeConfig): void {
  const p = `vt_${name}`;
  const T = {
    time: `${p}_time`,
    keyed: `${p}_keyed`,
    enc: `${p}_enc`,
    bad: `${p}_bad`,
    film: `${p}_film`,
    err: `${p}_err`,
  };
  let db: AnyConfig;
  const withSession = <R>(fn: (s: Session<any>) => Promise<R>): Promise<R> => db.withSession(fn);
  // Configs with other driverFeatures, one pool each (on PGlite, each its own database), closed after the suite.
  const others = new Map<string, AnyConfig>();
  const withFeatures = <R>(features: DriverFeatures<any>, fn: (s: Session<any>) => Promise<R>): Promise<R> => {
    const key = JSON.stringify(features);
    let config = others.get(key);
    if (config === undefined) {
      config = make(features);
      others.set(key, config);
    }
    return config.withSession(fn);
  };
  // One extra pool for the non-default modes (int8 "string" is the same wiring; tests/core/values.test.ts covers it).
  const MODES = { int8: "bigint", timestamps: "string" } as const;

  describe(`values: ${name}`, () => {
    beforeAll(async () => {
      db = make();
      await withSession((s) =>
        s.executeScript(`
          DROP TABLE IF EXISTS ${T.time}, ${T.keyed}, ${T.enc}, ${T.bad}, ${T.film}, ${T.err};
          CREATE TABLE ${T.time} (id int PRIMARY KEY, tz timestamptz, ts timestamp, d date, tss timestamp[], ds date[]);
          CREATE TABLE ${T.keyed} (id int, at timestamp(6), at_tz timestamptz, val int, PRIMARY KEY (id, at));
          CREATE TABLE ${T.enc} (id int PRIMARY KEY, f float8, n numeric, tz timestamptz, ts timestamp, d date,
            b bytea, big int8, ia int[], ta text[], j jsonb, bo boolean, tza timestamptz[], ba bytea[], ja jsonb[]);
          CREATE TABLE ${T.bad} (id int PRIMARY KEY, v text, j jsonb, at timestamptz);
          CREATE TABLE ${T.err} (id int PRIMARY KEY, n int, CONSTRAINT ${p}_err_n_key UNIQUE (n));
        `),
      );
    });
    afterAll(async () => {
      await withSession((s) =>
        s.executeScript(`
          DROP TABLE IF EXISTS ${T.time}, ${T.keyed}, ${T.enc}, ${T.bad}, ${T.film}, ${T.err};
          DROP TYPE IF EXISTS ${p}_rating CASCADE; DROP DOMAIN IF EXISTS ${p}_year CASCADE;`),
      ).catch(() => {});
      await db.close();
      for (const config of others.values()) await config.close();
    });

    test("the process time zone is not UTC (the test would prove nothing otherwise)", () => {
      expect(new Date(2024, 5, 1).getTimezoneOffset()).toBe(-540);
    });

    // ------------------------------------------------------------------------------------------- time

    test("Date ↔ timestamptz is an instant, ↔ timestamp/date the UTC wall clock, on plain statements", async () => {
      await withSession(async (s) => {
        await s.execute(`DELETE FROM ${T.time}`);
        await s.execute(`INSERT INTO ${T.time} VALUES ($1, $2, $3, $4, $5, $6)`, [
          1,
          LATE,
          LATE,
          LATE,
          [LATE, null, BC],
          [LATE, null],
        ]);
        const text = await s.selectOne(
          `SELECT tz = '2024-06-01 23:30:45.123+00'::timestamptz AS tz_ok, ts::text AS ts, d::text AS d,
                  tss::text AS tss, ds::text AS ds FROM ${T.time} WHERE id = 1`,
        );
        expect(text).toEqual({
          tz_ok: true,
          ts: "2024-06-01 23:30:45.123",
          d: "2024-06-01",
          tss: '{"2024-06-01 23:30:45.123",NULL,"0044-03-15 12:00:00 BC"}',
          ds: "{2024-06-01,NULL}",
        });
        const row = await s.selectOne(`SELECT tz, ts, d, tss, ds FROM ${T.time} WHERE id = 1`);
        expect(row).toEqual({
          tz: LATE,
          ts: LATE,
          d: utc(2024, 6, 1),
          tss: [LATE, null, BC],
          ds: [utc(2024, 6, 1), null],
        });
      });
    });

    test("server text reads by the UTC rule: zones, microseconds, BC, 5-digit years, infinity", async () => {
      await withSession(async (s) => {
        const row = await s.selectOne(`SELECT '2024-06-01 23:30:45.123456'::timestamp AS ts,
            '2024-06-01 23:30:45.123+05:30'::timestamptz AS tz, '2024-06-01'::date AS d,
            '0044-03-15 12:00:00 BC'::timestamp AS bc, '10000-01-02 03:04:05.006'::timestamp AS far,
            'infinity'::timestamptz AS inf, '-infinity'::date AS ninf, '1900-01-01'::date AS old`);
        expect(row).toEqual({
          ts: LATE,
          tz: utc(2024, 6, 1, 18, 0, 45, 123),
          d: utc(2024, 6, 1),
          bc: BC,
          far: FAR,
          inf: new Date(8.64e15),
          ninf: new Date(-8.64e15),
          old: utc(1900, 1, 1),
        });
        // Dates at the two ends of the JS range bind back as ±infinity.
        const back = await s.selectOne("SELECT $1::timestamptz::text AS a, $2::date::text AS b", [
          new Date(8.64e15),
          new Date(-8.64e15),
        ]);
        expect(back).toEqual({ a: "infinity", b: "-infinity" });
      });
    });

    test("the JSON source and COPY of upsert, and loadRecords, store Dates by the same rule", async () => {
      await withSession(async (s) => {
        await s.execute(`DELETE FROM ${T.time}`);
        const row = (id: number) => ({ id, tz: LATE, ts: LATE, d: LATE, tss: [LATE, null, BC], ds: [LATE, null] });
        const json = await s.upsert(T.time, [row(1)], { on: ["id"], copyThreshold: 1_000_000 });
        const copy = await s.upsert(T.time, [row(2)], { on: ["id"], copyThreshold: 0 });
        expect(json.metadata.strategy).not.toContain("copy");
        expect(copy.metadata.strategy).toContain("copy");
        await s.loadRecords(T.time, [row(3)]);
        await s.loadRecords(T.time, rowsOf([row(4)]));
        const texts = await s.select(
          `SELECT id, tz = '2024-06-01 23:30:45.123+00'::timestamptz AS tz_ok, ts::text AS ts, d::text AS d,
                  tss::text AS tss, ds::text AS ds FROM ${T.time} ORDER BY id`,
        );
        for (const t of texts) {
          expect(t).toEqual({
            id: t.id,
            tz_ok: true,
            ts: "2024-06-01 23:30:45.123",
            d: "2024-06-01",
            tss: '{"2024-06-01 23:30:45.123",NULL,"0044-03-15 12:00:00 BC"}',
            ds: "{2024-06-01,NULL}",
          });
        }
        expect(texts).toHaveLength(4);
      });
    });

    test('timestamps: "string" keeps microseconds both ways; read → upsert updates instead of duplicating', async () => {
      await withFeatures(MODES, async (s) => {
        // On PGlite this config is a database of its own.
        await s.execute(`CREATE TABLE IF NOT EXISTS ${T.keyed} (id int, at timestamp(6), at_tz timestamptz, val int,
          PRIMARY KEY (id, at))`);
        await s.execute(`DELETE FROM ${T.keyed}`);
        await s.execute(`INSERT INTO ${T.keyed} VALUES
          (1, '2024-06-01 12:30:45.123456', '2024-06-01 12:30:45.123456+00', 0),
          (2, '2024-06-01 12:30:45.999999', '2024-06-01 12:30:45.000001+00', 0),
          (3, '0044-03-15 12:00:00.000001 BC', 'infinity', 0)`);
        const rows = await s.select<{ id: number; at: string; at_tz: string; val: number }>(
          `SELECT id, at, at_tz, val FROM ${T.keyed} ORDER BY id`,
        );
        expect(rows.map((r) => r.at)).toEqual([
          "2024-06-01 12:30:45.123456",
          "2024-06-01 12:30:45.999999",
          "0044-03-15 12:00:00.000001 BC",
        ]);
        expect(await s.selectValue("SELECT '2024-06-01'::date")).toBe("2024-06-01");
        expect(await s.selectValue("SELECT ARRAY['2024-06-01 12:30:45.5'::timestamp]")).toEqual([
          "2024-06-01 12:30:45.5",
        ]);
        await s.upsert(
          T.keyed,
          rows.map((r) => ({ ...r, val: 1 })),
          { on: ["id", "at"], copyThreshold: 1_000_000 },
        );
        await s.upsert(
          T.keyed,
          rows.map((r) => ({ ...r, val: 2 })),
          { on: ["id", "at"], copyThreshold: 0 },
        );
        // Bound back through a plain statement too.
        const hit = await s.execute(`UPDATE ${T.keyed} SET val = 3 WHERE at = $1 AND at_tz = $2`, [
          rows[1]?.at,
          rows[1]?.at_tz,
        ]);
        expect(hit.rowsAffected).toBe(1);
        expect(await s.select(`SELECT id, val FROM ${T.keyed} ORDER BY id`)).toEqual([
          { id: 1, val: 2 },
          { id: 2, val: 3 },
          { id: 3, val: 2 },
        ]);
      });
    });

    // ------------------------------------------------------------------------------------------- int8

    test('int8 default "number": one JS type per column; beyond 2^53 a DataError, never a rounded number', async () => {
      await withSession(async (s) => {
        expect(
          await s.select("SELECT x FROM (VALUES (1::int8), (9007199254740991::int8), (-9007199254740991::int8)) v(x)"),
        ).toEqual([{ x: 1 }, { x: 9007199254740991 }, { x: -9007199254740991 }]);
        expect(await s.selectValue("SELECT count(*) FROM generate_series(1, 3)")).toBe(3);
        expect(await s.selectValue("SELECT ARRAY[1, NULL, 3]::int8[]")).toEqual([1, null, 3]);
        const big = await failure(s.selectValue("SELECT 9007199254740993::int8"));
        expect(big).toBeInstanceOf(DataError);
        expect(big.message).toContain("driverFeatures.int8");
        const inArray = await failure(s.selectValue("SELECT ARRAY[1, 9007199254740993]::int8[]"));
        expect(inArray).toBeInstanceOf(DataError);
        // The connection stays usable.
        expect(await s.selectValue("SELECT 2::int8")).toBe(2);
        expect(await s.selectValue("SELECT $1::int8::text", [2n ** 62n])).toBe("4611686018427387904");
      });
    });

    test('int8 "bigint": every value of the column, arrays included, is a bigint', async () => {
      const q = "SELECT x, ARRAY[x, NULL] AS xs FROM (VALUES (1::int8), (9007199254740993::int8)) v(x) ORDER BY x";
      await withFeatures(MODES, async (s) => {
        const rows = await s.select<{ x: bigint; xs: (bigint | null)[] }>(q);
        expect(rows).toEqual([
          { x: 1n, xs: [1n, null] },
          { x: 9007199254740993n, xs: [9007199254740993n, null] },
        ]);
        expect(rows.reduce((a, r) => a + r.x, 0n)).toBe(9007199254740994n);
      });
    });

    // ------------------------------------------------------------------------------------------- arrays, special types

    test("a pagila-like row decodes to the one documented mapping (types created after the connection started)", async () => {
      await withSession(async (s) => {
        await s.selectValue("SELECT 1"); // the connection exists before the types do
        await s.executeScript(`
          DROP TABLE IF EXISTS ${T.film};
          DROP TYPE IF EXISTS ${p}_rating CASCADE;
          DROP DOMAIN IF EXISTS ${p}_year CASCADE;
          CREATE TYPE ${p}_rating AS ENUM ('G', 'PG', 'PG-13', 'R', 'NC-17');
          CREATE DOMAIN ${p}_year AS integer CHECK (VALUE >= 1901 AND VALUE <= 2155);
          CREATE TABLE ${T.film} (id int PRIMARY KEY, title text, rating ${p}_rating, ratings ${p}_rating[],
            release_year ${p}_year, years ${p}_year[], prices numeric[], price numeric(9,2), bigs int8[],
            len interval, lens interval[], loc point, blobs bytea[], fts tsvector, cost money, tags text[],
            floats float8[], flags bool[], uid uuid, t time, js json[], jb jsonb, boxes box[]);
          INSERT INTO ${T.film} VALUES (1, 'ACADEMY DINOSAUR', 'PG', '{G,PG-13,NULL}', 2006, '{2006,NULL}',
            '{12345678901234567.89,NULL,NaN}', 4.99, '{1,NULL,-3}', '1 day 02:03:04.5', '{"1 mon",NULL}', '(1.5,-2)',
            '{"\\\\x0001",NULL,"\\\\x"}', 'a fat cat', '1234.56', '{a,NULL,"NULL","b c",""}',
            '{1.5,NULL,Infinity,NaN}', '{t,NULL,f}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '12:30:45',
            ARRAY['{"a":1}'::json, NULL], '{"k":[1,null]}', '{(1,2),(0,0);(3,3),(2,2)}');
        `);
        const row = await s.selectOne(`SELECT *, cost::numeric::text AS cost_text FROM ${T.film}`);
        expect(row).toEqual({
          id: 1,
          title: "ACADEMY DINOSAUR",
          rating: "PG",
          ratings: ["G", "PG-13", null],
          release_year: 2006,
          years: [2006, null],
          prices: ["12345678901234567.89", null, "NaN"],
          price: "4.99",
          bigs: [1, null, -3],
          len: "1 day 02:03:04.5",
          lens: ["1 mon", null],
          loc: "(1.5,-2)",
          blobs: [Buffer.from([0, 1]), null, Buffer.alloc(0)],
          fts: "'a' 'cat' 'fat'",
          cost: expect.any(String),
          tags: ["a", null, "NULL", "b c", ""],
          floats: [1.5, null, Number.POSITIVE_INFINITY, Number.NaN],
          flags: [true, null, false],
          uid: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
          t: "12:30:45",
          js: [{ a: 1 }, null],
          jb: { k: [1, null] },
          boxes: ["(1,2),(0,0)", "(3,3),(2,2)"],
          cost_text: "1234.56",
        });
        expect(Buffer.isBuffer((row.blobs as unknown[])[0])).toBe(true);
      });
    });

    test("enum and domain arrays bind from JS arrays, also for types created after the connection started", async () => {
      await withSession(async (s) => {
        await s.selectValue("SELECT 1");
        await s.executeScript(`
          DROP TABLE IF EXISTS ${T.film};
          DROP TYPE IF EXISTS ${p}_rating CASCADE;
          DROP DOMAIN IF EXISTS ${p}_year CASCADE;
          CREATE TYPE ${p}_rating AS ENUM ('G', 'PG', 'R');
          CREATE DOMAIN ${p}_year AS integer;
          CREATE TABLE ${T.film} (id int PRIMARY KEY, ratings ${p}_rating[], years ${p}_year[], tags text[]);
        `);
        await s.execute(`INSERT INTO ${T.film} VALUES ($1, $2, $3, $4)`, [
          1,
          ["G", "R", null],
          [2001, null],
          ['q"uote', "back\\slash", "NULL", null, "", "a,b"],
        ]);
        expect(await s.selectOne(`SELECT ratings, years, tags FROM ${T.film}`)).toEqual({
          ratings: ["G", "R", null],
          years: [2001, null],
          tags: ['q"uote', "back\\slash", "NULL", null, "", "a,b"],
        });
        expect(
          await s.selectValue(`SELECT count(*) FROM ${T.film} WHERE 'R' = ANY(ratings) AND ratings = $1`, [
            ["G", "R", null],
          ]),
        ).toBe(1);
        await s.upsert(T.film, [{ id: 2, ratings: ["PG"], years: [1999], tags: ["x"] }], {
          on: ["id"],
          copyThreshold: 1_000_000,
        });
        await s.upsert(T.film, [{ id: 3, ratings: ["PG", null], years: [null], tags: [] }], {
          on: ["id"],
          copyThreshold: 0,
        });
        expect(await s.select(`SELECT id, ratings, years, tags FROM ${T.film} WHERE id > 1 ORDER BY id`)).toEqual([
          { id: 2, ratings: ["PG"], years: [1999], tags: ["x"] },
          { id: 3, ratings: ["PG", null], years: [null], tags: [] },
        ]);
      });
    });

    // ------------------------------------------------------------------------------------------- one encoder

    test("one value encoder: plain INSERT, upsert JSON source, upsert COPY and loadRecords store the same values", async () => {
      await withSession(async (s) => {
        await s.execute(`DELETE FROM ${T.enc}`);
        const values = (id: number) => ({
          id,
          f: id % 4 === 0 ? Number.NaN : id % 4 === 1 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY,
          n: Number.NaN,
          tz: FAR,
          ts: BC,
          d: FAR,
          b: Buffer.from([0, 92, 255]),
          big: 2n ** 60n,
          ia: [1, null, 3],
          ta: ["a b", null, "NULL", 'q"'],
          j: { a: [1, null], s: "x\ty", d: LATE },
          bo: true,
          tza: [BC, null, FAR],
          ba: [Buffer.from([1]), null],
          ja: [{ a: 1 }, '"s"', null],
        });
        const cols = Object.keys(values(0));
        const insert = `INSERT INTO ${T.enc} (${cols.join(", ")}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(", ")})`;
        for (const id of [0, 1, 2, 3]) await s.execute(insert, Object.values(values(id)));
        await s.upsert(T.enc, [4, 5, 6, 7].map(values), { on: ["id"], copyThreshold: 1_000_000 });
        await s.upsert(T.enc, [8, 9, 10, 11].map(values), { on: ["id"], copyThreshold: 0 });
        await s.loadRecords(T.enc, [12, 13, 14, 15].map(values));
        await s.loadRecords(T.enc, rowsOf([16, 17, 18, 19].map(values)));
        const rows = await s.select<Record<string, string>>(
          `SELECT id, f::text, n::text, tz::text, ts::text, d::text, encode(b, 'hex') AS b, big::text, ia::text,
                  ta::text, j::text, bo::text, tza::text, ba::text, ja::text FROM ${T.enc} ORDER BY id`,
        );
        expect(rows).toHaveLength(20);
        const strip = ({ id: _, ...r }: Record<string, unknown>) => r;
        for (const r of rows) {
          const ref = rows[Number(r.id) % 4] as Record<string, string>;
          expect(strip(r)).toEqual(strip(ref));
        }
        expect(rows.slice(0, 4).map((r) => r.f)).toEqual(["NaN", "Infinity", "-Infinity", "-Infinity"]);
        expect(strip(rows[0] as Record<string, string>)).toMatchObject({
          n: "NaN",
          ts: "0044-03-15 12:00:00 BC",
          d: "10000-01-02",
          b: "005cff",
          big: "1152921504606846976",
          ia: "{1,NULL,3}",
          ta: '{"a b",NULL,"NULL","q\\""}',
          j: '{"a": [1, null], "d": "2024-06-01T23:30:45.123Z", "s": "x\\ty"}',
          bo: "true",
          ba: '{"\\\\x01",NULL}',
          ja: '{"{\\"a\\": 1}","\\"s\\"",NULL}',
        });
      });
    });

    test("a JS string bound to jsonb is JSON text on every path; sql.json(s) stores a JSON string", async () => {
      await withSession(async (s) => {
        await s.execute(`DELETE FROM ${T.bad}`);
        await s.execute(`INSERT INTO ${T.bad} (id, j) VALUES ($1, $2), ($3, $4)`, [1, '{"a":1}', 2, sql.json("hello")]);
        await s.upsert(
          T.bad,
          [
            { id: 3, j: '{"a":1}' },
            { id: 4, j: sql.json("hello") },
          ],
          { on: ["id"], copyThreshold: 1_000_000 },
        );
        await s.upsert(
          T.bad,
          [
            { id: 5, j: '{"a":1}' },
            { id: 6, j: sql.json("hello") },
          ],
          { on: ["id"], copyThreshold: 0 },
        );
        await s.loadRecords(T.bad, [
          { id: 7, j: '{"a":1}' },
          { id: 8, j: sql.json("hello") },
        ]);
        expect(await s.select(`SELECT id, jsonb_typeof(j) AS t, j FROM ${T.bad} ORDER BY id`)).toEqual([
          { id: 1, t: "object", j: { a: 1 } },
          { id: 2, t: "string", j: "hello" },
          { id: 3, t: "object", j: { a: 1 } },
          { id: 4, t: "string", j: "hello" },
          { id: 5, t: "object", j: { a: 1 } },
          { id: 6, t: "string", j: "hello" },
          { id: 7, t: "object", j: { a: 1 } },
          { id: 8, t: "string", j: "hello" },
        ]);
        // A string that is not JSON text: the server says so for a parameter; the bulk paths before sending.
        const plain = await failure(s.execute(`INSERT INTO ${T.bad} (id, j) VALUES (9, $1)`, ["hello"]));
        expect(plain).toBeInstanceOf(DataError);
        for (const copyThreshold of [1_000_000, 0]) {
          const bulk = await failure(s.upsert(T.bad, [{ id: 9, j: "hello" }], { on: ["id"], copyThreshold }));
          expect(bulk).toBeInstanceOf(ParameterError);
          expect(bulk.message).toContain('column "j"');
          expect(bulk.message).toContain("sql.json");
        }
      });
    });

    // ------------------------------------------------------------------------------------------- bad input

    const symbol = Symbol("x");
    const fn = () => 1;
    const invalid = new Date(Number.NaN);

    test("Symbol, function and Invalid Date raise ParameterError naming the parameter, before any I/O", async () => {
      await withSession(async (s) => {
        await s.execute(`DELETE FROM ${T.bad}`);
        await s.begin();
        for (const bad of [symbol, fn, invalid]) {
          const e1 = await failure(s.execute(`INSERT INTO ${T.bad} (id, v) VALUES ($1, $2)`, [1, bad]));
          expect(e1).toBeInstanceOf(ParameterError);
          expect(e1.message).toContain("$2");
          const e2 = await failure(s.execute(`INSERT INTO ${T.bad} (id, at) VALUES ($1, $2)`, [1, [bad]]));
          expect(e2).toBeInstanceOf(ParameterError);
          const e3 = await failure(
            s.executeMany(`INSERT INTO ${T.bad} (id, v) VALUES ($1, $2)`, [
              [2, "ok"],
              [3, bad],
            ]),
          );
          expect(e3).toBeInstanceOf(ParameterError);
          expect(e3.message).toContain("$2");
        }
        // Nothing reached the server: the transaction is not aborted and holds no rows.
        expect(await s.selectValue(`SELECT count(*) FROM ${T.bad}`)).toBe(0);
        await s.commit();
      });
    });

    test("Symbol, function, Invalid Date and circular objects in upsert/loadRecords rows raise ParameterError naming the column", async () => {
      const circular: Record<string, unknown> = { a: 1 };
      circular.self = circular;
      await withSession(async (s) => {
        await s.execute(`DELETE FROM ${T.bad}`);
        const cases: [string, Record<string, unknown>][] = [
          ["v", { id: 2, v: symbol, j: null, at: null }],
          ["v", { id: 2, v: fn, j: null, at: null }],
          ["at", { id: 2, v: null, j: null, at: invalid }],
          ["j", { id: 2, v: null, j: circular, at: null }],
          ["v", { id: 2, v: circular, j: null, at: null }],
        ];
        for (const [column, row] of cases) {
          const rows = [{ id: 1, v: "ok", j: null, at: LATE }, row];
          const attempts = [
            () => s.upsert(T.bad, rows, { on: ["id"], copyThreshold: 1_000_000 }),
            () => s.upsert(T.bad, rows, { on: ["id"], copyThreshold: 0 }),
            () => s.loadRecords(T.bad, rows),
            () => s.loadRecords(T.bad, rowsOf(rows)),
          ];
          for (const attempt of attempts) {
            const err = await failure(attempt());
            expect(err).toBeInstanceOf(ParameterError);
            expect(err.message).toContain(`column "${column}"`);
            expect(err.message).toContain("row 1");
          }
          const circularParam = await failure(s.execute(`INSERT INTO ${T.bad} (id, j) VALUES (1, $1)`, [circular]));
          expect(circularParam).toBeInstanceOf(ParameterError);
        }
        // Nothing was written and the session still works, inside a transaction too.
        expect(await s.selectValue(`SELECT count(*) FROM ${T.bad}`)).toBe(0);
        await s.transaction(async () => {
          const err = await failure(
            s.upsert(T.bad, [{ id: 1, v: symbol, j: null, at: null }], { on: ["id"], copyThreshold: 0 }),
          );
          expect(err).toBeInstanceOf(ParameterError);
          await s.execute(`INSERT INTO ${T.bad} (id, v) VALUES (1, 'after')`);
        });
        expect(await s.selectValue(`SELECT v FROM ${T.bad}`)).toBe("after");
      });
    });

    test("values JSON cannot hold, nested inside a json/jsonb value, raise ParameterError on every path; nothing is changed silently", async () => {
      await withSession(async (s) => {
        await s.execute(`DELETE FROM ${T.bad}`);
        const nested: [string, unknown][] = [
          ["a Symbol", { a: symbol }],
          ["a function", { a: fn }],
          ["an Invalid Date", { a: [invalid] }],
          ["NaN", { a: { b: Number.NaN } }],
          ["Infinity", { a: [1, Number.POSITIVE_INFINITY] }],
          ["a lone surrogate in a string", { k: { deep: ["x\uDC00y"] } }],
          ["a lone surrogate in a key", { "k\uD800": 1 }],
          ["a Map", { m: new Map([[1, 2]]) }],
          ["a Set", [new Set([1])]],
          ["a Promise", { p: Promise.resolve(1) }],
          ["a Symbol inside sql.json", sql.json({ a: symbol })],
        ];
        for (const [label, value] of nested) {
          const e1 = await failure(s.execute(`INSERT INTO ${T.bad} (id, j) VALUES ($1, $2)`, [1, value]));
          expect(e1, label).toBeInstanceOf(ParameterError);
          expect(e1.message, label).toContain("$2");
          for (const copyThreshold of [1_000_000, 0]) {
            const e2 = await failure(s.upsert(T.bad, [{ id: 2, j: value }], { on: ["id"], copyThreshold }));
            expect(e2, label).toBeInstanceOf(ParameterError);
            expect(e2.message, label).toContain('column "j"');
          }
          const e3 = await failure(s.loadRecords(T.bad, [{ id: 3, j: value }]));
          expect(e3, label).toBeInstanceOf(ParameterError);
        }
        // A top-level array is typed by the server (a PostgreSQL array or JSON): checked when it is serialized.
        const arr = await failure(s.execute(`INSERT INTO ${T.bad} (id, j) VALUES ($1, $2)`, [1, [1, Number.NaN]]));
        expect(arr).toBeInstanceOf(ParameterError);
        // A Map/Promise bound to a text column is no longer stored as "{}".
        for (const value of [new Map([[1, 2]]), Promise.resolve(1)]) {
          const e = await failure(s.execute(`INSERT INTO ${T.bad} (id, v) VALUES ($1, $2)`, [4, value]));
          expect(e).toBeInstanceOf(ParameterError);
        }
        expect(await s.selectValue(`SELECT count(*) FROM ${T.bad}`)).toBe(0);
        // What JSON can hold still goes through unchanged (bigint exact, Date as ISO text, undefined keys dropped).
        await s.execute(`INSERT INTO ${T.bad} (id, j) VALUES ($1, $2)`, [
          5,
          { n: 2n ** 70n, at: LATE, gone: undefined, list: [1, "two", null] },
        ]);
        expect(await s.selectValue(`SELECT j::text FROM ${T.bad} WHERE id = 5`)).toBe(
          `{"n": 1180591620717411303424, "at": "${LATE.toISOString()}", "list": [1, "two", null]}`,
        );
      });
    });

    // ------------------------------------------------------------------------------------------- errors

    test("error messages never carry bound values; the server's text stays on cause", async () => {
      await withSession(async (s) => {
        const secret = "sk_live_4f9a8b7c6d5e";
        const e1 = await failure(s.selectValue("SELECT $1::int", [secret]));
        expect(e1).toBeInstanceOf(DataError);
        expect(e1.sqlState).toBe("22P02");
        expect(e1.message).not.toContain(secret);
        expect(e1.message).toContain("invalid input syntax for type integer");
        expect(String(e1.cause?.message)).toContain(secret);
        // Echoed back case-folded as an identifier (`relation "sk_live_…"`), where quoted names are otherwise kept.
        const echoed = await failure(s.selectValue("SELECT $1::text::regclass", ["SK_Live_RegClass_42"]));
        expect(echoed.sqlState).toBe("42P01");
        expect(echoed.message.toLowerCase()).not.toContain("sk_live_regclass_42");
        expect(echoed.message).toContain("[redacted]");
        const e2 = await failure(s.selectValue("SELECT $1::int", ["99999999999"]));
        expect(e2.message).not.toContain("99999999999");
        const e3 = await failure(s.upsert(T.err, [{ id: 1, n: secret }], { on: ["id"], copyThreshold: 1_000_000 }));
        expect(e3).toBeInstanceOf(DataError);
        expect(e3.message).not.toContain(secret);
        // Identifiers stay: the constraint a unique violation names is not a value.
        await s.execute(`DELETE FROM ${T.err}`);
        await s.execute(`INSERT INTO ${T.err} VALUES (1, 424242)`);
        const e5 = await failure(s.execute(`INSERT INTO ${T.err} VALUES (2, $1)`, [424242]));
        expect(e5).toBeInstanceOf(UniqueViolationError);
        expect(e5.message).toContain(`"${p}_err_n_key"`);
        expect(e5.message).not.toContain("424242");
        expect(e5.detail).toContain("424242");
      });
    });

    test("SQLSTATE map: 42P07/42804/42P10/428C9 are not parsing errors; 21000/0A000/3D000 get precise classes", async () => {
      await withSession(async (s) => {
        const fail = (text: string) => failure(s.execute(text));
        const dup = await fail(`CREATE TABLE ${T.err} (id int)`);
        expect(dup).toBeInstanceOf(DuplicateObjectError);
        const mismatch = await fail(`INSERT INTO ${T.err} (id, n) SELECT 5, true`);
        expect(mismatch).toBeInstanceOf(DatatypeMismatchError);
        const target = await fail(`INSERT INTO ${T.err} (id, n) VALUES (7, 7) ON CONFLICT (id, n) DO NOTHING`);
        expect(target).toBeInstanceOf(InvalidColumnReferenceError);
        await fail(`DROP TABLE IF EXISTS ${p}_gen`);
        await s.execute(`CREATE TABLE ${p}_gen (id int GENERATED ALWAYS AS IDENTITY, v int)`);
        const generated = await fail(`INSERT INTO ${p}_gen (id, v) VALUES (1, 1)`);
        await s.execute(`DROP TABLE ${p}_gen`);
        expect(generated).toBeInstanceOf(GeneratedAlwaysError);
        for (const e of [dup, mismatch, target, generated]) {
          expect(e).toBeInstanceOf(ProgrammingError);
          expect(e).not.toBeInstanceOf(SQLParsingError);
        }
        expect(dup.sqlState).toBe("42P07");
        expect(mismatch.sqlState).toBe("42804");
        expect(target.sqlState).toBe("42P10");
        expect(generated.sqlState).toBe("428C9");
        const cardinality = await fail("SELECT (SELECT generate_series(1, 2))");
        expect(cardinality).toBeInstanceOf(CardinalityViolationError);
        expect(cardinality.sqlState).toBe("21000");
        const unsupported = await fail("SELECT * FROM sqlspec_other_db.public.t");
        expect(unsupported).toBeInstanceOf(FeatureNotSupportedError);
        expect(unsupported.sqlState).toBe("0A000");
        const noDb = await fail("DROP DATABASE sqlspec_no_such_database");
        expect(noDb).toBeInstanceOf(DatabaseNotFoundError);
        expect(noDb).toBeInstanceOf(OperationalError);
        expect(noDb.sqlState).toBe("3D000");
        for (const e of [cardinality, unsupported, noDb]) {
          expect(e).toBeInstanceOf(DatabaseError);
          expect(e.constructor).not.toBe(DatabaseError);
        }
        // Still a parsing error: a real syntax error and an undefined table.
        expect(await fail("SELEC 1")).toBeInstanceOf(SQLParsingError);
        expect(await fail("SELECT * FROM sqlspec_no_such_table")).toBeInstanceOf(SQLParsingError);
      });
    });
  });
}
