/**
 * Conformance cases that need a dialect feature only some engines have: native arrays, MERGE (and MERGE clauses that
 * depend on the server version). Gated by capability, so any engine that gains the feature runs them.
 */
import { expect } from "vitest";
import { DataError, DialectNotSupportedError, JsonValue, sql } from "../../src/index.js";
import type { SuiteContext } from "./suite.js";

type When = (open: boolean, gate: string) => (title: string, fn: () => Promise<void>) => void;

export function runMergeAndArrayCases(ctx: SuiteContext, when: When): void {
  const { T, gates, withSession } = ctx;

  when(gates.arrays, "native arrays")("JS arrays bind to array types and to JSON; sql.json forces JSON", async () => {
    await withSession(async (s) => {
      await s.execute(`DELETE FROM ${T.types}`);
      await s.execute(`INSERT INTO ${T.types} (id, j) VALUES (2, $1)`, [[1, 2, { k: "v" }]]);
      expect(await s.selectValue(`SELECT jsonb_typeof(j) FROM ${T.types} WHERE id = 2`)).toBe("array");
      await s.execute(`INSERT INTO ${T.types} (id, ints, texts) VALUES (3, $1, $2)`, [
        [1, 2, 3],
        ["a", 'q"uote', "c,d"],
      ]);
      const arr = await s.selectOne<{ ints: number[]; texts: string[] }>(
        `SELECT ints, texts FROM ${T.types} WHERE id = 3`,
      );
      expect(arr).toEqual({ ints: [1, 2, 3], texts: ["a", 'q"uote', "c,d"] });
      const any = await s.select<{ id: number }>(`SELECT id FROM ${T.types} WHERE id = ANY($1) ORDER BY id`, [[2, 99]]);
      expect(any.map((r) => r.id)).toEqual([2]);
      await s.execute(`INSERT INTO ${T.types} (id, j) VALUES (4, $1)`, [new JsonValue(["x", 1])]);
      expect(await s.selectValue(`SELECT j FROM ${T.types} WHERE id = 4`)).toEqual(["x", 1]);
      await s.execute(`INSERT INTO ${T.types} (id, j) VALUES (6, $1)`, [new JsonValue(null)]);
      expect(await s.selectValue(`SELECT jsonb_typeof(j) FROM ${T.types} WHERE id = 6`)).toBe("null");
      await s.execute(`INSERT INTO ${T.types} (id, j) VALUES (7, $1)`, ['{"pre":"encoded"}']);
      expect(await s.selectValue(`SELECT j->>'pre' FROM ${T.types} WHERE id = 7`)).toBe("encoded");
      const d = [new Date("2024-01-01T00:00:00Z"), new Date("2024-06-01T12:00:00Z")];
      const got = await s.selectValue<Date[]>("SELECT $1::timestamptz[]", [d]);
      expect(got.map((x) => x.getTime())).toEqual(d.map((x) => x.getTime()));
      // int8 follows driverFeatures.int8 (default "number": exact within 2^53, DataError beyond), arrays included.
      expect(await s.selectValue("SELECT $1::int8[]", [[1n, 9007199254740991n]])).toEqual([1, 9007199254740991]);
      expect(await s.selectValue("SELECT ($1::int8[])::text", [[1n, 9007199254740993n]])).toBe("{1,9007199254740993}");
      expect(await s.selectValue("SELECT $1::bool[]", [[true, false]])).toEqual([true, false]);
      expect(await s.selectValue("SELECT $1::jsonb", [[true, 2n, "x"]])).toEqual([true, 2, "x"]);
      await expect(s.selectValue("SELECT ARRAY[1, 9007199254740993]::int8[]")).rejects.toBeInstanceOf(DataError);
      await s.execute(`DELETE FROM ${T.types}`);
    });
  });

  when(gates.merge, "MERGE")("builder MERGE from rows and sql.upsert run as MERGE", async () => {
    await withSession(async (s) => {
      await s.execute(`INSERT INTO ${T.products} (id, name, price) VALUES (1, 'old', 9.99)`);
      const rows = [
        { id: 1, name: "Widget", price: "19.99" },
        { id: 2, name: "Gadget", price: 5.5 },
      ];
      const merged = await s.execute(
        sql
          .merge()
          .into(T.products, "t")
          .using(rows, "src")
          .on("t.id = src.id")
          .whenMatchedThenUpdate({ name: "src.name", price: "src.price" })
          .whenNotMatchedThenInsert({ id: "src.id", name: "src.name", price: "src.price" }),
      );
      expect(merged.rowsAffected).toBe(2);
      expect(merged.operationType).toBe("MERGE");
      expect(await s.select(`SELECT id, name, price FROM ${T.products} ORDER BY id`)).toEqual([
        { id: 1, name: "Widget", price: "19.99" },
        { id: 2, name: "Gadget", price: "5.50" },
      ]);
      const up = await s.execute(
        sql
          .upsert(T.products, { dialect: "postgres" })
          .using([{ id: 2, name: "Gadget 2", price: 6 }], "src")
          .on("t.id = src.id")
          .whenMatchedThenUpdate({ name: "src.name", price: "src.price" })
          .whenNotMatchedThenInsert(["id", "name", "price"]),
      );
      expect(up.rowsAffected).toBe(1);
      expect(await s.selectValue(`SELECT name FROM ${T.products} WHERE id = 2`)).toBe("Gadget 2");
      await s.execute(`DELETE FROM ${T.products}`);
    });
  });

  when(gates.merge, "MERGE")(
    "MERGE clauses follow the server version: BY SOURCE is checked before sending",
    async () => {
      await withSession(async (s) => {
        await s.execute(`INSERT INTO ${T.products} (id, name, price) VALUES (1, 'keep', 1), (2, 'gone', 2)`);
        const bySource = sql
          .merge()
          .into(T.products, "t")
          .using([{ id: 1, name: "kept", price: 3 }], "src")
          .on("t.id = src.id")
          .whenMatchedThenUpdate({ name: "src.name" })
          .whenNotMatchedBySourceThenDelete();
        if (await s.dataDictionary.supports("merge_not_matched_by_source")) {
          expect((await s.execute(bySource)).rowsAffected).toBe(2);
          expect(await s.select(`SELECT id, name FROM ${T.products} ORDER BY id`)).toEqual([{ id: 1, name: "kept" }]);
        } else {
          const { version } = await s.dataDictionary.getVersion();
          const err = await s.execute(bySource).catch((e) => e);
          expect(err).toBeInstanceOf(DialectNotSupportedError);
          expect(err.message).toContain(version.split(" ")[0]);
          expect(await s.select(`SELECT id, name FROM ${T.products} ORDER BY id`)).toEqual([
            { id: 1, name: "keep" },
            { id: 2, name: "gone" },
          ]);
        }
        await s.execute(`DELETE FROM ${T.products}`);
      });
    },
  );
}
