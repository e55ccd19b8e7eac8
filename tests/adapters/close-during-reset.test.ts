/**
 * Regression (found by review): close() while a released session's connection is being reset (ROLLBACK in flight). The connection must be
 * closed, not put back in the idle list of a closed pool.
 */
import net from "node:net";
import { afterAll, describe, expect, test } from "vitest";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import { PG_URL } from "../support/servers.js";

/** A proxy delaying server->client bytes by `delay` ms while on. */
async function delayingProxy(target: URL) {
  const state = { delay: 0 };
  const server = net.createServer((client) => {
    const up = net.connect(Number(target.port), target.hostname);
    client.pipe(up);
    up.on("data", (d) => {
      const ms = state.delay;
      if (ms === 0) client.write(d);
      else setTimeout(() => !client.destroyed && client.write(d), ms);
    });
    const kill = () => {
      client.destroy();
      up.destroy();
    };
    up.on("close", kill);
    client.on("close", kill);
    up.on("error", kill);
    client.on("error", kill);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const u = new URL(target.href);
  u.hostname = "127.0.0.1";
  u.port = String((server.address() as net.AddressInfo).port);
  return { url: u.href, state, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const admin = new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 1 } });
afterAll(() => admin.close());
const backends = async (app: string) =>
  (
    await admin.select<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [
      app,
    ])
  )[0]!.n;

describe.each([
  [
    "pg",
    (url: string, app: string) =>
      new PgConfig({ poolConfig: { connectionString: url, maxSize: 1, applicationName: app, idleTimeoutMs: 60_000 } }),
  ],
  [
    "postgresjs",
    (url: string, app: string) =>
      new PostgresJsConfig({
        poolConfig: { connectionString: url, maxSize: 1, applicationName: app, idleTimeoutMs: 60_000 },
      }),
  ],
] as const)("%s", (name, make) => {
  test("close() during the release reset closes the connection", async () => {
    const proxy = await delayingProxy(new URL(PG_URL));
    const app = `r8e_cdr_${name}`;
    const db = make(proxy.url, app);
    let closing: Promise<void> | undefined;
    await db.withSession(async (s: any) => {
      await s.execute("BEGIN");
      await s.execute("SELECT 1");
      proxy.state.delay = 40;
      setTimeout(() => {
        closing = db.close();
      }, 10);
    });
    await closing;
    await new Promise((r) => setTimeout(r, 1000));
    const stats = (await db.getAdapter()).poolStats?.();
    const n = await backends(app);
    const rows = await admin.select(
      "SELECT state, query, backend_start FROM pg_stat_activity WHERE application_name = $1",
      [app],
    );
    console.log(name, "after close(): backends", n, "poolStats", stats, JSON.stringify(rows));
    expect(n).toBe(0);
    await proxy.close();
  }, 20_000);
});
