import { describe, expect, test } from "vitest";
import { PgConfig, type PgConnection } from "../../src/adapters/pg/index.js";
import { importDriver } from "../../src/driver/dependencies.js";
import { MissingDependencyError } from "../../src/index.js";
import { runConformance } from "../conformance/suite.js";
import { PG_URL, runServerFaultTests } from "./server-faults.js";

runConformance("pg", () => new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 4 } }));
runServerFaultTests(
  "pg",
  (o) =>
    new PgConfig({
      poolConfig: { connectionString: PG_URL, ...o.pool },
      ...(o.statementCacheSize !== undefined ? { statementConfig: { statementCacheSize: o.statementCacheSize } } : {}),
      ...(o.driverFeatures ? { driverFeatures: o.driverFeatures } : {}),
    }),
);

describe("pg specifics", () => {
  test("onConnectionCreate gets the pg client after sqlspec's setup; JSON codecs stay on", async () => {
    const seen: unknown[] = [];
    const db = new PgConfig({
      poolConfig: { connectionString: PG_URL, maxSize: 1 },
      driverFeatures: {
        onConnectionCreate: async (client) => {
          seen.push(client);
          await client.query("SET TIME ZONE 'Asia/Tokyo'");
        },
      },
    });
    try {
      await db.withSession(async (s) => {
        expect(await s.selectValue("SHOW TIME ZONE")).toBe("Asia/Tokyo");
        expect(await s.selectValue(`SELECT '{"a":[1]}'::jsonb`)).toEqual({ a: [1] });
        expect((s.conn as PgConnection).client).toBe(seen[0]);
      });
      expect(seen).toHaveLength(1);
    } finally {
      await db.close();
    }
  });

  test("a missing driver package raises MissingDependencyError naming it", async () => {
    const err = await importDriver("pg-not-installed", "PgConfig", () => import("pg-not-installed" as string)).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(MissingDependencyError);
    expect(err.message).toContain("npm install pg-not-installed");
  });
});
