/**
 * `npm run bench` runs every part; `npm run bench -- upsert` (or compile, build, point, arrow, …) runs the named parts only.
 * Each part compares sqlspec with the raw driver / other libraries in one process, interleaved, and prints ratios.
 */
const parts: Record<string, () => Promise<{ run: () => Promise<void> }>> = {
  compile: () => import("./compile.js"),
  core: () => import("./core.js"),
  build: () => import("./build.js"),
  point: () => import("./point-query.js"),
  pglite: () => import("./pglite.js"),
  upsert: () => import("./upsert.js"),
  mysql: () => import("./mysql.js"),
  sqlite: () => import("./sqlite.js"),
  duckdb: () => import("./duckdb.js"),
  stack: () => import("./stack.js"),
  trips: () => import("./round-trips.js"),
  arrow: () => import("./arrow.js"),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const names = wanted.length > 0 ? wanted : Object.keys(parts);
for (const name of names) {
  const load = parts[name];
  if (!load) {
    console.error(`unknown bench part "${name}"; known: ${Object.keys(parts).join(", ")}`);
    process.exit(2);
  }
  console.log(`\n=== bench: ${name} ===`);
  await (await load()).run();
}
