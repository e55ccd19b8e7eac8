/**
 * Pure (no database) checks of the upsert engine's SQL: the PostgreSQL MERGE / ON CONFLICT text, and the native
 * upsert other dialects fall back to, built with the builder and checked through build().
 */
import "../../src/dialects/index.js";
import { describe, expect, test } from "vitest";
import type { StatementNode } from "../../src/core/ast/nodes.js";
import { getRenderer } from "../../src/core/ast/render.js";
import { withTableSource } from "../../src/core/ast/rewrite.js";
import type { QueryBuilder } from "../../src/core/builder-protocol.js";
import { SQLBuilderError } from "../../src/core/errors.js";
import { SQLResult } from "../../src/core/result.js";
import { mysqlBulkSql } from "../../src/dialects/mysql.js";
import type { BulkCapabilities } from "../../src/driver/adapter.js";
import type { BulkHost } from "../../src/driver/bulk-host.js";
import { DEFAULT_COPY_THRESHOLD } from "../../src/driver/bulk-run.js";
import { loadRecords } from "../../src/driver/load-records.js";
import { upsertRows } from "../../src/driver/upsert.js";
import { rowColumns } from "../../src/driver/upsert-checks.js";
import { insertNode, mergeNode, nativeUpsertStatements } from "../../src/driver/upsert-statements.js";

const plan = { columns: ["id", "Name", "order"], on: ["id"], update: ["Name", "order"] };

const render = (node: StatementNode, v?: number) =>
  getRenderer("postgres").render(node, v === undefined ? undefined : { serverVersionNum: v });

describe("PostgreSQL upsert SQL (one engine: nodes rendered by the dialect)", () => {
  const rows = [{ id: 1, Name: "a", order: 2 }];

  test("default: INSERT … SELECT from the server-typed JSON source … ON CONFLICT, names quoted", () => {
    const built = render(insertNode(["items"], plan, rows));
    expect(built.sql).toBe(
      'INSERT INTO "items" AS "t" ("id", "Name", "order") SELECT "src"."id", "src"."Name", "src"."order" FROM ' +
        '(SELECT "id", "Name", "order" FROM json_populate_recordset(NULL::"items", $1::json)) AS "src" ' +
        'ON CONFLICT ("id") DO UPDATE SET "Name" = "excluded"."Name", "order" = "excluded"."order"',
    );
    expect(built.parameters).toHaveLength(1);
    expect(render(insertNode(["items"], { ...plan, update: [] }, rows)).sql).toMatch(
      /ON CONFLICT \("id"\) DO NOTHING$/,
    );
    // A server before 15 gets the same statement.
    expect(render(insertNode(["items"], plan, rows), 140000).sql).toBe(built.sql);
  });

  test("strategy merge: MERGE from the same source; a staged source is the stage table", () => {
    const node = mergeNode(["s", "items"], { ...plan, on: ["id", "order"] }, rows);
    expect(render(node).sql).toBe(
      'MERGE INTO "s"."items" AS "t" USING (SELECT "id", "Name", "order" FROM json_populate_recordset(NULL::"s"."items", ' +
        '$1::json)) AS "src" ON "t"."id" = "src"."id" AND "t"."order" = "src"."order" WHEN MATCHED THEN UPDATE SET ' +
        '"Name" = "src"."Name", "order" = "src"."order" WHEN NOT MATCHED THEN INSERT ("id", "Name", "order") VALUES ' +
        '("src"."id", "src"."Name", "src"."order")',
    );
    const staging = getRenderer("postgres").staging!;
    expect(staging.createStage(["sqlspec_stage"], node)).toBe(
      'CREATE TEMP TABLE "sqlspec_stage" ON COMMIT DROP AS SELECT (NULL::"s"."items")."id" AS "id", ' +
        '(NULL::"s"."items")."Name" AS "Name", (NULL::"s"."items")."order" AS "order" WITH NO DATA',
    );
    expect(render(withTableSource(node, ["sqlspec_stage"])).sql).toMatch(/USING "sqlspec_stage" AS "src" ON/);
  });

  test("strategy merge on a NULLS NOT DISTINCT key: only the columns holding a NULL also match NULL to NULL", () => {
    const node = mergeNode(["items"], { ...plan, on: ["id", "order"] }, rows, ["order"]);
    // The OR form, not IS NOT DISTINCT FROM: both arms are index conditions; "id" keeps its plain equality.
    expect(render(node).sql).toContain(
      'AS "src" ON "t"."id" = "src"."id" AND ("t"."order" = "src"."order" OR ("t"."order" IS NULL AND ' +
        '"src"."order" IS NULL)) WHEN MATCHED',
    );
    expect(render(mergeNode(["items"], plan, rows, ["id"])).sql).toContain(
      'AS "src" ON "t"."id" = "src"."id" OR ("t"."id" IS NULL AND "src"."id" IS NULL) WHEN MATCHED',
    );
  });

  test("measured thresholds", () => {
    expect(DEFAULT_COPY_THRESHOLD.server).toBe(2000);
    expect(DEFAULT_COPY_THRESHOLD.pglite).toBe(1500);
  });

  test("rows with different key sets name the keys", () => {
    expect(
      rowColumns([
        { a: 1, b: 2 },
        { b: 3, a: 4 },
      ]),
    ).toEqual(["a", "b"]);
    expect(() => rowColumns([{ a: 1, b: 2 }, { a: 1 }])).toThrow(/Row 1 .*missing "b"/);
    expect(() => rowColumns([{ a: 1 }, { a: 1, c: 2 }])).toThrow(/extra "c"/);
    expect(() =>
      rowColumns([
        { a: 1, b: 1 },
        { a: 1, c: 2 },
      ]),
    ).toThrow(SQLBuilderError);
  });
});

describe("native upsert for other dialects (built with the builder)", () => {
  const rows = [
    { id: 1, name: "a'; DROP TABLE x; --", order: 2 },
    { id: 2, name: "b", order: 3 },
  ];

  test("sqlite and duckdb: INSERT … ON CONFLICT DO UPDATE with excluded.*", () => {
    for (const d of ["sqlite", "duckdb"] as const) {
      const [st, ...rest] = nativeUpsertStatements(d, "items", rows, { on: ["id"] });
      expect(rest).toEqual([]);
      const built = st!.build(d);
      expect(built.sql).toMatch(
        /^INSERT INTO "items" \("id", "name", "order"\) VALUES \((\?|\$1), (\?|\$2), (\?|\$3)\), .* ON CONFLICT \("id"\) DO UPDATE SET "name" = "excluded"\."name", "order" = "excluded"\."order"$/,
      );
      expect(built.sql).not.toContain("DROP");
      expect(Object.values(built.parameters)).toEqual([1, rows[0]!.name, 2, 2, "b", 3]);
    }
  });

  test("mysql: ON DUPLICATE KEY UPDATE col = VALUES(col)", () => {
    const [st] = nativeUpsertStatements("mysql", "items", rows, { on: ["id"], update: ["name"] });
    expect(st!.build("mysql").sql).toBe(
      "INSERT INTO `items` (`id`, `name`, `order`) VALUES (?, ?, ?), (?, ?, ?) ON DUPLICATE KEY UPDATE `name` = VALUES(`name`)",
    );
  });

  test("update: [] inserts only", () => {
    const [st] = nativeUpsertStatements("sqlite", "items", rows, { on: ["id"], update: [] });
    expect(st!.build("sqlite").sql).toMatch(/ON CONFLICT \("id"\) DO NOTHING$/);
  });

  test("chunked under the dialect's parameter limit", () => {
    const many = Array.from({ length: 40_000 }, (_, i) => ({ id: i, v: i }));
    const sqlite = nativeUpsertStatements("sqlite", "items", many, { on: ["id"] });
    expect(sqlite.length).toBe(3); // 16383 rows × 2 params ≤ 32766
    const mysql = nativeUpsertStatements("mysql", "items", many, { on: ["id"] });
    expect(mysql.length).toBe(2);
    const total = sqlite.reduce((n, st) => n + (st.build("sqlite").parameters as unknown[]).length, 0);
    expect(total).toBe(80_000);
  });

  test("bad input", () => {
    expect(nativeUpsertStatements("sqlite", "items", [], { on: ["id"] })).toEqual([]);
    expect(() => nativeUpsertStatements("sqlite", "items", [{ id: 1 }, { id: 2, x: 1 }], { on: ["id"] })).toThrow(
      /extra "x"/,
    );
    expect(() => nativeUpsertStatements("mysql", "items", [{ id: 1 }], { on: ["sku"] })).toThrow(/"sku"/);
    expect(() => nativeUpsertStatements("mysql", "items", [{ id: 1 }], { on: ["id"], update: ["nope"] })).toThrow(
      /"nope"/,
    );
  });
});

describe("session-level fallback on a non-PostgreSQL session (stub bulk host, statements checked via build())", () => {
  function stubSession(dialect: "sqlite" | "mysql") {
    const built: { sql: string; parameters: unknown }[] = [];
    let transactions = 0;
    // An adapter without `bulk` SQL: the engine falls back to the builder's statements, run through execute().
    const session = {
      dialect,
      databaseLabel: dialect,
      bulk: undefined,
      // upsert checks `on` against the table's unique keys first.
      catalog: { getUniqueKeys: async () => [["id"]], stamp: () => undefined },
      inTransaction: false,
      async transaction<T>(fn: () => Promise<T>): Promise<T> {
        transactions++;
        return fn();
      },
      async execute(b: QueryBuilder): Promise<SQLResult> {
        const st = b.build(dialect);
        built.push(st);
        const n = (st.parameters as unknown[]).length;
        return new SQLResult({
          data: [],
          rowsAffected: n,
          columnNames: [],
          operationType: "INSERT",
          statement: st.sql,
          parameters: [],
          executionTimeMs: 0,
        });
      },
    } as unknown as BulkHost;
    return { session, built, transactions: () => transactions };
  }

  test("upsert runs the native statements, chunked, atomically", async () => {
    const { session, built, transactions } = stubSession("sqlite");
    const many = Array.from({ length: 20_000 }, (_, i) => ({ id: i, name: `n${i}` }));
    const r = await upsertRows(session, "items", many, { on: ["id"] });
    expect(r.metadata.strategy).toBe("insert-on-conflict");
    expect(r.rowsAffected).toBe(40_000); // the stub reports one per bound value
    expect(built.length).toBe(2);
    expect(transactions()).toBe(1);
    expect(built[0]!.sql).toMatch(/ON CONFLICT \("id"\) DO UPDATE SET "name" = "excluded"\."name"$/);
    await expect(upsertRows(session, "items", many, { on: ["id"], strategy: "copy-merge" })).rejects.toThrow(
      /"copy-merge" is not available on sqlite/,
    );
  });

  test("mysql upsert says which strategy ran; loadRecords falls back to multi-row INSERT", async () => {
    const { session, built } = stubSession("mysql");
    const r = await upsertRows(session, "items", [{ id: 1, name: "a" }], { on: ["id"] });
    expect(r.metadata.strategy).toBe("on-duplicate-key-update");
    expect(built[0]!.sql).toBe(
      "INSERT INTO `items` (`id`, `name`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `name` = VALUES(`name`)",
    );
    const l = await loadRecords(session, "items", [[2, "b"]] as never, { columns: ["id", "name"] });
    expect(l.operationType).toBe("COPY");
    expect(built[1]!).toEqual({ sql: "INSERT INTO `items` (`id`, `name`) VALUES (?, ?)", parameters: [2, "b"] });
  });
});

describe("INSERT-form bulk engine: VALUES statements under the parameter, row and packet limits (stub bulk host)", () => {
  function bulkSession(maxPacketBytes: number) {
    const sent: { sql: string; values: unknown[] }[] = [];
    const bulk: BulkCapabilities = {
      sql: mysqlBulkSql,
      maxParameters: 65_535,
      maxPacketBytes: async () => maxPacketBytes,
      jsonRows: false,
      largeBatch: { threshold: 0, source: "values" },
      valuesChunkRows: 4,
    };
    const result = (n: number) =>
      new SQLResult({
        data: [],
        rowsAffected: n,
        columnNames: [],
        operationType: "INSERT",
        statement: "",
        parameters: [],
        executionTimeMs: 0,
      });
    const session = {
      dialect: "mysql",
      databaseLabel: "MySQL",
      bulk,
      capabilities: { copy: false },
      canCopyIn: false,
      maxPacketBytes: async () => maxPacketBytes,
      catalog: {
        stamp: () => undefined,
        getUniqueKeys: async () => [["id"]],
        getColumns: async () => [
          { name: "id", type: "int" },
          { name: "name", type: "varchar(2000)" },
        ],
        getVersion: async () => ({ versionNum: 80000, version: "8.0.0" }),
      },
      inTransaction: false,
      transaction: <T>(fn: () => Promise<T>): Promise<T> => fn(),
      async run(sql: string, values: unknown[]): Promise<SQLResult> {
        sent.push({ sql, values });
        return result(values.length / 2);
      },
      async runBatch(
        statements: Iterable<{ sql: string; values: unknown[] }>,
        each: (n: number, metadata: undefined, sql: string) => void,
      ): Promise<void> {
        for (const { sql, values } of statements) {
          // A statement's values are valid while it runs (the engine refills one array per statement size): copy.
          sent.push({ sql, values: [...values] });
          each(values.length / 2, undefined, sql);
        }
      },
    } as unknown as BulkHost;
    return { session, sent };
  }
  const rowsOf = (sizes: number[]) => sizes.map((n, i) => ({ id: i, name: "x".repeat(n) }));

  test("full chunks of valuesChunkRows rows, the rest in the last; values in column order, undefined as NULL", async () => {
    const { session, sent } = bulkSession(Number.MAX_SAFE_INTEGER);
    const rows = [...rowsOf([1, 1, 1, 1, 1, 1, 1, 1, 1]), { id: 9, name: undefined }];
    const r = await upsertRows(session, "t", rows, { on: ["id"] });
    expect(r.rowsAffected).toBe(10);
    expect(sent.map((s) => s.values.length / 2)).toEqual([4, 4, 2]);
    expect(sent[0]!.values).toEqual([0, "x", 1, "x", 2, "x", 3, "x"]);
    expect(sent[2]!.values).toEqual([8, "x", 9, null]);
    expect(new Set(sent.slice(0, 2).map((s) => s.sql)).size).toBe(1);
  });

  test("a statement whose values would pass the packet size is split at the row that passes it", async () => {
    // 64 KiB of margin is kept under max_allowed_packet: 3,000 bytes are left for values here.
    const { session, sent } = bulkSession(64 * 1024 + 3000);
    // A string counts ~3 bytes per character: rows of ~1,500 bytes and of ~60 bytes.
    const rows = rowsOf([500, 500, 500, 10, 10, 10, 10, 500]);
    await upsertRows(session, "t", rows, { on: ["id"] });
    expect(sent.map((s) => s.values.filter((_, i) => i % 2 === 0))).toEqual([
      [0, 1],
      [2, 3],
      [4, 5, 6, 7],
    ]);
  });
});
