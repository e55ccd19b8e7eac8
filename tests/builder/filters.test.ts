import { describe, expect, test } from "vitest";
import {
  AnyCollectionFilter,
  BeforeAfterFilter,
  LimitOffsetFilter,
  NotInSearchFilter,
  NotNullFilter,
  OrderByFilter,
  SearchFilter,
  SQLBuilderError,
  sql,
} from "../../src/index.js";

describe("builder.filter()", () => {
  const base = sql.select("id").from("items").where({ active: true });

  test("filters become the builder's own WHERE / ORDER BY / LIMIT, values bound, names quoted", () => {
    const b = base.filter(
      new SearchFilter(["p.name", "descr"], "a%b"),
      new BeforeAfterFilter("created", "2024-06-01", "2024-01-01"),
      new AnyCollectionFilter("id", [1, 2]),
      new NotNullFilter("qty"),
      new OrderByFilter("id", "desc"),
      new LimitOffsetFilter(10, 20),
    );
    expect(b.build("postgres")).toEqual({
      sql:
        'SELECT "id" FROM "items" WHERE "active" = $1 AND ("p"."name" ILIKE $2 OR "descr" ILIKE $3) AND ' +
        '"created" < $4 AND "created" > $5 AND "id" = ANY($6) AND "qty" IS NOT NULL ORDER BY "id" DESC LIMIT $7 OFFSET $8',
      parameters: [true, "%a\\%b%", "%a\\%b%", "2024-06-01", "2024-01-01", [1, 2], 10, 20],
    });
    expect(base.filter(new SearchFilter("name", "x_y")).build("sqlite").sql).toBe(
      'SELECT "id" FROM "items" WHERE "active" = ? AND LOWER("name") LIKE LOWER(?) ESCAPE \'\\\'',
    );
  });

  test("case-sensitive search per dialect: LIKE, binary pattern on MySQL, instr() on SQLite", () => {
    const cs = (d: "postgres" | "mysql" | "sqlite" | "duckdb") =>
      sql
        .select("id")
        .from("t")
        .filter(new SearchFilter("name", "Ab", { ignoreCase: false }))
        .build(d);
    expect(cs("postgres")).toEqual({ sql: 'SELECT "id" FROM "t" WHERE "name" LIKE $1', parameters: ["%Ab%"] });
    expect(cs("mysql").sql).toBe("SELECT `id` FROM `t` WHERE `name` LIKE CAST(? AS BINARY)");
    expect(cs("sqlite")).toEqual({ sql: 'SELECT "id" FROM "t" WHERE instr("name", ?) > 0', parameters: ["Ab"] });
    expect(cs("duckdb").sql).toBe('SELECT "id" FROM "t" WHERE "name" LIKE ? ESCAPE \'\\\'');
    const not = sql
      .select("id")
      .from("t")
      .filter(new NotInSearchFilter(["a", "b"], "x"));
    expect(not.build("postgres").sql).toBe('SELECT "id" FROM "t" WHERE "a" NOT ILIKE $1 AND "b" NOT ILIKE $2');
  });

  test("a filter that cannot apply is a SQLBuilderError, never silently dropped", () => {
    expect(() => sql.update("t").set({ a: 1 }).filter(new LimitOffsetFilter(1))).toThrow(SQLBuilderError);
    expect(() => sql.deleteFrom("t").filter(new OrderByFilter("id"))).toThrow(SQLBuilderError);
    const union = sql.select("id").from("a").union(sql.select("id").from("b"));
    expect(() => union.filter(new NotNullFilter("id"))).toThrow(/first branch/);
    expect(() => new LimitOffsetFilter(-1)).toThrow(SQLBuilderError);
    expect(() => new SearchFilter("name", 5 as never)).toThrow(SQLBuilderError);
    expect(() => new SearchFilter([], "x")).toThrow(SQLBuilderError);
    expect(() => new AnyCollectionFilter("id", "1,2" as never)).toThrow(SQLBuilderError);
    expect(() => new BeforeAfterFilter("ts", new Date("nope"))).toThrow(SQLBuilderError);
    expect(() => new OrderByFilter("id", "sideways" as never)).toThrow(SQLBuilderError);
  });

  test("a hostile field name is one quoted identifier", () => {
    const b = sql.select("id").from("t").filter(new NotNullFilter('x"; DROP TABLE t; --'));
    expect(b.build("postgres").sql).toBe('SELECT "id" FROM "t" WHERE "x""; DROP TABLE t; --" IS NOT NULL');
  });
});
