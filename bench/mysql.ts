/**
 * MySQL / MariaDB: `npm run bench -- mysql`.
 *
 * 1. Point query `SELECT id, name, price FROM t WHERE id = ?` on 100k rows: raw mysql2 `execute` (server-prepared,
 *    mysql2's pool; callback API as the baseline, promise API beside it), sqlspec MysqlConfig, Kysely (MysqlDialect), Drizzle (drizzle-orm/mysql2) and Knex (mysql2), all
 *    on mysql2, pool of 8. Interleaved rounds, order shuffled each round; medians of q/s, client CPU µs per query and
 *    of the per-round time ratio against raw mysql2. Sequential and 16 in flight.
 * 2. Bulk upsert, half new / half existing rows into (id int pk, name varchar, price decimal(10,2), stock int,
 *    updated_at datetime(3)) at 1k / 10k / 100k: sqlspec `session.upsert` (auto, and each source), hand-written raw
 *    mysql2 (multi-row VALUES chunks, one JSON_TABLE statement per chunk, LOAD DATA into a temporary table + INSERT …
 *    SELECT; "best raw" is the fastest of them per size), Kysely and Drizzle (chunked multi-row INSERT … ON DUPLICATE
 *    KEY UPDATE in one transaction). Every run starts from the same table state; the checksum must match.
 *
 * `SQLSPEC_BENCH_MYSQL_URL` (else `SQLSPEC_TEST_MYSQL_URL`) picks the server; `BENCH_ROUNDS`, `BENCH_QUERIES`,
 * `BENCH_UPSERT_SIZES` the size; `BENCH_MYSQL_PARTS=point` or `=upsert` one part; `BENCH_ONLY=json,raw` the upsert
 * contenders whose names contain one of the words.
 */
import { Readable } from "node:stream";
import { sql as dsql, eq } from "drizzle-orm";
import { datetime, decimal, int, mysqlTable, varchar } from "drizzle-orm/mysql-core";
import { drizzle } from "drizzle-orm/mysql2";
import knexFactory from "knex";
import { Kysely, sql as ksql, MysqlDialect } from "kysely";
import mysql from "mysql2";
import { MysqlConfig } from "../src/adapters/mysql/index.js";
import { measure, median, random, type Sample, shuffled } from "./support.js";

const URL =
  process.env.SQLSPEC_BENCH_MYSQL_URL ?? process.env.SQLSPEC_TEST_MYSQL_URL ?? "mysql://root@127.0.0.1:3306/test";
const POINT = "bench_my_point";
const BULK = "bench_my_upsert";
const ROWS = 100_000;
const POOL = 8;
const IN_FLIGHT = 16;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 1000);
const SIZES = (process.env.BENCH_UPSERT_SIZES ?? "1000,10000,100000").split(",").map(Number);
const UPSERT_ROUNDS: Record<number, number> = { 1000: 11, 10000: 7, 100000: 3 };
const POINT_SQL = `SELECT id, name, price FROM ${POINT} WHERE id = ?`;

type Query = (id: number) => Promise<unknown>;
interface Contender {
  name: string;
  query: Query;
  close: () => Promise<void>;
}

const rawPool = () => mysql.createPool({ uri: URL, connectionLimit: POOL, timezone: "Z" });

async function admin<T>(
  fn: (c: ReturnType<ReturnType<typeof mysql.createConnection>["promise"]>) => Promise<T>,
): Promise<T> {
  const c = mysql.createConnection({ uri: URL }).promise();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

// ---------------------------------------------------------------------------------------------------- point query

async function pointContenders(): Promise<Contender[]> {
  const out: Contender[] = [];
  // The fastest raw use of mysql2 (callback API, no promise wrapper) is the baseline; its promise API beside it.
  const rawCb = rawPool();
  out.push({
    name: "raw mysql2 execute",
    query: (id) =>
      new Promise((resolve, reject) =>
        rawCb.execute(POINT_SQL, [id], (err, rows) => (err ? reject(err) : resolve(rows))),
      ),
    close: () => new Promise<void>((r) => rawCb.end(() => r())),
  });
  const raw = rawPool().promise();
  out.push({ name: "raw mysql2 (promise)", query: (id) => raw.execute(POINT_SQL, [id]), close: () => raw.end() });

  const spec = new MysqlConfig({ poolConfig: { connectionString: URL, maxSize: POOL } });
  out.push({
    name: "sqlspec mysql",
    query: (id) => spec.withSession((s) => s.select(POINT_SQL, [id])),
    close: () => spec.close(),
  });

  interface DB {
    bench_my_point: { id: number; name: string; price: string };
  }
  const ky = new Kysely<DB>({ dialect: new MysqlDialect({ pool: rawPool() }) });
  out.push({
    name: "kysely",
    query: (id) => ky.selectFrom(POINT).select(["id", "name", "price"]).where("id", "=", id).execute(),
    close: () => ky.destroy(),
  });

  const products = mysqlTable(POINT, {
    id: int("id").primaryKey(),
    name: varchar("name", { length: 100 }),
    price: decimal("price"),
  });
  const drPool = rawPool();
  const dr = drizzle(drPool);
  out.push({
    name: "drizzle (mysql2)",
    query: (id) =>
      dr
        .select({ id: products.id, name: products.name, price: products.price })
        .from(products)
        .where(eq(products.id, id)),
    close: () => new Promise<void>((r) => drPool.end(() => r())),
  });

  const kx = knexFactory({ client: "mysql2", connection: URL, pool: { min: 0, max: POOL } });
  out.push({
    name: "knex (mysql2)",
    query: (id) => kx(POINT).select("id", "name", "price").where("id", id),
    close: () => kx.destroy(),
  });
  return out;
}

const sequential = (q: Query, n: number) =>
  measure(async () => {
    for (let i = 0; i < n; i++) await q((random() % ROWS) + 1);
  }, n);

const concurrent = (q: Query, n: number) => {
  let left = n;
  const worker = async (): Promise<void> => {
    while (left-- > 0) await q((random() % ROWS) + 1);
  };
  return measure(() => Promise.all(Array.from({ length: IN_FLIGHT }, worker)), n);
};

async function runPoint(): Promise<void> {
  await admin(async (c) => {
    await c.query(`DROP TABLE IF EXISTS ${POINT}`);
    await c.query(
      `CREATE TABLE ${POINT} (id int PRIMARY KEY, name varchar(100) NOT NULL, price decimal(10,2) NOT NULL)`,
    );
    await c.query(
      `INSERT INTO ${POINT} SELECT seq, CONCAT('product ', seq), (seq % 1000) / 10.0 FROM seq_1_to_${ROWS}`,
    );
  });
  const cs = await pointContenders();
  try {
    for (const c of cs) {
      await sequential(c.query, 300);
      await concurrent(c.query, 600);
    }
    const BASE = "raw mysql2 execute";
    for (const [mode, fn] of [
      ["sequential", sequential],
      [`${IN_FLIGHT} in flight, pool of ${POOL}`, concurrent],
    ] as const) {
      const results = new Map<string, Sample[]>(cs.map((c) => [c.name, []]));
      for (let r = 0; r < ROUNDS; r++) {
        for (const c of shuffled(cs)) results.get(c.name)?.push(await fn(c.query, QUERIES));
      }
      const base = results.get(BASE) as Sample[];
      console.log(`\nMySQL point query, ${mode}: ${ROUNDS} interleaved rounds × ${QUERIES} queries (medians)`);
      console.log(`${"contender".padEnd(22)} ${"q/s".padStart(8)} ${"cpu µs/q".padStart(9)}  time vs raw mysql2`);
      for (const c of cs) {
        const xs = results.get(c.name) as Sample[];
        const overhead = (median(xs.map((x, i) => (base[i] as Sample).qps / x.qps)) - 1) * 100;
        const rel = c.name === BASE ? "baseline" : `${overhead >= 0 ? "+" : ""}${overhead.toFixed(1)}%`;
        console.log(
          `${c.name.padEnd(22)} ${median(xs.map((x) => x.qps))
            .toFixed(0)
            .padStart(8)} ${median(xs.map((x) => x.cpuUs))
            .toFixed(1)
            .padStart(9)}  ${rel}`,
        );
      }
    }
  } finally {
    await Promise.all(cs.map((c) => c.close().catch(() => {})));
    await admin((c) => c.query(`DROP TABLE IF EXISTS ${POINT}`));
  }
}

// ---------------------------------------------------------------------------------------------------- bulk upsert

interface BenchRow {
  id: number;
  name: string;
  price: string;
  stock: number;
  updated_at: Date;
}

function makeRows(n: number): BenchRow[] {
  const out: BenchRow[] = new Array(n);
  // Half the ids exist already (0 … n/2-1 are seeded), half are new.
  for (let i = 0; i < n; i++) {
    const id = i + Math.floor(n / 2);
    out[i] = {
      id,
      name: `product ${id}`,
      price: `${id % 1000}.${String(id % 100).padStart(2, "0")}`,
      stock: id % 97,
      updated_at: new Date(Date.UTC(2024, 0, 1) + id * 1000),
    };
  }
  return out;
}

const COLS = ["id", "name", "price", "stock", "updated_at"] as const;
const ODKU =
  "ON DUPLICATE KEY UPDATE name = VALUES(name), price = VALUES(price), stock = VALUES(stock), updated_at = VALUES(updated_at)";

function dateText(d: Date): string {
  return d.toISOString().replace("T", " ").replace("Z", "");
}

type Upsert = (rows: BenchRow[]) => Promise<void>;

async function upsertContenders(): Promise<{ name: string; run: Upsert; raw?: boolean; close: () => Promise<void> }[]> {
  const out: { name: string; run: Upsert; raw?: boolean; close: () => Promise<void> }[] = [];
  const spec = new MysqlConfig({ poolConfig: { connectionString: URL, maxSize: 2 } });
  for (const strategy of ["auto", "json", "values", "copy"] as const) {
    out.push({
      name: `sqlspec upsert (${strategy})`,
      run: async (rows) => {
        await spec.withSession((s) =>
          s.upsert(BULK, rows as unknown as Record<string, unknown>[], { on: ["id"], strategy }),
        );
      },
      close: async () => {},
    });
  }
  out.push({ name: "", run: async () => {}, close: () => spec.close() });

  const raw = mysql.createPool({ uri: URL, connectionLimit: 2, timezone: "Z" }).promise();
  const inTx = async (fn: (c: Awaited<ReturnType<typeof raw.getConnection>>) => Promise<void>) => {
    const c = await raw.getConnection();
    try {
      await c.query("START TRANSACTION");
      await fn(c);
      await c.query("COMMIT");
    } finally {
      c.release();
    }
  };
  const chunk = 1000;
  out.push({
    name: "raw VALUES (1000-row chunks)",
    raw: true,
    run: (rows) =>
      inTx(async (c) => {
        for (let i = 0; i < rows.length; i += chunk) {
          const part = rows.slice(i, i + chunk);
          const values: unknown[] = [];
          for (const r of part) values.push(r.id, r.name, r.price, r.stock, r.updated_at);
          await c.execute(
            `INSERT INTO ${BULK} (id, name, price, stock, updated_at) VALUES ${part.map(() => "(?, ?, ?, ?, ?)").join(", ")} ${ODKU}`,
            values as never,
          );
        }
      }),
    close: async () => {},
  });
  out.push({
    name: "raw JSON_TABLE",
    raw: true,
    run: (rows) =>
      inTx(async (c) => {
        const step = 50_000;
        for (let i = 0; i < rows.length; i += step) {
          const json = JSON.stringify(
            rows.slice(i, i + step).map((r) => [r.id, r.name, r.price, r.stock, dateText(r.updated_at)]),
          );
          await c.execute(
            `INSERT INTO ${BULK} (id, name, price, stock, updated_at) SELECT * FROM JSON_TABLE(?, '$[*]' COLUMNS (id int PATH '$[0]', name varchar(100) PATH '$[1]', price decimal(10,2) PATH '$[2]', stock int PATH '$[3]', updated_at datetime(3) PATH '$[4]')) AS jt ${ODKU}`,
            [json],
          );
        }
      }),
    close: async () => {},
  });
  out.push({
    name: "raw LOAD DATA + INSERT…SELECT",
    raw: true,
    run: (rows) =>
      inTx(async (c) => {
        await c.query("DROP TEMPORARY TABLE IF EXISTS bench_stage");
        await c.query(
          `CREATE TEMPORARY TABLE bench_stage AS SELECT id, name, price, stock, updated_at FROM ${BULK} LIMIT 0`,
        );
        const text = rows
          .map((r) => `${r.id}\t${r.name}\t${r.price}\t${r.stock}\t${dateText(r.updated_at)}\n`)
          .join("");
        await c.query({
          sql: "LOAD DATA LOCAL INFILE 'bench' INTO TABLE bench_stage (id, name, price, stock, updated_at)",
          infileStreamFactory: () => Readable.from([Buffer.from(text)]),
        } as never);
        await c.query(
          `INSERT INTO ${BULK} (id, name, price, stock, updated_at) SELECT * FROM bench_stage AS s ${ODKU}`,
        );
        await c.query("DROP TEMPORARY TABLE bench_stage");
      }),
    close: () => raw.end(),
  });

  interface KDB {
    bench_my_upsert: BenchRow;
  }
  const ky = new Kysely<KDB>({
    dialect: new MysqlDialect({ pool: mysql.createPool({ uri: URL, connectionLimit: 2, timezone: "Z" }) }),
  });
  out.push({
    name: "Kysely insert…onDuplicateKeyUpdate",
    run: (rows) =>
      ky.transaction().execute(async (trx) => {
        const per = Math.floor(65_535 / COLS.length);
        for (let i = 0; i < rows.length; i += per) {
          await trx
            .insertInto(BULK)
            .values(rows.slice(i, i + per))
            .onDuplicateKeyUpdate({
              name: ksql`VALUES(name)`,
              price: ksql`VALUES(price)`,
              stock: ksql`VALUES(stock)`,
              updated_at: ksql`VALUES(updated_at)`,
            })
            .execute();
        }
      }),
    close: () => ky.destroy(),
  });

  const table = mysqlTable(BULK, {
    id: int("id").primaryKey(),
    name: varchar("name", { length: 100 }),
    price: decimal("price", { precision: 10, scale: 2 }),
    stock: int("stock"),
    updated_at: datetime("updated_at", { fsp: 3 }),
  });
  const dpool = mysql.createPool({ uri: URL, connectionLimit: 2, timezone: "Z" });
  const dr = drizzle(dpool);
  out.push({
    name: "Drizzle insert…onDuplicateKeyUpdate",
    run: (rows) =>
      dr.transaction(async (tx) => {
        const per = Math.floor(65_535 / COLS.length);
        for (let i = 0; i < rows.length; i += per) {
          await tx
            .insert(table)
            .values(rows.slice(i, i + per))
            .onDuplicateKeyUpdate({
              set: {
                name: dsql`VALUES(name)`,
                price: dsql`VALUES(price)`,
                stock: dsql`VALUES(stock)`,
                updated_at: dsql`VALUES(updated_at)`,
              },
            });
        }
      }),
    close: () => new Promise<void>((r) => dpool.end(() => r())),
  });
  return out;
}

async function reset(n: number): Promise<void> {
  await admin(async (c) => {
    await c.query(`DROP TABLE IF EXISTS ${BULK}`);
    await c.query(
      `CREATE TABLE ${BULK} (id int PRIMARY KEY, name varchar(100) NOT NULL, price decimal(10,2) NOT NULL, stock int NOT NULL, updated_at datetime(3) NOT NULL)`,
    );
    const half = Math.floor(n / 2);
    if (half > 0) {
      await c.query(`INSERT INTO ${BULK} SELECT seq - 1, 'old', 0, 0, '2000-01-01' FROM seq_1_to_${half}`);
    }
  });
}

async function checksum(): Promise<string> {
  return admin(async (c) => {
    const [rows] = await c.query(
      `SELECT COUNT(*) AS n, MD5(GROUP_CONCAT(CONCAT_WS(',', id, name, price, stock, DATE_FORMAT(updated_at, '%Y%m%d%H%i%s%f')) ORDER BY id SEPARATOR ';')) AS h FROM ${BULK}`,
    );
    const r = (rows as { n: number; h: string }[])[0] as { n: number; h: string };
    return `${r.n}:${r.h}`;
  });
}

async function runUpsert(): Promise<void> {
  await admin((c) => c.query("SET GLOBAL group_concat_max_len = 1073741824"));
  const all = await upsertContenders();
  const only = process.env.BENCH_ONLY?.split(",");
  const cs = all.filter((c) => c.name !== "" && (!only || only.some((o) => c.name.includes(o))));
  try {
    for (const n of SIZES) {
      const rows = makeRows(n);
      const times = new Map<string, number[]>(cs.map((c) => [c.name, []]));
      const cpus = new Map<string, number[]>(cs.map((c) => [c.name, []]));
      let expected: string | undefined;
      const rounds = UPSERT_ROUNDS[n] ?? 3;
      for (let r = 0; r < rounds + 1; r++) {
        for (const c of shuffled(cs)) {
          await reset(n);
          const c0 = process.cpuUsage();
          const t = performance.now();
          await c.run(rows);
          const ms = performance.now() - t;
          const cpu = process.cpuUsage(c0);
          const sum = await checksum();
          expected ??= sum;
          if (sum !== expected) throw new Error(`${c.name} wrote different rows at ${n}: ${sum} vs ${expected}`);
          if (r > 0) {
            // round 0 warms up
            times.get(c.name)?.push(ms);
            cpus.get(c.name)?.push((cpu.user + cpu.system) / 1000);
          }
        }
      }
      // Ratios are taken per round (contenders of one round ran back to back), then the median: a busy machine
      // moves whole rounds, not one contender.
      const ref = cs.find((c) => c.name === "sqlspec upsert (auto)") ?? (cs[0] as (typeof cs)[number]);
      const refTimes = times.get(ref.name) as number[];
      const ratio = (name: string) =>
        median((times.get(name) as number[]).map((ms, i) => ms / (refTimes[i] as number)));
      const raws = cs.filter((c) => c.raw);
      console.log(`\nMySQL bulk upsert, ${n} rows (half new), ${rounds} interleaved rounds (medians)`);
      console.log(`${"contender".padEnd(36)} ${"ms".padStart(9)} ${"client cpu ms".padStart(14)}  time vs ${ref.name}`);
      for (const c of cs) {
        const ms = median(times.get(c.name) as number[]);
        const cpu = median(cpus.get(c.name) as number[]);
        console.log(
          `${c.name.padEnd(36)} ${ms.toFixed(1).padStart(9)} ${cpu.toFixed(1).padStart(14)}  ${ratio(c.name).toFixed(2)}×`,
        );
      }
      if (raws.length > 0) {
        const perRound = refTimes.map(
          (ms, i) => Math.min(...raws.map((c) => (times.get(c.name) as number[])[i] as number)) / ms,
        );
        console.log(`${ref.name} vs best hand-written raw (per round): ${median(perRound).toFixed(2)}× (goal ≥ 0.95×)`);
      }
      for (const other of ["Kysely", "Drizzle"]) {
        const c = cs.find((x) => x.name.startsWith(other));
        if (c) console.log(`${ref.name} is ${ratio(c.name).toFixed(2)}× faster than ${other}`);
      }
    }
  } finally {
    await Promise.all(all.map((c) => c.close().catch(() => {})));
    await admin((c) => c.query(`DROP TABLE IF EXISTS ${BULK}`));
  }
}

export async function run(): Promise<void> {
  const parts = (process.env.BENCH_MYSQL_PARTS ?? "point,upsert").split(",");
  if (parts.includes("point")) await runPoint();
  if (parts.includes("upsert")) await runUpsert();
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
