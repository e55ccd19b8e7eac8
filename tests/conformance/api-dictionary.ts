/** Conformance: dataDictionary.supports() flags, listFeatures() and getOptimalType() (proven by a real table). */
import { expect, test } from "vitest";
import { ParameterError } from "../../src/index.js";
import type { SuiteContext } from "./suite.js";

export function runDictionaryCases(ctx: SuiteContext): void {
  const { withSession, prefix, gates } = ctx;

  test("dataDictionary.supports(): flags by name or supports_ prefix, listFeatures() names them all", async () => {
    await withSession(async (s) => {
      const dd = s.dataDictionary;
      const features = dd.listFeatures();
      for (const f of ["transactions", "prepared_statements", "uuid", "arrays", "schemas", "cte", "json"]) {
        expect(features).toContain(f);
      }
      expect(features).toContain("window_functions");
      for (const f of features) expect(await dd.supports(`supports_${f}`)).toBe(await dd.supports(f));
      expect(await dd.supports("transactions")).toBe(true);
      expect(await dd.supports("supports_prepared_statements")).toBe(true);
      expect(await dd.supports("cte")).toBe(true);
      expect(await dd.supports("window_functions")).toBe(true);
      expect(await dd.supports("json")).toBe(true);
      expect(await dd.supports("savepoints")).toBe(gates.savepoints);
      // array types in the engine (DuckDB has LIST types even where JS arrays do not bind to them)
      expect(await dd.supports("arrays")).toBe(s.dialect === "postgres" || s.dialect === "duckdb");
      expect(await dd.supports("returning")).toBe(gates.returning);
      expect(await dd.supports("no_such_feature")).toBe(false);
      // case-insensitive, with or without the supports_ prefix
      for (const f of ["SUPPORTS_JSON", "Supports_Json", "Json", "JSON", "supports_json"]) {
        expect(await dd.supports(f)).toBe(true);
      }
      expect(await dd.supports("SUPPORTS_TRANSACTIONS")).toBe(true);
      if (s.dialect === "postgres") {
        for (const f of ["uuid", "arrays", "schemas", "jsonb", "on_conflict", "copy", "transactional_ddl"]) {
          expect(await dd.supports(f)).toBe(true);
        }
      }
      // the claim is checked against the server: a CTE and a window function run
      expect(
        await s.selectValue("WITH w AS (SELECT 1 AS a UNION ALL SELECT 2) SELECT sum(a) OVER () FROM w LIMIT 1"),
      ).toEqual(expect.anything());
    });
  });

  test("dataDictionary.getOptimalType(): the types create a table that round-trips each kind of value", async () => {
    await withSession(async (s) => {
      const dd = s.dataDictionary;
      const t = `${prefix}_optimal`;
      const kinds = ["uuid", "json", "boolean", "timestamp", "text", "blob", "bigint", "decimal", "float"] as const;
      const types: string[] = [];
      for (const k of kinds) types.push(await dd.getOptimalType(k));
      if (s.dialect === "postgres") {
        expect(types.slice(0, 2)).toEqual(["uuid", "jsonb"]);
        expect(await dd.getOptimalType("blob")).toBe("bytea");
      }
      await expect(dd.getOptimalType("geometry-ish")).rejects.toBeInstanceOf(ParameterError);
      await s.execute(`DROP TABLE IF EXISTS ${t}`);
      await s.execute(
        `CREATE TABLE ${t} (id int PRIMARY KEY, ${kinds.map((k, i) => `c_${k} ${types[i]}`).join(", ")})`,
      );
      try {
        const uuid = "6f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b";
        const when = new Date("2024-03-04T05:06:07.123Z");
        const row = [
          1,
          uuid,
          { a: [1, "x"] },
          true,
          when,
          "text é",
          Buffer.from([0, 1, 255]),
          9007199254740993n,
          "12.5",
          0.25,
        ];
        await s.execute(`INSERT INTO ${t} VALUES (${row.map(() => "?").join(", ")})`, row);
        const cols = kinds.filter((k) => k !== "bigint").map((k) => `c_${k}`);
        const got = await s.selectOne<Record<string, unknown>>(`SELECT ${cols.join(", ")} FROM ${t}`);
        expect(String(got.c_uuid).toLowerCase()).toBe(uuid);
        const j = typeof got.c_json === "string" ? JSON.parse(got.c_json) : got.c_json;
        expect(j).toEqual({ a: [1, "x"] });
        expect(Boolean(got.c_boolean)).toBe(true);
        const raw = got.c_timestamp;
        const ts =
          raw instanceof Date ? raw : new Date(/Z|[+-]\d\d:?\d\d$/.test(String(raw)) ? String(raw) : `${raw}Z`);
        expect(ts.getTime()).toBe(when.getTime());
        expect(got.c_text).toBe("text é");
        expect(Buffer.from(got.c_blob as Uint8Array).equals(Buffer.from([0, 1, 255]))).toBe(true);
        expect(BigInt(await s.selectValue<string>(`SELECT CAST(c_bigint AS ${textCast(s.dialect)}) FROM ${t}`))).toBe(
          9007199254740993n,
        );
        expect(Number(got.c_decimal)).toBe(12.5);
        expect(Number(got.c_float)).toBe(0.25);
      } finally {
        await s.execute(`DROP TABLE IF EXISTS ${t}`);
      }
    });
  });
}

function textCast(dialect: string): string {
  return dialect === "mysql" ? "char" : "text";
}
