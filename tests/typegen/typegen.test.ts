import { readFileSync, writeFileSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import type { PgDescriber } from "../../src/adapters/postgres-common/describe.js";
import { SQLSpec } from "../../src/index.js";
import type { DescribedQuery } from "../../src/typegen/emit.js";
import { createSchemaEngine, type GenerateResult, generate } from "../../src/typegen/generate.js";
import { PG_URL } from "../support/servers.js";
import { GOLDEN, OPTIONS, SCHEMA } from "./shared.js";

/** The server database gets the fixture schema in its own PostgreSQL schema, selected through the URL. */
const LIVE_SCHEMA = "sqlspec_typegen";
function liveUrl(): string {
  const url = new URL(PG_URL);
  url.searchParams.set("options", `-c search_path=${LIVE_SCHEMA}`);
  return url.toString();
}

let result: GenerateResult;
let engine: PgDescriber; // one PGlite with the schema, shared by this file
const byName = (name: string): DescribedQuery => {
  const q = result.queries.find((x) => x.name === name);
  if (!q) throw new Error(`no query ${name}`);
  return q;
};
/** `{ column: "type" | "type | null" }` for one query, as the generated row interface spells it. */
const row = (name: string): Record<string, string> =>
  Object.fromEntries((byName(name).columns ?? []).map((c) => [c.name, c.nullable ? `${c.type} | null` : c.type]));

beforeAll(async () => {
  engine = await createSchemaEngine(SCHEMA);
  result = await generate({ ...OPTIONS, engine });
});
afterAll(() => engine.close());

describe("sqlspec generate on PGlite (--schema)", () => {
  test("the module matches the reviewed golden file", () => {
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(GOLDEN, result.code);
    expect(result.queries.length).toBeGreaterThanOrEqual(25);
    expect(result.code).toBe(readFileSync(GOLDEN, "utf8"));
  });

  test("NOT NULL table columns stay non-null; nullable ones, enums, domains, arrays, json and int8 map as adapters return them", () => {
    expect(row("users.get_by_id")).toEqual({
      id: "number", // bigserial (int8) in the default int8 mode
      email: "string", // a domain over text, NOT NULL column
      display_name: "string | null",
      role: "UserRole",
      tags: "string[]",
      settings: "unknown | null",
      created_at: "Date",
      last_login: "Date | null",
    });
    expect(row("products.get")).toMatchObject({ price: "string", attributes: "unknown", weights: "number[] | null" });
    expect(result.code).toContain('export type OrderStatus = "pending" | "paid" | "shipped" | "cancelled";');
  });

  test("outer joins null the right side: LEFT, RIGHT, FULL and an inner join nested under a LEFT JOIN", () => {
    expect(row("orders.with_user")).toEqual({
      id: "number",
      status: "OrderStatus",
      total: "string | null",
      email: "string",
    });
    expect(row("orders.users_with_last_order")).toEqual({
      user_id: "number",
      email: "string",
      order_id: "number | null",
      status: "OrderStatus | null",
      placed_at: "Date | null",
    });
    expect(row("orders.items_right_join")).toEqual({
      order_id: "number | null",
      quantity: "number | null", // a NOT NULL domain column, but on the nullable side
      product_id: "number",
      name: "string",
    });
    expect(row("orders.full_join")).toEqual({
      order_id: "number | null",
      user_id: "number | null",
      email: "string | null",
    });
    expect(row("orders.nested_outer")).toEqual({ email: "string", quantity: "number | null", sku: "string" });
  });

  test("aggregates, window functions, CTEs, subqueries, unions, views, ROLLUP and literals", () => {
    expect(row("reports.revenue_by_status")).toEqual({
      status: "OrderStatus",
      orders: "number",
      revenue: "string | null", // sum() of no rows is NULL
      latest: "Date | null",
    });
    expect(row("reports.top_customers")).toMatchObject({ email: "string", order_count: "number" });
    expect(row("reports.users_and_spend")).toEqual({ id: "number", user_id: "number | null", n: "number | null" });
    expect(row("reports.item_totals")).toEqual({ order_id: "number", product_count: "number" });
    expect(row("reports.order_amounts")).toEqual({ id: "number", amount: "string | null" }); // view columns
    expect(row("reports.all_emails")).toEqual({ contact: "string | null", kind: "string" });
    expect(row("reports.with_row_number")).toEqual({ id: "number", n: "number", previous_total: "string | null" });
    expect(row("reports.rollup_totals")).toEqual({ status: "OrderStatus | null", n: "number" });
    expect(row("users.count_all")).toEqual({ total: "number" });
    expect(row("users.exists_email")).toEqual({ taken: "boolean" });
    expect(row("products.price_or_default")).toEqual({
      id: "number",
      description: "string",
      double_price: "string",
      availability: "string",
      band: "string | null",
      answer: "number",
      nothing: "string | null",
      code: "string",
    });
    expect(row("products.cheapest_in_stock")).toEqual({ name: "string", price: "string" });
  });

  test("RETURNING, ON CONFLICT and MERGE; a parameter may be null only where it fills a nullable column", () => {
    expect(row("users.create")).toEqual({
      id: "number",
      email: "string",
      display_name: "string | null",
      created_at: "Date",
    });
    expect(byName("users.create").params).toEqual({
      kind: "named",
      fields: [
        { name: "email", type: "string" },
        { name: "display_name", type: "string | null" },
        { name: "role", type: "UserRole" },
        { name: "tags", type: "readonly string[]" },
        { name: "settings", type: "unknown" },
      ],
    });
    expect(byName("users.rename").params).toEqual({
      kind: "named",
      fields: [
        { name: "display_name", type: "string | null" },
        { name: "id", type: "number | bigint" },
      ],
    });
    expect(row("users.upsert_by_email")).toEqual({ id: "number", inserted: "boolean" });
    expect(row("orders.add_item")).toEqual({ order_id: "number", product_id: "number", quantity: "number" });
    expect(byName("orders.merge_items").columns).toBeUndefined();
    expect(byName("users.touch_login").columns).toBeUndefined();
    expect(byName("users.search_positional").params).toEqual({
      kind: "positional",
      items: ["string", "Date | string"],
    });
    expect(byName("orders.recent_ids").params).toEqual({
      kind: "named",
      fields: [
        { name: "age", type: "string" },
        { name: "statuses", type: "readonly OrderStatus[]" },
      ],
    });
  });

  test('"col!" and "col?" override nullability, "col: Type" declares a type, and the suffix leaves the key', () => {
    expect(row("users.with_override")).toEqual({
      id: "number",
      display_name: "string",
      role: "UserRole | null",
      settings: "UserSettings | null",
    });
    expect(byName("users.with_override").text).toContain('display_name AS "display_name", role AS "role"');
    expect(result.code).toContain('import type { UserSettings } from "../types.js";');
  });

  test("--int8 bigint and string change int8 columns and parameters only", async () => {
    const asBigint = await generate({ ...OPTIONS, engine, int8: "bigint" });
    const q = asBigint.queries.find((x) => x.name === "users.count_all")!;
    expect(q.columns).toEqual([{ name: "total", type: "bigint", nullable: false }]);
    const asString = await generate({ ...OPTIONS, engine, int8: "string" });
    const get = asString.queries.find((x) => x.name === "users.get_by_id")!;
    expect(get.params).toEqual({ kind: "named", fields: [{ name: "id", type: "string | number | bigint" }] });
    expect(get.columns?.[0]).toEqual({ name: "id", type: "string", nullable: false });
  });
});

describe("the same queries through a live server (--database-url)", () => {
  beforeAll(async () => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS ${LIVE_SCHEMA} CASCADE; CREATE SCHEMA ${LIVE_SCHEMA}`);
      await client.query(`SET search_path = ${LIVE_SCHEMA}; ${readFileSync(SCHEMA, "utf8")}`);
    } finally {
      await client.end();
    }
  });

  test("produce the same module as PGlite", async () => {
    const live = await generate({ ...OPTIONS, databaseUrl: liveUrl() });
    expect(live.code).toBe(result.code);
  });

  test("describing writes nothing (the describe session is read-only)", async () => {
    const client = new pg.Client({ connectionString: liveUrl() });
    await client.connect();
    try {
      const before = await client.query("SELECT count(*)::int AS n FROM users");
      await generate({ ...OPTIONS, databaseUrl: liveUrl() });
      const after = await client.query("SELECT count(*)::int AS n FROM users");
      expect(after.rows[0].n).toBe(before.rows[0].n);
    } finally {
      await client.end();
    }
  });
});

describe("the generated objects run unchanged on sessions of their dialect", () => {
  test("PGlite and the pg server return rows of the generated shape", async () => {
    const { queries } = await import("./golden/queries.gen.js");
    const spec = new SQLSpec();
    const lite = spec.addConfig(new PgliteConfig());
    const server = spec.addConfig(new PgConfig({ poolConfig: { connectionString: liveUrl(), maxSize: 1 } }));
    try {
      await lite.withSession((s) => s.executeScript(readFileSync(SCHEMA, "utf8")));
      for (const db of [lite, server] as const) {
        await db.withSession(async (s) => {
          await s.transaction(async (tx) => {
            const user = await tx.selectOne(queries.users.create, {
              email: "ada@example.com",
              display_name: null,
              role: "admin",
              tags: ["a", "b"],
              settings: { theme: "dark" },
            });
            expect(user.email).toBe("ada@example.com");
            expect(user.display_name).toBeNull();
            expect(user.created_at).toBeInstanceOf(Date);
            const got = await tx.selectOne(queries.users.getById, { id: user.id });
            expect(got).toMatchObject({ id: user.id, role: "admin", tags: ["a", "b"], settings: { theme: "dark" } });
            const withLast = await tx.select(queries.orders.usersWithLastOrder);
            expect(withLast).toContainEqual({
              user_id: user.id,
              email: "ada@example.com",
              order_id: null,
              status: null,
              placed_at: null,
            });
            expect(await tx.selectValue(queries.users.countAll)).toBeGreaterThanOrEqual(1);
            const found = await tx.select(queries.users.searchPositional, ["%", new Date(0)]);
            expect(Array.isArray(found)).toBe(true);
            await tx.rollback();
          });
        });
      }
    } finally {
      await spec.closeAllPools();
    }
  });
});
