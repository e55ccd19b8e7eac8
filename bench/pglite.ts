/**
 * Embedded PGlite point query: `SELECT id, name, price FROM t WHERE id = $1` on 10k rows, raw `PGlite.query` against
 * sqlspec on PGlite, each on its own in-memory database (same schema, same data). Three contenders, interleaved and
 * shuffled per round: raw, sqlspec with one session for the whole round, and sqlspec with a session per query (the
 * `db.withSession(s => s.selectOne(…))` a request handler writes). Reported: median q/s, median client CPU µs per
 * query, and the time overhead against raw as the median of per-round ratios. PGlite runs in this process, so "client
 * CPU" includes the engine; the ratio is the figure to read.
 *
 * `BENCH_ROUNDS` / `BENCH_QUERIES` set the size.
 */

import { PGlite } from "@electric-sql/pglite";
import { PgliteConfig } from "../src/adapters/pglite/index.js";
import { SQLSpec } from "../src/index.js";
import { measure, median, random, type Sample, shuffled } from "./support.js";

const nextId = (): number => (random() % ROWS) + 1;

const ROWS = 10_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 1000);
const SQL_TEXT = "SELECT id, name, price FROM point WHERE id = $1";
const SCHEMA =
  "CREATE TABLE point (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL); " +
  `INSERT INTO point SELECT g, 'product ' || g, (g % 1000) / 10.0 FROM generate_series(1, ${ROWS}) g; ANALYZE point`;

export async function run(): Promise<void> {
  const raw = new PGlite();
  await raw.exec(SCHEMA);
  const spec = new SQLSpec();
  const db = spec.addConfig(new PgliteConfig());
  await db.withSession((s) => s.executeScript(SCHEMA));

  const contenders: { name: string; run: (n: number) => Promise<unknown> }[] = [
    {
      name: "raw PGlite.query",
      run: async (n) => {
        for (let i = 0; i < n; i++) await raw.query(SQL_TEXT, [nextId()]);
      },
    },
    {
      name: "sqlspec, one session",
      run: (n) =>
        db.withSession(async (s) => {
          for (let i = 0; i < n; i++) await s.selectOne(SQL_TEXT, [nextId()]);
        }),
    },
    {
      name: "sqlspec, session per query",
      run: async (n) => {
        for (let i = 0; i < n; i++) await db.withSession((s) => s.selectOne(SQL_TEXT, [nextId()]));
      },
    },
  ];
  try {
    for (const c of contenders) await c.run(500); // warm-up: plans cached, JIT settled
    const results = new Map<string, Sample[]>(contenders.map((c) => [c.name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const c of shuffled(contenders)) results.get(c.name)?.push(await measure(() => c.run(QUERIES), QUERIES));
    }
    const base = results.get("raw PGlite.query") as Sample[];
    console.log(`\nPGlite point query, sequential: ${ROUNDS} interleaved rounds × ${QUERIES} queries (medians)`);
    console.log(`${"contender".padEnd(28)} ${"q/s".padStart(8)} ${"cpu µs/q".padStart(9)}  time vs raw`);
    for (const c of contenders) {
      const xs = results.get(c.name) as Sample[];
      const qps = median(xs.map((x) => x.qps));
      const cpu = median(xs.map((x) => x.cpuUs));
      const overhead = (median(xs.map((x, i) => (base[i] as Sample).qps / x.qps)) - 1) * 100;
      const rel = c === contenders[0] ? "baseline" : `${overhead >= 0 ? "+" : ""}${overhead.toFixed(1)}%`;
      console.log(`${c.name.padEnd(28)} ${qps.toFixed(0).padStart(8)} ${cpu.toFixed(1).padStart(9)}  ${rel}`);
    }
  } finally {
    await raw.close();
    await spec.closeAllPools();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
