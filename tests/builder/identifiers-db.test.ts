/**
 * Identifiers against real PostgreSQL (pg, postgres.js, PGlite): a table name is an identifier everywhere (the
 * builder, session.upsert, loadRecords, catalog lookups), quoted parts are understood, and columns named by words
 * that are reserved in some PostgreSQL version (`collation`, `concurrently`, `system_user`) work through the
 * builder, upsert and loadRecords.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import { type DatabaseConfig, type Session, SQLParsingError, sql } from "../../src/index.js";
import { PG_URL } from "../support/servers.js";

type AnyConfig = DatabaseConfig<any, any, any>;

function identifierSuite(name: string, make: () => AnyConfig): void {
  const p = `idq_${name}`;
  const T = `${p}_t`;
  const KW = `${p}_kw`;
  const WEIRD = `${p}_we"ird`;
  const SCHEMA = `Idq${name}`;
  const DOTTED = `"${SCHEMA}"."Record.Target"`;
  let db: AnyConfig;
  let s: Session<any>;

  describe(`identifiers on ${name}`, () => {
    beforeAll(async () => {
      db = make();
      s = await db.provideSession();
      await s.executeScript(`
        DROP TABLE IF EXISTS ${T}, ${KW}, "${WEIRD.replace(/"/g, '""')}";
        DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE;
        CREATE TABLE ${T} (id int PRIMARY KEY);
        CREATE TABLE ${KW} (id int PRIMARY KEY, "collation" text, "concurrently" boolean, "system_user" text);
        CREATE TABLE "${WEIRD.replace(/"/g, '""')}" (id int PRIMARY KEY, v text);
        CREATE SCHEMA "${SCHEMA}";
        CREATE TABLE ${DOTTED} (id int PRIMARY KEY, "Value" numeric(12,4));
      `);
    });
    afterAll(async () => {
      await s
        .executeScript(
          `DROP TABLE IF EXISTS ${T}, ${KW}, "${WEIRD.replace(/"/g, '""')}"; DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`,
        )
        .catch(() => {});
      await s.release();
      await db.close();
    });

    test("a table name with SQL in it stays one identifier: nothing is deleted", async () => {
      await s.execute(`INSERT INTO ${T} SELECT g FROM generate_series(1, 3) g`);
      const attack = sql.deleteFrom(`"${T}" WHERE $1::int IS NOT NULL --`).where({ id: 1 });
      await expect(s.execute(attack)).rejects.toThrow(SQLParsingError); // relation "…" does not exist
      expect(Number(await s.selectValue(`SELECT count(*) FROM ${T}`))).toBe(3);
    });

    test("columns named collation / concurrently / system_user: builder, MERGE, upsert and loadRecords", async () => {
      await s.execute(sql.insertInto(KW).values({ id: 1, collation: "C", concurrently: true, system_user: "a" }));
      await s.execute(sql.update(KW).set({ system_user: "b" }).where({ concurrently: true }));
      await s.execute(
        sql
          .merge()
          .into(KW, "t")
          .using([{ id: 2, collation: "D", concurrently: false, system_user: "c" }], "src")
          .on("t.id = src.id")
          .whenMatchedThenUpdate(["collation", "system_user"])
          .whenNotMatchedThenInsert(["id", "collation", "concurrently", "system_user"]),
      );
      await s.upsert(KW, [{ id: 3, collation: "E", concurrently: true, system_user: "d" }], { on: ["id"] });
      await s.loadRecords(KW, [{ id: 4, collation: "F", concurrently: false, system_user: "e" }]);
      const rows = await s.select(
        sql
          .select("id", "collation", "concurrently", "system_user")
          .from(KW)
          .orderBy("id")
          .where({ collation: ["C", "D", "E", "F"] }),
      );
      expect(rows).toEqual([
        { id: 1, collation: "C", concurrently: true, system_user: "b" },
        { id: 2, collation: "D", concurrently: false, system_user: "c" },
        { id: 3, collation: "E", concurrently: true, system_user: "d" },
        { id: 4, collation: "F", concurrently: false, system_user: "e" },
      ]);
    });

    test('a table name containing " works in upsert and loadRecords (quoted, never pasted)', async () => {
      await s.upsert(WEIRD, [{ id: 1, v: "a" }], { on: ["id"] });
      await s.upsert(WEIRD, [{ id: 1, v: "b" }], { on: ["id"] });
      await s.loadRecords(WEIRD, [{ id: 2, v: "c" }]);
      expect(
        await s.select(
          sql
            .select("id", "v")
            .from(`"${WEIRD.replace(/"/g, '""')}"`)
            .orderBy("id"),
        ),
      ).toEqual([
        { id: 1, v: "b" },
        { id: 2, v: "c" },
      ]);
    });

    test('"Schema"."Record.Target": upsert, loadRecords, the builder and the catalog read the quoted parts', async () => {
      expect((await s.dataDictionary.getColumns(DOTTED)).map((c) => [c.name, c.type])).toEqual([
        ["id", "integer"],
        ["Value", "numeric(12,4)"],
      ]);
      await s.upsert(DOTTED, [{ id: 1, Value: "1.23456" }], { on: ["id"] });
      await s.upsert(DOTTED, [{ id: 1, Value: "2.5" }], { on: ["id"] });
      await s.loadRecords(DOTTED, [{ id: 2, Value: "3.14159" }]);
      await s.execute(sql.insertInto(DOTTED).values({ id: 3, Value: "4" }));
      const rows = await s.select(sql.select("id", sql.raw('"Value"::text AS v')).from(DOTTED).orderBy("id"));
      expect(rows).toEqual([
        { id: 1, v: "2.5000" },
        { id: 2, v: "3.1416" },
        { id: 3, v: "4.0000" },
      ]);
    });
  });
}

identifierSuite("pg", () => new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 2 } }));
identifierSuite("pgjs", () => new PostgresJsConfig({ poolConfig: { connectionString: PG_URL, maxSize: 2 } }));
identifierSuite("lite", () => new PgliteConfig({ driverFeatures: { enablePgvector: false } }));
