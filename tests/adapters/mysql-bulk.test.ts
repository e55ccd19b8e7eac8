/**
 * MySQL / MariaDB bulk paths and the injection corpus: every data position (bound parameters, builder values/set/
 * where, session.upsert through each source, loadRecords through VALUES and LOAD DATA) round-trips the corpus byte
 * for byte. MySQL treats `\` in string literals as an escape, so any client-side interpolation would show here.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MysqlConfig, type MysqlConnection } from "../../src/adapters/mysql/index.js";
import { mysqlBulkSql } from "../../src/dialects/mysql.js";
import {
  DataError,
  NotNullViolationError,
  OperationCancelledError,
  ParameterError,
  QueryTimeoutError,
  type Session,
  SQLBuilderError,
  sql,
  UniqueViolationError,
} from "../../src/index.js";
import { MYSQL_URL } from "../support/servers.js";

const db = new MysqlConfig({ poolConfig: { connectionString: MYSQL_URL, maxSize: 2 } });
const run = <R>(fn: (s: Session<MysqlConnection>) => Promise<R>): Promise<R> => db.withSession(fn);

const CORPUS: readonly string[] = [
  "",
  "'",
  "''",
  "\\",
  "\\'",
  "' OR '1'='1",
  "'; DROP TABLE myblk_corpus; --",
  "?",
  "??",
  ":name",
  "$1",
  "@x",
  "%s",
  "%(x)s",
  "--",
  "-- comment\nnext line",
  "/*",
  "*/",
  "/* c */ SELECT 1",
  "#",
  "\0",
  "a\0b\\0",
  "\t\n\r",
  "\\N",
  "\\t\\n",
  "\x1a",
  "`",
  '"',
  "0x41",
  "_utf8mb4'x'",
  "ü日本語🎉",
  "\u2028\u2029",
  "x".repeat(5000),
];

beforeAll(async () => {
  await run((s) =>
    s.executeScript(`
      DROP TABLE IF EXISTS myblk_corpus, myblk_items;
      CREATE TABLE myblk_corpus (id int PRIMARY KEY, v text, b blob, j json) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
      CREATE TABLE myblk_items (id int PRIMARY KEY, name varchar(100) NOT NULL, price decimal(10,2), big bigint,
                                at datetime(3), flag tinyint(1), doc json, raw varbinary(16),
                                UNIQUE KEY myblk_name (name)) ENGINE=InnoDB;
    `),
  );
});

afterAll(async () => {
  await run((s) => s.executeScript("DROP TABLE IF EXISTS myblk_corpus, myblk_items"));
  await db.close();
});

async function expectCorpus(s: Session<MysqlConnection>, how: string): Promise<void> {
  const rows = await s.select<{ id: number; v: string; hex: string; b: Buffer | null }>(
    "SELECT id, v, HEX(v) AS hex, b FROM myblk_corpus ORDER BY id",
  );
  expect(rows.length, how).toBe(CORPUS.length);
  for (const r of rows) {
    const want = CORPUS[r.id] as string;
    expect(r.v, `${how}: #${r.id}`).toBe(want);
    expect(r.hex, `${how}: #${r.id} bytes`).toBe(Buffer.from(want, "utf8").toString("hex").toUpperCase());
    if (r.b !== null) expect(r.b.equals(Buffer.from(want, "utf8")), `${how}: #${r.id} blob`).toBe(true);
  }
}

const corpusRows = () => CORPUS.map((v, id) => ({ id, v, b: Buffer.from(v, "utf8") }));

describe("mysql: injection corpus through every data position", () => {
  test("bound parameters (INSERT and WHERE), builder values/set/where", async () => {
    await run(async (s) => {
      await s.execute("DELETE FROM myblk_corpus");
      for (const [id, v] of CORPUS.entries()) {
        await s.execute("INSERT INTO myblk_corpus (id, v, b) VALUES (?, ?, ?)", [id, v, Buffer.from(v, "utf8")]);
        expect(await s.selectValue("SELECT id FROM myblk_corpus WHERE v = ? AND b = ?", [v, Buffer.from(v)])).toBe(id);
        expect(await s.selectValue("SELECT :v AS v", { v })).toBe(v);
      }
      await expectCorpus(s, "execute");
      await s.execute("DELETE FROM myblk_corpus");
      await s.execute(sql.insertInto("myblk_corpus").values(corpusRows()));
      await expectCorpus(s, "builder values");
      for (const [id, v] of CORPUS.entries()) {
        await s.execute(
          sql
            .update("myblk_corpus")
            .set({ v: `${v}!` })
            .where({ id }),
        );
        const back = await s.selectOne(
          sql
            .select("id")
            .from("myblk_corpus")
            .where({ v: `${v}!` }),
        );
        expect(back).toEqual({ id });
        await s.execute(sql.update("myblk_corpus").set({ v }).where({ id }));
      }
      await expectCorpus(s, "builder set/where");
      // A sql template binds too.
      for (const v of CORPUS.slice(0, 8)) expect(await s.selectValue(sql`SELECT ${v} AS v`)).toBe(v);
    });
  });

  test.each(["values", "json", "copy"] as const)(
    "session.upsert (%s) inserts and updates the corpus byte for byte",
    async (strategy) => {
      await run(async (s) => {
        await s.execute("DELETE FROM myblk_corpus");
        // half exists with other text first: the upsert must both insert and update
        for (let id = 0; id < CORPUS.length; id += 2) {
          await s.execute("INSERT INTO myblk_corpus (id, v) VALUES (?, 'old')", [id]);
        }
        const r = await s.upsert("myblk_corpus", corpusRows(), { on: ["id"], strategy });
        expect(r.metadata.strategy).toBe(strategy);
        await expectCorpus(s, `upsert ${strategy}`);
      });
    },
  );

  test.each([
    ["values", 1],
    ["copy", 60],
  ] as const)("loadRecords (%s) stores the corpus byte for byte", async (strategy, copies) => {
    await run(async (s) => {
      await s.execute("DELETE FROM myblk_corpus");
      const rows = [];
      for (let k = 0; k < copies; k++) {
        for (const [id, v] of CORPUS.entries()) rows.push({ id: id + k * 1000, v, b: Buffer.from(v, "utf8") });
      }
      const r = await s.loadRecords("myblk_corpus", rows);
      expect(r.metadata.strategy).toBe(strategy);
      expect(r.rowsAffected).toBe(rows.length);
      await s.execute("DELETE FROM myblk_corpus WHERE id >= 1000");
      await expectCorpus(s, `loadRecords ${strategy}`);
    });
  });

  test("loadRecords from an async iterable streams through LOAD DATA", async () => {
    await run(async (s) => {
      await s.execute("DELETE FROM myblk_corpus");
      async function* gen() {
        for (const [id, v] of CORPUS.entries()) yield [id, v, Buffer.from(v, "utf8")];
      }
      const r = await s.loadRecords("myblk_corpus", gen(), { columns: ["id", "v", "b"] });
      expect(r.metadata.strategy).toBe("copy");
      await expectCorpus(s, "loadRecords stream");
    });
  });
});

describe("mysql: LOAD DATA LOCAL is served only for sqlspec's own stream", () => {
  test("a user's LOAD DATA LOCAL INFILE naming a client file reads nothing", async () => {
    await run(async (s) => {
      await s.execute("DELETE FROM myblk_corpus");
      const err = await s.execute("LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE myblk_corpus (v)").catch((e) => e);
      expect(err).toBeInstanceOf(Error);
      expect(await s.selectValue("SELECT count(*) FROM myblk_corpus")).toBe(0);
      expect(await s.selectValue("SELECT 1")).toBe(1);
    });
  });
});

describe("mysql: bulk semantics", () => {
  const rows = (n: number, from = 0) =>
    Array.from({ length: n }, (_, i) => ({
      id: from + i,
      name: `n${from + i}`,
      price: `${(from + i) % 1000}.25`,
      big: BigInt(from + i) * 1_000_000_007n,
      at: new Date(Date.UTC(2024, 0, 1) + (from + i) * 1000 + 123),
      flag: (from + i) % 2 === 0,
      doc: { i: from + i, tags: ["a", "b"] },
      raw: Buffer.from([(from + i) & 0xff, 0, 0x5c]),
    }));

  test.each(["values", "json", "copy"] as const)("every source stores the same values (%s)", async (strategy) => {
    await run(async (s) => {
      await s.execute("DELETE FROM myblk_items");
      await s.upsert("myblk_items", rows(50), { on: ["id"], strategy: "values" });
      const r = await s.upsert("myblk_items", rows(100), { on: ["id"], strategy });
      // 50 updated (each counts 2? no: unchanged rows count 0) + 50 inserted
      expect(r.rowsAffected).toBe(50);
      const got = await s.select("SELECT * FROM myblk_items WHERE id IN (7, 77) ORDER BY id");
      expect(got).toEqual([
        {
          id: 7,
          name: "n7",
          price: "7.25",
          big: 7_000_000_049,
          at: new Date(Date.UTC(2024, 0, 1) + 7123),
          flag: 0,
          doc: { i: 7, tags: ["a", "b"] },
          raw: Buffer.from([7, 0, 0x5c]),
        },
        {
          id: 77,
          name: "n77",
          price: "77.25",
          big: 77_000_000_539,
          at: new Date(Date.UTC(2024, 0, 1) + 77123),
          flag: 0,
          doc: { i: 77, tags: ["a", "b"] },
          raw: Buffer.from([77, 0, 0x5c]),
        },
      ]);
      const changed = rows(10).map((x) => ({ ...x, name: `${x.name}+` }));
      const u = await s.upsert("myblk_items", changed, { on: ["id"], strategy });
      expect(u.rowsAffected).toBe(20);
      expect(u.metadata).toMatchObject({ updated: 10, inserted: 0 });
    });
  });

  test("a failing row writes nothing, whichever source; unknown columns fail before I/O", async () => {
    await run(async (s) => {
      await s.execute("DELETE FROM myblk_items");
      for (const strategy of ["values", "json", "copy"] as const) {
        for (const [column, value, Cls] of [
          ["name", null, NotNullViolationError],
          ["price", "12x", DataError],
          ["name", "y".repeat(101), DataError],
        ] as const) {
          const bad: Record<string, unknown>[] = rows(3000);
          (bad[2500] as Record<string, unknown>)[column] = value;
          const err = await s.upsert("myblk_items", bad, { on: ["id"], strategy }).catch((e) => e);
          // The loader reports any conversion as a DataError (LOAD DATA LOCAL only warns).
          expect(err, `${strategy} ${column}`).toBeInstanceOf(strategy === "copy" ? DataError : Cls);
          expect(await s.selectValue("SELECT count(*) FROM myblk_items"), strategy).toBe(0);
        }
      }
      await expect(s.upsert("myblk_items", [{ id: 1, nope: 1 }], { on: ["id"] })).rejects.toBeInstanceOf(
        SQLBuilderError,
      );
      await expect(
        s.upsert("myblk_items", [{ id: 1, name: Symbol("x") }], { on: ["id"], strategy: "json" }),
      ).rejects.toBeInstanceOf(ParameterError);
      const loadErr = await s.loadRecords("myblk_items", [...rows(1500), ...rows(1)]).catch((e) => e);
      expect(loadErr).toBeInstanceOf(UniqueViolationError);
      expect(await s.selectValue("SELECT count(*) FROM myblk_items")).toBe(0);
    });
  });

  test("auto picks JSON_TABLE for small batches and spans chunks for large ones", async () => {
    await run(async (s) => {
      await s.execute("DELETE FROM myblk_items");
      const r = await s.upsert("myblk_items", rows(2000), { on: ["id"] });
      expect(r.metadata.strategy).toBe("json");
      expect(r.rowsAffected).toBe(2000);
      const v = await s.upsert("myblk_items", rows(2500, 1000), { on: ["id"], strategy: "values" });
      expect(v.rowsAffected).toBe(1000 * 2 * 0 + 1500); // 1000 unchanged, 1500 new
      expect(await s.selectValue("SELECT count(*) FROM myblk_items")).toBe(3500);
    });
  });

  test("ON DUPLICATE KEY UPDATE fires on any unique key, not only `on` (MySQL semantics, documented)", async () => {
    await run(async (s) => {
      await s.execute("DELETE FROM myblk_items");
      await s.upsert("myblk_items", [{ id: 1, name: "same" }], { on: ["id"] });
      await s.upsert("myblk_items", [{ id: 2, name: "same" }], { on: ["id"] });
      // Row 2 collided with row 1 on the unique name: row 1 was "updated" and no row 2 exists.
      expect(await s.select("SELECT id, name FROM myblk_items")).toEqual([{ id: 1, name: "same" }]);
    });
  });

  test("ON DUPLICATE KEY UPDATE form is chosen from the server: VALUES() on MariaDB, a row alias on MySQL ≥ 8.0.19", () => {
    const shape = { table: "db.t", columns: ["id", "name"], update: ["name"], key: "id" };
    expect(mysqlBulkSql.upsertValues(shape, 2, { flavor: "mariadb", versionNum: 101119 })).toBe(
      "INSERT INTO `db`.`t` (`id`, `name`) VALUES (?, ?), (?, ?) ON DUPLICATE KEY UPDATE `name` = VALUES(`name`)",
    );
    expect(mysqlBulkSql.upsertValues(shape, 1, { flavor: "mysql", versionNum: 80036 })).toBe(
      "INSERT INTO `db`.`t` (`id`, `name`) VALUES (?, ?) AS new ON DUPLICATE KEY UPDATE `name` = new.`name`",
    );
    expect(mysqlBulkSql.upsertValues(shape, 1, { flavor: "mysql", versionNum: 80018 })).toContain("VALUES(`name`)");
    const b = sql.insertInto("t").values({ id: 1, name: "x" }).onConflict().doUpdate(["name"]);
    expect(b.build("mysql", { serverFlavor: "mysql", serverVersionNum: 80036 }).sql).toBe(
      "INSERT INTO `t` (`id`, `name`) VALUES (?, ?) AS new ON DUPLICATE KEY UPDATE `name` = new.`name`",
    );
    expect(b.build("mysql", { serverFlavor: "mariadb", serverVersionNum: 101119 }).sql).toBe(
      "INSERT INTO `t` (`id`, `name`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `name` = VALUES(`name`)",
    );
  });

  test("upsert and loadRecords take timeoutMs and signal: a row-lock wait ends typed within the limit, nothing written", async () => {
    await run((s) => s.execute("DELETE FROM myblk_items"));
    await run((s) => s.execute("INSERT INTO myblk_items (id, name) VALUES (1, 'held')"));
    const holder = await db.provideSession();
    try {
      await holder.begin();
      await holder.execute("SELECT id FROM myblk_items WHERE id = 1 FOR UPDATE");
      await run(async (s) => {
        const until = (ms: number) => {
          const t = Date.now();
          return () => expect(Date.now() - t).toBeLessThan(ms);
        };
        for (const strategy of ["values", "json", "copy"] as const) {
          const done = until(3000);
          const err = await s
            .upsert("myblk_items", [...rows(3, 100), { ...rows(1, 1)[0], name: "new" }], {
              on: ["id"],
              strategy,
              timeoutMs: 200,
            })
            .catch((e) => e);
          expect(err, strategy).toBeInstanceOf(QueryTimeoutError);
          done();
        }
        for (const n of [2, 1500]) {
          // VALUES below 1,000 rows, LOAD DATA into a stage then INSERT … SELECT above.
          const ac = new AbortController();
          setTimeout(() => ac.abort(), 200);
          const done = until(3000);
          const err = await s
            .loadRecords("myblk_items", [...rows(n - 1, 2000), ...rows(1, 1)], { signal: ac.signal })
            .catch((e) => e);
          expect(err, `${n} rows`).toBeInstanceOf(OperationCancelledError);
          done();
        }
        expect(s.inTransaction).toBe(false);
        expect(await s.selectValue("SELECT count(*) FROM myblk_items")).toBe(1);
      });
    } finally {
      await holder.rollback();
      await holder.release();
    }
    expect(await run((s) => s.select("SELECT id, name FROM myblk_items"))).toEqual([{ id: 1, name: "held" }]);
  });

  test("sql.upsert(…, { dialect: 'mysql' }) runs on the session with the server's form", async () => {
    await run(async (s) => {
      await s.execute("DELETE FROM myblk_items");
      await s.execute("INSERT INTO myblk_items (id, name) VALUES (1, 'old')");
      const up = sql
        .upsert("myblk_items", { dialect: "mysql" })
        .using([
          { id: 1, name: "new" },
          { id: 2, name: "two" },
        ])
        .on("t.id = src.id")
        .whenMatchedThenUpdate({ name: "src.name" })
        .whenNotMatchedThenInsert(["id", "name"]);
      const r = await s.execute(up);
      expect(r.rowsAffected).toBe(3);
      expect(await s.select("SELECT id, name FROM myblk_items ORDER BY id")).toEqual([
        { id: 1, name: "new" },
        { id: 2, name: "two" },
      ]);
    });
  });
});
