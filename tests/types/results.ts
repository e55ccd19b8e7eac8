/**
 * Type tests (never run): what an editor shows a call returns. `` sql<T>`…` `` types the select family's rows (and
 * takes no parameters: its values are bound already); a plain template leaves the method's generic in charge;
 * `result.metadata` is typed. Checked like every fixture here (see tests/types/types.test.ts).
 */
import { type BulkStrategyName, type Session, type SQL, type SQLResult, sql } from "sqlspec";

interface User {
  id: number;
  name: string;
}

/** True only when A and B are the same type (not merely assignable either way). */
type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
function same<A, B>(_proof: Equal<A, B>): void {}

export async function results(session: Session, id: number): Promise<void> {
  const byId = sql<User>`SELECT id, name FROM users WHERE id = ${id}`;
  const users = await session.select(byId);
  same<typeof users, User[]>(true);
  const one = await session.selectOne(byId);
  same<typeof one, User>(true);
  const maybe = await session.selectOneOrNull(byId);
  same<typeof maybe, User | null>(true);
  const [page, total] = await session.selectWithTotal(byId);
  same<typeof page, User[]>(true);
  same<typeof total, number>(true);
  const result = await session.execute(byId);
  same<typeof result, SQLResult<User>>(true);
  const value = await session.selectValue(sql<{ n: number }>`SELECT count(*)::int AS n FROM users`);
  same<typeof value, number>(true);
  for await (const row of session.stream(byId)) same<typeof row, User>(true);
  // options still go after an explicit undefined
  await session.select(byId, undefined, { timeoutMs: 1000 });

  // a plain template is a plain SQL: the method's generic (or Row) types the rows
  const plain = sql`SELECT 1 AS one`;
  same<typeof plain, SQL>(true);
  const typed = await session.select<User>(plain);
  same<typeof typed, User[]>(true);
  const loose = await session.selectOne(plain);
  same<typeof loose, Record<string, unknown>>(true);

  // @ts-expect-error TS2339 a column the row type does not have
  one.email;
  // @ts-expect-error TS2345 a typed template's values are bound already: no parameters
  await session.select(byId, { id: 1 });
  // @ts-expect-error TS2345 a string is not a row type for a number
  same<typeof one.id, string>(true);

  // metadata: the strategy is a known name, the counts are numbers
  const up = await session.upsert("users", [{ id: 1, name: "a" }], { on: ["id"] });
  const strategy = up.metadata.strategy;
  same<typeof strategy, BulkStrategyName | undefined>(true);
  const rows = up.metadata.rows;
  same<typeof rows, number | undefined>(true);
  if (up.metadata.strategy === "copy-merge") void up.metadata.rows;
  // @ts-expect-error TS2367 not a strategy sqlspec ever reports
  if (up.metadata.strategy === "jsonb_to_recordset") void 0;
}
