/**
 * Round trips per call, counted on the wire: every adapter connects through a TCP proxy on loopback that counts how
 * often the server answers after the client has written (a pipeline the client sends in one go and the server answers
 * is one round trip, whatever the number of statements in it). Counted inside a session, after a warm-up call, so the
 * connection's startup and the statements' first Parse are not counted.
 */
import { PgConfig } from "../src/adapters/pg/index.js";
import { PostgresJsConfig } from "../src/adapters/postgresjs/index.js";
import { type DatabaseConfig, LimitOffsetFilter, sql } from "../src/index.js";
import { roundTripProxy } from "../tests/support/round-trip-proxy.js";

const URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

type Db = DatabaseConfig<unknown>;

async function tripsOf(
  db: Db,
  trips: () => number,
  call: (s: Awaited<ReturnType<Db["provideSession"]>>) => Promise<unknown>,
) {
  return db.withSession(async (s) => {
    await call(s); // warm-up: prepares the statements on this connection
    const before = trips();
    await call(s);
    return trips() - before;
  });
}

export async function run(): Promise<void> {
  const proxy = await roundTripProxy(new globalThis.URL(URL));
  const setup = new PgConfig({ poolConfig: { connectionString: URL, maxSize: 1 } });
  await setup.withSession(async (s) => {
    await s.execute("DROP TABLE IF EXISTS bench_trips");
    await s.execute("CREATE TABLE bench_trips (id int PRIMARY KEY, name text NOT NULL)");
    await s.execute("INSERT INTO bench_trips SELECT g, 'n' || g FROM generate_series(1, 100) g");
  });
  await setup.close();

  const configs: [string, Db][] = [
    ["pg", new PgConfig({ poolConfig: { connectionString: proxy.url, maxSize: 1 } }) as unknown as Db],
    ["postgres.js", new PostgresJsConfig({ poolConfig: { connectionString: proxy.url, maxSize: 1 } }) as unknown as Db],
  ];
  let next = 1000;
  const calls: [string, (s: Awaited<ReturnType<Db["provideSession"]>>) => Promise<unknown>][] = [
    [
      "executeMany, 10 rows, no transaction open",
      (s) => {
        const sets = Array.from({ length: 10 }, () => [next++, "x"]);
        return s.executeMany("INSERT INTO bench_trips (id, name) VALUES ($1, $2)", sets);
      },
    ],
    [
      "executeStack, 3 statements",
      (s) =>
        s.executeStack([
          ["INSERT INTO bench_trips (id, name) VALUES ($1, $2)", [next++, "x"]],
          ["UPDATE bench_trips SET name = $1 WHERE id = $2", ["y", 1]],
          ["SELECT count(*) FROM bench_trips WHERE id > $1", [0]],
        ]),
    ],
    [
      "selectWithTotal, LIMIT 10",
      (s) => s.selectWithTotal(sql`SELECT id, name FROM bench_trips WHERE id > ${0} ORDER BY id LIMIT 10`),
    ],
    [
      "selectWithTotal + LimitOffsetFilter",
      (s) =>
        s.selectWithTotal("SELECT id, name FROM bench_trips ORDER BY id", undefined, {
          filters: [new LimitOffsetFilter(10, 20)],
        }),
    ],
  ];
  console.log("round trips per call, counted on the wire (a session, after a warm-up call):");
  console.log(`${"call".padEnd(42)} ${configs.map(([n]) => n.padStart(12)).join("")}`);
  for (const [label, call] of calls) {
    const counts: number[] = [];
    for (const [, db] of configs) counts.push(await tripsOf(db, proxy.trips, call));
    console.log(`${label.padEnd(42)} ${counts.map((c) => String(c).padStart(12)).join("")}`);
  }
  for (const [, db] of configs) await db.close();
  await proxy.close();
}
