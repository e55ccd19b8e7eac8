import { AsyncLocalStorage } from "node:async_hooks";
import type { PGlite, PGliteOptions, Results } from "@electric-sql/pglite";
import { PoolTimeoutError, type SQLSpecError } from "../../core/errors.js";
import { isJsonValue } from "../../core/json.js";
import { ParameterStyle, type Row } from "../../core/types.js";
import type { Adapter, QueryOptions, RawResult } from "../../driver/adapter.js";
import type { ResolvedDriverFeatures } from "../../driver/config.js";
import { postgresIntrospector } from "../postgres-common/catalog.js";
import {
  encodeJsonParam,
  formatVector,
  isPlainObject,
  PgOid,
  parseBytea,
  parseInt8,
  parseVector,
  VECTOR_TYPE_SQL,
} from "../postgres-common/codecs.js";
import { rowsAffectedFor } from "../postgres-common/command-tag.js";
import { copyFromStdinSql, encodeCopyBlob } from "../postgres-common/copy.js";
import { mapPostgresError } from "../postgres-common/errors.js";

/**
 * A session's hold on the one PGlite connection. PGlite runs one statement at a time; sessions interleave
 * statement by statement, except that an open transaction holds the connection until COMMIT/ROLLBACK.
 */
export interface PgliteConnection {
  readonly db: PGlite;
  /** This lease holds the transaction lock (it ran BEGIN). */
  holdsLock: boolean;
  /** Set when the lease was opened inside a session that holds the lock: it shares that transaction. */
  readonly parent: PgliteConnection | undefined;
  /** Savepoints standing in for BEGIN on a shared lease. */
  nestedTx: string[];
}

export interface PgliteAdapterOptions {
  db: PGlite;
  features: ResolvedDriverFeatures<PGlite>;
  /** How long a session waits for another session's open transaction. Default 30 s. */
  acquireTimeoutMs: number;
  /** Close the PGlite instance when the pool closes (false when the user passed their own instance). */
  ownsDb: boolean;
}

/** FIFO mutex with a wait timeout, so a session blocked behind another's open transaction fails loudly. */
class TransactionLock {
  #held = false;
  #waiters: (() => void)[] = [];

  async acquire(timeoutMs: number): Promise<void> {
    if (!this.#held) {
      this.#held = true;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(grant);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(
          new PoolTimeoutError(
            `Waited ${timeoutMs} ms for PGlite's single connection: another session holds an open transaction. ` +
              "Commit or roll it back, or run the nested work through the outer session.",
          ),
        );
      }, timeoutMs);
      this.#waiters.push(grant);
    });
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#held = false;
  }
}

/** First keyword of a transaction-control statement, without allocating for ordinary statements. */
function txVerb(sql: string): "begin" | "end" | undefined {
  let i = 0;
  while (i < sql.length && sql.charCodeAt(i) <= 32) i++;
  const c = sql.charCodeAt(i) | 32;
  if (c !== 98 && c !== 115 && c !== 99 && c !== 114 && c !== 101 && c !== 97) return undefined; // b s c r e a
  const head = sql.slice(i, i + 20).toUpperCase();
  if (head.startsWith("BEGIN") || head.startsWith("START TRANSACTION")) return "begin";
  if (head.startsWith("COMMIT") || head.startsWith("END") || head.startsWith("ABORT")) return "end";
  if (
    head.startsWith("ROLLBACK") &&
    !/^ROLLBACK\s+(WORK\s+|TRANSACTION\s+)?TO\b/.test(head + sql.slice(i + 20, i + 40).toUpperCase())
  ) {
    return "end";
  }
  return undefined;
}

export class PgliteAdapter implements Adapter<PgliteConnection> {
  readonly dialect = "postgres" as const;
  readonly engine = "pglite";
  readonly parameterStyle = ParameterStyle.NUMERIC;
  readonly databaseLabel = "PostgreSQL";
  readonly transactionalDdl = true;
  /** PGlite runs statements to completion: timeoutMs / AbortSignal cannot interrupt one (issue 8 §2). */
  readonly capabilities = { cancel: false } as const;
  readonly introspector = postgresIntrospector;
  readonly db: PGlite;
  readonly #lock = new TransactionLock();
  readonly #scope = new AsyncLocalStorage<PgliteConnection>();
  readonly #options: PgliteAdapterOptions;
  readonly #queryOptions: {
    parsers: Record<number, (v: string) => unknown>;
    serializers: Record<number, (v: any) => string>;
  };
  #savepointSeq = 0;

  constructor(options: PgliteAdapterOptions, vectorOid: number | undefined) {
    this.#options = options;
    this.db = options.db;
    const f = options.features;
    // bytea → Buffer (PGlite's default is a bare Uint8Array) so all three PostgreSQL adapters agree.
    const parsers: Record<number, (v: string) => unknown> = { [PgOid.INT8]: parseInt8, [PgOid.BYTEA]: parseBytea };
    const serializers: Record<number, (v: any) => string> = {};
    if (f.enableJsonCodecs) {
      parsers[PgOid.JSON] = f.jsonDeserializer;
      parsers[PgOid.JSONB] = f.jsonDeserializer;
    } else {
      // Codecs off: json/jsonb come back as the server's text, as with a plain driver.
      parsers[PgOid.JSON] = (text) => text;
      parsers[PgOid.JSONB] = (text) => text;
    }
    serializers[PgOid.JSON] = jsonParam(f.jsonSerializer);
    serializers[PgOid.JSONB] = jsonParam(f.jsonSerializer);
    if (vectorOid !== undefined) {
      parsers[vectorOid] = parseVector;
      serializers[vectorOid] = (v) => (typeof v === "string" ? v : formatVector(v));
    }
    this.#queryOptions = { parsers, serializers };
  }

  async acquire(): Promise<PgliteConnection> {
    const parent = this.#scope.getStore();
    const sharing = parent !== undefined && parent.db === this.db && holdsLock(parent);
    return { db: this.db, holdsLock: false, parent: sharing ? parent : undefined, nestedTx: [] };
  }

  async release(conn: PgliteConnection): Promise<void> {
    // A session released mid-transaction was already rolled back by the Session; free the lock regardless.
    if (conn.holdsLock) {
      conn.holdsLock = false;
      this.#lock.release();
    }
  }

  scope<T>(conn: PgliteConnection, fn: () => Promise<T>): Promise<T> {
    return this.#scope.run(conn, fn);
  }

  async query(conn: PgliteConnection, sql: string, params: unknown[], _opts: QueryOptions): Promise<RawResult> {
    const verb = txVerb(sql);
    if (conn.parent !== undefined && holdsLock(conn.parent)) {
      // Inside another session's transaction: BEGIN/COMMIT/ROLLBACK become a savepoint of that transaction.
      if (verb === "begin") return this.#nestedBegin(conn);
      if (verb === "end") return this.#nestedEnd(conn, sql);
      return this.#exec(sql, params);
    }
    if (conn.holdsLock) {
      const result = await this.#exec(sql, params);
      if (verb === "end") {
        conn.holdsLock = false;
        this.#lock.release();
      }
      return result;
    }
    await this.#lock.acquire(this.#options.acquireTimeoutMs);
    if (verb === "begin") {
      try {
        const result = await this.#exec(sql, params);
        conn.holdsLock = true;
        return result;
      } catch (err) {
        this.#lock.release();
        throw err;
      }
    }
    try {
      return await this.#exec(sql, params);
    } finally {
      this.#lock.release();
    }
  }

  async copyIn(
    conn: PgliteConnection,
    table: string,
    columns: string[],
    rows: AsyncIterable<unknown[]> | Iterable<unknown[]>,
    columnTypes?: string[],
  ): Promise<number> {
    const blob = await encodeCopyBlob(rows, columnTypes, columns.length, {
      jsonSerializer: this.#options.features.jsonSerializer,
    });
    const sql = copyFromStdinSql(table, columns).replace(/ FROM STDIN$/, " FROM '/dev/blob'");
    const run = () => this.db.query(sql, [], { blob });
    const r = conn.holdsLock || (conn.parent && holdsLock(conn.parent)) ? await run() : await this.#locked(run);
    return r.affectedRows ?? 0;
  }

  mapError(err: unknown): SQLSpecError {
    // PGlite attaches the query's parameters to its errors; never carry user data into our error chain.
    if (err && typeof err === "object") {
      delete (err as { params?: unknown }).params;
      delete (err as { queryOptions?: unknown }).queryOptions;
    }
    return mapPostgresError(err);
  }

  async close(): Promise<void> {
    if (this.#options.ownsDb && !this.db.closed) await this.db.close();
  }

  async #locked<T>(fn: () => Promise<T>): Promise<T> {
    await this.#lock.acquire(this.#options.acquireTimeoutMs);
    try {
      return await fn();
    } finally {
      this.#lock.release();
    }
  }

  async #exec(sql: string, params: unknown[]): Promise<RawResult> {
    const r: Results<Row> = await this.db.query<Row>(
      sql,
      params.length ? encodeParams(params, this.#options.features) : params,
      this.#queryOptions,
    );
    const fields = r.fields;
    const columns = new Array<string>(fields.length);
    for (let i = 0; i < fields.length; i++) columns[i] = (fields[i] as { name: string }).name;
    const command = r.command;
    return {
      rows: r.rows,
      columns,
      rowsAffected: rowsAffectedFor(command, r.rowCount ?? r.affectedRows),
      ...(command !== undefined ? { command } : {}),
    };
  }

  async #nestedBegin(conn: PgliteConnection): Promise<RawResult> {
    const name = `sqlspec_nested_${++this.#savepointSeq}`;
    await this.db.query(`SAVEPOINT ${name}`);
    conn.nestedTx.push(name);
    return { rows: [], columns: [], rowsAffected: 0, command: "BEGIN" };
  }

  async #nestedEnd(conn: PgliteConnection, sql: string): Promise<RawResult> {
    const name = conn.nestedTx.pop();
    if (name === undefined) return this.#exec(sql, []);
    if (/^\s*(ROLLBACK|ABORT)/i.test(sql)) await this.db.query(`ROLLBACK TO SAVEPOINT ${name}`);
    await this.db.query(`RELEASE SAVEPOINT ${name}`);
    return { rows: [], columns: [], rowsAffected: 0, command: "COMMIT" };
  }
}

function holdsLock(conn: PgliteConnection): boolean {
  return conn.holdsLock || (conn.parent !== undefined && holdsLock(conn.parent));
}

/** PGlite picks serializers by the parameter type the server reports; only JsonValue markers need unwrapping here. */
function encodeParams(params: unknown[], features: ResolvedDriverFeatures<PGlite>): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < params.length; i++) {
    const v = params[i];
    if (v !== null && typeof v === "object" && (isJsonValue(v) || isPlainObject(v))) {
      out ??= params.slice();
      out[i] = encodeJsonParam(v, features.jsonSerializer);
    }
  }
  return out ?? params;
}

function jsonParam(serialize: (v: unknown) => string): (v: unknown) => string {
  // Values already serialized by encodeParams (strings) must not be encoded twice.
  return (v) => (typeof v === "string" ? v : serialize(v));
}

/** Creates the PGlite instance (with pgvector when available and enabled) and the adapter around it. */
export async function createPgliteAdapter(
  pglite: typeof import("@electric-sql/pglite"),
  vectorExtension: unknown,
  dbOptions: PGliteOptions,
  features: ResolvedDriverFeatures<PGlite>,
  acquireTimeoutMs: number,
): Promise<PgliteAdapter> {
  const extensions = { ...(dbOptions.extensions ?? {}) } as Record<string, unknown>;
  if (vectorExtension && features.enablePgvector && !("vector" in extensions)) extensions.vector = vectorExtension;
  const db = await pglite.PGlite.create({
    ...dbOptions,
    extensions: extensions as NonNullable<PGliteOptions["extensions"]>,
  });
  let vectorOid: number | undefined;
  if (features.enablePgvector && "vector" in extensions) {
    await db.exec("CREATE EXTENSION IF NOT EXISTS vector");
    const r = await db.query<{ oid: number }>(VECTOR_TYPE_SQL);
    vectorOid = r.rows[0]?.oid;
  }
  const adapter = new PgliteAdapter({ db, features, acquireTimeoutMs, ownsDb: true }, vectorOid);
  if (features.onConnectionCreate) await features.onConnectionCreate(db);
  return adapter;
}
