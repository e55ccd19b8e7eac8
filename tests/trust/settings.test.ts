/**
 * Session settings never leak to the next borrower of a connection (poolConfig.resetOnRelease), and a reset that
 * runs DISCARD ALL also forgets the adapter's prepared statements. Run on every PostgreSQL adapter.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import { ImproperConfigurationError } from "../../src/index.js";
import { type AnyConfig, sleep, TARGETS } from "./targets.js";

/** Sets the connection's baseline as a user's hook would (pg client or postgres.js sql or PGlite instance). */
async function tokyo(conn: any): Promise<void> {
  const text = "SET TIME ZONE 'Asia/Tokyo'";
  if (typeof conn.unsafe === "function") await conn.unsafe(text);
  else await conn.query(text);
}

for (const target of TARGETS) {
  describe(`resetOnRelease: ${target.name}`, () => {
    // Three pools per target (PGlite starts a database per pool, which is slow on a loaded machine).
    const auto = target.make({ maxSize: 1, onConnectionCreate: tokyo });
    const discard = target.make({ maxSize: 1, resetOnRelease: true, onConnectionCreate: tokyo });
    const off = target.make({ maxSize: 1, resetOnRelease: false });
    // Creating the pools (PGlite: starting three databases) is setup, not the tests' time.
    beforeAll(async () => {
      for (const c of [auto, discard, off]) await c.getAdapter();
    }, 180_000);
    afterAll(async () => {
      await Promise.all([auto, discard, off].map((c) => c.close().catch(() => {})));
    });
    const show = (c: AnyConfig, name: string): Promise<string> =>
      c.withSession((s) => s.selectValue<string>(`SELECT current_setting('${name}')`));

    test('default ("auto"): SET statement_timeout / search_path / TIME ZONE are undone on release; SET LOCAL needs nothing', async () => {
      const c = auto;
      const before = {
        timeout: await show(c, "statement_timeout"),
        path: await show(c, "search_path"),
        zone: await show(c, "TimeZone"),
      };
      // onConnectionCreate's settings are the baseline a reset restores.
      expect(before.zone).toBe("Asia/Tokyo");
      await c.withSession(async (s) => {
        await s.execute("SET statement_timeout = '4321ms'");
        await s.execute("SET search_path = pg_catalog");
        await s.execute("SET TIME ZONE 'America/Anchorage'");
        expect(await s.selectValue("SELECT current_setting('statement_timeout')")).toBe("4321ms");
      });
      expect(await show(c, "statement_timeout")).toBe(before.timeout);
      expect(await show(c, "search_path")).toBe(before.path);
      expect(await show(c, "TimeZone")).toBe(before.zone);
      // A SET inside a committed transaction is a session setting too.
      await c.withSession((s) => s.transaction((tx) => tx.execute("SET search_path = pg_catalog")));
      expect(await show(c, "search_path")).toBe(before.path);
      // SET LOCAL ends with its transaction.
      await c.withSession(async (s) => {
        await s.transaction(async (tx) => {
          await tx.execute("SET LOCAL statement_timeout = '1234ms'");
          expect(await tx.selectValue("SELECT current_setting('statement_timeout')")).toBe("1234ms");
        });
        expect(await s.selectValue("SELECT current_setting('statement_timeout')")).toBe(before.timeout);
      });
    });

    test('default ("auto"): SET ROLE, SET SESSION AUTHORIZATION and set_config() are undone on release', async () => {
      const c = auto;
      const who = "SELECT current_user || '/' || session_user";
      const before = {
        who: await c.withSession((s) => s.selectValue<string>(who)),
        timeout: await show(c, "statement_timeout"),
        path: await show(c, "search_path"),
      };
      await c.withSession((s) => s.execute("SET ROLE pg_monitor"));
      expect(await c.withSession((s) => s.selectValue<string>(who))).toBe(before.who);
      await c.withSession((s) => s.execute("SET SESSION AUTHORIZATION pg_monitor"));
      expect(await c.withSession((s) => s.selectValue<string>(who))).toBe(before.who);
      // set_config() is a function call: its statement's tag is SELECT.
      await c.withSession(async (s) => {
        await s.execute(
          "SELECT set_config('statement_timeout', '4321ms', false), pg_catalog.set_config('search_path', 'pg_catalog', false)",
        );
        expect(await s.selectValue("SELECT current_setting('statement_timeout')")).toBe("4321ms");
      });
      expect(await show(c, "statement_timeout")).toBe(before.timeout);
      expect(await show(c, "search_path")).toBe(before.path);
      await c.withSession((s) => s.selectValue("SELECT \"set_config\"('statement_timeout', '4322ms', false)"));
      expect(await show(c, "statement_timeout")).toBe(before.timeout);
      // The name in a string or a comment calls nothing (and nothing needs undoing).
      await c.withSession((s) => s.selectValue("SELECT 'set_config(x)' /* set_config */"));
      expect(await show(c, "statement_timeout")).toBe(before.timeout);
    });

    test('default ("auto"): set_config() named by a Unicode-escape identifier (U&"…") is undone on release too', async () => {
      const c = auto;
      const before = await show(c, "search_path");
      // \0073 is "s", \005F "_": every spelling PostgreSQL resolves to set_config, none containing the name.
      const spellings = [
        'U&"\\0073et_config"',
        'u&"\\+000073et\\005Fconfig"',
        "pg_catalog.U&\"!0073et_config\" UESCAPE '!'",
        'U&"set\\005fconfig"',
      ];
      for (const name of spellings) {
        await c.withSession(async (s) => {
          await s.execute(`SELECT ${name}('search_path', 'pg_catalog', false)`);
          expect(await s.selectValue("SELECT current_setting('search_path')"), name).toBe("pg_catalog");
        });
        // The next borrower of the same connection sees the default search_path.
        expect(await show(c, "search_path"), name).toBe(before);
      }
    });

    test("a setting changed by one session is never seen by another running at the same time", async () => {
      const c = target.server ? target.make({ maxSize: 2 }) : auto;
      try {
        const before = await show(c, "search_path");
        const a = await c.provideSession();
        await a.execute("SET search_path = pg_catalog");
        // A session in another async flow: on PGlite (one shared connection) it waits until a's release reset it.
        const seen = new Promise<string>((resolve, reject) =>
          setTimeout(() => show(c, "search_path").then(resolve, reject), 0),
        );
        await sleep(50);
        expect(await a.selectValue("SELECT current_setting('search_path')")).toBe("pg_catalog");
        await a.release();
        expect(await seen).toBe(before);
      } finally {
        if (c !== auto) await c.close();
      }
    });

    test("resetOnRelease: true runs DISCARD ALL (temp tables, prepared statements) and the statement cache follows", async () => {
      const c = discard;
      await c.withSession(async (s) => {
        await s.execute("CREATE TEMP TABLE trust_reset_tmp (id int)");
        for (let i = 0; i < 3; i++) expect(await s.selectValue("SELECT $1::int * 2", [i])).toBe(i * 2);
        await s.execute("SET statement_timeout = '4321ms'");
        await s.execute("SET TIME ZONE 'UTC'");
      });
      await c.withSession(async (s) => {
        expect(await s.selectValue("SELECT count(*)::int FROM pg_prepared_statements")).toBe(0);
        expect(await s.selectValue("SELECT to_regclass('pg_temp.trust_reset_tmp') IS NULL")).toBe(true);
        expect(await s.selectValue("SELECT current_setting('statement_timeout')")).not.toBe("4321ms");
        // What onConnectionCreate set survives the DISCARD ALL.
        expect(await s.selectValue("SELECT current_setting('TimeZone')")).toBe("Asia/Tokyo");
        // The adapter must know its cached statements are gone: the same statement runs again (re-prepared).
        for (let i = 0; i < 3; i++) expect(await s.selectValue("SELECT $1::int * 2", [i])).toBe(i * 2);
        expect(s.adapter.state(s.conn).preparedStatements).toBeLessThanOrEqual(1);
      });
      // A DISCARD ALL / DEALLOCATE ALL the user runs is followed the same way.
      await c.withSession(async (s) => {
        expect(await s.selectValue("SELECT $1::int * 3", [2])).toBe(6);
        await s.execute("DISCARD ALL");
        expect(await s.selectValue("SELECT $1::int * 3", [3])).toBe(9);
        await s.execute("DEALLOCATE ALL");
        expect(await s.selectValue("SELECT $1::int * 3", [4])).toBe(12);
      });
    });

    test("resetOnRelease: false leaves settings as they are (documented opt-out); transactions still end", async () => {
      const c = off;
      const before = await show(c, "statement_timeout");
      await c.withSession((s) => s.execute("SET statement_timeout = '4321ms'"));
      expect(await show(c, "statement_timeout")).toBe("4321ms");
      await c.withSession((s) => s.execute(`SET statement_timeout = '${before}'`));
      await c.withSession(async (s) => {
        await s.execute("BEGIN");
        await s.execute("SELECT 1/0").catch(() => undefined);
      });
      await c.withSession(async (s) => {
        expect(s.inTransaction).toBe(false);
        expect(await s.selectValue("SELECT 1")).toBe(1);
      });
    });
  });
}

describe("statementConfig", () => {
  test("cacheSize (never read: the compiled-statement cache is process-wide) raises instead of being ignored", () => {
    const options = { statementConfig: { cacheSize: 10 } } as never;
    expect(() => new PgConfig(options)).toThrow(ImproperConfigurationError);
    expect(() => new PostgresJsConfig(options)).toThrow(ImproperConfigurationError);
    expect(() => new PgliteConfig(options)).toThrow(ImproperConfigurationError);
    expect(() => new PgConfig({ statementConfig: { statementCacheSize: 5 } })).not.toThrow();
  });
});
