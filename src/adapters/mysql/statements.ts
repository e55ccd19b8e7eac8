/**
 * MySQL statements: one statement (prepared when it has values, text protocol otherwise), its per-call timeout and
 * AbortSignal, the shape of its result, and a row stream with backpressure.
 */
import type * as Mysql2 from "mysql2";
import { builtOperationType } from "../../core/compiler.js";
import { OperationCancelledError } from "../../core/errors.js";
import type { Row } from "../../core/types.js";
import type { QueryOptions, RawResult } from "../../driver/adapter.js";
import type { ResolvedDriverFeatures } from "../../driver/config.js";
import type { QueryKiller } from "./cancel.js";
import { decodeRows, duplicateSplit, encodeParams, type Field, type OkPacket } from "./codecs.js";
import type { MysqlDriverFeatures } from "./config.js";
import { ENDS_TRANSACTION, type MysqlConnection, type Outcome, run } from "./connection.js";
import { brokenError, fail, failedTransactionError, kill, settleCancel, streamOpenError } from "./running.js";

const EMPTY: string[] = [];

/** Runs statements on a checked-out connection. */
export class MysqlStatements {
  readonly #killer: QueryKiller;
  readonly #features: ResolvedDriverFeatures<Mysql2.Connection>;
  readonly #mysql: Required<Pick<MysqlDriverFeatures, "int8" | "timestamps" | "tinyInt1AsBoolean">>;
  /** "MariaDB" or "MySQL": known once a connection has told which. */
  readonly #label: () => string;

  constructor(
    killer: QueryKiller,
    features: ResolvedDriverFeatures<Mysql2.Connection>,
    mysql: Required<Pick<MysqlDriverFeatures, "int8" | "timestamps" | "tinyInt1AsBoolean">>,
    label: () => string,
  ) {
    this.#killer = killer;
    this.#features = features;
    this.#mysql = mysql;
    this.#label = label;
  }

  async query(conn: MysqlConnection, sql: string, params: unknown[], opts: QueryOptions): Promise<RawResult> {
    if (conn.broken) throw brokenError(this.#label());
    // mysql2 would queue this behind the paused stream, which waits for this very caller: it would never settle.
    if (conn.openStreams > 0) throw streamOpenError(this.#label());
    if (conn.pendingCancel) await conn.pendingCancel;
    if (conn.broken) throw brokenError(this.#label());
    if (conn.failed && !ENDS_TRANSACTION.test(sql)) throw failedTransactionError(this.#label());
    const values = params.length > 0 ? encodeParams(params, this.#features.jsonSerializer) : undefined;
    conn.noteStatement(sql);
    if (opts.signal !== undefined || opts.timeoutMs !== undefined) return this.#cancellable(conn, sql, values, opts);
    let outcome: Outcome;
    try {
      outcome = await run(conn.client, sql, values);
    } catch (err) {
      throw await fail(conn, err, undefined, this.#label());
    }
    return this.#shape(conn, outcome, sql);
  }

  #shape(conn: MysqlConnection, r: Outcome, sql: string): RawResult {
    const { result, fields } = r;
    if (!Array.isArray(result)) {
      const ok = result as OkPacket;
      conn.track(ok, sql);
      const out: RawResult = { rows: [], columns: EMPTY, rowsAffected: ok.affectedRows };
      const id = ok.insertId;
      if (id !== 0 && id !== "0" && id !== undefined) out.lastInsertId = id;
      const split = duplicateSplit(ok);
      if (split !== undefined) (out as RawResult & { metadata?: unknown }).metadata = split;
      return out;
    }
    conn.afterRows();
    // CALL returns several result sets (the last is the OK packet): the first set of rows is the answer.
    let rows = result as Row[];
    let fieldList = fields as Field[] | undefined;
    if (Array.isArray(fieldList) && Array.isArray(fieldList[0])) {
      rows = (result as unknown[])[0] as Row[];
      fieldList = fieldList[0] as unknown as Field[];
    }
    if (fieldList === undefined) return { rows, columns: EMPTY, rowsAffected: 0, command: "SELECT" };
    const columns = new Array<string>(fieldList.length);
    for (let i = 0; i < fieldList.length; i++) columns[i] = (fieldList[i] as Field).name;
    if (rows.length === 0) return { rows, columns, rowsAffected: 0, command: "SELECT" };
    decodeRows(rows, fieldList, this.#features, this.#mysql);
    // MariaDB's INSERT/REPLACE/DELETE … RETURNING answers with the rows alone (no OK packet reaches us): each row
    // returned is a row changed.
    const op = builtOperationType(sql);
    if (op === "INSERT" || op === "DELETE") return { rows, columns, rowsAffected: rows.length };
    return { rows, columns, rowsAffected: 0, command: "SELECT" };
  }

  /** Per-call timeout and AbortSignal: KILL QUERY from another connection; this connection stays usable. */
  async #cancellable(
    conn: MysqlConnection,
    sql: string,
    values: unknown[] | undefined,
    opts: QueryOptions,
  ): Promise<RawResult> {
    const signal = opts.signal;
    if (signal?.aborted) {
      throw new OperationCancelledError(`${this.#label()} query cancelled before it was sent`, {
        cause: signal.reason,
      });
    }
    let kind: "timeout" | "cancel" | undefined;
    let running = true;
    const fire = (k: "timeout" | "cancel"): void => {
      if (kind !== undefined || !running) return;
      kind = k;
      void kill(this.#killer, conn);
    };
    const onAbort = (): void => fire("cancel");
    const timer = opts.timeoutMs !== undefined ? setTimeout(fire, opts.timeoutMs, "timeout") : undefined;
    signal?.addEventListener("abort", onAbort, { once: true });
    let outcome: Outcome | undefined;
    let failure: unknown;
    try {
      outcome = await run(conn.client, sql, values);
    } catch (err) {
      failure = err;
    } finally {
      running = false;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
    if (kind !== undefined) await settleCancel(conn, failure === undefined);
    if (failure !== undefined) throw await fail(conn, failure, kind, this.#label());
    // A statement that finished before the KILL reached it keeps its result: the work was done.
    const raw = this.#shape(conn, outcome as Outcome, sql);
    return raw;
  }

  /**
   * mysql2's row events with backpressure: the socket is paused while a batch is handed out, so memory stays at
   * about one batch. Breaking out early kills the statement on the server and drains what was already sent.
   */
  async *stream(
    conn: MysqlConnection,
    sql: string,
    params: unknown[],
    batchSize: number,
    opts: QueryOptions,
  ): AsyncIterable<Row[]> {
    if (conn.broken) throw brokenError(this.#label());
    if (conn.pendingCancel) await conn.pendingCancel;
    if (conn.broken) throw brokenError(this.#label());
    if (conn.failed) throw failedTransactionError(this.#label());
    if (conn.openStreams > 0) throw streamOpenError(this.#label());
    conn.noteStatement(sql);
    const size = Math.max(1, Math.floor(batchSize) || 1);
    const values = params.length > 0 ? encodeParams(params, this.#features.jsonSerializer) : undefined;
    const client = conn.client as Mysql2.Connection & { pause(): void; resume(): void };
    let batch: Row[] = [];
    let fields: Field[] | undefined;
    let done = false;
    let failure: unknown;
    let wake: (() => void) | undefined;
    const notify = (): void => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const cmd = (values !== undefined
      ? client.execute(sql, values as never)
      : client.query(sql)) as unknown as NodeJS.EventEmitter;
    cmd.on("fields", (f: Field[]) => {
      fields = f;
    });
    cmd.on("result", (row: Row | OkPacket) => {
      if (fields === undefined) {
        conn.track(row as OkPacket, sql);
        return;
      }
      batch.push(row as Row);
      if (batch.length >= size) {
        client.pause();
        notify();
      }
    });
    cmd.on("end", () => {
      done = true;
      notify();
    });
    cmd.on("error", (err: unknown) => {
      failure = err;
      done = true;
      notify();
    });
    let kind: "timeout" | "cancel" | undefined;
    const fire = (k: "timeout" | "cancel"): void => {
      if (kind !== undefined || done) return;
      kind = k;
      void kill(this.#killer, conn);
    };
    const onAbort = (): void => fire("cancel");
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    // timeoutMs bounds the whole stream, the time the consumer spends between batches included.
    const timer = opts.timeoutMs !== undefined ? setTimeout(fire, opts.timeoutMs, "timeout") : undefined;
    let finished = false;
    conn.openStreams++;
    try {
      for (;;) {
        if (!done && batch.length < size) {
          await new Promise<void>((r) => {
            wake = r;
          });
        }
        if (failure !== undefined) throw await fail(conn, failure, kind, this.#label());
        if (batch.length > 0) {
          const out = batch;
          batch = [];
          if (fields !== undefined) decodeRows(out, fields, this.#features, this.#mysql);
          client.resume();
          yield out;
        }
        if (done && batch.length === 0) {
          if (failure !== undefined) throw await fail(conn, failure, kind, this.#label());
          break;
        }
      }
      finished = true;
      conn.afterRows();
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
      if (timer !== undefined) clearTimeout(timer);
      if (!finished && !done) {
        // Abandoned mid-result: stop the statement and read what is still in flight, so the connection is clean.
        kind ??= "cancel";
        if (conn.pendingCancel === undefined) void kill(this.#killer, conn);
        batch = [];
        cmd.removeAllListeners("result");
        cmd.on("result", () => {});
        const drained = new Promise<void>((r) => {
          if (done) r();
          else wake = r;
        });
        client.resume();
        await drained;
        await settleCancel(conn, failure === undefined);
        conn.afterRows();
      } else if (kind !== undefined) {
        await settleCancel(conn, failure === undefined);
      }
      conn.openStreams--;
    }
  }
}
