/**
 * upsert keys whose unique index is NULLS NOT DISTINCT (PostgreSQL 15+; PGlite's engine too): NULL key parts are
 * equal there, so the in-batch duplicate check and `duplicates: "last-wins"` must treat two rows with the same NULL
 * parts as one key (the server refuses ON CONFLICT DO UPDATE touching a row twice). Run on every PostgreSQL adapter.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CardinalityViolationError } from "../../src/index.js";
import { TARGETS } from "./targets.js";

const failure = (p: Promise<unknown>): Promise<any> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

for (const target of TARGETS) {
  describe(`upsert on a NULLS NOT DISTINCT key: ${target.name}`, () => {
    const T = `trust_nnd_${target.name}`;
    const db = target.make({ maxSize: 1 });
    const rowsOf = (table: string) =>
      db.withSession((s) => s.select(`SELECT a, b, v FROM ${table} ORDER BY a, b NULLS FIRST, v`));

    beforeAll(async () => {
      await db.withSession((s) =>
        s.executeScript(`
          DROP TABLE IF EXISTS ${T}, ${T}_one, ${T}_plain, ${T}_two;
          CREATE TABLE ${T} (a int, b text, v int);
          CREATE UNIQUE INDEX ${T}_key ON ${T} (a, b) NULLS NOT DISTINCT;
          CREATE TABLE ${T}_one (a int, b text, v int, CONSTRAINT ${T}_one_key UNIQUE NULLS NOT DISTINCT (b));
          CREATE TABLE ${T}_plain (a int, b text, v int, CONSTRAINT ${T}_plain_key UNIQUE (a, b));
          -- Two unique indexes on one column set: the server checks ON CONFLICT against both, NULLs equal in one.
          CREATE TABLE ${T}_two (a int, b text, v int);
          CREATE UNIQUE INDEX ${T}_two_plain ON ${T}_two (a, b);
          CREATE UNIQUE INDEX ${T}_two_nnd ON ${T}_two (a, b) NULLS NOT DISTINCT;
        `),
      );
    }, 120_000);
    afterAll(async () => {
      await db
        .withSession((s) => s.executeScript(`DROP TABLE IF EXISTS ${T}, ${T}_one, ${T}_plain, ${T}_two`))
        .catch(() => {});
      await db.close();
    });

    // copyThreshold 0 takes the COPY-staged path for any size; undefined the JSON source.
    test.each([
      ["JSON", undefined],
      ["COPY", 0],
    ])("last-wins (%s path) keeps the last row of a key with NULL parts", async (_, copyThreshold) => {
      const o = { duplicates: "last-wins" as const, ...(copyThreshold === undefined ? {} : { copyThreshold }) };
      await db.withSession(async (s) => {
        await s.execute(`DELETE FROM ${T}`);
        await s.execute(`DELETE FROM ${T}_one`);
        const batch = [
          { a: 1, b: null, v: 1 },
          { a: 2, b: "x", v: 2 },
          { a: 1, b: null, v: 3 },
        ];
        await s.upsert(T, batch, { on: ["a", "b"], ...o });
        await s.upsert(`${T}_one`, batch, { on: ["b"], ...o });
        // Again: the NULL-keyed row already stored is the conflict target, updated in place.
        await s.upsert(
          T,
          [
            { a: 1, b: null, v: 4 },
            { a: 1, b: null, v: 5 },
          ],
          { on: ["a", "b"], ...o },
        );
        await s.upsert(
          `${T}_one`,
          [
            { a: 9, b: null, v: 4 },
            { a: 9, b: null, v: 5 },
          ],
          { on: ["b"], ...o },
        );
      });
      expect(await rowsOf(T)).toEqual([
        { a: 1, b: null, v: 5 },
        { a: 2, b: "x", v: 2 },
      ]);
      expect(await rowsOf(`${T}_one`)).toEqual([
        { a: 2, b: "x", v: 2 },
        { a: 9, b: null, v: 5 },
      ]);
    });

    test.each([
      ["JSON", undefined],
      ["COPY", 0],
    ])(
      "default (%s path): the same key with NULL parts twice is reported as a duplicate in the batch, nothing written",
      async (_, copyThreshold) => {
        await db.withSession(async (s) => {
          await s.execute(`DELETE FROM ${T}`);
          const err = await failure(
            s.upsert(
              T,
              [
                { a: 7, b: "y", v: 0 },
                { a: 1, b: null, v: 1 },
                { a: 1, b: null, v: 2 },
              ],
              { on: ["a", "b"], ...(copyThreshold === undefined ? {} : { copyThreshold }) },
            ),
          );
          expect(err).toBeInstanceOf(CardinalityViolationError);
          expect(err.sqlState).toBe("21000");
          // Found in the batch before anything is sent (the server's own refusal names no rows).
          expect(err.message).toContain("appears more than once in the batch (rows 1 and 2)");
        });
        expect(await rowsOf(T)).toEqual([]);
      },
    );

    test.each([
      ["default", {}],
      ["merge", { strategy: "merge" as const }],
      ["copy-merge", { strategy: "merge" as const, copyThreshold: 0 }],
    ])("an ordinary unique key keeps NULL keys distinct (%s): every row is inserted", async (_, o) => {
      await db.withSession(async (s) => {
        await s.execute(`DELETE FROM ${T}_plain`);
        await s.execute(`INSERT INTO ${T}_plain VALUES (1, NULL, 0)`);
        const r = await s.upsert(
          `${T}_plain`,
          [
            { a: 1, b: null, v: 1 },
            { a: 1, b: null, v: 2 },
          ],
          { on: ["a", "b"], ...o },
        );
        expect(r.rowsAffected).toBe(2);
      });
      expect(await rowsOf(`${T}_plain`)).toEqual([
        { a: 1, b: null, v: 0 },
        { a: 1, b: null, v: 1 },
        { a: 1, b: null, v: 2 },
      ]);
    });

    // MERGE joins on the key: `=` never matches a NULL part, so the stored row was missed and the insert hit the index.
    test.each([
      ["merge-json", undefined],
      ["copy-merge", 0],
    ])("strategy merge (%s) updates the stored row whose key has NULL parts", async (name, copyThreshold) => {
      const o = { strategy: "merge" as const, ...(copyThreshold === undefined ? {} : { copyThreshold }) };
      await db.withSession(async (s) => {
        await s.execute(`DELETE FROM ${T}`);
        await s.execute(`DELETE FROM ${T}_one`);
        await s.execute(`INSERT INTO ${T} VALUES (1, NULL, 0), (2, 'x', 0), (NULL, NULL, 0)`);
        await s.execute(`INSERT INTO ${T}_one VALUES (1, NULL, 0), (2, 'x', 0)`);
        const batch = [
          { a: 1, b: null, v: 1 },
          { a: 2, b: "x", v: 2 },
          { a: 3, b: null, v: 3 },
        ];
        const r = await s.upsert(T, batch, { on: ["a", "b"], ...o });
        expect(r.rowsAffected).toBe(3);
        expect(r.metadata.strategy).toBe(name);
        expect((await s.upsert(T, [{ a: null, b: null, v: 4 }], { on: ["a", "b"], ...o })).rowsAffected).toBe(1);
        await s.upsert(`${T}_one`, [{ a: 5, b: null, v: 5 }], { on: ["b"], ...o });
      });
      expect(await rowsOf(T)).toEqual([
        { a: 1, b: null, v: 1 },
        { a: 2, b: "x", v: 2 },
        { a: 3, b: null, v: 3 },
        { a: null, b: null, v: 4 },
      ]);
      expect(await rowsOf(`${T}_one`)).toEqual([
        { a: 2, b: "x", v: 0 },
        { a: 5, b: null, v: 5 },
      ]);
    });

    // A plain and a NULLS NOT DISTINCT unique index on the same columns: NULL parts are equal because one index says so.
    test.each([
      ["insert-on-conflict", {}],
      ["copy-insert-on-conflict", { copyThreshold: 0 }],
      ["merge-json", { strategy: "merge" as const }],
      ["copy-merge", { strategy: "merge" as const, copyThreshold: 0 }],
    ])("two unique indexes on the key, one NULLS NOT DISTINCT: last-wins keeps the last row (%s)", async (name, o) => {
      await db.withSession(async (s) => {
        await s.execute(`DELETE FROM ${T}_two`);
        await s.execute(`INSERT INTO ${T}_two VALUES (1, NULL, 0)`);
        const r = await s.upsert(
          `${T}_two`,
          [
            { a: 1, b: null, v: 1 },
            { a: 2, b: null, v: 2 },
            { a: 1, b: null, v: 3 },
            { a: 2, b: null, v: 4 },
          ],
          { on: ["a", "b"], duplicates: "last-wins", ...o },
        );
        expect(r.metadata.strategy).toBe(name);
        expect(r.rowsAffected).toBe(2);
        const err = await failure(
          s.upsert(
            `${T}_two`,
            [
              { a: 1, b: null, v: 5 },
              { a: 1, b: null, v: 6 },
            ],
            { on: ["a", "b"], ...o },
          ),
        );
        expect(err).toBeInstanceOf(CardinalityViolationError);
        expect(err.message).toContain("appears more than once in the batch (rows 0 and 1)");
      });
      expect(await rowsOf(`${T}_two`)).toEqual([
        { a: 1, b: null, v: 3 },
        { a: 2, b: null, v: 4 },
      ]);
    });
  });
}
