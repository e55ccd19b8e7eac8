/**
 * Test helper: runs the same upsert on two files in the same state — once as the repeat of a warm-up upsert (the
 * fast path, seen through a spy on runAtomicSync) and once through a fresh config that never ran it (the general
 * path) — and returns each outcome with the table's rows as a raw connection reads them.
 */
import Database from "better-sqlite3";
import type { SqliteConfig } from "../../../src/adapters/sqlite/index.js";
import type { Session } from "../../../src/index.js";
import type { SqliteConfigs } from "../../support/sqlite-file.js";

export type AnySession = Session<any>;

export interface Outcome {
  fastCalls: (number | undefined | "failed")[];
  result?: { rowsAffected: number; metadata: unknown; statement: string; operationType: string };
  error?: { name: string; message: string; sqlState?: string | undefined; statement?: string | undefined };
  table: unknown[];
}

/** Counts the session's calls of the engine's one-call transaction. */
export function spyAtomic(s: AnySession): { calls: (number | undefined | "failed")[]; restore(): void } {
  const adapter = s.adapter as { runAtomicSync?: (...a: unknown[]) => number | undefined };
  const original = adapter.runAtomicSync as (...a: unknown[]) => number | undefined;
  const calls: (number | undefined | "failed")[] = [];
  // An observed adapter has none (own, read-only undefined): nothing to count.
  if (original === undefined) return { calls, restore: () => undefined };
  adapter.runAtomicSync = (...a: unknown[]) => {
    try {
      const n = original.apply(adapter, a);
      // A failed statement comes back as an AtomicFailure (rolled back), not thrown.
      calls.push(typeof n === "object" && n !== null ? "failed" : n);
      return n;
    } catch (err) {
      calls.push("failed");
      throw err;
    }
  };
  return { calls, restore: () => (adapter.runAtomicSync = original) };
}

export function dump(path: string, table = "t"): unknown[] {
  const d = new Database(path, { readonly: true });
  try {
    d.defaultSafeIntegers(true);
    return d.prepare(`SELECT * FROM "${table}" ORDER BY 1`).raw(true).all();
  } finally {
    d.close();
  }
}

export async function outcome(
  db: SqliteConfig,
  path: string,
  run: (
    s: AnySession,
  ) => Promise<{ rowsAffected: number; metadata: unknown; statement: string; operationType: string }>,
  table = "t",
): Promise<Outcome> {
  const o: Outcome = { fastCalls: [], table: [] };
  await db.withSession(async (s) => {
    const spy = spyAtomic(s);
    try {
      const r = await run(s);
      o.result = {
        rowsAffected: r.rowsAffected,
        metadata: r.metadata,
        statement: r.statement,
        operationType: r.operationType,
      };
    } catch (e) {
      const err = e as Error & { sqlState?: string; statement?: string };
      o.error = { name: err.constructor.name, message: err.message, sqlState: err.sqlState, statement: err.statement };
    } finally {
      o.fastCalls = spy.calls;
      spy.restore();
    }
    // The session is usable and idle afterwards.
    if (s.inTransaction) throw new Error("transaction left open");
    await s.select("SELECT 1");
  });
  o.table = dump(path, table);
  return o;
}

/**
 * The target upsert as a repeat (warm-up first, same config) and on a fresh config (never ran it). `setup` runs
 * through a raw connection on each file; `warm` runs on each file before the target (on the fresh config's file via a
 * throwaway config, closed before the target).
 */
export async function compare(
  sqlite: SqliteConfigs,
  setup: string,
  warm: (s: AnySession) => Promise<unknown>,
  target: (
    s: AnySession,
  ) => Promise<{ rowsAffected: number; metadata: unknown; statement: string; operationType: string }>,
  pool: Record<string, unknown> = {},
  table = "t",
  extra: Record<string, unknown> = {},
): Promise<{ fast: Outcome; general: Outcome }> {
  const mk = (): string => {
    const p = sqlite.path();
    const d = new Database(p);
    d.exec(setup);
    d.close();
    return p;
  };
  const p1 = mk();
  const a = sqlite.config({ ...extra, poolConfig: { maxSize: 1, ...pool, database: p1 } });
  await a.withSession(warm);
  const fast = await outcome(a, p1, target, table);
  await a.close();
  const p2 = mk();
  const w = sqlite.config({ ...extra, poolConfig: { maxSize: 1, ...pool, database: p2 } });
  await w.withSession(warm);
  await w.close();
  const g = sqlite.config({ ...extra, poolConfig: { maxSize: 1, ...pool, database: p2 } });
  const general = await outcome(g, p2, target, table);
  await g.close();
  return { fast, general };
}
