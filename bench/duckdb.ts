/**
 * DuckDB: `npm run bench -- duckdb`.
 *
 * 1. `loadRecords` of 1M rows (`BENCH_DUCKDB_LOAD_ROWS`) into (id integer, name varchar, price double, stock integer)
 *    against the raw Appender (typed append calls straight into the table): ms and raw ÷ sqlspec.
 * 2. Bulk upsert of 100k rows (`BENCH_UPSERT_SIZES`), half new, into (id integer pk, name varchar, price double,
 *    stock integer): sqlspec `session.upsert` against the raw Appender into a temporary stage + one INSERT … SELECT …
 *    ON CONFLICT. (Multi-row VALUES is left out: ~14 s for 10k rows here, 15× the stage.)
 *
 * Interleaved rounds (`BENCH_ROUNDS`, default 3), each from the same table state; medians.
 */
import type * as duckdb from "@duckdb/node-api";
import { DuckdbConfig } from "../src/adapters/duckdb/index.js";

const LOAD_ROWS = Number(process.env.BENCH_DUCKDB_LOAD_ROWS ?? 1_000_000);
const SIZES = (process.env.BENCH_UPSERT_SIZES ?? "100000").split(",").map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const COLS = "id, name, price, stock";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

type Row = {
  id: number;
  name: string;
  price: number;
  stock: number;
};

const rowsFor = (n: number, offset: number): Row[] =>
  Array.from({ length: n }, (_, i) => ({ id: i + 1 + offset, name: `n${i}`, price: i / 4, stock: i % 1000 }));

async function appendRaw(c: duckdb.DuckDBConnection, table: string, rows: Row[], catalog?: string): Promise<void> {
  const a = await c.createAppender(table, catalog ? "main" : null, catalog ?? null);
  for (const r of rows) {
    a.appendInteger(r.id);
    a.appendVarchar(r.name);
    a.appendDouble(r.price);
    a.appendInteger(r.stock);
    a.endRow();
  }
  a.closeSync();
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

export async function run(): Promise<void> {
  const spec = new DuckdbConfig();
  const adapter = (await spec.getAdapter()) as unknown as { instance: duckdb.DuckDBInstance };
  const c = await adapter.instance.connect();
  const reset = async (table: string, existing: number, key: boolean): Promise<void> => {
    await c.run(`DROP TABLE IF EXISTS ${table}`);
    await c.run(
      `CREATE TABLE ${table} (id INTEGER${key ? " PRIMARY KEY" : ""}, name VARCHAR NOT NULL, price DOUBLE, stock INTEGER)`,
    );
    if (existing > 0) {
      await c.run(`INSERT INTO ${table} SELECT i, 'old' || i, i, i % 100 FROM range(1, ${existing + 1}) r(i)`);
    }
  };

  // loadRecords vs the raw Appender.
  const load = rowsFor(LOAD_ROWS, 0);
  const lt = { raw: [] as number[], sqlspec: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    await reset("bench_load", 0, false);
    lt.raw.push(await timed(() => appendRaw(c, "bench_load", load)));
    await reset("bench_load", 0, false);
    lt.sqlspec.push(await timed(() => spec.withSession((s) => s.loadRecords("bench_load", load).then(() => {}))));
  }
  console.log(`\nloadRecords ${LOAD_ROWS} rows, medians of ${ROUNDS} rounds`);
  console.log(`raw Appender            ${median(lt.raw).toFixed(0).padStart(7)} ms`);
  console.log(
    `sqlspec loadRecords     ${median(lt.sqlspec).toFixed(0).padStart(7)} ms   raw ÷ sqlspec ${(median(lt.raw) / median(lt.sqlspec)).toFixed(2)}`,
  );

  for (const n of SIZES) {
    const rows = rowsFor(n, n / 2);
    const ut = { raw: [] as number[], sqlspec: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      await reset("bench_upsert", n, true);
      ut.raw.push(
        await timed(async () => {
          await c.run("BEGIN");
          await c.run(`CREATE TEMP TABLE stage AS SELECT ${COLS} FROM bench_upsert LIMIT 0`);
          await appendRaw(c, "stage", rows, "temp");
          await c.run(
            `INSERT INTO bench_upsert (${COLS}) SELECT ${COLS} FROM stage ON CONFLICT (id) DO UPDATE SET name = excluded.name, price = excluded.price, stock = excluded.stock`,
          );
          await c.run("DROP TABLE stage");
          await c.run("COMMIT");
        }),
      );
      await reset("bench_upsert", n, true);
      ut.sqlspec.push(
        await timed(() => spec.withSession((s) => s.upsert("bench_upsert", rows, { on: ["id"] }).then(() => {}))),
      );
    }
    console.log(`\nBulk upsert ${n} rows (half new), medians of ${ROUNDS} rounds`);
    console.log(`raw Appender → stage → INSERT … ON CONFLICT  ${median(ut.raw).toFixed(0).padStart(7)} ms`);
    console.log(
      `sqlspec session.upsert                       ${median(ut.sqlspec).toFixed(0).padStart(7)} ms   raw ÷ sqlspec ${(median(ut.raw) / median(ut.sqlspec)).toFixed(2)}`,
    );
  }
  c.closeSync();
  await spec.close();
}
