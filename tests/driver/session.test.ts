import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { z } from "zod";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import {
  ImproperConfigurationError,
  InCollectionFilter,
  LimitOffsetFilter,
  MultipleResultsFoundError,
  NotFoundError,
  NotInCollectionFilter,
  OperationCancelledError,
  OrderByFilter,
  ParameterError,
  SchemaValidationError,
  SearchFilter,
  SQL,
  SQLResult,
  SQLSpec,
  sql,
  TransactionError,
  UniqueViolationError,
} from "../../src/index.js";

/** The generic Session (driver/) on embedded PGlite: filters, schema mapping, registry, result helpers. */
const spec = new SQLSpec();
const db = spec.addConfig(new PgliteConfig({ bindKey: "main", driverFeatures: { enablePgvector: false } }));

beforeAll(async () => {
  await db.withSession((s) =>
    s.executeScript(`
      CREATE TABLE people (id int PRIMARY KEY, name text NOT NULL, team text, score int);
      INSERT INTO people VALUES
        (1, 'Ada', 'core', 90), (2, 'Grace', 'core', 85), (3, 'Linus', 'kernel', 70),
        (4, 'Barbara', 'lang', 95), (5, 'Ken', 'kernel', 60), (6, 'ada%_x', 'misc', 10);
    `),
  );
});
afterAll(() => spec.closeAllPools());

describe("filters", () => {
  test("LimitOffset + OrderBy + Search + InCollection compose, values bound", async () => {
    const rows = await db.withSession((s) =>
      s.select<{ id: number }>("SELECT id, name, team FROM people", undefined, {
        filters: [
          new InCollectionFilter("team", ["core", "lang", "kernel"]),
          new SearchFilter("name", "A"),
          new OrderByFilter("id", "desc"),
          new LimitOffsetFilter(2, 1),
        ],
      }),
    );
    // name ILIKE %A%: Ada, Grace, Barbara (not Ken/Linus) → ordered desc: 4, 2, 1 → offset 1 limit 2: 2, 1
    expect(rows.map((r) => r.id)).toEqual([2, 1]);
  });

  test("selectOne applies filters too", async () => {
    const row = await db.withSession((s) =>
      s.selectOne<{ id: number }>("SELECT id FROM people WHERE team = $1", ["core"], {
        filters: [new InCollectionFilter("id", [2, 3])],
      }),
    );
    expect(row).toEqual({ id: 2 });
  });

  test("SearchFilter escapes LIKE wildcards in the user's value", async () => {
    const rows = await db.withSession((s) =>
      s.select<{ id: number }>("SELECT * FROM people", undefined, { filters: [new SearchFilter("name", "%_")] }),
    );
    expect(rows.map((r) => r.id)).toEqual([6]);
  });

  test("NotInCollection and an empty InCollection", async () => {
    await db.withSession(async (s) => {
      const notIn = await s.select<{ id: number }>("SELECT id FROM people", undefined, {
        filters: [new NotInCollectionFilter("id", [1, 2, 3]), new OrderByFilter("id")],
      });
      expect(notIn.map((r) => r.id)).toEqual([4, 5, 6]);
      expect(
        await s.select("SELECT id FROM people", undefined, { filters: [new InCollectionFilter("id", [])] }),
      ).toEqual([]);
    });
  });

  test("a filter field cannot inject SQL: it is quoted as an identifier", async () => {
    const err = await db
      .withSession((s) =>
        s.select("SELECT * FROM people", undefined, { filters: [new OrderByFilter("id; DROP TABLE people; --")] }),
      )
      .catch((e) => e);
    expect(err.sqlState).toBe("42703"); // undefined column, not a syntax error from injected text
    expect(await db.withSession((s) => s.selectValue("SELECT count(*) FROM people"))).toBe(6);
  });

  test("selectWithTotal counts without pagination, with the other filters", async () => {
    const [rows, total] = await db.withSession((s) =>
      s.selectWithTotal<{ id: number }>(
        "SELECT id, team FROM people WHERE score > :min",
        { min: 50 },
        {
          filters: [new SearchFilter("team", "kern"), new OrderByFilter("id"), new LimitOffsetFilter(1, 0)],
        },
      ),
    );
    expect(rows.map((r) => r.id)).toEqual([3]);
    expect(total).toBe(2); // Linus (70) and Ken (60) are in kernel with score > 50
  });

  test("selectWithTotal drops the statement's own top-level LIMIT/OFFSET and their parameters", async () => {
    const [rows, total] = await db.withSession((s) =>
      s.selectWithTotal<{ id: number }>(
        "SELECT id FROM people WHERE score >= $1 ORDER BY id LIMIT $2 OFFSET $3",
        [60, 2, 1],
      ),
    );
    expect(rows.map((r) => r.id)).toEqual([2, 3]);
    expect(total).toBe(5);
  });
});

describe("schema mapping (Standard Schema v1)", () => {
  const Person = z.object({ id: z.number(), name: z.string(), score: z.number().transform((n) => n / 100) });

  test("rows are validated and transformed; the type flows to the caller", async () => {
    const p = await db.withSession((s) =>
      s.selectOne("SELECT id, name, score FROM people WHERE id = $1", [4], { schema: Person }),
    );
    const score: number = p.score;
    expect(p).toEqual({ id: 4, name: "Barbara", score: 0.95 });
    expect(score).toBe(0.95);
  });

  test("a row that does not match raises SchemaValidationError naming the path", async () => {
    const err = await db
      .withSession((s) =>
        s.select("SELECT id, team AS name, score FROM people WHERE id = 1 OR team IS NULL", undefined, {
          schema: z.object({ id: z.number(), name: z.number() }),
        }),
      )
      .catch((e) => e);
    expect(err).toBeInstanceOf(SchemaValidationError);
    expect(err.message).toContain('"name"');
  });
});

describe("select family and results", () => {
  test("selectOne / selectOneOrNull / selectValue raise the documented errors", async () => {
    await db.withSession(async (s) => {
      await expect(s.selectOne("SELECT * FROM people WHERE id = -1")).rejects.toBeInstanceOf(NotFoundError);
      await expect(s.selectOne("SELECT * FROM people WHERE team = 'core'")).rejects.toBeInstanceOf(
        MultipleResultsFoundError,
      );
      expect(await s.selectOneOrNull("SELECT * FROM people WHERE id = -1")).toBeNull();
      await expect(s.selectOneOrNull("SELECT * FROM people")).rejects.toBeInstanceOf(MultipleResultsFoundError);
      expect(await s.selectValueOrNull("SELECT name FROM people WHERE id = -1")).toBeNull();
      expect(await s.selectValue("SELECT name, id FROM people WHERE id = 2")).toBe("Grace");
    });
  });

  test("SQLResult helpers, iteration and metadata", async () => {
    const r = await db.withSession((s) => s.execute("SELECT id, name FROM people WHERE id <= $1 ORDER BY id", [2]));
    expect(r).toBeInstanceOf(SQLResult);
    expect([...r].map((x) => x.id)).toEqual([1, 2]);
    expect(r.getFirst()).toEqual({ id: 1, name: "Ada" });
    expect(r.getCount()).toBe(2);
    expect(r.isEmpty()).toBe(false);
    expect(r.columnNames).toEqual(["id", "name"]);
    expect(r.operationType).toBe("SELECT");
    expect(r.statement).toBe("SELECT id, name FROM people WHERE id <= $1 ORDER BY id");
    expect(r.parameters).toEqual([2]);
    expect(r.executionTimeMs).toBeGreaterThanOrEqual(0);
  });

  test("stream yields every row in batches, and breaking early closes the cursor and frees the connection", async () => {
    await db.withSession(async (s) => {
      const seen: number[] = [];
      for await (const row of s.stream<{ g: number }>("SELECT g FROM generate_series(1, 2500) g", undefined, {
        batchSize: 1000,
      })) {
        seen.push(row.g);
      }
      expect(seen.length).toBe(2500);
      expect(seen[2499]).toBe(2500);
      let n = 0;
      for await (const _ of s.stream("SELECT g FROM generate_series(1, 10000) g", undefined, { batchSize: 100 })) {
        if (++n === 5) break;
      }
      expect(s.inTransaction).toBe(false);
      // The cursor's transaction ended, so other sessions are not blocked.
      expect(await db.withSession((other) => other.selectValue("SELECT 1"))).toBe(1);
    });
  });

  test("an aborted signal rejects before anything runs", async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(db.withSession((s) => s.execute("SELECT 1", undefined, { signal: ac.signal }))).rejects.toBeInstanceOf(
      OperationCancelledError,
    );
  });
});

describe("transactions", () => {
  test("begin/commit/rollback and misuse errors", async () => {
    await db.withSession(async (s) => {
      await expect(s.commit()).rejects.toBeInstanceOf(TransactionError);
      await s.begin();
      await expect(s.begin()).rejects.toBeInstanceOf(TransactionError);
      await s.execute("UPDATE people SET score = 0 WHERE id = 1");
      await s.rollback();
      expect(await s.selectValue("SELECT score FROM people WHERE id = 1")).toBe(90);
    });
  });

  test("executeMany is atomic: a failing set leaves no partial writes", async () => {
    await db.withSession(async (s) => {
      const err = await s
        .executeMany("INSERT INTO people (id, name) VALUES (:id, :name)", [
          { id: 100, name: "a" },
          { id: 101, name: "b" },
          { id: 1, name: "duplicate" },
        ])
        .catch((e) => e);
      expect(err).toBeInstanceOf(UniqueViolationError);
      expect(await s.selectValue("SELECT count(*) FROM people WHERE id >= 100")).toBe(0);
    });
  });
});

describe("statements and parameters", () => {
  test("a ParameterError is raised before any I/O and names what was expected", async () => {
    await db.withSession(async (s) => {
      await expect(s.execute("SELECT * FROM people WHERE id = $1 AND name = $2", [1])).rejects.toBeInstanceOf(
        ParameterError,
      );
      await expect(s.execute("SELECT * FROM people WHERE id = :id", { other: 1 })).rejects.toThrow(/id/);
      // The session is unaffected: nothing reached the database.
      expect(s.inTransaction).toBe(false);
      expect(await s.selectValue("SELECT 1")).toBe(1);
    });
  });

  test("SQL objects carry their params; sql templates nest; raw and ref splice trusted text", async () => {
    await db.withSession(async (s) => {
      const byTeam = new SQL("SELECT count(*) FROM people WHERE team = :team", { team: "core" });
      expect(await s.selectValue(byTeam)).toBe(2);
      const cond = sql`score > ${80}`;
      const q = sql`SELECT ${sql.ref("name")} FROM ${sql.raw("people")} WHERE ${cond} AND team = ${"core"} ORDER BY id`;
      expect((await s.select(q)).map((r) => r.name)).toEqual(["Ada", "Grace"]);
    });
  });
});

describe("SQLSpec registry", () => {
  test("addConfig returns the same instance; lookup by bindKey; unknown keys and duplicates are errors", async () => {
    const local = new SQLSpec();
    const cfg = new PgliteConfig({ bindKey: "x", driverFeatures: { enablePgvector: false } });
    expect(local.addConfig(cfg)).toBe(cfg);
    expect(local.getConfig("x")).toBe(cfg);
    expect(() => local.getConfig("nope")).toThrow(ImproperConfigurationError);
    expect(() => local.addConfig(new PgliteConfig({ bindKey: "x" }))).toThrow(ImproperConfigurationError);
    expect(await local.withSession("x", (s) => s.selectValue("SELECT 41 + 1"))).toBe(42);
    {
      await using s = await local.provideSession(cfg);
      expect(await s.selectValue("SELECT 'held'")).toBe("held");
    }
    await local.closeAllPools();
    expect(cfg.isOpen).toBe(false);
  });

  test("spec.withSession on the shared config by handle", async () => {
    expect(await spec.withSession(db, (s) => s.selectValue("SELECT count(*) FROM people"))).toBe(6);
    expect(spec.getConfig("main")).toBe(db);
  });
});

describe("session methods called without their session", () => {
  test("a detached method rejects (a .catch sees it) rather than throwing, before and after a transaction", async () => {
    await db.withSession(async (s) => {
      for (const round of ["fresh session", "after a transaction"]) {
        const { execute, selectValue, upsert } = s;
        for (const [what, call] of [
          ["execute", () => execute("SELECT 1")],
          ["selectValue", () => selectValue("SELECT 1")],
          ["upsert", () => upsert("t", [{ id: 1 }], { on: ["id"] })],
        ] as const) {
          let thrown: unknown;
          let p: Promise<unknown> | undefined;
          try {
            p = (call as () => Promise<unknown>)();
          } catch (err) {
            thrown = err;
          }
          expect(thrown, `${what} (${round}) threw synchronously`).toBeUndefined();
          await expect(p, `${what} (${round})`).rejects.toBeInstanceOf(TypeError);
        }
        await s.transaction(async (tx) => tx.selectValue("SELECT 1"));
      }
    });
  });
});
