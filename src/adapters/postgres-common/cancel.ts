/**
 * Out-of-band cancellation helpers shared by the PostgreSQL server adapters.
 */
import { connect as netConnect } from "node:net";
import { OperationCancelledError, PoolTimeoutError } from "../../core/errors.js";

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
 * Races a pending checkout against an AbortSignal and a per-call timeout. When either wins, the checkout still
 * completes later and that connection is handed straight back with `giveBack`.
 */
export function boundedAcquire<T>(
  pending: Promise<T>,
  options: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined },
  giveBack: (conn: T) => void,
  label: string,
): Promise<T> {
  const { signal, timeoutMs } = options;
  const cancelled = (): OperationCancelledError =>
    new OperationCancelledError(`${label} acquire cancelled`, { cause: signal?.reason });
  const abandon = (): void => {
    pending.then(giveBack, () => {});
  };
  if (signal?.aborted) {
    abandon();
    return Promise.reject(cancelled());
  }
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      signal?.removeEventListener("abort", onAbort);
      if (timer !== undefined) clearTimeout(timer);
      return true;
    };
    // A checkout that completes after we gave up is handed back by the `pending.then` below.
    const onAbort = (): void => {
      if (finish()) reject(cancelled());
    };
    const timer =
      timeoutMs !== undefined
        ? setTimeout(() => {
            if (finish())
              reject(new PoolTimeoutError(`${label} pool: no free connection within timeoutMs=${timeoutMs} ms`));
          }, timeoutMs)
        : undefined;
    signal?.addEventListener("abort", onAbort, { once: true });
    pending.then(
      (v) => {
        if (finish()) resolve(v);
        else giveBack(v);
      },
      (e) => {
        if (finish()) reject(e);
      },
    );
  });
}
