/**
 * Prepared statements kept per server connection are bounded by their SQL text's size, not only by their number: a
 * workload of large distinct statements (multi-row INSERTs of many batch sizes) must not make every backend hold
 * megabytes of statements. Observed on the server itself (pg_prepared_statements of the session's backend).
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import { type DatabaseConfig, SQLSpec } from "../../src/index.js";
import { PG_URL } from "../support/servers.js";

const BYTES = 20_000;
type Make = () => DatabaseConfig<any, any, any>;
const targets: Array<[string, Make]> = [
  [
    "pg",
    () =>
      new PgConfig({
        poolConfig: { connectionString: PG_URL, maxSize: 1 },
        statementConfig: { statementCacheSize: 100, statementCacheBytes: BYTES },
      }),
  ],
  [
    "postgresjs",
    () =>
      new PostgresJsConfig({
        poolConfig: { connectionString: PG_URL, maxSize: 1 },
        statementConfig: { statementCacheSize: 100, statementCacheBytes: BYTES },
      }),
  ],
];

/** A distinct statement of about `n` characters with one parameter. */
function statement(n: number, tag: number): string {
  const head = `SELECT $1::int + ${tag} AS v /* `;
  return `${head}${"x".repeat(Math.max(0, n - head.length - 3))} */`;
}

describe.each(targets)("prepared statements bounded by bytes on %s", (_name, make) => {
  // A pool of one fresh connection per test: pg_prepared_statements then shows only what that test prepared.
  let spec: SQLSpec;
  let db: DatabaseConfig<any, any, any>;
  beforeEach(() => {
    spec = new SQLSpec();
    db = spec.addConfig(make());
  });
  afterEach(() => spec.closeAllPools());

  const prepared = (s: { select: (sql: string) => Promise<unknown[]> }) =>
    s.select(
      "SELECT count(*)::int AS n, coalesce(sum(length(statement)), 0)::int AS bytes FROM pg_prepared_statements",
    ) as Promise<{ n: number; bytes: number }[]>;

  test("many 3 kB statements: the backend keeps at most the byte budget; every statement still answers", async () => {
    await db.withSession(async (s) => {
      for (let i = 0; i < 40; i++) expect(await s.selectValue(statement(3_000, i), [1])).toBe(1 + i);
      // the recent ones are still prepared (repeat costs no Parse) and the total stays under the budget
      const [row] = await prepared(s);
      expect(row!.bytes).toBeLessThanOrEqual(BYTES);
      expect(row!.n).toBeGreaterThan(0);
    });
  });

  test("a statement larger than a quarter of the budget runs unnamed and never evicts the others", async () => {
    await db.withSession(async (s) => {
      expect(await s.selectValue(statement(10_000, 7), [1])).toBe(8);
      expect(await s.selectValue(statement(10_000, 7), [2])).toBe(9);
      const [row] = await prepared(s);
      expect(row!.bytes).toBeLessThan(10_000);
    });
  });
});
