/**
 * A bulk call's catalog reads are checked once its transaction holds the lock (driver/catalog-check.ts): a change to
 * what it read (another connection's DDL while it waited) rolls it back and starts it over; anything else (DDL on other
 * tables, temp tables, settings, engines whose BEGIN keeps no DDL out) must not make it fail or run twice. Each case
 * was reproduced against the first version of the check, which compared the pool's catalog generation.
 */
import Database from "better-sqlite3";
import { describe, expect, test } from "vitest";
import { DuckdbConfig } from "../../src/adapters/duckdb/index.js";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { OperationalError, ParameterError } from "../../src/index.js";
import { PG_URL } from "../support/servers.js";
import { sqliteConfigs } from "../support/sqlite-file.js";

const sqlite = sqliteConfigs("sqlspec-catalog-check-");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const outcome = (p: Promise<{ rowsAffected: number }>) =>
  p.then(
    (r) => `ok ${r.rowsAffected}`,
    (e: Error) => `${e.constructor.name}: ${e.message}`,
  );

describe("sqlite", () => {
  test("DDL on other tables by other sessions of the pool while the upsert waits: it writes, once", async () => {
    const { db } = await sqlite.file("CREATE TABLE bt (id INTEGER PRIMARY KEY, v TEXT)", { maxSize: 4 });
    const ddl = (name: string) =>
      db.withSession((s) =>
        s.transaction(async () => {
          await s.execute(`CREATE TABLE ${name} (a INT)`);
          await sleep(20);
        }),
      );
    const b = ddl("b1");
    await sleep(2);
    const a = outcome(db.withSession((s) => s.upsert("bt", [{ id: 1, v: "x" }], { on: ["id"] })));
    await sleep(2);
    const c = ddl("c1");
    await sleep(25);
    const d = ddl("d1");
    expect(await a).toBe("ok 1");
    await Promise.all([b, c, d]);
    expect(await db.withSession((s) => s.select("SELECT id, v FROM bt"))).toEqual([{ id: 1, v: "x" }]);
  });

  test("timeoutMs counts from the call's start when it starts over", async () => {
    const { db } = await sqlite.file("CREATE TABLE bt (id INTEGER PRIMARY KEY, v TEXT)", { maxSize: 3 });
    // Two sessions of the pool change bt, holding the write lock 80 ms and 60 ms; the upsert queues between them. Its
    // first attempt gets the lock after 80 ms and finds bt changed; its second waits behind the 60 ms one: 140 ms in
    // all, past the call's 100 (each wait alone is not).
    const change = (column: string, ms: number) =>
      db.withSession((s) =>
        s.transaction(async () => {
          await s.execute(`ALTER TABLE bt ADD COLUMN ${column} INT`);
          await sleep(ms);
        }),
      );
    const b = change("c1", 80);
    await sleep(5);
    const a = outcome(db.withSession((s) => s.upsert("bt", [{ id: 2, v: "x" }], { on: ["id"], timeoutMs: 100 })));
    await sleep(5);
    const c = change("c2", 60);
    // A limit restarted per attempt would have let it write once the second change committed.
    expect(await a).toMatch(/^QueryTimeoutError: /);
    await Promise.all([b, c]);
    expect(await db.withSession((s) => s.select("SELECT id FROM bt"))).toEqual([]);
  });

  test.each(["array", "iterable"] as const)(
    "loadRecords from an %s waits for the lock while another connection makes doc JSON: refused, nothing written",
    async (kind) => {
      const { db, path } = await sqlite.file("CREATE TABLE j (id INTEGER PRIMARY KEY, doc TEXT)", { maxSize: 1 });
      const other = new Database(path);
      try {
        await db.withSession(async (s) => {
          await s.loadRecords("j", [{ id: 1, doc: "plain" }]);
          await s.execute("DELETE FROM j");
          other.exec("BEGIN IMMEDIATE");
          const row = { id: 2, doc: "not json" };
          async function* source() {
            yield row;
          }
          const pending = s.loadRecords("j", kind === "array" ? [row] : source()).catch((e: unknown) => e);
          await sleep(30);
          other.exec("DROP TABLE j; CREATE TABLE j (id INTEGER PRIMARY KEY, doc JSON)");
          other.exec("COMMIT");
          const err = await pending;
          if (kind === "array") {
            // Started over on the new column types: refused as a fresh call is.
            expect(err).toBeInstanceOf(ParameterError);
            expect((err as Error).message).toContain('column "doc" of row 0');
          } else {
            // An iterable cannot be read again: the call says why it stopped.
            expect(err).toBeInstanceOf(OperationalError);
            expect((err as Error).message).toBe(
              'loadRecords into "j": the table changed (DDL by another connection) while it waited for the lock; nothing was written',
            );
          }
          expect(await s.select("SELECT id, doc FROM j")).toEqual([]);
        });
      } finally {
        other.close();
      }
    },
  );
});

describe("sqlite: what else the check covers, and what it leaves alone", () => {
  test.each(["auto", "insert-on-conflict"] as const)(
    "upsert (strategy %s) of a NULL key waits for the lock while another connection makes id the rowid",
    async (strategy) => {
      const { db, path } = await sqlite.file("CREATE TABLE kv (id INTEGER UNIQUE, v TEXT)", { maxSize: 1 });
      const other = new Database(path);
      try {
        await db.withSession(async (s) => {
          await s.upsert("kv", [{ id: 5, v: "warm" }], { on: ["id"], strategy });
          await s.execute("DELETE FROM kv");
          other.exec("BEGIN IMMEDIATE");
          // One statement (insert-on-conflict): checked under the lock too, in a transaction of its own.
          const pending = outcome(s.upsert("kv", [{ id: null, v: "x" }], { on: ["id"], strategy }));
          await sleep(30);
          other.exec("DROP TABLE kv; CREATE TABLE kv (id INTEGER PRIMARY KEY, v TEXT)");
          other.exec("COMMIT");
          // A NULL rowid key would silently take a new rowid: refused, as a call made after the change is.
          expect(await pending).toMatch(/^NotNullViolationError: /);
          expect(await s.select("SELECT id, v FROM kv")).toEqual([]);
        });
      } finally {
        other.close();
      }
    },
  );

  test("a lock timeout after another connection changed the table is not run again (once busyTimeoutMs, not three)", async () => {
    const { db, path } = await sqlite.file("CREATE TABLE bt (id INTEGER PRIMARY KEY, v TEXT)", {
      maxSize: 1,
      busyTimeoutMs: 200,
    });
    await db.withSession((s) => s.dataDictionary.getColumns("bt"));
    const other = new Database(path);
    try {
      other.exec("BEGIN IMMEDIATE; ALTER TABLE bt ADD COLUMN w INT");
      const started = performance.now();
      const pending = outcome(db.withSession((s) => s.upsert("bt", [{ id: 1, v: "x" }], { on: ["id"] })));
      await sleep(30);
      // Committed, and another writer right behind it holds the lock past busyTimeoutMs.
      other.exec("COMMIT; BEGIN IMMEDIATE");
      expect(await pending).toMatch(/^SqliteBusyError: /);
      expect(performance.now() - started).toBeLessThan(350);
      other.exec("ROLLBACK");
    } finally {
      other.close();
    }
  });
});

describe("sqlite: an ATTACHed database", () => {
  test("loadRecords into aux.j waits for the lock while another connection makes doc JSON: refused, nothing written", async () => {
    const auxPath = sqlite.path();
    new Database(auxPath).exec("CREATE TABLE j (id INTEGER PRIMARY KEY, doc TEXT)").close();
    const { db } = await sqlite.file("CREATE TABLE j (id INTEGER PRIMARY KEY, doc TEXT)", { maxSize: 1 });
    const other = new Database(auxPath);
    try {
      await db.withSession(async (s) => {
        await s.execute(`ATTACH DATABASE '${auxPath}' AS aux`);
        await s.loadRecords("aux.j", [{ id: 1, doc: "plain" }]);
        await s.execute("DELETE FROM aux.j");
        other.exec("BEGIN IMMEDIATE");
        const pending = outcome(s.loadRecords("aux.j", [{ id: 2, doc: "not json" }]));
        await sleep(30);
        other.exec("DROP TABLE j; CREATE TABLE j (id INTEGER PRIMARY KEY, doc JSON)");
        other.exec("COMMIT");
        expect(await pending).toMatch(/^ParameterError: .*column "doc" of row 0/);
        expect(await s.select("SELECT id, doc FROM aux.j")).toEqual([]);
        // The pool's cached types follow too: a later call is refused as well.
        expect(await outcome(s.loadRecords("aux.j", [{ id: 4, doc: "still not json" }]))).toMatch(/^ParameterError: /);
      });
    } finally {
      other.close();
    }
  });
});

describe("engines whose BEGIN keeps no DDL out: no check, no false failure", () => {
  test("pg: temp-table DDL in other sessions of the pool while loadRecords(overwrite) and staged upserts run", async () => {
    const db = new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 4 } });
    const table = `catalog_check_${process.pid}`;
    try {
      await db.withSession((s) =>
        s.executeScript(`DROP TABLE IF EXISTS ${table}; CREATE TABLE ${table} (id int PRIMARY KEY, v text)`),
      );
      let stop = false;
      const churn = (k: number) =>
        db.withSession(async (s) => {
          while (!stop) {
            await s.execute(`CREATE TEMP TABLE scratch_${k} (a int)`);
            await s.execute(`DROP TABLE scratch_${k}`);
          }
        });
      const churners = [churn(1), churn(2)];
      const rows = Array.from({ length: 5 }, (_, i) => ({ id: i, v: "x" }));
      const errors: string[] = [];
      await db.withSession(async (s) => {
        for (let i = 0; i < 25; i++) {
          await s.loadRecords(table, rows, { overwrite: true }).catch((e: Error) => errors.push(e.message));
          await s
            .upsert(table, rows, { on: ["id"], copyThreshold: 0 } as never)
            .catch((e: Error) => errors.push(e.message));
        }
      });
      stop = true;
      await Promise.all(churners);
      expect(errors).toEqual([]);
      expect(await db.withSession((s) => s.selectValue(`SELECT count(*)::int FROM ${table}`))).toBe(5);
    } finally {
      await db.withSession((s) => s.execute(`DROP TABLE IF EXISTS ${table}`)).catch(() => undefined);
      await db.close();
    }
  });

  test("duckdb: two sessions upserting, one of which ran SET (its own settings stamp)", async () => {
    const db = new DuckdbConfig();
    try {
      await db.withSession((s) => s.execute("CREATE TABLE bt (id INTEGER PRIMARY KEY, v VARCHAR)"));
      const errors: string[] = [];
      let id = 0;
      const worker = (set: boolean) =>
        db.withSession(async (s) => {
          if (set) await s.execute("SET threads = 2");
          for (let i = 0; i < 25; i++) {
            await s.upsert("bt", [{ id: id++, v: "x" }], { on: ["id"] }).catch((e: Error) => errors.push(e.message));
          }
        });
      await Promise.all([worker(true), worker(false)]);
      expect(errors).toEqual([]);
      expect(await db.withSession((s) => s.selectValue("SELECT count(*)::INTEGER FROM bt"))).toBe(50);
    } finally {
      await db.close();
    }
  });
});
