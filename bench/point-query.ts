/**
 * Point query: `SELECT id, name, price FROM t WHERE id = $1` on 100k rows, against the local PostgreSQL server.
 * Contenders: raw pg (named prepared statement), raw postgres.js, sqlspec on pg and on postgres.js, Kysely, Drizzle
 * (node-postgres, no .prepare()) and Knex. "sqlspec pg 1-shot" and "sqlspec postgresjs 1-shot" are `db.select(…)` outside a session (one-shot
 * statements share connections, so postgres.js pipelines them); the others run `withSession(s => s.select(…))`. Rounds are interleaved (every contender once per round, order rotated) so
 * drift and noise hit all of them alike. Reported per contender: median q/s, median client CPU µs per query (the part a
 * library controls, and the least sensitive to a busy machine), and the overhead against raw pg as the median of the
 * per-round ratios. Two modes: sequential (one query at a time) and 16 in flight over a pool of 8. Each query checks a
 * connection out of its library's pool and returns it.
 *
 * Observability: "sqlspec pg" runs with it off (the default); "sqlspec pg +hooks" with two no-op hooks,
 * "sqlspec pg +logger" with a logger that drops every (formatted, redacted) debug line, and "sqlspec pg +otel" with
 * tracing and metrics into an SDK tracer provider whose exporter drops every span. The cost of each is printed after
 * the tables: client CPU µs/query and time, both as the median of per-round differences against "sqlspec pg".
 *
 * `DATABASE_URL` overrides the server; `BENCH_ROUNDS` / `BENCH_QUERIES` the size, `BENCH_ONLY=sqlspec,kysely` the contenders
 * (`=name` matches one name exactly).
 */

import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import { integer, numeric, pgTable, text } from "drizzle-orm/pg-core";
import knexFactory from "knex";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import postgres from "postgres";
import { PgConfig } from "../src/adapters/pg/index.js";
import { PostgresJsConfig } from "../src/adapters/postgresjs/index.js";
import { measure, median, random, type Sample, shuffled } from "./support.js";

const URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const TABLE = "pgad_bench_point";
const ROWS = 100_000;
const POOL = 8;
const IN_FLIGHT = 16;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 1000);
const SQL_TEXT = `SELECT id, name, price FROM ${TABLE} WHERE id = $1`;

type Query = (id: number) => Promise<unknown>;
const nextId = (): number => (random() % ROWS) + 1;
interface Contender {
  name: string;
  query: Query;
  close: () => Promise<void>;
}

async function setup(): Promise<void> {
  const c = new pg.Client({ connectionString: URL });
  await c.connect();
  await c.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await c.query(`CREATE TABLE ${TABLE} (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL)`);
  await c.query(`INSERT INTO ${TABLE} SELECT g, 'product ' || g, (g % 1000) / 10.0 FROM generate_series(1, ${ROWS}) g`);
  await c.query(`ANALYZE ${TABLE}`);
  await c.end();
}

async function teardown(): Promise<void> {
  const c = new pg.Client({ connectionString: URL });
  await c.connect();
  await c.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await c.end();
}

async function contenders(): Promise<Contender[]> {
  const out: Contender[] = [];

  const rawPool = new pg.Pool({ connectionString: URL, max: POOL });
  out.push({
    name: "raw pg (named prepared)",
    query: (id) => rawPool.query({ name: "point", text: SQL_TEXT, values: [id] }),
    close: () => rawPool.end(),
  });

  const pjs = postgres(URL, { max: POOL, onnotice: () => {} });
  out.push({
    name: "raw postgres.js",
    query: (id) => pjs`SELECT id, name, price FROM pgad_bench_point WHERE id = ${id}`,
    close: () => pjs.end(),
  });

  const spg = new PgConfig({ poolConfig: { connectionString: URL, maxSize: POOL } });
  out.push({
    name: "sqlspec pg",
    query: (id) => spg.withSession((s) => s.select(SQL_TEXT, [id])),
    close: () => spg.close(),
  });

  // One-shot: `db.select(…)` outside a session, as most application code calls it.
  out.push({
    name: "sqlspec pg 1-shot",
    query: (id) => spg.select(SQL_TEXT, [id]),
    close: async () => {},
  });

  const hooked = new PgConfig({
    poolConfig: { connectionString: URL, maxSize: POOL },
    observability: { onQueryStart: () => {}, onQueryComplete: () => {} },
  });
  out.push({
    name: "sqlspec pg +hooks",
    query: (id) => hooked.withSession((s) => s.select(SQL_TEXT, [id])),
    close: () => hooked.close(),
  });

  // Every statement formatted into a debug line (parameters redacted), handed to a logger that drops it.
  const drop = (): void => {};
  const logged = new PgConfig({
    poolConfig: { connectionString: URL, maxSize: POOL },
    observability: { logger: { debug: drop, info: drop, warn: drop, error: drop } },
  });
  out.push({
    name: "sqlspec pg +logger",
    query: (id) => logged.withSession((s) => s.select(SQL_TEXT, [id])),
    close: () => logged.close(),
  });

  // A real SDK pipeline that records every span and metric, then drops them at export.
  const dropAll: SpanExporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };
  const traced = new PgConfig({
    poolConfig: { connectionString: URL, maxSize: POOL },
    observability: {
      tracing: true,
      metrics: true,
      tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(dropAll)] }),
      meterProvider: new MeterProvider(),
    },
  });
  out.push({
    name: "sqlspec pg +otel",
    query: (id) => traced.withSession((s) => s.select(SQL_TEXT, [id])),
    close: () => traced.close(),
  });

  const spjs = new PostgresJsConfig({ poolConfig: { connectionString: URL, maxSize: POOL } });
  out.push({
    name: "sqlspec postgresjs",
    query: (id) => spjs.withSession((s) => s.select(SQL_TEXT, [id])),
    close: () => spjs.close(),
  });

  // One-shot calls outside a session: postgres.js pipelines concurrent ones over the pool's connections.
  out.push({
    name: "sqlspec postgresjs 1-shot",
    query: (id) => spjs.select(SQL_TEXT, [id]),
    close: async () => {},
  });

  interface DB {
    pgad_bench_point: { id: number; name: string; price: string };
  }
  const kyPool = new pg.Pool({ connectionString: URL, max: POOL });
  const ky = new Kysely<DB>({ dialect: new PostgresDialect({ pool: kyPool }) });
  out.push({
    name: "kysely",
    query: (id) => ky.selectFrom(TABLE).select(["id", "name", "price"]).where("id", "=", id).execute(),
    close: () => ky.destroy(),
  });

  const products = pgTable(TABLE, {
    id: integer("id").primaryKey(),
    name: text("name").notNull(),
    price: numeric("price"),
  });
  const drPool = new pg.Pool({ connectionString: URL, max: POOL });
  const dr = drizzle(drPool);
  out.push({
    name: "drizzle (node-postgres)",
    query: (id) =>
      dr
        .select({ id: products.id, name: products.name, price: products.price })
        .from(products)
        .where(eq(products.id, id)),
    close: () => drPool.end(),
  });

  const kx = knexFactory({ client: "pg", connection: URL, pool: { min: 0, max: POOL } });
  out.push({
    name: "knex",
    query: (id) => kx(TABLE).select("id", "name", "price").where("id", id),
    close: () => kx.destroy(),
  });
  return out;
}

function sequential(q: Query, n: number): Promise<Sample> {
  return measure(async () => {
    for (let i = 0; i < n; i++) await q(nextId());
  }, n);
}

function concurrent(q: Query, n: number): Promise<Sample> {
  let left = n;
  const worker = async (): Promise<void> => {
    while (left-- > 0) await q(nextId());
  };
  return measure(() => Promise.all(Array.from({ length: IN_FLIGHT }, worker)), n);
}

export async function run(): Promise<void> {
  await setup();
  const only = process.env.BENCH_ONLY?.split(",");
  const cs = (await contenders()).filter(
    (c) =>
      !only ||
      c.name === "raw pg (named prepared)" ||
      only.some((o) => (o.startsWith("=") ? c.name === o.slice(1) : c.name.includes(o))),
  );
  try {
    // Warm-up: connections open, statements prepared, JIT settled.
    for (const c of cs) {
      await sequential(c.query, 300);
      await concurrent(c.query, 600);
    }
    const BASE = "raw pg (named prepared)";
    for (const [mode, fn] of [
      ["sequential", sequential],
      [`${IN_FLIGHT} in flight, pool of ${POOL}`, concurrent],
    ] as const) {
      const results = new Map<string, Sample[]>(cs.map((c) => [c.name, []]));
      for (let r = 0; r < ROUNDS; r++) {
        // A fresh random order each round: no contender always follows the same one (and pays for its garbage).
        for (const c of shuffled(cs)) {
          results.get(c.name)?.push(await fn(c.query, QUERIES));
        }
      }
      const base = results.get(BASE) as Sample[];
      console.log(`\npoint query, ${mode}: ${ROUNDS} interleaved rounds × ${QUERIES} queries (medians)`);
      console.log(`${"contender".padEnd(26)} ${"q/s".padStart(8)} ${"cpu µs/q".padStart(9)}  time vs raw pg`);
      for (const c of cs) {
        const xs = results.get(c.name) as Sample[];
        const qps = median(xs.map((x) => x.qps));
        const cpu = median(xs.map((x) => x.cpuUs));
        const overhead = (median(xs.map((x, i) => (base[i] as Sample).qps / x.qps)) - 1) * 100;
        const rel = c.name === BASE ? "baseline" : `${overhead >= 0 ? "+" : ""}${overhead.toFixed(1)}%`;
        console.log(`${c.name.padEnd(26)} ${qps.toFixed(0).padStart(8)} ${cpu.toFixed(1).padStart(9)}  ${rel}`);
      }
      const off = results.get("sqlspec pg");
      for (const on of ["sqlspec pg +hooks", "sqlspec pg +logger", "sqlspec pg +otel"]) {
        const xs = results.get(on);
        if (!off || !xs) continue;
        const cpu = median(xs.map((x, i) => x.cpuUs - (off[i] as Sample).cpuUs));
        const time = (median(xs.map((x, i) => (off[i] as Sample).qps / x.qps)) - 1) * 100;
        console.log(
          `observability cost (${on.slice("sqlspec pg ".length)}): ${cpu >= 0 ? "+" : ""}${cpu.toFixed(1)} µs client CPU/query, ` +
            `${time >= 0 ? "+" : ""}${time.toFixed(1)}% time vs observability off`,
        );
      }
    }
  } finally {
    await Promise.all(cs.map((c) => c.close().catch(() => {})));
    await teardown();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
