import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import {
  type DatabaseConfig,
  InCollectionFilter,
  LimitOffsetFilter,
  NotInCollectionFilter,
  OrderByFilter,
  ParameterError,
  SearchFilter,
  type Session,
  SQLSpec,
  UnsupportedOperationError,
} from "../../src/index.js";
import { PG_URL } from "../support/servers.js";

/**
 * Issue 9's lexer and placeholder fixes, and issue 8 §7's filter fix, run on real PostgreSQL through every PostgreSQL
 * adapter: the compiled SQL must not only look right, it must run and return the right rows.
 */
type AnyConfig = DatabaseConfig<any, any, any>;

const adapters: [string, () => AnyConfig][] = [
  ["pglite", () => new PgliteConfig({ driverFeatures: { enablePgvector: false } })],
  ["pg", () => new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 2 } })],
  ["postgresjs", () => new PostgresJsConfig({ poolConfig: { connectionString: PG_URL, maxSize: 2 } })],
];

for (const [name, makeConfig] of adapters) {
  describe(`statements on ${name}`, () => {
    const T = `lex_${name}_items`;
    const spec = new SQLSpec();
    let db: AnyConfig;
    const run = <R>(fn: (s: Session<any>) => Promise<R>): Promise<R> => db.withSession(fn);

    beforeAll(async () => {
      db = spec.addConfig(makeConfig());
      await run((s) =>
        s.executeScript(`
          DROP TABLE IF EXISTS ${T};
          CREATE TABLE ${T} (name text PRIMARY KEY, value int, status text, doc jsonb, a int[]);
          INSERT INTO ${T} VALUES
            ('alpha', 10, 'open', '{"tags": ["x"]}', '{1,2,3}'),
            ('beta', 20, 'closed', '{"tags": ["y"]}', '{4,5,6}'),
            ('gamma', 30, NULL, '{"other": 1}', '{7,8,9}');
        `),
      );
    });
    afterAll(async () => {
      await run((s) => s.execute(`DROP TABLE IF EXISTS ${T}`));
      await spec.closeAllPools();
    });

    test("mixed placeholder styles resolve and run", async () => {
      await run(async (s) => {
        expect(await s.selectOne("SELECT :name::text AS name, $2::int AS age", { name: "Mixed", age: 25 })).toEqual({
          name: "Mixed",
          age: 25,
        });
        expect(
          await s.selectOne("SELECT $1::text AS first, :middle::text AS mid, $3::int AS last", {
            first: "A",
            middle: "B",
            last: 3,
          }),
        ).toEqual({ first: "A", mid: "B", last: 3 });
        const rows = await s.select(`SELECT name FROM ${T} WHERE value >= ? AND name <> :excluded ORDER BY value`, [
          20,
          "gamma",
        ]);
        expect(rows).toEqual([{ name: "beta" }]);
        expect(await s.select(`SELECT name FROM ${T} WHERE name = :param_0`, ["alpha"])).toEqual([{ name: "alpha" }]);
        await expect(s.select("SELECT :a::int, $2::int", { a: 1 })).rejects.toBeInstanceOf(ParameterError);
      });
    });

    test("jsonpath @?, the geometric ?-operators and a bare jsonb ? run without parameters", async () => {
      await run(async (s) => {
        expect(await s.select(`SELECT name FROM ${T} WHERE doc @? '$.tags[*] ? (@ == "x")'`)).toEqual([
          { name: "alpha" },
        ]);
        expect(await s.select(`SELECT name FROM ${T} WHERE doc ? 'tags' ORDER BY name`)).toEqual([
          { name: "alpha" },
          { name: "beta" },
        ]);
        expect(await s.select(`SELECT name FROM ${T} WHERE doc ? ? ORDER BY name`, ["other"])).toEqual([
          { name: "gamma" },
        ]);
        expect(
          await s.selectOne(
            "SELECT ?- lseg '((0,0),(1,0))' AS horizontal, lseg '((0,0),(0,1))' ?-| lseg '((0,0),(1,0))' AS perp," +
              " lseg '((0,0),(1,1))' ?# box '((0,0),(2,2))' AS crosses, lseg '((0,0),(1,0))' ?|| lseg '((0,1),(1,1))' AS par",
          ),
        ).toEqual({ horizontal: true, perp: true, crosses: true, par: true });
      });
    });

    test("array slices and @f.f1 are SQL, not parameters", async () => {
      await run(async (s) => {
        const row = await s.selectOne(
          `SELECT a[:2] AS s1, a[2:] AS s2, a[(1):2] AS s3, a[array_lower(a,1):2] AS s4, a[1 :2] AS s5, a[:n] AS s6
           FROM (SELECT a, 1 AS n FROM ${T} WHERE name = :name) q`,
          { name: "alpha" },
        );
        expect(row).toEqual({ s1: [1, 2], s2: [2, 3], s3: [1, 2], s4: [1, 2], s5: [1, 2], s6: [1] });
        expect(await s.selectValue("SELECT @f.f1 AS v FROM (VALUES (-1.5::float8)) AS f(f1)")).toBe(1.5);
      });
    });

    test("executeScript: a -- comment ended by a lone \\r keeps the statements after it", async () => {
      await run(async (s) => {
        const r = await s.executeScript(
          `INSERT INTO ${T} (name) VALUES ('cr1'); -- note\rINSERT INTO ${T} (name) VALUES ('cr2');\r-- x\rDELETE FROM ${T} WHERE name = 'alpha-none'`,
        );
        expect(r.metadata).toMatchObject({ statements: 3 });
        expect(await s.select(`SELECT name FROM ${T} WHERE name LIKE 'cr%' ORDER BY name`)).toEqual([
          { name: "cr1" },
          { name: "cr2" },
        ]);
        await s.execute(`DELETE FROM ${T} WHERE name LIKE 'cr%'`);
      });
    });

    test("executeScript honours backslash escapes after SET standard_conforming_strings = off", async () => {
      await run(async (s) => {
        await s.executeScript(
          [
            "SET standard_conforming_strings = off;",
            `INSERT INTO ${T} (name) VALUES ('scs\\'; x');`,
            `INSERT INTO ${T} (name) VALUES ('scs2\\\\');`,
            "SET standard_conforming_strings = on;",
            `INSERT INTO ${T} (name) VALUES ('scs3\\');`,
          ].join("\n"),
        );
        expect(await s.select(`SELECT name FROM ${T} WHERE name LIKE 'scs%' ORDER BY name`)).toEqual([
          { name: "scs'; x" },
          { name: "scs2\\" },
          { name: "scs3\\" },
        ]);
        await s.execute(`DELETE FROM ${T} WHERE name LIKE 'scs%'`);
      });
    });

    test("executeScript of a pg_dump-style COPY … FROM stdin raises before running anything", async () => {
      const other = `lex_${name}_copy`;
      const script = [
        `CREATE TABLE ${other} (a int, b text);`,
        `COPY public.${other} (a, b) FROM stdin;`,
        "1\tx; DROP TABLE nothing;",
        "\\.",
        `SELECT count(*) FROM ${other};`,
      ].join("\n");
      await run(async (s) => {
        const err = await s.executeScript(script).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(UnsupportedOperationError);
        expect((err as Error).message).toContain(`COPY public.${other} (a, b) FROM stdin`);
        expect((err as Error).message).toContain("statement 2");
        expect((err as Error).message).not.toContain("DROP TABLE nothing");
        expect(await s.selectValue("SELECT to_regclass($1)::text", [other])).toBeNull();
      });
    });

    test("executeScript runs pg_dump's \\restrict/\\unrestrict scripts and refuses other psql commands up front", async () => {
      const other = `lex_${name}_dump`;
      const dump = [
        "--\n-- PostgreSQL database dump\n--\n",
        "\\restrict k3y\n",
        "SET statement_timeout = 0;\nSET standard_conforming_strings = on;\n",
        `CREATE TABLE ${other} (id integer NOT NULL, t text);\n`,
        `INSERT INTO ${other} VALUES (1, 'a;b'), (2, 'c\\');\n`,
        "\\unrestrict k3y\n",
      ].join("");
      await run(async (s) => {
        await s.executeScript(dump);
        expect(await s.select(`SELECT t FROM ${other} ORDER BY id`)).toEqual([{ t: "a;b" }, { t: "c\\" }]);
        await s.execute(`DROP TABLE ${other}`);
        const err = await s
          .executeScript(`CREATE TABLE ${other} (id int);\n\\connect elsewhere\nSELECT 1;`)
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(UnsupportedOperationError);
        expect((err as Error).message).toContain("\\connect");
        expect(await s.selectValue("SELECT to_regclass($1)::text", [other])).toBeNull();
      });
    });

    test("filters wrap statements that end in ; or a -- comment", async () => {
      await run(async (s) => {
        const page = [new OrderByFilter("value", "desc"), new LimitOffsetFilter(1, 0)];
        for (const text of [
          `SELECT name, value FROM ${T};`,
          `SELECT name, value FROM ${T} -- every item`,
          `SELECT name, value FROM ${T}; -- every item\n`,
          `SELECT name, value FROM ${T} /* all */ ;  `,
        ]) {
          expect(await s.select(text, undefined, { filters: page }), text).toEqual([{ name: "gamma", value: 30 }]);
          const [rows, total] = await s.selectWithTotal(text, undefined, {
            filters: [new SearchFilter("name", "a"), ...page],
          });
          expect(rows, text).toEqual([{ name: "gamma", value: 30 }]);
          expect(total, text).toBe(3);
        }
      });
    });

    test("InCollectionFilter / NotInCollectionFilter with null or undefined values mean no filter", async () => {
      await run(async (s) => {
        const q = `SELECT name, status FROM ${T}`;
        const names = async (filter: InCollectionFilter | NotInCollectionFilter) =>
          (await s.select<{ name: string }>(q, undefined, { filters: [filter, new OrderByFilter("name")] })).map(
            (r) => r.name,
          );
        const all = ["alpha", "beta", "gamma"];
        expect(await names(new InCollectionFilter("status", null))).toEqual(all);
        expect(await names(new InCollectionFilter("status", undefined))).toEqual(all);
        expect(await names(new NotInCollectionFilter("status", null))).toEqual(all);
        // neighbours: an empty collection still matches nothing; values still filter
        expect(await names(new InCollectionFilter("status", []))).toEqual([]);
        expect(await names(new InCollectionFilter("status", ["open"]))).toEqual(["alpha"]);
        expect(await names(new NotInCollectionFilter("status", ["open"]))).toEqual(["beta"]);
      });
    });
  });
}
