/**
 * Regression guard (a reviewer found this while BEGIN and COMMIT were pipelined with the statements; withdrawn): postgres.js executeMany with a signal: BEGIN is now awaited inside queryMany (#openPipeline), and the
 * signal is not looked at again afterwards; a signal that aborts while BEGIN waits (here: behind the session's
 * running statement) is ignored: the sets are sent and committed and the call is fulfilled.
 * Before 70565f8 the same call rejected with OperationCancelledError and wrote nothing.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import { OperationCancelledError } from "../../src/index.js";
import { PG_URL } from "../support/servers.js";

const T = "r8e_pjs_abort_begin";
const db = new PostgresJsConfig({ poolConfig: { connectionString: PG_URL, maxSize: 1 } });
beforeAll(async () => {
  await db.execute(`DROP TABLE IF EXISTS ${T}`);
  await db.execute(`CREATE TABLE ${T} (id int PRIMARY KEY)`);
});
afterAll(async () => {
  await db.execute(`DROP TABLE IF EXISTS ${T}`);
  await db.close();
});

test("executeMany whose signal aborted before its sets were sent writes nothing and rejects", async () => {
  const outcome = await db.withSession(async (s) => {
    const ac = new AbortController();
    const long = s.execute("SELECT pg_sleep(0.3)");
    const many = s.executeMany(`INSERT INTO ${T} VALUES ($1)`, [[1], [2]], { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await long;
    return many.then(
      () => "fulfilled",
      (e: unknown) => e,
    );
  });
  const rows = await db.select(`SELECT id FROM ${T}`);
  console.log("outcome:", String(outcome), "rows:", rows);
  expect(outcome).toBeInstanceOf(OperationCancelledError);
  expect(rows).toEqual([]);
});
