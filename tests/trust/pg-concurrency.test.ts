/**
 * Statements a session runs concurrently on node-postgres (`Promise.all`, a transaction callback that does not await,
 * executeMany, executeStack, COPY beside queries): sqlspec queues them itself, so `client.query()` is never called
 * while the client is still executing one (pg 8 warns "Calling client.query() when the client is already executing a
 * query is deprecated", pg 9 refuses it). They run in issue order; a statement cancelled or timed out while queued
 * is never sent and cancels nothing else; the one running keeps its own cancel.
 */
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PgConfig, type PgConnection } from "../../src/adapters/pg/index.js";
import { DataError, OperationCancelledError, QueryTimeoutError, type Session } from "../../src/index.js";
import { PG_URL } from "../support/servers.js";
import { failure, within } from "./suite.js";

const T = "pgq_t";
const SEQ = "pgq_seq";
const NEXT = `SELECT nextval('${SEQ}')::int AS n`;

/** node-postgres' client internals the watch reads (pg 8.x). */
interface ClientInternals {
  readyForQuery: boolean;
  _queryQueue: unknown[];
  query: (...args: unknown[]) => unknown;
}

/** What the adapter asked node-postgres to send on one client, and which of those calls found the client busy. */
interface Watch {
  sent: string[];
  whileBusy: string[];
  stop(): void;
}

function watch(session: Session<any>): Watch {
  const client = (session.conn as PgConnection).client as unknown as ClientInternals;
  const own = Object.hasOwn(client, "query");
  const original = client.query;
  const sent: string[] = [];
  const whileBusy: string[] = [];
  client.query = (...args: unknown[]) => {
    const first = args[0] as { text?: unknown } | string;
    const text = typeof first === "string" ? first : typeof first.text === "string" ? first.text : "<submittable>";
    sent.push(text);
    if (!client.readyForQuery || client._queryQueue.length > 0) whileBusy.push(text);
    return original.apply(client, args);
  };
  return {
    sent,
    whileBusy,
    stop() {
      if (own) client.query = original;
      else delete (client as Partial<ClientInternals>).query;
    },
  };
}

const warnings: string[] = [];
const onWarning = (w: Error): void => {
  warnings.push(w.message);
};

describe("pg: concurrent statements of one session", () => {
  let db: PgConfig;
  beforeAll(async () => {
    process.on("warning", onWarning);
    db = new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 1 } });
    await db.withSession((s) =>
      s.executeScript(`
        DROP TABLE IF EXISTS ${T};
        DROP SEQUENCE IF EXISTS ${SEQ};
        CREATE SEQUENCE ${SEQ};
        CREATE TABLE ${T} (n int PRIMARY KEY DEFAULT nextval('${SEQ}'), tag text NOT NULL);
      `),
    );
  });
  afterAll(async () => {
    process.off("warning", onWarning);
    await db.withSession((s) => s.executeScript(`DROP TABLE IF EXISTS ${T}; DROP SEQUENCE IF EXISTS ${SEQ}`));
    await db.close();
    // util.deprecate warns once per process: checked once more over the whole file.
    expect(warnings.filter((m) => m.includes("already executing a query"))).toEqual([]);
  });

  /** Runs `fn` on a watched session; asserts that nothing was handed to node-postgres while it was busy. */
  async function watched<R>(fn: (s: Session<any>, w: Watch) => Promise<R>): Promise<R> {
    return db.withSession(async (s) => {
      const w = watch(s);
      try {
        const out = await fn(s, w);
        expect(w.whileBusy).toEqual([]);
        return out;
      } finally {
        w.stop();
      }
    });
  }

  const ns = (rows: readonly object[]): number[] => rows.map((r) => (r as { n: number }).n);

  test("Promise.all of queries, executeMany, executeStack and COPY: one at a time, in issue order", async () => {
    const order = await watched(async (s) => {
      const results = await within(
        10_000,
        "the concurrent statements",
        Promise.all([
          s.select<{ n: number }>(NEXT).then(ns),
          // An array parameter: its types are described first (a second round trip inside the same turn).
          s.select<{ n: number }>(`${NEXT}, cardinality($1::int[]) AS c`, [[1, 2, 3]]).then(ns),
          s.executeMany(`INSERT INTO ${T} (tag) VALUES ($1) RETURNING n`, [["m1"], ["m2"]]).then((r) => ns(r.data)),
          s.select<{ n: number }>(`${NEXT}, $1::text AS t`, ["x"]).then(ns),
          s
            .execute(`COPY ${T} (tag) FROM STDIN`, { source: Readable.from(["copy-1\n", "copy-2\n"]) })
            .then(() => s.select<{ n: number }>(`SELECT n FROM ${T} WHERE tag LIKE 'copy-%' ORDER BY n`))
            .then(ns),
          s.execute(`COPY (SELECT nextval('${SEQ}')::int FROM generate_series(1, 2)) TO STDOUT`).then((r) =>
            Buffer.concat(r.data as unknown as Uint8Array[])
              .toString()
              .trim()
              .split("\n")
              .map(Number),
          ),
          s.selectValue<number>(NEXT).then((n) => [n]),
          // Last: executeStack compiles its statements (asynchronously) before it asks for the connection.
          s.executeStack([NEXT, NEXT]).then((rs) => rs.flatMap((r) => ns(r.data))),
        ]),
      );
      return results;
    });
    // The COPY FROM's rows took their numbers when it ran (they were read back after it settled).
    const inIssueOrder = order.flat();
    expect(inIssueOrder).toHaveLength(12);
    expect(inIssueOrder).toEqual([...inIssueOrder].sort((a, b) => a - b));
  });

  test("inside transaction(): Promise.all, and statements the callback does not await, run in order before COMMIT", async () => {
    const got = await watched(async (s) => {
      let unawaited: Promise<unknown>[] = [];
      const inTx = await s.transaction(async (tx) => {
        const all = await Promise.all([
          tx.execute(`INSERT INTO ${T} (tag) VALUES ('tx-a') RETURNING n`).then((r) => ns(r.data as { n: number }[])),
          tx.select<{ n: number }>(NEXT).then(ns),
          // Last: inside a transaction it runs under a savepoint, a nested transaction() that refuses statements
          // issued beside it from outside its callback.
          tx
            .executeMany(`INSERT INTO ${T} (tag) VALUES ($1) RETURNING n`, [["tx-b"], ["tx-c"]])
            .then((r) => ns(r.data)),
        ]);
        unawaited = [
          tx.execute(`INSERT INTO ${T} (tag) VALUES ('tx-late-1')`),
          tx.execute(`INSERT INTO ${T} (tag) VALUES ('tx-late-2')`),
        ];
        return all.flat();
      });
      await Promise.all(unawaited);
      return inTx;
    });
    expect(got).toHaveLength(4);
    expect(got).toEqual([...got].sort((a, b) => a - b));
    await db.withSession(async (s) => {
      const rows = await s.select<{ tag: string }>(`SELECT tag FROM ${T} WHERE tag LIKE 'tx-%' ORDER BY n`);
      expect(rows.map((r) => r.tag)).toEqual(["tx-a", "tx-b", "tx-c", "tx-late-1", "tx-late-2"]);
    });
  });

  test("a statement aborted while queued rejects at once, is never sent, and cancels nothing else", async () => {
    await watched(async (s, w) => {
      const ac = new AbortController();
      const started = Date.now();
      const running = s.selectValue<string>("SELECT pg_sleep(0.4)::text || 'slept'");
      const queued = s.execute(`INSERT INTO ${T} (tag) VALUES ('aborted-while-queued')`, undefined, {
        signal: ac.signal,
      });
      const after = s.selectValue<string>("SELECT 'after'");
      setTimeout(() => ac.abort(), 100);
      const err = await within(5000, "the aborted statement", failure(queued));
      expect(err).toBeInstanceOf(OperationCancelledError);
      expect(Date.now() - started).toBeLessThan(350);
      expect(await running).toBe("slept");
      expect(await after).toBe("after");
      expect(w.sent.some((sql) => sql.includes("aborted-while-queued"))).toBe(false);
      expect(await s.selectValue(`SELECT count(*)::int FROM ${T} WHERE tag = 'aborted-while-queued'`)).toBe(0);
    });
  });

  test("a statement whose timeoutMs passes while queued is never sent; the one running finishes", async () => {
    await watched(async (s, w) => {
      const running = s.selectValue<string>("SELECT pg_sleep(0.4)::text || 'slept'");
      const queued = s.execute(`INSERT INTO ${T} (tag) VALUES ('timed-out-while-queued')`, undefined, {
        timeoutMs: 100,
      });
      const err = await within(5000, "the timed-out statement", failure(queued));
      expect(err).toBeInstanceOf(QueryTimeoutError);
      expect(await running).toBe("slept");
      expect(w.sent.some((sql) => sql.includes("timed-out-while-queued"))).toBe(false);
      expect(await s.selectValue(`SELECT count(*)::int FROM ${T} WHERE tag = 'timed-out-while-queued'`)).toBe(0);
    });
  });

  test("cancelling the running statement leaves the statements queued behind it alone", async () => {
    await watched(async (s) => {
      const ac = new AbortController();
      const running = s.selectValue("SELECT pg_sleep(5)", undefined, { signal: ac.signal });
      const next = s.selectValue<string>("SELECT pg_sleep(0.2)::text || 'next'", undefined, { timeoutMs: 3000 });
      const last = s.selectValue<string>("SELECT 'last'");
      setTimeout(() => ac.abort(), 100);
      expect(await within(5000, "the cancelled statement", failure(running))).toBeInstanceOf(OperationCancelledError);
      expect(await within(5000, "the next statement", next)).toBe("next");
      expect(await last).toBe("last");
    });
  });

  test("release with statements still queued: they reject unsent; the running one is cancelled", async () => {
    let w: Watch | undefined;
    const abandoned: Promise<unknown>[] = [];
    await db.withSession(async (s) => {
      w = watch(s);
      abandoned.push(
        s.execute("SELECT pg_sleep(5)"),
        s.execute(`INSERT INTO ${T} (tag) VALUES ('queued-at-release-1')`),
        s.execute(`INSERT INTO ${T} (tag) VALUES ('queued-at-release-2')`),
      );
      for (const p of abandoned) p.catch(() => {});
    });
    try {
      for (const o of await within(5000, "the abandoned statements", Promise.allSettled(abandoned))) {
        expect((o as PromiseRejectedResult).reason).toBeInstanceOf(OperationCancelledError);
      }
      expect(w?.sent.some((sql) => sql.includes("queued-at-release"))).toBe(false);
      expect(w?.whileBusy).toEqual([]);
    } finally {
      w?.stop();
    }
    const left = await db.withSession((s) =>
      s.selectValue(`SELECT count(*)::int FROM ${T} WHERE tag LIKE 'queued-at-release-%'`),
    );
    expect(left).toBe(0);
  });

  test("a failing statement in the middle: its own typed error, the others run in order", async () => {
    const out = await watched(async (s) =>
      Promise.allSettled([
        s.selectValue<number>(NEXT),
        s.selectValue("SELECT 1/0"),
        s.selectValue<number>(NEXT),
        s.selectValue<number>(`${NEXT} WHERE $1::int > 0`, [1]),
      ]),
    );
    expect(out.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
    expect((out[1] as PromiseRejectedResult).reason).toBeInstanceOf(DataError);
    expect((out[1] as PromiseRejectedResult).reason.sqlState).toBe("22012");
    const values = out.filter((o) => o.status === "fulfilled").map((o) => (o as PromiseFulfilledResult<number>).value);
    expect(values).toEqual([...values].sort((a, b) => a - b));
  });
});
