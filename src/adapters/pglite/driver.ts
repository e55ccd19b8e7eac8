/**
 * The PGlite adapter: the Adapter contract, each part handed to its module: pool.ts (a session's lease on the one
 * connection, release and reset), running.ts (the transaction lock, the engine's state after each statement, errors),
 * statements.ts (query, a lease sharing its parent's transaction, result shape and late types), copy.ts (COPY
 * through PGlite's blob device), connection.ts (PgliteConnection and the engine state every lease shares).
 */
import type { PGlite, PGliteOptions } from "@electric-sql/pglite";
import type { SQLSpecError } from "../../core/errors.js";
import { ParameterStyle, type Row } from "../../core/types.js";
import type {
  AcquireOptions,
  Adapter,
  AdapterCapabilities,
  ConnectionState,
  CopyInOptions,
  QueryOptions,
  RawResult,
} from "../../driver/adapter.js";
import type { ResetOnRelease, ResolvedDriverFeatures } from "../../driver/config.js";
import { postgresIntrospector } from "../postgres-common/catalog.js";
import { PgTypeParsers, textSerializers, VECTOR_TYPE_SQL, vectorSerializer } from "../postgres-common/codecs.js";
import { POSTGRES_MAX_PARAMETERS } from "../postgres-common/limits.js";
import { POSTGRES_NAMED_LOCK } from "../postgres-common/lock.js";
import { SESSION_SETTINGS_SQL, type SessionSettings, sessionSettingsOf } from "../postgres-common/session-state.js";
import { PgliteConnection } from "./connection.js";
import { PgliteCopy } from "./copy.js";
import { PgliteLeases } from "./pool.js";
import { mapPgliteError, PgliteRunner, refuseTimeout } from "./running.js";
import { PgliteStatements } from "./statements.js";

export { PgliteConnection };

export interface PgliteAdapterOptions {
  db: PGlite;
  features: ResolvedDriverFeatures<PGlite>;
  /** How long a session waits for another session's open transaction. Default 30 s. */
  acquireTimeoutMs: number;
  /** Close the PGlite instance when the pool closes (false when the user passed their own instance). */
  ownsDb: boolean;
  resetOnRelease: ResetOnRelease;
  /** The user the database was opened as: PGlite's SET SESSION AUTHORIZATION DEFAULT does not go back to it. */
  sessionUser: string;
}

/**
 * The PGlite adapter, made by `PgliteConfig`: sessions lease the one connection statement by statement, and an
 * open transaction holds it until it ends.
 */
export class PgliteAdapter implements Adapter<PgliteConnection> {
  readonly dialect = "postgres" as const;
  readonly parameterStyle = ParameterStyle.NUMERIC;
  readonly databaseLabel = "PostgreSQL";
  readonly capabilities: AdapterCapabilities = {
    // PGlite runs a statement to completion on the JS thread: timeoutMs is refused, a signal acts until it starts.
    cancel: false,
    copy: true,
    pipeline: "none",
    cursors: "declare",
    savepoints: true,
    transactionalDdl: true,
    maxParameters: POSTGRES_MAX_PARAMETERS,
    sharedConnection: true,
    unpreparedParameters: true,
    resultColumnTypes: true,
    // Measured crossover of one JSON parameter vs COPY staging on PGlite (COPY from a Blob; see driver/upsert.ts).
    bulkCopyThreshold: 1500,
  };
  readonly introspector = postgresIntrospector;
  readonly namedLock = POSTGRES_NAMED_LOCK;
  /** The PGlite instance. */
  readonly db: PGlite;
  readonly #leases: PgliteLeases;
  readonly #statements: PgliteStatements;
  readonly #copy: PgliteCopy;
  readonly #options: PgliteAdapterOptions;
  /** @internal What onConnectionCreate set (restored after a reset). */
  baseline: SessionSettings | undefined;

  /** @internal Made by `PgliteConfig`. */
  constructor(options: PgliteAdapterOptions, vector: { oid: number; arrayOid: number } | undefined) {
    this.#options = options;
    this.db = options.db;
    const f = options.features;
    const types = new PgTypeParsers({
      int8: f.int8,
      timestamps: f.timestamps,
      json: f.enableJsonCodecs ? f.jsonDeserializer : undefined,
    });
    const serializers: Record<number, (x: unknown) => string> = textSerializers(f.jsonSerializer);
    if (vector !== undefined) {
      types.setVector(vector.oid, vector.arrayOid);
      serializers[vector.oid] = vectorSerializer;
    }
    // sqlspec's tables replace PGlite's own (no per-query merge either): a value reads and binds exactly as on pg and
    // postgres.js. A parameter without a serializer here is text already (encodeTextParams) or a PgArrayParam.
    const db = this.db as unknown as {
      parsers: Record<number, (x: string) => unknown>;
      serializers: Record<number, (x: unknown) => string>;
    };
    db.parsers = types.table;
    db.serializers = serializers;
    const runner = new PgliteRunner(this.db, options.acquireTimeoutMs);
    this.#leases = new PgliteLeases(
      this.db,
      runner,
      {
        acquireTimeoutMs: options.acquireTimeoutMs,
        resetOnRelease: options.resetOnRelease,
        sessionUser: options.sessionUser,
        jsonSerializer: f.jsonSerializer,
      },
      () => this.baseline,
    );
    this.#statements = new PgliteStatements(this.db, runner, types, f);
    this.#copy = new PgliteCopy(this.db, runner, f.jsonSerializer);
  }

  acquire(options?: AcquireOptions<PgliteConnection>): Promise<PgliteConnection> {
    return this.#leases.acquire(options);
  }

  state(conn: PgliteConnection): ConnectionState {
    return conn;
  }

  /** One database, one connection: every session's handle stands for it. */
  physicalConnection(conn: PgliteConnection): object {
    return conn.db;
  }

  /** Rolls back what this lease left open, restores settings when asked, and frees the lock. Never rejects. */
  release(conn: PgliteConnection): Promise<void> {
    return this.#leases.release(conn);
  }

  query(conn: PgliteConnection, sql: string, params: unknown[], opts: QueryOptions): Promise<RawResult> {
    return this.#statements.query(conn, sql, params, opts);
  }

  copyIn(
    conn: PgliteConnection,
    table: string,
    columns: string[],
    rows: AsyncIterable<unknown[]> | Iterable<unknown[]>,
    columnTypes?: string[],
    copyOptions?: CopyInOptions,
  ): Promise<number> {
    return this.#copy.copyIn(conn, table, columns, rows, columnTypes, copyOptions);
  }

  /**
   * A user-written COPY … FROM STDIN: PGlite reads COPY data from `/dev/blob`, so the data is collected into one Blob
   * (nothing is sent until the whole source was read) and the statement's STDIN becomes `'/dev/blob'`.
   */
  copyFromStdin(
    conn: PgliteConnection,
    sql: string,
    data: AsyncIterable<Uint8Array>,
    opts: QueryOptions,
  ): Promise<number> {
    return this.#copy.copyFromStdin(conn, sql, data, opts);
  }

  /** A user-written COPY … TO STDOUT: PGlite writes it to `/dev/blob`, handed to `write` as one chunk. */
  copyToStdout(
    conn: PgliteConnection,
    sql: string,
    write: (chunk: Uint8Array) => void | Promise<void>,
    opts: QueryOptions,
  ): Promise<number> {
    return this.#copy.copyToStdout(conn, sql, write, opts);
  }

  checkOptions(opts: QueryOptions): void {
    refuseTimeout(opts);
  }

  mapError(err: unknown): SQLSpecError {
    return mapPgliteError(err);
  }

  async close(): Promise<void> {
    if (this.#options.ownsDb && !this.db.closed) await this.db.close();
  }
}

/** Creates the PGlite instance (with pgvector when available and enabled) and the adapter around it. */
export async function createPgliteAdapter(
  pglite: typeof import("@electric-sql/pglite"),
  vectorExtension: unknown,
  dbOptions: PGliteOptions,
  features: ResolvedDriverFeatures<PGlite>,
  acquireTimeoutMs: number,
  resetOnRelease: ResetOnRelease = "auto",
): Promise<PgliteAdapter> {
  const extensions = { ...(dbOptions.extensions ?? {}) } as Record<string, unknown>;
  if (vectorExtension && features.enablePgvector && !("vector" in extensions)) extensions.vector = vectorExtension;
  const db = await pglite.PGlite.create({
    ...dbOptions,
    extensions: extensions as NonNullable<PGliteOptions["extensions"]>,
  });
  let vector: { oid: number; arrayOid: number } | undefined;
  if (features.enablePgvector && "vector" in extensions) {
    await db.exec("CREATE EXTENSION IF NOT EXISTS vector");
    const r = await db.query<{ oid: number; array_oid: number }>(VECTOR_TYPE_SQL);
    const row = r.rows[0];
    if (row !== undefined) vector = { oid: row.oid, arrayOid: row.array_oid };
  }
  const adapter = new PgliteAdapter(
    { db, features, acquireTimeoutMs, ownsDb: true, resetOnRelease, sessionUser: dbOptions.username ?? "postgres" },
    vector,
  );
  if (features.onConnectionCreate) {
    await features.onConnectionCreate(db);
    adapter.baseline = sessionSettingsOf((await db.query<Row>(SESSION_SETTINGS_SQL)).rows);
  }
  return adapter;
}
