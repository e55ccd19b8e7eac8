/**
 * A TCP proxy on loopback that counts round trips: how often the server answers after the client has written. A
 * pipeline the client sends in one go and the server answers is one round trip, whatever the number of statements in
 * it. Used by the round-trip tests and `npm run bench -- trips`.
 */
import { type AddressInfo, createServer, connect as tcpConnect } from "node:net";

export interface RoundTripProxy {
  /** The target's URL with this proxy as host. */
  url: string;
  /** Round trips so far, over every connection through the proxy. */
  trips(): number;
  close(): Promise<void>;
}

export async function roundTripProxy(target: URL): Promise<RoundTripProxy> {
  let trips = 0;
  const sockets = new Set<{ destroy(): void }>();
  const server = createServer((client) => {
    const upstream = tcpConnect(Number(target.port || 5432), target.hostname);
    sockets.add(client);
    let clientSpokeLast = false;
    client.on("data", (chunk) => {
      clientSpokeLast = true;
      upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (clientSpokeLast) trips++;
      clientSpokeLast = false;
      client.write(chunk);
    });
    const end = () => {
      sockets.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = new URL(target.href);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return {
    url: url.href,
    trips: () => trips,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
