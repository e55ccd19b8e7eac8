/**
 * Builder rendering speed: sqlspec `build()` next to Kysely `compile()` for the same statements, interleaved in
 * one run (rounds alternate between the two so JIT and GC noise hit both alike). Two measures per query:
 * "render" reuses one built query object (pure SQL generation), "construct+render" builds the query every time.
 */
import {
  DummyDriver,
  type Generated,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
} from "kysely";
import { insertInto, select } from "../src/builder/index.js";
// The renderers register with the package entry (every dialect); the builders alone do not load them.
import "../src/index.js";

interface DB {
  products: { id: Generated<number>; name: string; price: number; category_id: number; active: boolean; sku: string };
  categories: { id: Generated<number>; name: string };
}

const db = new Kysely<DB>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (k) => new PostgresIntrospector(k),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

const rows = Array.from({ length: 10 }, (_, i) => ({
  name: `Widget ${i}`,
  price: 9.99 + i,
  category_id: i % 3,
  active: i % 2 === 0,
  sku: `SKU-${i}`,
}));

const oursSelect = () =>
  select("p.id", "p.name", "p.price", "c.name AS category")
    .from("products", "p")
    .innerJoin("categories", "c.id = p.category_id", "c")
    .where("p.price > ?", [10])
    .where({ "p.active": true })
    .orderBy("p.name")
    .limit(10);
const kyselySelect = () =>
  db
    .selectFrom("products as p")
    .innerJoin("categories as c", "c.id", "p.category_id")
    .select(["p.id", "p.name", "p.price", "c.name as category"])
    .where("p.price", ">", 10)
    .where("p.active", "=", true)
    .orderBy("p.name")
    .limit(10);
const oursInsert = () => insertInto("products").values(rows);
const kyselyInsert = () => db.insertInto("products").values(rows);

function opsPerSec(iterations: number, fn: () => unknown): number {
  const start = performance.now();
  for (let k = 0; k < iterations; k++) fn();
  return iterations / ((performance.now() - start) / 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

function compare(label: string, ours: () => unknown, theirs: () => unknown, iterations: number): void {
  for (let k = 0; k < iterations; k++) {
    ours();
    theirs();
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < 7; round++) {
    a.push(opsPerSec(iterations, ours));
    b.push(opsPerSec(iterations, theirs));
  }
  const oa = median(a);
  const ob = median(b);
  console.log(
    `${label.padEnd(30)} ${Math.round(oa).toLocaleString("en").padStart(12)} ${Math.round(ob).toLocaleString("en").padStart(12)} ${(oa / ob).toFixed(2).padStart(7)}×`,
  );
}

export async function run(): Promise<void> {
  const s = oursSelect();
  const ks = kyselySelect();
  const i = oursInsert();
  const ki = kyselyInsert();
  // Same statement shape on both sides (sanity check, printed once).
  console.log(`sqlspec: ${s.build("postgres").sql}\nkysely:  ${ks.compile().sql}`);
  console.log(`${"query (ops/s, median of 7)".padEnd(30)} ${"sqlspec".padStart(12)} ${"kysely".padStart(12)}   ratio`);
  compare(
    "select: render",
    () => s.build("postgres"),
    () => ks.compile(),
    100_000,
  );
  compare(
    "select: construct+render",
    () => oursSelect().build("postgres"),
    () => kyselySelect().compile(),
    50_000,
  );
  compare(
    "insert 10 rows: render",
    () => i.build("postgres"),
    () => ki.compile(),
    50_000,
  );
  compare(
    "insert 10 rows: construct+render",
    () => oursInsert().build("postgres"),
    () => kyselyInsert().compile(),
    20_000,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
