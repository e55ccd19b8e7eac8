/**
 * selectToArrow vs select + an Arrow Table built by hand (apache-arrow's vectorFromArray per column, with the types
 * declared, as a user would write it), 100k rows of int8/int4/float8/numeric/text/timestamptz/bool on pg. Also the
 * streaming form (10k-row RecordBatches through a cursor), and plain select (rows only: what the query and decoding
 * cost before any Arrow work). Interleaved rounds, median ms, ratio to selectToArrow.
 */
import {
  Bool,
  Float64,
  Int32,
  Int64,
  Table,
  Timestamp,
  type TimestampMillisecond,
  TimeUnit,
  Utf8,
  vectorFromArray,
} from "apache-arrow";
import { PgConfig } from "../src/adapters/pg/index.js";
import { type Session, SQLSpec } from "../src/index.js";
import { median, shuffled } from "./support.js";

const URL = process.env.SQLSPEC_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const ROWS = Number(process.env.BENCH_ARROW_ROWS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const QUERY = "SELECT id, qty, price, amount, name, placed_at, paid FROM bench_arrow ORDER BY id";

type Row = {
  id: bigint;
  qty: number;
  price: number;
  amount: string;
  name: string;
  placed_at: Date;
  paid: boolean;
};

/** What a user writes without selectToArrow: rows, then one typed vector per column. */
async function byHand(s: Session): Promise<Table> {
  const rows = await s.select<Row>(QUERY);
  const col = <K extends keyof Row>(k: K): Row[K][] => rows.map((r) => r[k]);
  return new Table({
    id: vectorFromArray(col("id"), new Int64()),
    qty: vectorFromArray(col("qty"), new Int32()),
    price: vectorFromArray(col("price"), new Float64()),
    amount: vectorFromArray(col("amount"), new Utf8()),
    name: vectorFromArray(col("name"), new Utf8()),
    placed_at: vectorFromArray(
      col("placed_at").map((d) => d.getTime()),
      new Timestamp(TimeUnit.MILLISECOND, "UTC") as TimestampMillisecond,
    ),
    paid: vectorFromArray(col("paid"), new Bool()),
  });
}

async function streamed(s: Session): Promise<number> {
  let n = 0;
  for await (const batch of s.selectToArrow(QUERY, undefined, { batchSize: 10_000 })) n += batch.numRows;
  return n;
}

export async function run(): Promise<void> {
  const spec = new SQLSpec();
  const db = spec.addConfig(
    new PgConfig({ poolConfig: { connectionString: URL, maxSize: 1 }, driverFeatures: { int8: "bigint" } }),
  );
  await db.withSession(async (s) => {
    await s.executeScript(`
      DROP TABLE IF EXISTS bench_arrow;
      CREATE TABLE bench_arrow AS
        SELECT g::int8 AS id, (g % 1000)::int4 AS qty, g * 0.25::float8 AS price, (g * 1.01)::numeric(12,2) AS amount,
               'customer ' || g AS name, timestamptz '2024-01-01' + g * interval '1 second' AS placed_at,
               g % 2 = 0 AS paid
          FROM generate_series(1, ${ROWS}) g;
    `);
    const contenders: Record<string, () => Promise<unknown>> = {
      selectToArrow: () => s.selectToArrow(QUERY),
      "select (rows only)": () => s.select(QUERY),
      "select + hand-built": () => byHand(s),
      "selectToArrow batches": () => streamed(s),
    };
    // Same answer first: the hand-built table equals selectToArrow's, value for value (first and last row).
    const a = await s.selectToArrow(QUERY);
    const b = await byHand(s);
    if (a.numRows !== ROWS || JSON.stringify(a.get(ROWS - 1), replacer) !== JSON.stringify(b.get(ROWS - 1), replacer)) {
      throw new Error("bench arrow: the two tables differ");
    }
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
    for (let r = 0; r < ROUNDS + 1; r++) {
      for (const name of shuffled(Object.keys(contenders))) {
        const t = performance.now();
        await (contenders[name] as () => Promise<unknown>)();
        if (r > 0) (times[name] as number[]).push(performance.now() - t);
      }
    }
    const base = median(times.selectToArrow as number[]);
    console.log(`${ROWS} rows × 7 columns on pg, ${ROUNDS} interleaved rounds (warm-up dropped), median:`);
    for (const [name, ts] of Object.entries(times)) {
      const m = median(ts);
      console.log(`  ${name.padEnd(24)} ${m.toFixed(1).padStart(8)} ms   ${(m / base).toFixed(2)}× selectToArrow`);
    }
    await s.execute("DROP TABLE bench_arrow");
  });
  await spec.closeAllPools();
}

function replacer(_k: string, v: unknown): unknown {
  return typeof v === "bigint" ? v.toString() : v;
}
