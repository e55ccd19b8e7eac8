/** Pure build(): immutability, the value rule, injection safety, parameter naming, toSQL, dialect choice, errors. */
import "../../src/dialects/index.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deleteFrom, insertInto, merge, select, update } from "../../src/builder/index.js";
import { isQueryBuilder } from "../../src/core/builder-protocol.js";
import { DialectNotSupportedError, ParameterError, SQLBuilderError } from "../../src/core/errors.js";
import { sqlTag as sql } from "../../src/core/statement.js";
import type { Dialect, DialectName } from "../../src/core/types.js";

const DIALECTS: Dialect[] = ["postgres", "sqlite", "mysql", "duckdb", "oracle", "bigquery"];

describe("immutability", () => {
  it("a derived builder never changes its parent", () => {
    const base = select("id").from("products");
    const before = base.build().sql;
    const a = base.where({ id: 1 });
    const b = base.where({ id: 2 }).orderBy("id").limit(5);
    expect(base.build().sql).toBe(before);
    expect(a.build()).toEqual({ sql: 'SELECT "id" FROM "products" WHERE "id" = $1', parameters: [1] });
    expect(b.build()).toEqual({
      sql: 'SELECT "id" FROM "products" WHERE "id" = $1 ORDER BY "id" LIMIT $2',
      parameters: [2, 5],
    });
    expect(a).not.toBe(base);
    expect(Object.isFrozen(base) || base.node !== a.node).toBe(true);

    const ins = insertInto("t").values({ a: 1 });
    const ins2 = ins.values({ a: 2 });
    expect(ins.build().parameters).toEqual([1]);
    expect(ins2.build().parameters).toEqual([1, 2]);

    const m = merge().into("p", "t").using({ id: 1 }).on("t.id = src.id");
    const m1 = m.whenMatchedThenDelete();
    expect(() => m.build()).toThrow(/WHEN clause/);
    expect(m1.build().sql).toContain("THEN DELETE");

    const u = update("p").set({ a: 1 });
    u.set({ b: 2 }).where({ id: 1 });
    expect(u.build().sql).toBe('UPDATE "p" SET "a" = $1');
  });

  it("mutating the caller's rows array after using() does not change the statement", () => {
    const rows = [{ id: 1 }];
    const m = merge().into("p", "t").using(rows).on("t.id = src.id").whenMatchedThenDelete();
    rows.push({ id: 2 });
    expect(m.sourceRows()).toHaveLength(1);
  });

  it("every builder is a QueryBuilder", () => {
    for (const b of [select(), insertInto("t"), update("t"), deleteFrom("t"), merge()]) {
      expect(isQueryBuilder(b)).toBe(true);
    }
  });
});

describe("the value rule and injection safety", () => {
  const evil = 'x\'); DROP TABLE products; -- "quoted"';

  it("data positions bind every value, strings included", () => {
    const cases = [
      insertInto("products").values({ id: 1, name: evil }),
      update("products").set({ name: evil }).where({ note: evil }),
      deleteFrom("products").where({ name: evil }),
      select().from("products").where({ name: evil }).whereIn("tag", [evil]).whereLike("name", evil),
      merge()
        .into("products", "t")
        .using([{ id: 1, name: evil }])
        .on("t.id = src.id")
        .whenMatchedThenUpdate(["name"]),
    ];
    for (const b of cases) {
      for (const d of DIALECTS) {
        let out: { sql: string; parameters: unknown } | undefined;
        try {
          out = b.build(d);
        } catch (e) {
          expect(e).toBeInstanceOf(DialectNotSupportedError);
          continue;
        }
        expect(out.sql).not.toContain("DROP");
        expect(out.sql).not.toContain("--");
        expect(out.sql).not.toContain(";");
        expect(JSON.stringify(out.parameters)).toContain("DROP TABLE");
      }
    }
  });

  it("JSON shaped like a builder node stays data (the builder brand is a symbol)", () => {
    const forged = JSON.parse('{"node":{"kind":"rawStatement","expr":{"kind":"raw","sql":"1; DROP TABLE x"}}}');
    const out = insertInto("t").values({ doc: forged }).build();
    expect(out.sql).toBe('INSERT INTO "t" ("doc") VALUES ($1)');
    expect(out.parameters).toEqual([forged]);
    expect(select().from("t").where({ doc: forged }).build().sql).toBe('SELECT * FROM "t" WHERE "doc" = $1');
  });

  it("column arguments are identifiers: where-object keys, whereX columns, orderBy", () => {
    const b = select()
      .from("t")
      .where({ "1=1 OR x": 1 })
      .whereNull("a; --")
      .orderBy("name; DROP TABLE t")
      .orderBy(sql.raw("lower(name)"), "desc");
    expect(b.build().sql).toBe(
      'SELECT * FROM "t" WHERE "1=1 OR x" = $1 AND "a; --" IS NULL ORDER BY "name; DROP TABLE t", lower(name) DESC',
    );
  });

  it("identifiers from object keys are quoted, never spliced", () => {
    const key = 'na"me; --';
    const out = insertInto("t")
      .values({ [key]: 1 })
      .build("postgres");
    expect(out.sql).toBe('INSERT INTO "t" ("na""me; --") VALUES ($1)');
    expect(
      insertInto("t")
        .values({ [key]: 1 })
        .build("mysql").sql,
    ).toBe('INSERT INTO `t` (`na"me; --`) VALUES (?)');
  });

  it("action positions take strings as SQL, others bound; sql.value/sql.raw/sql.ref cross explicitly", () => {
    const b = insertInto("products")
      .values({ id: 1, name: "n", created: sql.raw("now()") })
      .onConflict("id")
      .doUpdate({ name: "EXCLUDED.name", hits: 1, note: sql.value("EXCLUDED.name"), ref: sql.ref("order") });
    expect(b.build()).toEqual({
      sql:
        'INSERT INTO "products" ("id", "name", "created") VALUES ($1, $2, now()) ON CONFLICT ("id") DO UPDATE SET ' +
        '"name" = EXCLUDED.name, "hits" = $3, "note" = $4, "ref" = "order"',
      parameters: [1, "n", 1, "EXCLUDED.name"],
    });
  });

  it("toSQL({ showParameters }) inlines correctly escaped literals per dialect", () => {
    const b = select()
      .from("t")
      .where({ s: "it's", n: 2, b: true, z: null, big: 12n, d: new Date(0), bytes: Buffer.from([1, 255]) });
    expect(b.toSQL("postgres", { showParameters: true })).toBe(
      `SELECT * FROM "t" WHERE "s" = 'it''s' AND "n" = 2 AND "b" = TRUE AND "z" IS NULL AND "big" = 12 AND ` +
        `"d" = '1970-01-01T00:00:00.000Z' AND "bytes" = '\\x01ff'::bytea`,
    );
    expect(b.toSQL("sqlite", { showParameters: true })).toContain('"b" = 1 AND');
    expect(b.toSQL("mysql", { showParameters: true })).toContain("`bytes` = X'01ff'");
    expect(select().from("t").where({ s: "a\\'b" }).toSQL("mysql", { showParameters: true })).toBe(
      "SELECT * FROM `t` WHERE `s` = 'a\\\\''b'",
    );
    expect(select().from("t").where({ s: "it's\n" }).toSQL("bigquery", { showParameters: true })).toBe(
      "SELECT * FROM `t` WHERE `s` = 'it\\'s\\n'",
    );
    expect(
      select()
        .from("t")
        .where({ id: [1, 2] })
        .toSQL("postgres", { showParameters: true }),
    ).toBe('SELECT * FROM "t" WHERE "id" = ANY(ARRAY[1, 2])');
    expect(select().from("t").where({ id: 1 }).toSQL()).toBe('SELECT * FROM "t" WHERE "id" = $1');
    expect(select().from("t").where({ id: 1 }).withDialect("oracle").toSQL({ showParameters: true })).toBe(
      'SELECT * FROM "T" WHERE "ID" = 1',
    );
    const m = merge().into("p", "t").using({ id: 1, name: "O'Brien" }).on("t.id = src.id").whenMatchedThenDelete();
    expect(m.toSQL("postgres", { showParameters: true })).toContain(
      `json_array_elements('[{"id":1,"name":"O''Brien"}]'::json)`,
    );
  });
});

describe("where()", () => {
  it("accepts any placeholder style and names values after their column", () => {
    const styles: [string, unknown][] = [
      ["price > ? AND qty < ?", [1, 2]],
      ["price > $1 AND qty < $2", [1, 2]],
      ["price > :price AND qty < :qty", { price: 1, qty: 2 }],
      ["price > %s AND qty < %s", [1, 2]],
    ];
    for (const [text, params] of styles) {
      const b = select()
        .from("t")
        .where(text, params as never);
      expect(b.build("postgres").sql).toBe('SELECT * FROM "t" WHERE price > $1 AND qty < $2');
      expect(b.build("oracle")).toEqual({
        sql: 'SELECT * FROM "T" WHERE price > :price AND qty < :qty',
        parameters: { price: 1, qty: 2 },
      });
    }
  });

  it("reuses one slot for a repeated named placeholder where the style allows", () => {
    const b = select().from("t").where("a = :v OR b = :v", { v: 7 });
    expect(b.build("postgres")).toEqual({ sql: 'SELECT * FROM "t" WHERE a = $1 OR b = $1', parameters: [7] });
    expect(b.build("sqlite")).toEqual({ sql: 'SELECT * FROM "t" WHERE a = ? OR b = ?', parameters: [7, 7] });
    expect(b.build("bigquery")).toEqual({ sql: "SELECT * FROM `t` WHERE a = @v OR b = @v", parameters: { v: 7 } });
  });

  it("keeps OR text grouped inside AND", () => {
    const b = select().from("t").where("a = 1 OR b = 2").where({ c: 3 }).orWhere({ d: 4 });
    expect(b.build().sql).toBe('SELECT * FROM "t" WHERE ((a = 1 OR b = 2) AND "c" = $1) OR "d" = $2');
  });

  it("accepts sql`` fragments and subqueries", () => {
    const b = select()
      .from("t")
      .where(sql`x = ${5}`)
      .whereIn("id", select("id").from("u").where({ ok: true }))
      .whereNotIn("k", [])
      .whereNull("gone");
    expect(b.build()).toEqual({
      sql: 'SELECT * FROM "t" WHERE x = $1 AND "id" IN (SELECT "id" FROM "u" WHERE "ok" = $2) AND "k" <> ALL($3) AND "gone" IS NULL',
      parameters: [5, true, []],
    });
    expect(select().from("t").whereIn("k", []).build("sqlite").sql).toBe('SELECT * FROM "t" WHERE 1 = 0');
  });

  it("raises ParameterError on a count mismatch or missing name", () => {
    expect(() => select().from("t").where("a = ? AND b = ?", [1])).toThrow(ParameterError);
    expect(() => select().from("t").where("a = ?", [1, 2])).toThrow(ParameterError);
    expect(() => select().from("t").where("a = :a", { b: 1 })).toThrow(/:a/);
  });
});

describe("select features", () => {
  it("distinct on, lateral joins, set operations, CTEs, locks", () => {
    const recent = select("o.total").from("orders", "o").where("o.user_id = u.id").orderBy("o.id", "desc").limit(1);
    const b = select("u.id", "r.total")
      .distinctOn("u.id")
      .from("users", "u")
      .leftJoinLateral(recent, "r")
      .crossJoin("regions")
      .orderBy("u.id")
      .orderBy("r.total", "asc", "first");
    expect(b.build().sql).toBe(
      'SELECT DISTINCT ON ("u"."id") "u"."id", "r"."total" FROM "users" AS "u" LEFT JOIN LATERAL (SELECT "o"."total" ' +
        'FROM "orders" AS "o" WHERE o.user_id = u.id ORDER BY "o"."id" DESC LIMIT $1) AS "r" ON TRUE CROSS JOIN "regions" ' +
        'ORDER BY "u"."id", "r"."total" ASC NULLS FIRST',
    );
    expect(() => b.build("mysql")).toThrow(/DISTINCT ON/);
    const tree = select("id")
      .from("tree")
      .withRecursive("tree", "SELECT 1 AS id UNION ALL SELECT id + 1 FROM tree WHERE id < 5", ["id"]);
    expect(tree.build().sql).toBe(
      'WITH RECURSIVE "tree" ("id") AS (SELECT 1 AS id UNION ALL SELECT id + 1 FROM tree WHERE id < 5) SELECT "id" FROM "tree"',
    );
    expect(tree.build("oracle").sql).toMatch(/^WITH "TREE" \("ID"\) AS/);
    const ex = select("id").from("a").except(select("id").from("b")).intersectAll(select("id").from("c"));
    expect(ex.build().sql).toBe('SELECT "id" FROM "a" EXCEPT SELECT "id" FROM "b" INTERSECT ALL SELECT "id" FROM "c"');
    expect(ex.build("oracle").sql).toBe(
      'SELECT "ID" FROM "A" MINUS SELECT "ID" FROM "B" INTERSECT ALL SELECT "ID" FROM "C"',
    );
    expect(select().from("q").forShare().of("q").nowait().build().sql).toBe(
      'SELECT * FROM "q" FOR SHARE OF "q" NOWAIT',
    );
    expect(select().from("q").offset(5).build("sqlite").sql).toBe('SELECT * FROM "q" LIMIT -1 OFFSET ?');
    expect(select().from("q").offset(5).build("postgres").sql).toBe('SELECT * FROM "q" OFFSET $1');
    expect(() => select().limit(-1)).toThrow(SQLBuilderError);
  });

  it("a dialect given to build() wins over the builder's own, which wins over postgres", () => {
    const b = select().from("t").where({ a: 1 });
    expect(b.build().sql).toContain("$1");
    // names read at run time are matched case-insensitively (the types take the lowercase names)
    const mine = b.withDialect("SQLite" as DialectName);
    expect(mine.dialect).toBe("sqlite");
    expect(mine.build().sql).toContain("?");
    expect(mine.build("pg").sql).toContain("$1");
    expect(mine.toSQL("postgresql")).toContain("$1");
    expect(() => b.build("nosql" as DialectName)).toThrow(
      /Known dialects: postgres, sqlite, mysql, duckdb, oracle, bigquery/,
    );
  });
});

describe("insert/update/delete", () => {
  it("tuples after columns(), fromSelect, returning", () => {
    const b = insertInto("t")
      .columns("a", "b")
      .values([
        [1, "x"],
        [2, "y"],
      ]);
    expect(b.build()).toEqual({
      sql: 'INSERT INTO "t" ("a", "b") VALUES ($1, $2), ($3, $4)',
      parameters: [1, "x", 2, "y"],
    });
    expect(insertInto("t").columns("a", "b").values([1, "x"]).returning("a").build().sql).toBe(
      'INSERT INTO "t" ("a", "b") VALUES ($1, $2) RETURNING "a"',
    );
    const fs = insertInto("archive").fromSelect(select("id").from("t").where({ old: true }), ["id"]);
    expect(fs.build().sql).toBe('INSERT INTO "archive" ("id") SELECT "id" FROM "t" WHERE "old" = $1');
    expect(fs.onConflict("id").doNothing().build("sqlite").sql).toBe(
      'INSERT INTO "archive" ("id") SELECT "id" FROM "t" WHERE "old" = ? ON CONFLICT ("id") DO NOTHING',
    );
    const unfiltered = insertInto("archive").fromSelect(select("id").from("t"), ["id"]).onConflict().doNothing();
    expect(unfiltered.build("sqlite").sql).toBe(
      'INSERT INTO "archive" ("id") SELECT "id" FROM "t" WHERE true ON CONFLICT DO NOTHING',
    );
    expect(deleteFrom("t").where({ id: 1 }).returning().build().sql).toBe(
      'DELETE FROM "t" WHERE "id" = $1 RETURNING *',
    );
    expect(update("t").set("n", sql.raw("n + 1")).build("bigquery").sql).toBe("UPDATE `t` SET `n` = n + 1 WHERE TRUE");
  });

  it("onDuplicateKeyUpdate on MySQL; refused elsewhere", () => {
    const b = insertInto("t").values({ id: 1, name: "n" }).onDuplicateKeyUpdate({ name: "VALUES(name)", hits: 0 });
    expect(b.build("mysql")).toEqual({
      sql: "INSERT INTO `t` (`id`, `name`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `name` = VALUES(name), `hits` = ?",
      parameters: [1, "n", 0],
    });
    expect(() => b.build("postgres")).toThrow(/onConflict/);
    expect(insertInto("t").values({ id: 1 }).onConflict().doUpdate(["id"]).build("mysql").sql).toBe(
      "INSERT INTO `t` (`id`) VALUES (?) ON DUPLICATE KEY UPDATE `id` = VALUES(`id`)",
    );
  });

  it("errors say what to do", () => {
    expect(() => insertInto("t").columns("a", "b").values([1])).toThrow(/2 column\(s\) \(a, b\) but a row has 1/);
    expect(() =>
      insertInto("t").values([
        { id: 1, name: "a" },
        { id: 2, title: "b" },
      ]),
    ).toThrow(/row 1 .*missing: name; extra: title/);
    expect(() => insertInto("t").values({ a: 1 }).values({ b: 2 })).toThrow(/missing: a; extra: b/);
    expect(() => insertInto("t").values([])).toThrow(SQLBuilderError);
    expect(() => insertInto("t").build()).toThrow(/\.values\(/);
    expect(() => update("t").build()).toThrow(/\.set\(/);
    expect(() => insertInto("t").values({ a: 1 }).returning("a").build("mysql")).toThrow(DialectNotSupportedError);
  });
});

describe("property: user data never becomes SQL text", () => {
  it("any string in a data position is bound, for every dialect", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (name, note) => {
        for (const d of DIALECTS) {
          const out = update("products").set({ name }).where({ note }).build(d);
          const params = Array.isArray(out.parameters) ? out.parameters : Object.values(out.parameters);
          expect(params).toEqual([name, note]);
          expect(out.sql).toMatch(
            /^UPDATE ("products"|`products`|"PRODUCTS") SET ("name"|`name`|"NAME") = (\?|\$1|:name|@name) WHERE ("note"|`note`|"NOTE") = (\?|\$2|:note|@note)$/,
          );
        }
      }),
    );
  });

  it("any key is a correctly quoted identifier (round-trips through unquoting)", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (key) => {
        for (const [d, q] of [
          ["postgres", '"'],
          ["mysql", "`"],
        ] as const) {
          const b = insertInto("t").values({ [key]: 1 });
          if (key.includes("\u0000")) {
            expect(() => b.build(d)).toThrow(SQLBuilderError); // no dialect can name it
            continue;
          }
          const text = b.build(d).sql;
          const ident = text.slice(`INSERT INTO ${q}t${q} (`.length, text.indexOf(") VALUES"));
          // Every identifier is quoted, whatever it looks like.
          expect(ident.startsWith(q) && ident.endsWith(q)).toBe(true);
          expect(
            ident
              .slice(1, -1)
              .split(q + q)
              .join(q),
          ).toBe(key);
          expect(ident.slice(1, -1).replaceAll(q + q, "")).not.toContain(q);
        }
      }),
    );
  });
});

describe("sources and predicates from sql``", () => {
  it("wraps sql`` used as a table, splices sql.raw, renders EXISTS", () => {
    const b = select("g")
      .from(sql`SELECT generate_series(1, ${3}) AS g`, "s")
      .crossJoin(sql.raw("generate_series(1, 2)"), "h")
      .whereExists(select(sql.raw("1")).from("u").where("u.id = s.g"))
      .whereNotExists(select(sql.raw("1")).from("v"));
    expect(b.build()).toEqual({
      sql:
        'SELECT "g" FROM (SELECT generate_series(1, $1) AS g) AS "s" CROSS JOIN generate_series(1, 2) AS "h" ' +
        'WHERE EXISTS (SELECT 1 FROM "u" WHERE u.id = s.g) AND NOT EXISTS (SELECT 1 FROM "v")',
      parameters: [3],
    });
    const m = merge()
      .into("p", "t")
      .using(sql`SELECT * FROM staging WHERE batch = ${7}`, "src")
      .on("t.id = src.id")
      .whenMatchedThenDelete();
    expect(m.build().sql).toBe(
      'MERGE INTO "p" AS "t" USING (SELECT * FROM staging WHERE batch = $1) AS "src" ON t.id = src.id WHEN MATCHED THEN DELETE',
    );
  });
});
