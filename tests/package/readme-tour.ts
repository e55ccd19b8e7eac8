/**
 * The README's quick tour, verbatim below the marker (tests/package/packaging.test.ts keeps the two equal).
 * `npm run typecheck` compiles it against src/ ("sqlspec" is mapped there in tsconfig.json), and
 * tests/package/consumers.test.ts compiles it against the packed package under strict, exactOptionalPropertyTypes
 * and noUncheckedIndexedAccess, with and without skipLibCheck, then runs it on PGlite.
 */
// ---- README tour ----
import { SQLSpec, sql, UniqueViolationError } from "sqlspec";
import { PgliteConfig } from "sqlspec/adapters/pglite"; // or PgConfig from "sqlspec/adapters/pg", PostgresJsConfig

await using spec = new SQLSpec();                       // closes every pool at the end of the scope
const db = spec.addConfig(new PgliteConfig());           // addConfig returns the config: it is the handle

await db.withSession(async (session) => {
  await session.execute("CREATE TABLE products (id int PRIMARY KEY, name text UNIQUE, price numeric(10,2))");

  // Any placeholder style is converted to the driver's own; named ones are deduplicated.
  await session.execute("INSERT INTO products VALUES (:id, :name, :price)", { id: 1, name: "Widget", price: "9.99" });
  const p = await session.selectOne<{ id: number; name: string }>("SELECT * FROM products WHERE id = ?", [1]);

  // Templates bind every interpolation; sql.raw / sql.ref / sql.json cross the line explicitly.
  const cheap = await session.select(sql`SELECT * FROM ${sql.ref("products")} WHERE price < ${10}`);

  // The builder: immutable, rendered for the session's own dialect and server.
  const upsert = sql.upsert("products", { dialect: "postgres" })
    .using([{ id: 1, name: "Widget", price: 9.99 }], "src")
    .on("t.id = src.id")
    .whenMatchedThenUpdate({ name: "src.name", price: "src.price" })
    .whenNotMatchedThenInsert({ id: "src.id", name: "src.name", price: "src.price" });
  const r = await session.execute(upsert);               // MERGE … USING json_populate_recordset(NULL::"products", $1) …
  console.log(r.rowsAffected, r.operationType);          // 1 "MERGE" — the server's count from the command tag

  try {
    await session.execute("INSERT INTO products VALUES ($1, $2, $3)", [2, "Widget", 1]);
  } catch (err) {
    if (err instanceof UniqueViolationError) console.log(err.sqlState, err.constraint); // 23505 products_name_key
  }

  await session.transaction(async (tx) => {              // throw → ROLLBACK; nested → SAVEPOINT
    await tx.execute("UPDATE products SET price = price * 0.9");
    await tx.savepoint("before_clear");                  // named savepoints: the name must be a plain identifier
    await tx.execute("UPDATE products SET price = 0");
    await tx.rollbackToSavepoint("before_clear");        // the 0.9 stays, the 0 is undone
  });

  // Several statements, one result each: one round trip on pg (a pipeline), atomic unless { transaction: false }.
  const [added, count] = await session.executeStack([
    ["INSERT INTO products VALUES (?, ?, ?)", [3, "Gadget", "4.50"]],
    "SELECT count(*) AS n FROM products",
  ]);
  console.log(added?.rowsAffected, count?.scalar());     // 1 2

  // The plan, values still bound: a parsed JSON document (or text lines). `analyze` runs the statement;
  // `rollback: true` runs it in a transaction that is rolled back, so explained DML leaves nothing behind.
  const { plan } = await session.explain("SELECT * FROM products WHERE id = ?", [1], { format: "json" });
  const { lines } = await session.explain(sql.deleteFrom("products").where({ id: 3 }), undefined, {
    analyze: true,
    rollback: true,
  });
  console.log(Array.isArray(plan), lines.length > 0);    // true true ([{ Plan: { "Node Type": … } }], "Delete on …")

  // Replace a table's rows: emptied and loaded in one transaction, so a failed load leaves the old rows.
  await session.loadRecords("products", [{ id: 4, name: "Gizmo", price: "1.00" }], { overwrite: true });

  // COPY by hand: FROM STDIN takes its data as { source } (a string, bytes, (async) iterables, a Node stream);
  // TO STDOUT resolves with the data as byte chunks (or writes them to { sink }). rowsAffected is the COPY tag's.
  await session.execute("COPY products (id, name, price) FROM STDIN WITH (FORMAT csv)", { source: "5,Doohickey,2.50\n" });
  const out = await session.execute("COPY products TO STDOUT WITH (FORMAT csv)");
  console.log(out.rowsAffected, Buffer.concat(out.data as unknown as Uint8Array[]).toString()); // 2 "4,Gizmo,1.00\n5,…"

  const dd = session.dataDictionary;                     // what the server can do, and its types
  console.log(await dd.supports("window_functions"), await dd.getOptimalType("uuid")); // true "uuid"
});
