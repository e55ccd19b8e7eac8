/**
 * The repeat (fast path) against a fresh config that never ran the upsert (general path), on files in the same state:
 * the same result, error (class and message) and rows written. `fast` says whether the repeat is expected to run in
 * one engine call ("ran"), throw there ("failed"), or leave it to the general path ("fallback").
 */
import { describe, expect, test } from "vitest";
import { sqliteConfigs } from "../../support/sqlite-file.js";
import { type AnySession, compare } from "./compare.js";

const sqlite = sqliteConfigs("review-same-");
const T = "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER);";
const SEED = "INSERT INTO t VALUES (1, 'one', 1), (2, 'two', 2);";
type Row = Record<string, unknown>;
const rows = (from: number, n: number, name = "n"): Row[] =>
  Array.from({ length: n }, (_, i) => ({ id: from + i, name: `${name}${from + i}`, qty: i }));

class Item {
  constructor(
    public id: number,
    public name: string,
    public qty: number,
  ) {}
}
class Getter {
  #n: string;
  constructor(
    public id: number,
    n: string,
    public qty: number,
  ) {
    this.#n = n;
  }
  get name(): string {
    return this.#n;
  }
}

interface Case {
  name: string;
  setup?: string;
  warm?: Row[];
  warmOpts?: Record<string, unknown>;
  target: Row[] | ((s: AnySession) => Promise<any>);
  opts?: Record<string, unknown>;
  fast: "ran" | "failed" | "fallback";
  pool?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

const huge = "x".repeat(20 * 1024 * 1024);
const cases: Case[] = [
  { name: "plain repeat", target: rows(2, 3, "z"), fast: "ran" },
  {
    name: "update: [] (insert only)",
    warmOpts: { update: [] },
    target: rows(1, 3, "z"),
    opts: { update: [] },
    fast: "ran",
  },
  {
    name: "update: [qty]",
    warmOpts: { update: ["qty"] },
    target: rows(1, 3, "z"),
    opts: { update: ["qty"] },
    fast: "ran",
  },
  {
    name: "last-wins, no duplicates",
    warmOpts: { duplicates: "last-wins" },
    target: rows(1, 3, "z"),
    opts: { duplicates: "last-wins" },
    fast: "ran",
  },
  {
    name: "last-wins with duplicates",
    target: [...rows(1, 3, "z"), { id: 2, name: "again", qty: 9 }],
    opts: { duplicates: "last-wins" },
    fast: "fallback",
  },
  { name: "descending keys (dedupe by the integer check)", target: rows(1, 5, "z").reverse(), fast: "ran" },
  {
    name: "duplicate keys, not adjacent",
    target: [...rows(1, 3, "z"), { id: 1, name: "again", qty: 9 }],
    fast: "fallback",
  },
  { name: "key as string", target: [{ id: "1", name: "s", qty: 1 }], fast: "fallback" },
  {
    name: "key as bigint",
    target: [
      { id: 1n, name: "b", qty: 1 },
      { id: 9007199254740993n, name: "big", qty: 2 },
    ],
    fast: "fallback",
  },
  {
    name: "key 1.5 (non-integer number, INTEGER PRIMARY KEY refuses it)",
    target: [{ id: 1.5, name: "f", qty: 1 }],
    fast: "failed",
  },
  {
    name: "key 1 and 1.0000000000000002",
    target: [
      { id: 1, name: "a", qty: 1 },
      { id: 1.0000000000000002, name: "b", qty: 1 },
    ],
    fast: "failed",
  },
  {
    name: "REAL key 0.3 and 0.1+0.2 in a TEXT key column",
    setup: "CREATE TABLE t (id TEXT PRIMARY KEY, name TEXT NOT NULL, qty INTEGER);",
    target: [
      { id: 0.3, name: "a", qty: 1 },
      { id: 0.1 + 0.2, name: "b", qty: 2 },
    ],
    fast: "ran",
  },
  {
    name: "NOCASE text key (strings: catalog rules)",
    setup: "CREATE TABLE t (id TEXT PRIMARY KEY COLLATE NOCASE, name TEXT NOT NULL, qty INTEGER);",
    target: [
      { id: "a", name: "a", qty: 1 },
      { id: "A", name: "b", qty: 2 },
    ],
    fast: "fallback",
  },
  { name: "null key", target: [{ id: null, name: "n", qty: 1 }], fast: "fallback" },
  { name: "NaN value", target: [{ id: 7, name: "n", qty: Number.NaN }], fast: "fallback" },
  { name: "Infinity key", target: [{ id: Number.POSITIVE_INFINITY, name: "n", qty: 1 }], fast: "failed" },
  {
    name: "keys in another order in row 1",
    target: [
      { id: 7, name: "a", qty: 1 },
      { qty: 2, name: "b", id: 8 },
    ],
    fast: "ran",
  },
  {
    name: "extra key in row 1",
    target: [
      { id: 7, name: "a", qty: 1 },
      { id: 8, name: "b", qty: 2, x: 1 },
    ],
    fast: "fallback",
  },
  {
    name: "missing key in row 1",
    target: [
      { id: 7, name: "a", qty: 1 },
      { id: 8, name: "b" },
    ],
    fast: "fallback",
  },
  { name: "undefined value", target: [{ id: 7, name: "a", qty: undefined }], fast: "ran" },
  {
    name: "rows as class instances",
    target: [new Item(7, "a", 1), new Item(8, "b", 2)] as unknown as Row[],
    fast: "ran",
  },
  {
    name: "rows with a getter (not an own key)",
    target: [new Getter(7, "a", 1)] as unknown as Row[],
    fast: "fallback",
  },
  {
    name: "Date/Buffer/boolean/object values",
    setup:
      "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER, at TEXT, bin BLOB, flag INTEGER, doc JSON);",
    warm: [{ id: 1, name: "w", qty: 1, at: new Date(0), bin: Buffer.from([1]), flag: true, doc: { a: 1 } }],
    target: [
      {
        id: 2,
        name: "v",
        qty: 2,
        at: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)),
        bin: Buffer.from([0, 255]),
        flag: false,
        doc: { b: [1, "x"] },
      },
    ],
    fast: "ran",
  },
  {
    name: "invalid JSON text in a JSON column",
    setup: "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER, doc JSON);",
    warm: [{ id: 1, name: "w", qty: 1, doc: "{}" }],
    target: [{ id: 2, name: "v", qty: 2, doc: "{oops" }],
    fast: "fallback",
  },
  { name: "lone surrogate", target: [{ id: 7, name: "\ud800", qty: 1 }], fast: "fallback" },
  { name: "a 20 MB string", target: [{ id: 7, name: huge, qty: 1 }], fast: "ran" },
  { name: "19,999 rows", target: rows(1, 19_999), fast: "ran" },
  { name: "20,001 rows", target: rows(1, 20_001), fast: "fallback" },
  {
    name: "CHECK violated in the 2nd statement (rolled back whole)",
    setup: "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER CHECK (qty < 300));",
    target: rows(10, 400),
    fast: "failed",
  },
  {
    name: "UNIQUE on another column",
    setup:
      "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, qty INTEGER); INSERT INTO t VALUES (50, 'taken', 0);",
    target: [...rows(100, 250), { id: 999, name: "taken", qty: 1 }],
    fast: "failed",
  },
  {
    name: "BEFORE INSERT trigger RAISE(ABORT)",
    setup: `${T} CREATE TRIGGER g BEFORE INSERT ON t WHEN NEW.qty = 5 BEGIN SELECT RAISE(ABORT, 'no five'); END;`,
    target: rows(100, 300),
    fast: "failed",
  },
  {
    name: "BEFORE INSERT trigger RAISE(ROLLBACK)",
    setup: `${T} CREATE TRIGGER g BEFORE INSERT ON t WHEN NEW.qty = 250 BEGIN SELECT RAISE(ROLLBACK, 'no 250'); END;`,
    target: rows(100, 300),
    fast: "failed",
  },
  {
    name: "BEFORE INSERT trigger RAISE(FAIL)",
    setup: `${T} CREATE TRIGGER g BEFORE INSERT ON t WHEN NEW.qty = 250 BEGIN SELECT RAISE(FAIL, 'no 250'); END;`,
    target: rows(100, 300),
    fast: "failed",
  },
  {
    name: "BEFORE INSERT trigger RAISE(IGNORE)",
    setup: `${T} CREATE TRIGGER g BEFORE INSERT ON t WHEN NEW.qty % 2 = 0 BEGIN SELECT RAISE(IGNORE); END;`,
    target: rows(100, 300),
    fast: "ran",
  },
  {
    name: "AFTER trigger writing elsewhere (rowsAffected)",
    setup: `${T} CREATE TABLE log (x); CREATE TRIGGER g AFTER INSERT ON t BEGIN INSERT INTO log VALUES (NEW.id); END;`,
    target: rows(1, 5),
    fast: "ran",
  },
  {
    name: "generated column",
    setup:
      "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER, twice INTEGER GENERATED ALWAYS AS (qty * 2) STORED);",
    target: rows(1, 5, "g"),
    fast: "ran",
  },
  {
    name: "STRICT type mismatch",
    setup: "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER) STRICT;",
    target: [{ id: 7, name: "a", qty: "many" }],
    fast: "failed",
  },
  {
    name: "WITHOUT ROWID, composite key",
    setup: "CREATE TABLE t (id INTEGER, name TEXT NOT NULL, qty INTEGER, PRIMARY KEY (id, qty)) WITHOUT ROWID;",
    warmOpts: { on: ["id", "qty"] },
    opts: { on: ["id", "qty"] },
    target: [...rows(1, 3, "c"), { id: 1, name: "dupe", qty: 0 }],
    fast: "fallback",
  },
  {
    name: "PRAGMA query_only on the session (error.statement: '' on the repeat, 'BEGIN' on the general path)",
    target: async (s) => {
      await s.execute("PRAGMA query_only = ON");
      try {
        return await s.upsert("t", rows(1, 3, "q"), { on: ["id"] });
      } finally {
        await s.execute("PRAGMA query_only = OFF");
      }
    },
    fast: "failed",
  },
  {
    name: "statementCacheSize 0",
    target: rows(1, 3, "c"),
    extra: { statementConfig: { statementCacheSize: 0 } },
    fast: "ran",
  },
  {
    name: "statementCacheSize 1",
    target: rows(1, 300, "c"),
    extra: { statementConfig: { statementCacheSize: 1 } },
    fast: "ran",
  },
  {
    name: "DDL through the config between calls (new UNIQUE index)",
    target: async (s) => {
      await s.execute("CREATE UNIQUE INDEX un ON t (name)");
      return s.upsert("t", [{ id: 9, name: "one", qty: 1 }], { on: ["id"] });
    },
    fast: "fallback",
  },
  {
    name: "dataDictionary.invalidate()",
    target: async (s) => {
      s.dataDictionary.invalidate();
      return s.upsert("t", rows(1, 3, "i"), { on: ["id"] });
    },
    fast: "fallback",
  },
  { name: "signal given", target: rows(1, 3, "o"), opts: { signal: new AbortController().signal }, fast: "fallback" },
  { name: "timeoutMs given", target: rows(1, 3, "o"), opts: { timeoutMs: 5000 }, fast: "fallback" },
  { name: "onProgress given", target: rows(1, 3, "o"), opts: { onProgress: () => undefined }, fast: "fallback" },
  { name: "strategy values after an auto warm-up", target: rows(1, 3, "o"), opts: { strategy: "values" }, fast: "ran" },
  {
    name: "observer configured",
    target: rows(1, 3, "o"),
    extra: { observability: { logger: false, onQueryStart: () => undefined } },
    fast: "fallback",
  },
  {
    name: "TZ=Asia/Tokyo Dates",
    setup: "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER, at TEXT);",
    warm: [{ id: 1, name: "w", qty: 1, at: new Date(0) }],
    target: [{ id: 2, name: "v", qty: 2, at: new Date(2024, 0, 2, 3, 4, 5, 6) }],
    fast: "ran",
  },
  {
    name: "after a raw BEGIN through execute",
    target: async (s) => {
      await s.execute("BEGIN");
      const r = await s.upsert("t", rows(1, 3, "i"), { on: ["id"] });
      await s.execute("COMMIT");
      return r;
    },
    fast: "fallback",
  },
];

describe("review: the repeat is the same upsert", () => {
  for (const c of cases) {
    test(c.name, async () => {
      const on = (c.opts?.on as string[] | undefined) ?? ["id"];
      const warmRows = c.warm ?? [{ id: 1, name: "w", qty: 1 }];
      const target =
        typeof c.target === "function"
          ? c.target
          : (s: AnySession) => s.upsert("t", c.target as Row[], { on, ...c.opts });
      const { fast, general } = await compare(
        sqlite,
        c.setup === undefined || c.setup.startsWith(T) ? (c.setup ?? T) + SEED : c.setup,
        (s) => s.upsert("t", warmRows, { on: (c.warmOpts?.on as string[]) ?? ["id"], ...c.warmOpts }),
        target,
        c.pool ?? {},
        "t",
        c.extra ?? {},
      );
      const kind =
        fast.fastCalls.length === 0 || fast.fastCalls[0] === undefined
          ? "fallback"
          : fast.fastCalls[0] === "failed"
            ? "failed"
            : "ran";
      expect(general.fastCalls.filter((x) => x !== undefined)).toEqual([]);
      expect({ error: fast.error, result: fast.result }).toEqual({ error: general.error, result: general.result });
      expect(fast.table).toEqual(general.table);
      expect(kind).toBe(c.fast);
    });
  }
});
