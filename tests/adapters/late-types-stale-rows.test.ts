/**
 * Types a pool meets for the first time in a result (an array of a user enum, a composite) are looked up and the rows
 * read again: after a statement that failed with some of its rows already received (postgres.js keeps a stale row
 * count then, porsager/postgres#1119), and in every set of an executeMany / every statement of a stack, on pg and
 * postgres.js.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import type { DatabaseConfig } from "../../src/index.js";
import { PG_URL } from "../support/servers.js";

type AnyConfig = DatabaseConfig<any, any, any>;
const failure = (p: Promise<unknown>): Promise<any> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );
const BAD = "SELECT 1 / (3 - x) AS v FROM generate_series(1, 5) x"; // rows 1 and 2 arrive, then 22012

beforeAll(async () => {
  const admin = new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 1 } });
  await admin.withSession((s) =>
    s.executeScript(`
      DROP TABLE IF EXISTS lts_stale_t; DROP TYPE IF EXISTS lts_mood; DROP TYPE IF EXISTS lts_pair;
      CREATE TYPE lts_mood AS ENUM ('sad', 'happy');
      CREATE TYPE lts_pair AS (a int, b text);
      CREATE TABLE lts_stale_t (id int PRIMARY KEY, moods lts_mood[]);
      INSERT INTO lts_stale_t VALUES (1, '{happy}'), (2, '{sad,happy}');
    `),
  );
  await admin.close();
});

const targets: { name: string; make: () => AnyConfig }[] = [
  { name: "pg", make: () => new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 1 } }) },
  { name: "postgresjs", make: () => new PostgresJsConfig({ poolConfig: { connectionString: PG_URL, maxSize: 1 } }) },
];

for (const t of targets) {
  describe(`stale row slots: ${t.name}`, () => {
    // A fresh pool per test: the enum array type is unknown to it until the statement below meets it.
    const pools: AnyConfig[] = [];
    const fresh = () => {
      const db = t.make();
      pools.push(db);
      return db;
    };
    afterAll(() => Promise.all(pools.map((p) => p.close())));

    test("select: failed-mid-result statement, then a result with a type first met (enum[])", async () => {
      const db = fresh();
      await db.withSession(async (s) => {
        expect((await failure(s.select(BAD))).sqlState).toBe("22012");
        expect(await s.select("SELECT id, moods FROM lts_stale_t ORDER BY id")).toEqual([
          { id: 1, moods: ["happy"] },
          { id: 2, moods: ["sad", "happy"] },
        ]);
      });
    });

    test("the first statement after the failure is the enum[] one: its rows are exact", async () => {
      const db = fresh();
      await db.withSession(async (s) => {
        expect((await failure(s.select(BAD))).sqlState).toBe("22012");
        const got = await s
          .select("SELECT id, moods FROM lts_stale_t ORDER BY id")
          .catch((e: Error) => `${e.constructor.name}: ${e.message}`);
        expect(got).toEqual([
          { id: 1, moods: ["happy"] },
          { id: 2, moods: ["sad", "happy"] },
        ]);
      });
    });

    test("executeStack after the failure, with a composite type first met", async () => {
      const db = fresh();
      await db.withSession(async (s) => {
        expect((await failure(s.select(BAD))).sqlState).toBe("22012");
        const got = await s
          .executeStack(["SELECT ROW(1, 'x')::lts_pair AS p", "SELECT 2 AS two"])
          .then((rs) => rs.map((r) => r.data))
          .catch((e: Error) => `${e.constructor.name}: ${e.message} / ${(e.cause as Error)?.message}`);
        expect(got).toEqual([[{ p: "(1,x)" }], [{ two: 2 }]]);
      });
    });

    test("executeMany (RETURNING) after the failure, enum[] first met", async () => {
      const db = fresh();
      await db.withSession(async (s) => {
        expect((await failure(s.select(BAD))).sqlState).toBe("22012");
        const got = await s
          .executeMany("SELECT moods FROM lts_stale_t WHERE id = $1", [[1], [2]])
          .then((r) => r.data)
          .catch((e: Error) => `${e.constructor.name}: ${e.message}`);
        expect(got).toEqual([{ moods: ["happy"] }, { moods: ["sad", "happy"] }]);
      });
    });
  });

  describe(`late types without any failure: ${t.name}`, () => {
    const db = t.make();
    afterAll(() => db.close());
    test("executeStack: a type first met in statement 1 is parsed in the later statements too", async () => {
      const fresh = t.make();
      try {
        const got = await fresh.withSession((s) =>
          s
            .executeStack([
              ["SELECT moods FROM lts_stale_t WHERE id = $1", [2]],
              "SELECT 2 AS two",
              ["SELECT moods FROM lts_stale_t WHERE id = $1", [1]],
              "SELECT moods AS m FROM lts_stale_t WHERE id = 2",
            ])
            .then((rs) => rs.map((r) => r.data)),
        );
        expect(got).toEqual([
          [{ moods: ["sad", "happy"] }],
          [{ two: 2 }],
          [{ moods: ["happy"] }],
          [{ m: ["sad", "happy"] }],
        ]);
      } finally {
        await fresh.close();
      }
    });

    test("executeMany (rows per set): a type first met in set 1 is parsed in set 2 too", async () => {
      await db.withSession(async (s) => {
        const got = await s.executeMany("SELECT moods FROM lts_stale_t WHERE id = $1", [[1], [2]]).then((r) => r.data);
        expect(got).toEqual([{ moods: ["happy"] }, { moods: ["sad", "happy"] }]);
      });
    });
  });

  describe(`late types, pipelined one-shots: ${t.name}`, () => {
    const db = t.make();
    afterAll(() => db.close());
    test("two identical one-shot selects at once: both get the enum[] parsed", async () => {
      const q = "SELECT moods FROM lts_stale_t WHERE id = $1";
      const [a, b] = await Promise.all([db.select(q, [2]), db.select(q, [2])]);
      expect([a, b]).toEqual([[{ moods: ["sad", "happy"] }], [{ moods: ["sad", "happy"] }]]);
    });
  });
}
