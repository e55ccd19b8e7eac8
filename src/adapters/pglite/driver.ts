import type { PGlite, PGliteOptions, Results } from "@electric-sql/pglite";
import { findCopyStdio } from "../../core/copy-statement.js";
import {
  DatabaseConnectionError,
  OperationCancelledError,
  PoolTimeoutError,
  type SQLSpecError,
  UnsupportedOperationError,
} from "../../core/errors.js";
import { ParameterStyle, type Row } from "../../core/types.js";
import type {
  AcquireOptions,
  Adapter,
  AdapterCapabilities,
  ConnectionState,
  CopyInOptions,
  QueryOptions,
  RawResult,
  TransactionStatus,
} from "../../driver/adapter.js";
import { RELEASED } from "../../driver/adapter.js";
import type { ResetOnRelease, ResolvedDriverFeatures } from "../../driver/config.js";
import { AsyncLock } from "../../driver/lock.js";
import { postgresIntrospector } from "../postgres-common/catalog.js";
import {
  encodeTextParams,
  PgTypeParsers,
  reparse,
  textSerializers,
  VECTOR_TYPE_SQL,
  vectorSerializer,
} from "../postgres-common/codecs.js";
import { rowsAffectedFor } from "../postgres-common/command-tag.js";
import { copyFromStdinSql, encodeCopyBlob } from "../postgres-common/copy.js";
import { refuseCopyStdio } from "../postgres-common/copy-guard.js";
import { mapPostgresError } from "../postgres-common/errors.js";
import { POSTGRES_MAX_PARAMETERS } from "../postgres-common/limits.js";
import { POSTGRES_NAMED_LOCK } from "../postgres-common/lock.js";
import { pgResultColumnTypes } from "../postgres-common/result-types.js";
import {
  resetPostgresConnection,
  SESSION_SETTINGS_SQL,
  type SessionSettings,
  sessionSettingsOf,
  statementChangesSettings,
} from "../postgres-common/session-state.js";

/** The transaction status and failure flag of the one PGlite connection, shared by every lease. */
interface EngineState {
  /** The last statement inside the open transaction failed (ReadyForQuery would say E). */
  failed: boolean;
  /** A SET/RESET ran since the last reset. */
  settingsChanged: boolean;
}

/**
 * A session's hold on the one PGlite connection. PGlite runs one statement at a time; sessions interleave
 * statement by statement, except that an open transaction holds the connection (the lock) until it ends. Whether a
 * transaction is open is read from the engine after every statement (`isInTransaction()`), never from SQL text.
 */
export class PgliteConnection implements ConnectionState {
  /**
   * @internal This lease holds the transaction lock (a statement it ran left a transaction open, or changed a setting).
   */
  holdsLock = false;
  /**
   * @internal
   * A statement on this lease (or a lease sharing it) changed a session setting: every session shares the one
   * connection, so the lease keeps the lock until its release has reset the setting, and no other session ever runs
   * with it.
   */
  keepsSettings = false;
  /**
   * @internal Statements of this lease sent to the engine and not settled yet. The lock a statement took goes back
   * only when the last of them settled: one still queued in the engine must not run after another session's took it.
   */
  running = 0;
  /** @internal Savepoints standing in for BEGIN on a lease that shares its parent's transaction. */
  nestedTx: string[] = [];
  /**
   * @internal
   * The session's acquire options. Waiting for PGlite's one connection means waiting for another session's open
   * transaction, which happens at each statement rather than at acquire: every such wait honours them.
   */
  wait: { timeoutMs?: number | undefined; signal?: AbortSignal | undefined } = NO_WAIT;
  readonly openCursors = 0;
  readonly preparedStatements = 0;

  /** @internal Made by the adapter for each session (a lease on the one connection). */
  constructor(
    /** The PGlite instance, shared by every session of the config; use it for anything sqlspec does not wrap. */
    readonly db: PGlite,
    /** @internal Set when the lease was opened inside a session that holds the lock: it shares that transaction. */
    readonly parent: PgliteConnection | undefined,
    /** @internal The engine-wide state every lease shares. */
    readonly engine: EngineState,
  ) {}

  /**
   * This lease's own view: the engine's transaction when this lease holds it; for a lease sharing its parent's
   * transaction, its savepoint-backed nested transaction; otherwise idle (another lease's transaction is not ours).
   */
  get transaction(): TransactionStatus {
    const own = this.parent !== undefined && holdsLock(this.parent) ? this.nestedTx.length > 0 : this.holdsLock;
    if (!own || this.db.closed || !this.db.isInTransaction()) return "idle";
    return this.engine.failed ? "failed" : "active";
  }

  get settingsChanged(): boolean {
    return this.engine.settingsChanged;
  }
}

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

const NO_WAIT = Object.freeze({});

/**
 * The transaction lock (driver/lock.ts's bounded FIFO mutex, as the SQLite adapter's shared `:memory:` connection
 * uses), so a session blocked behind another's open transaction fails loudly. An aborted signal (the statement's or
 * the session's acquire signal) gives up waiting, and refuses even a free lock: the statement must not start.
 */
class TransactionLock {
  readonly #lock = new AsyncLock();

  async acquire(timeoutMs: number, ...signals: (AbortSignal | undefined)[]): Promise<void> {
    const live = signals.filter((s): s is AbortSignal => s !== undefined);
    for (const s of live) if (s.aborted) throw cancelledBeforeStart(s);
    await this.#lock.acquire(
      timeoutMs,
      () =>
        new PoolTimeoutError(
          `Waited ${timeoutMs} ms for PGlite's single connection: another session holds an open transaction. ` +
            "Commit or roll it back, or run the nested work through the outer session.",
        ),
      live.length > 1 ? AbortSignal.any(live) : live[0],
      () => cancelledBeforeStart(live.find((s) => s.aborted)),
    );
  }

  /** Takes the lock now when it is free (no waiter can be passed: a released lock goes straight to the next one). */
  tryAcquire(): boolean {
    return this.#lock.tryAcquire();
  }

  release(): void {
    this.#lock.release();
  }
}

/**
 * First keyword of a transaction-control statement, used only on a lease that shares its parent's transaction,
 * where BEGIN/COMMIT/ROLLBACK must become savepoint operations before they reach the engine.
 */
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
  readonly #lock = new TransactionLock();
  readonly #engine: EngineState = { failed: false, settingsChanged: false };
  readonly #options: PgliteAdapterOptions;
  /** Parsers by OID, installed as the PGlite instance's own (user types are added once looked up). */
  readonly #types: PgTypeParsers;
  #savepointSeq = 0;
  /** @internal What onConnectionCreate set (restored after a reset). */
  baseline: SessionSettings | undefined;

  /** @internal Made by `PgliteConfig`. */
  constructor(options: PgliteAdapterOptions, vector: { oid: number; arrayOid: number } | undefined) {
    this.#options = options;
    this.db = options.db;
    const f = options.features;
    this.#types = new PgTypeParsers({
      int8: f.int8,
      timestamps: f.timestamps,
      json: f.enableJsonCodecs ? f.jsonDeserializer : undefined,
    });
    const serializers: Record<number, (x: unknown) => string> = textSerializers(f.jsonSerializer);
    if (vector !== undefined) {
      this.#types.setVector(vector.oid, vector.arrayOid);
      serializers[vector.oid] = vectorSerializer;
    }
    // sqlspec's tables replace PGlite's own (no per-query merge either): a value reads and binds exactly as on pg and
    // postgres.js. A parameter without a serializer here is text already (encodeTextParams) or a PgArrayParam.
    const db = this.db as unknown as {
      parsers: Record<number, (x: string) => unknown>;
      serializers: Record<number, (x: unknown) => string>;
    };
    db.parsers = this.#types.table;
    db.serializers = serializers;
  }

  async acquire(options?: AcquireOptions<PgliteConnection>): Promise<PgliteConnection> {
    if (options?.signal?.aborted) {
      throw new OperationCancelledError("PGlite acquire cancelled", { cause: options.signal.reason });
    }
    const parent = options?.parent;
    const sharing = parent !== undefined && parent.db === this.db && holdsLock(parent);
    const conn = new PgliteConnection(this.db, sharing ? parent : undefined, this.#engine);
    if (options?.signal !== undefined || options?.timeoutMs !== undefined) {
      conn.wait = { timeoutMs: options.timeoutMs, signal: options.signal };
    }
    return conn;
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
    // Nothing to undo (no open nested savepoint; no lock held and no setting to reset): done at once.
    const idle =
      conn.parent !== undefined && holdsLock(conn.parent)
        ? conn.nestedTx.length === 0
        : !conn.holdsLock && !this.#mustReset();
    if (!idle) return this.#reset(conn);
    this.#released(conn);
    return RELEASED;
  }

  #mustReset(): boolean {
    const mode = this.#options.resetOnRelease;
    return mode === true || (mode === "auto" && this.#engine.settingsChanged);
  }

  /** What every release ends with: the lease keeps nothing, and a lock it holds goes to the next session. */
  #released(conn: PgliteConnection): void {
    conn.keepsSettings = false;
    if (conn.holdsLock) {
      // The engine's failure flag is the holder's: a lease that never held the lock (one that joined another
      // session's transaction, or ran nothing) must not clear a failure of the transaction it leaves behind.
      this.#engine.failed = false;
      conn.holdsLock = false;
      this.#lock.release();
    }
  }

  async #reset(conn: PgliteConnection): Promise<void> {
    try {
      if (conn.parent !== undefined && holdsLock(conn.parent)) {
        // Unfinished nested work on a shared lease: undo it, innermost first; the parent's transaction goes on.
        for (let name = conn.nestedTx.pop(); name !== undefined; name = conn.nestedTx.pop()) {
          await this.db.query(`ROLLBACK TO SAVEPOINT ${name}`);
          await this.db.query(`RELEASE SAVEPOINT ${name}`);
          // Rolled back to before the nested work: an abort inside it is undone too.
          this.#engine.failed = false;
        }
        return;
      }
      const mode = this.#options.resetOnRelease;
      if (!conn.holdsLock && !this.#mustReset()) return;
      if (!conn.holdsLock) await this.#lock.acquire(this.#options.acquireTimeoutMs);
      conn.holdsLock = true;
      const ok = await resetPostgresConnection(
        {
          state: conn,
          run: (sql, params) =>
            params
              ? this.db.query(sql, encodeTextParams(params, this.#options.features.jsonSerializer))
              : this.db.exec(sql),
          sessionUser: this.#options.sessionUser,
          forgetPreparedStatements: () => {},
          settingsRestored: () => {
            this.#engine.settingsChanged = false;
          },
        },
        mode,
        this.baseline,
      );
      // One connection cannot be discarded: if the reset failed, at least never leave a transaction open.
      if (!ok && this.db.isInTransaction()) await this.db.query("ROLLBACK").catch(() => undefined);
    } catch {
      // Release never rejects; the lock is freed below whatever happened.
    } finally {
      this.#released(conn);
    }
  }

  query(conn: PgliteConnection, sql: string, params: unknown[], opts: QueryOptions): Promise<RawResult> {
    try {
      refuseCopyStdio(sql);
      refuseTimeout(opts);
    } catch (err) {
      return Promise.reject(err);
    }
    if (conn.parent !== undefined && holdsLock(conn.parent)) return this.#sharedQuery(conn, sql, params, opts);
    // Hot path: no signal to honour and the lock held already or free now, taken without a microtask. Each await
    // layer here cost an async frame and promises per statement (a few KB of garbage and ~15 µs on PGlite).
    if (opts.signal === undefined && conn.wait.signal === undefined && (conn.holdsLock || this.#lock.tryAcquire())) {
      conn.holdsLock = true;
      return this.#tracked(conn, sql, this.#exec(sql, params, opts));
    }
    return this.#take(conn, opts.signal).then(() => this.#tracked(conn, sql, this.#exec(sql, params, opts)));
  }

  /** A statement on a lease that shares its parent's transaction. */
  async #sharedQuery(conn: PgliteConnection, sql: string, params: unknown[], opts: QueryOptions): Promise<RawResult> {
    if (opts.signal?.aborted) throw cancelledBeforeStart(opts.signal);
    // Inside another session's transaction: BEGIN/COMMIT/ROLLBACK become a savepoint of that transaction.
    const verb = txVerb(sql);
    if (verb === "begin") return this.#nestedBegin(conn);
    if (verb === "end") return this.#nestedEnd(conn, sql);
    return this.#tracked(conn, sql, this.#exec(sql, params, opts));
  }

  /**
   * Takes the transaction lock for a statement of `conn` (waiting for another session's transaction, within the
   * session's acquire options). A signal aborted by then stops the statement before it starts: PGlite runs a started
   * statement to completion on this thread, so that is the last moment a signal can act.
   */
  async #take(conn: PgliteConnection, signal: AbortSignal | undefined): Promise<void> {
    const taken = !conn.holdsLock;
    if (taken) {
      const { timeoutMs, signal: acquireSignal } = conn.wait;
      await this.#lock.acquire(timeoutMs ?? this.#options.acquireTimeoutMs, acquireSignal, signal);
      conn.holdsLock = true;
    }
    if (signal?.aborted) {
      // Only a lock taken for this statement goes back; one held for an open transaction or a setting stays.
      if (taken) {
        conn.holdsLock = false;
        this.#lock.release();
      }
      throw cancelledBeforeStart(signal);
    }
  }

  /**
   * Runs a statement on a lease and derives the state from the engine afterwards: a transaction left open keeps
   * the lock with this lease (however BEGIN was spelled), a transaction that ended (COMMIT, ROLLBACK, a COMMIT the
   * server turned into a rollback) frees it; an error inside a transaction marks it failed.
   */
  #tracked(conn: PgliteConnection, sql: string, pending: Promise<RawResult>): Promise<RawResult> {
    conn.running++;
    return pending.then(
      (result) => {
        this.#settle(conn, sql, result);
        return result;
      },
      (err: unknown) => {
        this.#settle(conn, sql, undefined);
        // PGlite fails in its internals once closed (a TypeError): say what happened instead.
        throw this.db.closed ? closedError(this.mapError(err)) : err;
      },
    );
  }

  /** The engine's state after a statement of `conn` (undefined `result`: it failed). */
  #settle(conn: PgliteConnection, sql: string, result: RawResult | undefined): void {
    conn.running--;
    const open = !this.db.closed && this.db.isInTransaction();
    if (result === undefined) {
      if (open) this.#engine.failed = true;
    } else {
      this.#engine.failed = false;
      if (statementChangesSettings(result.command ?? "", sql)) {
        this.#engine.settingsChanged = true;
        const holder = lockHolder(conn);
        if (holder !== undefined) holder.keepsSettings = true;
      }
    }
    if (conn.holdsLock && !open && !conn.keepsSettings && conn.running === 0) {
      conn.holdsLock = false;
      this.#lock.release();
    }
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
      jsonSerializer: this.#options.features.jsonSerializer,
      columns,
      signal: copyOptions?.signal,
    });
    if (copyOptions?.signal?.aborted) throw cancelledBeforeStart(copyOptions.signal);
    if (copyOptions?.beforeCopy) await copyOptions.beforeCopy();
    const sql = copyFromStdinSql(table, columns).replace(/ FROM STDIN$/, " FROM '/dev/blob'");
    const run = async (): Promise<RawResult> => {
      const r = await this.db.query(sql, [], { blob });
      return { rows: [], columns: [], rowsAffected: r.affectedRows ?? 0, command: "COPY" };
    };
    if (!(conn.parent !== undefined && holdsLock(conn.parent))) await this.#take(conn, copyOptions?.signal);
    return (await this.#tracked(conn, sql, run())).rowsAffected;
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
      const r = await this.db.query(text, [], { blob });
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
      const r = await this.db.query(text);
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
      await this.#take(conn, opts.signal);
    }
    return this.#tracked(conn, sql, run());
  }

  checkOptions(opts: QueryOptions): void {
    refuseTimeout(opts);
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

  /** Runs one statement; never throws synchronously (a bad parameter rejects, so #tracked still settles the state). */
  #exec(sql: string, params: unknown[], opts?: QueryOptions): Promise<RawResult> {
    if (this.db.closed) return Promise.reject(closedError(undefined));
    let pending: Promise<Results<Row>>;
    try {
      pending = this.db.query<Row>(
        sql,
        params.length ? encodeTextParams(params, this.#options.features.jsonSerializer) : params,
      );
    } catch (err) {
      return Promise.reject(err);
    }
    return pending.then((r) => this.#shape(r, opts));
  }

  #shape(r: Results<Row>, opts: QueryOptions | undefined): RawResult | Promise<RawResult> {
    const fields = r.fields;
    const columns = new Array<string>(fields.length);
    let late: [string, number][] | undefined;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i] as { name: string; dataTypeID: number };
      columns[i] = f.name;
      if (f.dataTypeID >= 10_000 && this.#types.unknown(f.dataTypeID)) {
        late ??= [];
        late.push([f.name, f.dataTypeID]);
      }
    }
    if (late !== undefined) return this.#lateTypes(r.rows, late).then(() => this.#raw(r, columns, opts));
    return this.#raw(r, columns, opts);
  }

  #raw(r: Results<Row>, columns: string[], opts: QueryOptions | undefined): RawResult {
    if (opts?.onColumnTypes !== undefined) {
      const oids = r.fields.map((f) => (f as { dataTypeID: number }).dataTypeID);
      opts.onColumnTypes(pgResultColumnTypes(oids, this.#options.features.timestamps));
    }
    const command = r.command;
    const raw: RawResult = {
      rows: r.rows,
      columns,
      rowsAffected: rowsAffectedFor(command, r.rowCount ?? r.affectedRows),
    };
    if (command !== undefined) raw.command = command;
    return raw;
  }

  /** Looks up types the parsers did not know yet (user enum/domain arrays) and converts this result's values. */
  async #lateTypes(rows: Row[], late: [string, number][]): Promise<void> {
    await this.#types.resolve(
      late.map((l) => l[1]),
      async (sql, params) => (await this.db.query<Record<string, unknown>>(sql, params)).rows,
    );
    reparse(rows, late, this.#types);
  }

  async #nestedBegin(conn: PgliteConnection): Promise<RawResult> {
    const name = `sqlspec_nested_${++this.#savepointSeq}`;
    await this.db.query(`SAVEPOINT ${name}`);
    conn.nestedTx.push(name);
    return { rows: [], columns: [], rowsAffected: 0, command: "BEGIN" };
  }

  /** COMMIT → RELEASE SAVEPOINT; ROLLBACK, or COMMIT of failed nested work → ROLLBACK TO (reported as "ROLLBACK"). */
  async #nestedEnd(conn: PgliteConnection, sql: string): Promise<RawResult> {
    const name = conn.nestedTx.pop();
    if (name === undefined) return this.#tracked(conn, sql, this.#exec(sql, []));
    const rollback = /^\s*(ROLLBACK|ABORT)/i.test(sql) || this.#engine.failed;
    if (rollback) {
      await this.db.query(`ROLLBACK TO SAVEPOINT ${name}`);
      this.#engine.failed = false;
    }
    await this.db.query(`RELEASE SAVEPOINT ${name}`);
    return { rows: [], columns: [], rowsAffected: 0, command: rollback ? "ROLLBACK" : "COMMIT" };
  }
}

/** The lease that holds the lock this lease runs under (itself, or the parent whose transaction it shares). */
function lockHolder(conn: PgliteConnection): PgliteConnection | undefined {
  if (conn.holdsLock) return conn;
  return conn.parent === undefined ? undefined : lockHolder(conn.parent);
}

function cancelledBeforeStart(signal: AbortSignal | undefined): OperationCancelledError {
  return new OperationCancelledError("PGlite statement cancelled before it started", { cause: signal?.reason });
}

/** PGlite runs a statement to completion (no timer fires meanwhile, statement_timeout included): refuse timeoutMs. */
function refuseTimeout(opts: QueryOptions): void {
  if (opts.timeoutMs === undefined) return;
  throw new UnsupportedOperationError(
    "PGlite cannot interrupt a running statement, so timeoutMs is refused (nothing was run). An AbortSignal " +
      "(signal) stops statements that have not started, including ones waiting for another session's transaction.",
  );
}

function holdsLock(conn: PgliteConnection): boolean {
  return conn.holdsLock || (conn.parent !== undefined && holdsLock(conn.parent));
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

/** The COPY statement with its STDIN/STDOUT replaced by `'/dev/blob'` (PGlite's COPY data device). */
function throughBlob(sql: string): string {
  const at = findCopyStdio(sql);
  if (at === undefined) return sql;
  return `${sql.slice(0, at.start)}'/dev/blob'${sql.slice(at.end)}`;
}

/** The PGlite instance was closed (by `close()` or by the user) while a session still held it. */
function closedError(cause: unknown): DatabaseConnectionError {
  return new DatabaseConnectionError(
    "PGlite connection error: the database was closed while the session was open; start a new session",
    cause === undefined ? undefined : { cause },
  );
}
