/**
 * The pool's type knowledge on node-postgres: result parsers by OID (sqlspec's shared table, postgres-common/codecs,
 * handed to pg as its getTypeParser), pgvector's OIDs, types first met in a result (looked up once for the pool),
 * and the parameter types the server infers for a statement (needed only to bind arrays).
 */
import type * as PgModule from "pg";
import type { JsonSerializer } from "../../core/json.js";
import type { ResultColumnType } from "../../driver/adapter.js";
import type { ResolvedDriverFeatures } from "../../driver/config.js";
import { encodePgParams, PgTypeParsers, reparse, VECTOR_TYPE_SQL } from "../postgres-common/codecs.js";
import { pgResultColumnTypes } from "../postgres-common/result-types.js";
import { type PgClient, type PgField, type PgResult, sendProtocol, untilReady } from "./connection.js";

type Parser = (text: string) => unknown;

const asText: Parser = (text) => text;
/** Above this many entries the per-pool parameter-type cache is simply cleared (statements are few in practice). */
const PARAM_TYPES_LIMIT = 2000;

export class PgTypes {
  readonly #pg: typeof PgModule;
  readonly #jsonSerializer: JsonSerializer;
  readonly #timestamps: ResolvedDriverFeatures<PgModule.PoolClient>["timestamps"];
  /** Parsers by OID, shared by every connection of the pool (pgvector's and user types are added once known). */
  readonly #types: PgTypeParsers;
  /** Server-reported parameter types per statement text; only consulted when an array is bound. */
  readonly #paramTypes = new Map<string, number[]>();
  #vectorOid = -1;
  #vectorChecked = false;

  constructor(pg: typeof PgModule, f: ResolvedDriverFeatures<PgModule.PoolClient>) {
    this.#pg = pg;
    this.#jsonSerializer = f.jsonSerializer;
    this.#timestamps = f.timestamps;
    this.#types = new PgTypeParsers({
      int8: f.int8,
      timestamps: f.timestamps,
      json: f.enableJsonCodecs ? f.jsonDeserializer : undefined,
    });
  }

  /**
   * Every text value goes through the shared table (postgres-common/codecs): a type it does not list reads as the
   * server's text, never through pg-types' own parsers, so pg agrees with postgres.js and PGlite value for value.
   */
  readonly getTypeParser = (oid: number, format?: string): Parser => {
    if (format === undefined || format === "text") return this.#types.table[oid] ?? asText;
    return this.#pg.types.getTypeParser(oid, format as "text") as Parser;
  };

  /** pgvector's OIDs were looked up (by the pool's first connection, when pgvector is enabled). */
  get vectorLookedUp(): boolean {
    return this.#vectorChecked;
  }

  /** Looks up pgvector's OIDs: its values then parse as arrays of numbers, and bind as vectors. */
  async lookUpVector(client: PgClient): Promise<void> {
    const r = (await client.query(VECTOR_TYPE_SQL)) as unknown as PgResult;
    this.#vectorChecked = true;
    const row = r.rows[0] as { oid: number; array_oid: number } | undefined;
    if (row) {
      this.#vectorOid = row.oid;
      this.#types.setVector(row.oid, row.array_oid);
    }
  }

  /** Whether a result carries a type the table has not seen yet (a user enum/domain array, a catalog row type). */
  hasUnknown(fields: readonly PgField[]): boolean {
    for (const f of fields) if (f.dataTypeID >= 10_000 && this.#types.unknown(f.dataTypeID)) return true;
    return false;
  }

  /** The columns whose type the table does not know yet, as [name, oid]; asked before a lookup registers them. */
  lateFields(fields: readonly PgField[]): [string, number][] {
    const unknown: [string, number][] = [];
    for (const f of fields) if (this.#types.unknown(f.dataTypeID)) unknown.push([f.name, f.dataTypeID]);
    return unknown;
  }

  /**
   * Looks up types the table did not know when pg parsed this result (enum/domain arrays) and converts their values.
   * `unknown`: the result's late columns when asked earlier (a stack's later results, read before the lookup).
   */
  async resolve(client: PgClient, res: PgResult, unknown = this.lateFields(res.fields)): Promise<void> {
    if (unknown.length === 0) return;
    await this.#types.resolve(
      unknown.map((u) => u[1]),
      async (sql, params) => ((await client.query(sql, params)) as unknown as PgResult).rows,
    );
    reparse(res.rows, unknown, this.#types);
  }

  /** What sqlspec reports of a result's columns (`onColumnTypes`). */
  columnTypes(fields: readonly PgField[]): ResultColumnType[] {
    return pgResultColumnTypes(
      fields.map((f) => f.dataTypeID),
      this.#timestamps,
    );
  }

  /** Bound values as sqlspec documents them (postgres-common/codecs: UTC Dates, JSON, arrays by parameter type). */
  encode(params: unknown[], types: number[] | undefined): unknown[] {
    return encodePgParams(params, this.#jsonSerializer, types, this.#vectorOid);
  }

  /** Whether the parameter types of `sql` come from the cache (described by an earlier call, maybe before some DDL). */
  describedBefore(sql: string): boolean {
    return this.#paramTypes.has(sql);
  }

  /** Forgets the parameter types of `sql`, or of every statement (after DDL). */
  forgetParams(sql?: string): void {
    if (sql === undefined) this.#paramTypes.clear();
    else this.#paramTypes.delete(sql);
  }

  /** Parameter types as the server infers them (Parse + Describe statement), cached per pool and statement text. */
  async describeParams(client: PgClient, sql: string): Promise<number[]> {
    const known = this.#paramTypes.get(sql);
    if (known !== undefined) return known;
    let types: number[] = [];
    const onDesc = (msg: unknown): void => {
      types = (msg as { dataTypeIDs: number[] }).dataTypeIDs;
    };
    await sendProtocol(
      client,
      (connection) => {
        connection.once("parameterDescription", onDesc);
        connection.parse({ text: sql, name: "", types: [] });
        connection.describe({ type: "S", name: "" });
      },
      (err, reject) => {
        client.connection.removeListener("parameterDescription", onDesc);
        void untilReady(client).then(() => reject(err));
      },
    );
    if (this.#paramTypes.size >= PARAM_TYPES_LIMIT) this.#paramTypes.clear();
    this.#paramTypes.set(sql, types);
    return types;
  }
}
