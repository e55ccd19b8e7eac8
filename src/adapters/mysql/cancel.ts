/**
 * `KILL QUERY <thread id>` over one dedicated connection, opened on first use and kept outside the pool (so an
 * exhausted pool can still cancel). MySQL has no out-of-band cancel: this is the server's only way to stop a statement
 * while keeping its connection.
 */
import type * as Mysql2 from "mysql2";

const UNKNOWN_THREAD = 1094;

export class QueryKiller {
  #conn: Promise<Mysql2.Connection> | undefined;

  constructor(private readonly open: () => Promise<Mysql2.Connection>) {}

  /**
   * Sends the KILL and resolves when the server answered: true when it was delivered (or the thread is already
   * gone), false when it could not be sent. Never rejects.
   */
  async kill(threadId: number): Promise<boolean> {
    try {
      const c = await this.#connection();
      await new Promise<void>((resolve, reject) => {
        c.query(`KILL QUERY ${Math.trunc(threadId)}`, (err) => {
          if (err && (err as { errno?: number }).errno !== UNKNOWN_THREAD) reject(err);
          else resolve();
        });
      });
      return true;
    } catch {
      this.#conn = undefined;
      return false;
    }
  }

  close(): void {
    const c = this.#conn;
    this.#conn = undefined;
    void c?.then(
      (conn) => conn.destroy(),
      () => {},
    );
  }

  #connection(): Promise<Mysql2.Connection> {
    this.#conn ??= this.open().then((c) => {
      c.on("error", () => {
        this.#conn = undefined;
      });
      // The idle KILL connection must not keep the process alive.
      (c as unknown as { stream?: { unref?: () => void } }).stream?.unref?.();
      return c;
    });
    return this.#conn;
  }
}
