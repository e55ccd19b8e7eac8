/**
 * One-shot calls outside a session (`db.select`, `db.execute`, …). On postgres.js, plain statements share
 * connections so the driver pipelines them; everything that could leave state behind, and every call with a signal or
 * timeoutMs, takes a connection of its own. The pool's guarantees hold either way: exact acquire timeouts, sessions
 * never starved by one-shot traffic, errors confined to their statement, broken connections discarded.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import {
  OperationalError,
  OperationCancelledError,
  PoolTimeoutError,
  QueryTimeoutError,
  SQLSpecError,
  sql,
} from "../../src/index.js";
import { PG_URL } from "../support/servers.js";

const pool = (extra: Record<string, unknown> = {}) =>
  new PostgresJsConfig({ poolConfig: { connectionString: PG_URL, maxSize: 1, ...extra } });

async function terminate(pid: number): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query("SELECT pg_terminate_backend($1)", [pid]);
  } finally {
    await c.end();
  }
}

describe("postgres.js one-shot calls", () => {
  const table = "pjs_one_shot";
  const admin = pool();
  beforeAll(async () => {
    await admin.execute(`DROP TABLE IF EXISTS ${table}`);
    await admin.execute(`CREATE TABLE ${table} (id int PRIMARY KEY, name text NOT NULL)`);
  });
  afterAll(async () => {
    await admin.execute(`DROP TABLE IF EXISTS ${table}`);
    await admin.close();
  });

  test("concurrent plain statements share one connection (pipelined): none waits for a free connection", async () => {
    const db = pool({ acquireTimeoutMs: 50 });
    try {
      // Connected first with room to spare: acquireTimeoutMs bounds opening a connection too.
      await db.withSession((s) => s.selectValue("SELECT 1"), { timeoutMs: 10_000 });
      const pids = await Promise.all(
        Array.from({ length: 5 }, (_, i) => db.selectValue<number>("SELECT pg_backend_pid() + $1 * 0", [i])),
      );
      expect(new Set(pids).size).toBe(1);
      // Each sleeps 30 ms on the one connection: as sessions the later ones would wait over 50 ms and time out.
      const rows = await Promise.all(
        Array.from({ length: 4 }, (_, i) => db.select("SELECT $1::int AS n, pg_sleep(0.03)", [i])),
      );
      expect(rows.map((r) => r[0]?.n)).toEqual([0, 1, 2, 3]);
      const written = await db.execute(`INSERT INTO ${table} (id, name) VALUES ($1, $2)`, [1, "a"]);
      expect(written.rowsAffected).toBe(1);
      expect(await db.selectOne(sql`SELECT name FROM ${sql.ref(table)} WHERE id = ${1}`)).toEqual({ name: "a" });
      expect(await db.selectOneOrNull(`SELECT name FROM ${table} WHERE id = 2`)).toBeNull();
      expect(await db.selectValueOrNull(`SELECT name FROM ${table} WHERE id = 2`)).toBeNull();
    } finally {
      await db.close();
    }
  });

  test("a one-shot call never joins a session's connection: it waits, and times out after acquireTimeoutMs", async () => {
    const db = pool({ acquireTimeoutMs: 150 });
    try {
      await db.withSession(async (s) => {
        await s.execute("SELECT 1");
        const t = performance.now();
        await expect(db.selectValue("SELECT 1")).rejects.toBeInstanceOf(PoolTimeoutError);
        const waited = performance.now() - t;
        expect(waited).toBeGreaterThanOrEqual(140);
        expect(waited).toBeLessThan(1500);
      });
      expect(await db.selectValue("SELECT 2")).toBe(2);
    } finally {
      await db.close();
    }
  });

  test("a waiting session is not starved: later one-shot calls queue behind it instead of joining", async () => {
    const db = pool();
    try {
      const order: string[] = [];
      const early = Array.from({ length: 3 }, () =>
        db.selectValue("SELECT pg_sleep(0.05)").then(() => order.push("early")),
      );
      await new Promise((r) => setTimeout(r, 10));
      const session = db.withSession(async (s) => {
        await s.execute("SELECT pg_sleep(0.05)");
        order.push("session");
      });
      const late = Array.from({ length: 2 }, () => db.selectValue("SELECT 1").then(() => order.push("late")));
      await Promise.all([...early, session, ...late]);
      expect(order).toEqual(["early", "early", "early", "session", "late", "late"]);
    } finally {
      await db.close();
    }
  });

  test("statements that change state take their own connection, which is reset: neighbours never see it", async () => {
    const db = pool();
    try {
      const [changed, seen] = await Promise.all([
        db.selectValue("SELECT set_config('application_name', 'dirty', false)"),
        db.selectValue("SELECT current_setting('application_name')"),
      ]);
      expect(changed).toBe("dirty");
      expect(seen).not.toBe("dirty");
      await Promise.all([db.execute("SET search_path TO nowhere"), db.execute("BEGIN")]);
      expect(await db.selectValue("SELECT current_setting('search_path')")).toBe('"$user", public');
      expect(await db.selectValue("SELECT current_setting('application_name')")).not.toBe("dirty");
      expect(await db.withSession(async (s) => s.inTransaction)).toBe(false);
    } finally {
      await db.close();
    }
  });

  test("a failing statement fails alone; the statements pipelined beside it succeed", async () => {
    const db = pool();
    try {
      const settled = await Promise.allSettled([
        db.selectValue("SELECT $1::int", [1]),
        db.selectValue("SELECT 1 / $1::int", [0]),
        db.selectValue("SELECT $1::int", [3]),
      ]);
      expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      const err = (settled[1] as PromiseRejectedResult).reason as SQLSpecError;
      expect(err).toBeInstanceOf(SQLSpecError);
      expect(err.sqlState).toBe("22012");
      expect(await db.selectValue("SELECT 4")).toBe(4);
    } finally {
      await db.close();
    }
  });

  test("a broken connection fails the statements on it and is discarded; the next call gets a new one", async () => {
    const db = pool();
    try {
      const pid = await db.selectValue<number>("SELECT pg_backend_pid()");
      const running = Promise.allSettled([db.selectValue("SELECT pg_sleep(2)"), db.selectValue("SELECT pg_sleep(2)")]);
      await new Promise((r) => setTimeout(r, 100));
      await terminate(pid);
      const settled = await running;
      for (const s of settled) {
        expect(s.status).toBe("rejected");
        // The server's reason, as pg reports it: 57P01 (admin shutdown), not a bare lost connection.
        const reason = (s as PromiseRejectedResult).reason;
        expect(reason).toBeInstanceOf(OperationalError);
        expect(reason.sqlState).toBe("57P01");
      }
      const next = await db.selectValue<number>("SELECT pg_backend_pid()");
      expect(next).not.toBe(pid);
    } finally {
      await db.close();
    }
  });

  test("timeoutMs and signal: the call gets its own connection, so the cancel never hits a pipelined neighbour", async () => {
    const db = pool();
    try {
      const neighbour = db.selectValue("SELECT 7 FROM pg_sleep(0.3)");
      const timed = db.selectValue("SELECT pg_sleep(5)", undefined, { timeoutMs: 100 });
      await expect(timed).rejects.toBeInstanceOf(QueryTimeoutError);
      expect(await neighbour).toBe(7);

      const ac = new AbortController();
      const other = db.selectValue("SELECT 8 FROM pg_sleep(0.3)");
      const aborted = db.selectValue("SELECT pg_sleep(5)", undefined, { signal: ac.signal });
      setTimeout(() => ac.abort(), 100);
      await expect(aborted).rejects.toBeInstanceOf(OperationCancelledError);
      expect(await other).toBe(8);
      expect(await db.selectValue("SELECT 9")).toBe(9);
    } finally {
      await db.close();
    }
  });

  test("maxLifetimeMs holds under steady one-shot load: an expired connection takes no more and is replaced", async () => {
    const db = pool({ maxLifetimeMs: 150 });
    try {
      const pids = new Set<number>();
      const until = Date.now() + 700;
      // Three workers keep the one connection busy without a gap (answers come 30 ms apart, and each worker sends
      // its next statement as soon as it has its answer), so it never goes idle by itself.
      const worker = async (): Promise<void> => {
        while (Date.now() < until) {
          pids.add(await db.selectValue<number>("SELECT pg_backend_pid() FROM pg_sleep(0.03)"));
        }
      };
      await Promise.all([worker(), worker(), worker()]);
      expect(pids.size).toBeGreaterThan(1);
    } finally {
      await db.close();
    }
  });

  test("hooks see each one-shot statement as a session of one statement, shared connection or not", async () => {
    const events: string[] = [];
    const db = new PostgresJsConfig({
      poolConfig: { connectionString: PG_URL, maxSize: 1 },
      observability: {
        onSessionStart: () => void events.push("start"),
        onSessionEnd: () => void events.push("end"),
        onQueryStart: (e) => void events.push(e.sql),
      },
    });
    try {
      await Promise.all([
        db.selectValue("SELECT 1"),
        db.selectValue("SELECT 2"),
        db.execute("SET search_path = public"),
      ]);
      expect(events.filter((e) => e === "start")).toHaveLength(3);
      expect(events.filter((e) => e === "end")).toHaveLength(3);
      expect(events.filter((e) => e.startsWith("S")).sort()).toEqual([
        "SELECT 1",
        "SELECT 2",
        "SET search_path = public",
      ]);
    } finally {
      await db.close();
    }
  });

  test("bad input is a typed error before any I/O, as in a session", async () => {
    const db = pool();
    try {
      await expect(db.select("SELECT $1::int", [])).rejects.toThrow(/expects 1/);
      await expect(db.select("SELECT 1; SELECT 2")).rejects.toBeInstanceOf(SQLSpecError);
      expect(await db.selectValue("SELECT 1")).toBe(1);
    } finally {
      await db.close();
    }
  });
});

describe("one-shot calls on an adapter without shared connections (pg): a session each", () => {
  test("rows, values and errors as withSession gives them", async () => {
    const db = new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 1 } });
    try {
      expect(await db.select("SELECT $1::int AS n", [5])).toEqual([{ n: 5 }]);
      expect(await db.selectValue("SELECT 'x'")).toBe("x");
      expect((await db.execute("SELECT 1 AS one")).rowsAffected).toBeGreaterThanOrEqual(0);
      await expect(db.selectValue("SELECT 1 / 0")).rejects.toBeInstanceOf(SQLSpecError);
    } finally {
      await db.close();
    }
  });
});
