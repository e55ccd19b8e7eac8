/**
 * PGlite COPY: PGlite reads COPY data from and writes it to `/dev/blob`, so bulk rows and a user's COPY … FROM STDIN
 * go as one Blob, and COPY … TO STDOUT comes back as one.
 */
import type { PGlite } from "@electric-sql/pglite";
import { findCopyStdio } from "../../core/copy-statement.js";
import type { JsonSerializer } from "../../core/json.js";
import type { CopyInOptions, QueryOptions, RawResult } from "../../driver/adapter.js";
import { copyFromStdinSql, encodeCopyBlob } from "../postgres-common/copy.js";
import { holdsLock, type PgliteConnection } from "./connection.js";
import { cancelledBeforeStart, type PgliteRunner, refuseTimeout } from "./running.js";

/** COPY through PGlite's blob device, under the transaction lock as any statement. */
export class PgliteCopy {
  readonly #db: PGlite;
  readonly #runner: PgliteRunner;
  readonly #serializer: JsonSerializer;

  constructor(db: PGlite, runner: PgliteRunner, serializer: JsonSerializer) {
    this.#db = db;
    this.#runner = runner;
    this.#serializer = serializer;
  }

  async copyIn(
    conn: PgliteConnection,
    table: string,
    columns: string[],
    rows: AsyncIterable<unknown[]> | Iterable<unknown[]>,
    columnTypes?: string[],
    copyOptions?: CopyInOptions,
  ): Promise<number> {
    refuseTimeout(copyOptions ?? {});
    const blob = await encodeCopyBlob(rows, columnTypes, columns.length, {
      jsonSerializer: this.#serializer,
      columns,
      signal: copyOptions?.signal,
    });
    if (copyOptions?.signal?.aborted) throw cancelledBeforeStart(copyOptions.signal);
    if (copyOptions?.beforeCopy) await copyOptions.beforeCopy();
    const sql = copyFromStdinSql(table, columns).replace(/ FROM STDIN$/, " FROM '/dev/blob'");
    const run = async (): Promise<RawResult> => {
      const r = await this.#db.query(sql, [], { blob });
      return { rows: [], columns: [], rowsAffected: r.affectedRows ?? 0, command: "COPY" };
    };
    if (!(conn.parent !== undefined && holdsLock(conn.parent))) await this.#runner.take(conn, copyOptions?.signal);
    return (await this.#runner.tracked(conn, sql, run())).rowsAffected;
  }

  /**
   * A user-written COPY … FROM STDIN: PGlite reads COPY data from `/dev/blob`, so the data is collected into one Blob
   * (nothing is sent until the whole source was read) and the statement's STDIN becomes `'/dev/blob'`.
   */
  async copyFromStdin(
    conn: PgliteConnection,
    sql: string,
    data: AsyncIterable<Uint8Array>,
    opts: QueryOptions,
  ): Promise<number> {
    refuseTimeout(opts);
    const parts: Uint8Array[] = [];
    for await (const chunk of data) {
      if (opts.signal?.aborted) throw cancelledBeforeStart(opts.signal);
      parts.push(chunk);
    }
    const blob = new Blob(parts as unknown as ConstructorParameters<typeof Blob>[0]);
    const text = throughBlob(sql);
    const run = async (): Promise<RawResult> => {
      const r = await this.#db.query(text, [], { blob });
      return { rows: [], columns: [], rowsAffected: r.affectedRows ?? 0, command: "COPY" };
    };
    return (await this.#copyRun(conn, text, run, opts)).rowsAffected;
  }

  /** A user-written COPY … TO STDOUT: PGlite writes it to `/dev/blob`, handed to `write` as one chunk. */
  async copyToStdout(
    conn: PgliteConnection,
    sql: string,
    write: (chunk: Uint8Array) => void | Promise<void>,
    opts: QueryOptions,
  ): Promise<number> {
    refuseTimeout(opts);
    const text = throughBlob(sql);
    let out: Blob | undefined;
    const run = async (): Promise<RawResult> => {
      const r = await this.#db.query(text);
      out = r.blob;
      return { rows: [], columns: [], rowsAffected: r.affectedRows ?? 0, command: "COPY" };
    };
    const r = await this.#copyRun(conn, text, run, opts);
    if (out !== undefined && out.size > 0) {
      const pending = write(new Uint8Array(await out.arrayBuffer()));
      if (pending !== undefined) await pending;
    }
    return r.rowsAffected;
  }

  /** A COPY statement under the transaction lock, as query() runs one (joining a parent session's transaction). */
  async #copyRun(
    conn: PgliteConnection,
    sql: string,
    run: () => Promise<RawResult>,
    opts: QueryOptions,
  ): Promise<RawResult> {
    if (conn.parent !== undefined && holdsLock(conn.parent)) {
      if (opts.signal?.aborted) throw cancelledBeforeStart(opts.signal);
    } else {
      await this.#runner.take(conn, opts.signal);
    }
    return this.#runner.tracked(conn, sql, run());
  }
}

/** The COPY statement with its STDIN/STDOUT replaced by `'/dev/blob'` (PGlite's COPY data device). */
function throughBlob(sql: string): string {
  const at = findCopyStdio(sql);
  if (at === undefined) return sql;
  return `${sql.slice(0, at.start)}'/dev/blob'${sql.slice(at.end)}`;
}
