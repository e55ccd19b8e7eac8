/**
 * Review 13b: upsert defects in the row scanner and the duplicate-key check, each reproduced before its fix. Every test asserts the
 * expected behaviour (they failed on main at 00381812).
 */
import { afterAll, describe, expect, test } from "vitest";
import { DuckdbConfig } from "../../src/adapters/duckdb/index.js";
import { MysqlConfig } from "../../src/adapters/mysql/index.js";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { SqliteConfig } from "../../src/adapters/sqlite/index.js";
import { CardinalityViolationError, SQLBuilderError } from "../../src/index.js";
import { MYSQL_URL, PG_URL } from "../support/servers.js";

const sqlite = new SqliteConfig();
const duck = new DuckdbConfig();
const pg = new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 1 } });
const mysql = new MysqlConfig({ poolConfig: { connectionString: MYSQL_URL, maxSize: 1 } });
afterAll(async () => {
  await Promise.all([sqlite.close(), duck.close(), pg.close(), mysql.close()]);
});

/** A row type whose `name` is a getter on the prototype (not enumerable) and which carries an extra own key. */
class ProductRow {
  id: number;
  extra: string;
  constructor(id: number) {
    this.id = id;
    this.extra = "this value must not vanish silently";
  }
  get name(): string {
    return "from-getter";
  }
}

describe("row scanner: a row whose enumerable keys differ from row 0 is refused (870e2cd regression)", () => {
  test("sqlite: class instance with a prototype getter + an extra own key", async () => {
    await sqlite.withSession(async (s) => {
      await s.execute("CREATE TABLE scan_getter (id INTEGER PRIMARY KEY, name TEXT)");
      const rows = [{ id: 1, name: "a" }, new ProductRow(2) as unknown as { id: number; name: string }];
      const err = await s.upsert("scan_getter", rows, { on: ["id"] }).catch((e: unknown) => e);
      // Before 870e2cd: SQLBuilderError 'Row 1 has different keys from row 0 (extra "extra")'. Now: written.
      expect(err).toBeInstanceOf(SQLBuilderError);
      expect(await s.selectValue("SELECT count(*) FROM scan_getter")).toBe(0);
    });
  });

  test("sqlite: non-enumerable own property + an extra key", async () => {
    await sqlite.withSession(async (s) => {
      await s.execute("CREATE TABLE scan_hidden (id INTEGER PRIMARY KEY, name TEXT)");
      const row: Record<string, unknown> = { id: 2, other: "dropped" };
      Object.defineProperty(row, "name", { value: "hidden", enumerable: false });
      const err = await s
        .upsert("scan_hidden", [{ id: 1, name: "a" }, row as { id: number; name: string }], { on: ["id"] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SQLBuilderError);
      expect(await s.selectValue("SELECT count(*) FROM scan_hidden")).toBe(0);
    });
  });

  test('sqlite: a "__proto__" column missing from row 1 reads Object.prototype and stores "{}"', async () => {
    await sqlite.withSession(async (s) => {
      await s.execute('CREATE TABLE scan_proto (id INTEGER PRIMARY KEY, "__proto__" TEXT)');
      // JSON.parse makes "__proto__" an own key of row 0; row 1 has "zzz" instead.
      const rows = JSON.parse('[{"id":1,"__proto__":"p1"},{"id":2,"zzz":"lost"}]') as { id: number }[];
      const err = await s.upsert("scan_proto", rows, { on: ["id"] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SQLBuilderError);
      expect(await s.select('SELECT id, "__proto__" AS p FROM scan_proto ORDER BY id')).toEqual([]);
    });
  });

  test("duckdb strategy values: class instance with a prototype getter + an extra own key", async () => {
    await duck.withSession(async (s) => {
      await s.execute("CREATE TABLE scan_getter (id INTEGER PRIMARY KEY, name TEXT)");
      const rows = [{ id: 1, name: "a" }, new ProductRow(2) as unknown as { id: number; name: string }];
      const err = await s.upsert("scan_getter", rows, { on: ["id"], strategy: "values" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SQLBuilderError);
    });
  });
});

describe('duplicate check: digit strings in a TEXT key are not numbers ("007" and "7" are two keys)', () => {
  const rows = [
    { code: "007", v: "bond" },
    { code: "7", v: "seven" },
  ];
  const both = [
    { code: "007", v: "bond" },
    { code: "7", v: "seven" },
  ];

  test("sqlite: duplicates 'error' refuses two distinct keys", async () => {
    await sqlite.withSession(async (s) => {
      await s.execute("CREATE TABLE codes_err (code TEXT PRIMARY KEY, v TEXT)");
      await s.upsert("codes_err", rows, { on: ["code"] });
      expect(await s.select("SELECT * FROM codes_err ORDER BY code")).toEqual(both);
    });
  });

  test("sqlite: last-wins silently drops the '007' row", async () => {
    await sqlite.withSession(async (s) => {
      await s.execute("CREATE TABLE codes_lw (code TEXT PRIMARY KEY, v TEXT)");
      await s.upsert("codes_lw", rows, { on: ["code"], duplicates: "last-wins" });
      expect(await s.select("SELECT * FROM codes_lw ORDER BY code")).toEqual(both);
    });
  });

  test("pg: last-wins silently drops the '007' row", async () => {
    await pg.withSession(async (s) => {
      await s.execute("DROP TABLE IF EXISTS r13b_codes");
      await s.execute("CREATE TABLE r13b_codes (code TEXT PRIMARY KEY, v TEXT)");
      await s.upsert("r13b_codes", rows, { on: ["code"], duplicates: "last-wins" });
      expect(await s.select("SELECT * FROM r13b_codes ORDER BY code")).toEqual(both);
    });
  });

  test("mysql: last-wins silently drops the '007' row", async () => {
    await mysql.withSession(async (s) => {
      await s.execute("DROP TABLE IF EXISTS r13b_codes");
      await s.execute("CREATE TABLE r13b_codes (code VARCHAR(10) PRIMARY KEY, v TEXT)");
      await s.upsert("r13b_codes", rows, { on: ["code"], duplicates: "last-wins" });
      expect(await s.select("SELECT * FROM r13b_codes ORDER BY code")).toEqual(both);
    });
  });

  test("duckdb: last-wins silently drops the '007' row", async () => {
    await duck.withSession(async (s) => {
      await s.execute("CREATE TABLE codes_lw (code TEXT PRIMARY KEY, v TEXT)");
      await s.upsert("codes_lw", rows, { on: ["code"], duplicates: "last-wins" });
      expect(await s.select("SELECT * FROM codes_lw ORDER BY code")).toEqual(both);
    });
  });
});

describe("sqlite: keys distinct in JavaScript but one key in SQLite are merged silently (no server refusal)", () => {
  test("two equal Buffer keys (BLOB primary key, e.g. binary UUIDs): refused as duplicates", async () => {
    await sqlite.withSession(async (s) => {
      await s.execute("CREATE TABLE blob_keys (k BLOB PRIMARY KEY, v TEXT)");
      const err = await s
        .upsert(
          "blob_keys",
          [
            { k: Buffer.from([1, 2]), v: "a" },
            { k: Buffer.from([1, 2]), v: "b" },
          ],
          { on: ["k"] },
        )
        .catch((e: unknown) => e);
      // Observed: rowsAffected 2, one row ('b'): the first row's values are lost with no error.
      expect(err).toBeInstanceOf(CardinalityViolationError);
    });
  });

  test("1 and true in an INTEGER key: refused as duplicates", async () => {
    await sqlite.withSession(async (s) => {
      await s.execute("CREATE TABLE bool_keys (id INTEGER PRIMARY KEY, v TEXT)");
      const err = await s
        .upsert(
          "bool_keys",
          [
            { id: 1, v: "a" },
            { id: true as unknown as number, v: "b" },
          ],
          { on: ["id"] },
        )
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CardinalityViolationError);
    });
  });
});

describe("duckdb: keys only the engine compares are dropped silently (keyPart's 'the server still refuses' is false)", () => {
  test("two equal Buffer keys: refused as duplicates", async () => {
    await duck.withSession(async (s) => {
      await s.execute("CREATE TABLE blob_keys (k BLOB PRIMARY KEY, v TEXT)");
      const err = await s
        .upsert(
          "blob_keys",
          [
            { k: Buffer.from([1, 2]), v: "a" },
            { k: Buffer.from([1, 2]), v: "b" },
          ],
          { on: ["k"] },
        )
        .catch((e: unknown) => e);
      // Observed: rowsAffected 1, the row holds 'a': the second row vanished with no error.
      expect(err).toBeInstanceOf(CardinalityViolationError);
    });
  });
});

describe("duckdb NOCASE fold differs from DuckDB's: last-wins drops a key DuckDB keeps", () => {
  test("'ΟΔΟΣ' and 'οδος' are two keys under DuckDB NOCASE (JS lower-cases the final sigma to ς)", async () => {
    await duck.withSession(async (s) => {
      await s.execute("CREATE TABLE greek (k VARCHAR COLLATE NOCASE PRIMARY KEY, v TEXT)");
      await s.execute("INSERT INTO greek VALUES ('ΟΔΟΣ', 'upper'), ('οδος', 'lower')");
      expect(await s.selectValue("SELECT count(*) FROM greek")).toBe(2);
      await s.execute("DELETE FROM greek");
      await s.upsert(
        "greek",
        [
          { k: "ΟΔΟΣ", v: "upper" },
          { k: "οδος", v: "lower" },
        ],
        { on: ["k"], duplicates: "last-wins" },
      );
      expect(await s.selectValue("SELECT count(*) FROM greek")).toBe(2);
    });
  });
});

describe("never a duplicate the engine would keep as two rows (a wrong 'equal' drops a row with last-wins)", () => {
  type Case = [label: string, ddl: string, keys: unknown[]];
  const distinct: Case[] = [
    [
      "SQLite INTEGER beyond 2^53",
      "CREATE TABLE %t (k INTEGER PRIMARY KEY, v TEXT)",
      ["9007199254740993", "9007199254740992"],
    ],
    ["SQLite TEXT: 7 (stored '7.0') and '7'", "CREATE TABLE %t (k TEXT PRIMARY KEY, v TEXT)", [7, "7"]],
    [
      "SQLite REAL: 'Infinity' text and Infinity",
      "CREATE TABLE %t (k REAL PRIMARY KEY, v TEXT)",
      ["Infinity", Infinity],
    ],
    [
      "SQLite STRING (NUMERIC affinity) is not trusted as a number",
      "CREATE TABLE %t (k STRING PRIMARY KEY, v TEXT)",
      ["a7", "7"],
    ],
  ];
  for (const [label, ddl, keys] of distinct) {
    test(`${label}: both rows stored, with last-wins too`, async () => {
      await sqlite.withSession(async (s) => {
        for (const duplicates of ["error", "last-wins"] as const) {
          const t = `nd_${duplicates.replace("-", "_")}_${Math.random().toString(36).slice(2, 8)}`;
          await s.execute(ddl.replace("%t", t));
          const rows = keys.map((k, i) => ({ k, v: `r${i}` }));
          await s.upsert(t, rows, { on: ["k"], duplicates });
          expect(await s.selectValue(`SELECT count(*) FROM ${t}`)).toBe(keys.length);
        }
      });
    });
  }

  test("PostgreSQL: a domain over text named like a number, and numeric beyond double precision", async () => {
    await pg.withSession(async (s) => {
      await s.execute("DROP TABLE IF EXISTS nd_dom, nd_num");
      await s.execute("DROP DOMAIN IF EXISTS phone_number");
      await s.execute("CREATE DOMAIN phone_number AS text");
      await s.execute("CREATE TABLE nd_dom (k phone_number PRIMARY KEY, v text)");
      await s.execute("CREATE TABLE nd_num (k numeric PRIMARY KEY, v text)");
      await s.upsert(
        "nd_dom",
        [
          { k: "007", v: "a" },
          { k: "7", v: "b" },
        ],
        { on: ["k"], duplicates: "last-wins" },
      );
      await s.upsert(
        "nd_num",
        [
          { k: "0.1000000000000000001", v: "a" },
          { k: "0.1", v: "b" },
        ],
        { on: ["k"], duplicates: "last-wins" },
      );
      expect(Number(await s.selectValue("SELECT count(*) FROM nd_dom"))).toBe(2);
      expect(Number(await s.selectValue("SELECT count(*) FROM nd_num"))).toBe(2);
      await s.execute("DROP TABLE nd_dom, nd_num");
      await s.execute("DROP DOMAIN phone_number");
    });
  });

  test("still one key where every engine stores one: '007', 7, 7n and true/1 in a number column", async () => {
    await sqlite.withSession(async (s) => {
      await s.execute("CREATE TABLE nd_int (k INTEGER PRIMARY KEY, v TEXT)");
      for (const pair of [
        ["007", 7],
        [7n, "7"],
        [true, "1"],
        ["1.50", 1.5],
      ]) {
        const err = await s
          .upsert(
            "nd_int",
            pair.map((k, i) => ({ k, v: `r${i}` })),
            { on: ["k"] },
          )
          .catch((e: unknown) => e);
        expect(err, JSON.stringify(pair.map(String))).toBeInstanceOf(CardinalityViolationError);
      }
    });
  });
});
