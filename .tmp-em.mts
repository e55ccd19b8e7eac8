import { DuckdbConfig } from "./src/adapters/duckdb/index.ts";
const db = new DuckdbConfig();
await db.withSession(async (s) => {
  await s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR, n INTEGER)");
  const cases: [string, unknown[][]][] = [
    ["dup", [[1, "a", 1], [1, "b", 1]]],
    ["conv", [[1, "a", 1], [2, "b", "abc"]]],
    ["surrogate", [[1, "a", 1], [2, "\ud800", 1]]],
    ["bigint", [[1, "a", 1], [2, "b", 2n ** 200n]]],
    ["obj", [[1, "a", 1], [2, "b", Symbol("x")]]],
    ["arity", [[1, "a", 1], [2, "b"]]],
  ];
  for (const [name, sets] of cases) {
    await s.begin();
    await s.execute("INSERT INTO t VALUES (100, 'pre', 0)");
    const e = await s.executeMany("INSERT INTO t VALUES (?, ?, ?)", sets).catch((e) => e);
    console.log(name, e?.constructor?.name, String(e?.message).slice(0, 80), "state:", s.adapter.state(s.conn).transaction);
    const c = await s.commit().catch((e) => e?.constructor?.name);
    console.log("  commit:", c, await s.select("SELECT id FROM t"));
    await s.execute("DELETE FROM t");
  }
});
await db.close();
