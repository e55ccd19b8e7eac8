import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { SqliteConfig } from "../../src/adapters/sqlite/index.js";
import { debugEnabled } from "../../src/driver/observability.js";
import {
  type DatabaseConfig,
  getCorrelationId,
  type ObservabilityConfig,
  type QueryCompleteEvent,
  type QueryErrorEvent,
  type QueryStartEvent,
  SQLParsingError,
  SQLSpec,
  UniqueViolationError,
  withCorrelationId,
} from "../../src/index.js";
import { PG_URL } from "../support/servers.js";

const SECRET = "s3cr3t-Tok3n-8842";

/** Everything the hooks and the logger saw, in order. */
function recorder() {
  const events: Array<{ kind: string; event: Record<string, unknown> }> = [];
  const lines: Array<{ level: string; line: string }> = [];
  const push =
    (kind: string) =>
    (event: unknown): void => {
      events.push({ kind, event: event as Record<string, unknown> });
    };
  const hooks: ObservabilityConfig = {
    onQueryStart: push("start"),
    onQueryComplete: push("complete"),
    onError: push("error"),
    onSessionStart: push("sessionStart"),
    onSessionEnd: push("sessionEnd"),
    onPoolCreate: push("poolCreate"),
    onPoolClose: push("poolClose"),
    onConnectionCreate: push("connectionCreate"),
    onConnectionDestroy: push("connectionDestroy"),
  };
  const logger = {
    debug: (line: string) => lines.push({ level: "debug", line }),
    info: (line: string) => lines.push({ level: "info", line }),
    warn: (line: string) => lines.push({ level: "warn", line }),
    error: (line: string) => lines.push({ level: "error", line }),
  };
  return { events, lines, hooks, logger };
}

type Make = (o: ObservabilityConfig, bindKey: string) => DatabaseConfig<any, any, any>;
const targets: Array<[string, Make]> = [
  [
    "pglite",
    (observability, bindKey) => new PgliteConfig({ bindKey, observability, driverFeatures: { enablePgvector: false } }),
  ],
  [
    "pg",
    (observability, bindKey) =>
      new PgConfig({ bindKey, observability, poolConfig: { connectionString: PG_URL, maxSize: 4 } }),
  ],
];

describe.each(targets)("hooks and logger on %s", (name, make) => {
  const rec = recorder();
  const spec = new SQLSpec();
  const db = spec.addConfig(make({ ...rec.hooks, logger: rec.logger, slowQueryMs: 40 }, `obs_${name}`));
  const table = `obs_hooks_${name}`;

  beforeAll(async () => {
    await db.withSession((s) =>
      s.executeScript(`DROP TABLE IF EXISTS ${table}; CREATE TABLE ${table} (id int PRIMARY KEY, token text NOT NULL)`),
    );
  });
  afterAll(async () => {
    await db.withSession((s) => s.execute(`DROP TABLE IF EXISTS ${table}`));
    await spec.closeAllPools();
  });

  test("session start → query start → query complete → session end, with the statement's facts", async () => {
    rec.events.length = 0;
    await db.withSession((s) => s.select(`SELECT id, token FROM ${table} WHERE id > $1`, [0]));
    expect(rec.events.map((e) => e.kind)).toEqual(["sessionStart", "start", "complete", "sessionEnd"]);
    const start = rec.events[1]?.event as unknown as QueryStartEvent;
    const done = rec.events[2]?.event as unknown as QueryCompleteEvent;
    expect(start).toMatchObject({
      sql: `SELECT id, token FROM ${table} WHERE id > $1`,
      operation: "SELECT",
      operationType: "SELECT",
      collection: table,
      parameterCount: 1,
      batchSize: 1,
      adapter: "PostgreSQL",
      bindKey: `obs_${name}`,
      correlationId: undefined,
    });
    expect(start.connectionId).toBeGreaterThan(0);
    expect(done).toMatchObject({ sql: start.sql, rows: 0, rowsAffected: 0, connectionId: start.connectionId });
    expect(done.durationMs).toBeGreaterThanOrEqual(0);
    expect(done).not.toHaveProperty("parameters");
    // hooks never receive bound values, at the start either
    expect(start).not.toHaveProperty("parameters");
    expect(rec.events[0]?.event.connectionId).toBe(start.connectionId);
  });

  test("hand-written COPY through execute is a statement too: start → complete with the COPY tag's count", async () => {
    rec.events.length = 0;
    await db.withSession(async (s) => {
      await s.execute(`COPY ${table} (id, token) FROM STDIN`, { source: "900\ta\n901\tb\n" });
      await s.execute(`COPY (SELECT * FROM ${table} WHERE id >= 900) TO STDOUT`);
      await s.execute(`DELETE FROM ${table} WHERE id >= 900`);
    });
    const kinds = rec.events.map((e) => e.kind);
    expect(kinds.slice(0, 5)).toEqual(["sessionStart", "start", "complete", "start", "complete"]);
    expect(rec.events[1]?.event).toMatchObject({ sql: `COPY ${table} (id, token) FROM STDIN` });
    expect(rec.events[2]?.event).toMatchObject({ rowsAffected: 2 });
    expect(rec.events[4]?.event).toMatchObject({ rows: 2 });
  });

  test("a failed statement: start → error with the typed error, its statement and SQLSTATE", async () => {
    await db.withSession((s) => s.execute(`INSERT INTO ${table} VALUES (1, $1)`, [SECRET]));
    rec.events.length = 0;
    const err = await db
      .withSession((s) => s.execute(`INSERT INTO ${table} VALUES (1, $1)`, [SECRET]))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UniqueViolationError);
    expect((err as UniqueViolationError).statement).toBe(`INSERT INTO ${table} VALUES (1, $1)`);
    expect((err as UniqueViolationError).code).toBe("23505");
    expect(rec.events.map((e) => e.kind)).toEqual(["sessionStart", "start", "error", "sessionEnd"]);
    const ev = rec.events[2]?.event as unknown as QueryErrorEvent;
    expect(ev.error).toBe(err);
    expect(ev.operation).toBe("INSERT");
  });

  test("bound values never reach a log line: statements, failures (server messages quote input), slow queries", async () => {
    rec.lines.length = 0;
    await db.withSession(async (s) => {
      await s.select(`SELECT token FROM ${table} WHERE token = $1`, [SECRET]);
      await s.execute(`SELECT $1::int`, [SECRET]).catch(() => undefined); // 22P02 quotes the input
      await s.execute(`INSERT INTO ${table} VALUES (1, $1)`, [SECRET]).catch(() => undefined);
      await s.execute(`SELECT pg_sleep(0.06), $1::text AS t`, [SECRET]);
    });
    expect(rec.lines.length).toBeGreaterThanOrEqual(4);
    for (const { line } of rec.lines) expect(line).not.toContain(SECRET);
    expect(rec.lines.some((l) => l.level === "debug" && l.line.includes("$1=<redacted>"))).toBe(true);
    const failed = rec.lines.filter((l) => l.level === "error");
    expect(failed.map((l) => l.line).join("\n")).toMatch(/DataError 22P02: .*invalid input syntax/);
    expect(failed.map((l) => l.line).join("\n")).toContain("UniqueViolationError 23505");
    expect(rec.lines.some((l) => l.level === "warn" && /slow query \d+\.\d\dms \(slowQueryMs=40\)/.test(l.line))).toBe(
      true,
    );
  });

  test("correlation ids reach every event, each concurrent flow its own", async () => {
    rec.events.length = 0;
    await Promise.all(
      ["req-a", "req-b", "req-c"].map((id) =>
        withCorrelationId(id, () =>
          db.withSession(async (s) => {
            expect(getCorrelationId()).toBe(id);
            await s.select(`SELECT $1::text AS id`, [id]);
            await new Promise((r) => setTimeout(r, 5));
            await s.select(`SELECT $1::text AS again`, [id]);
          }),
        ),
      ),
    );
    const starts = rec.events.filter((e) => e.kind === "start");
    expect(starts).toHaveLength(6);
    for (const id of ["req-a", "req-b", "req-c"]) {
      expect(starts.filter((e) => e.event.correlationId === id)).toHaveLength(2);
    }
    expect(rec.events.every((e) => e.event.correlationId !== undefined)).toBe(true);
  });
});

describe("hooks that fail", () => {
  test("a throwing hook and a rejecting async hook never break the statement; each is reported once", async () => {
    const lines: string[] = [];
    const db = new PgConfig({
      poolConfig: { connectionString: PG_URL, maxSize: 1 },
      observability: {
        logger: { error: (l: string) => lines.push(l) },
        logLevel: "error",
        onQueryStart: () => {
          throw new Error("hook bug");
        },
        onQueryComplete: async () => {
          throw new Error("async hook bug");
        },
      },
    });
    try {
      const values = await db.withSession(async (s) => [
        await s.selectValue("SELECT 1"),
        await s.selectValue("SELECT 2"),
        await s.selectValue("SELECT 3"),
      ]);
      expect(values).toEqual([1, 2, 3]);
      await new Promise((r) => setTimeout(r, 10));
      expect(lines.filter((l) => l.includes("onQueryStart threw (Error: hook bug)"))).toHaveLength(1);
      expect(lines.filter((l) => l.includes("onQueryComplete threw (Error: async hook bug)"))).toHaveLength(1);
    } finally {
      await db.close();
    }
  });

  test("a logger that throws never breaks the statement", async () => {
    const db = new PgConfig({
      poolConfig: { connectionString: PG_URL, maxSize: 1 },
      observability: {
        logger: {
          debug: () => {
            throw new Error("logger bug");
          },
        },
      },
    });
    try {
      expect(await db.withSession((s) => s.selectValue("SELECT 7"))).toBe(7);
    } finally {
      await db.close();
    }
  });
});

describe("configuration", () => {
  test("registry and config settings merge: both hooks run, the config's logger and redaction win", async () => {
    const seen: string[] = [];
    const lines: string[] = [];
    const spec = new SQLSpec({
      observability: {
        onQueryStart: () => seen.push("registry"),
        logger: { debug: () => lines.push("registry logger") },
      },
    });
    const db = spec.addConfig(
      new PgConfig({
        poolConfig: { connectionString: PG_URL, maxSize: 1 },
        observability: {
          onQueryStart: () => seen.push("config"),
          logger: { debug: (l: string) => lines.push(l) },
          redact: (v, i) => (i === 0 ? `len=${String(v).length}` : v),
        },
      }),
    );
    try {
      await db.withSession((s) => s.select("SELECT $1::text AS a, $2::int AS b", [SECRET, 42]));
      expect(seen).toEqual(["registry", "config"]);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`$1="len=${SECRET.length}", $2=42`);
      expect(lines[0]).not.toContain(SECRET);
    } finally {
      await spec.closeAllPools();
    }
  });

  test("a failed executeMany logs its first set, with redact's index counted within the set", async () => {
    const lines: string[] = [];
    const db = new PgConfig({
      poolConfig: { connectionString: PG_URL, maxSize: 1 },
      observability: {
        logger: { debug: () => {}, error: (l: string) => lines.push(l) },
        redact: (v: unknown, i: number) => (i === 1 ? "<pw hidden>" : v),
      },
    });
    try {
      const err = await db
        .withSession(async (s) => {
          await s.execute("CREATE TEMP TABLE acct (name text PRIMARY KEY, pw text)");
          await s.executeMany("INSERT INTO acct VALUES ($1, $2)", [
            ["alice", "pw-alice-SECRET"],
            ["alice", "pw-bob-SECRET"],
          ]);
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UniqueViolationError);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('$1="alice", $2="<pw hidden>"');
      expect(lines[0]).not.toContain("$3");
      expect(lines[0]).not.toContain("SECRET");
    } finally {
      await db.close();
    }
  });

  test("redact: false shows the values", async () => {
    const lines: string[] = [];
    const db = new PgConfig({
      poolConfig: { connectionString: PG_URL, maxSize: 1 },
      observability: { logger: { debug: (l: string) => lines.push(l) }, redact: false },
    });
    try {
      await db.withSession((s) => s.select("SELECT $1::text AS a", ["visible"]));
      expect(lines[0]).toContain('$1="visible"');
    } finally {
      await db.close();
    }
  });

  test("off: sessions get no observability wrapper (only release's statement tracking); errors still carry their statement", async () => {
    const db = new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 1 } });
    try {
      expect(db.observer).toBeUndefined();
      const adapter = await db.getAdapter();
      // The tracking wrapper replaces the statement methods and release only: acquire is the adapter's own.
      expect(Object.hasOwn(adapter, "acquire")).toBe(true);
      expect(adapter.acquire.name).toBe("bound acquire");
      await db.withSession(async (s) => {
        expect(s.adapter).toBe(adapter);
        const err = await s.execute("SELEC 1").catch((e: unknown) => e);
        expect(err).toBeInstanceOf(SQLParsingError);
        expect((err as SQLParsingError).statement).toBe("SELEC 1");
      });
    } finally {
      await db.close();
    }
  });

  test("pool hooks: create on first use, close on close()", async () => {
    const rec = recorder();
    const db = new PgConfig({ observability: rec.hooks, poolConfig: { connectionString: PG_URL, maxSize: 2 } });
    await db.withSession((s) => s.selectValue("SELECT 1"));
    await db.close();
    const kinds = rec.events.map((e) => e.kind);
    expect(kinds[0]).toBe("poolCreate");
    expect(kinds).toContain("connectionCreate");
    expect(kinds.at(-1)).toBe("poolClose");
  });

  test("DEBUG follows the debug package's patterns", () => {
    expect(debugEnabled("sqlspec")).toBe(true);
    expect(debugEnabled("express,sqlspec")).toBe(true);
    expect(debugEnabled("sql*")).toBe(true);
    expect(debugEnabled("*,-sqlspec")).toBe(false);
    expect(debugEnabled("sqlspecx")).toBe(false);
    expect(debugEnabled(undefined)).toBe(false);
  });
});

describe("DEBUG=sqlspec", () => {
  test("the quickstart prints each statement with its duration and no bound values", async () => {
    const run = promisify(execFile);
    const env: NodeJS.ProcessEnv = { ...process.env, DEBUG: "sqlspec" };
    delete env.DATABASE_URL;
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", "examples/quickstart.ts"], {
      env,
      cwd: process.cwd(),
      timeout: 120_000,
    });
    const lines = stderr.split("\n").filter((l) => l.startsWith("sqlspec "));
    expect(lines.length).toBeGreaterThan(5);
    for (const l of lines) expect(l).toMatch(/^sqlspec (query|slow query|query failed) \d+\.\d\dms/);
    expect(lines.some((l) => l.includes("INSERT INTO products (id, name, price) VALUES ($1, $2, $3)"))).toBe(true);
    // The quickstart binds "Gadget" and "19.50": stdout shows them, the debug lines must not.
    expect(stdout).toContain("Gadget");
    expect(stderr).not.toContain("Gadget");
    expect(stderr).not.toContain("19.50");
  }, 120_000);
});

describe("bulk statements under observation", () => {
  test("SQLite upsert of 5,000 rows with a hook: succeeds, and every VALUES statement is observed", async () => {
    const starts: string[] = [];
    const db = new SqliteConfig({ observability: { onQueryStart: (e) => void starts.push(e.sql) } });
    try {
      const r = await db.withSession(async (s) => {
        await s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)");
        starts.length = 0;
        const rows = Array.from({ length: 5000 }, (_, i) => ({ id: i + 1, name: `n${i}` }));
        return s.upsert("t", rows, { on: ["id"] });
      });
      expect(r.rowsAffected).toBe(5000);
      // 79 statements (78 of 64 rows, then 8), between BEGIN and COMMIT.
      expect(starts.filter((sql) => sql.startsWith('INSERT INTO "t"'))).toHaveLength(79);
    } finally {
      await db.close();
    }
  });
});
