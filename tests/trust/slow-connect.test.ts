/**
 * Acquires whose connection is still being opened, on the pools that open connections over TCP (pg, postgres.js,
 * and the shared pool through mysql2): the server is reached through a proxy that holds each new connection for a
 * while, so a connect is slow for real. The acquire timeout and abort signal settle a caller while a connection opens
 * for it (the pool's first one, or a waiter's replacement), close() fails a caller whose connect is in progress at
 * once, and the connection that arrives late goes to the next waiter or the idle list, or is closed (never to a
 * caller that already failed, never leaked, the pool's counters right).
 */
import net from "node:net";
import { afterAll, describe, expect, test } from "vitest";
import { MysqlConfig } from "../../src/adapters/mysql/index.js";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import { OperationCancelledError, type PoolConfig, PoolTimeoutError } from "../../src/index.js";
import { MYSQL_URL, PG_URL } from "../support/servers.js";
import { type AnyConfig, sleep } from "./targets.js";

/** How long the proxy holds a new connection before forwarding it, while `slow` is on. */
const CONNECT_DELAY_MS = 1500;

/** A TCP proxy to one server; counts the client sockets still open and can drop them all (a lost connection). */
class SlowProxy {
  slow = false;
  /** The hold while `slow` is on. */
  delayMs = CONNECT_DELAY_MS;
  readonly #sockets = new Set<net.Socket>();
  readonly #server: net.Server;

  constructor(readonly target: URL) {
    this.#server = net.createServer((client) => {
      this.#sockets.add(client);
      client.on("close", () => this.#sockets.delete(client));
      client.pause();
      setTimeout(
        () => {
          if (client.destroyed) return;
          const upstream = net.connect(Number(target.port), target.hostname);
          client.pipe(upstream);
          upstream.pipe(client);
          client.resume();
          upstream.on("error", () => client.destroy());
          upstream.on("close", () => client.destroy());
          client.on("error", () => upstream.destroy());
          client.on("close", () => upstream.destroy());
        },
        this.slow ? this.delayMs : 0,
      );
    });
  }

  get openSockets(): number {
    return this.#sockets.size;
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
  }

  /** The server's URL with this proxy as host. */
  get url(): string {
    const u = new URL(this.target.href);
    u.hostname = "127.0.0.1";
    u.port = String((this.#server.address() as net.AddressInfo).port);
    return u.href;
  }

  dropAll(): void {
    for (const s of this.#sockets) s.destroy();
  }

  close(): Promise<void> {
    this.dropAll();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

interface SlowTarget {
  name: string;
  server: URL;
  make(url: string, pool: PoolConfig): AnyConfig;
}

const TARGETS: SlowTarget[] = [
  {
    name: "pg",
    server: new URL(PG_URL),
    make: (url, pool) => new PgConfig({ poolConfig: { connectionString: url, ...pool } }),
  },
  {
    name: "postgresjs",
    server: new URL(PG_URL),
    make: (url, pool) => new PostgresJsConfig({ poolConfig: { connectionString: url, ...pool } }),
  },
  {
    name: "mysql (shared pool)",
    server: new URL(MYSQL_URL),
    make: (url, pool) => new MysqlConfig({ poolConfig: { connectionString: url, ...pool } }),
  },
];

/** Settles to the value, or the error, with the time it took. */
function timed<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown; ms: number }> {
  const t0 = performance.now();
  return p.then(
    (value) => ({ value, ms: performance.now() - t0 }),
    (error) => ({ error, ms: performance.now() - t0 }),
  );
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(20);
  return cond();
}

// Every case opens its own proxy and pool (nothing shared but the servers), and nearly all of its time is the proxy's
// delay: the cases run side by side (vitest's maxConcurrency, 5 at a time), not one after another (~45 s).
for (const t of TARGETS) {
  describe.concurrent(`slow connect: ${t.name}`, () => {
    const opened: AnyConfig[] = [];
    const proxies: SlowProxy[] = [];
    /** A pool of one connection behind a proxy of its own (its socket count is this pool's alone). */
    const open = async (pool: PoolConfig): Promise<{ db: AnyConfig; proxy: SlowProxy }> => {
      const proxy = new SlowProxy(t.server);
      proxies.push(proxy);
      await proxy.listen();
      const db = t.make(proxy.url, { maxSize: 1, ...pool });
      opened.push(db);
      return { db, proxy };
    };
    afterAll(async () => {
      await Promise.all(opened.map((c) => c.close().catch(() => {})));
      await Promise.all(proxies.map((p) => p.close()));
    });

    /**
     * A session holds the only connection and a caller waits for it; the connection is lost, so its release opens a
     * replacement for the waiter, slowly. Returns the waiter and whether its callback ran.
     */
    async function waiterOnSlowReplacement(
      db: AnyConfig,
      proxy: SlowProxy,
      options?: { signal?: AbortSignal; timeoutMs?: number },
    ): Promise<{ waiter: ReturnType<typeof timed<unknown>>; ran: () => boolean }> {
      proxy.slow = false;
      const holder = await db.provideSession();
      await holder.selectValue("SELECT 1");
      let ran = false;
      const waiter = timed(
        db.withSession((s) => {
          ran = true;
          return s.selectValue("SELECT 2");
        }, options),
      );
      await sleep(50);
      proxy.dropAll();
      await holder.execute("SELECT 1").catch(() => {});
      proxy.slow = true;
      await holder.release();
      return { waiter, ran: () => ran };
    }

    test("acquireTimeoutMs still applies while the waiter's replacement connection opens; the late one is not leaked", async () => {
      const { db, proxy } = await open({ acquireTimeoutMs: 400 });
      const { waiter, ran } = await waiterOnSlowReplacement(db, proxy);
      const w = await waiter;
      expect(w.error).toBeInstanceOf(PoolTimeoutError);
      expect(w.ms).toBeLessThan(CONNECT_DELAY_MS - 300);
      expect(ran()).toBe(false);
      // After the replacement's connect is over, the pool serves the next caller with at most one connection open:
      // the late one was kept (or closed), not leaked beside a new one.
      await sleep(CONNECT_DELAY_MS - w.ms + 400);
      proxy.slow = false;
      const next = await timed(db.withSession((s) => s.selectValue("SELECT 3")));
      expect(next.error).toBeUndefined();
      expect(next.value).toBe(3);
      expect(proxy.openSockets).toBe(1);
    });

    test("an abort still settles the waiter while its replacement connection opens; the late one serves the next waiter", async () => {
      const { db, proxy } = await open({});
      const ac = new AbortController();
      const { waiter, ran } = await waiterOnSlowReplacement(db, proxy, { signal: ac.signal });
      let ranSecond = false;
      const second = timed(
        db.withSession((s) => {
          ranSecond = true;
          return s.selectValue("SELECT 4");
        }),
      );
      await sleep(100);
      ac.abort();
      const w = await waiter;
      expect(w.error).toBeInstanceOf(OperationCancelledError);
      expect(w.ms).toBeLessThan(CONNECT_DELAY_MS - 300);
      expect(ran()).toBe(false);
      const s = await second;
      expect(s.error).toBeUndefined();
      expect(s.value).toBe(4);
      expect(ranSecond).toBe(true);
    });

    test("close() while a waiter's replacement connection opens: PoolTimeoutError, the late connection is closed", async () => {
      const { db, proxy } = await open({});
      const { waiter, ran } = await waiterOnSlowReplacement(db, proxy);
      await sleep(100);
      await db.close();
      const w = await waiter;
      expect(w.error).toBeInstanceOf(PoolTimeoutError);
      expect((w.error as Error).message).toMatch(/pool was closed while waiting for a connection/);
      expect(ran()).toBe(false);
      expect(await until(() => proxy.openSockets === 0, CONNECT_DELAY_MS + 2000)).toBe(true);
    });

    /** What the pool holds once the late connection is settled: it is idle (kept) or closed, never held or leaked. */
    async function settledAfterLateConnect(db: AnyConfig, proxy: SlowProxy): Promise<void> {
      const adapter = await db.getAdapter();
      const stats = adapter.poolStats?.();
      expect(stats?.used).toBe(0);
      expect(stats?.pending).toBe(0);
      expect(proxy.openSockets).toBe(stats?.idle);
      proxy.slow = false;
      const next = await timed(db.withSession((s) => s.selectValue("SELECT 3")));
      expect(next.error).toBeUndefined();
      expect(next.value).toBe(3);
      expect(proxy.openSockets).toBe(1);
      expect(adapter.poolStats?.()).toEqual({ idle: 1, used: 0, pending: 0 });
    }

    /** A caller whose acquire has to open the pool's first connection, slowly. */
    const firstAcquire = (db: AnyConfig, kind: "session" | "one-shot", options?: { signal?: AbortSignal }) => {
      let ran = false;
      const call =
        kind === "session"
          ? db.withSession((s) => {
              ran = true;
              return s.selectValue("SELECT 6");
            }, options)
          : db.selectValue("SELECT 6", [], options);
      return { caller: timed(call), ran: () => ran };
    };

    for (const kind of ["session", "one-shot"] as const) {
      test(`acquireTimeoutMs bounds a first acquire (${kind}) that opens a connection; the late one is kept or closed`, async () => {
        const { db, proxy } = await open({ acquireTimeoutMs: 400 });
        proxy.slow = true;
        const { caller, ran } = firstAcquire(db, kind);
        const c = await caller;
        expect(c.error).toBeInstanceOf(PoolTimeoutError);
        expect((c.error as Error).message).toMatch(/acquireTimeoutMs=400 ms/);
        expect(c.ms).toBeGreaterThanOrEqual(380);
        expect(c.ms).toBeLessThan(CONNECT_DELAY_MS - 300);
        expect(ran()).toBe(false);
        await sleep(CONNECT_DELAY_MS - c.ms + 400);
        await settledAfterLateConnect(db, proxy);
      });

      test(`an abort settles a first acquire (${kind}) that opens a connection; the late one is kept or closed`, async () => {
        const { db, proxy } = await open({});
        proxy.slow = true;
        const ac = new AbortController();
        const { caller, ran } = firstAcquire(db, kind, { signal: ac.signal });
        await sleep(200);
        ac.abort();
        const c = await caller;
        expect(c.error).toBeInstanceOf(OperationCancelledError);
        expect(c.ms).toBeLessThan(CONNECT_DELAY_MS - 300);
        expect(ran()).toBe(false);
        await sleep(CONNECT_DELAY_MS - c.ms + 400);
        await settledAfterLateConnect(db, proxy);
      });
    }

    test("every connect slower than acquireTimeoutMs: the timed-out acquire's connection is kept and serves the next acquire", async () => {
      // The proxy holds each new connection 500 ms; acquireTimeoutMs is shorter, so no acquire can wait for a
      // connect of its own. The first times out; its connection, once open, must serve the second.
      const { db, proxy } = await open({ acquireTimeoutMs: 400 });
      proxy.delayMs = 500;
      proxy.slow = true;
      const first = await timed(db.selectValue("SELECT 7"));
      expect(first.error).toBeInstanceOf(PoolTimeoutError);
      expect((first.error as Error).message).toMatch(/acquireTimeoutMs=400 ms/);
      const second = await timed(db.withSession((s) => s.selectValue("SELECT 8")));
      expect(second.error).toBeUndefined();
      expect(second.value).toBe(8);
      // Served by the connection the first acquire started (it arrives ~100 ms into the second's wait).
      expect(second.ms).toBeLessThan(400);
      expect(proxy.openSockets).toBe(1);
      const adapter = await db.getAdapter();
      expect(adapter.poolStats?.()).toEqual({ idle: 1, used: 0, pending: 0 });
    });

    test("close() while the first acquire connects: PoolTimeoutError, the late connection is closed", async () => {
      const { db, proxy } = await open({});
      proxy.slow = true;
      let ran = false;
      const caller = timed(
        db.withSession((s) => {
          ran = true;
          return s.selectValue("SELECT 5");
        }),
      );
      await sleep(300);
      await db.close();
      const c = await caller;
      expect(c.error).toBeInstanceOf(PoolTimeoutError);
      // Failed at close(), not when the connection arrives.
      expect(c.ms).toBeLessThan(CONNECT_DELAY_MS - 300);
      expect((c.error as Error).message).toMatch(/pool was closed while waiting for a connection/);
      expect(ran).toBe(false);
      expect(await until(() => proxy.openSockets === 0, CONNECT_DELAY_MS + 2000)).toBe(true);
    });
  });
}
