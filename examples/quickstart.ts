/**
 * sqlspec quickstart: embedded PostgreSQL (PGlite), no server and no configuration.
 *   npm start                     → runs on PGlite in memory
 *   DATABASE_URL=postgres://… npm start → runs the same code on a PostgreSQL server (node-postgres adapter)
 */
import { PgliteConfig } from "../src/adapters/pglite/index.js";
import { type DatabaseConfig, SQLSpec, sql, UniqueViolationError } from "../src/index.js";

interface Product {
  id: number;
  name: string;
  price: string; // numeric comes back as an exact string
}

const started = performance.now();
await using spec = new SQLSpec();

async function makeConfig(): Promise<DatabaseConfig<any, any, any>> {
  const url = process.env.DATABASE_URL;
  if (!url) return new PgliteConfig();
  const { PgConfig } = await import("../src/adapters/pg/index.js");
  return new PgConfig({ poolConfig: { connectionString: url, maxSize: 2 } });
}

const db = spec.addConfig(await makeConfig());
console.log(`Database: ${process.env.DATABASE_URL ? "PostgreSQL server (pg)" : "embedded PGlite (in memory)"}`);

await db.withSession(async (session) => {
  await session.executeScript(`
    DROP TABLE IF EXISTS products;
    CREATE TABLE products (id integer PRIMARY KEY, name text NOT NULL UNIQUE, price numeric(10,2) NOT NULL);
  `);
  console.log("Created table products");

  // The seed's single-row upsert: rendered as a PostgreSQL MERGE from jsonb_to_recordset, values bound as one parameter.
  const upsert = sql
    .upsert("products", { dialect: "postgres" })
    .using([{ id: 1, name: "Widget", price: 9.99 }], "src")
    .on("t.id = src.id")
    .whenMatchedThenUpdate({ name: "src.name", price: "src.price" })
    .whenNotMatchedThenInsert({ id: "src.id", name: "src.name", price: "src.price" });
  const first = await session.execute(upsert);
  // The session renders the builder for its own server, typing the recordset columns from the table's catalog.
  console.log(`\nRan:\n  ${first.statement}\n  parameters: ${JSON.stringify(first.parameters)}`);
  console.log(`${first.operationType}: rowsAffected = ${first.rowsAffected} (inserted)`);
  const again = await session.execute(upsert);
  console.log(`MERGE again: rowsAffected = ${again.rowsAffected} (updated in place)`);

  const inserted = await session.execute("INSERT INTO products (id, name, price) VALUES (:id, :name, :price)", {
    id: 2,
    name: "Gadget",
    price: "19.50",
  });
  console.log(`INSERT with :named placeholders: rowsAffected = ${inserted.rowsAffected}`);

  const rows = await session.select<Product>("SELECT id, name, price FROM products ORDER BY id");
  console.log("\nRows:");
  console.table(rows);

  const cheapest = await session.selectOne<Product>(sql`SELECT * FROM products WHERE price < ${10} ORDER BY price`);
  console.log(`selectOne via sql\`\` template: ${cheapest.name} at ${cheapest.price}`);

  try {
    await session.execute("INSERT INTO products (id, name, price) VALUES ($1, $2, $3)", [3, "Widget", 1]);
  } catch (err) {
    if (err instanceof UniqueViolationError) {
      console.log(`\nTyped error: ${err.name} (sqlState ${err.sqlState}, constraint ${err.constraint})`);
      console.log(`  ${err.message}`);
    } else {
      throw err;
    }
  }
  console.log(`Session still usable: ${await session.selectValue("SELECT count(*) FROM products")} products`);

  // The seed's bulk upsert: thousands of rows in one call. session.upsert picks the fastest strategy for the row
  // count and the server (one JSON parameter, or COPY into a staging table, then MERGE) and says which it ran.
  const catalog: Product[] = Array.from({ length: 3000 }, (_, i) => ({
    id: i + 1,
    name: `Product ${i + 1}`,
    price: (10 + (i % 90) + 0.5).toFixed(2),
  }));
  const upserted = await session.upsert("products", catalog, { on: ["id"], update: ["name", "price"] });
  console.log(
    `\nsession.upsert of ${catalog.length} rows: rowsAffected = ${upserted.rowsAffected}, ` +
      `strategy = ${upserted.metadata.strategy}`,
  );

  // The same through the builder: sql.merge()…using(rows), half the rows new and half already there.
  const repriced = catalog.map((p) => ({
    id: p.id + 1500,
    name: `Product ${p.id + 1500}`,
    price: (Number(p.price) * 0.9).toFixed(2),
  }));
  const merge = sql
    .merge()
    .into("products", "t")
    .using(repriced, "src")
    .on("t.id = src.id")
    .whenMatchedThenUpdate({ price: "src.price" })
    .whenNotMatchedThenInsert({ id: "src.id", name: "src.name", price: "src.price" });
  const merged = await session.execute(merge);
  console.log(
    `sql.merge() of ${repriced.length} rows: rowsAffected = ${merged.rowsAffected}, ` +
      `strategy = ${merged.metadata.strategy ?? "one statement"}`,
  );
  console.log(`Now ${await session.selectValue("SELECT count(*) FROM products")} products`);
});

console.log(`\nDone in ${((performance.now() - started) / 1000).toFixed(1)} s`);
