/** The session's unsettled-bulk-call counter returns to 0 after every kind of call; the repeat then runs in one call. */
import { expect, test } from "vitest";
import { internals } from "../../../src/driver/session-internals.js";
import { sqliteConfigs } from "../../support/sqlite-file.js";
import { type AnySession, spyAtomic } from "./compare.js";

const sqlite = sqliteConfigs("review2-count-");
const TABLE = "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER)";
const count = (s: AnySession): number => internals.stateIfAny(s)?.bulkCalls ?? 0;
const repeat = (s: AnySession, id = 9) => s.upsert("t", [{ id, name: "r", qty: 1 }], { on: ["id"] });

async function afterEach(db: Awaited<ReturnType<typeof sqlite.file>>["db"], step: (s: AnySession) => Promise<unknown>) {
  return db.withSession(async (s) => {
    await repeat(s, 1); // warm (plan kept)
    await step(s).catch(() => undefined);
    const n = count(s);
    const spy = spyAtomic(s);
    await repeat(s, 2);
    spy.restore();
    return { n, fast: spy.calls };
  });
}

test.each([
  ["rejected upsert (unknown table)", (s: AnySession) => s.upsert("nope", [{ id: 1 }], { on: ["id"] })],
  [
    "rejected upsert (duplicate keys)",
    (s: AnySession) =>
      s.upsert(
        "t",
        [
          { id: 1, name: "a" },
          { id: 1, name: "b" },
        ],
        { on: ["id"] },
      ),
  ],
  ["rejected upsert (NOT NULL)", (s: AnySession) => s.upsert("t", [{ id: 5, name: null, qty: 1 }], { on: ["id"] })],
  ["upsert inside transaction()", (s: AnySession) => s.transaction(() => repeat(s, 3))],
  [
    "rejected upsert inside transaction()",
    (s: AnySession) => s.transaction(() => s.upsert("t", [{ id: 5, name: null, qty: 1 }], { on: ["id"] })),
  ],
  [
    "executeMany inside transaction()",
    (s: AnySession) => s.transaction(() => s.executeMany("INSERT INTO t VALUES (?, 'x', 1)", [[40], [41]])),
  ],
  [
    "loadRecords async iterable that throws",
    (s: AnySession) =>
      s.loadRecords(
        "t",
        (async function* () {
          yield { id: 50, name: "x", qty: 1 };
          throw new Error("boom");
        })(),
      ),
  ],
  [
    "loadRecords with an aborted signal",
    (s: AnySession) =>
      s.loadRecords(
        "t",
        (async function* () {
          yield { id: 51, name: "x", qty: 1 };
        })(),
        { signal: AbortSignal.abort() },
      ),
  ],
  [
    "upsert with an options getter that throws",
    (s: AnySession) => {
      let reads = 0;
      const options = {
        on: ["id"],
        get onProgress() {
          if (++reads > 1) throw new Error("getter");
          return undefined;
        },
      };
      try {
        return s.upsert("t", [{ id: 60, name: "x", qty: 1 }], options as never);
      } catch (e) {
        return Promise.reject(e);
      }
    },
  ],
])("%s: the count returns to 0 and the next repeat runs in one call", async (_name, step) => {
  const { db } = await sqlite.file(TABLE, { maxSize: 1 });
  const { n, fast } = await afterEach(db, step);
  // An unknown table drops the pool's kept plans (catalog invalidated): the next repeat re-derives them (general path).
  if (_name.includes("unknown table")) return void expect({ n, fast }).toEqual({ n: 0, fast: [] });
  expect({ n, fast }).toEqual({ n: 0, fast: [1] });
});

test("loadRecords from a stalled async iterable: while it stalls the repeat steps aside; once it ends the count is 0", async () => {
  const { db } = await sqlite.file(TABLE, { maxSize: 1 });
  await db.withSession(async (s) => {
    await repeat(s, 1);
    let go!: () => void;
    const gate = new Promise<void>((r) => (go = r));
    const load = s.loadRecords(
      "t",
      (async function* () {
        yield { id: 70, name: "x", qty: 1 };
        await gate;
        yield { id: 71, name: "y", qty: 1 };
      })(),
    );
    await new Promise((r) => setTimeout(r, 20));
    expect(count(s)).toBe(1);
    go();
    await load;
    expect(count(s)).toBe(0);
    const spy = spyAtomic(s);
    await repeat(s, 2);
    spy.restore();
    expect(spy.calls).toEqual([1]);
  });
});

test("upsert whose work throws synchronously (onProgress getter): rejects (never throws) and leaves the count at 0", async () => {
  const { db } = await sqlite.file(TABLE, { maxSize: 1 });
  await db.withSession(async (s) => {
    await repeat(s, 1);
    const options = {
      on: ["id"],
      get onProgress(): undefined {
        throw new Error("getter");
      },
    };
    let how = "";
    try {
      await s.upsert("t", [{ id: 60, name: "x", qty: 1 }], options as never).catch(() => (how = "rejected"));
    } catch {
      how = "threw";
    }
    const spy = spyAtomic(s);
    await repeat(s, 2);
    spy.restore();
    expect({ how, n: count(s), fast: spy.calls }).toEqual({ how: "rejected", n: 0, fast: [1] });
  });
});
