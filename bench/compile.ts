/**
 * Compile-cache hit vs cold compile, µs per statement, same run. A "hit" is what every repeated session call pays:
 * getPlan (cache lookup) + bind. "Cold" compiles a unique text every time (lex, resolve, render, cache insert).
 */
import { clearStatementCache, getPlan, setStatementCacheSize } from "../src/core/compiler.js";
import { ParameterStyle } from "../src/core/types.js";

const STATEMENTS: { label: string; text: string; params: unknown[] | Record<string, unknown> }[] = [
  { label: "point select $1", text: "SELECT id, name, price FROM products WHERE id = $1", params: [42] },
  {
    label: "named insert (5 cols)",
    text: "INSERT INTO products (id, name, price, active, tags) VALUES (:id, :name, :price, :active, :tags) RETURNING id",
    params: { id: 1, name: "Widget", price: 9.5, active: true, tags: ["a"] },
  },
  {
    label: "join + paging, ?",
    text: `SELECT p.id, p.name, c.label -- catalog view
FROM products p JOIN categories c ON c.id = p.category_id
WHERE p.price > ? AND p.name ILIKE ? AND c.meta ?| array['x']
ORDER BY p.name LIMIT ? OFFSET ?`,
    params: [10, "%w%", 20, 40],
  },
];

function time(iterations: number, fn: (k: number) => void): number {
  const start = performance.now();
  for (let k = 0; k < iterations; k++) fn(k);
  return ((performance.now() - start) * 1000) / iterations;
}

export async function run(): Promise<void> {
  const target = ParameterStyle.NUMERIC;
  console.log("µs per statement (getPlan + bind), same run:");
  console.log("  hit   = cached plan; cold = compile with the cache off (lex, resolve, render);");
  console.log(
    "  churn = a unique text into a full 1000-entry LRU (compile + insert + evict + the GC of retained plans)",
  );
  console.log("statement                   hit µs   cold µs  churn µs  cold/hit");
  for (const { label, text, params } of STATEMENTS) {
    const unique = (tag: string, n: number) => Array.from({ length: n }, (_, k) => `${text} -- ${tag}${k}`);
    setStatementCacheSize(1000);
    clearStatementCache();
    // warm up every path so the JIT has seen them
    for (let k = 0; k < 20_000; k++) getPlan(text, target, "postgres").bind(params);
    for (const t of unique("w", 5_000)) getPlan(t, target, "postgres").bind(params);
    clearStatementCache();
    getPlan(text, target, "postgres");
    const hit = time(500_000, () => {
      getPlan(text, target, "postgres").bind(params);
    });
    const coldTexts = unique("c", 20_000);
    setStatementCacheSize(0);
    const cold = time(coldTexts.length, (k) => {
      getPlan(coldTexts[k]!, target, "postgres").bind(params);
    });
    setStatementCacheSize(1000);
    for (const t of unique("f", 1_000)) getPlan(t, target, "postgres"); // fill the LRU
    const churnTexts = unique("x", 20_000);
    const churn = time(churnTexts.length, (k) => {
      getPlan(churnTexts[k]!, target, "postgres").bind(params);
    });
    console.log(
      `${label.padEnd(26)} ${hit.toFixed(3).padStart(7)} ${cold.toFixed(2).padStart(9)} ${churn.toFixed(2).padStart(9)} ${(cold / hit).toFixed(0).padStart(8)}×`,
    );
  }
  setStatementCacheSize(1000);
  clearStatementCache();
}

// allow `tsx bench/compile.ts` directly
if (import.meta.url === `file://${process.argv[1]}`) await run();
