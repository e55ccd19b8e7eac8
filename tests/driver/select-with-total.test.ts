/**
 * selectWithTotal with filters: the page and the total come from ONE statement (a window count over the filtered
 * rows), so one round trip and one snapshot; the helper column never reaches the caller. Without filters, the
 * statement's own LIMIT/OFFSET page and a count of its rows without them are one statement too (a scalar subquery).
 * Checked on every adapter by counting the statements the observability hooks see.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DuckdbConfig } from "../../src/adapters/duckdb/index.js";
import { MysqlConfig } from "../../src/adapters/mysql/index.js";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import { SqliteConfig } from "../../src/adapters/sqlite/index.js";
import {
  type DatabaseConfig,
  InCollectionFilter,
  LimitOffsetFilter,
  type ObservabilityConfig,
  OrderByFilter,
  SearchFilter,
  SQLSpec,
} from "../../src/index.js";
import { MYSQL_URL, PG_URL } from "../support/servers.js";

type Make = (observability: ObservabilityConfig) => DatabaseConfig<any, any, any>;
const targets: Array<[string, Make]> = [
  ["pglite", (observability) => new PgliteConfig({ observability, driverFeatures: { enablePgvector: false } })],
  ["pg", (observability) => new PgConfig({ observability, poolConfig: { connectionString: PG_URL, maxSize: 2 } })],
  [
    "postgresjs",
    (observability) => new PostgresJsConfig({ observability, poolConfig: { connectionString: PG_URL, maxSize: 2 } }),
  ],
  [
    "mysql",
    (observability) => new MysqlConfig({ observability, poolConfig: { connectionString: MYSQL_URL, maxSize: 2 } }),
  ],
  ["sqlite", (observability) => new SqliteConfig({ observability, poolConfig: { database: ":memory:" } })],
  ["duckdb", (observability) => new DuckdbConfig({ observability, poolConfig: { database: ":memory:" } })],
];

describe.each(targets)("selectWithTotal on %s", (name, make) => {
  const statements: string[] = [];
  const spec = new SQLSpec();
  const db = spec.addConfig(make({ onQueryStart: (e) => void statements.push(e.sql) }));
  const table = `swt_${name}`;
  const base = `SELECT id, name FROM ${table} WHERE id > 0`;

  beforeAll(async () => {
    await db.withSession(async (s) => {
      await s.execute(`DROP TABLE IF EXISTS ${table}`);
      await s.execute(`CREATE TABLE ${table} (id int PRIMARY KEY, name varchar(20) NOT NULL)`);
      await s.executeMany(
        `INSERT INTO ${table} (id, name) VALUES (?, ?)`,
        Array.from({ length: 25 }, (_, i) => [i + 1, i % 2 === 0 ? `apple ${i + 1}` : `pear ${i + 1}`]),
      );
    });
  });
  afterAll(async () => {
    await db.withSession((s) => s.execute(`DROP TABLE IF EXISTS ${table}`));
    await spec.closeAllPools();
  });

  async function counted<T>(fn: () => Promise<T>): Promise<[T, string[]]> {
    statements.length = 0;
    const out = await fn();
    return [out, statements.splice(0)];
  }

  test("a page with filters: one statement; rows without the helper column; the total of all matches", async () => {
    const [[page, total], sent] = await counted(() =>
      db.withSession((s) =>
        s.selectWithTotal<{ id: number; name: string }>(base, undefined, {
          filters: [new SearchFilter("name", "apple"), new OrderByFilter("id", "desc"), new LimitOffsetFilter(5, 5)],
        }),
      ),
    );
    expect(sent).toHaveLength(1);
    expect(page.map((r) => r.id)).toEqual([15, 13, 11, 9, 7]);
    expect(Object.keys(page[0] as object)).toEqual(["id", "name"]);
    expect(total).toBe(13);
  });

  test("the result's columns do not name the helper column either", async () => {
    const [page] = await db.withSession((s) =>
      s.selectWithTotal(base, undefined, {
        filters: [new InCollectionFilter("id", [1, 2, 3]), new OrderByFilter("id")],
      }),
    );
    expect(page).toEqual([
      { id: 1, name: "apple 1" },
      { id: 2, name: "pear 2" },
      { id: 3, name: "apple 3" },
    ]);
  });

  test("a page past the end: no rows, and the total still right (a count runs only then)", async () => {
    const [[page, total], sent] = await counted(() =>
      db.withSession((s) =>
        s.selectWithTotal(base, undefined, { filters: [new OrderByFilter("id"), new LimitOffsetFilter(10, 100)] }),
      ),
    );
    expect(page).toEqual([]);
    expect(total).toBe(25);
    expect(sent).toHaveLength(2);
  });

  test("no match at all: no rows and 0, in one statement", async () => {
    const [[page, total], sent] = await counted(() =>
      db.withSession((s) =>
        s.selectWithTotal(base, undefined, {
          filters: [new SearchFilter("name", "kiwi"), new LimitOffsetFilter(10, 0)],
        }),
      ),
    );
    expect(page).toEqual([]);
    expect(total).toBe(0);
    expect(sent).toHaveLength(1);
  });

  test("no filters, the statement's own ORDER BY/LIMIT/OFFSET: one statement; the page in its order; the total", async () => {
    const [[page, total], sent] = await counted(() =>
      db.withSession((s) =>
        s.selectWithTotal<{ id: number; name: string }>(
          `${base} AND id > ? ORDER BY id DESC LIMIT ? OFFSET ?`,
          [4, 3, 2],
        ),
      ),
    );
    expect(sent).toHaveLength(1);
    expect(page.map((r) => r.id)).toEqual([23, 22, 21]);
    expect(Object.keys(page[0] as object)).toEqual(["id", "name"]);
    expect(total).toBe(21);
  });

  test("no filters, a named value used in the WHERE and the LIMIT: bound in both parts of the one statement", async () => {
    const [[page, total], sent] = await counted(() =>
      db.withSession((s) =>
        s.selectWithTotal<{ id: number }>(`SELECT id FROM ${table} WHERE id > :n ORDER BY id LIMIT :n`, { n: 3 }),
      ),
    );
    expect(sent).toHaveLength(1);
    expect(page.map((r) => r.id)).toEqual([4, 5, 6]);
    expect(total).toBe(22);
  });

  test("no filters and no LIMIT/OFFSET: the rows are the total, one statement", async () => {
    const [[page, total], sent] = await counted(() =>
      db.withSession((s) => s.selectWithTotal<{ id: number }>(`SELECT id FROM ${table} WHERE id > 20 ORDER BY id`)),
    );
    expect(sent).toHaveLength(1);
    expect(page.map((r) => r.id)).toEqual([21, 22, 23, 24, 25]);
    expect(total).toBe(5);
  });

  test("no filters, a page past the end: no rows, the total from a count (a second statement only then)", async () => {
    const [[page, total], sent] = await counted(() =>
      db.withSession((s) => s.selectWithTotal(`${base} ORDER BY id LIMIT 5 OFFSET 100`)),
    );
    expect(page).toEqual([]);
    expect(total).toBe(25);
    expect(sent).toHaveLength(2);
  });
});
