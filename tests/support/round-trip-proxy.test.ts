/**
 * The round-trip proxy the pipeline tests connect through must be as faithful as a direct connection where the
 * adapters rely on the protocol: a client that writes and half-closes (a CancelRequest) still reaches the server, and
 * its socket closes only once the server closed its side. The adapters take that close as "the cancel was delivered";
 * a proxy that closed first let a cancel land seconds later on the next statement (atomic-pipeline, postgres.js).
 */
import { connect } from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { sendCancelRequest } from "../../src/adapters/postgres-common/cancel.js";
import { type RoundTripProxy, roundTripProxy } from "./round-trip-proxy.js";
import { PG_URL } from "./servers.js";

describe("round-trip proxy", () => {
  let proxy: RoundTripProxy;
  beforeAll(async () => {
    proxy = await roundTripProxy(new URL(PG_URL));
  });
  afterAll(() => proxy.close());

  test("a client that half-closes right after writing still gets the server's answer (SSLRequest → 'N')", async () => {
    const { hostname, port } = new URL(proxy.url);
    for (let i = 0; i < 5; i++) {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), hostname);
        const chunks: Buffer[] = [];
        socket.on("data", (c: Buffer) => chunks.push(c));
        socket.on("error", reject);
        socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
        const ssl = Buffer.alloc(8);
        ssl.writeInt32BE(8, 0);
        ssl.writeInt32BE(80877103, 4);
        socket.end(ssl);
      });
      expect(answer).toBe("N");
    }
  });

  test("a CancelRequest through the proxy reaches the server before its socket closes", async () => {
    const client = new pg.Client({ connectionString: proxy.url });
    await client.connect();
    try {
      const { processID, secretKey } = client as unknown as { processID: number; secretKey: number };
      const running = client.query("SELECT pg_sleep(20)").then(
        () => "finished",
        (e: { code?: string }) => e.code,
      );
      // Wait until the backend runs the sleep, so the cancel has something to act on.
      const watcher = new pg.Client({ connectionString: PG_URL });
      await watcher.connect();
      for (let i = 0; i < 200; i++) {
        const r = await watcher.query(
          "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE 'SELECT pg_sleep%'",
          [processID],
        );
        if (r.rowCount === 1) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      await watcher.end();
      const { hostname, port } = new URL(proxy.url);
      expect(await sendCancelRequest(hostname, Number(port), processID, secretKey)).toBe(true);
      const outcome = await Promise.race([running, new Promise((r) => setTimeout(() => r("still running"), 5000))]);
      expect(outcome).toBe("57014");
    } finally {
      await client.end();
    }
  });
});
