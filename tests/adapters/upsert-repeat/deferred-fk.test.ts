/** A deferred foreign key broken at COMMIT: same error (class, message, statement) and nothing written on both paths. */
import { expect, test } from "vitest";
import { sqliteConfigs } from "../../support/sqlite-file.js";
import { compare } from "./compare.js";

const sqlite = sqliteConfigs("review-dfk-");
const SETUP = `CREATE TABLE p (id INTEGER PRIMARY KEY);
INSERT INTO p VALUES (1);
CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED);`;

test("deferred FK violated at COMMIT", async () => {
  const { fast, general } = await compare(
    sqlite,
    SETUP,
    (s) => s.upsert("t", [{ id: 1, name: "a", qty: 1 }], { on: ["id"] }),
    (s) =>
      s.upsert(
        "t",
        [
          { id: 2, name: "b", qty: 1 },
          { id: 3, name: "c", qty: 99 },
        ],
        { on: ["id"] },
      ),
  );
  expect(fast.fastCalls).toEqual(["failed"]);
  expect(fast.table).toEqual(general.table);
  expect(fast.error).toEqual(general.error);
});
