/**
 * Builder defects (issue 9) and the identifier rules (issue 8 §5, §6), on pure build(): every call either takes
 * effect or raises SQLBuilderError; a missing part is never rendered as a parameter or as empty text; names are
 * parsed (quoted parts understood) and every generated identifier is quoted by the dialect's one quoting function.
 */
import { describe, expect, it } from "vitest";
import {
  deleteFrom,
  insertInto,
  merge,
  select,
  type UpsertInsertBuilder,
  update,
  upsert,
} from "../../src/builder/index.js";
import { DialectNotSupportedError, SQLBuilderError } from "../../src/core/errors.js";
import { parseNameWithAlias, quoteIdent, quoteQualified } from "../../src/core/identifiers.js";
import { sql } from "../../src/index.js";

const row = { id: 1, name: "Widget" };

describe("sql.upsert on sqlite/mysql/duckdb takes the insert form too", () => {
  it("values().onConflict().doUpdate() renders ON CONFLICT (sqlite, duckdb) and ON DUPLICATE KEY UPDATE (mysql)", () => {
    for (const d of ["sqlite", "duckdb"] as const) {
      expect(
        upsert("products", { dialect: d }).values(row).onConflict("id").doUpdate({ name: "excluded.name" }).build(),
      ).toEqual({
        sql: 'INSERT INTO "products" ("id", "name") VALUES (?, ?) ON CONFLICT ("id") DO UPDATE SET "name" = excluded.name',
        parameters: [1, "Widget"],
      });
    }
    // ON DUPLICATE KEY UPDATE fires on any unique key: MySQL takes onConflict() without columns
    expect(
      upsert("products", { dialect: "mysql" }).values(row).onConflict().doUpdate({ name: "excluded.name" }).build(),
    ).toEqual({
      sql: "INSERT INTO `products` (`id`, `name`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `name` = VALUES(`name`)",
      parameters: [1, "Widget"],
    });
    expect(
      upsert("products", { dialect: "mysql" })
        .values([row, { id: 2, name: "Gadget" }])
        .onDuplicateKeyUpdate({ name: "VALUES(name)" })
        .build(),
    ).toEqual({
      sql: "INSERT INTO `products` (`id`, `name`) VALUES (?, ?), (?, ?) ON DUPLICATE KEY UPDATE `name` = VALUES(name)",
      parameters: [1, "Widget", 2, "Gadget"],
    });
    expect(upsert("products", { dialect: "sqlite" }).values(row).onConflict("id").doNothing().build().sql).toBe(
      'INSERT INTO "products" ("id", "name") VALUES (?, ?) ON CONFLICT ("id") DO NOTHING',
    );
  });

  it("mixing the insert form with the MERGE-shaped calls is refused, in either order", () => {
    const asInsert = upsert("products", { dialect: "sqlite" }).values(row);
    expect(() => asInsert.using([row])).toThrow(SQLBuilderError);
    expect(() => asInsert.on("t.id = src.id")).toThrow(/already uses the insert form/);
    // a JavaScript caller (the types leave out what SQLite cannot render) still gets a clear error
    const asMerge = upsert("products", { dialect: "sqlite" }).using([row]) as UpsertInsertBuilder;
    expect(() => asMerge.values(row)).toThrow(/already uses the MERGE-shaped calls/);
    expect(() => asMerge.onConflict("id")).toThrow(SQLBuilderError);
    expect(() => asMerge.onDuplicateKeyUpdate({ name: "x" })).toThrow(SQLBuilderError);
  });
});

describe("an empty update is an error, never `SET` with nothing after it", () => {
  it("whenMatchedThenUpdate({}) / ([]), doUpdate({}), onDuplicateKeyUpdate({}), set({}), BY SOURCE update({})", () => {
    const m = merge().into("p", "t").using([row], "src").on("t.id = src.id");
    expect(() => m.whenMatchedThenUpdate({})).toThrow(SQLBuilderError);
    expect(() => m.whenMatchedThenUpdate([])).toThrow(SQLBuilderError);
    expect(() => m.whenNotMatchedBySourceThenUpdate({})).toThrow(SQLBuilderError);
    expect(() => insertInto("p").values(row).onConflict("id").doUpdate({})).toThrow(SQLBuilderError);
    expect(() => insertInto("p").values(row).onConflict("id").doUpdate([])).toThrow(SQLBuilderError);
    expect(() => insertInto("p").values(row).onDuplicateKeyUpdate({})).toThrow(SQLBuilderError);
    expect(() => update("p").set({})).toThrow(SQLBuilderError);
    const u = upsert("p", { dialect: "duckdb" }).using([row]).on("t.id = src.id");
    expect(() => u.whenMatchedThenUpdate({})).toThrow(SQLBuilderError);
  });
});

describe("a missing required part is a SQLBuilderError, never a parameter or empty text", () => {
  const none = undefined as unknown as string;
  const cases: [string, () => unknown][] = [
    ["insertInto()", () => insertInto(none)],
    ['insertInto("")', () => insertInto("")],
    ["update()", () => update(none)],
    ["deleteFrom()", () => deleteFrom(none)],
    ["upsert()", () => upsert(none)],
    ["merge().into()", () => merge().into(none)],
    ["from()", () => select().from(none)],
    ["from(5)", () => select().from(5 as never)],
    ["join without ON", () => select().from("a").join("b", none)],
    ["join(undefined, on)", () => select().from("a").join(none, "a.id = b.id")],
    ["select(undefined)", () => select(undefined)],
    ["select(5)", () => select(5)],
    ["groupBy()", () => select().from("a").groupBy()],
    ["distinctOn()", () => select().from("a").distinctOn()],
    ["orderBy(undefined)", () => select().from("a").orderBy(none)],
    ["of()", () => select().from("a").forUpdate().of()],
    ["returning(undefined)", () => insertInto("a").values(row).returning(undefined)],
    ['with("", q)', () => select().from("x").with("", select().from("a"))],
    ['with("x", undefined)', () => select().from("x").with("x", undefined)],
    ['with("x", q, { columns: [] })', () => select().from("x").with("x", select().from("a"), { columns: [] })],
    ['where("")', () => select().from("a").where("")],
    [
      "where(undefined)",
      () =>
        select()
          .from("a")
          .where(undefined as never),
    ],
    [
      "where(5)",
      () =>
        select()
          .from("a")
          .where(5 as never),
    ],
    ["having({})", () => select().from("a").having({})],
    ['on("")', () => merge().on("")],
    ["columns()", () => insertInto("a").columns()],
    ["values(undefined)", () => insertInto("a").values(undefined as never)],
    ["values({})", () => insertInto("a").values({})],
    ['set("x")', () => update("a").set("x")],
    ['using(rows, "")', () => merge().using([row], "")],
    ['from("a", "")', () => select().from("a", "")],
    ["whenNotMatchedThenInsert({})", () => merge().using([row]).whenNotMatchedThenInsert({})],
    ['action expression ""', () => merge().using([row]).whenMatchedThenUpdate({ name: "" })],
    ["sql.ref('')", () => sql.ref("")],
  ];
  for (const [name, make] of cases) {
    it(name, () => {
      expect(make).toThrow(SQLBuilderError);
    });
  }
});

describe("names are parsed, never pasted", () => {
  it("reads dotted names, quoted parts and aliases", () => {
    expect(parseNameWithAlias('"Bulk"."Record.Target"')).toEqual({ parts: ["Bulk", "Record.Target"] });
    expect(parseNameWithAlias('public."we""ird" AS "W"')).toEqual({ parts: ["public", 'we"ird'], alias: "W" });
    expect(parseNameWithAlias("products p")).toEqual({ parts: ["products"], alias: "p" });
    expect(parseNameWithAlias("`My Table`")).toEqual({ parts: ["My Table"] });
    // Anything that is not a name (with an alias) is ONE identifier.
    expect(parseNameWithAlias('"t" WHERE $1::int IS NOT NULL --')).toEqual({
      parts: ['"t" WHERE $1::int IS NOT NULL --'],
    });
    expect(parseNameWithAlias("a.")).toEqual({ parts: ["a."] });
  });

  it("a table name is an identifier everywhere: the DELETE injection stays one (nonexistent) table name", () => {
    const evil = '"t" WHERE $1::int IS NOT NULL --';
    expect(deleteFrom(evil).where({ id: 1 }).build()).toEqual({
      sql: 'DELETE FROM """t"" WHERE $1::int IS NOT NULL --" WHERE "id" = $1',
      parameters: [1],
    });
    expect(update(evil).set({ a: 1 }).build().sql).toBe('UPDATE """t"" WHERE $1::int IS NOT NULL --" SET "a" = $1');
    expect(select().from(evil).build().sql).toBe('SELECT * FROM """t"" WHERE $1::int IS NOT NULL --"');
    expect(insertInto(evil).values(row).build().sql).toMatch(/^INSERT INTO """t"" WHERE \$1::int IS NOT NULL --" \(/);
  });

  it('already-quoted names are understood: sql.upsert(\'"Products"\'), "Bulk"."Record.Target"', () => {
    const m = upsert('"Products"', { dialect: "postgres" })
      .using([row], "src")
      .on("t.id = src.id")
      .whenMatchedThenUpdate(["name"]);
    expect(m.build().sql).toMatch(
      /^MERGE INTO "Products" AS "t" USING \(SELECT "id", "name" FROM json_populate_recordset\(NULL::"Products", /,
    );
    const target = '"Bulk"."Record.Target"';
    expect(select("id").from(target).build().sql).toBe('SELECT "id" FROM "Bulk"."Record.Target"');
    expect(select("id").from(target, "r").build("mysql").sql).toBe("SELECT `id` FROM `Bulk`.`Record.Target` AS `r`");
    expect(insertInto(target).values(row).build().sql).toBe(
      'INSERT INTO "Bulk"."Record.Target" ("id", "name") VALUES ($1, $2)',
    );
    expect(update(target).set({ name: "x" }).build().sql).toBe('UPDATE "Bulk"."Record.Target" SET "name" = $1');
    expect(deleteFrom(target).build().sql).toBe('DELETE FROM "Bulk"."Record.Target"');
    expect(merge().into(target, "t").using([row]).on("t.id = src.id").whenMatchedThenDelete().build().sql).toMatch(
      /^MERGE INTO "Bulk"."Record.Target" AS "t" USING .*json_populate_record\(NULL::"Bulk"."Record.Target", /,
    );
    expect(upsert(target, { dialect: "sqlite" }).values(row).onConflict("id").doNothing().build().sql).toMatch(
      /^INSERT INTO "Bulk"."Record.Target" /,
    );
    expect(sql`SELECT * FROM ${sql.ref(target)}`.text).toBe('SELECT * FROM "Bulk"."Record.Target"');
  });
});

describe("one rule for name positions: a string is an identifier; expressions go through sql.raw / sql``", () => {
  it("select, returning, groupBy, distinctOn, orderBy and where keys quote strings; sql.raw passes SQL", () => {
    const b = select("count(*) AS n", "p.name AS product", sql.raw("count(*) AS total"))
      .distinctOn("p.name")
      .from("products p")
      .groupBy("p.name", sql.raw("lower(p.name)"))
      .orderBy("lower(name)")
      .where({ 'p."a b"': 1, "p.c d": 2 });
    expect(b.build().sql).toBe(
      'SELECT DISTINCT ON ("p"."name") "count(*)" AS "n", "p"."name" AS "product", count(*) AS total FROM ' +
        '"products" AS "p" WHERE "p"."a b" = $1 AND "p.c d" = $2 GROUP BY "p"."name", lower(p.name) ORDER BY "lower(name)"',
    );
    expect(insertInto("t").values(row).returning("id", "name AS n", "now()").build().sql).toBe(
      'INSERT INTO "t" ("id", "name") VALUES ($1, $2) RETURNING "id", "name" AS "n", "now()"',
    );
  });

  it("every generated identifier is quoted: reserved words of any version, mixed case, punctuation", () => {
    for (const word of ["collation", "concurrently", "system_user", "order", "id"]) {
      expect(quoteIdent(word, "postgres")).toBe(`"${word}"`);
      expect(quoteIdent(word, "sqlite")).toBe(`"${word}"`);
      expect(quoteIdent(word, "duckdb")).toBe(`"${word}"`);
      expect(quoteIdent(word, "mysql")).toBe(`\`${word}\``);
      expect(quoteIdent(word, "bigquery")).toBe(`\`${word}\``);
      expect(quoteIdent(word, "oracle")).toBe(`"${word.toUpperCase()}"`);
    }
    expect(quoteIdent("Mixed", "oracle")).toBe('"Mixed"');
    expect(quoteIdent('a"b', "postgres")).toBe('"a""b"');
    expect(quoteIdent("a`b", "mysql")).toBe("`a``b`");
    expect(quoteIdent("a`b\\c", "bigquery")).toBe("`a\\`b\\\\c`");
    expect(() => quoteIdent('a"b', "oracle")).toThrow(SQLBuilderError);
    expect(quoteQualified("my-project.dataset.t", "bigquery")).toBe("`my-project`.`dataset`.`t`");
    const up = insertInto("t")
      .values({ collation: "C", concurrently: true, system_user: "me" })
      .onConflict("collation")
      .doUpdate(["concurrently", "system_user"]);
    expect(up.build().sql).toBe(
      'INSERT INTO "t" ("collation", "concurrently", "system_user") VALUES ($1, $2, $3) ON CONFLICT ("collation") ' +
        'DO UPDATE SET "concurrently" = "excluded"."concurrently", "system_user" = "excluded"."system_user"',
    );
  });

  it("unsupported MERGE clauses on the insert dialects still say why", () => {
    // a JavaScript caller (the types leave out what SQLite cannot render) still gets a clear error
    const u = upsert("p", { dialect: "sqlite" }).using([row]).on("t.id = src.id") as UpsertInsertBuilder;
    expect(() => u.whenMatchedThenDelete()).toThrow(DialectNotSupportedError);
    expect(() => u.whenNotMatchedThenInsert(["id"], { where: "src.id > 0" }).build()).toThrow(/NOT MATCHED AND/);
  });
});

describe("review 9: no call is accepted and then ignored", () => {
  it("onConflict(cols) on a renderer that cannot target the key (ON DUPLICATE KEY UPDATE) raises, naming the alternatives", () => {
    const mysql = upsert("p", { dialect: "mysql" }).values({ id: 1, name: "b" }).onConflict("name");
    expect(() => mysql.doUpdate({ name: "excluded.name" })).toThrow(SQLBuilderError);
    expect(() => mysql.doUpdate({ name: "excluded.name" })).toThrow(DialectNotSupportedError);
    expect(() => mysql.doNothing()).toThrow(/onDuplicateKeyUpdate\(set\).*session\.upsert/);
    // a dialect known only at build time: refused there
    const late = insertInto("p").values({ id: 1, name: "b" }).onConflict("name").doUpdate(["name"]);
    expect(() => late.build("mysql")).toThrow(/ON DUPLICATE KEY UPDATE cannot target conflict columns/);
    expect(late.build("sqlite").sql).toContain('ON CONFLICT ("name") DO UPDATE');
    // without columns the clause says what it does: any unique key
    expect(insertInto("p").values({ id: 1, name: "b" }).onConflict().doUpdate(["name"]).build("mysql").sql).toBe(
      "INSERT INTO `p` (`id`, `name`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `name` = VALUES(`name`)",
    );
    expect(upsert("p", { dialect: "mysql" }).values({ id: 1 }).onConflict().doNothing().build().sql).toBe(
      "INSERT INTO `p` (`id`) VALUES (?) ON DUPLICATE KEY UPDATE `id` = `id`",
    );
  });

  it("a second conflict clause raises instead of rendering two or replacing the first", () => {
    const done = insertInto("p").values({ id: 1, v: 1 }).onConflict().doNothing();
    expect(() => done.onDuplicateKeyUpdate({ v: "5" })).toThrow(SQLBuilderError);
    expect(() => done.onConflict("id")).toThrow(/already has its conflict clause/);
    const dup = insertInto("p").values({ id: 1, v: 1 }).onDuplicateKeyUpdate({ v: "5" });
    expect(() => dup.onConflict()).toThrow(SQLBuilderError);
    expect(() => dup.onDuplicateKeyUpdate({ v: "6" })).toThrow(SQLBuilderError);
    const sqlite = upsert("p", { dialect: "sqlite" }).values({ id: 1, name: "a" }).onConflict("id").doNothing();
    expect(() => sqlite.onConflict("name")).toThrow(SQLBuilderError);
  });

  it("empty SQL pieces raise instead of rendering `FROM `, `WHERE ` or `SELECT  FROM`", () => {
    expect(() => select().from(sql.raw("") as never)).toThrow(SQLBuilderError);
    expect(() =>
      select()
        .from("a")
        .where(sql.raw(" ") as never),
    ).toThrow(SQLBuilderError);
    expect(() => select().from("a").where(sql``)).toThrow(SQLBuilderError);
    expect(() => select(sql.raw("")).from("a")).toThrow(/sql\.raw\(\) is empty/);
    expect(() => sql.ref(undefined as never)).toThrow(SQLBuilderError);
    expect(() => sql.ref(5 as never)).toThrow(SQLBuilderError);
  });

  it("orderBy takes asc/desc and first/last only", () => {
    expect(() => (select().from("a") as any).orderBy("a", "sideways")).toThrow(/"asc" or "desc", got "sideways"/);
    expect(() => (select().from("a") as any).orderBy("a", "asc", "middle")).toThrow(SQLBuilderError);
    expect(select().from("a").orderBy("a", "DESC", "last").build().sql).toBe(
      'SELECT * FROM "a" ORDER BY "a" DESC NULLS LAST',
    );
  });

  it("undefined compared with a column raises (null keeps meaning IS NULL)", () => {
    expect(() => select().from("a").where({ id: undefined })).toThrow(/use null|null for IS NULL/);
    expect(() => deleteFrom("a").where({ id: undefined })).toThrow(SQLBuilderError);
    expect(() => update("a").set({ x: 1 }).where({ id: undefined })).toThrow(SQLBuilderError);
    expect(() => select().from("a").whereBetween("x", undefined, 1)).toThrow(SQLBuilderError);
    expect(() => select().from("a").whereBetween("x", 1, undefined)).toThrow(SQLBuilderError);
    expect(() => select().from("a").whereLike("x", undefined)).toThrow(SQLBuilderError);
    expect(deleteFrom("a").where({ id: null }).build().sql).toBe('DELETE FROM "a" WHERE "id" IS NULL');
  });
});
