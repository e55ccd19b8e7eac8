/**
 * Out-of-band cancellation helpers shared by the PostgreSQL server adapters.
 */
import { connect as netConnect } from "node:net";
import { OperationCancelledError, PoolTimeoutError } from "../../core/errors.js";

/** How long a CancelRequest may take to be resolved before the connection is given up on (discarded). */
const CANCEL_RESOLVE_MS = 5000;

/**
 * Sends the protocol's CancelRequest for backend `pid` on a fresh socket. It needs no pooled connection, so it works
 * even when the pool is exhausted. Resolves true once the server closed that socket: it signals the backend before
 * closing, so from then on the cancel can only affect what the backend is running now (an idle backend ignores it).
 * Resolves false when the request could not be delivered in time (the connection's fate is then unknown).
 */
export function sendCancelRequest(
  host: string | undefined,
  port: number,
  pid: number,
  secret: number,
): Promise<boolean> {
  const packet = Buffer.alloc(16);
  packet.writeInt32BE(16, 0);
  packet.writeInt32BE(80877102, 4);
  packet.writeInt32BE(pid, 8);
  packet.writeInt32BE(secret, 12);
  return new Promise<boolean>((resolve) => {
    const socket = host?.startsWith("/")
      ? netConnect(`${host}/.s.PGSQL.${port}`)
      : netConnect(port, host || "localhost");
    let sent = false;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, CANCEL_RESOLVE_MS);
    timer.unref();
    // Not connected: nothing reached the server, so nothing can land later either.
    socket.on("error", () => {
      clearTimeout(timer);
      resolve(!sent);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.on("connect", () => {
      sent = true;
      socket.end(packet);
    });
    // The server writes nothing back; reading lets the socket see the server's close.
    socket.resume();
  });
}

export type CancelKind = "timeout" | "cancel";

/** A statement still running this long after its CancelRequest was resolved gets another one. */
const RESEND_MS = 50;
/** CancelRequests per statement at most (a backend that ignores them all is left to the statement's own end). */
const MAX_SENDS = 40;

/**
 * A statement's `timeoutMs` and `signal`. When one fires, `fire` cancels the statement if it is still running and
 * returns the pending CancelRequest (or undefined when there was nothing to cancel). `done()`, awaited after the
 * statement settled and before its result is handed on, waits until that cancel is resolved, so a cancel that raced
 * the statement's completion can never land on the next statement run on the connection.
 */
export class StatementCancel {
  kind: CancelKind | undefined;
  #sent: Promise<boolean> | undefined;
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort: () => void;
  readonly #fire: () => Promise<boolean> | undefined;
  #finished = false;
  #resend: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;

  constructor(
    opts: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined },
    fire: () => Promise<boolean> | undefined,
  ) {
    this.#fire = fire;
    this.#signal = opts.signal;
    this.#onAbort = () => this.#trigger("cancel");
    this.#timer = opts.timeoutMs !== undefined ? setTimeout(() => this.#trigger("timeout"), opts.timeoutMs) : undefined;
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  #trigger(kind: CancelKind): void {
    if (this.kind !== undefined) return;
    this.kind = kind;
    const first = this.#fire();
    if (first !== undefined) this.#sent = this.#untilStopped(first);
  }

  /**
   * A backend that is between statements ignores a CancelRequest, so one that overtook the statement's own messages
   * (sent on another socket a moment earlier) is lost and the statement runs to the end. While the statement still
   * runs, the request is sent again every RESEND_MS (`fire` checks each time that it is still the running one); each
   * is resolved before the next, and all before done() returns.
   */
  async #untilStopped(first: Promise<boolean>): Promise<boolean> {
    let delivered = await first;
    for (let attempt = 1; delivered && attempt < MAX_SENDS && !this.#finished; attempt++) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#resend = setTimeout(resolve, RESEND_MS);
      });
      this.#wake = undefined;
      if (this.#finished) break;
      const again = this.#fire();
      if (again === undefined) break;
      delivered = await again;
    }
    return delivered;
  }

  /** Disarms; resolves false when a CancelRequest was sent and not resolved in time (discard the connection). */
  async done(): Promise<boolean> {
    this.#finished = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#resend !== undefined) clearTimeout(this.#resend);
    this.#wake?.();
    this.#signal?.removeEventListener("abort", this.#onAbort);
    return this.#sent === undefined ? true : await this.#sent;
  }
}

/**
 * Races a pending checkout against an AbortSignal and a timeout. When either wins, the checkout still completes later
 * and that connection is handed straight back with `giveBack` (to the next waiter or the idle list), unless
 * `withdraw` took the checkout out of the pool's queue first. `timedOut` makes the timeout's error.
 */
export function boundedAcquire<T>(
  pending: Promise<T>,
  options: {
    signal?: AbortSignal | undefined;
    timeoutMs?: number | undefined;
    timedOut?: (() => Error) | undefined;
    withdraw?: (() => void) | undefined;
  },
  giveBack: (conn: T) => void,
  label: string,
): Promise<T> {
  const { signal, timeoutMs, withdraw } = options;
  const cancelled = (): OperationCancelledError =>
    new OperationCancelledError(`${label} acquire cancelled`, { cause: signal?.reason });
  const timedOut =
    options.timedOut ??
    (() => new PoolTimeoutError(`${label} pool: no free connection within timeoutMs=${timeoutMs} ms`));
  const abandon = (): void => {
    withdraw?.();
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
      if (finish()) {
        withdraw?.();
        reject(cancelled());
      }
    };
    const timer =
      timeoutMs !== undefined
        ? setTimeout(() => {
            if (finish()) {
              withdraw?.();
              reject(timedOut());
            }
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
