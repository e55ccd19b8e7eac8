/**
 * Misuse of the generated module. Each marked line must not compile: `npm run typecheck` fails if a line marked
 * `@ts-expect-error` compiles, and tests/typegen/types.test.ts strips the markers and checks each line fails with the
 * error code named in its marker.
 */
import type { Session } from "../../../src/index.js";
import { queries } from "../golden/queries.gen.js";

export async function misuse(session: Session): Promise<void> {
  // @ts-expect-error TS2353 a wrong parameter name
  await session.selectOne(queries.users.getById, { userId: 1 });
  // @ts-expect-error TS2322 a wrong parameter type
  await session.selectOne(queries.users.getById, { id: "1" });
  // @ts-expect-error TS2554 parameters missing altogether
  await session.selectOne(queries.users.getById);
  const user = await session.selectOne(queries.users.getById, { id: 1 });
  // @ts-expect-error TS18047 a nullable column used as if it could not be null
  user.display_name.toUpperCase();
  // @ts-expect-error TS2339 a column the query does not return
  user.password;
  // @ts-expect-error TS2322 a value outside the enum
  await session.select(queries.users.listByRole, { role: "superuser", limit: 1 });
  // @ts-expect-error TS2322 a positional tuple of the wrong type
  await session.select(queries.users.searchPositional, [1, new Date()]);
  // @ts-expect-error TS2322 null for a NOT NULL column
  await session.execute(queries.users.rename, { display_name: "x", id: null });
  const rows = await session.select(queries.orders.usersWithLastOrder);
  // @ts-expect-error TS2531 an outer-joined column used as if it could not be null
  rows[0]!.placed_at.getTime();
}
