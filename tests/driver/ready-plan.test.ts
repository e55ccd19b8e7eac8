import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { clearStatementCache, statementCacheStats } from "../../src/core/compiler.js";
import { SQLSpec, sql } from "../../src/index.js";

/** A builder hands the session SQL already in the driver's placeholder style: it is not lexed or cached again. */
describe("builders hand the session a ready plan", () => {
  const spec = new SQLSpec();
  const db = spec.addConfig(new PgliteConfig({}));

  beforeAll(async () => {
    await db.withSession((s) => s.execute("CREATE TABLE ready (id int PRIMARY KEY, name text, price numeric)"));
  });
  afterAll(() => spec.closeAllPools());

  it("multi-row INSERTs of new sizes, UPDATE, DELETE and SELECT run without compiling their text", async () => {
    await db.withSession(async (s) => {
      clearStatementCache();
      let written = 0;
      for (let size = 1; size <= 30; size++) {
        const rows = Array.from({ length: size }, (_, k) => ({ id: written + k, name: `n${written + k}`, price: k }));
        const r = await s.execute(sql.insertInto("ready").values(rows));
        expect(r.rowsAffected).toBe(size);
        expect(r.operationType).toBe("INSERT");
        written += size;
      }
      const upd = await s.execute(sql.update("ready").set({ price: 1 }).where({ id: 3 }));
      expect([upd.operationType, upd.rowsAffected]).toEqual(["UPDATE", 1]);
      const del = await s.execute(sql.deleteFrom("ready").where({ id: 4 }));
      expect([del.operationType, del.rowsAffected]).toEqual(["DELETE", 1]);
      const rows = await s.select(sql.select("id", "price").from("ready").where({ id: 3 }));
      expect(rows).toEqual([{ id: 3, price: "1" }]);
      expect(statementCacheStats().misses).toBe(0);
      expect(await s.selectValue("SELECT count(*)::int FROM ready")).toBe(written - 1);
    });
  });
});
