/**
 * A consumer of the generated module: every call is typed from the query object alone, with no generic written by
 * hand. `npm run typecheck` compiles this file, and tests/typegen/types.test.ts checks it compiles without errors.
 */
import { expectTypeOf } from "vitest";
import type { Session } from "../../../src/index.js";
import {
  type OrderStatus,
  type OrdersUsersWithLastOrderRow,
  queries,
  type UsersFindByEmailRow,
  type UsersGetByIdRow,
} from "../golden/queries.gen.js";
import type { UserSettings } from "../types.js";

export async function typedUse(session: Session): Promise<void> {
  const user = await session.selectOne(queries.users.getById, { id: 1 });
  expectTypeOf(user).toEqualTypeOf<UsersGetByIdRow>();
  expectTypeOf(user.email).toEqualTypeOf<string>();
  expectTypeOf(user.display_name).toEqualTypeOf<string | null>();
  expectTypeOf(user.created_at).toEqualTypeOf<Date>();
  if (user.display_name !== null) user.display_name.toUpperCase();

  const rows = await session.select(queries.orders.usersWithLastOrder);
  expectTypeOf(rows).toEqualTypeOf<OrdersUsersWithLastOrderRow[]>();
  expectTypeOf(rows[0]!.status).toEqualTypeOf<OrderStatus | null>();

  const maybe = await session.selectOneOrNull(queries.users.findByEmail, { email: "ada@example.com" });
  expectTypeOf(maybe).toEqualTypeOf<UsersFindByEmailRow | null>();

  expectTypeOf(await session.selectValue(queries.users.countAll)).toEqualTypeOf<number>();
  expectTypeOf(await session.selectValueOrNull(queries.users.existsEmail, { email: "x" })).toEqualTypeOf<
    boolean | null
  >();

  await session.select(queries.users.searchPositional, ["%a%", new Date()]);
  await session.select(queries.users.listByRole, { role: "admin", limit: 10n });
  const [page, total] = await session.selectWithTotal(queries.users.listByRole, { role: "customer", limit: 10 });
  expectTypeOf(page[0]!.role).toEqualTypeOf<"customer" | "admin">();
  expectTypeOf(total).toEqualTypeOf<number>();

  const result = await session.execute(queries.users.touchLogin, { id: 1 });
  expectTypeOf(result.data).toEqualTypeOf<never[]>();
  await session.executeMany(queries.users.touchLogin, [{ id: 1 }, { id: 2n }]);
  for await (const product of session.stream(queries.products.get, { id: 1 })) {
    expectTypeOf(product.price).toEqualTypeOf<string>();
  }
  const overridden = await session.selectOne(queries.users.withOverride);
  expectTypeOf(overridden.display_name).toEqualTypeOf<string>();
  expectTypeOf(overridden.settings).toEqualTypeOf<UserSettings | null>();

  // Untyped statements behave as before.
  expectTypeOf(await session.select("SELECT 1 AS x")).toEqualTypeOf<Record<string, unknown>[]>();
  expectTypeOf(await session.select<{ x: number }>("SELECT $1::int AS x", [1])).toEqualTypeOf<{ x: number }[]>();
}
