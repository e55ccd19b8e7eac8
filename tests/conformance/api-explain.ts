/** Conformance: session.explain / sql.explain on every adapter: text lines, JSON plans, analyze, typed refusals. */
import { afterAll, beforeAll, expect, test } from "vitest";
import { DialectNotSupportedError, ParameterError, type Session, sql } from "../../src/index.js";
import type { SuiteContext } from "./suite.js";

export function runExplainCases(ctx: SuiteContext): void {
  const { prefix, withSession } = ctx;
  const table = `${prefix}_ex`;
  const count = (s: Session<any>) => s.selectValue(`SELECT count(*) FROM ${table}`).then(Number);

  beforeAll(async () => {
    await withSession(async (s) => {
      await s.execute(`DROP TABLE IF EXISTS ${table}`);
      await s.execute(`CREATE TABLE ${table} (id INTEGER PRIMARY KEY, qty INTEGER)`);
      await s.execute(`INSERT INTO ${table} (id, qty) VALUES (1, 10), (2, 20), (3, 30)`);
    });
  });
  afterAll(async () => {
    await withSession((s) => s.execute(`DROP TABLE IF EXISTS ${table}`)).catch(() => {});
  });

  test("explain: text lines of a statement whose values stay bound", async () => {
    await withSession(async (s) => {
      const r = await s.explain(`SELECT qty FROM ${table} WHERE id = ?`, [2]);
      expect(r.format).toBe("text");
      expect(r.parameters).toEqual([2]);
      expect(r.lines.length).toBeGreaterThan(0);
      const text = r.lines.join("\n");
      const expected = {
        postgres: { start: `EXPLAIN SELECT qty FROM ${table} WHERE id = $1`, plan: /Scan/ },
        sqlite: { start: `EXPLAIN QUERY PLAN SELECT qty FROM ${table} WHERE id = ?`, plan: /SEARCH|SCAN/ },
        duckdb: { start: `EXPLAIN SELECT qty FROM ${table} WHERE id = ?`, plan: /SCAN|FILTER|GET/i },
        mysql: { start: `EXPLAIN SELECT qty FROM ${table} WHERE id = ?`, plan: new RegExp(`table=${table}`) },
      }[s.dialect as "postgres"];
      expect(r.statement).toBe(expected.start);
      expect(text).toMatch(expected.plan);
      expect(r.analyzed).toBe(false);
    });
  });

  test("explain format json: the parsed plan document, or a typed refusal before anything is sent", async () => {
    await withSession(async (s) => {
      const run = () => s.explain(`SELECT qty FROM ${table} WHERE id = :id`, { id: 2 }, { format: "json" });
      if (s.dialect === "sqlite") {
        await expect(run()).rejects.toBeInstanceOf(DialectNotSupportedError);
        return;
      }
      const r = await run();
      expect(r.format).toBe("json");
      expect(r.parameters).toEqual([2]);
      if (s.dialect === "postgres") {
        expect(r.statement.startsWith("EXPLAIN (FORMAT JSON) SELECT")).toBe(true);
        expect((r.plan as { Plan: { "Node Type": string } }[])[0]?.Plan["Node Type"]).toMatch(/Scan/);
      } else if (s.dialect === "mysql") {
        expect(r.plan).toHaveProperty("query_block");
      } else {
        expect(Array.isArray(r.plan)).toBe(true);
        expect(JSON.stringify(r.plan)).toMatch(/"name"/);
      }
    });
  });

  test("explain analyze runs the statement; rollback: true leaves nothing behind", async () => {
    await withSession(async (s) => {
      const del = `DELETE FROM ${table} WHERE id = ?`;
      if (s.dialect === "sqlite") {
        const err = await s.explain(del, [3], { analyze: true }).catch((e) => e);
        expect(err).toBeInstanceOf(DialectNotSupportedError);
        expect(await count(s)).toBe(3);
        return;
      }
      const kept = await s.explain(del, [3], { analyze: true, rollback: true });
      expect(kept.analyzed).toBe(true);
      expect(kept.rolledBack).toBe(true);
      expect(kept.lines.length).toBeGreaterThan(0);
      expect(await count(s)).toBe(3);
      expect(s.inTransaction).toBe(false);
      if (s.dialect === "postgres") {
        const json = await s.explain(`SELECT * FROM ${table} WHERE qty > ?`, [15], { analyze: true, format: "json" });
        expect((json.plan as { Plan: { "Actual Rows": number } }[])[0]?.Plan["Actual Rows"]).toBe(2);
      }
      // without rollback the DELETE happened, as with a hand-written EXPLAIN ANALYZE
      await s.explain(del, [3], { analyze: true });
      expect(await count(s)).toBe(2);
      await s.execute(`INSERT INTO ${table} (id, qty) VALUES (3, 30)`);
      // rollback inside an open transaction: a savepoint where there is one; refused (nothing run) where not
      await s.begin();
      const inTx = await s.explain(del, [3], { analyze: true, rollback: true }).catch((e) => e);
      if (s.adapter.capabilities.savepoints) expect(inTx.rolledBack).toBe(true);
      else expect(inTx).toBeInstanceOf(Error);
      await s.rollback();
      expect(await count(s)).toBe(3);
    });
  });

  test("explain options the engine lacks raise DialectNotSupportedError before anything is sent", async () => {
    await withSession(async (s) => {
      // the table does not exist: an error from the server would be a parsing error, not DialectNotSupportedError
      const missing = `SELECT * FROM ${prefix}_no_such_table`;
      if (s.dialect === "postgres") {
        const r = await s.explain(`SELECT * FROM ${table}`, undefined, { verbose: true, costs: false, settings: true });
        expect(r.statement).toBe(`EXPLAIN (VERBOSE, COSTS FALSE, SETTINGS) SELECT * FROM ${table}`);
        expect(r.lines.join("\n")).not.toMatch(/cost=/);
        return;
      }
      for (const opt of [{ verbose: true }, { buffers: true }, { settings: true }, { costs: true }]) {
        await expect(s.explain(missing, undefined, opt)).rejects.toBeInstanceOf(DialectNotSupportedError);
      }
      // false asks for what the engine does anyway
      await expect(s.explain(`SELECT * FROM ${table}`, undefined, { costs: false })).resolves.toHaveProperty("lines");
      await expect(s.explain(missing, undefined, { format: "xml" as "json" })).rejects.toBeInstanceOf(ParameterError);
    });
  });

  test("sql.explain wraps a builder: session.explain reads the plan, execute returns the engine's rows", async () => {
    await withSession(async (s) => {
      const q = sql.select("qty").from(table).where({ id: 2 });
      const e = sql.explain(q);
      const r = await s.explain(e);
      expect(r.format).toBe("text");
      expect(r.parameters).toEqual([2]);
      expect(r.lines.length).toBeGreaterThan(0);
      const rows = await s.execute(e);
      expect(rows.data.length).toBeGreaterThan(0);
      if (s.dialect !== "sqlite") {
        const j = await s.explain(sql.explain(q, { format: "json" }));
        expect(j.plan).toBeTruthy();
      }
    });
  });
}
