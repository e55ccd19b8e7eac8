/**
 * A JS array is written by one rule on every path (execute, upsert's JSON source, upsert's COPY staging,
 * loadRecords), decided by the target column's type: a PostgreSQL array literal for anything but json/jsonb (JSON)
 * and pgvector's `vector` (`[1,2]`) — `text`, arrays and domains over arrays included. So the stored value never
 * depends on the call or on the row count that picks the JSON or the COPY path. Run on every PostgreSQL adapter
 * (`vector` on PGlite, whose pgvector package is installed; the test server has no pgvector).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Session, sql } from "../../src/index.js";
import { TARGETS } from "./targets.js";

type Write = (s: Session<any>, table: string, row: Record<string, unknown>) => Promise<unknown>;

const PATHS: [string, Write][] = [
  [
    "execute",
    (s, table, row) => {
      const cols = Object.keys(row);
      const list = cols.map((c) => `"${c}"`).join(", ");
      const params = cols.map((_, i) => `$${i + 1}`).join(", ");
      return s.execute(`INSERT INTO ${table} (${list}) VALUES (${params})`, Object.values(row));
    },
  ],
  ["upsert (JSON source)", (s, table, row) => s.upsert(table, [row], { on: ["id"], copyThreshold: 1000 })],
  ["upsert (COPY staging)", (s, table, row) => s.upsert(table, [row], { on: ["id"], copyThreshold: 0 })],
  ["loadRecords (COPY)", (s, table, row) => s.loadRecords(table, [row])],
];

for (const target of TARGETS) {
  describe(`JS arrays by column type, on every path: ${target.name}`, () => {
    const T = `trust_arr_${target.name}`;
    const db = target.make({ maxSize: 1 });
    let vector = false;

    beforeAll(async () => {
      await db.withSession(async (s) => {
        vector = (await s.selectValue<number>("SELECT count(*)::int FROM pg_type WHERE typname = 'vector'")) > 0;
        // PGlite loads pgvector from its package (installed here): the vector case must run somewhere.
        if (!target.server) expect(vector).toBe(true);
        await s.executeScript(`
          DROP TABLE IF EXISTS ${T};
          DROP DOMAIN IF EXISTS ${T}_ints;
          CREATE DOMAIN ${T}_ints AS int[] CHECK (cardinality(VALUE) <= 3);
          CREATE TABLE ${T} (id int PRIMARY KEY, t text, vc varchar(20), ta text[], ia int[], d ${T}_ints, j jsonb,
            js json${vector ? ", v vector(2)" : ""});
        `);
      });
    }, 120_000);
    afterAll(async () => {
      await db
        .withSession((s) => s.executeScript(`DROP TABLE IF EXISTS ${T}; DROP DOMAIN IF EXISTS ${T}_ints;`))
        .catch(() => {});
      await db.close();
    });

    test("the same array stores the same value through execute, upsert (JSON and COPY) and loadRecords", async () => {
      const stored: Record<string, unknown>[] = [];
      await db.withSession(async (s) => {
        await s.execute(`DELETE FROM ${T}`);
        for (const [i, [what, write]] of PATHS.entries()) {
          const row: Record<string, unknown> = {
            id: i + 1,
            t: [1, 2],
            vc: ["a b", null],
            ta: ["a", "b,c"],
            ia: [1, 2],
            d: [3, 4],
            j: [1, 2],
            js: ["x"],
            ...(vector ? { v: [0.5, 2] } : {}),
          };
          await write(s, T, row);
          const back = await s.selectOne(
            `SELECT t, vc, ta::text AS ta, ia::text AS ia, d::text AS d, j::text AS j, js::text AS js
               ${vector ? ", v::text AS v" : ""} FROM ${T} WHERE id = $1`,
            [i + 1],
          );
          stored.push({ what, ...back });
        }
      });
      const expected = {
        t: "{1,2}",
        vc: '{"a b",NULL}',
        ta: '{a,"b,c"}',
        ia: "{1,2}",
        d: "{3,4}",
        j: "[1, 2]",
        js: '["x"]',
        ...(vector ? { v: "[0.5,2]" } : {}),
      };
      expect(stored).toEqual(PATHS.map(([what]) => ({ what, ...expected })));
    });

    test("sql.json(array) stores JSON text in a text column, on every path", async () => {
      const stored: unknown[] = [];
      await db.withSession(async (s) => {
        await s.execute(`DELETE FROM ${T}`);
        for (const [i, [, write]] of PATHS.entries()) {
          await write(s, T, { id: i + 1, t: sql.json([1, "two"]) });
          stored.push(await s.selectValue(`SELECT t FROM ${T} WHERE id = $1`, [i + 1]));
        }
      });
      expect(stored).toEqual(PATHS.map(() => '[1,"two"]'));
    });
  });
}
