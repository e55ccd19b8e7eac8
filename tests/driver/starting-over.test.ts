/**
 * A bulk call whose transaction finds what it read from the catalog changed (another connection's DDL landed while it waited for the lock;
 * nothing written) starts over, reading the catalog afresh; a call that keeps finding it moved stops with a typed
 * error instead of looping. The database side is in tests/adapters/sqlite-upsert-repeat.test.ts.
 */
import { expect, test } from "vitest";
import { CatalogMoved, startingOver } from "../../src/driver/catalog-check.js";
import { OperationalError } from "../../src/index.js";

test("starts over after CatalogMoved and returns what the next attempt returns", async () => {
  let calls = 0;
  const r = await startingOver("upsert into t", async () => {
    calls++;
    if (calls === 1) throw new CatalogMoved("upsert into t");
    return "done";
  });
  expect({ r, calls }).toEqual({ r: "done", calls: 2 });
});

test("three attempts that all find the catalog moved end in an OperationalError naming the call", async () => {
  let calls = 0;
  const err = await startingOver("upsert into t", async () => {
    calls++;
    throw new CatalogMoved("upsert into t");
  }).catch((e) => e);
  expect(calls).toBe(3);
  expect(err).toBeInstanceOf(OperationalError);
  expect((err as Error).message).toBe(
    "upsert into t: the table changed (DDL by another connection) while it waited for the lock, 3 times in a row; nothing was written",
  );
});

test("any other error is the call's own and is not retried", async () => {
  let calls = 0;
  const boom = new Error("boom");
  const err = await startingOver("upsert into t", async () => {
    calls++;
    throw boom;
  }).catch((e) => e);
  expect({ err, calls }).toEqual({ err: boom, calls: 1 });
});
