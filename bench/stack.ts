/**
 * executeStack vs sequential execute: 10 statements (5 INSERTs, 4 UPDATEs, 1 SELECT) as one atomic unit, on pg and
 * postgres.js. Sequential runs them inside transaction() (the same atomicity). Interleaved rounds, median ms per unit.
 */
import { PgConfig } from "../src/adapters/pg/index.js";
import { PostgresJsConfig } from "../src/adapters/postgresjs/index.js";
import { type Session, SQLSpec, type StackItem } from "../src/index.js";

const URL = process.env.SQLSPEC_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);

function unit(k: number): StackItem[] {
  const items: StackItem[] = [];
  for (let i = 0; i < 5; i++) items.push(["INSERT INTO bench_stack (id, v) VALUES ($1, $2)", [k * 10 + i, i]]);
  for (let i = 0; i < 4; i++) items.push(["UPDATE bench_stack SET v = v + 1 WHERE id = $1", [k * 10 + i]]);
  items.push(["SELECT count(*) FROM bench_stack WHERE id >= $1", [k * 10]]);
  return items;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function measure(label: string, s: Session): Promise<void> {
  await s.execute("DROP TABLE IF EXISTS bench_stack");
  await s.execute("CREATE TABLE bench_stack (id int PRIMARY KEY, v int)");
  const stack: number[] = [];
  const seq: number[] = [];
  let k = 0;
  for (let r = 0; r < ROUNDS; r++) {
    let t = performance.now();
    await s.executeStack(unit(k++));
    stack.push(performance.now() - t);
    t = performance.now();
    const items = unit(k++);
    await s.transaction(async () => {
      for (const [stmt, params] of items as [string, unknown[]][]) await s.execute(stmt, params);
    });
    seq.push(performance.now() - t);
  }
  const a = median(stack.slice(ROUNDS / 10));
  const b = median(seq.slice(ROUNDS / 10));
  console.log(
    `  ${label.padEnd(12)} executeStack ${a.toFixed(3)} ms   sequential execute ${b.toFixed(3)} ms   ` +
      `ratio ${(b / a).toFixed(2)}x`,
  );
  await s.execute("DROP TABLE bench_stack");
}

export async function run(): Promise<void> {
  console.log(`10 statements per unit, ${ROUNDS} interleaved rounds, median (first 10% dropped):`);
  const spec = new SQLSpec();
  const pg = spec.addConfig(new PgConfig({ poolConfig: { connectionString: URL, maxSize: 1 } }));
  const pjs = spec.addConfig(new PostgresJsConfig({ poolConfig: { connectionString: URL, maxSize: 1 } }));
  await pg.withSession((s) => measure("pg", s));
  await pjs.withSession((s) => measure("postgres.js", s));
  await spec.closeAllPools();
}
