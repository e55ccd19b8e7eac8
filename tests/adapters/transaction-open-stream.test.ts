/**
 * A transaction() callback that leaves a stream open: the stream is closed when the transaction ends (a cursor cannot
 * outlive it, and SQLite, MySQL and postgres.js run no COMMIT beside an open one), the transaction commits, the session
 * is out of it, and reading the forgotten iterator afterwards raises OperationCancelledError (never an early "done").
 */
import { afterAll, describe, expect, test } from "vitest";
import { DuckdbConfig } from "../../src/adapters/duckdb/index.js";
import { MysqlConfig } from "../../src/adapters/mysql/index.js";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import { SqliteConfig } from "../../src/adapters/sqlite/index.js";
import { type DatabaseConfig, OperationCancelledError, SQLSpecError } from "../../src/index.js";
import { MYSQL_URL, PG_URL } from "../support/servers.js";

type AnyConfig = DatabaseConfig<any, any, any>;
const recursive = "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 50) SELECT n FROM g";
const targets: { name: string; make: () => AnyConfig; series: string }[] = [
  { name: "sqlite", make: () => new SqliteConfig({ poolConfig: { database: ":memory:" } }), series: recursive },
  { name: "duckdb", make: () => new DuckdbConfig({ poolConfig: { database: ":memory:" } }), series: recursive },
  { name: "pglite", make: () => new PgliteConfig(), series: "SELECT generate_series(1, 50) AS n" },
  {
    name: "pg",
    make: () => new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 1 } }),
    series: "SELECT generate_series(1, 50) AS n",
  },
  {
    name: "postgresjs",
    make: () => new PostgresJsConfig({ poolConfig: { connectionString: PG_URL, maxSize: 1 } }),
    series: "SELECT generate_series(1, 50) AS n",
  },
  {
    name: "mysql",
    make: () => new MysqlConfig({ poolConfig: { connectionString: MYSQL_URL, maxSize: 1 } }),
    series: recursive,
  },
];

for (const t of targets) {
  describe(`transaction() with a stream left open: ${t.name}`, () => {
    const table = `tos_${t.name}`;
    const db = t.make();
    afterAll(() => db.close());

    test("the stream is closed at COMMIT; the work commits; the iterator then raises OperationCancelledError", async () => {
      await db.withSession(async (s) => {
        await s.executeScript(`DROP TABLE IF EXISTS ${table}; CREATE TABLE ${table} (id int PRIMARY KEY)`);
        let it: AsyncIterator<unknown> | undefined;
        await s.transaction(async (tx) => {
          await tx.execute(`INSERT INTO ${table} (id) VALUES (1)`);
          it = tx.stream(t.series, undefined, { batchSize: 1 })[Symbol.asyncIterator]();
          await it.next(); // one row read, the iterator forgotten
        });
        expect(s.inTransaction).toBe(false);
        await expect((it as AsyncIterator<unknown>).next()).rejects.toBeInstanceOf(OperationCancelledError);
        await s.execute(`INSERT INTO ${table} (id) VALUES (2)`);
        // A throwing callback: the stream is closed before the ROLLBACK.
        let it2: AsyncIterator<unknown> | undefined;
        const err = await s
          .transaction(async (tx) => {
            await tx.execute(`INSERT INTO ${table} (id) VALUES (3)`);
            it2 = tx.stream(t.series, undefined, { batchSize: 1 })[Symbol.asyncIterator]();
            await it2.next();
            throw new Error("boom");
          })
          .then(
            () => undefined,
            (e: Error) => e.message,
          );
        expect(err).toBe("boom");
        expect(s.inTransaction).toBe(false);
        await expect((it2 as AsyncIterator<unknown>).next()).rejects.toBeInstanceOf(OperationCancelledError);
        expect(
          (await s.select<{ id: number }>(`SELECT id FROM ${table} ORDER BY id`)).map((r) => Number(r.id)),
        ).toEqual([1, 2]);
      });
    });

    test("a nested transaction() that throws with its stream open: its work is undone, the outer work commits", async () => {
      if (t.name === "duckdb") return; // no savepoints: nested transaction() is refused (conformance)
      await db.withSession(async (s) => {
        await s.executeScript(`DROP TABLE IF EXISTS ${table}; CREATE TABLE ${table} (id int PRIMARY KEY)`);
        let inner: AsyncIterator<unknown> | undefined;
        await s.transaction(async (tx) => {
          await tx.execute(`INSERT INTO ${table} (id) VALUES (1)`);
          const err = await tx
            .transaction(async (tx2) => {
              await tx2.execute(`INSERT INTO ${table} (id) VALUES (2)`);
              inner = tx2.stream(t.series, undefined, { batchSize: 10 })[Symbol.asyncIterator]();
              await inner.next();
              throw new Error("inner boom");
            })
            .then(
              () => undefined,
              (e: Error) => e.message,
            );
          expect(err).toBe("inner boom");
          // The outer transaction goes on: it can stream and write again.
          let n = 0;
          for await (const _ of tx.stream(t.series, undefined, { batchSize: 10 })) n++;
          expect(n).toBe(50);
          await tx.execute(`INSERT INTO ${table} (id) VALUES (3)`);
        });
        await expect((inner as AsyncIterator<unknown>).next()).rejects.toBeInstanceOf(OperationCancelledError);
        expect(
          (await s.select<{ id: number }>(`SELECT id FROM ${table} ORDER BY id`)).map((r) => Number(r.id)),
        ).toEqual([1, 3]);
      });
    });

    test("rows of a batch already fetched are not handed out after the stream was closed", async () => {
      await db.withSession(async (s) => {
        let it: AsyncIterator<unknown> | undefined;
        await s.transaction(async (tx) => {
          it = tx.stream(t.series, undefined, { batchSize: 10 })[Symbol.asyncIterator]();
          await it.next();
        });
        await expect((it as AsyncIterator<unknown>).next()).rejects.toBeInstanceOf(OperationCancelledError);
      });
    });

    test("transaction() while a stream opened outside it is still open: refused before anything runs", async () => {
      await db.withSession(async (s) => {
        await s.executeScript(`DROP TABLE IF EXISTS ${table}; CREATE TABLE ${table} (id int PRIMARY KEY)`);
        const it = s.stream(t.series, undefined, { batchSize: 1 })[Symbol.asyncIterator]();
        await it.next();
        const err = await s
          .transaction(async (tx) => tx.execute(`INSERT INTO ${table} (id) VALUES (1)`))
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        // Typed (the session's refusal where the stream's cursor began a transaction of its own, pg and PGlite; the
        // adapter's where it refuses any statement beside an open cursor), and nothing ran.
        expect(err).toBeInstanceOf(SQLSpecError);
        expect((err as Error).message).toMatch(/stream/);
        await it.return?.(undefined);
        expect(s.inTransaction).toBe(false);
        expect(await s.select(`SELECT id FROM ${table}`)).toEqual([]);
      });
    });

    test("a started stream cut by the session's release raises when read afterwards (never an early end)", async () => {
      let it: AsyncIterator<unknown> | undefined;
      await db.withSession(async (s) => {
        it = s.stream(t.series, undefined, { batchSize: 1 })[Symbol.asyncIterator]();
        await it.next();
      });
      await expect((it as AsyncIterator<unknown>).next()).rejects.toBeInstanceOf(OperationCancelledError);
    });
  });
}
