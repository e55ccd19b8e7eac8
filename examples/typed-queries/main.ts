/**
 * Typed queries from .sql files, end to end:
 *   1. write SQL in examples/typed-queries/sql/ (`-- name:` blocks; folders become namespaces)
 *   2. generate the module (no server needed: the schema is applied to an in-memory PGlite):
 *        npx sqlspec generate examples/typed-queries/sql --schema examples/typed-queries/schema.sql \
 *          --out examples/typed-queries/queries.gen.ts --import-from ../../src/index.js
 *      (in your own project leave out --import-from: the module imports from "sqlspec")
 *   3. call the queries: parameters and rows are typed from the generated objects
 *        npx tsx examples/typed-queries/main.ts
 */
import { readFileSync } from "node:fs";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { SQLSpec } from "../../src/index.js";
import { queries } from "./queries.gen.js";

await using spec = new SQLSpec();
const db = spec.addConfig(new PgliteConfig());

await db.withSession(async (session) => {
  await session.executeScript(readFileSync(new URL("./schema.sql", import.meta.url), "utf8"));

  const ada = await session.selectOne(queries.authors.createAuthor, {
    name: "Ada Lovelace",
    born: new Date("1815-12-10"),
  });
  await session.selectOne(queries.authors.createAuthor, { name: "Anonymous", born: null }); // born is nullable
  await session.execute(queries.books.addBook, {
    author_id: ada.id,
    title: "Notes on the Analytical Engine",
    genre: "science", // "poetry" would not compile: genre is the enum's union
    price: "12.50", // numeric: an exact string (a number is accepted too)
    published: null,
  });

  for (const author of await session.select(queries.authors.withBookCounts)) {
    // author.latest_title is `string | null` (outer join), author.books is `number` (count is never null)
    console.log(`${author.name}: ${author.books} book(s), latest: ${author.latest_title ?? "none"}`);
  }
  const science = await session.select(queries.books.byGenre, { genre: "science" });
  console.log(science.map((b) => `${b.title} by ${b.author}, ${b.price}`).join("\n"));
  const cheapest = await session.selectOneOrNull(queries.books.cheapest);
  console.log(`cheapest: ${cheapest?.title.toUpperCase() ?? "(no books)"}`);
});
