/**
 * The pg adapter behind PgBouncer in transaction mode. The test starts its own PgBouncer (Debian package `pgbouncer`)
 * on a free port in front of the test server; without the binary it fails, never skips.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { SQLSpecError } from "../../src/index.js";
import { PG_URL } from "../support/servers.js";

const BINARY = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"].find((p) => existsSync(p));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`PgBouncer did not listen on ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("pg behind PgBouncer (transaction mode)", () => {
  const server = new URL(PG_URL);
  const database = server.pathname.slice(1) || "postgres";
  let dir = "";
  let port = 0;
  let bouncer: ChildProcess | undefined;
  const configs: PgConfig[] = [];
  const through = (statementCacheSize?: number): PgConfig => {
    const c = new PgConfig({
      poolConfig: { connectionString: `postgres://postgres@127.0.0.1:${port}/${database}`, maxSize: 4 },
      ...(statementCacheSize !== undefined ? { statementConfig: { statementCacheSize } } : {}),
    });
    configs.push(c);
    return c;
  };

  beforeAll(async () => {
    expect(BINARY, "the pgbouncer binary (Debian package pgbouncer) must be installed").toBeDefined();
    dir = mkdtempSync(join(tmpdir(), "sqlspec-pgbouncer-"));
    chmodSync(dir, 0o777);
    port = await freePort();
    writeFileSync(join(dir, "users.txt"), '"postgres" ""\n');
    writeFileSync(
      join(dir, "pgbouncer.ini"),
      [
        "[databases]",
        `${database} = host=${server.hostname} port=${server.port || 5432} dbname=${database}`,
        "[pgbouncer]",
        "listen_addr = 127.0.0.1",
        `listen_port = ${port}`,
        "unix_socket_dir =",
        "auth_type = trust",
        `auth_file = ${join(dir, "users.txt")}`,
        "pool_mode = transaction",
        "default_pool_size = 3",
        "max_client_conn = 50",
        "ignore_startup_parameters = extra_float_digits,options",
        `pidfile = ${join(dir, "pgbouncer.pid")}`,
        `logfile = ${join(dir, "pgbouncer.log")}`,
        "",
      ].join("\n"),
    );
    // PgBouncer refuses to run as root; -u drops to the postgres user.
    const args =
      process.getuid?.() === 0 ? ["-u", "postgres", join(dir, "pgbouncer.ini")] : [join(dir, "pgbouncer.ini")];
    bouncer = spawn(BINARY as string, args, { stdio: "ignore" });
    await waitForPort(port, 10_000);
  });

  afterAll(async () => {
    await Promise.all(configs.map((c) => c.close().catch(() => {})));
    bouncer?.kill("SIGTERM");
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** 500 statements over 4 connections: autocommit, and in transactions, 10 different statement texts. */
  async function workload(db: PgConfig): Promise<unknown[]> {
    const errors: unknown[] = [];
    const one = async (i: number): Promise<void> => {
      try {
        await db.withSession(async (s) => {
          if (i % 5 === 0) {
            await s.transaction(async (tx) => {
              expect(await tx.selectValue(`SELECT $1::int + ${i % 10}`, [i])).toBe(i + (i % 10));
              expect(await tx.selectValue(`SELECT $1::int * ${(i % 10) + 1}`, [i])).toBe(i * ((i % 10) + 1));
            });
          } else {
            expect(await s.selectValue(`SELECT $1::int + ${i % 10}`, [i])).toBe(i + (i % 10));
          }
        });
      } catch (err) {
        errors.push(err);
      }
    };
    for (let i = 0; i < 500; i += 25) await Promise.all(Array.from({ length: 25 }, (_, k) => one(i + k)));
    return errors;
  }

  /**
   * A statement prepared on one server connection, then run in a transaction that PgBouncer gives another: a second
   * session holds the first server connection (PgBouncer reuses the most recent one first) while the statement runs.
   */
  async function moved(db: PgConfig): Promise<unknown> {
    const a = await db.provideSession();
    const b = await db.provideSession();
    try {
      expect(await a.selectValue("SELECT $1::int + 100", [1])).toBe(101);
      await b.execute("BEGIN");
      expect(await b.selectValue("SELECT 1")).toBe(1);
      try {
        await a.transaction(async (tx) => {
          expect(await tx.selectValue("SELECT $1::int + 100", [2])).toBe(102);
        });
        return undefined;
      } catch (err) {
        return err;
      } finally {
        await b.execute("ROLLBACK");
      }
    } finally {
      await a.release();
      await b.release();
    }
  }

  test("default statement cache: a statement the pooler moved fails with 26000 naming the pooler and the fix", async () => {
    const err = (await moved(through())) as SQLSpecError;
    expect(err).toBeInstanceOf(SQLSpecError);
    expect(err.sqlState).toBe("26000");
    expect(err.message).toMatch(/pooler/);
    expect(err.message).toContain("statementCacheSize: 0");
    // Under load every failure is that one, and says so.
    const errors = await workload(through());
    for (const e of errors) {
      expect((e as SQLSpecError).sqlState).toBe("26000");
      expect(String((e as Error).message)).toContain("statementCacheSize: 0");
    }
  });

  test("statementCacheSize: 0: the same moved statement runs", async () => {
    expect(await moved(through(0))).toBeUndefined();
  });

  test("statementCacheSize: 0 runs all 500 statements", async () => {
    expect(await workload(through(0))).toEqual([]);
  });
});
