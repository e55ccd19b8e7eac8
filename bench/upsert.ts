/**
 * Bulk upsert: half-new/half-existing rows into (id int primary key, name text, price numeric, stock int,
 * updated_at timestamptz) on the local PostgreSQL server, for N = 1k, 10k, 100k. Contenders:
 *   - sqlspec `session.upsert` (auto: INSERT … ON CONFLICT from JSON or COPY, PgConfig), and with strategy "merge";
 *   - raw pg, hand-written INSERT … ON CONFLICT from json_to_recordset (one parameter) and from COPY (pg-copy-streams,
 *     a special-purpose template-string encoder) into an ON COMMIT DROP temp table: the faster is "best raw" (the
 *     statement session.upsert runs);
 *   - raw pg, hand-written MERGE from the same two sources, printed beside (not the baseline);
 *   - Kysely, Drizzle and Knex multi-row INSERT … ON CONFLICT DO UPDATE, chunked under 65535 parameters, in one
 *     transaction.
 * Rounds are interleaved (order shuffled each round); the table is reset and the JS heap collected before every run,
 * and the table's checksum (count + md5 over the ordered rows) must match across contenders. Ratios are medians of
 * per-round ratios, which resists a busy machine; client CPU ms is what the library itself costs.
 * Then a child process reports peak RSS for 100k and 1M upserts, and for a streamed 1M-row loadRecords.
 *
 * `DATABASE_URL` overrides the server; `BENCH_UPSERT_SIZES` (e.g. "1000,10000") the sizes; `BENCH_UPSERT_RSS=0`
 * skips the RSS part.
 */
import { spawn } from "node:child_process";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";
import { sql as dsql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import { integer, numeric, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import knexFactory from "knex";
import { Kysely, sql as ksql, PostgresDialect } from "kysely";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { PgConfig } from "../src/adapters/pg/index.js";

const URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const TABLE = "bulk_bench_upsert";
const SIZES = (process.env.BENCH_UPSERT_SIZES ?? "1000,10000,100000").split(",").map(Number);
const ROUNDS: Record<number, number> = { 1000: 15, 10000: 9, 100000: 5 };
const CHUNK = Math.floor(65_535 / 5) - 7; // rows per multi-row INSERT: 5 params per row, under 65535

interface BenchRow {
  id: number;
  name: string;
  price: string;
  stock: number;
  updated_at: Date;
}

function makeRows(n: number): BenchRow[] {
  const out: BenchRow[] = new Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      id: i,
      name: `product ${i}`,
      price: `${i % 1000}.${String(i % 100).padStart(2, "0")}`,
      stock: i % 97,
      updated_at: new Date(Date.UTC(2024, 0, 1) + i * 1000),
    };
  }
  return out;
}

const SET_SQL =
  "WHEN MATCHED THEN UPDATE SET name = s.name, price = s.price, stock = s.stock, updated_at = s.updated_at " +
  "WHEN NOT MATCHED THEN INSERT (id, name, price, stock, updated_at) VALUES (s.id, s.name, s.price, s.stock, s.updated_at)";
const CONFLICT_SQL =
  "ON CONFLICT (id) DO UPDATE SET name = excluded.name, price = excluded.price, stock = excluded.stock, " +
  "updated_at = excluded.updated_at";
const COLS_DEF = "id integer, name text, price numeric, stock integer, updated_at timestamptz";

function esc(s: string): string {
  return /[\\\t\n\r]/.test(s)
    ? s.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n").replace(/\r/g, "\\r")
    : s;
}

/** What a careful hand-written COPY feed looks like: template strings, ~64 KiB chunks. */
function* rawCopyChunks(rows: readonly BenchRow[]): Generator<string> {
  let chunk = "";
  for (const r of rows) {
    chunk += `${r.id}\t${esc(r.name)}\t${r.price}\t${r.stock}\t${r.updated_at.toISOString()}\n`;
    if (chunk.length >= 65_536) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk) yield chunk;
}

let lastStrategy = "";

interface Contender {
  name: string;
  run: (rows: BenchRow[]) => Promise<void>;
  /** One statement with a 16 MB parameter on the contender's own connection, before anything is measured. */
  warm: (big: string) => Promise<void>;
  close: () => Promise<void>;
}

/**
 * A PostgreSQL backend runs the same statement markedly faster once it has handled one large message: glibc's
 * malloc raises its mmap/trim thresholds after freeing a big block, so later multi-MB allocations stop costing
 * mmap + page faults. Measured here: a 1k-row json MERGE takes 10.3 ms on a fresh backend and 8.0 ms on one that
 * has parsed a 100k-row payload once. Each contender has its own connection, and each gets the same one-time
 * warm-up, so none runs on a backend that happens to be warmer than the others'.
 */
const WARM_SQL = "SELECT length($1::text)";

/**
 * Every pool keeps its one connection for the whole run. With the 10 s defaults, a 100k round (~10 s, Drizzle alone
 * ~4 s) could let a contender's connection expire between two of its runs and come back as a fresh, cold backend.
 */
const IDLE_MS = 10 * 60_000;

async function contenders(): Promise<Contender[]> {
  const out: Contender[] = [];

  const db = new PgConfig({ poolConfig: { connectionString: URL, maxSize: 1, idleTimeoutMs: IDLE_MS } });
  out.push({
    name: "sqlspec session.upsert",
    run: async (rows) => {
      const r = await db.withSession((s) => s.upsert(TABLE, rows as never, { on: ["id"] }));
      lastStrategy = String(r.metadata.strategy);
    },
    warm: async (big) => {
      await db.withSession((s) => s.execute(WARM_SQL, [big]));
    },
    close: () => db.close(),
  });

  const dbMerge = new PgConfig({ poolConfig: { connectionString: URL, maxSize: 1, idleTimeoutMs: IDLE_MS } });
  out.push({
    name: "sqlspec upsert strategy merge",
    run: async (rows) => {
      await dbMerge.withSession((s) => s.upsert(TABLE, rows as never, { on: ["id"], strategy: "merge" }));
    },
    warm: async (big) => {
      await dbMerge.withSession((s) => s.execute(WARM_SQL, [big]));
    },
    close: () => dbMerge.close(),
  });

  // One pool (one backend) per contender, like every other contender: sharing one, each raw strategy ran on a
  // backend the other had just warmed (COPY + MERGE at 10k: 39.6 ms shared vs 44.2 ms alone, same code).
  const raw = new pg.Pool({ connectionString: URL, max: 1, idleTimeoutMillis: IDLE_MS });
  out.push({
    name: "raw pg MERGE json_to_recordset",
    run: async (rows) => {
      const c = await raw.connect();
      try {
        await c.query(
          `MERGE INTO ${TABLE} AS t USING (SELECT * FROM json_to_recordset($1::json) AS s(${COLS_DEF})) AS s ON t.id = s.id ${SET_SQL}`,
          [JSON.stringify(rows)],
        );
      } finally {
        c.release();
      }
    },
    warm: async (big) => {
      await raw.query(WARM_SQL, [big]);
    },
    close: () => raw.end(),
  });
  const rawCopy = new pg.Pool({ connectionString: URL, max: 1, idleTimeoutMillis: IDLE_MS });
  out.push({
    name: "raw pg COPY + MERGE",
    run: async (rows) => {
      const c = await rawCopy.connect();
      try {
        await c.query("BEGIN");
        await c.query(`CREATE TEMP TABLE raw_stage (${COLS_DEF}) ON COMMIT DROP`);
        await pipeline(Readable.from(rawCopyChunks(rows)), c.query(copyFrom("COPY raw_stage FROM STDIN")));
        await c.query(`MERGE INTO ${TABLE} AS t USING raw_stage AS s ON t.id = s.id ${SET_SQL}`);
        await c.query("COMMIT");
      } catch (err) {
        await c.query("ROLLBACK");
        throw err;
      } finally {
        c.release();
      }
    },
    warm: async (big) => {
      await rawCopy.query(WARM_SQL, [big]);
    },
    close: () => rawCopy.end(),
  });

  const rawIoc = new pg.Pool({ connectionString: URL, max: 1, idleTimeoutMillis: IDLE_MS });
  out.push({
    name: "raw pg INSERT…ON CONFLICT json",
    run: async (rows) => {
      await rawIoc.query(
        `INSERT INTO ${TABLE} AS t (id, name, price, stock, updated_at) SELECT * FROM json_to_recordset($1::json) AS s(${COLS_DEF}) ${CONFLICT_SQL}`,
        [JSON.stringify(rows)],
      );
    },
    warm: async (big) => {
      await rawIoc.query(WARM_SQL, [big]);
    },
    close: () => rawIoc.end(),
  });
  const rawCopyIoc = new pg.Pool({ connectionString: URL, max: 1, idleTimeoutMillis: IDLE_MS });
  out.push({
    name: "raw pg COPY + INSERT…ON CONFLICT",
    run: async (rows) => {
      const c = await rawCopyIoc.connect();
      try {
        await c.query("BEGIN");
        await c.query(`CREATE TEMP TABLE raw_stage (${COLS_DEF}) ON COMMIT DROP`);
        await pipeline(Readable.from(rawCopyChunks(rows)), c.query(copyFrom("COPY raw_stage FROM STDIN")));
        await c.query(`INSERT INTO ${TABLE} AS t SELECT * FROM raw_stage ${CONFLICT_SQL}`);
        await c.query("COMMIT");
      } catch (err) {
        await c.query("ROLLBACK");
        throw err;
      } finally {
        c.release();
      }
    },
    warm: async (big) => {
      await rawCopyIoc.query(WARM_SQL, [big]);
    },
    close: () => rawCopyIoc.end(),
  });

  const kysely = new Kysely<any>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: URL, max: 1, idleTimeoutMillis: IDLE_MS }) }),
  });
  out.push({
    name: "Kysely insert…onConflict",
    run: async (rows) => {
      await kysely.transaction().execute(async (trx) => {
        for (let i = 0; i < rows.length; i += CHUNK) {
          await trx
            .insertInto(TABLE)
            .values(rows.slice(i, i + CHUNK))
            .onConflict((oc) =>
              oc.column("id").doUpdateSet((eb) => ({
                name: eb.ref("excluded.name"),
                price: eb.ref("excluded.price"),
                stock: eb.ref("excluded.stock"),
                updated_at: eb.ref("excluded.updated_at"),
              })),
            )
            .execute();
        }
      });
    },
    warm: async (big) => {
      await ksql`SELECT length(${big}::text)`.execute(kysely);
    },
    close: () => kysely.destroy(),
  });

  const dpool = new pg.Pool({ connectionString: URL, max: 1, idleTimeoutMillis: IDLE_MS });
  const ddb = drizzle(dpool);
  const dt = pgTable(TABLE, {
    id: integer("id").primaryKey(),
    name: text("name"),
    price: numeric("price"),
    stock: integer("stock"),
    updated_at: timestamp("updated_at", { withTimezone: true }),
  });
  out.push({
    name: "Drizzle insert…onConflictDoUpdate",
    run: async (rows) => {
      await ddb.transaction(async (tx) => {
        for (let i = 0; i < rows.length; i += CHUNK) {
          await tx
            .insert(dt)
            .values(rows.slice(i, i + CHUNK))
            .onConflictDoUpdate({
              target: dt.id,
              set: {
                name: dsql.raw("excluded.name"),
                price: dsql.raw("excluded.price"),
                stock: dsql.raw("excluded.stock"),
                updated_at: dsql.raw("excluded.updated_at"),
              },
            });
        }
      });
    },
    warm: async (big) => {
      await ddb.execute(dsql`SELECT length(${big}::text)`);
    },
    close: () => dpool.end(),
  });

  const knex = knexFactory({ client: "pg", connection: URL, pool: { min: 0, max: 1, idleTimeoutMillis: IDLE_MS } });
  out.push({
    name: "Knex insert…onConflict.merge",
    run: async (rows) => {
      await knex.transaction(async (trx) => {
        for (let i = 0; i < rows.length; i += CHUNK) {
          await trx(TABLE)
            .insert(rows.slice(i, i + CHUNK))
            .onConflict("id")
            .merge();
        }
      });
    },
    warm: async (big) => {
      await knex.raw("SELECT length(?::text)", [big]);
    },
    close: () => knex.destroy(),
  });
  return out;
}

async function reset(c: pg.Client, n: number): Promise<void> {
  await c.query(`TRUNCATE ${TABLE}`);
  await c.query(
    `INSERT INTO ${TABLE} SELECT g, 'old ' || g, 1.5, 1, timestamptz '2020-01-01' FROM generate_series(0, ${Math.floor(n / 2) - 1}) g`,
  );
  await c.query(`ANALYZE ${TABLE}`);
}

async function checksum(c: pg.Client): Promise<string> {
  const r = await c.query(`SELECT count(*) AS n, md5(string_agg(t::text, ',' ORDER BY id)) AS h FROM ${TABLE} t`);
  return `${r.rows[0].n}:${r.rows[0].h}`;
}

/**
 * A full GC before every timed run (outside the timing), so no contender pays for the garbage the previous one left
 * (Drizzle's runs leave hundreds of MB). Each still pays for its own.
 */
v8.setFlagsFromString("--expose-gc");
const collect = vm.runInNewContext("gc") as () => void;

let seed = 42;
function shuffled<T>(xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? (s[(s.length - 1) >> 1] as number)
    : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

export async function run(): Promise<void> {
  const admin = new pg.Client({ connectionString: URL });
  await admin.connect();
  await admin.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await admin.query(
    `CREATE TABLE ${TABLE} (id int PRIMARY KEY, name text, price numeric, stock int, updated_at timestamptz)`,
  );
  const only = process.env.BENCH_UPSERT_ONLY?.split(",");
  const all = (await contenders()).filter((c) => !only || only.some((o) => c.name.includes(o)));
  const big = "x".repeat(16 * 1024 * 1024);
  for (const c of all) await c.warm(big);
  const v = await admin.query("SHOW server_version");
  console.log(`PostgreSQL ${v.rows[0].server_version}, node ${process.version}, ${new Date().toISOString()}`);
  try {
    for (const n of SIZES) {
      const rows = makeRows(n);
      const rounds = ROUNDS[n] ?? 3;
      const times = new Map<string, number[]>(all.map((c) => [c.name, []]));
      const cpu = new Map<string, number[]>(all.map((c) => [c.name, []]));
      const sums = new Map<string, string>();
      // Warm-up: plans, prepared statements, JIT.
      for (const c of all) {
        await reset(admin, n);
        await c.run(rows);
      }
      for (let r = 0; r < rounds; r++) {
        // A fresh shuffle each round: what ran just before a contender (WAL, checkpoints, dirty buffers) must not
        // always be the same heavy neighbour, or that contender pays for it every round.
        for (const c of shuffled(all)) {
          await reset(admin, n);
          collect();
          await new Promise((r) => setTimeout(r, 30)); // let concurrent sweeping finish outside the timing
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          await c.run(rows);
          (times.get(c.name) as number[]).push(performance.now() - t0);
          const cu = process.cpuUsage(c0);
          (cpu.get(c.name) as number[]).push((cu.user + cu.system) / 1000);
          const sum = await checksum(admin);
          const prev = sums.get("ref");
          if (prev === undefined) sums.set("ref", sum);
          else if (prev !== sum) throw new Error(`checksum mismatch for ${c.name} at N=${n}: ${sum} vs ${prev}`);
        }
      }
      report(n, times, cpu);
    }
  } finally {
    for (const c of all) await c.close();
    await admin.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await admin.end();
  }
  if (process.env.BENCH_UPSERT_RSS !== "0") await rssReport();
}

function report(n: number, times: Map<string, number[]>, cpu: Map<string, number[]>): void {
  const ours = times.get("sqlspec session.upsert") ?? [];
  /** Median over rounds of (their time / our time): how many times faster sqlspec is, robust to drift. */
  const vs = (name: string): number | undefined => {
    const ts = times.get(name);
    return ts && ours.length ? median(ts.map((t, i) => t / (ours[i] as number))) : undefined;
  };
  // session.upsert runs INSERT … ON CONFLICT: the hand-written ON CONFLICT strategies are its baseline (MERGE beside).
  const raws = ["raw pg INSERT…ON CONFLICT json", "raw pg COPY + INSERT…ON CONFLICT"].filter((r) => times.has(r));
  const best = raws.sort((a, b) => median(times.get(a) as number[]) - median(times.get(b) as number[]))[0];
  const rounds = (times.values().next().value as number[]).length;
  console.log(`\nN = ${n.toLocaleString("en")} (${rounds} rounds; checksums equal; sqlspec chose ${lastStrategy})`);
  console.log("  contender                              median ms   client CPU ms     rows/s   sqlspec is ×faster");
  for (const [name, ts] of times) {
    const rate = n / (median(ts) / 1000);
    const ratio = vs(name);
    console.log(
      `  ${name.padEnd(38)} ${median(ts).toFixed(1).padStart(9)} ${median(cpu.get(name) as number[])
        .toFixed(1)
        .padStart(15)}` +
        ` ${Math.round(rate).toLocaleString("en").padStart(10)}` +
        `   ${ratio === undefined ? "" : `${ratio.toFixed(2)}×`}${name === best ? "  (best raw)" : ""}`,
    );
  }
  const fmt = (x: number | undefined, d: number) => (x === undefined ? "n/a" : `${x.toFixed(d)}×`);
  const mergeRaws = ["raw pg MERGE json_to_recordset", "raw pg COPY + MERGE"].filter((r) => times.has(r));
  const bestMerge = mergeRaws.sort((a, b) => median(times.get(a) as number[]) - median(times.get(b) as number[]))[0];
  const oursMerge = times.get("sqlspec upsert strategy merge");
  if (bestMerge && oursMerge) {
    const r = median((times.get(bestMerge) as number[]).map((t, i) => t / (oursMerge[i] as number)));
    console.log(`  sqlspec strategy merge vs best raw MERGE (${bestMerge}): ${r.toFixed(2)}×`);
  }
  console.log(
    `  sqlspec vs best raw ON CONFLICT ${fmt(best ? vs(best) : undefined, 2)} (goal ≥ 0.95×), vs Kysely ${fmt(vs("Kysely insert…onConflict"), 1)} ` +
      `(goal ≥ 3× at 10k+), vs Drizzle ${fmt(vs("Drizzle insert…onConflictDoUpdate"), 1)} (goal ≥ 5× at 10k+)`,
  );
}

// ---------------------------------------------------------------------------------------------------- RSS

async function rssReport(): Promise<void> {
  console.log("\nPeak RSS (fresh child process per case; growth = peak during the call − RSS just before it)");
  for (const args of [
    ["upsert", "100000"],
    ["upsert-json", "100000"],
    ["upsert", "1000000"],
    ["load-stream", "1000000"],
  ]) {
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [...process.execArgv, "--expose-gc", fileURLToPath(import.meta.url), "--rss-child", ...args],
        {
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      let text = "";
      child.stdout.on("data", (d) => {
        text += d;
      });
      child.on("error", reject);
      child.on("exit", (code) => (code === 0 ? resolve(text.trim()) : reject(new Error(`rss child exited ${code}`))));
    });
    console.log(`  ${out}`);
  }
}

async function rssChild(mode: string, n: number): Promise<void> {
  const table = `${TABLE}_rss`;
  const db = new PgConfig({ poolConfig: { connectionString: URL, maxSize: 1 } });
  const mb = (b: number) => `${(b / 1048576).toFixed(0)} MB`;
  await db.withSession(async (s) => {
    await s.execute(`DROP TABLE IF EXISTS ${table}`);
    await s.execute(
      `CREATE TABLE ${table} (id int PRIMARY KEY, name text, price numeric, stock int, updated_at timestamptz)`,
    );
    await s.execute(`INSERT INTO ${table} SELECT g, 'old', 1, 1, now() FROM generate_series(0, ${n / 2 - 1}) g`);
    const upsert = mode.startsWith("upsert");
    const rows = upsert ? makeRows(n) : [];
    const inputBytes = upsert ? Buffer.byteLength(JSON.stringify(rows)) : 0;
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 2);
    const t0 = performance.now();
    let label: string;
    if (upsert) {
      // upsert-json: the JSON source at any size (no COPY threshold).
      const json = mode === "upsert-json" ? { copyThreshold: Number.POSITIVE_INFINITY } : {};
      const r = await s.upsert(table, rows as never, { on: ["id"], ...json });
      label = `upsert ${n.toLocaleString("en")} rows (${r.metadata.strategy}): input as JSON ${mb(inputBytes)}`;
    } else {
      async function* gen(): AsyncGenerator<Record<string, unknown>> {
        for (let i = n; i < 2 * n; i++)
          yield { id: i, name: `product ${i}`, price: "1.50", stock: 1, updated_at: new Date() };
      }
      await s.loadRecords(table, gen());
      label = `loadRecords ${n.toLocaleString("en")} rows from an async generator (never materialised)`;
    }
    const ms = performance.now() - t0;
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    console.log(
      `${label}: RSS before ${mb(before)}, peak ${mb(peak)}, growth ${mb(peak - before)}, ${ms.toFixed(0)} ms`,
    );
    await s.execute(`DROP TABLE IF EXISTS ${table}`);
  });
  await db.close();
}

if (process.argv[2] === "--rss-child") {
  await rssChild(process.argv[3] as string, Number(process.argv[4]));
}
