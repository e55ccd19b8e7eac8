/** MERGE and the unified upsert on pure build(): the seed's examples, row sources, version guards, rewrite. */
import "../../src/dialects/index.js";
import { describe, expect, it } from "vitest";
import { InsertBuilder, MergeBuilder, merge, select, UpsertInsertBuilder, upsert } from "../../src/builder/index.js";
import type { BuildContext } from "../../src/core/builder-protocol.js";
import { DialectNotSupportedError, SQLBuilderError } from "../../src/core/errors.js";
import { JsonValue } from "../../src/core/json.js";
import { sqlTag as sql } from "../../src/core/statement.js";
import type { DialectName } from "../../src/core/types.js";

const CATALOG: BuildContext = {
  columnTypes: new Map([
    [
      "products",
      new Map([
        ["id", "integer"],
        ["name", "text"],
        ["price", "numeric"],
      ]),
    ],
  ]),
};

/** Every source column is copied unchanged into its target column: the server types the whole source. */
const SEED_SQL =
  'MERGE INTO "products" AS "t" USING (SELECT "id", "name", "price" FROM json_populate_recordset(NULL::"products", ' +
  '$1::json)) AS "src" ON t.id = src.id WHEN MATCHED THEN UPDATE SET "name" = src.name, "price" = src.price ' +
  'WHEN NOT MATCHED THEN INSERT ("id", "name", "price") VALUES (src.id, src.name, src.price)';

const seedMerge = (rows: object) =>
  merge()
    .into("products", "t")
    .using(rows, "src")
    .on("t.id = src.id")
    .whenMatchedThenUpdate({ name: "src.name", price: "src.price" })
    .whenNotMatchedThenInsert({ id: "src.id", name: "src.name", price: "src.price" });

describe("the seed's MERGE examples (postgres)", () => {
  it("single row: one json parameter, typed by the server from the target", () => {
    const row = { id: 1, name: "Widget", price: 9.99 };
    const out = seedMerge(row).build("postgres", CATALOG);
    expect(out.sql).toBe(SEED_SQL);
    expect(out.parameters).toHaveLength(1);
    const p = (out.parameters as unknown[])[0];
    expect(p).toBeInstanceOf(JsonValue);
    expect((p as JsonValue).value).toEqual([row]);
  });

  it("bulk: 2,000 rows still bind exactly one parameter and the same text", () => {
    const rows = Array.from({ length: 2000 }, (_, i) => ({ id: i, name: `n${i}`, price: i / 4 }));
    const out = seedMerge(rows).build("postgres", CATALOG);
    expect(out.sql).toBe(SEED_SQL);
    expect(out.parameters).toHaveLength(1);
    expect(((out.parameters as unknown[])[0] as JsonValue).value).toHaveLength(2000);
  });

  it("unified upsert: the seed's chain runs unchanged and renders the same MERGE", () => {
    const b = upsert("products", { dialect: "postgres" })
      .using([{ id: 1, name: "Widget", price: 9.99 }], "src")
      .on("t.id = src.id")
      .whenMatchedThenUpdate({ name: "src.name", price: "src.price" })
      .whenNotMatchedThenInsert({ id: "src.id", name: "src.name", price: "src.price" });
    expect(b).toBeInstanceOf(MergeBuilder);
    expect(b.build(undefined, CATALOG).sql).toBe(SEED_SQL);
    expect(b.catalogTables()).toEqual(['"products"']);
  });

  it("build() without a session renders exactly what a session runs (no catalog involved)", () => {
    expect(seedMerge({ id: 1, name: "Widget", price: 9.99 }).build().sql).toBe(SEED_SQL);
    expect(seedMerge({ id: 1, name: "Widget", price: 9.99 }).build("postgres", CATALOG).sql).toBe(SEED_SQL);
  });
});

describe("rows source column types", () => {
  const sourceOf = (m: { build: (d: DialectName) => { sql: string } }) => {
    const sql = m.build("postgres").sql;
    return sql.slice(sql.indexOf("USING ") + 6, sql.indexOf(' AS "src" ON'));
  };
  const deleting = (rows: object, types?: Record<string, string>) =>
    merge()
      .into("products", "t")
      .using(rows, "src", types ? { types } : undefined)
      .on("t.id = src.id")
      .whenMatchedThenDelete({ where: "src.flag" });

  it("infers per value kind for columns the statement does not copy into the target", () => {
    const row = {
      id: 1,
      small: 2147483647,
      big: 2147483648,
      neg: -2147483649,
      float: 1.5,
      bi: 10n,
      s: "x",
      b: true,
      obj: { a: 1 },
      arr: [1, 2],
      d: new Date(0),
      buf: Buffer.from("hi"),
      nul: null,
    };
    expect(sourceOf(deleting(row))).toBe(
      '(SELECT "p"."id", "x"."small", "x"."big", "x"."neg", "x"."float", "x"."bi", "x"."s", "x"."b", "x"."obj", ' +
        '"x"."arr", "x"."d", "x"."buf", "x"."nul" FROM json_array_elements($1::json) AS "e"("v") CROSS JOIN LATERAL ' +
        'json_populate_record(NULL::"products", "e"."v") AS "p" CROSS JOIN LATERAL json_to_record("e"."v") AS "x"(' +
        '"small" integer, "big" bigint, "neg" bigint, "float" double precision, "bi" bigint, "s" text, "b" boolean, ' +
        '"obj" jsonb, "arr" jsonb, "d" timestamptz, "buf" bytea, "nul" text))',
    );
  });

  it("mixes numbers across rows: int then float → double precision; int then huge → bigint", () => {
    const m = merge()
      .into("products", "t")
      .using(
        [
          { a: 1, b: 1 },
          { a: 1.5, b: 2 ** 40 },
        ],
        "src",
      )
      .on("t.a > src.a")
      .whenMatchedThenDelete();
    expect(sourceOf(m)).toBe('(SELECT * FROM json_to_recordset($1::json) AS "src"("a" double precision, "b" bigint))');
  });

  it("only a column copied unchanged (or compared in ON) takes the target's type; expressions keep inferred types", () => {
    const m = merge()
      .into("products", "t")
      .using([{ id: 1, price: 100, discount: 0.125, qty: 2 }], "src")
      .on("t.id = src.id")
      .whenMatchedThenUpdate({ price: "t.price * (1 - src.discount)", qty: "src.qty" })
      .whenNotMatchedThenInsert({ id: "src.id", price: "src.price", discount: "src.discount * 2" });
    // id: ON and INSERT; qty: SET unchanged; price: INSERT unchanged → target types. discount: expressions only.
    expect(sourceOf(m)).toBe(
      '(SELECT "p"."id", "p"."price", "x"."discount", "p"."qty" FROM json_array_elements($1::json) AS "e"("v") ' +
        'CROSS JOIN LATERAL json_populate_record(NULL::"products", "e"."v") AS "p" CROSS JOIN LATERAL ' +
        'json_to_record("e"."v") AS "x"("discount" double precision))',
    );
    // A column copied into a column of ANOTHER name is not typed by it.
    const renamed = merge()
      .into("products", "t")
      .using([{ id: 1, cost: 3 }], "src")
      .on("t.id = src.id")
      .whenMatchedThenUpdate({ price: "src.cost" });
    expect(sourceOf(renamed)).toContain('json_to_record("e"."v") AS "x"("cost" integer)');
  });

  it("`types` beats both", () => {
    const m = merge()
      .into("products", "t")
      .using([{ id: 1, price: 2 }], "src", { types: { id: "bigint", price: "numeric(10,2)" } })
      .on("t.id = src.id")
      .whenMatchedThenUpdate(["price"]);
    expect(sourceOf(m)).toBe(
      '(SELECT * FROM json_to_recordset($1::json) AS "src"("id" bigint, "price" numeric(10,2)))',
    );
    expect(() => merge().using([{ id: 1 }], "src", { types: { nope: "int" } })).toThrow(/"nope" is not a column/);
  });
});

describe("other dialects and sources", () => {
  const rows = [
    { id: 1, name: "A" },
    { id: 2, name: "B" },
  ];
  const m = merge()
    .into("products", "t")
    .using(rows, "src")
    .on("t.id = src.id")
    .whenMatchedThenUpdate(["name"])
    .whenNotMatchedThenInsert(["id", "name"]);

  it("oracle: JSON_TABLE over one :payload bind", () => {
    const out = m.build("oracle");
    expect(out.sql).toBe(
      `MERGE INTO "PRODUCTS" "T" USING (SELECT * FROM JSON_TABLE(:payload, '$[*]' COLUMNS ("ID" NUMBER PATH '$.id', ` +
        `"NAME" VARCHAR2(4000) PATH '$.name'))) "SRC" ON (t.id = src.id) WHEN MATCHED THEN UPDATE SET "NAME" = ` +
        `"SRC"."NAME" WHEN NOT MATCHED THEN INSERT ("ID", "NAME") VALUES ("SRC"."ID", "SRC"."NAME")`,
    );
    expect(Object.keys(out.parameters)).toEqual(["payload"]);
  });

  it("oracle: booleans are NUMBER(1) with 1/0 in the payload unless the server is known to be 23+", () => {
    const flags = merge()
      .into("products", "t")
      .using([{ id: 1, active: true }], "src")
      .on("t.id = src.id")
      .whenMatchedThenUpdate(["active"]);
    const old = flags.build("oracle");
    expect(old.sql).toContain(`"ACTIVE" NUMBER(1) PATH '$.active'`);
    expect(JSON.parse(JSON.stringify(old.parameters))).toEqual({ payload: [{ id: 1, active: 1 }] });
    const v23 = flags.build("oracle", { serverVersionNum: 230000 });
    expect(v23.sql).toContain(`"ACTIVE" BOOLEAN PATH '$.active'`);
    expect(JSON.parse(JSON.stringify(v23.parameters))).toEqual({ payload: [{ id: 1, active: true }] });
    expect(flags.build("oracle", { serverVersionNum: 190000 }).sql).toContain("NUMBER(1)");
  });

  it("bigquery: SELECT … UNION ALL with readable @names", () => {
    const out = m.build("bigquery");
    expect(out.sql).toBe(
      "MERGE INTO `products` AS `t` USING (SELECT @id AS `id`, @name AS `name` UNION ALL SELECT @id_1, @name_1) " +
        "AS `src` ON t.id = src.id WHEN MATCHED THEN UPDATE SET `name` = `src`.`name` " +
        "WHEN NOT MATCHED THEN INSERT (`id`, `name`) VALUES (`src`.`id`, `src`.`name`)",
    );
    expect(out.parameters).toEqual({ id: 1, name: "A", id_1: 2, name_1: "B" });
  });

  it("table and query sources", () => {
    const t = m.withSourceTable("staging_1");
    expect(t.build().sql).toBe(
      'MERGE INTO "products" AS "t" USING "staging_1" AS "src" ON t.id = src.id WHEN MATCHED THEN UPDATE SET ' +
        '"name" = "src"."name" WHEN NOT MATCHED THEN INSERT ("id", "name") VALUES ("src"."id", "src"."name")',
    );
    expect(t.build().parameters).toEqual([]);
    const q = merge()
      .into("products", "t")
      .using(select("id", "name").from("incoming").where({ ok: true }), "src")
      .on("t.id = src.id")
      .whenMatchedThenUpdate({ name: "src.name", updated_at: "CURRENT_TIMESTAMP", hits: 1 });
    expect(q.build().sql).toBe(
      'MERGE INTO "products" AS "t" USING (SELECT "id", "name" FROM "incoming" WHERE "ok" = $1) AS "src" ON ' +
        't.id = src.id WHEN MATCHED THEN UPDATE SET "name" = src.name, "updated_at" = CURRENT_TIMESTAMP, "hits" = $2',
    );
    expect(q.build().parameters).toEqual([true, 1]);
  });

  it("session hooks: sourceRows, withSourceTable, catalogTables", () => {
    expect(m.sourceRows()).toEqual(rows);
    expect(m.catalogTables()).toEqual(['"products"']);
    expect(m.withSourceTable("tmp").sourceRows()).toBeUndefined();
    expect(m.sourceRows()).toEqual(rows); // parent untouched
  });

  it("refuses MERGE on sqlite, mysql and duckdb, naming the alternative", () => {
    expect(() => m.build("sqlite")).toThrow(/MERGE.*ON CONFLICT/);
    expect(() => m.build("duckdb")).toThrow(/MERGE.*ON CONFLICT/);
    expect(() => m.build("mysql")).toThrow(/MERGE.*ON DUPLICATE KEY UPDATE/);
    expect(() => m.build("mysql")).toThrow(DialectNotSupportedError);
  });

  it("renders MERGE on DuckDB 1.4+ when the engine's version is known, and names the version otherwise", () => {
    const built = m.build("duckdb", { serverVersionNum: 10506 });
    expect(built.sql).toMatch(/^MERGE INTO "products" AS "t" USING \(SELECT \? AS "id"/);
    expect(() => m.build("duckdb", { serverVersionNum: 10302 })).toThrow(
      /DuckDB 1\.3\.2 \(it needs 1\.4\+\).*ON CONFLICT/,
    );
    expect(() => m.build("duckdb", { serverVersionNum: 10302 })).toThrow(DialectNotSupportedError);
  });
});

describe("PostgreSQL server version guards (stubbed ctx)", () => {
  const base = merge()
    .into("products", "t")
    .using([{ id: 1, name: "A" }], "src")
    .on("t.id = src.id");
  const bySource = base.whenMatchedThenUpdate(["name"]).whenNotMatchedBySourceThenUpdate({ active: false });

  it("NOT MATCHED BY SOURCE and RETURNING need 17", () => {
    expect(bySource.build("postgres").sql).toContain('WHEN NOT MATCHED BY SOURCE THEN UPDATE SET "active" = $2');
    expect(() => bySource.build("postgres", { serverVersionNum: 160004 })).toThrow(DialectNotSupportedError);
    expect(() => bySource.build("postgres", { serverVersionNum: 160004 })).toThrow(/17\+.*16\.4/);
    const ret = base.whenMatchedThenDelete().returning("merge_action()", "t.id");
    expect(ret.build("postgres", { serverVersionNum: 170000 }).sql).toMatch(
      /THEN DELETE RETURNING "merge_action\(\)", "t"\."id"$/,
    );
    const ret2 = base.whenMatchedThenDelete().returning(sql.raw("merge_action()"), "t.id");
    expect(ret2.build("postgres", { serverVersionNum: 170000 }).sql).toMatch(
      /THEN DELETE RETURNING merge_action\(\), "t"\."id"$/,
    );
    expect(() => ret.build("postgres", { serverVersionNum: 150000 })).toThrow(/RETURNING needs PostgreSQL 17/);
  });

  const pg14: BuildContext = {
    serverVersionNum: 140011,
    uniqueKeys: new Map([["inventory", [["sku"], ["warehouse", "sku"]]]]),
  };
  const inv = merge()
    .into("inventory", "t")
    .using([{ warehouse: 1, sku: "a", qty: 5 }], "src")
    .on("t.warehouse = src.warehouse AND t.sku = src.sku");

  it("< 15: an upsert-shaped MERGE becomes INSERT … ON CONFLICT", () => {
    const b = inv
      .whenMatchedThenUpdate({ qty: "t.qty + src.qty" }, { where: "src.qty > 0" })
      .whenNotMatchedThenInsert(["warehouse", "sku", "qty"]);
    expect(b.build("postgres", pg14).sql).toBe(
      'INSERT INTO "inventory" AS "t" ("warehouse", "sku", "qty") SELECT "src"."warehouse", "src"."sku", "src"."qty" ' +
        'FROM (SELECT "warehouse", "sku", "qty" FROM json_populate_recordset(NULL::"inventory", $1::json)) AS "src" ' +
        'ON CONFLICT ("warehouse", "sku") DO UPDATE SET "qty" = t.qty + excluded."qty" WHERE excluded."qty" > 0',
    );
    const nothing = inv.whenNotMatchedThenInsert(["warehouse", "sku", "qty"]);
    expect(nothing.build("postgres", pg14).sql).toMatch(/ON CONFLICT \("warehouse", "sku"\) DO NOTHING$/);
  });

  it("< 15: anything else is refused with the server version", () => {
    const ins = inv.whenNotMatchedThenInsert(["warehouse", "sku", "qty"]);
    expect(() => ins.whenMatchedThenDelete().build("postgres", pg14)).toThrow(/15\+.*14\.11/);
    expect(() => inv.whenMatchedThenUpdate(["qty"]).build("postgres", pg14)).toThrow(DialectNotSupportedError);
    const notUnique = merge()
      .into("inventory", "t")
      .using([{ warehouse: 1, qty: 5 }], "src")
      .on("t.warehouse = src.warehouse")
      .whenNotMatchedThenInsert(["warehouse", "qty"]);
    expect(() => notUnique.build("postgres", pg14)).toThrow(/unique key/);
    const notEq = merge()
      .into("inventory", "t")
      .using([{ sku: "a" }], "src")
      .on("t.sku <> src.sku")
      .whenNotMatchedThenInsert(["sku"]);
    expect(() => notEq.build("postgres", pg14)).toThrow(/equality/);
    expect(() => ins.build("postgres", { serverVersionNum: 140000 })).toThrow(/unique key/);
    // the 17+ clauses are named as such, and RETURNING is never carried into the rewrite
    expect(() => ins.returning("t.sku").build("postgres", pg14)).toThrow(/RETURNING needs PostgreSQL 17\+.*14\.11/);
    expect(() => ins.whenNotMatchedBySourceThenDelete().build("postgres", pg14)).toThrow(
      /BY SOURCE needs PostgreSQL 17\+/,
    );
  });
});

describe("MERGE errors say what to do", () => {
  it("using([]), no WHEN, no into, no using, no on", () => {
    expect(() => merge().using([], "src")).toThrow(SQLBuilderError);
    expect(() => merge().using([], "src")).toThrow(/using\(\[\]\)/);
    const ok = merge().into("p", "t").using({ id: 1 }, "src").on("t.id = src.id");
    expect(() => ok.build()).toThrow(/WHEN clause.*whenMatchedThenUpdate/);
    expect(() => merge().using({ id: 1 }).on("x").whenMatchedThenDelete().build()).toThrow(/\.into\(table/);
    expect(() => merge().into("p").on("x").whenMatchedThenDelete().build()).toThrow(/\.using\(/);
    expect(() => merge().into("p").using({ id: 1 }).whenMatchedThenDelete().build()).toThrow(/\.on\(/);
    expect(() => merge().using([{ a: 1 }, { b: 2 }])).toThrow(/missing: a; extra: b/);
  });
});

describe("sql.upsert factory", () => {
  it("returns a Merge (alias t) on postgres/oracle/bigquery and an Insert elsewhere", () => {
    // names read at run time are matched case-insensitively (the types take the lowercase names)
    for (const d of ["postgres", "PostgreSQL", "pg", "oracle", "bigquery"]) {
      const b = upsert("products", { dialect: d as DialectName });
      expect(b).toBeInstanceOf(MergeBuilder);
      expect(b.node).toMatchObject({ kind: "merge", target: ["products"], alias: "t" });
    }
    for (const d of ["sqlite", "duckdb", "mysql", "MariaDB"]) {
      const b = upsert("products", { dialect: d as DialectName });
      expect(b).toBeInstanceOf(UpsertInsertBuilder);
      expect(b).toBeInstanceOf(InsertBuilder);
      expect(b.kind).toBe("insert");
    }
    expect(() => upsert("products", { dialect: "db2" as DialectName })).toThrow(
      /Unknown dialect "db2".*postgres, sqlite, mysql/,
    );
  });

  const seed = (dialect: DialectName) =>
    upsert("products", { dialect })
      .using([{ id: 1, name: "Widget", price: 9.99 }], "src")
      .on("t.id = src.id")
      .whenMatchedThenUpdate({ name: "src.name", price: "src.price" })
      .whenNotMatchedThenInsert({ id: "src.id", name: "src.name", price: "src.price" });

  it("maps the seed's chain onto INSERT … ON CONFLICT / ON DUPLICATE KEY UPDATE", () => {
    const tail =
      '("id", "name", "price") VALUES (?, ?, ?) ON CONFLICT ("id") DO UPDATE SET "name" = excluded."name", ' +
      '"price" = excluded."price"';
    expect(seed("sqlite").build().sql).toBe(`INSERT INTO "products" ${tail}`);
    expect(seed("duckdb").build().sql).toBe(`INSERT INTO "products" ${tail}`);
    expect(seed("mysql").build()).toEqual({
      sql:
        "INSERT INTO `products` (`id`, `name`, `price`) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE " +
        "`name` = VALUES(`name`), `price` = VALUES(`price`)",
      parameters: [1, "Widget", 9.99],
    });
  });

  it("rewrites t./src. in expressions, defaults the insert, and falls back to DO NOTHING", () => {
    const b = upsert("stock", { dialect: "sqlite" })
      .using([{ sku: "a", qty: 2, note: "x" }], "src")
      .on("src.sku = t.sku")
      .whenMatchedThenUpdate({ qty: "t.qty + src.qty" }, { where: "t.locked = 0" });
    expect(b.build()).toEqual({
      sql:
        'INSERT INTO "stock" ("sku", "qty", "note") VALUES (?, ?, ?) ON CONFLICT ("sku") DO UPDATE SET ' +
        '"qty" = "stock"."qty" + excluded."qty" WHERE "stock"."locked" = 0',
      parameters: ["a", 2, "x"],
    });
    const n = upsert("stock", { dialect: "duckdb" }).using({ sku: "a" }).on("t.sku = src.sku");
    expect(n.build().sql).toBe('INSERT INTO "stock" ("sku") VALUES (?) ON CONFLICT ("sku") DO NOTHING');
    expect(upsert("stock", { dialect: "mysql" }).using({ sku: "a" }).on("t.sku = src.sku").build().sql).toBe(
      "INSERT INTO `stock` (`sku`) VALUES (?) ON DUPLICATE KEY UPDATE `sku` = `sku`",
    );
  });

  it("refuses what INSERT cannot express", () => {
    // a JavaScript caller (the types leave out what SQLite cannot render) still gets a clear error
    const b = upsert("stock", { dialect: "sqlite" }).using({ sku: "a" }).on("t.sku = src.sku") as UpsertInsertBuilder;
    expect(() => b.whenMatchedThenDelete()).toThrow(DialectNotSupportedError);
    expect(() => b.on("t.sku > src.sku").build()).toThrow(/equality on key columns/);
    expect(() => upsert("stock", { dialect: "sqlite" }).build()).toThrow(/\.values\(.*\.using\(rows/);
    const mysqlWhere = upsert("stock", { dialect: "mysql" })
      .using({ sku: "a" })
      .on("t.sku = src.sku")
      .whenMatchedThenUpdate(["sku"], { where: "t.locked = 0" });
    expect(() => mysqlWhere.build()).toThrow(DialectNotSupportedError);
  });
});

describe("rows payload encoding", () => {
  it("nested JsonValue, bigint, Date and Buffer serialize as the recordset expects", () => {
    const m = merge()
      .into("docs", "t")
      .using({ id: 1n, doc: new JsonValue([1, 2]), at: new Date(0), raw: Buffer.from([0xab]) }, "src")
      .on("t.id = src.id")
      .whenMatchedThenDelete();
    expect(m.build().sql).toContain('AS "x"("doc" jsonb, "at" timestamptz, "raw" bytea)');
    expect(m.toSQL({ showParameters: true })).toContain(
      `json_array_elements('[{"id":1,"doc":[1,2],"at":"1970-01-01T00:00:00.000Z","raw":"\\\\xab"}]'::json)`,
    );
  });
});
