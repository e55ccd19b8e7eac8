/**
 * MERGE and upsert by PostgreSQL server version, on a real server of each version (the embedded 14 and 18 in
 * tests/servers, the machine's server and PGlite in the adapter suites): before 15 an upsert-shaped MERGE is rewritten
 * to INSERT … ON CONFLICT and any other is refused naming the server; 15 and 16 run MERGE but refuse WHEN NOT MATCHED
 * BY SOURCE and RETURNING naming the server; 17+ run both. Every case checks the SQL that was sent and the rows.
 */
import { expect, test } from "vitest";
import { DialectNotSupportedError, type Session, SQLBuilderError, sql } from "../../src/index.js";
import type { SuiteContext } from "./suite.js";

const MERGE = 150000;
const MERGE_17 = 170000;

export function runMergeVersionCases(ctx: SuiteContext): void {
  if (ctx.dialect !== "postgres") return;
  const { T, withSession } = ctx;
  const t = `"${T.products}"`;
  const products = (s: Session<any>) => s.select(`SELECT id, name, price FROM ${T.products} ORDER BY id`);
  const seed = async (s: Session<any>) => {
    await s.execute(`DELETE FROM ${T.products}`);
    await s.execute(`INSERT INTO ${T.products} (id, name, price) VALUES (1, 'old', 9.99), (3, 'other', 1)`);
  };
  const server = async (s: Session<any>) => {
    const v = await s.dataDictionary.getVersion();
    return { num: v.versionNum, label: `${Math.floor(v.versionNum / 10000)}.${v.versionNum % 10000}` };
  };
  const upsertShaped = () =>
    sql
      .merge()
      .into(T.products, "t")
      .using(
        [
          { id: 1, name: "Widget", price: "19.99" },
          { id: 2, name: "Gadget", price: 5.5 },
        ],
        "src",
      )
      .on("t.id = src.id")
      .whenMatchedThenUpdate({ name: "src.name", price: "src.price" })
      .whenNotMatchedThenInsert({ id: "src.id", name: "src.name", price: "src.price" });
  const source = (cols: string) => `(SELECT ${cols} FROM json_populate_recordset(NULL::${t}, $1::json)) AS "src"`;

  test("merge by server version: an upsert-shaped MERGE runs as MERGE on 15+, as INSERT … ON CONFLICT before", async () => {
    await withSession(async (s) => {
      await seed(s);
      const { num } = await server(s);
      const r = await s.execute(upsertShaped());
      if (num < MERGE) {
        expect(r.operationType).toBe("INSERT");
        expect(r.statement).toBe(
          `INSERT INTO ${t} AS "t" ("id", "name", "price") SELECT src.id, src.name, src.price ` +
            `FROM ${source(`"id", "name", "price"`)} ` +
            `ON CONFLICT ("id") DO UPDATE SET "name" = excluded."name", "price" = excluded."price"`,
        );
      } else {
        expect(r.operationType).toBe("MERGE");
        expect(r.statement).toBe(
          `MERGE INTO ${t} AS "t" USING ${source(`"id", "name", "price"`)} ON t.id = src.id ` +
            `WHEN MATCHED THEN UPDATE SET "name" = src.name, "price" = src.price ` +
            `WHEN NOT MATCHED THEN INSERT ("id", "name", "price") VALUES (src.id, src.name, src.price)`,
        );
      }
      expect(r.rowsAffected).toBe(2);
      expect(await products(s)).toEqual([
        { id: 1, name: "Widget", price: "19.99" },
        { id: 2, name: "Gadget", price: "5.50" },
        { id: 3, name: "other", price: "1.00" },
      ]);
    });
  });

  test("merge by server version: a MERGE no INSERT … ON CONFLICT can say is refused before 15, naming the server", async () => {
    await withSession(async (s) => {
      await seed(s);
      const { num, label } = await server(s);
      const deleting = sql
        .merge()
        .into(T.products, "t")
        .using([{ id: 3 }], "src")
        .on("t.id = src.id")
        .whenMatchedThenDelete();
      const byName = upsertShaped().on("t.name = src.name");
      if (num < MERGE) {
        for (const stmt of [deleting, byName]) {
          const err = await s.execute(stmt).catch((e) => e);
          expect(err).toBeInstanceOf(DialectNotSupportedError);
          expect(err.message).toContain(
            `MERGE needs PostgreSQL 15+, but the server is ${label} (server_version_num ${num})`,
          );
        }
        expect(await products(s)).toEqual([
          { id: 1, name: "old", price: "9.99" },
          { id: 3, name: "other", price: "1.00" },
        ]);
      } else {
        const r = await s.execute(deleting);
        expect(r.statement).toBe(
          `MERGE INTO ${t} AS "t" USING ${source(`"id"`)} ON t.id = src.id WHEN MATCHED THEN DELETE`,
        );
        expect(r.rowsAffected).toBe(1);
        expect(await products(s)).toEqual([{ id: 1, name: "old", price: "9.99" }]);
      }
    });
  });

  test("merge by server version: WHEN NOT MATCHED BY SOURCE and RETURNING run on 17+, are refused before, naming the server", async () => {
    await withSession(async (s) => {
      await seed(s);
      const { num, label } = await server(s);
      const bySource = upsertShaped().whenNotMatchedBySourceThenDelete();
      const returning = upsertShaped().returning("t.id", "t.name", sql.raw("merge_action()"));
      if (num < MERGE_17) {
        for (const [stmt, clause] of [
          [bySource, "MERGE … WHEN NOT MATCHED BY SOURCE"],
          [returning, "MERGE … RETURNING"],
        ] as const) {
          const err = await s.execute(stmt).catch((e) => e);
          expect(err).toBeInstanceOf(DialectNotSupportedError);
          expect(err.message).toContain(`${clause} needs PostgreSQL 17+`);
          expect(err.message).toContain(`but the server is ${label} (server_version_num ${num})`);
        }
        expect(await products(s)).toEqual([
          { id: 1, name: "old", price: "9.99" },
          { id: 3, name: "other", price: "1.00" },
        ]);
        return;
      }
      const r = await s.execute(returning);
      expect(r.statement).toMatch(/ RETURNING "t"\."id", "t"\."name", merge_action\(\)$/);
      expect(r.data).toEqual([
        { id: 1, name: "Widget", merge_action: "UPDATE" },
        { id: 2, name: "Gadget", merge_action: "INSERT" },
      ]);
      const d = await s.execute(bySource);
      expect(d.statement).toMatch(/ WHEN NOT MATCHED BY SOURCE THEN DELETE$/);
      expect(d.rowsAffected).toBe(3);
      expect(await products(s)).toEqual([
        { id: 1, name: "Widget", price: "19.99" },
        { id: 2, name: "Gadget", price: "5.50" },
      ]);
    });
  });

  test("upsert by server version: the default is INSERT … ON CONFLICT everywhere; strategy merge needs 15+, named", async () => {
    await withSession(async (s) => {
      await seed(s);
      const { num, label } = await server(s);
      const rows = [
        { id: 1, name: "Widget", price: "19.99" },
        { id: 2, name: "Gadget", price: 5.5 },
      ];
      const r = await s.upsert(T.products, rows, { on: ["id"] });
      expect(r.metadata?.strategy).toBe("insert-on-conflict");
      expect(r.statement).toMatch(new RegExp(`^INSERT INTO ${t} AS "t" .* ON CONFLICT \\("id"\\) DO UPDATE SET `));
      expect(r.rowsAffected).toBe(2);
      const m = await s
        .upsert(T.products, [{ id: 3, name: "merged", price: 7 }], { on: ["id"], strategy: "merge" })
        .catch((e) => e);
      if (num < MERGE) {
        expect(m).toBeInstanceOf(SQLBuilderError);
        expect(m.message).toContain(
          `MERGE needs PostgreSQL 15+, but the server is ${label} (server_version_num ${num})`,
        );
      } else {
        expect(m.metadata?.strategy).toBe("merge-json");
        expect(m.statement).toMatch(new RegExp(`^MERGE INTO ${t} AS "t" USING `));
        expect(m.rowsAffected).toBe(1);
      }
      expect(await products(s)).toEqual([
        { id: 1, name: "Widget", price: "19.99" },
        { id: 2, name: "Gadget", price: "5.50" },
        { id: 3, name: num < MERGE ? "other" : "merged", price: num < MERGE ? "1.00" : "7.00" },
      ]);
      await s.execute(`DELETE FROM ${T.products}`);
    });
  });
}
