/**
 * The pool's type table on postgres.js: sqlspec's shared parsers and serializers (postgres-common/codecs) replace
 * postgres.js's own on every connection, pgvector's OIDs are looked up once, and a type first met in a result (a user
 * enum/domain array, a catalog row type) is looked up once for the pool and given to the connection that met it.
 */
import type { ResultColumnType } from "../../driver/adapter.js";
import type { ResolvedDriverFeatures } from "../../driver/config.js";
import {
  type Parser,
  PgTypeParsers,
  parseVector,
  reparse,
  textSerializers,
  VECTOR_TYPE_SQL,
  vectorSerializer,
} from "../postgres-common/codecs.js";
import { pgResultColumnTypes } from "../postgres-common/result-types.js";
import {
  codecsOf,
  type PjsResult,
  type PostgresJsConnection,
  type PostgresSql,
  type Unsafe,
  unprepared,
} from "./connection.js";

export class PostgresJsTypes {
  readonly #timestamps: ResolvedDriverFeatures<PostgresSql>["timestamps"];
  #vector: { oid: number; arrayOid: number } | null | undefined;
  /** Parsers by OID for every connection of the pool (user types are added once looked up). */
  readonly #types: PgTypeParsers;
  readonly #serializers: Record<number, (x: unknown) => string>;

  constructor(f: ResolvedDriverFeatures<PostgresSql>) {
    this.#timestamps = f.timestamps;
    this.#types = new PgTypeParsers({
      int8: f.int8,
      timestamps: f.timestamps,
      json: f.enableJsonCodecs ? f.jsonDeserializer : undefined,
    });
    this.#serializers = textSerializers(f.jsonSerializer);
  }

  /**
   * Replaces postgres.js's parsers and serializers with sqlspec's shared ones (postgres-common/codecs), so a value
   * reads and binds exactly as on pg and PGlite: one parser per type OID, and serializers for the json types only —
   * every other parameter is text already (encodeTextParams) or a PgArrayParam whose text is its array literal.
   */
  install(sql: PostgresSql): void {
    const o = codecsOf(sql);
    for (const k of Object.keys(o.parsers)) delete o.parsers[k as unknown as number];
    for (const k of Object.keys(o.serializers)) delete o.serializers[k as unknown as number];
    const table = this.#types.table;
    for (const k in table) {
      const oid = Number(k);
      const parser = this.#types.get(oid);
      if (parser !== undefined) o.parsers[oid] = parser;
    }
    Object.assign(o.serializers, this.#serializers);
    if (this.#vector) o.serializers[this.#vector.oid] = vectorSerializer;
  }

  /**
   * A new connection's first statement, which connects it: with pgvector enabled, the pool's first connection looks
   * up the vector type's OIDs (later ones run SELECT 1), and every connection gets its parser and serializer.
   */
  async connect(sql: PostgresSql, pgvector: boolean): Promise<void> {
    if (pgvector && this.#vector === undefined) {
      const rows = (await (sql as unknown as Unsafe).unsafe(VECTOR_TYPE_SQL)) as unknown as {
        oid: number;
        array_oid: number;
      }[];
      this.#vector = rows[0] ? { oid: rows[0].oid, arrayOid: rows[0].array_oid } : null;
    } else {
      await (sql as unknown as Unsafe).unsafe("SELECT 1");
    }
    if (pgvector && this.#vector) {
      const { oid, arrayOid } = this.#vector;
      this.#types.setVector(oid, arrayOid);
      const o = codecsOf(sql);
      o.parsers[oid] = parseVector;
      o.parsers[arrayOid] = this.#types.get(arrayOid) as Parser;
      o.serializers[oid] = vectorSerializer;
    }
  }

  /** Columns of a result whose type this connection has no parser for yet (undefined, the common case: none). */
  lateColumns(res: PjsResult): [string, number][] | undefined {
    const cols = res.columns;
    if (cols === null || cols === undefined) return undefined;
    let late: [string, number][] | undefined;
    for (const c of cols) {
      if (c.parser === undefined && c.type >= 10_000 && (this.#types.unknown(c.type) || this.#types.get(c.type))) {
        late ??= [];
        late.push([c.name, c.type]);
      }
    }
    return late;
  }

  /**
   * A result whose columns include a type this connection has no parser for yet (a user enum/domain array, a catalog
   * row type): the pool looks it up once, and the columns of this result (and of the prepared statement) get it.
   */
  async finish(conn: PostgresJsConnection, res: PjsResult, late: [string, number][]): Promise<void> {
    await this.#types.resolve(
      late.map((l) => l[1]),
      (text, params) => unprepared(conn, text, params),
    );
    const parsers = codecsOf(conn.sql).parsers;
    for (const c of res.columns ?? []) {
      const parser = this.#types.get(c.type);
      if (c.parser === undefined && parser !== undefined) {
        parsers[c.type] = parser;
        c.parser = parser;
      }
    }
    reparse(res, late, this.#types);
  }

  /** Gives a stream's columns the pool's parsers for types this connection lacks; returns types still unknown. */
  forStream(conn: PostgresJsConnection, batch: PjsResult): number[] {
    const unknown: number[] = [];
    const late: [string, number][] = [];
    const parsers = codecsOf(conn.sql).parsers;
    for (const c of batch.columns ?? []) {
      if (c.parser !== undefined || c.type < 10_000) continue;
      const parser = this.#types.get(c.type);
      if (parser !== undefined) {
        parsers[c.type] = parser;
        c.parser = parser;
        late.push([c.name, c.type]);
      } else if (this.#types.unknown(c.type)) unknown.push(c.type);
    }
    if (late.length > 0) reparse(batch, late, this.#types);
    return unknown;
  }

  /** Looks up types a stream met (after its cursor closed: it held the connection) for every later statement. */
  resolve(conn: PostgresJsConnection, oids: number[]): Promise<void> {
    return this.#types.resolve(oids, (text, p) => unprepared(conn, text, p));
  }

  /** What sqlspec reports of a result's columns (`onColumnTypes`). */
  columnTypes(res: PjsResult): ResultColumnType[] {
    return pgResultColumnTypes(
      (res.columns ?? []).map((c) => c.type),
      this.#timestamps,
    );
  }
}
