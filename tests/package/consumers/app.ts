/**
 * A pg-only consumer app. tests/package/consumers.test.ts compiles it against the packed package as an ES module
 * (node16), as CommonJS (node16, `require`) and for a bundler (esbuild), then runs each build on the server.
 */
import { type SQLResult, SQLSpec, sql, UniqueViolationError } from "sqlspec";
import { PgConfig } from "sqlspec/adapters/pg";

interface Product {
  id: number;
  name: string;
  price: string;
}

async function main(): Promise<void> {
  const url = process.env.SQLSPEC_TEST_PG_URL;
  if (url === undefined) throw new Error("SQLSPEC_TEST_PG_URL is not set");
  const table = `consumer_${process.argv[2] ?? "app"}`;
  const spec = new SQLSpec();
  const db = spec.addConfig(new PgConfig({ poolConfig: { connectionString: url, maxSize: 2 } }));
  try {
    await db.withSession(async (session) => {
      await session.execute(`DROP TABLE IF EXISTS ${table}`);
      await session.execute(`CREATE TABLE ${table} (id int PRIMARY KEY, name text UNIQUE, price numeric(10,2))`);
      const inserted = await session.execute(`INSERT INTO ${table} VALUES (:id, :name, :price)`, {
        id: 1,
        name: "Widget",
        price: "9.99",
      });
      const row = await session.selectOne<Product>(`SELECT * FROM ${table} WHERE id = ?`, [1]);
      const upsert = sql
        .upsert(table, { dialect: "postgres" })
        .using([{ id: 1, name: "Widget", price: 8.5 }], "src")
        .on("t.id = src.id")
        .whenMatchedThenUpdate({ price: "src.price" })
        .whenNotMatchedThenInsert({ id: "src.id", name: "src.name", price: "src.price" });
      const merged: SQLResult = await session.execute(upsert);
      let code: string | undefined;
      try {
        await session.execute(sql`INSERT INTO ${sql.ref(table)} VALUES (${2}, ${"Widget"}, ${1})`);
      } catch (err) {
        if (!(err instanceof UniqueViolationError)) throw err;
        code = err.code;
      }
      const price = await session.selectValue<string>(`SELECT price FROM ${table} WHERE id = $1`, [row.id]);
      await session.execute(`DROP TABLE ${table}`);
      const report = { inserted: inserted.rowsAffected, name: row.name, merged: merged.rowsAffected, code, price };
      console.log(JSON.stringify(report));
    });
  } finally {
    await spec.closeAllPools();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
