/**
 * Out-of-band cancellation helpers shared by the PostgreSQL server adapters.
 */
import { connect as netConnect } from "node:net";
import { OperationCancelledError } from "../../core/errors.js";

/**
 * Sends the protocol's CancelRequest for backend `pid` on a fresh socket. It needs no pooled connection, so it works
 * even when the pool is exhausted; the server answers by failing the running statement with 57014.
 */
export function sendCancelRequest(host: string | undefined, port: number, pid: number, secret: number): void {
  const packet = Buffer.alloc(16);
  packet.writeInt32BE(16, 0);
  packet.writeInt32BE(80877102, 4);
  packet.writeInt32BE(pid, 8);
  packet.writeInt32BE(secret, 12);
  const socket = host?.startsWith("/") ? netConnect(`${host}/.s.PGSQL.${port}`) : netConnect(port, host || "localhost");
  socket.on("error", () => {});
  socket.on("connect", () => socket.end(packet));
}

/**
 * Races a pending checkout against an AbortSignal. When the signal wins, the checkout still completes later and that
 * connection is handed straight back with `release()`.
 */
export function abortableAcquire<T extends { release?: () => void }>(
  pending: Promise<T>,
  signal: AbortSignal,
): Promise<T> {
  const giveBack = (): void => {
    void pending.then(
      (c) => c.release?.(),
      () => {},
    );
  };
  const cancelled = (): OperationCancelledError =>
    new OperationCancelledError("PostgreSQL acquire cancelled", { cause: signal.reason });
  if (signal.aborted) {
    giveBack();
    return Promise.reject(cancelled());
  }
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const onAbort = (): void => {
      if (done) return;
      done = true;
      giveBack();
      reject(cancelled());
    };
    signal.addEventListener("abort", onAbort, { once: true });
    pending.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        if (!done) resolve(v);
        done = true;
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        if (!done) reject(e);
        done = true;
      },
    );
  });
}
