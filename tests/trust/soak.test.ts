/**
 * Soak: many sessions over a small pool, each doing one random thing that can go wrong (an abort, a timeout, a
 * statement error inside a transaction, caught or not, an abandoned stream, a SET, a BEGIN left open), mixed with
 * one-shot calls outside a session (`db.execute`: shared, pipelined connections on postgres.js), a SET and a timeout
 * among them. Afterwards
 * every write that reported success is in the table and none that failed is, no backend is left in a transaction,
 * and every pooled connection is usable and clean.
 *
 * Sessions per adapter: SQLSPEC_SOAK_SESSIONS overrides the defaults (2,000 on pg; fewer on postgres.js and PGlite,
 * whose sessions cost more CPU on the shared test machine). SQLSPEC_SOAK_SEED replays a run.
 */
import { afterAll, describe, expect, test } from "vitest";
import { OperationCancelledError, QueryTimeoutError, SQLSpecError } from "../../src/index.js";
import { type AnyConfig, TARGETS } from "./targets.js";

const DEFAULT_SESSIONS: Record<string, number> = { pg: 2000, postgresjs: 500, pglite: 200 };
const SEED = Number(process.env.SQLSPEC_SOAK_SEED ?? 20261130);
const POOL = 5;
const CONCURRENCY = 12;

/** mulberry32: a small seeded PRNG, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ACTIONS = [
  "commit",
  "abort",
  "timeout",
  "caught-error",
  "thrown-error",
  "abandoned-stream",
  "set",
  "begin-left-open",
  "savepoint",
  "autocommit",
  "one-shot",
  "one-shot-set",
  "one-shot-timeout",
] as const;
type Action = (typeof ACTIONS)[number];
/** Actions that cannot fail by themselves. */
const INNOCENT = new Set<Action>([
  "commit",
  "autocommit",
  "savepoint",
  "abandoned-stream",
  "set",
  "one-shot",
  "one-shot-set",
]);

for (const target of TARGETS) {
  const sessions = Number(process.env.SQLSPEC_SOAK_SESSIONS ?? DEFAULT_SESSIONS[target.name]);
  const T = `trust_soak_${target.name}`;
  const app = `sqlspec_soak_${target.name}_${process.pid}`;

  describe(`soak: ${target.name}`, () => {
    const db: AnyConfig = target.make({ maxSize: POOL, acquireTimeoutMs: 30_000, applicationName: app });
    afterAll(async () => {
      await db.withSession((s) => s.execute(`DROP TABLE IF EXISTS ${T}`)).catch(() => {});
      await db.close();
    });

    test(`${sessions} sessions over a pool of ${POOL}: reported outcomes match the table; every connection clean`, async () => {
      await db.withSession(async (s) => {
        await s.execute(`DROP TABLE IF EXISTS ${T}`);
        await s.execute(`CREATE TABLE ${T} (id int PRIMARY KEY, action text NOT NULL)`);
      });
      const defaults = await db.withSession(async (s) => ({
        path: await s.selectValue<string>("SELECT current_setting('search_path')"),
        timeout: await s.selectValue<string>("SELECT current_setting('statement_timeout')"),
      }));
      const random = prng(SEED);
      const plan: Action[] = Array.from(
        { length: sessions },
        () => ACTIONS[Math.floor(random() * ACTIONS.length)] as Action,
      );
      const committed = new Set<number>();
      const failed = new Set<number>();
      const tally: Record<string, number> = {};
      const unexpected: unknown[] = [];
      const errors: Record<string, number> = {};
      const innocent: string[] = [];

      const one = async (id: number, action: Action): Promise<void> => {
        const insert = `INSERT INTO ${T} (id, action) VALUES ($1, $2)`;
        // Writes whose outcome the session reports: true = committed, false = not.
        let outcome: boolean | undefined;
        const oneShot = async (): Promise<void> => {
          switch (action) {
            case "one-shot-set":
              // Its own connection, reset on release: the next one-shot insert finds the table on the default path.
              await db.execute("SET search_path = pg_catalog");
              await db.execute(insert, [id, action]);
              outcome = true;
              return;
            case "one-shot-timeout":
              outcome = false;
              await db.execute("SELECT pg_sleep(0.03)", undefined, { timeoutMs: 1 + (id % 5) * 5 });
              return;
            default:
              await db.execute(insert, [id, action]);
              outcome = true;
          }
        };
        const run = action.startsWith("one-shot")
          ? oneShot()
          : db.withSession(async (s) => {
              switch (action) {
                case "commit":
                case "savepoint":
                  await s.transaction(async (tx) => {
                    await tx.execute(insert, [id, action]);
                    if (action === "savepoint") {
                      await tx
                        .transaction(async (inner) => {
                          await inner.execute(insert, [-id, "inner"]);
                          throw new Error("inner fails");
                        })
                        .catch(() => undefined);
                    }
                  });
                  outcome = true;
                  return;
                case "autocommit":
                  await s.execute(insert, [id, action]);
                  outcome = true;
                  return;
                case "abort": {
                  const ac = new AbortController();
                  setTimeout(() => ac.abort(), 1 + Math.floor((id % 7) * 3));
                  outcome = false;
                  await s.transaction(async (tx) => {
                    await tx.execute(insert, [id, action]);
                    await tx.execute("SELECT pg_sleep(0.03)", undefined, { signal: ac.signal });
                  });
                  outcome = true;
                  return;
                }
                case "timeout":
                  outcome = false;
                  await s.transaction(async (tx) => {
                    await tx.execute(insert, [id, action]);
                    await tx.execute("SELECT pg_sleep(0.03)", undefined, { timeoutMs: 1 + (id % 5) * 5 });
                  });
                  outcome = true;
                  return;
                case "caught-error":
                  outcome = false;
                  await s.transaction(async (tx) => {
                    await tx.execute(insert, [id, action]);
                    await tx.execute("SELECT 1/0").catch(() => undefined);
                  });
                  outcome = true;
                  return;
                case "thrown-error":
                  outcome = false;
                  await s.transaction(async (tx) => {
                    await tx.execute(insert, [id, action]);
                    await tx.execute(insert, [id, "duplicate"]);
                  });
                  outcome = true;
                  return;
                case "abandoned-stream": {
                  await s.execute(insert, [id, action]);
                  outcome = true;
                  const it = s.stream("SELECT g FROM generate_series(1, 5000) g", undefined, { batchSize: 10 });
                  await it.next();
                  return;
                }
                case "set":
                  await s.execute("SET search_path = pg_catalog");
                  await s.execute("SET statement_timeout = '1ms'");
                  await s.execute("SET statement_timeout = '5s'");
                  await s.execute(`INSERT INTO public.${T} (id, action) VALUES ($1, $2)`, [id, action]);
                  outcome = true;
                  return;
                case "begin-left-open":
                  // Opened by hand and never ended: release must roll it back.
                  outcome = false;
                  await s.execute("BEGIN");
                  await s.execute(insert, [id, action]);
                  return;
              }
            });
        try {
          await run;
        } catch (err) {
          // Only typed errors may escape a session.
          if (!(err instanceof SQLSpecError)) unexpected.push(err);
          const name = `${action}:${(err as Error).name}`;
          errors[name] = (errors[name] ?? 0) + 1;
          // A session that meant no harm must not fail because of another one (a leaked setting, a transaction left
          // open). A stray cancel (57014) is the cancellation layer's concern and is only counted.
          const stray = err instanceof QueryTimeoutError || err instanceof OperationCancelledError;
          if (INNOCENT.has(action) && !stray) innocent.push(`${action}: ${(err as Error).message}`);
          // A write reported committed stays committed whatever the session did after it (an autocommit insert
          // before a stream that then failed).
          if (outcome !== true) outcome = false;
        }
        tally[`${action}:${outcome}`] = (tally[`${action}:${outcome}`] ?? 0) + 1;
        if (outcome === true) committed.add(id);
        else failed.add(id);
      };

      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < plan.length) {
          const id = ++next;
          await one(id, plan[id - 1] as Action);
        }
      };
      const started = Date.now();
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      const elapsed = Date.now() - started;

      expect(unexpected).toEqual([]);
      expect(innocent).toEqual([]);
      expect(committed.size + failed.size).toBe(sessions);
      // Every committed write is there, no failed one is, and no inner (rolled-back savepoint) write leaked.
      const rows = await db.withSession((s) => s.select<{ id: number }>(`SELECT id FROM ${T} ORDER BY id`));
      const present = new Set(rows.map((r) => r.id));
      const missing = [...committed].filter((id) => !present.has(id));
      const ghosts = [...present].filter((id) => !committed.has(id));
      expect({ missing, ghosts }).toEqual({ missing: [], ghosts: [] });

      // No backend of this pool is left inside a transaction.
      if (target.server) {
        const admin = target.make({ maxSize: 1 });
        try {
          const stuck = await admin.withSession((s) =>
            s.select(
              "SELECT pid, state, query FROM pg_stat_activity WHERE application_name = $1 AND state LIKE 'idle in transaction%'",
              [app],
            ),
          );
          expect(stuck).toEqual([]);
        } finally {
          await admin.close();
        }
      }
      // Every pooled connection at once: usable, idle, with the pool's settings.
      const held = await Promise.all(Array.from({ length: target.server ? POOL : 1 }, () => db.provideSession()));
      try {
        for (const s of held) {
          expect(s.inTransaction).toBe(false);
          expect(await s.selectValue("SELECT current_setting('search_path')")).toBe(defaults.path);
          expect(await s.selectValue("SELECT current_setting('statement_timeout')")).toBe(defaults.timeout);
          expect(await s.selectValue("SELECT count(*)::int FROM pg_cursors WHERE name <> ''")).toBe(0);
          expect(await s.selectValue("SELECT $1::int + 1", [1])).toBe(2);
        }
      } finally {
        await Promise.all(held.map((s) => s.release()));
      }
      // For the record (vitest prints it with --reporter=verbose): what happened, and how long it took.
      console.info(
        `soak ${target.name}: ${sessions} sessions in ${elapsed} ms`,
        JSON.stringify(tally),
        JSON.stringify(errors),
      );
    }, 240_000);
  });
}
