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
  // Half-open sockets: a client that writes and half-closes (a CancelRequest) is passed on as such, and its socket
  // closes only after the server closed its side. The adapters take that close as "the cancel was delivered"; closing
  // it earlier let a cancel reach the server after the next statement had started.
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = tcpConnect({ port: Number(target.port || 5432), host: target.hostname, allowHalfOpen: true });
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
    // An end is passed on (what was written before it is still delivered); an error tears both down.
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    const destroy = () => {
      sockets.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", () => {
      sockets.delete(client);
      upstream.end();
    });
    upstream.on("close", () => client.end());
    client.on("error", destroy);
    upstream.on("error", destroy);
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
