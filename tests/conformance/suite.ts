/**
 * One conformance suite for every adapter: the same calls, the same expectations. An adapter's test file calls
 * `runConformance(name, makeConfig)`. What differs by SQL dialect (DDL, a series query, a routine body) comes from
 * the dialect's profile in ./dialects; what an adapter can or cannot do (savepoints, cancelling a running
 * statement) comes from the capabilities the adapter declares. A case an adapter cannot run is registered as skipped
 * with the capability in its name, so every run reports what it gated out and why.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { z } from "zod";
import {
  CheckViolationError,
  type DatabaseConfig,
  DataError,
  ForeignKeyViolationError,
  InCollectionFilter,
  LimitOffsetFilter,
  MultipleResultsFoundError,
  NotFoundError,
  NotNullViolationError,
  OperationCancelledError,
  OrderByFilter,
  ParameterError,
  QueryTimeoutError,
  SchemaValidationError,
  SearchFilter,
  type Session,
  SQLParsingError,
  SQLSpec,
  SQLSpecError,
  TransactionError,
  UniqueViolationError,
} from "../../src/index.js";
import { runDictionaryCases } from "./api-dictionary.js";
import { runExplainCases } from "./api-explain.js";
import { runFilterCases } from "./api-filters.js";
import { runOverwriteCases } from "./api-overwrite.js";
import { runSavepointCases } from "./api-savepoints.js";
import { runStackCases } from "./api-stack.js";
import { type DialectProfile, PROFILES, type Tables } from "./dialects/index.js";
import { runMergeAndArrayCases } from "./merge-and-arrays.js";
import { runMergeVersionCases } from "./merge-versions.js";
import { runTransactionCases } from "./transactions.js";
import { runUpsertCases } from "./upsert-cases.js";

export type AnyConfig = DatabaseConfig<any, any, any>;

/** What the suite gates on. Adapter facts come from the adapter's declared capabilities; dialect facts from the profile. */
export interface Gates {
  /** Nested transaction() runs as a SAVEPOINT (otherwise it must raise a typed error). */
  savepoints: boolean;
  /** A running statement can be interrupted by timeoutMs / AbortSignal. */
  cancel: boolean;
  /** The engine has MERGE (checked against its version). */
  merge: boolean;
  /** The engine reports SQLSTATE codes. */
  sqlState: boolean;
  /** Native array types bind from JS arrays. */
  arrays: boolean;
  /** An exact decimal type exists (DECIMAL/numeric → exact string). */
  exactDecimal: boolean;
  /** DML takes RETURNING. */
  returning: boolean;
  /**
   * int8 results mix number (within 2^53) and bigint (beyond). Adapters that implement DESIGN's one-type rule
   * (`driverFeatures.int8`) report the mode instead, and the 64-bit case checks that rule.
   */
  int8Mode: string | undefined;
}

export interface SuiteContext {
  name: string;
  /** The adapter's SQL dialect (`adapter.dialect`). */
  dialect: string;
  prefix: string;
  T: Tables;
  profile: DialectProfile;
  gates: Gates;
  withSession<R>(fn: (s: Session<any>) => Promise<R>): Promise<R>;
}

/** The capability flags an adapter declares (`adapter.capabilities`); adapters that declare none can do everything. */
function adapterCapability(adapter: unknown, key: "savepoints" | "cancel"): boolean {
  const caps = (adapter as { capabilities?: Partial<Record<string, unknown>> }).capabilities;
  const v = caps?.[key];
  return v === undefined ? true : v !== false && v !== "none";
}

/** Registers the case when its gate is open; otherwise as skipped, its name saying which capability is missing. */
export function gatedTest(open: boolean, gate: string) {
  return (title: string, fn: () => Promise<void>): void => {
    if (open) test(title, fn);
    else test.skip(`${title} [gated out: ${gate}]`, fn);
  };
}

/**
 * `only: "merge"` runs the MERGE and upsert cases alone (the version tier in tests/servers runs them on a server of
 * each PostgreSQL major).
 */
export function runConformance(name: string, makeConfig: () => AnyConfig, only?: "merge"): void {
  describe(`conformance: ${name}`, async () => {
    const spec = new SQLSpec();
    const db: AnyConfig = spec.addConfig(makeConfig());
    const adapter = await db.getAdapter();
    const profile = PROFILES[adapter.dialect];
    if (!profile)
      throw new Error(
        `No conformance profile for dialect ${adapter.dialect}: add tests/conformance/dialects/${adapter.dialect}.ts`,
      );
    const prefix = `cf_${name}`;
    const T: Tables = {
      items: `${prefix}_items`,
      parent: `${prefix}_parent`,
      child: `${prefix}_child`,
      types: `${prefix}_types`,
      products: `${prefix}_products`,
    };
    const withSession = <R>(fn: (s: Session<any>) => Promise<R>): Promise<R> => db.withSession(fn);
    const merge = await withSession((s) => s.dataDictionary.supports("merge"));
    const gates: Gates = {
      savepoints: adapterCapability(adapter, "savepoints"),
      cancel: adapterCapability(adapter, "cancel"),
      merge,
      sqlState: profile.sqlState,
      arrays: profile.arrays,
      exactDecimal: profile.exactDecimal,
      returning: profile.returning ?? true,
      int8Mode: (db.features as { int8?: string }).int8,
    };
    const ctx: SuiteContext = { name, dialect: adapter.dialect, prefix, T, profile, gates, withSession };
    const when = gatedTest;

    beforeAll(async () => {
      await withSession(async (s) => {
        for (const stmt of profile.dropTables(T)) await s.execute(stmt);
        for (const stmt of profile.createTables(T)) await s.execute(stmt);
      });
    });
    afterAll(async () => {
      await withSession(async (s) => {
        for (const stmt of profile.dropTables(T)) await s.execute(stmt);
      }).catch(() => {});
      await spec.closeAllPools();
    });

    if (only === "merge") {
      runMergeAndArrayCases(ctx, when);
      runMergeVersionCases(ctx);
      runUpsertCases(ctx);
      return;
    }

    test("CRUD rowsAffected is the engine's count; DDL is 0", async () => {
      await withSession(async (s) => {
        const ins = await s.execute(`INSERT INTO ${T.items} (id, name, qty) VALUES (?, ?, ?), (?, ?, ?), (7, 'x', 1)`, [
          1,
          "a",
          1,
          2,
          "b",
          2,
        ]);
        expect(ins.rowsAffected).toBe(3);
        expect(ins.operationType).toBe("INSERT");
        const upd = await s.execute(`UPDATE ${T.items} SET qty = qty + 1 WHERE id IN (1, 2)`);
        expect(upd.rowsAffected).toBe(2);
        expect(upd.operationType).toBe("UPDATE");
        const del = await s.execute(`DELETE FROM ${T.items} WHERE id = :id`, { id: 7 });
        expect(del.rowsAffected).toBe(1);
        expect(del.operationType).toBe("DELETE");
        const ddl = await s.execute(`CREATE INDEX IF NOT EXISTS ${prefix}_items_name ON ${T.items} (name)`);
        expect(ddl.rowsAffected).toBe(0);
        const sel = await s.execute(`SELECT id FROM ${T.items} ORDER BY id`);
        expect(sel.data).toEqual([{ id: 1 }, { id: 2 }]);
      });
    });

    when(gates.returning, "RETURNING")("DML with RETURNING reports the rows it changed", async () => {
      await withSession(async (s) => {
        const ins = await s.execute(
          `INSERT INTO ${T.items} (id, name, qty) VALUES (40, 'r1', 0), (41, 'r2', 0) RETURNING id`,
        );
        expect(ins.data).toEqual([{ id: 40 }, { id: 41 }]);
        expect(ins.rowsAffected).toBe(2);
        const upd = await s.execute(`UPDATE ${T.items} SET qty = 5 WHERE id >= 40 RETURNING id, qty`);
        expect(upd.rowsAffected).toBe(2);
        expect(upd.columnNames).toEqual(["id", "qty"]);
        const del = await s.execute(`DELETE FROM ${T.items} WHERE id >= 40 RETURNING name`);
        expect(del.rowsAffected).toBe(2);
        expect(del.data.map((r) => r.name).sort()).toEqual(["r1", "r2"]);
      });
    });

    test("columnNames exist on an empty result", async () => {
      const r = await withSession((s) => s.execute(`SELECT id, name AS label FROM ${T.items} WHERE 1 = 0`));
      expect(r.data).toEqual([]);
      expect(r.columnNames).toEqual(["id", "label"]);
    });

    test("selectOne / selectOneOrNull / selectValue / selectValueOrNull / selectWithTotal", async () => {
      await withSession(async (s) => {
        await expect(s.selectOne(`SELECT * FROM ${T.items} WHERE id = ?`, [999])).rejects.toBeInstanceOf(NotFoundError);
        await expect(s.selectOne(`SELECT * FROM ${T.items}`)).rejects.toBeInstanceOf(MultipleResultsFoundError);
        expect(await s.selectOneOrNull(`SELECT * FROM ${T.items} WHERE id = 999`)).toBeNull();
        expect(await s.selectOne(`SELECT name FROM ${T.items} WHERE id = ?`, [1])).toEqual({ name: "a" });
        expect(await s.selectValue(`SELECT count(*) FROM ${T.items}`)).toBe(2);
        expect(await s.selectValueOrNull(`SELECT name FROM ${T.items} WHERE id = 999`)).toBeNull();
        const [rows, total] = await s.selectWithTotal(`SELECT id FROM ${T.items} ORDER BY id LIMIT 1`);
        expect(rows).toEqual([{ id: 1 }]);
        expect(total).toBe(2);
      });
    });

    test("filters: search, in-collection, order and pagination, with the total", async () => {
      await withSession(async (s) => {
        await s.executeMany(`INSERT INTO ${T.items} (id, name, qty) VALUES (?, ?, ?)`, [
          [101, "Apple_pie", 1],
          [102, "apple%tart", 2],
          [103, "banana", 3],
          [104, "APPLE", 4],
        ]);
        const base = `SELECT id, name FROM ${T.items} WHERE id > 100`;
        const search = await s.select<{ id: number }>(base, undefined, {
          filters: [new SearchFilter("name", "apple"), new OrderByFilter("id", "desc")],
        });
        expect(search.map((r) => r.id)).toEqual([104, 102, 101]);
        // LIKE wildcards in the search value are literal.
        const literal = await s.select<{ id: number }>(base, undefined, {
          filters: [new SearchFilter("name", "_pie")],
        });
        expect(literal.map((r) => r.id)).toEqual([101]);
        const [page, total] = await s.selectWithTotal<{ id: number }>(base, undefined, {
          filters: [
            new InCollectionFilter("id", [101, 103, 104]),
            new OrderByFilter("id"),
            new LimitOffsetFilter(2, 1),
          ],
        });
        expect(page.map((r) => r.id)).toEqual([103, 104]);
        expect(total).toBe(3);
        await s.execute(`DELETE FROM ${T.items} WHERE id > 100`);
      });
    });

    test("Standard Schema validation types rows and rejects bad ones", async () => {
      await withSession(async (s) => {
        const Item = z.object({ id: z.number(), name: z.string() });
        const rows = await s.select(`SELECT id, name FROM ${T.items} ORDER BY id`, undefined, { schema: Item });
        expect(rows).toEqual([
          { id: 1, name: "a" },
          { id: 2, name: "b" },
        ]);
        const one = await s.selectOne(`SELECT id, name FROM ${T.items} WHERE id = 2`, undefined, { schema: Item });
        expect(one.name).toBe("b");
        const Wrong = z.object({ id: z.string() });
        const err = await s.select(`SELECT id FROM ${T.items}`, undefined, { schema: Wrong }).catch((e) => e);
        expect(err).toBeInstanceOf(SchemaValidationError);
        expect(err.message).toContain('"id"');
      });
    });

    when(gates.returning, "RETURNING")(
      "executeMany with RETURNING returns every set's rows, in set order",
      async () => {
        await withSession(async (s) => {
          const r = await s.executeMany(`INSERT INTO ${T.items} (id, name, qty) VALUES (?, ?, ?) RETURNING id, name`, [
            [52, "b", 1],
            [50, "a", 1],
            [51, "c", 1],
          ]);
          expect(r.rowsAffected).toBe(3);
          expect(r.data).toEqual([
            { id: 52, name: "b" },
            { id: 50, name: "a" },
            { id: 51, name: "c" },
          ]);
          expect(r.columnNames).toEqual(["id", "name"]);
          const u = await s.executeMany(`UPDATE ${T.items} SET qty = :qty WHERE id = :id RETURNING id, qty`, [
            { id: 51, qty: 7 },
            { id: 999, qty: 7 },
            { id: 50, qty: 8 },
          ]);
          expect(u.rowsAffected).toBe(2);
          expect(u.data).toEqual([
            { id: 51, qty: 7 },
            { id: 50, qty: 8 },
          ]);
          const plain = await s.executeMany(`DELETE FROM ${T.items} WHERE id = ?`, [[50], [51], [52]]);
          expect(plain.rowsAffected).toBe(3);
          expect(plain.data).toEqual([]);
        });
      },
    );

    test("executeMany with positional and named sets sums rowsAffected, atomically", async () => {
      await withSession(async (s) => {
        const a = await s.executeMany(`INSERT INTO ${T.items} (id, name, qty) VALUES (?, ?, ?)`, [
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
        await expect(
          s.executeMany(`INSERT INTO ${T.items} (id, name, qty) VALUES (?, ?, ?)`, [
            [13, "s", 1],
            [10, "dup", 1],
          ]),
        ).rejects.toBeInstanceOf(UniqueViolationError);
        expect(await s.selectValue(`SELECT count(*) FROM ${T.items} WHERE id = 13`)).toBe(0);
        await s.execute(`DELETE FROM ${T.items} WHERE id >= 10`);
      });
    });

    test("executeScript splits on top-level ; only (strings, comments, routine bodies)", async () => {
      await withSession(async (s) => {
        const r = await s.executeScript(`
          INSERT INTO ${T.items} (id, name, qty) VALUES (20, 'semi;colon', 0);
          -- a comment; with a semicolon
          /* block; comment */ INSERT INTO ${T.items} (id, name, qty) VALUES (21, 'it''s;quoted', 0);
        `);
        expect(r.operationType).toBe("SCRIPT");
        expect(r.metadata.statements).toBe(2);
        expect(await s.selectValue(`SELECT name FROM ${T.items} WHERE id = 21`)).toBe("it's;quoted");
        const routine = profile.routineScript(T, prefix);
        await s.executeScript(routine.script);
        expect(await s.selectValue(routine.check)).toBe(routine.expect);
        await s.executeScript(routine.cleanup);
        await s.execute(`DELETE FROM ${T.items} WHERE id >= 20`);
      });
    });

    test("transaction: commit on return, rollback on throw", async () => {
      await withSession(async (s) => {
        await expect(
          s.transaction(async (tx) => {
            await tx.execute(`INSERT INTO ${T.items} (id, name, qty) VALUES (30, 'tx', 0)`);
            expect(tx.inTransaction).toBe(true);
            throw new Error("boom");
          }),
        ).rejects.toThrow("boom");
        expect(s.inTransaction).toBe(false);
        expect(await s.selectValue(`SELECT count(*) FROM ${T.items} WHERE id = 30`)).toBe(0);
        const v = await s.transaction(async (tx) => {
          await tx.execute(`INSERT INTO ${T.items} (id, name, qty) VALUES (30, 'tx', 0)`);
          return "done";
        });
        expect(v).toBe("done");
        expect(await s.selectValue(`SELECT count(*) FROM ${T.items} WHERE id = 30`)).toBe(1);
        await s.begin();
        await s.execute(`DELETE FROM ${T.items} WHERE id = 30`);
        await s.rollback();
        expect(await s.selectValue(`SELECT count(*) FROM ${T.items} WHERE id = 30`)).toBe(1);
        await s.execute(`DELETE FROM ${T.items} WHERE id = 30`);
      });
    });

    when(gates.savepoints, "savepoints")("nested transaction() is a savepoint", async () => {
      await withSession(async (s) => {
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

    when(!gates.savepoints, "has savepoints")(
      "nested transaction() without savepoints raises a typed error and never flattens",
      async () => {
        await withSession(async (s) => {
          const err = await s
            .transaction(async (tx) => {
              await tx.execute(`INSERT INTO ${T.items} (id, name, qty) VALUES (34, 'outer', 0)`);
              await tx.transaction(async (inner) => {
                await inner.execute(`INSERT INTO ${T.items} (id, name, qty) VALUES (35, 'inner', 0)`);
              });
            })
            .catch((e) => e);
          expect(err).toBeInstanceOf(TransactionError);
          expect(err.message).toMatch(/savepoint/i);
          // The inner callback never ran and the outer transaction rolled back with the error.
          expect(await s.selectValue(`SELECT count(*) FROM ${T.items} WHERE id >= 34`)).toBe(0);
          expect(s.inTransaction).toBe(false);
        });
      },
    );

    test("integrity and syntax errors are typed, keep the native error as cause, and leave the session usable", async () => {
      await withSession(async (s) => {
        await s.execute(`DELETE FROM ${T.parent}`);
        await s.execute(`INSERT INTO ${T.parent} (id) VALUES (1)`);
        const uniq = await s.execute(`INSERT INTO ${T.items} (id, name, qty) VALUES (1, 'dup', 0)`).catch((e) => e);
        expect(uniq).toBeInstanceOf(UniqueViolationError);
        expect(uniq.message).toMatch(/unique constraint violation/);
        expect(uniq.cause).toBeDefined();
        expect(uniq.cause).not.toBeInstanceOf(SQLSpecError);
        if (gates.sqlState) expect(uniq.sqlState).toBe("23505");
        if (profile.itemsPrimaryKey) expect(uniq.constraint).toBe(profile.itemsPrimaryKey(T));

        const fk = await s.execute(`INSERT INTO ${T.child} (id, parent_id) VALUES (1, ?)`, [42]).catch((e) => e);
        expect(fk).toBeInstanceOf(ForeignKeyViolationError);
        if (gates.sqlState) expect(fk.sqlState).toBe("23503");
        const nn = await s.execute(`INSERT INTO ${T.items} (id, name) VALUES (?, ?)`, [50, null]).catch((e) => e);
        expect(nn).toBeInstanceOf(NotNullViolationError);
        expect(nn.column).toBe("name");
        const ck = await s.execute(`INSERT INTO ${T.items} (id, name, qty) VALUES (51, 'x', -1)`).catch((e) => e);
        expect(ck).toBeInstanceOf(CheckViolationError);
        if (gates.sqlState) expect(ck.sqlState).toBe("23514");
        const syn = await s.execute("SELEKT 1").catch((e) => e);
        expect(syn).toBeInstanceOf(SQLParsingError);
        if (gates.sqlState) expect(syn.sqlState).toBe("42601");
        // Bound values never appear in messages, even where the engine quotes the offending key.
        const secret = "s3cr3t-value";
        for (const stmt of [
          `INSERT INTO ${T.items} (id, name, qty) VALUES (1, ?, 0)`,
          `INSERT INTO ${T.items} (id, name, qty) VALUES (?, 'x', 0)`,
        ]) {
          const e2 = await s.execute(stmt, [stmt.includes("(?,") ? 1 : secret]).catch((e) => e);
          expect(e2).toBeInstanceOf(UniqueViolationError);
          expect(e2.message).not.toContain(secret);
        }
        const keyed = await s
          .execute(`INSERT INTO ${T.child} (id, parent_id) VALUES (2, ?)`, [987654321])
          .catch((e) => e);
        expect(keyed.message).not.toContain("987654321");
        expect(await s.selectValue("SELECT 1")).toBe(1);
        await s.execute(`DELETE FROM ${T.parent}`);
      });
    });

    test("bad input raises ParameterError before anything is sent", async () => {
      await withSession(async (s) => {
        await expect(s.execute(`SELECT * FROM ${T.items} WHERE id = ? AND name = ?`, [1])).rejects.toBeInstanceOf(
          ParameterError,
        );
        await expect(s.execute(`SELECT * FROM ${T.items} WHERE id = :id`, { other: 1 })).rejects.toBeInstanceOf(
          ParameterError,
        );
        const untyped: Record<string, unknown>[] = [{ id: 1, name: "x" }];
        await expect(s.upsert(T.items, untyped, { on: ["nope"] })).rejects.toBeInstanceOf(SQLSpecError);
        expect(await s.selectValue(`SELECT count(*) FROM ${T.items}`)).toBe(2);
      });
    });

    test("JSON both ways; SQL NULL stays NULL", async () => {
      await withSession(async (s) => {
        const doc = { a: 1, nested: { list: [1, "two", null] }, big: 12345678901234567890n };
        await s.execute(`INSERT INTO ${T.types} (id, j, jt) VALUES (1, ?, ?)`, [doc, { x: true }]);
        const row = await s.selectOne<{ j: unknown; jt: unknown }>(`SELECT j, jt FROM ${T.types} WHERE id = 1`);
        expect(row.jt).toEqual({ x: true });
        expect((row.j as { nested: unknown }).nested).toEqual({ list: [1, "two", null] });
        expect(await s.selectValue(`SELECT ${profile.jsonField("j", "big")} FROM ${T.types} WHERE id = 1`)).toBe(
          "12345678901234567890",
        );
        await s.execute(`INSERT INTO ${T.types} (id, j) VALUES (2, ?)`, [[1, 2, { k: "v" }]]);
        expect(await s.selectValue(`SELECT j FROM ${T.types} WHERE id = 2`)).toEqual([1, 2, { k: "v" }]);
        await s.execute(`INSERT INTO ${T.types} (id, j) VALUES (5, ?)`, [null]);
        expect(await s.selectValue(`SELECT j FROM ${T.types} WHERE id = 5`)).toBeNull();
        await s.execute(`DELETE FROM ${T.types}`);
      });
    });

    test("64-bit integers beyond 2^53 keep full precision", async () => {
      await withSession(async (s) => {
        const big = 9007199254740993n; // 2^53 + 1
        await s.execute(`INSERT INTO ${T.types} (id, big) VALUES (1, ?)`, [big]);
        await s.execute(`INSERT INTO ${T.types} (id, big) VALUES (2, ?)`, [42]);
        await s.execute(`INSERT INTO ${T.types} (id, big) VALUES (3, ?)`, [-9223372036854775808n]);
        const sel = `SELECT big FROM ${T.types} ORDER BY id`;
        if (gates.int8Mode === "number") {
          // One JS type per column: a value beyond 2^53 raises rather than being rounded.
          await expect(s.select(sel)).rejects.toBeInstanceOf(DataError);
          expect(await s.selectValue(`SELECT big FROM ${T.types} WHERE id = 2`)).toBe(42);
        } else {
          const rows = await s.select<{ big: unknown }>(sel);
          const as = (v: bigint | number) =>
            gates.int8Mode === "bigint" ? BigInt(v) : gates.int8Mode === "string" ? String(v) : v;
          expect(rows[0]?.big).toBe(as(big));
          expect(rows[1]?.big).toBe(as(42));
          expect(rows[2]?.big).toBe(as(-9223372036854775808n));
        }
        expect(await s.selectValue(`SELECT count(*) FROM ${T.types} WHERE big = ?`, [big])).toBe(1);
        await s.execute(`DELETE FROM ${T.types}`);
      });
    });

    when(gates.exactDecimal, "exact decimal type")("decimals come back as exact strings", async () => {
      await withSession(async (s) => {
        await s.execute(`INSERT INTO ${T.types} (id, num) VALUES (1, ?)`, ["12345678901234567890.123456789"]);
        expect(await s.selectValue(`SELECT num FROM ${T.types} WHERE id = 1`)).toBe("12345678901234567890.123456789");
        await s.execute(`DELETE FROM ${T.types}`);
      });
    });

    test("dates, binary, uuid and booleans round-trip", async () => {
      await withSession(async (s) => {
        const ts = new Date("2024-02-29T23:59:58.123Z");
        const bytes = Buffer.from([0, 1, 2, 254, 255]);
        const uuid = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
        await s.execute(`INSERT INTO ${T.types} (id, ts, b, u, flag) VALUES (1, ?, ?, ?, ?)`, [ts, bytes, uuid, true]);
        await s.execute(`INSERT INTO ${T.types} (id, flag, b) VALUES (2, ?, ?)`, [false, new Uint8Array([7, 8])]);
        const r = await s.selectOne<{ ts: Date; b: Buffer; u: string; flag: boolean }>(
          `SELECT ts, b, u, flag FROM ${T.types} WHERE id = 1`,
        );
        expect(r.ts).toBeInstanceOf(Date);
        expect(r.ts.getTime()).toBe(ts.getTime());
        expect(Buffer.isBuffer(r.b)).toBe(true);
        expect(r.b.equals(bytes)).toBe(true);
        expect(r.u).toBe(uuid);
        expect(r.flag).toBe(true);
        const r2 = await s.selectOne<{ flag: boolean; b: Buffer }>(`SELECT flag, b FROM ${T.types} WHERE id = 2`);
        expect(r2.flag).toBe(false);
        expect([...r2.b]).toEqual([7, 8]);
        expect(await s.selectValue(`SELECT count(*) FROM ${T.types} WHERE u = ?`, [uuid])).toBe(1);
        expect(await s.selectValue(`SELECT count(*) FROM ${T.types} WHERE ts = ?`, [ts])).toBe(1);
        expect(await s.selectValue(`SELECT count(*) FROM ${T.types} WHERE flag = ?`, [false])).toBe(1);
        await s.execute(`DELETE FROM ${T.types}`);
      });
    });

    test("stream yields every row in batches; breaking early leaves the session usable", async () => {
      await withSession(async (s) => {
        let n = 0;
        let sum = 0;
        for await (const row of s.stream<{ g: number }>(profile.series("?"), [2500], { batchSize: 1000 })) {
          n++;
          sum += row.g;
        }
        expect(n).toBe(2500);
        expect(sum).toBe((2500 * 2501) / 2);
        let seen = 0;
        for await (const _ of s.stream(profile.series("?"), [100000], { batchSize: 100 })) {
          if (++seen === 5) break;
        }
        expect(seen).toBe(5);
        expect(await s.selectValue("SELECT 2")).toBe(2);
        await s.transaction(async (tx) => {
          await tx.execute(`INSERT INTO ${T.items} (id, name, qty) VALUES (60, 'in-tx', 0)`);
          const ids: number[] = [];
          for await (const r of tx.stream<{ id: number }>(`SELECT id FROM ${T.items} WHERE id = 60`)) ids.push(r.id);
          expect(ids).toEqual([60]);
          await tx.execute(`DELETE FROM ${T.items} WHERE id = 60`);
        });
      });
    });

    test("session.upsert inserts and updates by key; update lists and insert-only work", async () => {
      await withSession(async (s) => {
        await s.execute(`INSERT INTO ${T.products} (id, name, stock) VALUES (1, 'old', 5)`);
        const r = await s.upsert(
          T.products,
          [
            { id: 1, name: "Widget", stock: 7 },
            { id: 2, name: "Gadget", stock: 3 },
          ],
          { on: ["id"] },
        );
        const count = profile.upsertCount ?? ((inserted: number, updated: number) => inserted + updated);
        expect(r.rowsAffected).toBe(count(1, 1));
        expect(typeof r.metadata.strategy).toBe("string");
        expect(await s.select(`SELECT id, name, stock FROM ${T.products} ORDER BY id`)).toEqual([
          { id: 1, name: "Widget", stock: 7 },
          { id: 2, name: "Gadget", stock: 3 },
        ]);
        await s.upsert(T.products, [{ id: 2, name: "Renamed", stock: 99 }], { on: ["id"], update: ["name"] });
        expect(await s.selectOne(`SELECT name, stock FROM ${T.products} WHERE id = 2`)).toEqual({
          name: "Renamed",
          stock: 3,
        });
        await s.upsert(
          T.products,
          [
            { id: 2, name: "Ignored", stock: 0 },
            { id: 3, name: "New", stock: 1 },
          ],
          {
            on: ["id"],
            update: [],
          },
        );
        expect(await s.select(`SELECT id, name FROM ${T.products} WHERE id >= 2 ORDER BY id`)).toEqual([
          { id: 2, name: "Renamed" },
          { id: 3, name: "New" },
        ]);
        // Many rows (past any single-statement threshold), half of them existing.
        const many = Array.from({ length: 3000 }, (_, i) => ({ id: i + 2, name: `n${i}`, stock: i }));
        const big = await s.upsert(T.products, many, { on: ["id"] });
        // ids 2 and 3 exist with other values (updated); 2,998 are new.
        expect(big.rowsAffected).toBe(count(2998, 2));
        expect(await s.selectValue(`SELECT count(*) FROM ${T.products}`)).toBe(3001);
        expect(await s.selectValue(`SELECT name FROM ${T.products} WHERE id = 3001`)).toBe("n2999");
        await s.execute(`DELETE FROM ${T.products}`);
      });
    });

    test("a failed upsert writes nothing", async () => {
      await withSession(async (s) => {
        const rows = Array.from({ length: 3000 }, (_, i) => ({
          id: i + 1,
          name: i === 2500 ? null : `n${i}`,
          stock: i,
        }));
        const err = await s.upsert(T.products, rows, { on: ["id"] }).catch((e) => e);
        expect(err).toBeInstanceOf(NotNullViolationError);
        expect(await s.selectValue(`SELECT count(*) FROM ${T.products}`)).toBe(0);
        const small = await s
          .upsert(
            T.products,
            [
              { id: 1, name: "ok", stock: 1 },
              { id: 2, name: null, stock: 1 },
            ],
            { on: ["id"] },
          )
          .catch((e) => e);
        expect(small).toBeInstanceOf(NotNullViolationError);
        expect(await s.selectValue(`SELECT count(*) FROM ${T.products}`)).toBe(0);
      });
    });

    test("loadRecords bulk-loads objects and arrays", async () => {
      await withSession(async (s) => {
        const rows = Array.from({ length: 500 }, (_, i) => ({ id: 1000 + i, name: `row\t${i}\n`, qty: i }));
        const r = await s.loadRecords(T.items, rows);
        expect(r.rowsAffected).toBe(500);
        expect(await s.selectValue(`SELECT name FROM ${T.items} WHERE id = 1007`)).toBe("row\t7\n");
        const arrays = await s.loadRecords(T.items, [[2000, "arr", 1]], { columns: ["id", "name", "qty"] });
        expect(arrays.rowsAffected).toBe(1);
        expect(await s.selectValue(`SELECT count(*) FROM ${T.items} WHERE id >= 1000`)).toBe(501);
        await s.execute(`DELETE FROM ${T.items} WHERE id >= 1000`);
      });
    });

    test("an AbortSignal that already fired rejects before anything is sent", async () => {
      await withSession(async (s) => {
        const ac = new AbortController();
        ac.abort();
        const err = await s
          .execute(`INSERT INTO ${T.items} (id, name, qty) VALUES (70, 'never', 0)`, undefined, { signal: ac.signal })
          .catch((e) => e);
        expect(err).toBeInstanceOf(OperationCancelledError);
        expect(await s.selectValue(`SELECT count(*) FROM ${T.items} WHERE id = 70`)).toBe(0);
      });
    });

    when(gates.cancel, "cancel")("timeoutMs and AbortSignal interrupt a running statement", async () => {
      await withSession(async (s) => {
        const t0 = performance.now();
        const timeout = await s.execute(profile.slowStatement, undefined, { timeoutMs: 100 }).catch((e) => e);
        expect(timeout).toBeInstanceOf(QueryTimeoutError);
        expect(performance.now() - t0).toBeLessThan(2500);
        const ac = new AbortController();
        setTimeout(() => ac.abort(), 100);
        const cancelled = await s.execute(profile.slowStatement, undefined, { signal: ac.signal }).catch((e) => e);
        expect(cancelled).toBeInstanceOf(OperationCancelledError);
        expect(await s.selectValue("SELECT 3")).toBe(3);
      });
    });

    test("a repeated (cached) statement survives a change to its table", async () => {
      await withSession(async (s) => {
        const t = `${prefix}_alter`;
        await s.execute(`DROP TABLE IF EXISTS ${t}`);
        await s.execute(`CREATE TABLE ${t} (id int)`);
        await s.execute(`INSERT INTO ${t} VALUES (1)`);
        for (let i = 0; i < 3; i++) expect(await s.select(`SELECT * FROM ${t} WHERE id = ?`, [1])).toEqual([{ id: 1 }]);
        await s.execute(`ALTER TABLE ${t} ADD COLUMN extra ${profile.textType ?? "varchar"} DEFAULT 'x'`);
        const r = await s.execute(`SELECT * FROM ${t} WHERE id = ?`, [1]);
        expect(r.data).toEqual([{ id: 1, extra: "x" }]);
        expect(r.columnNames).toEqual(["id", "extra"]);
        await s.execute(`DROP TABLE ${t}`);
      });
    });

    test("dataDictionary: catalog columns in table order", async () => {
      await withSession(async (s) => {
        const cols = await s.dataDictionary.getColumns(T.products);
        expect(cols.map((c) => [c.name, c.type])).toEqual(profile.productColumns);
        expect(cols.find((c) => c.name === "name")?.nullable).toBe(false);
        expect(cols.find((c) => c.name === "stock")?.hasDefault).toBe(true);
      });
    });

    runMergeAndArrayCases(ctx, when);
    runMergeVersionCases(ctx);
    runUpsertCases(ctx);
    runFilterCases(ctx);
    runTransactionCases(ctx);
    runSavepointCases(ctx, when);
    runDictionaryCases(ctx);
    runStackCases(ctx);
    runOverwriteCases(ctx);
    runExplainCases(ctx);
  });
}
