/**
 * Rows and named parameters given as class instances (and values typed by interfaces), executed on PGlite: the types
 * accept them (tests/types/rows.ts), so every data position must too — builder values()/using()/set()/where(),
 * session.upsert, session.loadRecords and named parameters. Value objects (Date, Buffer, sql.json) in a tuple stay
 * values, never rows.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { SQLSpec, sql } from "../../src/index.js";

class Account {
  constructor(
    readonly id: number,
    public owner: string,
    public balance: string,
  ) {}
  /** A method on the prototype: never a column. */
  describe(): string {
    return `${this.owner}: ${this.balance}`;
  }
}

interface ById {
  id: number;
}

const spec = new SQLSpec();
const db = spec.addConfig(new PgliteConfig());

beforeAll(async () => {
  await db.withSession((s) =>
    s.executeScript(`
      CREATE TABLE accounts (id integer PRIMARY KEY, owner text NOT NULL, balance numeric(10,2) NOT NULL);
      CREATE TABLE blobs (id integer PRIMARY KEY, at timestamptz, data bytea, doc jsonb);
    `),
  );
});
afterAll(() => spec.closeAllPools());

const all = () =>
  db.withSession((s) => s.select("SELECT id, owner, balance::text AS balance FROM accounts ORDER BY id"));

describe("class instances as rows", () => {
  it("builder: insertInto().values(), update().set().where(), merge().using() and upsert().using()", async () => {
    await db.withSession(async (s) => {
      await s.execute("DELETE FROM accounts");
      const ins = await s.execute(sql.insertInto("accounts").values([new Account(1, "ann", "1.50")]));
      expect(ins.rowsAffected).toBe(1);
      await s.execute(sql.insertInto("accounts").values(new Account(2, "bob", "2.00")));
      const key: ById = { id: 2 };
      const changed = new Account(2, "bob", "2.25");
      await s.execute(sql.update("accounts").set({ balance: changed.balance }).where(key));
      const merged = await s.execute(
        sql
          .merge()
          .into("accounts", "t")
          .using([new Account(2, "bob", "3.00"), new Account(3, "cy", "0.10")], "src")
          .on("t.id = src.id")
          .whenMatchedThenUpdate(["balance"])
          .whenNotMatchedThenInsert(["id", "owner", "balance"]),
      );
      expect(merged.rowsAffected).toBe(2);
      await s.execute(
        sql
          .upsert("accounts", { dialect: "postgres" })
          .using(new Account(1, "ann", "9.99"))
          .on("t.id = src.id")
          .whenMatchedThenUpdate(["balance"])
          .whenNotMatchedThenInsert(["id", "owner", "balance"]),
      );
    });
    expect(await all()).toEqual([
      { id: 1, owner: "ann", balance: "9.99" },
      { id: 2, owner: "bob", balance: "3.00" },
      { id: 3, owner: "cy", balance: "0.10" },
    ]);
  });

  it("session.upsert and session.loadRecords take class instances; named parameters too", async () => {
    await db.withSession(async (s) => {
      await s.execute("DELETE FROM accounts");
      const loaded = await s.loadRecords("accounts", [new Account(1, "ann", "1.00"), new Account(2, "bob", "2.00")]);
      expect(loaded.rowsAffected).toBe(2);
      const up = await s.upsert("accounts", [new Account(2, "bob", "5.00"), new Account(3, "cy", "3.00")], {
        on: ["id"],
        update: ["balance"],
      });
      expect(up.rowsAffected).toBe(2);
      const acct = new Account(1, "ann", "7.00");
      await s.execute("UPDATE accounts SET balance = :balance, owner = :owner WHERE id = :id", acct);
    });
    expect(await all()).toEqual([
      { id: 1, owner: "ann", balance: "7.00" },
      { id: 2, owner: "bob", balance: "5.00" },
      { id: 3, owner: "cy", balance: "3.00" },
    ]);
  });

  it("a Date, a Buffer or sql.json() in a one-column tuple is a value, not a row", async () => {
    const at = new Date("2024-01-02T03:04:05Z");
    for (const value of [at, Buffer.from("hi"), sql.json({ a: 1 })]) {
      const built = sql.insertInto("blobs").columns("doc").values([value]).build("postgres");
      expect(built).toEqual({ sql: 'INSERT INTO "blobs" ("doc") VALUES ($1)', parameters: [value] });
    }
    await db.withSession((s) =>
      s.execute(
        sql
          .insertInto("blobs")
          .columns("id", "at", "data", "doc")
          .values([1, at, Buffer.from("hi"), sql.json([1])]),
      ),
    );
    const rows = await db.withSession((s) => s.select("SELECT id, at, data, doc FROM blobs ORDER BY id"));
    expect(rows).toEqual([{ id: 1, at, data: Buffer.from("hi"), doc: [1] }]);
  });
});
