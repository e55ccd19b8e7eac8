/**
 * The builder executed on real PostgreSQL (PGlite, in memory): the seed's MERGE and upsert, bulk MERGE through one
 * jsonb parameter, catalog-typed NULL columns, expression SET, conditional delete, ON CONFLICT … WHERE.
 * One PGlite instance for the whole file: it takes seconds to start.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { insertInto, merge, select, upsert } from "../../src/builder/index.js";
import { SQLSpec, sql } from "../../src/index.js";

const spec = new SQLSpec();
const db = spec.addConfig(new PgliteConfig());

beforeAll(async () => {
  await db.withSession((s) =>
    s.executeScript(`
      CREATE TABLE products (id integer PRIMARY KEY, name text NOT NULL, price numeric(10,2));
      CREATE TABLE bulk (id integer PRIMARY KEY, name text, score double precision);
      CREATE TABLE notes (id integer PRIMARY KEY, note text, seen_at timestamptz, tags text[]);
      CREATE TABLE stock (sku text PRIMARY KEY, stock integer NOT NULL, discontinued boolean NOT NULL DEFAULT false);
    `),
  );
});
afterAll(() => spec.closeAllPools());

const count = (table: string) =>
  db.withSession((s) => s.selectValue<number>(select(sql.raw("count(*)::int AS n")).from(table)));

describe("MERGE on PGlite", () => {
  it("runs the seed's single-row MERGE", async () => {
    const m = merge()
      .into("products", "t")
      .using({ id: 1, name: "Widget", price: 9.99 }, "src")
      .on("t.id = src.id")
      .whenMatchedThenUpdate({ name: "src.name", price: "src.price" })
      .whenNotMatchedThenInsert({ id: "src.id", name: "src.name", price: "src.price" });
    const r = await db.withSession((s) => s.execute(m));
    expect(r.rowsAffected).toBe(1);
    const again = await db.withSession((s) => s.execute(m.using({ id: 1, name: "Widget 2", price: 10.5 }, "src")));
    expect(again.rowsAffected).toBe(1);
    const row = await db.withSession((s) =>
      s.selectOne(select("name", sql.raw("price::text AS price")).from("products").where({ id: 1 })),
    );
    expect(row).toEqual({ name: "Widget 2", price: "10.50" });
  });

  it("merges 2,000 rows through one parameter, then 1,000 more half overlapping", async () => {
    const mk = (from: number, n: number, tag: string) =>
      merge()
        .into("bulk", "t")
        .using(
          Array.from({ length: n }, (_, i) => ({ id: from + i, name: `${tag}${from + i}`, score: (from + i) / 3 })),
          "src",
        )
        .on("t.id = src.id")
        .whenMatchedThenUpdate(["name", "score"])
        .whenNotMatchedThenInsert(["id", "name", "score"]);
    const first = mk(0, 2000, "a");
    expect(first.build().parameters).toHaveLength(1);
    const r1 = await db.withSession((s) => s.execute(first));
    expect(r1.rowsAffected).toBe(2000);
    if (r1.metadata?.strategy === undefined) expect(r1.parameters).toHaveLength(1);
    expect(await count("bulk")).toBe(2000);

    const r2 = await db.withSession((s) => s.execute(mk(1500, 1000, "b")));
    expect(r2.rowsAffected).toBe(1000);
    expect(await count("bulk")).toBe(2500);
    const updated = await db.withSession((s) =>
      s.selectValue<number>(select(sql.raw("count(*)::int")).from("bulk").where("name LIKE ?", ["b%"])),
    );
    expect(updated).toBe(1000);
    const kept = await db.withSession((s) => s.selectOne(select("name").from("bulk").where({ id: 1499 })));
    expect(kept).toEqual({ name: "a1499" });
  });

  it("types an all-NULL column from the target table (text, timestamptz, text[]), on the server", async () => {
    const m = merge()
      .into("notes", "t")
      .using(
        [
          { id: 1, note: null, seen_at: null, tags: null },
          { id: 2, note: null, seen_at: null, tags: null },
        ],
        "src",
      )
      .on("t.id = src.id")
      .whenNotMatchedThenInsert(["id", "note", "seen_at", "tags"]);
    // Inferred from values every column would be text; timestamptz/text[] would then fail to insert. The server
    // types the source from the target instead, the same with or without a session.
    expect(m.build().sql).toContain('json_populate_recordset(NULL::"notes", $1::json)');
    const r = await db.withSession((s) => s.execute(m));
    expect(r.rowsAffected).toBe(2);
    expect(await count("notes")).toBe(2);
  });

  it("applies an expression SET (t.stock + src.qty) and a conditional delete", async () => {
    await db.withSession((s) =>
      s.execute(
        insertInto("stock").values([
          { sku: "a", stock: 10, discontinued: false },
          { sku: "b", stock: 5, discontinued: false },
        ]),
      ),
    );
    const m = merge()
      .into("stock", "t")
      .using(
        [
          { sku: "a", qty: 3, gone: false },
          { sku: "b", qty: 1, gone: true },
          { sku: "c", qty: 7, gone: false },
        ],
        "src",
      )
      .on("t.sku = src.sku")
      .whenMatchedThenDelete({ where: "src.gone" })
      .whenMatchedThenUpdate({ stock: "t.stock + src.qty" })
      .whenNotMatchedThenInsert({ sku: "src.sku", stock: "src.qty" });
    const r = await db.withSession((s) => s.execute(m));
    expect(r.rowsAffected).toBe(3);
    const rows = await db.withSession((s) => s.select(select("sku", "stock").from("stock").orderBy("sku")));
    expect(rows).toEqual([
      { sku: "a", stock: 13 },
      { sku: "c", stock: 7 },
    ]);
  });

  it("runs the seed's sql.upsert example unchanged", async () => {
    const r = await db.withSession((s) =>
      s.execute(
        upsert("products", { dialect: "postgres" })
          .using([{ id: 1, name: "Widget", price: 9.99 }], "src")
          .on("t.id = src.id")
          .whenMatchedThenUpdate({ name: "src.name", price: "src.price" })
          .whenNotMatchedThenInsert({ id: "src.id", name: "src.name", price: "src.price" }),
      ),
    );
    expect(r.rowsAffected).toBe(1);
    const row = await db.withSession((s) =>
      s.selectOne(select("name", sql.raw("price::text AS price")).from("products").where({ id: 1 })),
    );
    expect(row).toEqual({ name: "Widget", price: "9.99" });
  });
});

describe("INSERT … ON CONFLICT on PGlite", () => {
  it("DO UPDATE with a where only updates rows passing it", async () => {
    await db.withSession((s) =>
      s.execute(
        insertInto("products").values([
          { id: 10, name: "cheap", price: 1 },
          { id: 11, name: "dear", price: 100 },
        ]),
      ),
    );
    const b = insertInto("products")
      .values([
        { id: 10, name: "cheap v2", price: 2 },
        { id: 11, name: "dear v2", price: 50 },
        { id: 12, name: "new", price: 5 },
      ])
      .onConflict("id")
      .doUpdate({ name: "EXCLUDED.name", price: "EXCLUDED.price" }, { where: "products.price < EXCLUDED.price" })
      .returning("id");
    const r = await db.withSession((s) => s.execute(b));
    expect(r.data.map((x) => (x as { id: number }).id).sort()).toEqual([10, 12]);
    const rows = await db.withSession((s) =>
      s.select(select("id", "name").from("products").whereIn("id", [10, 11, 12]).orderBy("id")),
    );
    expect(rows).toEqual([
      { id: 10, name: "cheap v2" },
      { id: 11, name: "dear" },
      { id: 12, name: "new" },
    ]);
  });
});
