import { describe, expect, test } from "vitest";
import { PostgresJsConfig, type PostgresJsConnection } from "../../src/adapters/postgresjs/index.js";
import { SQLSpecError } from "../../src/index.js";
import { runConformance } from "../conformance/suite.js";
import { PG_URL, runServerFaultTests } from "./server-faults.js";

runConformance("postgresjs", () => new PostgresJsConfig({ poolConfig: { connectionString: PG_URL, maxSize: 4 } }));
runServerFaultTests(
  "postgresjs",
  (o) =>
    new PostgresJsConfig({
      poolConfig: { connectionString: PG_URL, ...o.pool },
      ...(o.statementCacheSize !== undefined ? { statementConfig: { statementCacheSize: o.statementCacheSize } } : {}),
      ...(o.driverFeatures ? { driverFeatures: o.driverFeatures } : {}),
    }),
);

describe("postgres.js specifics", () => {
  test("onConnectionCreate gets the connection's postgres.js sql; sockets have TCP_NODELAY semantics (no COPY stall)", async () => {
    const seen: unknown[] = [];
    const db = new PostgresJsConfig({
      poolConfig: { connectionString: PG_URL, maxSize: 1 },
      driverFeatures: {
        onConnectionCreate: async (sql) => {
          seen.push(sql);
          await sql.unsafe("SET TIME ZONE 'Asia/Tokyo'");
        },
      },
    });
    try {
      await db.withSession(async (s) => {
        expect(await s.selectValue("SHOW TIME ZONE")).toBe("Asia/Tokyo");
        expect((s.conn as PostgresJsConnection).sql).toBe(seen[0]);
        await s.execute("CREATE TEMP TABLE pgad_pjs_copy (id int)");
        await s.loadRecords("pgad_pjs_copy", [{ id: 1 }]);
        const t = performance.now();
        for (let i = 0; i < 10; i++) await s.loadRecords("pgad_pjs_copy", [{ id: i }]);
        // Without TCP_NODELAY each small COPY waits ~40 ms for a delayed ACK.
        expect((performance.now() - t) / 10).toBeLessThan(30);
      });
      expect(seen).toHaveLength(1);
    } finally {
      await db.close();
    }
  });
});

describe("postgres.js stream guard", () => {
  test("a statement inside an open stream raises instead of deadlocking; the session recovers", async () => {
    const db = new PostgresJsConfig({ poolConfig: { connectionString: PG_URL, maxSize: 1 } });
    try {
      await db.withSession(async (s) => {
        const err = await (async () => {
          for await (const _ of s.stream("SELECT g FROM generate_series(1, 10) g", undefined, { batchSize: 2 })) {
            await s.selectValue("SELECT 1");
          }
        })().catch((e) => e);
        expect(err).toBeInstanceOf(SQLSpecError);
        expect(String(err.message)).toContain("reading a stream");
        expect(await s.selectValue("SELECT 5")).toBe(5);
      });
    } finally {
      await db.close();
    }
  });
});
