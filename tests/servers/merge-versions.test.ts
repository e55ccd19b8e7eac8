/**
 * The version-gated MERGE and upsert cases on real PostgreSQL 14 and 18 (embedded binaries from npm, started here on
 * free ports and stopped in afterAll): the INSERT … ON CONFLICT rewrite and the refusals naming the server on 14, the
 * 17+ clauses (WHEN NOT MATCHED BY SOURCE, RETURNING) on 18. The machine's PostgreSQL 15 runs the same cases in
 * tests/adapters. A server that cannot start fails this file.
 */
import { afterAll, expect, test } from "vitest";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import { runConformance } from "../conformance/suite.js";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../support/embedded-postgres.js";

const started = await Promise.allSettled([startEmbeddedPostgres(14), startEmbeddedPostgres(18)]);
const up = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
const failed = started.find((r) => r.status === "rejected");
if (failed) {
  await Promise.all(up.map((s) => s.stop()));
  throw failed.reason;
}
const [pg14, pg18] = up as [EmbeddedPostgres, EmbeddedPostgres];
afterAll(async () => {
  await Promise.all(up.map((s) => s.stop()));
});

test("the servers are the versions each branch of the cases needs", () => {
  expect(Math.floor(pg14.versionNum / 10000)).toBe(14);
  expect(Math.floor(pg18.versionNum / 10000)).toBe(18);
});

for (const [label, server] of [
  ["14", pg14],
  ["18", pg18],
] as const) {
  runConformance(
    `pg${label}`,
    () => new PgConfig({ poolConfig: { connectionString: server.url, maxSize: 4 } }),
    "merge",
  );
  runConformance(
    `pgjs${label}`,
    () => new PostgresJsConfig({ poolConfig: { connectionString: server.url, maxSize: 4 } }),
    "merge",
  );
}
