/**
 * executeMany and executeStack outside a transaction, on the adapters that pipeline (pg: one Sync, the server's
 * implicit transaction, one round trip; postgres.js: BEGIN, the pipelined statements, COMMIT, three). Round trips
 * counted on the wire, and all or nothing: a failure of statement k undoes every statement, reports statement k's own error
 * (never the "transaction is aborted" of those after it), and leaves the connection out of any transaction.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import {
  type DatabaseConfig,
  NotNullViolationError,
  QueryTimeoutError,
  type Session,
  StackExecutionError,
  UniqueViolationError,
} from "../../src/index.js";
import { type RoundTripProxy, roundTripProxy } from "../support/round-trip-proxy.js";
import { PG_URL } from "../support/servers.js";

type AnyConfig = DatabaseConfig<any, any, any>;

const TARGETS: [string, (url: string) => AnyConfig][] = [
  ["pg", (url) => new PgConfig({ poolConfig: { connectionString: url, maxSize: 1 } })],
  ["postgresjs", (url) => new PostgresJsConfig({ poolConfig: { connectionString: url, maxSize: 1 } })],
];

describe.each(TARGETS)("atomic pipeline on %s", (name, make) => {
  const t = `atomic_pipe_${name}`;
  const insert = `INSERT INTO ${t} (id, name) VALUES ($1, $2)`;
  let proxy: RoundTripProxy;
  let db: AnyConfig;

  beforeAll(async () => {
    proxy = await roundTripProxy(new URL(PG_URL));
    db = make(proxy.url);
    await db.execute(`DROP TABLE IF EXISTS ${t}`);
    await db.execute(`CREATE TABLE ${t} (id int PRIMARY KEY, name text NOT NULL)`);
    await db.execute(`DROP TABLE IF EXISTS ${t}_deferred`);
    await db.execute(`CREATE TABLE ${t}_deferred (id int UNIQUE DEFERRABLE INITIALLY DEFERRED)`);
  });
  afterAll(async () => {
    await db.execute(`DROP TABLE IF EXISTS ${t}`);
    await db.execute(`DROP TABLE IF EXISTS ${t}_deferred`);
    await db.close();
    await proxy.close();
  });

  /** Runs call twice in one session (the first prepares its statements) and counts the second's round trips. */
  async function tripsOf(s: Session<any>, call: () => Promise<unknown>): Promise<number> {
    await call();
    await s.execute(`DELETE FROM ${t}`);
    const before = proxy.trips();
    await call();
    return proxy.trips() - before;
  }

  const ids = (s: Session<any>) =>
    s.select<{ id: number }>(`SELECT id FROM ${t} ORDER BY id`).then((r) => r.map((x) => x.id));

  test("executeMany: pg one round trip, postgres.js three; every set written, no transaction left open", async () => {
    await db.withSession(async (s) => {
      await s.execute(`DELETE FROM ${t}`);
      const trips = await tripsOf(s, () =>
        s.executeMany(insert, [
          [1, "a"],
          [2, "b"],
          [3, "c"],
        ]),
      );
      expect(trips).toBe(name === "postgresjs" ? 3 : 1);
      expect(await ids(s)).toEqual([1, 2, 3]);
      expect(s.inTransaction).toBe(false);
    });
  });

  test("executeMany: set k fails → nothing written, set k's own error, no transaction left open", async () => {
    await db.withSession(async (s) => {
      await s.execute(`DELETE FROM ${t}`);
      const sets = [
        [1, "a"],
        [2, "b"],
        [3, null],
        [4, "d"],
      ];
      const err = await s.executeMany(insert, sets).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotNullViolationError);
      expect((err as NotNullViolationError).sqlState).toBe("23502");
      expect(await ids(s)).toEqual([]);
      expect(s.inTransaction).toBe(false);
      // The connection goes on: the next call commits.
      await s.executeMany(insert, [[5, "e"]]);
      expect(await ids(s)).toEqual([5]);
    });
  });

  test("executeMany: a constraint checked at commit (deferred) fails the call whole, with its own error", async () => {
    await db.withSession(async (s) => {
      const err = await s
        .executeMany(`INSERT INTO ${t}_deferred (id) VALUES ($1)`, [[1], [2], [1]])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UniqueViolationError);
      expect(await s.selectValue(`SELECT count(*)::int FROM ${t}_deferred`)).toBe(0);
      expect(s.inTransaction).toBe(false);
    });
  });

  test("executeMany with timeoutMs: a set that runs too long undoes every set; no transaction left open", async () => {
    await db.withSession(async (s) => {
      await s.execute(`DELETE FROM ${t}`);
      const slow = `INSERT INTO ${t} (id, name) SELECT $1, $2 FROM pg_sleep($3)`;
      const err = await s
        .executeMany(
          slow,
          [
            [1, "a", 0],
            [2, "b", 3],
            [3, "c", 0],
          ],
          { timeoutMs: 300 },
        )
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QueryTimeoutError);
      expect(await ids(s)).toEqual([]);
      expect(s.inTransaction).toBe(false);
      // Within the time: written whole. postgres.js waits for BEGIN's answer first (a cancel must not land on it).
      const trips = await tripsOf(s, () =>
        s.executeMany(
          insert,
          [
            [1, "a"],
            [2, "b"],
          ],
          { timeoutMs: 5000 },
        ),
      );
      expect(trips).toBe(name === "postgresjs" ? 3 : 1);
      expect(await ids(s)).toEqual([1, 2]);
      expect(s.inTransaction).toBe(false);
    });
  });

  test("executeStack: pg one round trip, postgres.js three; statement k fails → nothing written, index k and its own error", async () => {
    await db.withSession(async (s) => {
      await s.execute(`DELETE FROM ${t}`);
      const trips = await tripsOf(s, () =>
        s.executeStack([
          [insert, [1, "a"]],
          [`UPDATE ${t} SET name = $1 WHERE id = $2`, ["b", 1]],
          [`SELECT name FROM ${t} WHERE id = $1`, [1]],
        ]),
      );
      expect(trips).toBe(name === "postgresjs" ? 3 : 1);
      expect(await ids(s)).toEqual([1]);
      expect(s.inTransaction).toBe(false);

      await s.execute(`DELETE FROM ${t}`);
      const err = await s
        .executeStack([
          [insert, [1, "a"]],
          [insert, [1, "again"]],
          [insert, [2, "b"]],
        ])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StackExecutionError);
      expect((err as StackExecutionError).index).toBe(1);
      expect((err as StackExecutionError).cause).toBeInstanceOf(UniqueViolationError);
      expect(await ids(s)).toEqual([]);
      expect(s.inTransaction).toBe(false);
    });
  });
});
