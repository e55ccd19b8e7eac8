/**
 * Core costs with no database: the `sql` template per call, and the memory the plan cache keeps after a workload
 * of multi-row builder INSERTs with every batch size from 1 to 1000 (each size is a distinct statement text).
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { clearStatementCache, getPlan, setStatementCacheSize, statementCacheStats } from "../src/core/compiler.js";
import { ParameterStyle } from "../src/core/types.js";
import { sql } from "../src/index.js";

setFlagsFromString("--expose_gc");
const gc = runInNewContext("gc") as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function perCallNs(iterations: number, fn: (k: number) => void): number {
  const start = process.hrtime.bigint();
  for (let k = 0; k < iterations; k++) fn(k);
  return Number(process.hrtime.bigint() - start) / iterations;
}

function templateCost(): void {
  const text = "SELECT id, name FROM users WHERE id = $1 AND status = $2";
  const N = 1_000_000;
  let sink = 0;
  const template = (k: number) => sql`SELECT id, name FROM users WHERE id = ${k} AND status = ${"active"}`;
  const templatePlan = (k: number) => {
    const s = template(k);
    sink += s.plan().bind(s.params).length;
  };
  const stringPlan = (k: number) => {
    sink += getPlan(text, ParameterStyle.NUMERIC, "postgres").bind([k, "active"]).length;
  };
  for (let round = 0; round < 3; round++) perCallNs(200_000, templatePlan) + perCallNs(200_000, stringPlan);
  const rows: [string, number, number][] = [];
  for (let round = 0; round < 3; round++) {
    rows.push(["sql`…` template (create)", perCallNs(N, template), 0]);
    rows.push(["sql`…` + plan + bind", perCallNs(N, templatePlan), 0]);
    rows.push(["string + plan + bind", perCallNs(N, stringPlan), 0]);
  }
  const best = new Map<string, number>();
  for (const [label, ns] of rows) best.set(label, Math.min(best.get(label) ?? Number.POSITIVE_INFINITY, ns));
  console.log("template cost, ns per call (best of 3 interleaved rounds):");
  for (const [label, ns] of best) console.log(`  ${label.padEnd(28)} ${(ns / 1000).toFixed(3)} µs`);
  if (sink === 42) console.log("");
}

function planCacheMemory(): void {
  setStatementCacheSize(1000);
  clearStatementCache();
  const before = heapAfterGc();
  for (let size = 1; size <= 1000; size++) {
    const rows = Array.from({ length: size }, (_, k) => ({
      id: k,
      name: `n${k}`,
      price: k / 2,
      active: true,
      sku: "x",
    }));
    const built = sql.insertInto("items").values(rows).build("postgres");
    getPlan(built.sql, ParameterStyle.NUMERIC, "postgres", ParameterStyle.NUMERIC);
  }
  const after = heapAfterGc();
  const stats = statementCacheStats();
  console.log("plan cache after multi-row builder INSERTs of batch sizes 1..1000 (5 columns):");
  console.log(
    `  cached plans ${stats.size}, estimated ${(stats.bytes / 2 ** 20).toFixed(1)} MiB of a ` +
      `${(stats.maxBytes / 2 ** 20).toFixed(0)} MiB budget; heap retained ${((after - before) / 2 ** 20).toFixed(1)} MiB`,
  );
  clearStatementCache();
}

export async function run(): Promise<void> {
  templateCost();
  planCacheMemory();
}
