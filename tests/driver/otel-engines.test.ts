/**
 * OpenTelemetry spans and metrics on MariaDB (through the mysql adapter) and PGlite: the same exact attribute sets
 * as on PostgreSQL (otel.test.ts) where they apply. MariaDB reports `db.system.name` "mariadb" and the
 * MySQL-protocol SQLSTATE; PGlite has no server, so no server.address/port and no db.namespace.
 */
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeEach, describe, expect, test } from "vitest";
import { MysqlConfig } from "../../src/adapters/mysql/index.js";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { SQLSpec, UniqueViolationError } from "../../src/index.js";
import { MYSQL_URL } from "../support/servers.js";

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const SECRET = "otel-engines-s3cr3t-42";
const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const reader = new TestReader();
const meterProvider = new MeterProvider({ readers: [reader] });
const contextManager = new AsyncLocalStorageContextManager().enable();
context.setGlobalContextManager(contextManager);

const spec = new SQLSpec({ observability: { tracing: true, metrics: true, tracerProvider, meterProvider } });
const url = new URL(MYSQL_URL);
const maria = spec.addConfig(
  new MysqlConfig({ poolConfig: { connectionString: MYSQL_URL, maxSize: 2 }, bindKey: "m" }),
);
const lite = spec.addConfig(new PgliteConfig({ bindKey: "l" }));
const T = "otel_eng_items";

const spans = (): ReadableSpan[] => exporter.getFinishedSpans();

beforeEach(() => {
  exporter.reset();
});
afterAll(async () => {
  await maria.withSession((s) => s.execute(`DROP TABLE IF EXISTS ${T}`)).catch(() => undefined);
  await spec.closeAllPools();
  contextManager.disable();
});

describe("MariaDB (mysql adapter): statement spans", () => {
  const server = {
    "db.system.name": "mariadb",
    "db.namespace": decodeURIComponent(url.pathname.slice(1)),
    "server.address": url.hostname,
    "server.port": Number(url.port || 3306),
  };
  const attrs = (op: string, sql: string) => ({
    ...server,
    "db.operation.name": op,
    "db.collection.name": T,
    "db.query.summary": `${op} ${T}`,
    "db.query.text": sql,
    "sqlspec.bind_key": "m",
  });

  test("SELECT and INSERT: names and the exact attribute sets; no bound value in any attribute", async () => {
    await maria.withSession((s) =>
      s.executeScript(`DROP TABLE IF EXISTS ${T}; CREATE TABLE ${T} (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL)`),
    );
    exporter.reset();
    const insert = `INSERT INTO ${T} (id, name) VALUES (?, ?)`;
    const select = `SELECT id, name FROM ${T} WHERE id = ?`;
    const rows = await maria.withSession(async (s) => {
      await s.execute(insert, [1, SECRET]);
      return s.select(select, [1]);
    });
    expect(rows).toEqual([{ id: 1, name: SECRET }]);
    const [ins, sel] = spans();
    expect(spans()).toHaveLength(2);
    expect(ins?.name).toBe(`INSERT ${T}`);
    expect(ins?.kind).toBe(2); // CLIENT
    expect(ins?.attributes).toEqual({ ...attrs("INSERT", insert), "db.response.returned_rows": 0 });
    expect(sel?.name).toBe(`SELECT ${T}`);
    expect(sel?.attributes).toEqual({ ...attrs("SELECT", select), "db.response.returned_rows": 1 });
    expect(JSON.stringify(spans().map((s) => [s.attributes, s.events]))).not.toContain(SECRET);
  });

  test("a failed statement: error status, error.type = the class, the SQLSTATE, no bound value", async () => {
    const insert = `INSERT INTO ${T} (id, name) VALUES (?, ?)`;
    const err = await maria.withSession((s) => s.execute(insert, [1, SECRET])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UniqueViolationError);
    const [span] = spans();
    expect(span?.status.code).toBe(2); // ERROR
    expect(span?.attributes).toEqual({
      ...attrs("INSERT", insert),
      "error.type": "UniqueViolationError",
      "db.response.status_code": "23000",
    });
    expect(span?.events.map((e) => e.name)).toEqual(["exception"]);
    expect(JSON.stringify([span?.attributes, span?.events, span?.status])).not.toContain(SECRET);
  });

  test("db.client.operation.duration carries the same attributes", async () => {
    await maria.withSession((s) => s.select(`SELECT id FROM ${T}`));
    const { resourceMetrics } = await reader.collect();
    const metrics = resourceMetrics.scopeMetrics.flatMap((m) => m.metrics);
    const duration = metrics.find((m) => m.descriptor.name === "db.client.operation.duration");
    const point = duration?.dataPoints.find(
      (p) => p.attributes["db.system.name"] === "mariadb" && p.attributes["db.operation.name"] === "SELECT",
    );
    expect(point?.attributes).toEqual({ ...server, "db.operation.name": "SELECT", "db.collection.name": T });
    const failed = duration?.dataPoints.find(
      (p) => p.attributes["db.system.name"] === "mariadb" && p.attributes["error.type"] !== undefined,
    );
    expect(failed?.attributes).toEqual({
      ...server,
      "db.operation.name": "INSERT",
      "db.collection.name": T,
      "error.type": "UniqueViolationError",
      "db.response.status_code": "23000",
    });
  });
});

// PGlite's first start takes seconds, more on a loaded machine
describe("PGlite: statement spans", { timeout: 180_000 }, () => {
  test("a failed statement: error status, error.type, SQLSTATE; no server attributes (there is no server)", async () => {
    await lite.withSession((s) =>
      s.executeScript(`CREATE TABLE ${T} (id int PRIMARY KEY, name text NOT NULL); INSERT INTO ${T} VALUES (1, 'a')`),
    );
    exporter.reset();
    const insert = `INSERT INTO ${T} (id, name) VALUES ($1, $2)`;
    const err = await lite.withSession((s) => s.execute(insert, [1, SECRET])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UniqueViolationError);
    const [span] = spans();
    expect(spans()).toHaveLength(1);
    expect(span?.name).toBe(`INSERT ${T}`);
    expect(span?.status.code).toBe(2);
    expect(span?.attributes).toEqual({
      "db.system.name": "postgresql",
      "db.operation.name": "INSERT",
      "db.collection.name": T,
      "db.query.summary": `INSERT ${T}`,
      "db.query.text": insert,
      "sqlspec.bind_key": "l",
      "error.type": "UniqueViolationError",
      "db.response.status_code": "23505",
    });
    expect(span?.events.map((e) => e.name)).toEqual(["exception"]);
    expect(JSON.stringify([span?.attributes, span?.events, span?.status])).not.toContain(SECRET);
    // the session goes on: the next statement on the one connection succeeds and gets its own span
    expect(await lite.withSession((s) => s.selectValue(`SELECT count(*)::int FROM ${T}`))).toBe(1);
    expect(spans()[1]?.status.code).toBe(0);
  });
});
