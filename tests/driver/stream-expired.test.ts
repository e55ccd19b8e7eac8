/**
 * stream() with a signal that already aborted or a timeoutMs already spent rejects before the statement starts, as
 * execute() does, on every adapter (the check is the session's, ahead of the driver's first fetch).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { DuckdbConfig } from "../../src/adapters/duckdb/index.js";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { SqliteConfig } from "../../src/adapters/sqlite/index.js";
import { OperationCancelledError, QueryTimeoutError } from "../../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "sqlspec-stream-expired-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const engines = {
  "sqlite :memory:": () => new SqliteConfig({ poolConfig: { database: ":memory:" } }),
  "sqlite file": () => new SqliteConfig({ poolConfig: { database: join(dir, "expired.db") } }),
  duckdb: () => new DuckdbConfig(),
  // PGlite refuses timeoutMs outright (it cannot interrupt a statement): the signal case only.
  pglite: () => new PgliteConfig({ driverFeatures: { enablePgvector: false } }),
};

describe.each(Object.entries(engines))("stream() with expired limits: %s", (_name, make) => {
  test("an aborted signal or timeoutMs: 0 rejects with the typed error; the statement does not run", async () => {
    const db = make();
    try {
      await db.withSession(async (s) => {
        await s.execute("CREATE TABLE se (id INTEGER)");
        const cases = [
          [{ signal: AbortSignal.abort() }, OperationCancelledError],
          [{ timeoutMs: 0 }, QueryTimeoutError],
        ] as const;
        for (const [opts, expected] of cases) {
          if ("timeoutMs" in opts && db instanceof PgliteConfig) continue;
          const seen: unknown[] = [];
          const err = await (async () => {
            for await (const r of s.stream("INSERT INTO se (id) VALUES (1) RETURNING id", undefined, opts))
              seen.push(r);
          })().catch((e: unknown) => e);
          expect(err).toBeInstanceOf(expected);
          expect(seen).toEqual([]);
          await expect(s.execute("SELECT 1", undefined, opts)).rejects.toBeInstanceOf(expected);
        }
        expect(Number(await s.selectValue("SELECT count(*) FROM se"))).toBe(0);
        expect(await s.selectValue("SELECT 7")).toBe(7);
      });
    } finally {
      await db.close();
    }
  });
});
