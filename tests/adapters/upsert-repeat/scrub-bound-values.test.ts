/** A failed fast-path statement's message keeps the bound values the general path scrubs ("messages never carry bound values"). */
import { expect, test } from "vitest";
import { sqliteConfigs } from "../../support/sqlite-file.js";
import { compare } from "./compare.js";

const sqlite = sqliteConfigs("review-scrub-");
const SETUP = `CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER);
CREATE TRIGGER guard BEFORE INSERT ON t WHEN NEW.name LIKE 'secret%' BEGIN SELECT RAISE(ABORT, 'refused: ' || NEW.name); END;`;

test("the engine's message quoting a bound value is scrubbed on both paths", async () => {
  const { fast, general } = await compare(
    sqlite,
    SETUP,
    (s) => s.upsert("t", [{ id: 1, name: "a", qty: 1 }], { on: ["id"] }),
    (s) => s.upsert("t", [{ id: 2, name: "secret-card-4111111111111111", qty: 1 }], { on: ["id"] }),
  );
  expect(fast.fastCalls).toEqual(["failed"]);
  expect(general.fastCalls).toEqual([]);
  expect(general.error?.message).not.toContain("4111111111111111");
  expect(fast.error?.name).toBe(general.error?.name);
  expect(fast.error?.message).toBe(general.error?.message);
});
