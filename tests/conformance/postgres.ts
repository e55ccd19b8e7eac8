/**
 * One conformance suite for every PostgreSQL adapter (pglite, pg, postgresjs): the same statements, the same
 * expectations. Each adapter's test file calls `runPostgresConformance(name, makeConfig)`.
 * Tables are prefixed per adapter (`pgc_<name>_…`) because the server adapters share one database.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  CheckViolationError,
  type DatabaseConfig,
  DialectNotSupportedError,
  ForeignKeyViolationError,
  JsonValue,
  MultipleResultsFoundError,
  NotFoundError,
  NotNullViolationError,
  type Session,
  SQLParsingError,
  SQLSpec,
  sql,
  UniqueViolationError,
} from "../../src/index.js";

type AnyConfig = DatabaseConfig<any, any, any>;

export function runPostgresConformance(name: string, makeConfig: () => AnyConfig): void {
  const p = `pgc_${name}`;
  const T = {
    items: `${p}_items`,
    parent: `${p}_parent`,
    child: `${p}_child`,
    types: `${p}_types`,
    products: `${p}_products`,
  };
  const spec = new SQLSpec();
  let db: AnyConfig;
  const withSession = <R>(fn: (s: Session<any>) => Promise<R>): Promise<R> => db.withSession(fn);

  describe(`PostgreSQL conformance: ${name}`, () => {
    beforeAll(async () => {
      db = spec.addConfig(makeConfig());
      await withSession((s) =>
        s.executeScript(`
          DROP TABLE IF EXISTS ${T.child}, ${T.parent}, ${T.items}, ${T.types}, ${T.products};
          CREATE TABLE ${T.items} (id int PRIMARY KEY, name text NOT NULL, qty int CHECK (qty >= 0));
          CREATE TABLE ${T.parent} (id int PRIMARY KEY);
          CREATE TABLE ${T.child} (id int PRIMARY KEY, parent_id int REFERENCES ${T.parent}(id));
          CREATE TABLE ${T.types} (id serial PRIMARY KEY, big int8, num numeric, ts timestamptz, b bytea, u uuid,
                                   j jsonb, jt json, ints int[], texts text[]);
          CREATE TABLE ${T.products} (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2), stock int DEFAULT 0);
        `),
      );
    });
    afterAll(async () => {
      await withSession((s) =>
        s.executeScript(`DROP TABLE IF EXISTS ${T.child}, ${T.parent}, ${T.items}, ${T.types}, ${T.products}`),
      ).catch(() => {});
      await spec.closeAllPools();
    });

    test("CRUD rowsAffected comes from the command tag; DDL is 0", async () => {
      await withSession(async (s) => {
        const ins = await s.execute(
          `INSERT INTO ${T.items} (id, name, qty) VALUES ($1, $2, $3), ($4, $5, $6), (7, 'x', 1)`,
          [1, "a", 1, 2, "b", 2],
        );
        expect(ins.rowsAffected).toBe(3);
        expect(ins.operationType).toBe("INSERT");
        const upd = await s.execute(`UPDATE ${T.items} SET qty = qty + 1 WHERE id IN (1, 2)`);
        expect(upd.rowsAffected).toBe(2);
        expect(upd.operationType).toBe("UPDATE");
        const del = await s.execute(`DELETE FROM ${T.items} WHERE id = :id`, { id: 7 });
        expect(del.rowsAffected).toBe(1);
        const ddl = await s.execute(`CREATE INDEX IF NOT EXISTS ${p}_items_name ON ${T.items} (name)`);
        expect(ddl.rowsAffected).toBe(0);
        const sel = await s.execute(`SELECT id FROM ${T.items} ORDER BY id`);
        expect(sel.data).toEqual([{ id: 1 }, { id: 2 }]);
      });
    });

    test("columnNames exist on an empty result", async () => {
      const r = await withSession((s) => s.execute(`SELECT id, name AS label FROM ${T.items} WHERE false`));
      expect(r.data).toEqual([]);
      expect(r.columnNames).toEqual(["id", "label"]);
    });

    test("selectOne / selectOneOrNull / selectValue / selectWithTotal", async () => {
      await withSession(async (s) => {
        await expect(s.selectOne(`SELECT * FROM ${T.items} WHERE id = $1`, [999])).rejects.toBeInstanceOf(
          NotFoundError,
        );
        await expect(s.selectOne(`SELECT * FROM ${T.items}`)).rejects.toBeInstanceOf(MultipleResultsFoundError);
        expect(await s.selectOneOrNull(`SELECT * FROM ${T.items} WHERE id = 999`)).toBeNull();
        expect(await s.selectOne(`SELECT name FROM ${T.items} WHERE id = ?`, [1])).toEqual({ name: "a" });
        expect(await s.selectValue(`SELECT count(*) FROM ${T.items}`)).toBe(2);
        const [rows, total] = await s.selectWithTotal(`SELECT id FROM ${T.items} ORDER BY id LIMIT 1`);
        expect(rows).toEqual([{ id: 1 }]);
        expect(total).toBe(2);
      });
    });

    test("executeMany with positional and named sets sums rowsAffected", async () => {
      await withSession(async (s) => {
        const a = await s.executeMany(`INSERT INTO ${T.items} (id, name, qty) VALUES ($1, $2, $3)`, [
          [10, "p", 1],
          [11, "q", 2],
          [12, "r", 3],
        ]);
        expect(a.rowsAffected).toBe(3);
        const b = await s.executeMany(`UPDATE ${T.items} SET qty = :qty WHERE id = :id`, [
          { id: 10, qty: 5 },
          { id: 11, qty: 5 },
          { id: 999, qty: 5 },
        ]);
        expect(b.rowsAffected).toBe(2);
        // Atomic: a failing set leaves nothing behind.
        await expect(
          s.executeMany(`INSERT INTO ${T.items} (id, name, qty) VALUES ($1, $2, $3)`, [
            [13, "s", 1],
            [10, "dup", 1],
          ]),
        ).rejects.toBeInstanceOf(UniqueViolationError);
        expect(await s.selectValue(`SELECT count(*) FROM ${T.items} WHERE id = 13`)).toBe(0);
        await s.execute(`DELETE FROM ${T.items} WHERE id >= 10`);
      });
    });

    test("executeScript with ; inside strings and $$ bodies", async () => {
      await withSession(async (s) => {
        const r = await s.executeScript(`
          CREATE OR REPLACE FUNCTION ${p}_f() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'a;b'; END; $$;
          INSERT INTO ${T.items} (id, name, qty) VALUES (20, 'semi;colon', 0);
          -- a comment; with a semicolon
          INSERT INTO ${T.items} (id, name, qty) VALUES (21, $q$dollar;quoted$q$, 0);
        `);
        expect(r.operationType).toBe("SCRIPT");
        expect(await s.selectValue(`SELECT ${p}_f()`)).toBe("a;b");
        expect(await s.selectValue(`SELECT name FROM ${T.items} WHERE id = 21`)).toBe("dollar;quoted");
        await s.executeScript(`DELETE FROM ${T.items} WHERE id >= 20; DROP FUNCTION ${p}_f();`);
      });
    });

    test("transaction: rollback on throw, savepoints nest", async () => {
      await withSession(async (s) => {
        await expect(
          s.transaction(async (tx) => {
            await tx.execute(`INSERT INTO ${T.items} (id, name, qty) VALUES (30, 'tx', 0)`);
            throw new Error("boom");
          }),
        ).rejects.toThrow("boom");
        expect(await s.selectValue(`SELECT count(*) FROM ${T.items} WHERE id = 30`)).toBe(0);

        await s.transaction(async (tx) => {
          await tx.execute(`INSERT INTO ${T.items} (id, name, qty) VALUES (31, 'outer', 0)`);
          await expect(
            tx.transaction(async (inner) => {
              await inner.execute(`INSERT INTO ${T.items} (id, name, qty) VALUES (32, 'inner', 0)`);
              throw new Error("inner");
            }),
          ).rejects.toThrow("inner");
          await tx.transaction(async (inner) => {
            await inner.execute(`INSERT INTO ${T.items} (id, name, qty) VALUES (33, 'inner ok', 0)`);
          });
        });
        const ids = await s.select<{ id: number }>(`SELECT id FROM ${T.items} WHERE id >= 30 ORDER BY id`);
        expect(ids.map((r) => r.id)).toEqual([31, 33]);
        await s.execute(`DELETE FROM ${T.items} WHERE id >= 30`);
      });
    });

    test("integrity and syntax errors are typed, carry server fields, and leave the session usable", async () => {
      await withSession(async (s) => {
        await s.execute(`INSERT INTO ${T.parent} (id) VALUES (1) ON CONFLICT DO NOTHING`);
        const uniq = await s.execute(`INSERT INTO ${T.items} (id, name, qty) VALUES (1, 'dup', 0)`).catch((e) => e);
        expect(uniq).toBeInstanceOf(UniqueViolationError);
        expect(uniq.sqlState).toBe("23505");
        expect(uniq.constraint).toBe(`${T.items}_pkey`);
        expect(uniq.table).toBe(T.items);
        expect(uniq.detail).toContain("already exists");
        expect(uniq.message).toMatch(/^PostgreSQL unique constraint violation \[23505\]/);
        expect(uniq.cause).toBeDefined();

        const fk = await s.execute(`INSERT INTO ${T.child} (id, parent_id) VALUES (1, $1)`, [42]).catch((e) => e);
        expect(fk).toBeInstanceOf(ForeignKeyViolationError);
        expect(fk.sqlState).toBe("23503");
        const nn = await s.execute(`INSERT INTO ${T.items} (id, name) VALUES ($1, $2)`, [50, null]).catch((e) => e);
        expect(nn).toBeInstanceOf(NotNullViolationError);
        expect(nn.column).toBe("name");
        const ck = await s.execute(`INSERT INTO ${T.items} (id, name, qty) VALUES (51, 'x', -1)`).catch((e) => e);
        expect(ck).toBeInstanceOf(CheckViolationError);
        expect(ck.sqlState).toBe("23514");
        const syn = await s.execute("SELEKT 1").catch((e) => e);
        expect(syn).toBeInstanceOf(SQLParsingError);
        expect(syn.sqlState).toBe("42601");
        // Parameter values never appear in messages.
        const secret = "s3cr3t-value";
        const e2 = await s
          .execute(`INSERT INTO ${T.items} (id, name, qty) VALUES (1, $1, 0)`, [secret])
          .catch((e) => e);
        expect(e2.message).not.toContain(secret);
        expect(await s.selectValue("SELECT 1")).toBe(1);
      });
    });

    test("JSON both ways, null into jsonb, and the array ambiguity", async () => {
      await withSession(async (s) => {
        const doc = { a: 1, nested: { list: [1, "two", null] }, big: 12345678901234567890n };
        await s.execute(`INSERT INTO ${T.types} (id, j, jt) VALUES (1, $1, $2)`, [doc, { x: true }]);
        const row = await s.selectOne<{ j: unknown; jt: unknown }>(`SELECT j, jt FROM ${T.types} WHERE id = 1`);
        expect(row.jt).toEqual({ x: true });
        expect((row.j as { nested: unknown }).nested).toEqual({ list: [1, "two", null] });
        expect(await s.selectValue(`SELECT (j->>'big') FROM ${T.types} WHERE id = 1`)).toBe("12345678901234567890");

        // A JS array bound to a jsonb parameter is a JSON array …
        await s.execute(`INSERT INTO ${T.types} (id, j) VALUES (2, $1)`, [[1, 2, { k: "v" }]]);
        expect(await s.selectValue(`SELECT jsonb_typeof(j) FROM ${T.types} WHERE id = 2`)).toBe("array");
        expect(await s.selectValue(`SELECT j FROM ${T.types} WHERE id = 2`)).toEqual([1, 2, { k: "v" }]);
        // … the same array bound to an array-typed parameter is a PostgreSQL array.
        await s.execute(`INSERT INTO ${T.types} (id, ints, texts) VALUES (3, $1, $2)`, [
          [1, 2, 3],
          ["a", 'q"uote', "c,d"],
        ]);
        const arr = await s.selectOne<{ ints: number[]; texts: string[] }>(
          `SELECT ints, texts FROM ${T.types} WHERE id = 3`,
        );
        expect(arr).toEqual({ ints: [1, 2, 3], texts: ["a", 'q"uote', "c,d"] });
        const any = await s.select<{ id: number }>(`SELECT id FROM ${T.types} WHERE id = ANY($1) ORDER BY id`, [
          [1, 3, 99],
        ]);
        expect(any.map((r) => r.id)).toEqual([1, 3]);
        // The explicit marker forces JSON (here into a json column via a text cast context).
        await s.execute(`INSERT INTO ${T.types} (id, j) VALUES (4, $1)`, [new JsonValue(["x", 1])]);
        expect(await s.selectValue(`SELECT j FROM ${T.types} WHERE id = 4`)).toEqual(["x", 1]);

        // SQL NULL vs JSON null.
        await s.execute(`INSERT INTO ${T.types} (id, j) VALUES (5, $1)`, [null]);
        expect(await s.selectValue(`SELECT j IS NULL FROM ${T.types} WHERE id = 5`)).toBe(true);
        await s.execute(`INSERT INTO ${T.types} (id, j) VALUES (6, $1)`, [new JsonValue(null)]);
        expect(await s.selectValue(`SELECT jsonb_typeof(j) FROM ${T.types} WHERE id = 6`)).toBe("null");
        // A string bound to jsonb is JSON text (never encoded twice).
        await s.execute(`INSERT INTO ${T.types} (id, j) VALUES (7, $1)`, ['{"pre":"encoded"}']);
        expect(await s.selectValue(`SELECT j->>'pre' FROM ${T.types} WHERE id = 7`)).toBe("encoded");
        await s.execute(`DELETE FROM ${T.types}`);
      });
    });

    test("int8 beyond 2^53 and numeric keep full precision", async () => {
      await withSession(async (s) => {
        await s.execute(`DELETE FROM ${T.types}`);
        const big = 9007199254740993n; // 2^53 + 1
        await s.execute(`INSERT INTO ${T.types} (id, big, num) VALUES (1, $1, $2)`, [
          big,
          "12345678901234567890.123456789",
        ]);
        await s.execute(`INSERT INTO ${T.types} (id, big) VALUES (2, $1)`, [42]);
        const rows = await s.select<{ big: unknown; num: unknown }>(`SELECT big, num FROM ${T.types} ORDER BY id`);
        expect(rows[0]?.big).toBe(big);
        expect(rows[0]?.num).toBe("12345678901234567890.123456789");
        expect(rows[1]?.big).toBe(42); // int8 inside the safe range is a number
        expect(await s.selectValue("SELECT '-9223372036854775808'::int8")).toBe(-9223372036854775808n);
        expect(await s.selectValue("SELECT ARRAY[1, 9007199254740993]::int8[]")).toEqual([1, 9007199254740993n]);
        expect(await s.selectValue("SELECT 0.1::numeric + 0.2::numeric")).toBe("0.3");
        await s.execute(`DELETE FROM ${T.types}`);
      });
    });

    test("timestamptz, bytea, uuid round-trip", async () => {
      await withSession(async (s) => {
        await s.execute(`DELETE FROM ${T.types}`);
        const ts = new Date("2024-02-29T23:59:58.123Z");
        const bytes = Buffer.from([0, 1, 2, 254, 255]);
        const uuid = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
        await s.execute(`INSERT INTO ${T.types} (id, ts, b, u) VALUES (1, $1, $2, $3)`, [ts, bytes, uuid]);
        const r = await s.selectOne<{ ts: Date; b: Buffer; u: string }>(`SELECT ts, b, u FROM ${T.types} WHERE id = 1`);
        expect(r.ts).toBeInstanceOf(Date);
        expect(r.ts.getTime()).toBe(ts.getTime());
        expect(Buffer.isBuffer(r.b)).toBe(true);
        expect(r.b.equals(bytes)).toBe(true);
        expect(r.u).toBe(uuid);
        expect(await s.selectValue(`SELECT count(*) FROM ${T.types} WHERE u = $1`, [uuid])).toBe(1);
        await s.execute(`DELETE FROM ${T.types}`);
      });
    });

    test("stream yields every row in batches; breaking early leaves the session usable", async () => {
      await withSession(async (s) => {
        let n = 0;
        let sum = 0;
        for await (const row of s.stream<{ g: number }>("SELECT g FROM generate_series(1, $1::int) g", [2500], {
          batchSize: 1000,
        })) {
          n++;
          sum += row.g;
        }
        expect(n).toBe(2500);
        expect(sum).toBe((2500 * 2501) / 2);
        let seen = 0;
        for await (const _ of s.stream("SELECT g FROM generate_series(1, 100000) g", undefined, { batchSize: 100 })) {
          if (++seen === 5) break;
        }
        expect(seen).toBe(5);
        expect(await s.selectValue("SELECT 2")).toBe(2);
        // Inside a transaction the stream joins it.
        await s.transaction(async (tx) => {
          await tx.execute(`INSERT INTO ${T.items} (id, name, qty) VALUES (60, 'in-tx', 0)`);
          const ids: number[] = [];
          for await (const r of tx.stream<{ id: number }>(`SELECT id FROM ${T.items} WHERE id = 60`)) ids.push(r.id);
          expect(ids).toEqual([60]);
          await tx.execute(`DELETE FROM ${T.items} WHERE id = 60`);
        });
      });
    });

    test("a repeated (prepared) statement survives a change to its table", async () => {
      await withSession(async (s) => {
        const t = `${p}_alter`;
        await s.execute(`DROP TABLE IF EXISTS ${t}`);
        await s.execute(`CREATE TABLE ${t} (id int)`);
        await s.execute(`INSERT INTO ${t} VALUES (1)`);
        for (let i = 0; i < 3; i++)
          expect(await s.select(`SELECT * FROM ${t} WHERE id = $1`, [1])).toEqual([{ id: 1 }]);
        await s.execute(`ALTER TABLE ${t} ADD COLUMN extra text DEFAULT 'x'`);
        const r = await s.execute(`SELECT * FROM ${t} WHERE id = $1`, [1]);
        expect(r.data).toEqual([{ id: 1, extra: "x" }]);
        expect(r.columnNames).toEqual(["id", "extra"]);
        await s.execute(`DROP TABLE ${t}`);
      });
    });

    test("arrays of dates, bigints and booleans bind to array columns and to jsonb", async () => {
      await withSession(async (s) => {
        const d = [new Date("2024-01-01T00:00:00Z"), new Date("2024-06-01T12:00:00Z")];
        const got = await s.selectValue<Date[]>("SELECT $1::timestamptz[]", [d]);
        expect(got.map((x) => x.getTime())).toEqual(d.map((x) => x.getTime()));
        expect(await s.selectValue("SELECT $1::int8[]", [[1n, 9007199254740993n]])).toEqual([1, 9007199254740993n]);
        expect(await s.selectValue("SELECT $1::bool[]", [[true, false]])).toEqual([true, false]);
        expect(await s.selectValue("SELECT $1::jsonb", [[true, 2n, "x"]])).toEqual([true, 2, "x"]);
      });
    });

    test("dataDictionary: version, MERGE support, catalog columns", async () => {
      await withSession(async (s) => {
        const v = await s.dataDictionary.getVersion();
        expect(v.versionNum).toBeGreaterThanOrEqual(150000);
        expect(await s.dataDictionary.supports("merge")).toBe(true);
        const cols = await s.dataDictionary.getColumns(T.products);
        expect(cols.map((c) => [c.name, c.type])).toEqual([
          ["id", "integer"],
          ["name", "text"],
          ["price", "numeric(10,2)"],
          ["stock", "integer"],
        ]);
      });
    });

    test("builder MERGE from rows and sql.upsert", async () => {
      await withSession(async (s) => {
        await s.execute(`INSERT INTO ${T.products} (id, name, price) VALUES (1, 'old', 9.99)`);
        const rows = [
          { id: 1, name: "Widget", price: "19.99" },
          { id: 2, name: "Gadget", price: 5.5 },
        ];
        const merged = await s.execute(
          sql
            .merge()
            .into(T.products, "t")
            .using(rows, "src")
            .on("t.id = src.id")
            .whenMatchedThenUpdate({ name: "src.name", price: "src.price" })
            .whenNotMatchedThenInsert({ id: "src.id", name: "src.name", price: "src.price" }),
        );
        expect(merged.rowsAffected).toBe(2);
        expect(merged.operationType).toBe("MERGE");
        expect(await s.select(`SELECT id, name, price FROM ${T.products} ORDER BY id`)).toEqual([
          { id: 1, name: "Widget", price: "19.99" },
          { id: 2, name: "Gadget", price: "5.50" },
        ]);
        const up = await s.execute(
          sql
            .upsert(T.products, { dialect: "postgres" })
            .using([{ id: 2, name: "Gadget 2", price: 6 }], "src")
            .on("t.id = src.id")
            .whenMatchedThenUpdate({ name: "src.name", price: "src.price" })
            .whenNotMatchedThenInsert(["id", "name", "price"]),
        );
        expect(up.rowsAffected).toBe(1);
        expect(await s.selectValue(`SELECT name FROM ${T.products} WHERE id = 2`)).toBe("Gadget 2");
        const viaSession = await s.upsert(T.products, [{ id: 3, name: "Thing", price: 1 }], { on: ["id"] });
        expect(viaSession.rowsAffected).toBe(1);
        await s.execute(`DELETE FROM ${T.products}`);
      });
    });

    test("MERGE capabilities follow the server version: BY SOURCE / RETURNING need 17, checked before sending", async () => {
      await withSession(async (s) => {
        await s.execute(`INSERT INTO ${T.products} (id, name, price) VALUES (1, 'keep', 1), (2, 'gone', 2)`);
        const bySource = sql
          .merge()
          .into(T.products, "t")
          .using([{ id: 1, name: "kept", price: 3 }], "src")
          .on("t.id = src.id")
          .whenMatchedThenUpdate({ name: "src.name" })
          .whenNotMatchedBySourceThenDelete();
        const { versionNum, version } = await s.dataDictionary.getVersion();
        if (versionNum >= 170000) {
          // PGlite is PostgreSQL 18: the clause runs.
          expect((await s.execute(bySource)).rowsAffected).toBe(2);
          expect(await s.select(`SELECT id, name FROM ${T.products} ORDER BY id`)).toEqual([{ id: 1, name: "kept" }]);
        } else {
          const err = await s.execute(bySource).catch((e) => e);
          expect(err).toBeInstanceOf(DialectNotSupportedError);
          expect(err.message).toContain(version.split(" ")[0]);
          // Nothing reached the server: both rows are untouched.
          expect(await s.select(`SELECT id, name FROM ${T.products} ORDER BY id`)).toEqual([
            { id: 1, name: "keep" },
            { id: 2, name: "gone" },
          ]);
        }
        await s.execute(`DELETE FROM ${T.products}`);
      });
    });

    test("loadRecords bulk-loads through COPY", async () => {
      await withSession(async (s) => {
        const rows = Array.from({ length: 500 }, (_, i) => ({ id: 1000 + i, name: `row\t${i}\n`, qty: i }));
        const r = await s.loadRecords(T.items, rows);
        expect(r.rowsAffected).toBe(500);
        expect(await s.selectValue(`SELECT name FROM ${T.items} WHERE id = 1007`)).toBe("row\t7\n");
        await s.execute(`DELETE FROM ${T.items} WHERE id >= 1000`);
      });
    });
  });
}
