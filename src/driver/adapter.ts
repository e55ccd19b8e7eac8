import type { SQLSpecError } from "../core/errors.js";
import type { ResultMetadata } from "../core/result.js";
import type { Dialect, ParameterStyle, Row } from "../core/types.js";
import type { InsertUpsertSql } from "../dialects/bulk.js";

/** A pool's counts right now. */
export interface PoolStats {
  /** Open connections not in use. */
  idle: number;
  /** Connections held by sessions. */
  used: number;
  /** Acquires waiting for a connection. */
  pending: number;
}

/** What a driver returns for one statement. */
export interface RawResult {
  /** The rows, decoded by the adapter's codecs. */
  rows: Row[];
  /** Column names from the driver's field list, present even for 0 rows. */
  columns: string[];
  /** Server's count for DML (from the command tag on PostgreSQL); 0 for DDL. */
  rowsAffected: number;
  /**
   * The command tag's verb as the server sent it, e.g. "INSERT", "MERGE", "SELECT". A COMMIT the server answered
   * with "ROLLBACK" (the transaction had failed) must be reported as "ROLLBACK": the session raises on it.
   */
  command?: string;
  /** The generated key of the last inserted row, where the driver reports one (MySQL insertId, SQLite rowid). */
  lastInsertId?: number | bigint | string;
  /** Driver facts for `SQLResult.metadata`, e.g. MySQL's inserted/updated split of ON DUPLICATE KEY UPDATE. */
  metadata?: ResultMetadata;
}

/** Per-statement options an adapter receives. */
export interface QueryOptions {
  /** Aborting cancels the statement (OperationCancelledError); a statement not yet sent is never sent. */
  signal?: AbortSignal;
  /**
   * Per-call timeout. On expiry an adapter whose `capabilities.cancel` is true cancels the statement on the server
   * and raises QueryTimeoutError; it must never cancel anything but this statement (see {@link Adapter.query}).
   */
  timeoutMs?: number;
  /** Whether the statement may be cached as a named prepared statement (repeated statements). */
  prepare?: boolean;
  /**
   * The statement only creates or drops the bulk engine's own temporary stage table, which no other statement uses:
   * it changes no type a prepared statement depends on, so the adapter keeps its prepared statements (and, on
   * postgres.js, the connection) although the command is a CREATE or DROP.
   */
  tempStage?: boolean;
  /**
   * Set by `selectToArrow` on adapters whose `capabilities.resultColumnTypes` is true: called with the result's
   * column types (from the driver's field metadata) once per result, and once per batch of a native stream, before
   * the rows are returned.
   */
  onColumnTypes?: (types: readonly ResultColumnType[]) => void;
}

/**
 * What a result column holds, from the driver's field metadata (PostgreSQL type OIDs), never from the values. Each
 * kind names the JS values the adapter's codecs produce for it: `int64` values are numbers, bigints or strings per
 * `driverFeatures.int8`; `numeric` values are exact strings; `json` values are what the JSON deserializer returned
 * (or the server's text with `enableJsonCodecs: false`); `date`/`timestamp`/`timestamptz` values are Dates, or the
 * server's text with `driverFeatures.timestamps: "string"`; `other` values are the server's text.
 */
export type ResultColumnKind =
  | "bool"
  | "int16"
  | "int32"
  | "int64"
  | "float32"
  | "float64"
  | "numeric"
  | "text"
  | "json"
  | "binary"
  | "date"
  | "timestamp"
  | "timestamptz"
  | "list"
  | "other";

/** A result column's type as an adapter reports it ({@link QueryOptions.onColumnTypes}). */
export interface ResultColumnType {
  /** The logical type. */
  readonly kind: ResultColumnKind;
  /** The server's name for the type (e.g. `int4`, `_text`), for messages. */
  readonly name: string;
  /** For `list`: the element type. */
  readonly element?: ResultColumnType;
  /**
   * For `date`/`timestamp`/`timestamptz`: whether values arrive as JS Dates (millisecond precision) or as the
   * server's text (which keeps microseconds).
   */
  readonly values?: "date" | "text";
}

/** Options of {@link Adapter.copyIn}: cancellation as for a statement, and a hook that runs once rows are encoded. */
export interface CopyInOptions extends QueryOptions {
  /**
   * Runs after an in-memory source is completely encoded and before the COPY is sent (the upsert engine creates its
   * staging table here), so a value that cannot be encoded fails before any I/O.
   */
  beforeCopy?: () => Promise<void>;
}

/** A table column as the catalog describes it (`session.dataDictionary.getColumns(table)`). */
export interface ColumnInfo {
  /** Column name. */
  name: string;
  /** Type as the catalog formats it, e.g. `integer`, `numeric(10,2)`, `text[]`, `jsonb`. */
  type: string;
  /** Whether the column accepts NULL. */
  nullable: boolean;
  /** Whether the column has a default (or is generated/identity). */
  hasDefault: boolean;
}

/** A primary key or unique constraint/index of a table, as upsert matches rows by it. */
export interface UniqueIndex {
  /** Its columns, in index order. */
  columns: string[];
  /** NULL key parts are equal (PostgreSQL 15+ `NULLS NOT DISTINCT`): two rows with the same NULL parts conflict. */
  nullsNotDistinct: boolean;
  /**
   * How the index compares each column's text, parallel to `columns`, when its collation is not plain equality
   * (SQLite `NOCASE` → `"ascii-case"`, `RTRIM` → `"trailing-spaces"`; DuckDB `NOCASE` → `"case"`, `NOACCENT` →
   * `"accents"`, both → `"case-accents"`); absent when every column compares exactly.
   */
  folds?: readonly (KeyFold | undefined)[];
}

/** A text comparison an index makes that is looser than equality: upsert's in-call duplicate check follows it. */
export type KeyFold = "ascii-case" | "trailing-spaces" | "case" | "accents" | "case-accents";

/**
 * Dialect-specific catalog queries. Runs through the generic query path so it needs no driver code.
 * PostgreSQL's lives in adapters/postgres-common and is shared by the three PG adapters.
 */
export interface Introspector<Conn = unknown> {
  /** e.g. { versionNum: 150004, version: "15.4" } */
  getVersion(adapter: Adapter<Conn>, conn: Conn): Promise<ServerVersion>;
  /** The table's columns in ordinal order; `table` may be schema-qualified. */
  getColumns(adapter: Adapter<Conn>, conn: Conn, table: string): Promise<ColumnInfo[]>;
  /** Unique/primary key column sets of the table (for the MERGE → ON CONFLICT rewrite). */
  getUniqueKeys?(adapter: Adapter<Conn>, conn: Conn, table: string): Promise<string[][]>;
  /** The same keys with how each compares NULLs; where absent, getUniqueKeys' keys with NULLs distinct. */
  getUniqueIndexes?(adapter: Adapter<Conn>, conn: Conn, table: string): Promise<UniqueIndex[]>;
  /**
   * A number that changes whenever what the catalog reads does, whoever changed it (SQLite's schema cookie; a DuckDB
   * connection's settings, under which collations are probed), read without a round trip: the per-pool catalog cache
   * is dropped when it moves, so DDL run by another connection or process is seen. Where absent, only DDL run through
   * a session drops it. It may be a recent reading rather than the latest, unless `exact` asks for the latest.
   */
  schemaStamp?(conn: Conn, exact?: boolean): number;
}

/** The server's version, as `session.dataDictionary.getVersion()` reports it. */
export interface ServerVersion {
  /** Major*10000 + minor, as PostgreSQL's server_version_num (MySQL_VERSION_ID form on MySQL/MariaDB). */
  versionNum: number;
  /** The version as text, e.g. `"15.4"`, `"10.11.6-MariaDB"`. */
  version: string;
  /** Which server speaks the dialect when that changes the SQL, e.g. "mariadb" vs "mysql". */
  flavor?: string;
}

/** Bulk paths an adapter offers to `session.upsert` / `loadRecords` on INSERT-form engines (MySQL, SQLite, DuckDB). */
export interface BulkCapabilities {
  /** @internal The dialect's INSERT-form statement writers. */
  sql: InsertUpsertSql;
  /** Bound parameters per statement. */
  maxParameters: number;
  /** Largest statement packet the server accepts (max_allowed_packet), once known. */
  maxPacketBytes(conn: unknown): Promise<number>;
  /** One JSON parameter as a row source (JSON_TABLE). */
  jsonRows: boolean;
  /** Measured per engine: above `threshold` rows `session.upsert` switches from the JSON source to `source`. */
  largeBatch: {
    /** Rows above which the large-batch source is used. */
    threshold: number;
    /** The large-batch source: multi-row VALUES statements, or the engine's bulk loader. */
    source: "values" | "copy";
  };
  /** Rows per multi-row VALUES statement, measured per engine (default 3,000, MySQL's); capped by `maxParameters`. */
  valuesChunkRows?: number;
  /**
   * `copyIn` can load the target table itself: it takes rows for every column of the table in table order and fails
   * whole inside a transaction (DuckDB's Appender). `loadRecords` with such rows then skips the stage; otherwise
   * (LOAD DATA skips bad rows, a column subset) it loads a stage and copies it over with one INSERT … SELECT.
   */
  loaderIntoTarget?: boolean;
  /**
   * The engine refuses an `ON CONFLICT (cols)` target that is no unique key when it prepares the statement, before
   * any row is written (SQLite): `session.upsert` then lets it check instead of reading the table's unique keys first,
   * and says so in upsert terms when it refuses.
   */
  checksConflictTarget?: boolean;
  /**
   * Why the engine cannot store this NaN or this string with a lone surrogate faithfully (SQLite stores NaN as NULL;
   * a lone surrogate has no UTF-8 form), or undefined when it can. Asked only for those values, while the bulk paths
   * read the rows before any statement runs, so the ParameterError names the column and row.
   */
  refusedValue?: (v: number | string | Date) => string | undefined;
  /**
   * The adapter's own encoding of one bound value that is not a string, number or null (a Date as the engine's text,
   * a boolean as 0/1, an object as JSON, …), as its statement encoder would apply it; throws for a value it refuses.
   * With it the bulk VALUES path encodes such values while it reads the rows, and hands over parameter arrays the
   * adapter binds as they are; without it those arrays go through the adapter's encoder per statement.
   */
  encodeValue?: (v: unknown) => unknown;
}

/**
 * A connection's transaction status as the server last reported it: PostgreSQL's ReadyForQuery byte
 * (I → "idle", T → "active", E → "failed"), or the engine's own flag elsewhere. Never inferred from SQL text.
 */
export type TransactionStatus = "idle" | "active" | "failed";

/** What a connection carries beyond its socket. Read by the session and by the adapter's own reset on release. */
export interface ConnectionState {
  /** Transaction status after the last completed statement, from the protocol. */
  readonly transaction: TransactionStatus;
  /** Driver-level cursors/portals/streams open on the connection; while one is open the connection is busy. */
  readonly openCursors: number;
  /** Named prepared statements the adapter has cached on the connection. */
  readonly preparedStatements: number;
  /**
   * A statement changed session-level state that would leak to the next borrower (a `SET`/`RESET`, a reported
   * parameter change, …) since the connection was last reset. `SET LOCAL` does not count.
   */
  readonly settingsChanged: boolean;
}

/**
 * What the adapter's driver and engine can do. `driver/` chooses strategies from these, never from an engine name
 * or the dialect. Declare only what is implemented and tested.
 */
export interface AdapterCapabilities {
  /** `timeoutMs`/`signal` interrupt a running statement. When false the adapter rejects those options with a typed error. */
  readonly cancel: boolean;
  /** `copyIn` is implemented (COPY … FROM STDIN or the engine's equivalent). */
  readonly copy: boolean;
  /**
   * How `queryMany` sends parameter sets: "atomic" = all sets in one pipeline that the server runs as one implicit
   * transaction (no BEGIN/COMMIT needed); "pipelined" = sent before answers are read, but each set commits on its
   * own; "none" = one round trip per set (or no queryMany).
   */
  readonly pipeline: "atomic" | "pipelined" | "none";
  /**
   * How `session.stream` reads in batches: "native" = the adapter's `stream` (a driver cursor/portal);
   * "declare" = SQL `DECLARE … CURSOR` / `FETCH n` run by the session inside a transaction; "none" = buffered.
   */
  readonly cursors: "native" | "declare" | "none";
  /** SAVEPOINT / ROLLBACK TO SAVEPOINT / RELEASE SAVEPOINT work (nested `transaction()` calls). */
  readonly savepoints: boolean;
  /** DDL runs inside transactions and rolls back with them (migrations, upsert staging). */
  readonly transactionalDdl: boolean;
  /** Most bind parameters one statement may carry (65,535 on PostgreSQL); more raise ParameterError before I/O. */
  readonly maxParameters: number;
  /**
   * Every session uses one physical connection (embedded engines). Sessions interleave statement by statement, an
   * open transaction holds the connection until it ends, and a session opened inside another session's callback
   * receives that session's connection as `AcquireOptions.parent` (so it can join instead of deadlocking).
   */
  readonly sharedConnection: boolean;
  /**
   * Rows above which bulk upsert and MERGE-from-rows stage through COPY rather than one JSON parameter (measured
   * per engine). Undefined when the adapter has no COPY.
   */
  readonly bulkCopyThreshold: number | undefined;
  /**
   * A statement with values runs unnamed (parsed per execution, never cached) when `QueryOptions.prepare` is false.
   * Where it is not (MySQL's prepared statements), SQLCommenter comments only statements without values.
   */
  readonly unpreparedParameters?: boolean;
  /** `QueryOptions.onColumnTypes` is honoured by `query` and `stream` (what `session.selectToArrow` needs). */
  readonly resultColumnTypes?: boolean;
}

/**
 * A named lock the server holds for one connection and drops when that connection ends, so a killed process never
 * leaves it behind (PostgreSQL's advisory locks, MySQL's GET_LOCK). Each statement takes one parameter, the lock
 * name, and returns one row whose first column is true (or 1) when the lock was taken or released.
 */
export interface NamedLockSql {
  /** Takes the lock without waiting. */
  readonly tryAcquire: string;
  /** Releases the lock. */
  readonly release: string;
  /**
   * Run once the lock is taken (a failure is ignored): makes the server notice a holder whose process died in the
   * middle of a long statement, so the lock goes when the client does, not when that statement ends.
   */
  readonly watchHolder?: string;
}

/** Options of {@link Adapter.acquire}. */
export interface AcquireOptions<Conn = unknown> {
  /** Aborting gives up waiting for a connection (OperationCancelledError); a connection obtained later is returned. */
  signal?: AbortSignal;
  /** Waiting longer than this for a connection raises PoolTimeoutError (overrides poolConfig.acquireTimeoutMs). */
  timeoutMs?: number;
  /**
   * For `sharedConnection` adapters: the connection of the session whose callback is running in this async flow.
   * Ignored by pooled adapters.
   */
  parent?: Conn;
}

/** The statement of `runAtomicSync` that failed (its transaction rolled back) and its error as the driver raised it. */
export interface AtomicFailure {
  /** Always true: tells a failure from the rowsAffected count `runAtomicSync` returns on success. */
  readonly failed: true;
  /** The error as the driver raised it (the session maps it to a typed error). */
  readonly error: unknown;
  /** The statement that failed: `BEGIN`, one of the given statements, or `COMMIT`. */
  readonly sql: string;
  /** Its values, as given (none for BEGIN and COMMIT). */
  readonly values: readonly unknown[];
}

/**
 * The only thing a new driver implements. Everything else (select family, transactions, filters, upsert,
 * observability) is written once in driver/.
 *
 * Connection state is the adapter's and it is the truth: the adapter tracks each connection's transaction status
 * from the protocol, its open cursors, cached statements and changed settings ({@link Adapter.state}); the session
 * only reads it.
 */
export interface Adapter<Conn = unknown> {
  /** The SQL dialect builders render for on this adapter. */
  readonly dialect: Dialect;
  /** Native placeholder style, e.g. NUMERIC for PostgreSQL. */
  readonly parameterStyle: ParameterStyle;
  /** Human label used in error messages, e.g. "PostgreSQL". */
  readonly databaseLabel: string;
  /** What this driver can do; strategy code in driver/ reads only this. */
  readonly capabilities: AdapterCapabilities;
  /** Catalog queries (`session.dataDictionary`); absent where the adapter has none. */
  readonly introspector?: Introspector<Conn>;
  /** The dialect renders builders differently per server version/flavor: sessions pass both in the build context. */
  readonly renderNeedsServer?: boolean;
  /** Bulk upsert/load paths for engines whose upsert is an INSERT form (MySQL/MariaDB). */
  readonly bulk?: BulkCapabilities;
  /** A session-scoped named lock (one migration runner at a time); absent where the engine has none. */
  readonly namedLock?: NamedLockSql;

  /**
   * A connection for one session, idle (no open transaction, cursor or changed setting). Settles: honours
   * `signal` and `timeoutMs`, and raises typed errors (PoolTimeoutError, DatabaseConnectionError, …).
   */
  acquire(options?: AcquireOptions<Conn>): Promise<Conn>;
  /**
   * Returns the connection and always resets it first: closes open cursors/streams, rolls back an open or failed
   * transaction, and restores changed settings (per `poolConfig.resetOnRelease`), waiting for any cancel in
   * flight to be resolved. A connection that `error` says is broken, or that cannot be reset, is discarded and
   * never reused. Never rejects.
   */
  release(conn: Conn, error?: unknown): Promise<void>;
  /**
   * A connection for one statement outside a session (`config.execute`, `config.select`, …) that other such
   * statements may use at the same time (the driver pipelines them), or undefined when this statement needs a
   * connection of its own. Called only for one SELECT/INSERT/UPDATE/DELETE/MERGE (`sql` in the adapter's style)
   * without a signal or timeoutMs; acquire waits and timeouts as `acquire`. Each is ended by `releaseShared`.
   */
  acquireShared?(sql: string, options?: AcquireOptions<Conn>): Promise<Conn> | undefined;
  /** Ends one statement of `acquireShared`; the last one releases the connection as `release` does. Never rejects. */
  releaseShared?(conn: Conn, error?: unknown): Promise<void>;
  /** The connection's current state (cheap; no I/O). */
  state(conn: Conn): ConnectionState;
  /**
   * Cancels whatever the server is running for `conn` right now (statements still queued in the driver may be failed
   * without being sent). Resolves once the cancel is resolved, so it can no longer hit a later statement: true, or
   * false when it could not be delivered (the connection is then discarded). Release calls it for statements a
   * session left running; adapters whose `capabilities.cancel` is false leave it out (their statements are waited for).
   */
  interrupt?(conn: Conn): Promise<boolean>;
  /**
   * Runs one statement (the extended protocol where there is one, so stacked statements are rejected by the server)
   * and maps the connection's state from the reply. With `timeoutMs`/`signal`, only a statement that is still running
   * is cancelled, and the connection is not used again until that cancel is resolved. Settles on every path.
   */
  query(conn: Conn, sql: string, params: unknown[], opts: QueryOptions): Promise<RawResult>;
  /**
   * An engine that runs statements on the calling thread (SQLite): runs a bulk statement at once and returns its
   * result, or undefined, having run nothing, when it cannot now (a lock to wait for, statements queued, a failed
   * transaction, …); the bulk engine then runs it through `query`. Without a promise per statement, a 10k-row upsert
   * in 64-row statements saves ~160 promise chains. Errors are thrown as `query`
   * rejects them.
   */
  querySync?(conn: Conn, sql: string, params: unknown[], opts: QueryOptions): RawResult | undefined;
  /**
   * An engine that runs statements on the calling thread (SQLite): runs `statements` as one transaction at once
   * (BEGIN, each statement, COMMIT) and returns their total rowsAffected. Undefined, having written nothing, when it
   * cannot now: the lease is inside a transaction, has statements queued or a stream open, the write lock is held, or
   * a lock held by another connection is in the way at BEGIN or COMMIT (the caller's general path waits for it), or
   * `current`, asked once the transaction has begun (so no other connection can change the schema after it answers),
   * says what the statements were built from is out of date. A statement (BEGIN and COMMIT included) that fails
   * otherwise is rolled back and returned as an AtomicFailure naming it, so nothing of it is written. Nothing else
   * runs on the thread meanwhile, so no other task can join the transaction.
   */
  runAtomicSync?(
    conn: Conn,
    statements: Iterable<{ sql: string; values: unknown[] }>,
    current?: () => boolean,
  ): number | AtomicFailure | undefined;
  /** One statement, many parameter sets; rowsAffected is the server's total. See `capabilities.pipeline`. */
  queryMany?(conn: Conn, sql: string, paramSets: unknown[][], opts: QueryOptions): Promise<RawResult>;
  /**
   * Several statements written before any answer is read (`capabilities.pipeline`: "atomic" = one implicit
   * transaction, "pipelined" = each commits on its own unless a transaction is open). One result per statement, in
   * order. A failure rejects with a StackFailure naming the index of the statement that failed.
   */
  queryStack?(conn: Conn, statements: readonly StackStatement[], opts: QueryOptions): Promise<RawResult[]>;
  /**
   * Driver cursor (`capabilities.cursors === "native"`): yields batches of rows and counts in `openCursors` until it
   * finishes or its iterator's `return()` is called, which closes it.
   */
  stream?(conn: Conn, sql: string, params: unknown[], batchSize: number, opts: QueryOptions): AsyncIterable<Row[]>;
  /**
   * COPY table (columns) FROM STDIN; returns rows copied. A rejected COPY settles with a typed error and leaves the
   * connection out of COPY mode; `timeoutMs`/`signal` cancel it like a statement.
   */
  copyIn?(
    conn: Conn,
    table: string,
    columns: string[],
    rows: AsyncIterable<unknown[]> | Iterable<unknown[]>,
    columnTypes?: string[],
    options?: CopyInOptions,
  ): Promise<number>;
  /**
   * A `COPY … FROM STDIN` statement written by the user, fed with `data` (bytes as given: text, CSV or binary
   * format); returns the rows the server's command tag reports. A server error or a failing source settles with a
   * typed error and leaves the connection out of COPY mode (or marks it for discarding); never hangs.
   */
  copyFromStdin?(conn: Conn, sql: string, data: AsyncIterable<Uint8Array>, opts: QueryOptions): Promise<number>;
  /**
   * A `COPY … TO STDOUT` statement written by the user: each data chunk goes to `write` (awaited, so a slow consumer
   * slows the COPY); returns the rows the command tag reports. Settles like {@link Adapter.copyFromStdin}.
   */
  copyToStdout?(
    conn: Conn,
    sql: string,
    write: (chunk: Uint8Array) => void | Promise<void>,
    opts: QueryOptions,
  ): Promise<number>;
  /**
   * The object behind `conn` that lives as long as the physical connection, for adapters that hand each session a
   * new handle (observability numbers connections by it). Default: `conn` itself.
   */
  physicalConnection?(conn: Conn): object;
  /** Connections idle and in use, and acquires waiting (the pool gauges of OpenTelemetry metrics). Cheap; no I/O. */
  poolStats?(): PoolStats;
  /**
   * Raises a typed error, before any I/O, when a call's options ask for what the adapter cannot do (PGlite refuses
   * timeoutMs). Bulk calls check it first, so a refused call never reads the caller's rows.
   */
  checkOptions?(opts: QueryOptions): void;
  /**
   * Raises ParameterError, before any I/O, for a value the driver cannot bind. executeMany checks every set first, so
   * a bad set never fails the call after earlier sets were written (which, without savepoints, nothing could undo).
   */
  checkParams?(params: unknown[]): void;
  /** Converts a driver error into the typed hierarchy. Never includes parameter values in the message. */
  mapError(err: unknown, sql: string): SQLSpecError;
  /** Closes the pool and its connections; call it once no session is running. */
  close(): Promise<void>;
}

/** One compiled statement of a stack: SQL in the adapter's parameter style and its values. */
export interface StackStatement {
  /** The SQL, placeholders in the adapter's native style. */
  readonly sql: string;
  /** The values, in placeholder order. */
  readonly values: unknown[];
}

/**
 * @internal What `Adapter.release` returns when it finished at once (nothing to reset or close): the session ends
 * without waiting a turn for it. Any other promise is waited for.
 */
export const RELEASED: Promise<void> = Promise.resolve();

/** How `queryStack` reports which statement failed: its index and the driver's (or already mapped) error. */
export class StackFailure {
  constructor(
    readonly index: number,
    readonly error: unknown,
  ) {}
}
