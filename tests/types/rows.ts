/**
 * Type tests (never run): interfaces and class instances are rows and named parameters, and upsert/loadRecords
 * key options are the row's own column names. `npm run typecheck` fails when a marked line compiles;
 * tests/types/types.test.ts strips the markers and checks that each marked line fails with the code it names, and
 * the packed-package test compiles this file against the built declarations (skipLibCheck on and off).
 */
import { type Session, type SQLResult, sql } from "sqlspec";

interface User {
  id: number;
  name: string;
  email: string | null;
  nickname?: string;
}

class Account {
  constructor(
    readonly id: number,
    public balance: string,
  ) {}
}

interface ById {
  id: number;
}

export async function rows(session: Session, users: User[], accounts: Account[], byId: ById): Promise<void> {
  // interfaces and classes as upsert rows; `on`/`update` are their keys (readonly tuples too)
  const up: SQLResult = await session.upsert("users", users, { on: ["id"], update: ["name", "email", "nickname"] });
  await session.upsert("accounts", accounts, { on: ["id"] });
  await session.upsert("users", users, { on: ["id"] as const, update: [] });
  // untyped rows still take any column name
  await session.upsert("t", [{ id: 1 }] as Record<string, unknown>[], { on: ["anything"] });
  // @ts-expect-error TS2322 a key that is not a column of the rows
  await session.upsert("users", users, { on: ["userId"] });
  // @ts-expect-error TS2322 an update column that is not a column of the rows
  await session.upsert("users", users, { on: ["id"], update: ["nmae"] });
  // @ts-expect-error TS2322 a method of a class row is not a column
  await session.upsert("accounts", accounts, { on: ["toString"] });

  // loadRecords: interface rows (array or async iterable), columns keyed by the row; value arrays take any names
  await session.loadRecords("users", users, { columns: ["id", "name"] });
  await session.loadRecords("accounts", accounts);
  await session.loadRecords("users", stream(users));
  await session.loadRecords("users", [[1, "a"]], { columns: ["id", "name"] });
  // @ts-expect-error TS2322 a column the rows do not have
  await session.loadRecords("users", users, { columns: ["id", "password"] });

  // named parameters: an interface value, a class instance
  await session.select<User>("SELECT * FROM users WHERE id = :id", byId);
  await session.execute("UPDATE accounts SET balance = :balance WHERE id = :id", accounts[0]!);
  await session.executeMany("INSERT INTO users VALUES (:id, :name, :email)", users);
  // @ts-expect-error TS2345 a number is neither positional nor named parameters
  await session.execute("SELECT :id", 1);

  // builder data positions: interface rows
  sql.insertInto("users").values(users);
  sql.insertInto("users").values(users[0]!);
  sql.update("users").set(byId).where(byId);
  sql.deleteFrom("users").where(byId);
  sql.merge().into("users", "t").using(users, "src").on("t.id = src.id");
  sql.upsert("users", { dialect: "sqlite" }).using(users).on("t.id = src.id");
  void up;
}

async function* stream<R>(rows: readonly R[]): AsyncGenerator<R> {
  yield* rows;
}
