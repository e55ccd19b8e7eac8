/**
 * Cancellation, COPY settling, prepared statements across DDL and bad input, run on every PostgreSQL adapter (pg,
 * postgres.js, PGlite). Each test asserts what a user can observe: the error class and SQLSTATE, the rows in the
 * table afterwards, and that the session's connection still answers. Tables are prefixed per adapter (`tr_<name>_…`)
 * because the server adapters share one database.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  CheckViolationError,
  type DatabaseConfig,
  OperationCancelledError,
  ParameterError,
  PoolTimeoutError,
  QueryTimeoutError,
  type Session,
  SQLSpecError,
  UniqueViolationError,
  UnsupportedOperationError,
} from "../../src/index.js";

type AnyConfig = DatabaseConfig<any, any, any>;

export interface TrustConfigOptions {
  maxSize?: number;
  statementCacheSize?: number;
}

export interface TrustTarget {
  name: string;
  make(o?: TrustConfigOptions): AnyConfig;
  /** Runs SQL on the session's connection behind the adapter's back (as another tool or a pooler would). */
  raw(session: Session<any>, sql: string): Promise<unknown>;
  /** The engine can interrupt a running statement (server adapters); otherwise timeoutMs is refused. */
  interrupts: boolean;
}

/** The error a promise rejects with, or undefined when it resolves. */
export const failure = (p: Promise<unknown>): Promise<any> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

/** Settles within `ms` or fails the test with `what` (a hang is a failure, never a timeout of the whole file). */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}

export function runTrustTests(t: TrustTarget): void {
  const { name } = t;
  const p = `tr_${name}`;
  const opened: AnyConfig[] = [];
  const config = (o?: TrustConfigOptions): AnyConfig => {
    const c = t.make(o);
    opened.push(c);
    return c;
  };
  let db: AnyConfig;
  const count = (table: string): Promise<number> =>
    db.withSession(async (s) => Number(await s.selectValue(`SELECT count(*) FROM ${table}`)));

  describe(`trust: ${name}`, () => {
    beforeAll(async () => {
      db = config({ maxSize: 4 });
      await db.withSession((s) =>
        s.executeScript(`
          DROP TABLE IF EXISTS ${p}_items, ${p}_ddl, ${p}_ddl2, ${p}_checked, ${p}_j;
          CREATE TABLE ${p}_items (id int PRIMARY KEY, name text, n int, at timestamptz, doc jsonb);
          CREATE TABLE ${p}_checked (id int PRIMARY KEY, n int NOT NULL CHECK (n >= 0), label text);
          CREATE TABLE ${p}_j (id int PRIMARY KEY, doc jsonb);
        `),
      );
    });
    afterAll(async () => {
      await Promise.all(opened.map((c) => c.close().catch(() => {})));
    });

    // ------------------------------------------------------------------------------------ bad values (before I/O)

    describe("bad values raise ParameterError naming the place, before any I/O", () => {
      const bad: [string, unknown][] = [
        ["a Symbol", Symbol("x")],
        ["a function", () => 1],
        ["an Invalid Date", new Date(Number.NaN)],
        // No UTF-8 form: drivers would store U+FFFD in its place.
        ["a string with a lone surrogate", "a\uD800b"],
      ];

      test.each(bad)(
        "execute with %s → ParameterError naming the parameter; the open transaction is untouched",
        async (_, v) => {
          await db.withSession((s) =>
            s.transaction(async (tx) => {
              const err = await failure(tx.execute(`INSERT INTO ${p}_items (id, name) VALUES ($1, $2)`, [9001, v]));
              expect(err).toBeInstanceOf(ParameterError);
              expect(err.message).toContain("$2");
              // Nothing reached the server: the transaction is not aborted (a sent statement would give 25P02 here).
              expect(await tx.selectValue("SELECT 1")).toBe(1);
              await tx.rollback();
            }),
          );
          expect(await count(`${p}_items WHERE id = 9001`)).toBe(0);
        },
      );

      test.each(bad)(
        "upsert (JSON and COPY paths) and loadRecords with %s → ParameterError naming the column",
        async (_, v) => {
          const rows = (n: number) =>
            Array.from({ length: n }, (_, i) => ({ id: 9100 + i, name: i === n - 1 ? v : "ok", n: 1 }));
          const one = (bad: Record<string, unknown>) => [{ id: 9200, name: "ok", n: 1, at: new Date() }, bad];
          await db.withSession((s) =>
            s.transaction(async (tx) => {
              const atColumn = v instanceof Date ? { id: 9201, name: "x", n: 1, at: v } : undefined;
              for (const [what, run] of [
                ["upsert json", () => tx.upsert(`${p}_items`, rows(3), { on: ["id"] })],
                ["upsert copy", () => tx.upsert(`${p}_items`, rows(3), { on: ["id"], copyThreshold: 1 })],
                ["loadRecords", () => tx.loadRecords(`${p}_items`, rows(3))],
                ...(atColumn
                  ? [
                      ["upsert json (timestamptz)", () => tx.upsert(`${p}_items`, one(atColumn), { on: ["id"] })],
                      [
                        "upsert copy (timestamptz)",
                        () => tx.upsert(`${p}_items`, one(atColumn), { on: ["id"], copyThreshold: 1 }),
                      ],
                      ["loadRecords (timestamptz)", () => tx.loadRecords(`${p}_items`, one(atColumn))],
                    ]
                  : []),
              ] as [string, () => Promise<unknown>][]) {
                const err = await failure(run());
                expect(err, what).toBeInstanceOf(ParameterError);
                expect(err.message, what).toMatch(
                  v instanceof Date && what.includes("timestamptz") ? /"?at"?/ : /"?name"?/,
                );
                expect(await tx.selectValue("SELECT 1"), `${what}: transaction untouched`).toBe(1);
              }
              await tx.rollback();
            }),
          );
          expect(await count(`${p}_items WHERE id >= 9100 AND id < 9300`)).toBe(0);
        },
      );

      test("a circular object bound to jsonb → ParameterError through execute, upsert (both paths) and loadRecords", async () => {
        const doc: Record<string, unknown> = { a: 1 };
        doc.self = doc;
        await db.withSession(async (s) => {
          for (const [what, run] of [
            ["execute", () => s.execute(`INSERT INTO ${p}_j (id, doc) VALUES ($1, $2)`, [1, doc])],
            ["upsert json", () => s.upsert(`${p}_j`, [{ id: 1, doc }], { on: ["id"] })],
            ["upsert copy", () => s.upsert(`${p}_j`, [{ id: 1, doc }], { on: ["id"], copyThreshold: 0 })],
            ["loadRecords", () => s.loadRecords(`${p}_j`, [{ id: 1, doc }])],
          ] as [string, () => Promise<unknown>][]) {
            const err = await failure(run());
            expect(err, what).toBeInstanceOf(ParameterError);
            expect(err.message, what).not.toMatch(/^Converting circular/);
          }
          expect(await s.selectValue(`SELECT count(*)::int FROM ${p}_j`)).toBe(0);
        });
      });

      test("more than 65,535 placeholders → ParameterError before sending; the connection stays usable", async () => {
        const n = 70_000;
        const text = `SELECT ${Array.from({ length: n }, (_, i) => `$${i + 1}::int`).join(" + ")}`;
        const values = Array.from({ length: n }, () => 1);
        await db.withSession((s) =>
          s.transaction(async (tx) => {
            const err = await failure(tx.execute(text, values));
            expect(err).toBeInstanceOf(ParameterError);
            expect(err.message).toMatch(/6553[35]/);
            const many = await failure(tx.executeMany(text, [values]));
            expect(many).toBeInstanceOf(ParameterError);
            expect(await tx.selectValue("SELECT 2")).toBe(2);
            await tx.rollback();
          }),
        );
      });
    });

    test("at the driver's own parameter limit: runs, or ParameterError naming the limit (never a driver error)", async () => {
      // postgres.js stops at 65,533 parameters; pg and PGlite take the protocol's 65,535.
      const n = 65_534;
      const text = `SELECT cardinality(ARRAY[${Array.from({ length: n }, (_, i) => `$${i + 1}::int`).join(",")}])`;
      const values = Array.from({ length: n }, () => 1);
      await db.withSession(async (s) => {
        const outcome = await s.selectValue(text, values).then(
          (v) => v,
          (e: unknown) => e,
        );
        if (outcome instanceof Error) {
          expect(outcome).toBeInstanceOf(ParameterError);
          expect(outcome.message).toContain("65533");
        } else {
          expect(outcome).toBe(n);
        }
        expect(await s.selectValue("SELECT 2")).toBe(2);
      });
    });

    // ------------------------------------------------------------------------------------ COPY settles

    describe("COPY the server rejects settles with a typed error and leaves the connection clean", () => {
      test("loadRecords: CHECK violation, unique violation, text in an int column", async () => {
        await db.withSession(async (s) => {
          await s.execute(`DELETE FROM ${p}_checked`);
          await s.execute(`INSERT INTO ${p}_checked (id, n) VALUES (1, 1)`);
          const cases: [string, Record<string, unknown>[], new (...a: any[]) => Error][] = [
            [
              "check",
              [
                { id: 10, n: 1 },
                { id: 11, n: -1 },
              ],
              CheckViolationError,
            ],
            [
              "unique",
              [
                { id: 20, n: 1 },
                { id: 1, n: 2 },
              ],
              UniqueViolationError,
            ],
            [
              "text in int",
              [
                { id: 30, n: 1 },
                { id: 31, n: "abc" },
              ],
              SQLSpecError,
            ],
          ];
          for (const [what, rows, cls] of cases) {
            const err = await within(5000, `loadRecords (${what})`, failure(s.loadRecords(`${p}_checked`, rows)));
            expect(err, what).toBeInstanceOf(cls);
            expect(err.constructor, what).not.toBe(SQLSpecError);
            expect(err, what).not.toBeInstanceOf(TypeError);
            expect(s.inTransaction, what).toBe(false);
            expect(await within(3000, `next statement after ${what}`, s.selectValue("SELECT $1::int", [5]))).toBe(5);
          }
          expect(await s.selectValue(`SELECT count(*)::int FROM ${p}_checked`)).toBe(1);
        });
      });

      test("a 3,000-row upsert with a bad row → typed error, nothing written, the session answers", async () => {
        const rows = Array.from({ length: 3000 }, (_, i) => ({ id: 1000 + i, n: i === 2500 ? -5 : i, label: "x" }));
        await db.withSession(async (s) => {
          const err = await within(10_000, "3,000-row upsert", failure(s.upsert(`${p}_checked`, rows, { on: ["id"] })));
          expect(err).toBeInstanceOf(CheckViolationError);
          expect(s.inTransaction).toBe(false);
          expect(await within(3000, "next statement", s.selectValue("SELECT $1::int", [6]))).toBe(6);
          expect(await s.selectValue(`SELECT count(*)::int FROM ${p}_checked WHERE id >= 1000`)).toBe(0);
          // Also inside the caller's transaction: the transaction is failed, the rollback restores the session.
          const inTx = await within(
            10_000,
            "upsert in transaction",
            failure(s.transaction((tx) => tx.upsert(`${p}_checked`, rows, { on: ["id"] }))),
          );
          expect(inTx).toBeInstanceOf(CheckViolationError);
          expect(await s.selectValue("SELECT 7")).toBe(7);
        });
        // The pooled connection is clean for the next borrower too.
        for (let i = 0; i < 4; i++) expect(await db.withSession((s) => s.selectValue("SELECT 8"))).toBe(8);
      });

      test.each([
        ["execute", "COPY … FROM STDIN", (s: Session<any>, tb: string) => s.execute(`COPY ${tb} (id, n) FROM STDIN`)],
        [
          "executeScript",
          "COPY … FROM stdin",
          (s: Session<any>, tb: string) => s.executeScript(`SELECT 1; COPY ${tb} (id, n) FROM stdin;`),
        ],
        [
          "executeScript",
          "COPY (query) TO STDOUT",
          (s: Session<any>, tb: string) => s.executeScript(`COPY (SELECT * FROM ${tb}) TO STDOUT; SELECT 1`),
        ],
      ])("%s with %s → typed error, never a cancellation; the connection is not left mid-COPY", async (_, __, run) => {
        const one = config({ maxSize: 1 });
        await one.withSession(async (s) => {
          const err = await within(5000, "COPY through execute", failure(run(s, `${p}_checked`)));
          expect(err).toBeInstanceOf(SQLSpecError);
          expect(err).toBeInstanceOf(UnsupportedOperationError);
          expect(err).not.toBeInstanceOf(QueryTimeoutError);
          expect(err).not.toBeInstanceOf(OperationCancelledError);
          expect(err.message).toMatch(/COPY/);
          expect(await within(3000, "same session afterwards", s.selectValue("SELECT $1::int", [9]))).toBe(9);
        });
        expect(
          await within(
            3000,
            "next session afterwards",
            one.withSession((s) => s.selectValue("SELECT 10")),
          ),
        ).toBe(10);
      });
    });

    // ------------------------------------------------------------------------------------ cancellation

    describe("cancellation", () => {
      test("loadRecords from an async source that stalls settles on signal (and timeoutMs where it is taken); nothing written, connection reusable", async () => {
        async function* stall(id: number): AsyncGenerator<Record<string, unknown>> {
          yield { id, name: "first", n: 1 };
          await new Promise(() => undefined);
        }
        const one = config({ maxSize: 1 });
        const attempts: [string, () => Record<string, unknown>, new (...a: any[]) => Error][] = [
          ["signal", () => ({ signal: AbortSignal.timeout(250) }), OperationCancelledError],
        ];
        if (t.interrupts) attempts.push(["timeoutMs", () => ({ timeoutMs: 250 }), QueryTimeoutError]);
        for (const [what, options, Expected] of attempts) {
          const started = Date.now();
          const err = await within(
            4000,
            `loadRecords (stalling source, ${what})`,
            failure(one.withSession((s) => s.loadRecords(`${p}_items`, stall(9800), options()))),
          );
          expect(err, what).toBeInstanceOf(Expected);
          expect(Date.now() - started, what).toBeLessThan(3000);
          // The pool's only connection is back and clean.
          const after = await within(
            4000,
            "next session",
            one.withSession(async (s) => [s.inTransaction, await s.selectValue("SELECT 21")]),
          );
          expect(after).toEqual([false, 21]);
        }
        expect(await count(`${p}_items WHERE id = 9800`)).toBe(0);
        // PGlite's configs here are one shared database, closed when the suite ends.
        if (t.interrupts) await within(4000, "close", one.close());
      });

      test("upsert takes an array of rows: an async iterable is a ParameterError before any I/O", async () => {
        async function* gen(): AsyncGenerator<Record<string, unknown>> {
          yield { id: 9801, name: "x", n: 1 };
        }
        await db.withSession(async (s) => {
          const err = await failure(s.upsert(`${p}_items`, gen() as any, { on: ["id"] }));
          expect(err).toBeInstanceOf(ParameterError);
          expect(err.message).toContain("loadRecords");
        });
      });

      test("timeoutMs NaN, negative or not a number → ParameterError before any I/O on every path", async () => {
        for (const timeoutMs of [Number.NaN, -5, "100" as unknown as number]) {
          const o = { timeoutMs };
          await db.withSession(async (s) => {
            const ins = `INSERT INTO ${p}_items (id, name) VALUES ($1, 'x')`;
            expect(await failure(s.execute(ins, [9700], o))).toBeInstanceOf(ParameterError);
            expect(await failure(s.executeMany(ins, [[9701], [9702]], o))).toBeInstanceOf(ParameterError);
            expect(
              await failure(s.upsert(`${p}_items`, [{ id: 9703, name: "x" }], { on: ["id"], timeoutMs })),
            ).toBeInstanceOf(ParameterError);
            expect(await failure(s.loadRecords(`${p}_items`, [{ id: 9704, name: "x" }], o))).toBeInstanceOf(
              ParameterError,
            );
            let ran = false;
            const tx = await failure(
              s.transaction(async () => {
                ran = true;
              }, o),
            );
            expect(tx).toBeInstanceOf(ParameterError);
            expect(ran).toBe(false);
            expect(s.inTransaction).toBe(false);
          });
          expect(await failure(db.withSession(async () => 1, o))).toBeInstanceOf(ParameterError);
        }
        expect(await count(`${p}_items WHERE id BETWEEN 9700 AND 9709`)).toBe(0);
      });

      test("timeoutMs Infinity or ≥ 2^31 ms means no limit (never a 1 ms timer)", async () => {
        const one = config({ maxSize: 1 });
        for (const timeoutMs of [Number.POSITIVE_INFINITY, 2 ** 31, 2 ** 31 - 1]) {
          const sleepSql = t.interrupts ? "SELECT pg_sleep(0.05)::text || 'done'" : "SELECT 'done'";
          await one.withSession(async (s) => {
            expect(await s.selectValue(sleepSql, [], { timeoutMs })).toBe("done");
            expect(
              (await s.executeMany(`SELECT $1::int`, [[1], [2]], { timeoutMs })).rowsAffected,
            ).toBeGreaterThanOrEqual(0);
            expect(await s.transaction(async (tx) => tx.selectValue("SELECT 7"), { timeoutMs })).toBe(7);
          });
          // Acquire: another session holds the only connection for 150 ms.
          const holder = one.withSession(() => new Promise((r) => setTimeout(r, 150)));
          await new Promise((r) => setTimeout(r, 20));
          expect(
            await within(
              5000,
              "acquire",
              one.withSession((s) => s.selectValue("SELECT 8"), { timeoutMs }),
            ),
          ).toBe(8);
          await holder;
        }
      });

      if (t.interrupts) {
        test("timeouts never cancel another statement: 300 unrelated statements, zero innocent cancellations", async () => {
          const pool = config({ maxSize: 3 });
          const innocent: unknown[] = [];
          const timed = { ok: 0, timedOut: 0, other: [] as unknown[] };
          const unrelated = async (i: number): Promise<void> => {
            try {
              const v = await pool.withSession((s) =>
                // Each keeps its backend busy for a moment, so a stray cancel would land inside one.
                i % 2 === 0
                  ? s.selectValue("SELECT $1::int FROM pg_sleep(0.002)", [i])
                  : s.selectValue(`SELECT ${i} FROM pg_sleep(0.002)`),
              );
              if (v !== i) innocent.push(new Error(`wrong value ${String(v)}`));
            } catch (err) {
              innocent.push(err);
            }
          };
          const racing = async (i: number): Promise<void> => {
            // A statement that ends right around its own deadline: the cancel races the completion.
            const ms = 4 + (i % 7);
            const ac = new AbortController();
            const options = i % 3 === 0 ? { signal: ac.signal } : { timeoutMs: ms };
            if (i % 3 === 0) setTimeout(() => ac.abort(), ms);
            try {
              await pool.withSession((s) => s.execute("SELECT pg_sleep(0.005)", undefined, options));
              timed.ok++;
            } catch (err) {
              if (err instanceof QueryTimeoutError || err instanceof OperationCancelledError) timed.timedOut++;
              else timed.other.push(err);
            }
          };
          const work: Promise<void>[] = [];
          for (let i = 0; i < 300; i++) {
            work.push(unrelated(i));
            if (i % 2 === 0) work.push(racing(i));
          }
          await within(60_000, "the mixed workload", Promise.all(work));
          expect(timed.other).toEqual([]);
          expect(innocent).toEqual([]);
          // Both outcomes occurred, so the race really was exercised.
          expect(timed.ok + timed.timedOut).toBe(150);
        });

        test("an abort fired as a fresh pool's first statement starts (connection still opening) cancels it", async () => {
          const outcomes: string[] = [];
          for (let k = 0; k < 8; k++) {
            const fresh = config({ maxSize: 1 });
            const outcome = await within(
              5000,
              `cold abort ${k}`,
              fresh.withSession(async (s) => {
                const ac = new AbortController();
                const run = s.execute(
                  `INSERT INTO ${p}_items (id, name, n) SELECT ${9900 + k}, 'cold', 1 FROM pg_sleep(0.3)`,
                  [],
                  { signal: ac.signal },
                );
                ac.abort();
                return run.then(
                  () => "resolved",
                  (e: unknown) => (e as Error).constructor.name,
                );
              }),
            );
            outcomes.push(outcome);
            await within(5000, "close", fresh.close());
          }
          expect(outcomes.join(",")).toBe(Array(8).fill("OperationCancelledError").join(","));
          expect(await count(`${p}_items WHERE id >= 9900 AND id < 9908`)).toBe(0);
        });

        test("an abort right after the statement is sent never wedges the connection", async () => {
          const one = config({ maxSize: 1 });
          await one.withSession(async (s) => {
            for (let i = 0; i < 20; i++) {
              const ac = new AbortController();
              const pending = s.execute("SELECT pg_sleep(0.2)", undefined, { signal: ac.signal });
              if (i % 2 === 0) ac.abort();
              else queueMicrotask(() => ac.abort());
              const err = await within(3000, `aborted statement ${i}`, failure(pending));
              expect(err === undefined || err instanceof OperationCancelledError).toBe(true);
              expect(await within(3000, `statement after abort ${i}`, s.selectValue("SELECT $1::int", [i]))).toBe(i);
            }
          });
        });

        test("executeMany takes timeoutMs and signal like execute", async () => {
          const one = config({ maxSize: 1 });
          await one.withSession(async (s) => {
            let started = Date.now();
            const timedOut = await within(
              3000,
              "executeMany",
              failure(s.executeMany("SELECT pg_sleep($1::float8)", [[0.01], [2]], { timeoutMs: 150 })),
            );
            expect(timedOut).toBeInstanceOf(QueryTimeoutError);
            expect(Date.now() - started).toBeLessThan(1500);
            const ac = new AbortController();
            setTimeout(() => ac.abort(), 150);
            started = Date.now();
            const aborted = await within(
              3000,
              "executeMany",
              failure(s.executeMany("SELECT pg_sleep($1::float8)", [[2]], { signal: ac.signal })),
            );
            expect(aborted).toBeInstanceOf(OperationCancelledError);
            expect(Date.now() - started).toBeLessThan(1500);
            expect(await s.selectValue("SELECT $1::int", [14])).toBe(14);
          });
        });

        test("upsert and loadRecords take timeoutMs and signal: a lock wait ends typed, nothing written", async () => {
          const holder = await db.provideSession();
          try {
            await holder.execute("BEGIN");
            await holder.execute(`LOCK TABLE ${p}_items IN ACCESS EXCLUSIVE MODE`);
            await db.withSession(async (s) => {
              const rows = [{ id: 9500, name: "a", n: 1 }];
              let started = Date.now();
              const up = await within(
                5000,
                "upsert",
                failure(s.upsert(`${p}_items`, rows, { on: ["id"], timeoutMs: 200 })),
              );
              expect(up).toBeInstanceOf(QueryTimeoutError);
              expect(Date.now() - started).toBeLessThan(3000);
              started = Date.now();
              const ac = new AbortController();
              setTimeout(() => ac.abort(), 200);
              const load = await within(
                5000,
                "loadRecords",
                failure(s.loadRecords(`${p}_items`, rows, { signal: ac.signal })),
              );
              expect(load).toBeInstanceOf(OperationCancelledError);
              expect(Date.now() - started).toBeLessThan(3000);
              const big = Array.from({ length: 3000 }, (_, i) => ({ id: 20_000 + i, name: "b", n: i }));
              const copy = await within(
                5000,
                "COPY upsert",
                failure(s.upsert(`${p}_items`, big, { on: ["id"], timeoutMs: 200 })),
              );
              expect(copy).toBeInstanceOf(QueryTimeoutError);
              expect(s.inTransaction).toBe(false);
              expect(await s.selectValue("SELECT 11")).toBe(11);
            });
          } finally {
            await holder.execute("ROLLBACK");
            await holder.release();
          }
          expect(await count(`${p}_items WHERE id = 9500 OR id >= 20000`)).toBe(0);
        });

        test("withSession/provideSession: signal and timeoutMs bound the wait for a connection", async () => {
          const one = config({ maxSize: 1 });
          const held = await one.provideSession();
          try {
            let started = Date.now();
            const timedOut = await within(3000, "acquire", failure(one.withSession(async () => 1, { timeoutMs: 150 })));
            expect(timedOut).toBeInstanceOf(PoolTimeoutError);
            expect(Date.now() - started).toBeLessThan(2000);
            const ac = new AbortController();
            setTimeout(() => ac.abort(), 100);
            started = Date.now();
            const aborted = await within(3000, "acquire", failure(one.provideSession({ signal: ac.signal })));
            expect(aborted).toBeInstanceOf(OperationCancelledError);
          } finally {
            await held.release();
          }
          expect(await one.withSession((s) => s.selectValue("SELECT 12"))).toBe(12);
        });
      } else {
        test("timeoutMs is refused with a typed error before anything runs", async () => {
          await db.withSession(async (s) => {
            const err = await failure(
              s.execute(`INSERT INTO ${p}_items (id, name) VALUES (9600, 'x')`, undefined, { timeoutMs: 50 }),
            );
            expect(err).toBeInstanceOf(UnsupportedOperationError);
            expect(err.message).toMatch(/timeoutMs/);
            const up = await failure(s.upsert(`${p}_items`, [{ id: 9601, name: "x" }], { on: ["id"], timeoutMs: 50 }));
            expect(up).toBeInstanceOf(UnsupportedOperationError);
            const load = await failure(s.loadRecords(`${p}_items`, [{ id: 9602, name: "x" }], { timeoutMs: 50 }));
            expect(load).toBeInstanceOf(UnsupportedOperationError);
          });
          expect(await count(`${p}_items WHERE id >= 9600 AND id < 9700`)).toBe(0);
        });

        test("a signal stops a statement that waits for another session's transaction; nothing runs", async () => {
          // The catalog facts are known (a first catalog lookup waits within the session's acquire options only).
          await db.withSession(async (s) => {
            await s.dataDictionary.getVersion();
            await s.dataDictionary.getColumns(`${p}_items`);
          });
          const holder = await db.provideSession();
          try {
            await holder.execute("BEGIN");
            const ac = new AbortController();
            setTimeout(() => ac.abort(), 100);
            const started = Date.now();
            const err = await within(
              3000,
              "waiting statement",
              failure(
                db.withSession((s) =>
                  s.execute(`INSERT INTO ${p}_items (id, name) VALUES (9700, 'x')`, undefined, { signal: ac.signal }),
                ),
              ),
            );
            expect(err).toBeInstanceOf(OperationCancelledError);
            expect(Date.now() - started).toBeLessThan(2000);
            const pre = new AbortController();
            pre.abort();
            const up = await failure(
              db.withSession((s) =>
                s.upsert(`${p}_items`, [{ id: 9701, name: "x" }], { on: ["id"], signal: pre.signal }),
              ),
            );
            expect(up).toBeInstanceOf(OperationCancelledError);
            // A COPY-staged upsert opens its own transaction: the signal also ends its BEGIN's wait.
            const mid = new AbortController();
            setTimeout(() => mid.abort(), 100);
            const big = Array.from({ length: 3000 }, (_, i) => ({ id: 30_000 + i, name: "b" }));
            const copy = await within(
              3000,
              "COPY upsert waiting",
              failure(db.withSession((s) => s.upsert(`${p}_items`, big, { on: ["id"], signal: mid.signal }))),
            );
            expect(copy).toBeInstanceOf(OperationCancelledError);
          } finally {
            await holder.execute("ROLLBACK");
            await holder.release();
          }
          expect(await count(`${p}_items WHERE (id >= 9700 AND id < 9800) OR id >= 30000`)).toBe(0);
        });

        test("withSession/provideSession timeoutMs and signal bound the wait for the connection", async () => {
          const holder = await db.provideSession();
          try {
            await holder.execute("BEGIN");
            let started = Date.now();
            const timedOut = await within(
              3000,
              "acquire",
              failure(db.withSession((s) => s.selectValue("SELECT 1"), { timeoutMs: 150 })),
            );
            expect(timedOut).toBeInstanceOf(PoolTimeoutError);
            expect(Date.now() - started).toBeLessThan(2000);
            const ac = new AbortController();
            setTimeout(() => ac.abort(), 100);
            started = Date.now();
            const aborted = await within(
              3000,
              "acquire",
              failure(db.provideSession({ signal: ac.signal }).then((s) => s.selectValue("SELECT 1"))),
            );
            expect(aborted).toBeInstanceOf(OperationCancelledError);
            expect(Date.now() - started).toBeLessThan(2000);
          } finally {
            await holder.execute("ROLLBACK");
            await holder.release();
          }
          expect(await db.withSession((s) => s.selectValue("SELECT 13"))).toBe(13);
        });
      }
    });

    // ------------------------------------------------------------------------------------ prepared statements vs DDL

    describe("prepared statements survive DDL and dropped statements", () => {
      for (const cacheSize of [undefined, 0]) {
        const label = cacheSize === undefined ? "default cache" : "statementCacheSize 0";
        test(`ALTER COLUMN TYPE and DROP + CREATE with another type (${label})`, async () => {
          const one = config({ maxSize: 1, ...(cacheSize !== undefined ? { statementCacheSize: cacheSize } : {}) });
          const tb = `${p}_ddl`;
          await one.withSession(async (s) => {
            await s.executeScript(
              `DROP TABLE IF EXISTS ${tb}; CREATE TABLE ${tb} (id int PRIMARY KEY, v int, tags int[])`,
            );
            const insert = `INSERT INTO ${tb} (id, v, tags) VALUES ($1, $2, $3)`;
            const select = `SELECT v FROM ${tb} WHERE id = $1`;
            for (let i = 0; i < 3; i++) {
              await s.execute(insert, [i, i, [i]]);
              expect(await s.selectValue(select, [i])).toBe(i);
            }
            await s.execute(`ALTER TABLE ${tb} ALTER COLUMN v TYPE text, ALTER COLUMN tags TYPE text[]`);
            await s.execute(insert, [10, "ten", ["a", "b"]]);
            expect(await s.selectValue(select, [10])).toBe("ten");
            expect(await s.selectValue(`SELECT tags FROM ${tb} WHERE id = $1`, [10])).toEqual(["a", "b"]);
            await s.executeScript(`DROP TABLE ${tb}; CREATE TABLE ${tb} (id int PRIMARY KEY, v boolean, tags jsonb)`);
            await s.execute(insert, [20, true, ["x"]]);
            expect(await s.selectValue(select, [20])).toBe(true);
            // A plan whose result type changed (0A000 "cached plan must not change result type").
            const star = `SELECT * FROM ${tb} WHERE id = $1`;
            expect(await s.selectOne(star, [20])).toEqual({ id: 20, v: true, tags: ["x"] });
            await s.execute(`ALTER TABLE ${tb} ADD COLUMN extra int DEFAULT 4`);
            expect(await s.selectOne(star, [20])).toEqual({ id: 20, v: true, tags: ["x"], extra: 4 });
          });
        });

        test(`a statement prepared before ALTER COLUMN TYPE in the same transaction (${label})`, async () => {
          const one = config({ maxSize: 1, ...(cacheSize !== undefined ? { statementCacheSize: cacheSize } : {}) });
          const tb = `${p}_ddl2`;
          await one.withSession(async (s) => {
            await s.executeScript(`DROP TABLE IF EXISTS ${tb}; CREATE TABLE ${tb} (id int PRIMARY KEY, w int)`);
            const insert = `INSERT INTO ${tb} (id, w) VALUES ($1, $2)`;
            await s.transaction(async (tx) => {
              await tx.execute(insert, [1, 1]);
              await tx.execute(`ALTER TABLE ${tb} ALTER COLUMN w TYPE text`);
              await tx.execute(insert, [2, "two"]);
            });
            expect(await s.select(`SELECT id, w FROM ${tb} ORDER BY id`)).toEqual([
              { id: 1, w: "1" },
              { id: 2, w: "two" },
            ]);
            await s.execute(insert, [3, "three"]);
            expect(await s.selectValue(`SELECT w FROM ${tb} WHERE id = $1`, [3])).toBe("three");
          });
        });
      }

      test("invalid input to a prepared statement is the data's error: no re-prepare churn, no reconnect", async () => {
        const one = config({ maxSize: 1 });
        const pid = await one.withSession((s) => s.selectValue("SELECT pg_backend_pid()"));
        for (let i = 0; i < 5; i++) {
          await one.withSession(async (s) => {
            expect(await s.selectValue("SELECT $1::int + 1", [i])).toBe(i + 1);
            const err = await failure(s.selectValue("SELECT $1::int + 1", ["not a number"]));
            expect(err).toBeInstanceOf(SQLSpecError);
            expect(err.sqlState).toBe("22P02");
          });
        }
        expect(await one.withSession((s) => s.selectValue("SELECT pg_backend_pid()"))).toBe(pid);
      });

      test("a statement that fails after sending rows leaves the next statement's rows exact (session and shared)", async () => {
        // Rows 1 and 2 reach the client before row 3 divides by zero.
        const failing = [
          "SELECT 1 / (3 - x) AS v FROM generate_series(1, 5) x",
          "SELECT $1::int / (3 - x) AS v FROM generate_series(1, 5) x",
        ];
        const one = config({ maxSize: 1 });
        await one.withSession(async (s) => {
          for (const bad of failing) {
            const err = await failure(bad.includes("$1") ? s.select(bad, [1]) : s.select(bad));
            expect(err.sqlState).toBe("22012");
            expect(await s.selectOne("SELECT 7 AS seven")).toEqual({ seven: 7 });
            await failure(s.select(bad, bad.includes("$1") ? [1] : []));
            expect(await s.select("SELECT x FROM generate_series(1, 3) x")).toEqual([{ x: 1 }, { x: 2 }, { x: 3 }]);
            await failure(s.select(bad, bad.includes("$1") ? [1] : []));
            expect((await s.executeMany("SELECT $1::int AS n", [[1], [2]])).rowsAffected).toBeGreaterThanOrEqual(0);
            await failure(s.select(bad, bad.includes("$1") ? [1] : []));
            const streamed: unknown[] = [];
            for await (const row of s.stream("SELECT x FROM generate_series(1, 2) x")) streamed.push(row);
            expect(streamed).toEqual([{ x: 1 }, { x: 2 }]);
          }
        });
        // One-shot statements on the pool (which a driver may pipeline on one connection): the one behind the failure.
        for (let round = 0; round < 5; round++) {
          const [bad, good, other] = await Promise.allSettled([
            one.select(failing[0] as string),
            one.select("SELECT x FROM generate_series(1, 4) x"),
            one.selectOne("SELECT 9 AS nine"),
          ]);
          expect(bad.status).toBe("rejected");
          expect(good).toEqual({ status: "fulfilled", value: [{ x: 1 }, { x: 2 }, { x: 3 }, { x: 4 }] });
          expect(other).toEqual({ status: "fulfilled", value: { nine: 9 } });
        }
      });

      test("DEALLOCATE ALL / DISCARD PLANS run through the session inside a transaction: the transaction goes on", async () => {
        await db.withSession(async (s) => {
          for (const cmd of ["DEALLOCATE ALL", "DISCARD PLANS"]) {
            const got = await s.transaction(async (tx) => {
              for (let i = 0; i < 3; i++) await tx.selectValue("SELECT $1::int + 40", [i]);
              await tx.execute(cmd);
              return tx.selectValue("SELECT $1::int + 40", [2]);
            });
            expect(got, cmd).toBe(42);
          }
        });
      });

      test("the statement cache survives DEALLOCATE ALL run behind the adapter's back", async () => {
        const one = config({ maxSize: 1 });
        await one.withSession(async (s) => {
          const statements = [
            "SELECT $1::int + 1",
            "SELECT $1::int + 2",
            "SELECT $1::text || 'x'",
            `SELECT count(*)::int FROM ${p}_items WHERE id = $1`,
          ];
          for (const st of statements) await s.selectValue(st, [1]);
          await t.raw(s, "DEALLOCATE ALL");
          expect(await s.selectValue(statements[1] as string, [1])).toBe(3);
          expect(await s.selectValue(statements[2] as string, [1])).toBe("1x");
          expect(await s.selectValue(statements[0] as string, [1])).toBe(2);
          expect(await s.selectValue(statements[3] as string, [-1])).toBe(0);
        });
      });
    });
  });
}
