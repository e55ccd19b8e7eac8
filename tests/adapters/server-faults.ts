/**
 * Fault tests that need a real PostgreSQL server (shared by the pg and postgres.js adapter tests). They fail, never
 * skip, when the server is down.
 */
import { afterAll, describe, expect, test } from "vitest";
import {
  type DatabaseConfig,
  DatabaseConnectionError,
  OperationalError,
  OperationCancelledError,
  PermissionDeniedError,
  type PoolConfig,
  PoolTimeoutError,
  QueryTimeoutError,
  type Session,
  SQLSpecError,
} from "../../src/index.js";

export { PG_URL } from "../support/servers.js";

import { PG_URL } from "../support/servers.js";

type AnyConfig = DatabaseConfig<any, any, any>;
export interface FaultConfigOptions {
  pool?: PoolConfig;
  statementCacheSize?: number;
  driverFeatures?: { enableJsonCodecs?: boolean };
}

export function runServerFaultTests(name: string, make: (o: FaultConfigOptions) => AnyConfig): void {
  const opened: AnyConfig[] = [];
  const config = (o: FaultConfigOptions = {}): AnyConfig => {
    const c = make(o);
    opened.push(c);
    return c;
  };
  const app = `pgad_${name}_${process.pid}`;

  describe(`server faults: ${name}`, () => {
    afterAll(async () => {
      await Promise.all(opened.map((c) => c.close().catch(() => {})));
    });

    test("applicationName, statement cache bounded per connection (and disabled by 0)", async () => {
      const db = config({ pool: { applicationName: `${app}_cache`, maxSize: 1 }, statementCacheSize: 2 });
      await db.withSession(async (s) => {
        expect(await s.selectValue("SELECT current_setting('application_name')")).toBe(`${app}_cache`);
        for (let i = 0; i < 5; i++) {
          for (let k = 0; k < 2; k++) expect(await s.selectValue(`SELECT $1::int + ${i}`, [k])).toBe(k + i);
        }
        const n = await s.selectValue<number>("SELECT count(*) FROM pg_prepared_statements");
        expect(n).toBeGreaterThan(0);
        expect(n).toBeLessThanOrEqual(2);
      });
      const off = config({ pool: { maxSize: 1 }, statementCacheSize: 0 });
      await off.withSession(async (s) => {
        for (let i = 0; i < 3; i++) await s.selectValue("SELECT $1::int", [i]);
        expect(await s.selectValue("SELECT count(*) FROM pg_prepared_statements")).toBe(0);
      });
    });

    test("enableJsonCodecs: false returns json/jsonb as text", async () => {
      const db = make({ pool: { maxSize: 1 }, driverFeatures: { enableJsonCodecs: false } });
      opened.push(db);
      await db.withSession(async (s) => {
        expect(await s.selectValue(`SELECT '{"a": 1}'::jsonb`)).toBe('{"a": 1}');
        expect(await s.selectValue(`SELECT '[1,2]'::json`)).toBe("[1,2]");
      });
    });

    test("terminated backend → typed error, then the pool works again", async () => {
      const db = config({ pool: { applicationName: `${app}_term`, maxSize: 2 } });
      const admin = config({ pool: { maxSize: 1 } });
      const session = await db.provideSession();
      const pid = await session.selectValue<number>("SELECT pg_backend_pid()");
      await admin.withSession((s) => s.execute("SELECT pg_terminate_backend($1)", [pid]));
      const err = await session.selectValue("SELECT 1").catch((e) => e);
      expect(err).toBeInstanceOf(SQLSpecError);
      expect(err instanceof DatabaseConnectionError || (err as SQLSpecError).sqlState === "57P01").toBe(true);
      await session.release(err);
      // Idle pooled connections killed behind the pool's back are replaced too.
      await db.withSession((s) => s.selectValue("SELECT 1"));
      await admin.withSession((s) =>
        s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [
          `${app}_term`,
        ]),
      );
      await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < 4; i++) expect(await db.withSession((s) => s.selectValue("SELECT 41 + 1"))).toBe(42);
    });

    test("pg_terminate_backend while a session holds the connection: OperationalError 57P01 (running, idle, idle in a transaction); the connection is discarded", async () => {
      const db = config({ pool: { maxSize: 1 } });
      const admin = config({ pool: { maxSize: 1 } });
      const terminate = (pid: unknown) => admin.withSession((s) => s.execute("SELECT pg_terminate_backend($1)", [pid]));
      const cases: [string, (s: Session<any>, pid: unknown) => Promise<any>][] = [
        [
          "running",
          async (s, pid) => {
            const running = s.selectValue("SELECT pg_sleep(5)").catch((e) => e);
            await new Promise((r) => setTimeout(r, 100));
            await terminate(pid);
            return running;
          },
        ],
        [
          "idle",
          async (s, pid) => {
            await terminate(pid);
            await new Promise((r) => setTimeout(r, 100));
            return s.selectValue("SELECT 1").catch((e) => e);
          },
        ],
        [
          "idle in a transaction",
          (s, pid) =>
            s
              .transaction(async (tx) => {
                await tx.selectValue("SELECT 1");
                await terminate(pid);
                await new Promise((r) => setTimeout(r, 100));
                await tx.selectValue("SELECT 2");
              })
              .catch((e) => e),
        ],
      ];
      for (const [what, run] of cases) {
        const session = await db.provideSession();
        const pid = await session.selectValue("SELECT pg_backend_pid()");
        const err = await run(session, pid);
        expect(err, what).toBeInstanceOf(OperationalError);
        expect(err, what).not.toBeInstanceOf(QueryTimeoutError);
        expect(err.sqlState, what).toBe("57P01");
        expect(err.message, what).toMatch(/\[57P01\]: terminating connection due to administrator command/);
        await session.release(err);
        // Discarded: the pool's next session runs on a new backend.
        expect(await db.withSession((s) => s.selectValue("SELECT pg_backend_pid()")), what).not.toBe(pid);
      }
    });

    test("server statement_timeout → QueryTimeoutError; connection reusable", async () => {
      const db = config({ pool: { statementTimeoutMs: 150, maxSize: 1 } });
      await db.withSession(async (s) => {
        const err = await s.execute("SELECT pg_sleep(2)").catch((e) => e);
        expect(err).toBeInstanceOf(QueryTimeoutError);
        expect(err.sqlState).toBe("57014");
        expect(await s.selectValue("SELECT 1")).toBe(1);
      });
    });

    test("per-call timeoutMs → QueryTimeoutError; AbortSignal → OperationCancelledError within 1 s", async () => {
      const db = config({ pool: { maxSize: 1 } });
      await db.withSession(async (s) => {
        let t = Date.now();
        const timeout = await s.execute("SELECT pg_sleep(5)", undefined, { timeoutMs: 100 }).catch((e) => e);
        expect(timeout).toBeInstanceOf(QueryTimeoutError);
        expect(Date.now() - t).toBeLessThan(1000);
        expect(await s.selectValue("SELECT $1::int", [7])).toBe(7);

        const ac = new AbortController();
        setTimeout(() => ac.abort(), 100);
        t = Date.now();
        const cancelled = await s.execute("SELECT pg_sleep(5)", undefined, { signal: ac.signal }).catch((e) => e);
        expect(cancelled).toBeInstanceOf(OperationCancelledError);
        expect(Date.now() - t).toBeLessThan(1000);
        expect(await s.selectValue("SELECT $1::int", [8])).toBe(8);

        const pre = new AbortController();
        pre.abort();
        await expect(s.execute("SELECT 1", undefined, { signal: pre.signal })).rejects.toBeInstanceOf(
          OperationCancelledError,
        );
        // Inside a transaction the cancel aborts the statement; rollback restores the session.
        await expect(
          s.transaction(async (tx) => {
            await tx.execute("SELECT pg_sleep(5)", undefined, { timeoutMs: 50 });
          }),
        ).rejects.toBeInstanceOf(QueryTimeoutError);
        expect(await s.selectValue("SELECT 3")).toBe(3);
      });
    });

    test("pool exhausted with acquireTimeoutMs → PoolTimeoutError, not a hang", async () => {
      const db = config({ pool: { maxSize: 1, acquireTimeoutMs: 200 } });
      const held = await db.provideSession();
      const t = Date.now();
      const err = await db.provideSession().catch((e) => e);
      expect(err).toBeInstanceOf(PoolTimeoutError);
      expect(Date.now() - t).toBeLessThan(2000);
      await held.release();
      expect(await db.withSession((s) => s.selectValue("SELECT 1"))).toBe(1);
    });

    test("wrong credentials / wrong port → typed error in under 5 s", async () => {
      const url = new URL(PG_URL);
      url.username = "pgad_no_such_user";
      let t = Date.now();
      const bad = make({ pool: { connectionString: url.toString(), connectTimeoutMs: 3000 } });
      opened.push(bad);
      const authErr = await bad.withSession((s) => s.selectValue("SELECT 1")).catch((e) => e);
      expect(authErr).toBeInstanceOf(PermissionDeniedError);
      expect((authErr as SQLSpecError).sqlState?.startsWith("28")).toBe(true);
      expect(Date.now() - t).toBeLessThan(5000);

      const port = new URL(PG_URL);
      port.port = "1";
      t = Date.now();
      const closed = make({ pool: { connectionString: port.toString(), connectTimeoutMs: 3000 } });
      opened.push(closed);
      const connErr = await closed.withSession((s) => s.selectValue("SELECT 1")).catch((e) => e);
      expect(connErr).toBeInstanceOf(DatabaseConnectionError);
      expect(Date.now() - t).toBeLessThan(5000);
    });

    test("stream: 200k wide rows with bounded memory; breaking early releases the connection", async () => {
      const db = config({ pool: { maxSize: 1, acquireTimeoutMs: 2000 } });
      const total = 200_000;
      const before = process.memoryUsage().rss;
      let peak = before;
      let n = 0;
      await db.withSession(async (s) => {
        for await (const row of s.stream<{ g: number; pad: string }>(
          "SELECT g, repeat('x', 200) AS pad FROM generate_series(1, $1::int) g",
          [total],
          { batchSize: 2000 },
        )) {
          if (++n % 10_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
          if (row.pad.length !== 200) throw new Error("bad row");
        }
      });
      expect(n).toBe(total);
      // Fully buffered these rows take well over 100 MB; a cursor keeps one batch.
      expect(peak - before).toBeLessThan(80 * 1024 * 1024);

      await db.withSession(async (s) => {
        let seen = 0;
        for await (const _ of s.stream("SELECT g FROM generate_series(1, 1000000) g", undefined, { batchSize: 500 })) {
          if (++seen === 10) break;
        }
        expect(seen).toBe(10);
      });
      // maxSize is 1: this only works if the broken-off stream gave its connection back in a clean state. The
      // unnamed portal is this query's own (extended protocol).
      expect(await db.withSession((s) => s.selectValue("SELECT count(*) FROM pg_cursors WHERE name <> ''"))).toBe(0);
    });
  });
}
