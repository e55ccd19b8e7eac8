import { context, type SpanContext, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { SQLSpec, UniqueViolationError } from "../../src/index.js";
import { PG_URL } from "../support/servers.js";

/** The metric reader the SDK's tests use: collects on demand, exports nowhere. */
class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const SECRET = "otel-s3cr3t-value-991";
const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const reader = new TestReader();
const meterProvider = new MeterProvider({ readers: [reader] });
const contextManager = new AsyncLocalStorageContextManager().enable();
context.setGlobalContextManager(contextManager);

const url = new URL(PG_URL);
const DB = decodeURIComponent(url.pathname.slice(1));
const spec = new SQLSpec({ observability: { tracing: true, metrics: true, tracerProvider, meterProvider } });
const db = spec.addConfig(new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 3 } }));
const T = "obs_otel_items";

const server = {
  "db.system.name": "postgresql",
  "db.namespace": DB,
  "server.address": url.hostname,
  "server.port": Number(url.port || 5432),
};

function spans(): ReadableSpan[] {
  return exporter.getFinishedSpans();
}
function parentOf(s: ReadableSpan): string | undefined {
  return (s as unknown as { parentSpanContext?: SpanContext }).parentSpanContext?.spanId;
}

beforeAll(async () => {
  await db.withSession((s) =>
    s.executeScript(
      `DROP TABLE IF EXISTS ${T}; CREATE TABLE ${T} (id int PRIMARY KEY, name text NOT NULL, qty int NOT NULL DEFAULT 0)`,
    ),
  );
});
beforeEach(async () => {
  await db.withSession((s) => s.execute(`TRUNCATE ${T}`));
  exporter.reset();
});
afterAll(async () => {
  await db.withSession((s) => s.execute(`DROP TABLE IF EXISTS ${T}`));
  await spec.closeAllPools();
  contextManager.disable();
});

describe("statement spans (stable database semantic conventions)", () => {
  test("SELECT: name, kind and the exact attribute set", async () => {
    const sql = `SELECT id, name FROM ${T} WHERE id = $1`;
    await db.withSession((s) => s.select(sql, [1]));
    const [span] = spans();
    expect(spans()).toHaveLength(1);
    expect(span?.name).toBe(`SELECT ${T}`);
    expect(span?.kind).toBe(2); // CLIENT
    expect(span?.attributes).toEqual({
      ...server,
      "db.operation.name": "SELECT",
      "db.collection.name": T,
      "db.query.summary": `SELECT ${T}`,
      "db.query.text": sql,
      "db.response.returned_rows": 0,
    });
    expect(span?.status.code).toBe(0);
  });

  test("INSERT with a secret value: the text has placeholders only", async () => {
    const sql = `INSERT INTO ${T} (id, name) VALUES ($1, $2)`;
    await db.withSession((s) => s.execute(sql, [1, SECRET]));
    const [span] = spans();
    expect(span?.name).toBe(`INSERT ${T}`);
    expect(span?.attributes).toEqual({
      ...server,
      "db.operation.name": "INSERT",
      "db.collection.name": T,
      "db.query.summary": `INSERT ${T}`,
      "db.query.text": sql,
      "db.response.returned_rows": 0,
    });
    expect(JSON.stringify(span?.attributes)).not.toContain(SECRET);
  });

  test("MERGE", async () => {
    const sql = `MERGE INTO ${T} t USING (SELECT $1::int AS id, $2::text AS name) s ON t.id = s.id WHEN NOT MATCHED THEN INSERT (id, name) VALUES (s.id, s.name)`;
    await db.withSession((s) => s.execute(sql, [5, "five"]));
    const [span] = spans();
    expect(span?.name).toBe(`MERGE ${T}`);
    expect(span?.attributes).toEqual({
      ...server,
      "db.operation.name": "MERGE",
      "db.collection.name": T,
      "db.query.summary": `MERGE ${T}`,
      "db.query.text": sql,
      "db.response.returned_rows": 0,
    });
  });

  test("a failed statement: error status, error.type = the class, the SQLSTATE, no bound value anywhere", async () => {
    const sql = `INSERT INTO ${T} (id, name) VALUES ($1, $2)`;
    await db.withSession((s) => s.execute(sql, [1, "first"]));
    exporter.reset();
    const err = await db.withSession((s) => s.execute(sql, [1, SECRET])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UniqueViolationError);
    const [span] = spans();
    expect(span?.status.code).toBe(2); // ERROR
    expect(span?.attributes).toEqual({
      ...server,
      "db.operation.name": "INSERT",
      "db.collection.name": T,
      "db.query.summary": `INSERT ${T}`,
      "db.query.text": sql,
      "error.type": "UniqueViolationError",
      "db.response.status_code": "23505",
    });
    expect(span?.events.map((e) => e.name)).toEqual(["exception"]);
    const bad = await db.withSession((s) => s.execute("SELECT $1::int", [SECRET])).catch((e: unknown) => e);
    expect((bad as Error).name).toBe("DataError");
    expect(JSON.stringify(spans().map((s) => [s.attributes, s.events, s.status]))).not.toContain(SECRET);
  });
});

describe("operation spans and context", () => {
  test("a transaction with nested savepoints: statements nest under their transaction span", async () => {
    let active: string | undefined;
    await db.withSession((s) =>
      s.transaction(async (tx) => {
        active = trace.getActiveSpan()?.spanContext().spanId;
        await tx.execute(`INSERT INTO ${T} (id, name) VALUES (1, 'a')`);
        await tx.transaction(async (inner) => {
          await inner.execute(`INSERT INTO ${T} (id, name) VALUES (2, 'b')`);
        });
        await tx
          .transaction(async (inner) => {
            await inner.execute(`INSERT INTO ${T} (id, name) VALUES (3, 'c')`);
            throw new Error("undo 3");
          })
          .catch(() => undefined);
      }),
    );
    const all = spans();
    const byName = (n: string) => all.filter((s) => s.name === n);
    const [outer, ...nested] = byName("transaction").sort((a, b) =>
      parentOf(a) === undefined ? -1 : parentOf(b) === undefined ? 1 : 0,
    );
    expect(outer).toBeDefined();
    expect(parentOf(outer as ReadableSpan)).toBeUndefined();
    expect(active).toBe(outer?.spanContext().spanId); // the callback runs in the transaction's context
    expect(nested).toHaveLength(2);
    for (const n of nested) expect(parentOf(n)).toBe(outer?.spanContext().spanId);
    expect(nested.map((n) => n.attributes["sqlspec.transaction.savepoint"])).toEqual([true, true]);
    expect(nested.map((n) => n.status.code).sort()).toEqual([0, 2]);
    const id = (s: ReadableSpan | undefined) => s?.spanContext().spanId;
    const childrenOf = (p: ReadableSpan | undefined) => all.filter((s) => parentOf(s) === id(p)).map((s) => s.name);
    expect(childrenOf(outer).filter((n) => n !== "transaction")).toEqual(["BEGIN", `INSERT ${T}`, "COMMIT"]);
    const inners = nested.map((n) => childrenOf(n));
    expect(inners).toContainEqual(["SAVEPOINT", `INSERT ${T}`, "RELEASE"]);
    expect(inners).toContainEqual(["SAVEPOINT", `INSERT ${T}`, "ROLLBACK", "RELEASE"]);
  });

  test("upsert of 10k rows: one parent span with its strategy and row count", async () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => ({ id: i + 1, name: `n${i}`, qty: i }));
    const r = await db.withSession((s) => s.upsert(T, rows, { on: ["id"] }));
    const parents = spans().filter((s) => s.name === `upsert ${T}`);
    expect(parents).toHaveLength(1);
    const p = parents[0] as ReadableSpan;
    expect(p.attributes).toMatchObject({
      ...server,
      "db.operation.name": "upsert",
      "db.collection.name": T,
      "sqlspec.upsert.strategy": r.metadata?.strategy,
      "sqlspec.rows": 10_000,
    });
    expect(typeof p.attributes["sqlspec.upsert.strategy"]).toBe("string");
    const others = spans().filter((s) => s !== p);
    expect(others.length).toBeGreaterThan(0);
    // Every statement of the upsert sits under it (directly, or under the transaction it opened).
    const ids = new Set([
      p.spanContext().spanId,
      ...others.filter((s) => s.name === "transaction").map((s) => s.spanContext().spanId),
    ]);
    for (const s of others) expect(ids.has(parentOf(s) as string)).toBe(true);
    expect(others.some((s) => s.name.startsWith("COPY"))).toBe(true);
  });

  test("loadRecords: one parent span with its row count", async () => {
    const rows = Array.from({ length: 500 }, (_, i) => ({ id: i + 1, name: `n${i}` }));
    await db.withSession((s) => s.loadRecords(T, rows));
    const parents = spans().filter((s) => s.name === `loadRecords ${T}`);
    expect(parents).toHaveLength(1);
    expect(parents[0]?.attributes["sqlspec.rows"]).toBe(500);
  });
});

describe("metrics", () => {
  test("db.client.operation.duration histogram and the pool gauges", async () => {
    await db.withSession((s) => s.select(`SELECT id FROM ${T}`));
    await db.withSession((s) => s.execute(`SELEC oops`)).catch(() => undefined);
    const { resourceMetrics } = await reader.collect();
    const metrics = resourceMetrics.scopeMetrics.flatMap((m) => m.metrics);
    const duration = metrics.find((m) => m.descriptor.name === "db.client.operation.duration");
    expect(duration?.descriptor.unit).toBe("s");
    const points = duration?.dataPoints ?? [];
    const select = points.find(
      (p) => p.attributes["db.operation.name"] === "SELECT" && p.attributes["db.collection.name"] === T,
    );
    expect(select?.attributes).toEqual({
      ...server,
      "db.operation.name": "SELECT",
      "db.collection.name": T,
    });
    const failed = points.find((p) => p.attributes["db.operation.name"] === "SELEC");
    expect(failed?.attributes["error.type"]).toBe("SQLParsingError");
    expect(failed?.attributes["db.response.status_code"]).toBe("42601");
    const count = metrics.find((m) => m.descriptor.name === "db.client.connection.count");
    const states = new Map((count?.dataPoints ?? []).map((p) => [p.attributes["db.client.connection.state"], p.value]));
    expect(states.get("used")).toBe(0);
    expect(states.get("idle")).toBeGreaterThanOrEqual(1);
    const pending = metrics.find((m) => m.descriptor.name === "db.client.connection.pending_requests");
    expect(pending?.dataPoints[0]?.value).toBe(0);
  });
});

describe("SQLCommenter", () => {
  test("appends the statement span's traceparent; commented statements never enter the prepared-statement cache", async () => {
    const commented = new PgConfig({
      poolConfig: { connectionString: PG_URL, maxSize: 1 },
      observability: { tracing: true, sqlCommenter: true, tracerProvider },
    });
    try {
      await commented.withSession(async (s) => {
        const before = s.adapter.state(s.conn).preparedStatements;
        exporter.reset();
        const q = await s.selectValue<string>("SELECT current_query() WHERE $1::int = 1", [1]);
        const span = spans().at(-1) as ReadableSpan;
        const c = span.spanContext();
        expect(q).toBe(`SELECT current_query() WHERE $1::int = 1 /*traceparent='00-${c.traceId}-${c.spanId}-01'*/`);
        expect(span.attributes["db.query.text"]).toBe("SELECT current_query() WHERE $1::int = 1");
        await s.selectValue("SELECT current_query() WHERE $1::int = 1", [1]);
        expect(s.adapter.state(s.conn).preparedStatements).toBe(before);
      });
    } finally {
      await commented.close();
    }
  });
});
