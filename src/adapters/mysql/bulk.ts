/**
 * MySQL bulk paths: what driver/native-bulk.ts may use on this server (multi-row VALUES, a JSON_TABLE source, the
 * packet size) and `LOAD DATA LOCAL INFILE` from sqlspec's own stream as `copyIn`.
 */
import type * as Mysql2 from "mysql2";
import { DataError } from "../../core/errors.js";
import type { JsonSerializer } from "../../core/json.js";
import { loadDataSql, mysqlBulkSql } from "../../dialects/mysql.js";
import type { BulkCapabilities } from "../../driver/adapter.js";
import type { MysqlServer } from "./catalog.js";
import type { OkPacket } from "./codecs.js";
import type { MysqlConnection } from "./connection.js";
import { encodeLoadDataRows } from "./load-data.js";
import { brokenError, fail, text } from "./running.js";

/** The bulk capabilities of the pool's server, and LOAD DATA. */
export class MysqlBulk {
  #maxPacket: Promise<number> | undefined;
  readonly #serializer: JsonSerializer;
  /** "MariaDB" or "MySQL": known once a connection has told which. */
  readonly #label: () => string;

  constructor(serializer: JsonSerializer, label: () => string) {
    this.#serializer = serializer;
    this.#label = label;
  }

  /** What the server (undefined before the first connection) offers the bulk upsert/load paths. */
  capabilities(s: MysqlServer | undefined): BulkCapabilities {
    const jsonRows = s === undefined || (s.flavor === "mariadb" ? s.versionNum >= 100600 : s.versionNum >= 80004);
    return {
      sql: mysqlBulkSql,
      maxParameters: 65_535,
      jsonRows,
      // MariaDB 10.11 here: JSON_TABLE (1,000-row documents) leads up to ~10k rows; multi-row VALUES (3,000-row
      // chunks) above. See the table in driver/native-bulk.ts.
      largeBatch: { threshold: 20_000, source: "values" },
      maxPacketBytes: (conn) => {
        this.#maxPacket ??= text(conn as MysqlConnection, "SELECT @@max_allowed_packet AS m").then(
          (rows) => Number((rows as { m: number | string }[])[0]?.m ?? 4_194_304),
          (err) => {
            this.#maxPacket = undefined;
            throw err;
          },
        );
        return this.#maxPacket;
      },
    };
  }

  /**
   * `LOAD DATA LOCAL INFILE` from sqlspec's own stream: the rows are encoded here (one value encoder), and the
   * stream factory only ever answers the file name sqlspec generated, never a path from a user's statement.
   * Returns the rows loaded. The server counts conversions it had to make as warnings; any warning fails the load.
   */
  async copyIn(
    conn: MysqlConnection,
    table: string,
    columns: string[],
    rows: AsyncIterable<unknown[]> | Iterable<unknown[]>,
  ): Promise<number> {
    if (conn.broken) throw brokenError(this.#label());
    const token = `sqlspec-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const sql = loadDataSql(table, columns, token);
    const { Readable } = await import("node:stream");
    const serializer = this.#serializer;
    const factory = (name: string): NodeJS.ReadableStream => {
      if (name !== token) throw new Error("sqlspec: LOAD DATA LOCAL INFILE is only served for sqlspec's own stream");
      return Readable.from(encodeLoadDataRows(rows, columns.length, serializer));
    };
    let ok: OkPacket;
    try {
      ok = await new Promise<OkPacket>((resolve, reject) => {
        conn.client.query({ sql, infileStreamFactory: factory } as unknown as Mysql2.QueryOptions, (err, result) => {
          if (err) reject(err);
          else resolve(result as unknown as OkPacket);
        });
      });
    } catch (err) {
      throw await fail(conn, err, undefined, this.#label());
    }
    conn.track(ok, sql);
    if ((ok.warningStatus ?? 0) > 0) {
      throw new DataError(
        `${this.#label()} LOAD DATA: the server converted ${ok.warningStatus} value(s) with warnings; nothing was kept`,
      );
    }
    return ok.affectedRows;
  }
}
