import { isQueryBuilder } from "../core/builder-protocol.js";
import { OperationCancelledError, ParameterError, SQLSpecError, scrubBoundValues } from "../core/errors.js";
import type { Explain, ExplainFormat, ExplainOptions, ExplainResult } from "../core/explain.js";
import type { JsonSerializer } from "../core/json.js";
import type { SQLResult } from "../core/result.js";
import type { SQL } from "../core/statement.js";
import type { ParamsOf, RowOf, StatementArgs, ValueOf } from "../core/typed-query.js";
import type { Dialect, ParameterStyle, Params, Row } from "../core/types.js";
// A session renders builders: make sure every dialect's renderer is registered.
import "../dialects/index.js";
import type * as ArrowNs from "apache-arrow";
import { type Adapter, type RawResult, RELEASED } from "./adapter.js";
import type { BulkHost } from "./bulk-host.js";
import { type CopyOptions, isCopyOptions, runCopyStatement } from "./copy-statement.js";
import { DataDictionary } from "./data-dictionary.js";
import type { LoadRecordsOptions } from "./load-records.js";
import { executeStagedMerge } from "./merge-staging.js";
import { attachStatement } from "./observability.js";
import { savepointStatement } from "./savepoints.js";
import { SchemaValidationError, validateRows } from "./schema.js";
import { transactionOf } from "./scope.js";
import { loadArrowOn, selectToArrowOn } from "./session-arrow.js";
import { loadRecordsCall, makeBulkHost, runMany, upsertCall } from "./session-bulk.js";
import {
  checkParameterCount,
  control,
  internals,
  NO_OPTIONS,
  NO_TRANSACTIONS,
  newSessionState,
  OWN_ERRORS,
  type Prepared,
  provideInternals,
  queryOptions,
  type SessionState,
} from "./session-internals.js";
import type {
  ArrowOptions,
  ArrowStreamOptions,
  ExecuteOptions,
  LoadArrowOptions,
  SelectOptions,
  SessionOwner,
  Statement,
  StreamOptions,
  TransactionOptions,
} from "./session-options.js";
import {
  explainOn,
  filtered,
  isCopy,
  prepareBuilder,
  prepareText,
  ranResult,
  runScript,
  selectPageWithTotal,
} from "./session-statements.js";
import { closeStreams, openStream } from "./session-streams.js";
import {
  beginTransaction,
  commitTransaction,
  refuseOtherTask,
  rollbackTransaction,
  runTransaction,
} from "./session-transactions.js";
import { type CompiledStatement, runStack, type StackItem, type StackOptions } from "./stack.js";
import { TRANSACTION_WORK, type TransactionWork } from "./transaction-work.js";
import type { UpsertOptions } from "./upsert.js";

// Session is the façade; its methods' bodies live beside it by concern: session-statements.ts (compiling, results,
// executeScript, selectWithTotal, explain), session-transactions.ts, session-streams.ts, session-arrow.ts and
// session-bulk.ts (executeMany, the BulkHost, upsert, loadRecords). session-internals.ts is what they share.

/** @internal The bulk engine's view of a session (tests drive the engine through it); not on the Session type. */
export function bulkHostOf(session: Session<any>): BulkHost {
  return internals.bulkHost(session);
}

export type {
  ArrowOptions,
  ArrowStreamOptions,
  ExecuteOptions,
  LoadArrowOptions,
  SelectOptions,
  SessionOwner,
  Statement,
  StreamOptions,
  TransactionOptions,
} from "./session-options.js";

const dataOf = <T>(r: SQLResult<T>): T[] => r.data;
const oneRow = <T>(r: SQLResult<T>): T => r.one();
const oneRowOrNull = <T>(r: SQLResult<T>): T | null => r.oneOrNull();
const firstRow = <T>(rows: T[]): T => rows[0] as T;

/**
 * One connection, held from creation until release. Everything above the Adapter contract lives here once:
 * statement compilation, the select family, transactions and savepoints, filters, schema mapping, upsert.
 */
export class Session<Conn = unknown> implements AsyncDisposable {
  /** The adapter that runs this session's statements. */
  readonly adapter: Adapter<Conn>;
  /** The dialect builders render for in this session. */
  readonly dialect: Dialect;
  #dataDictionary: DataDictionary<Conn> | undefined;
  #owner: SessionOwner;
  #conn: Conn;
  #style: ParameterStyle;
  #released = false;
  #broken: unknown;
  /** transaction() calls whose callbacks are running, innermost last (tells nested calls from concurrent ones). */
  #transactions: object[] = NO_TRANSACTIONS;
  /** Transactions', streams' and bulk calls' state (session-internals.ts), made on first use. */
  #state: SessionState | undefined;
  #host: BulkHost | undefined;

  static {
    // What the modules implementing the methods below reach of a session (one object for every session).
    provideInternals({
      state: (s) => (s.#state ??= newSessionState()),
      stateIfAny: (s) => s.#state,
      owner: (s) => s.#owner,
      transactions: (s) => s.#transactions,
      openTransactions: (s) => {
        if (s.#transactions === NO_TRANSACTIONS) s.#transactions = [];
        return s.#transactions;
      },
      sameTask: (s, what) => refuseOtherTask(s.#transactions, what),
      fail: (s, err, sql, values) => s.#fail(err, sql, values),
      run: (s, p, options) => s.#run(p, options),
      query: (s, statement, params, options) => s.#query(statement, params, options),
      catalogChanged: (s, command, sql) => s.#catalogChanged(command, sql),
      bulkHost: (s) => s.#bulkHost,
    });
    // A call issued from a transaction() callback's flow is that transaction's work: counted until it settles, or
    // refused once the transaction is over (transaction-work.ts). One wrapper for every call that runs statements.
    const proto = Session.prototype as unknown as Record<string, (a?: unknown, b?: unknown, c?: unknown) => unknown>;
    for (const name of TRANSACTION_WORK) {
      const call = proto[name] as (this: Session, a?: unknown, b?: unknown, c?: unknown) => Promise<unknown>;
      proto[name] = function (this: Session, a?: unknown, b?: unknown, c?: unknown): Promise<unknown> {
        let work: TransactionWork | undefined;
        try {
          work = this.#transactions === NO_TRANSACTIONS ? undefined : transactionOf(this);
        } catch (err) {
          // Called without its session (a detached method): rejects, as the async method itself would, never throws.
          return Promise.reject(err);
        }
        return work === undefined ? call.call(this, a, b, c) : work.run(() => call.call(this, a, b, c));
      };
    }
  }

  /** @internal Sessions come from `config.provideSession()` / `withSession()`. */
  constructor(adapter: Adapter<Conn>, conn: Conn, owner: SessionOwner) {
    this.adapter = adapter;
    this.dialect = adapter.dialect;
    this.#conn = conn;
    this.#style = adapter.parameterStyle;
    this.#owner = owner;
  }

  /** Server version, feature checks and catalog columns, cached per pool. Created on first use (keeps the hot path lean). */
  get dataDictionary(): DataDictionary<Conn> {
    this.#dataDictionary ??= new DataDictionary<Conn>(this.adapter, () => this.conn, this.#owner.dictionaryCache);
    return this.#dataDictionary;
  }

  /** The driver connection this session holds. */
  get conn(): Conn {
    // A statement issued after the session ended (a callback that did not await it) is cancelled, as one the end
    // found waiting is.
    if (this.#released) {
      throw new OperationCancelledError("This session was released; open a new one with provideSession()");
    }
    return this.#conn;
  }

  /** Whether release() was called (the connection went back to the pool). */
  get released(): boolean {
    return this.#released;
  }

  /** The config's JSON serializer (driverFeatures.jsonSerializer or sqlspec's default). */
  get jsonSerializer(): JsonSerializer {
    return this.#owner.features.jsonSerializer;
  }

  /** Whether the connection is inside a transaction (open or failed), as the adapter read it from the protocol. */
  get inTransaction(): boolean {
    return this.adapter.state(this.#conn).transaction !== "idle";
  }

  // ---------------------------------------------------------------- execution

  /**
   * Runs one statement: SQL text with placeholders in any style (`?`, `$1`, `:name`, …), a `sql` template, a
   * builder, or a named/typed query. Resolves to the rows, the server's affected-row count and what ran.
   *
   * @example
   * const r = await session.execute("UPDATE products SET price = :price WHERE id = :id", { id: 1, price: 9.5 });
   * r.rowsAffected; // 1
   * const ins = await session.execute(sql.insertInto("products").values({ id: 2, name: "Gadget" }).returning("id"));
   * ins.one(); // { id: 2 }
   *
   * COPY written by hand (PostgreSQL adapters): `COPY … FROM STDIN` takes its data as `{ source }` (a COPY takes no
   * parameters, so the options may stand in the parameters' place); `COPY … TO STDOUT` resolves with the data as
   * `Uint8Array` chunks in `data`, or writes them to `{ sink }`. `rowsAffected` is the server's `COPY n`.
   *
   * @example
   * await session.execute("COPY items (id, name) FROM STDIN WITH (FORMAT csv)", { source: "1,a\n2,b\n" });
   * const out = await session.execute("COPY items TO STDOUT");
   * Buffer.concat(out.data as unknown as Uint8Array[]).toString(); // "1\ta\n2\tb\n"
   */
  execute<T = Row, S extends Statement = Statement>(
    statement: S,
    ...args: StatementArgs<S, ExecuteOptions & CopyOptions>
  ): Promise<SQLResult<RowOf<S, T>>>;
  async execute<T = Row>(
    statement: Statement,
    params?: Params,
    options?: ExecuteOptions & CopyOptions,
  ): Promise<SQLResult<T>> {
    if (!isQueryBuilder(statement)) {
      // A COPY takes no parameters: `execute(copy, { source })` passes its options in the parameters' place.
      if (isCopyOptions(params) && isCopy(statement, this.dialect, this.#style)) {
        options = { ...(params as CopyOptions), ...options };
        params = undefined;
      }
      const prepared = prepareText(statement, params, this.dialect, this.#style);
      if (prepared.operationType === "COPY") {
        const copied = await runCopyStatement(this, prepared.sql, options, queryOptions(options), (err, sql) =>
          this.#fail(err, sql),
        );
        if (copied !== undefined) return copied as SQLResult<T>;
      }
      return this.#run<T>(prepared, options);
    }
    if (this.adapter.capabilities.copy && statement.catalogTables && params === undefined) {
      // MERGE from many rows: COPY-staged source in a transaction (the engine decides by row count).
      const staged = await executeStagedMerge(this.#bulkHost, statement);
      if (staged) return staged as SQLResult<T>;
    }
    return this.#run<T>(await prepareBuilder(this, statement, params), options);
  }

  /**
   * One statement, many parameter sets, atomically (all or nothing); `rowsAffected` is the server's total.
   *
   * @example
   * await session.executeMany("INSERT INTO tags (id, name) VALUES (?, ?)", [[1, "a"], [2, "b"]]);
   * await session.executeMany("INSERT INTO users (id, name) VALUES (:id, :name)", users);
   */
  executeMany<S extends string | SQL = string | SQL>(
    statement: S,
    paramSets: readonly ParamsOf<S>[],
    options?: ExecuteOptions,
  ): Promise<SQLResult>;
  executeMany(statement: string | SQL, paramSets: readonly Params[], options?: ExecuteOptions): Promise<SQLResult> {
    return runMany(this, statement, paramSets, options);
  }

  /**
   * Runs several statements, one result each, in one round trip where the adapter pipelines (`capabilities.pipeline`),
   * and atomically unless `{ transaction: false }`. Each entry is a statement or `[statement, params]`. A failure is
   * a StackExecutionError whose `index` names the statement and whose `cause` is its typed error.
   */
  executeStack(statements: readonly StackItem[], options?: StackOptions): Promise<SQLResult<Row>[]> {
    return runStack(this, statements, options, (err, sql) => this.#fail(err, sql));
  }

  /**
   * Runs a multi-statement script (no parameters). Statements are split with the SQL lexer, never inside strings,
   * comments or function bodies; `metadata.statements` says how many ran.
   *
   * @example
   * await session.executeScript(`
   *   CREATE TABLE products (id integer PRIMARY KEY, name text NOT NULL);
   *   CREATE INDEX products_name ON products (name);
   * `);
   */
  executeScript(script: string | SQL): Promise<SQLResult> {
    return runScript(this, script);
  }

  /**
   * The engine's plan for a statement (its values stay bound): `EXPLAIN` on PostgreSQL, MySQL/MariaDB and DuckDB,
   * `EXPLAIN QUERY PLAN` on SQLite. `format: "json"` resolves to the parsed JSON plan (`plan`), otherwise to text
   * `lines`. An option the engine lacks raises DialectNotSupportedError before the statement is sent.
   *
   * **`analyze` runs the statement**: DML explained with `analyze` writes, unless `rollback: true`, which runs the
   * EXPLAIN in a transaction (a savepoint inside an open one) that is rolled back.
   *
   * @example
   * const { plan } = await session.explain("SELECT * FROM orders WHERE customer = ?", [42], { format: "json" });
   * const { lines } = await session.explain(sql.deleteFrom("orders").where({ id: 1 }), undefined, {
   *   analyze: true,
   *   rollback: true,
   * });
   */
  explain<F extends ExplainFormat = "text">(statement: Explain<F>, options?: ExecuteOptions): Promise<ExplainResult<F>>;
  explain<F extends ExplainFormat = "text">(
    statement: Statement,
    params?: Params,
    options?: ExplainOptions<F> & ExecuteOptions,
  ): Promise<ExplainResult<F>>;
  explain(
    statement: Statement,
    paramsOrOptions?: Params | ExecuteOptions,
    options?: ExplainOptions & ExecuteOptions,
  ): Promise<ExplainResult> {
    return explainOn(this, statement, paramsOrOptions, options);
  }

  // ---------------------------------------------------------------- select family

  /**
   * All rows. The row type comes from a typed statement (`` sql<User>`…` ``, a generated query), else from `T`;
   * `options.schema` (zod, valibot, arktype) validates and types every row; `options.filters` adds WHERE/ORDER
   * BY/LIMIT.
   *
   * @example
   * const cheap = await session.select<Product>("SELECT * FROM products WHERE price < $1", [10]);
   * const users = await session.select(sql<User>`SELECT id, name FROM users WHERE team = ${team}`);
   */
  select<T = Row, S extends Statement = Statement>(
    statement: S,
    ...args: StatementArgs<S, SelectOptions<RowOf<S, T>>>
  ): Promise<RowOf<S, T>[]>;
  select<T = Row>(statement: Statement, params?: Params, options?: SelectOptions<T>): Promise<T[]> {
    // Not async: one `then` on the statement's promise instead of an async frame and its awaits per query.
    const pending = this.#queryOrReject<T>(statement, params, options);
    const schema = options?.schema;
    return schema === undefined ? pending.then(dataOf) : pending.then((r) => validateRows(schema, r.data));
  }

  /**
   * Exactly one row: none raises NotFoundError, more than one MultipleResultsFoundError.
   *
   * @example
   * const user = await session.selectOne<User>("SELECT * FROM users WHERE id = :id", { id });
   */
  selectOne<T = Row, S extends Statement = Statement>(
    statement: S,
    ...args: StatementArgs<S, SelectOptions<RowOf<S, T>>>
  ): Promise<RowOf<S, T>>;
  selectOne<T = Row>(statement: Statement, params?: Params, options?: SelectOptions<T>): Promise<T> {
    const pending = this.#queryOrReject<T>(statement, params, options);
    const schema = options?.schema;
    if (schema === undefined) return pending.then(oneRow);
    return pending.then((r) => validateRows(schema, [r.one()])).then(firstRow);
  }

  /**
   * One row or `null`; more than one raises MultipleResultsFoundError.
   *
   * @example
   * const user = await session.selectOneOrNull<User>("SELECT * FROM users WHERE email = ?", [email]);
   * if (user === null) return notFound();
   */
  selectOneOrNull<T = Row, S extends Statement = Statement>(
    statement: S,
    ...args: StatementArgs<S, SelectOptions<RowOf<S, T>>>
  ): Promise<RowOf<S, T> | null>;
  selectOneOrNull<T = Row>(statement: Statement, params?: Params, options?: SelectOptions<T>): Promise<T | null> {
    const pending = this.#queryOrReject<T>(statement, params, options);
    const schema = options?.schema;
    if (schema === undefined) return pending.then(oneRowOrNull);
    return pending.then((r) => {
      const row = r.oneOrNull();
      return row === null ? null : validateRows(schema, [row]).then(firstRow);
    });
  }

  /**
   * The first column of exactly one row (NotFoundError when there is none).
   *
   * @example
   * const n = await session.selectValue<number>("SELECT count(*)::int FROM products");
   */
  selectValue<T = unknown, S extends Statement = Statement>(
    statement: S,
    ...args: StatementArgs<S, ExecuteOptions>
  ): Promise<ValueOf<S, T>>;
  async selectValue<T = unknown>(statement: Statement, params?: Params, options?: ExecuteOptions): Promise<T> {
    return (await this.execute(statement, params, options)).scalar<T>();
  }

  /**
   * The first column of one row, or `null` when there is no row.
   *
   * @example
   * const name = await session.selectValueOrNull<string>("SELECT name FROM products WHERE id = ?", [id]);
   */
  selectValueOrNull<T = unknown, S extends Statement = Statement>(
    statement: S,
    ...args: StatementArgs<S, ExecuteOptions>
  ): Promise<ValueOf<S, T> | null>;
  async selectValueOrNull<T = unknown>(
    statement: Statement,
    params?: Params,
    options?: ExecuteOptions,
  ): Promise<T | null> {
    return (await this.execute(statement, params, options)).scalarOrNull<T>();
  }

  /**
   * A page of rows and the total without the top-level LIMIT/OFFSET/FETCH (and without pagination filters).
   *
   * @example
   * const [page, total] = await session.selectWithTotal<Product>("SELECT * FROM products ORDER BY id", undefined, {
   *   filters: [new LimitOffsetFilter(20, 40)],
   * });
   */
  selectWithTotal<T = Row, S extends Statement = Statement>(
    statement: S,
    ...args: StatementArgs<S, SelectOptions<RowOf<S, T>>>
  ): Promise<[RowOf<S, T>[], number]>;
  selectWithTotal<T = Row>(statement: Statement, params?: Params, options?: SelectOptions<T>): Promise<[T[], number]> {
    return selectPageWithTotal(this, statement, params, options);
  }

  /**
   * Rows as an async iterable, fetched in batches through a server-side cursor where the driver has one. An iterator
   * abandoned without `return()` is closed when the session is released.
   *
   * @example
   * for await (const row of session.stream<Event>("SELECT * FROM events ORDER BY id", undefined, { batchSize: 500 })) {
   *   await handle(row);
   * }
   */
  stream<T = Row, S extends Statement = Statement>(
    statement: S,
    ...args: StatementArgs<S, StreamOptions>
  ): AsyncGenerator<RowOf<S, T>>;
  stream<T = Row>(statement: Statement, params?: Params, options?: StreamOptions): AsyncGenerator<T> {
    return openStream<T>(this, statement, params, options);
  }

  // ---------------------------------------------------------------- Apache Arrow

  /**
   * Rows as an `apache-arrow` Table (an optional peer: install it to use this). The schema comes from the result's
   * column types as the driver reports them, never from the values: int2/int4/int8 → Int16/Int32/Int64 (bigint,
   * never rounded), float4/float8, numeric → exact Utf8 text or Decimal128 (`numeric` option), bool, text → Utf8,
   * bytea → Binary, date → DateDay, timestamp/timestamptz → Timestamp (timestamptz with time zone "UTC";
   * millisecond unit when the adapter reads Dates, microsecond with `driverFeatures.timestamps: "string"`),
   * json/jsonb → Utf8, arrays → List, NULLs as nulls. With `{ batchSize }` it streams: an async iterable of
   * RecordBatches read through `stream` (no batch for an empty result). Adapters that report no column types raise
   * UnsupportedOperationError before any I/O.
   *
   * @example
   * const table = await session.selectToArrow("SELECT id, total, placed_at FROM orders WHERE day = $1", [day]);
   * table.getChild("id")?.get(0); // 1n
   * for await (const batch of session.selectToArrow("SELECT * FROM events", undefined, { batchSize: 10_000 })) {
   *   writer.write(batch);
   * }
   */
  selectToArrow(
    statement: Statement,
    params: Params | undefined,
    options: ArrowStreamOptions,
  ): AsyncGenerator<ArrowNs.RecordBatch>;
  selectToArrow(statement: Statement, params?: Params, options?: ArrowOptions): Promise<ArrowNs.Table>;
  selectToArrow(
    statement: Statement,
    params?: Params,
    options?: ArrowOptions | ArrowStreamOptions,
  ): Promise<ArrowNs.Table> | AsyncGenerator<ArrowNs.RecordBatch> {
    return selectToArrowOn(this, statement, params, options);
  }

  /**
   * Loads an `apache-arrow` Table into `table` through `loadRecords` (COPY on PostgreSQL), one column per schema
   * field, atomically: a failed load writes nothing. Int64 loads as bigint, Decimal as exact text, microsecond and
   * nanosecond timestamps keep their microseconds, lists as arrays, structs as JSON. A column type sqlspec cannot
   * load (time, interval, duration, union) raises ParameterError before any I/O.
   *
   * @example
   * const r = await session.loadArrow("events", arrowTable);
   * r.rowsAffected; // arrowTable.numRows
   */
  loadArrow(table: string, arrowData: ArrowNs.Table, options?: LoadArrowOptions): Promise<SQLResult> {
    return loadArrowOn(this, table, arrowData, options);
  }

  // ---------------------------------------------------------------- transactions

  /**
   * Opens a transaction; prefer `transaction(fn)`, which commits or rolls back for you.
   *
   * @example
   * await session.begin({ isolationLevel: "serializable" });
   * try {
   *   await session.execute("UPDATE accounts SET balance = balance - 10 WHERE id = 1");
   *   await session.commit();
   * } catch (err) {
   *   await session.rollback();
   *   throw err;
   * }
   */
  async begin(options?: TransactionOptions): Promise<void> {
    refuseOtherTask(this.#transactions, "begin()");
    await beginTransaction(this, options);
  }

  /**
   * Commits the open transaction. When the server rolled it back instead (a statement in it had failed, so COMMIT is
   * answered with ROLLBACK), raises TransactionError: the work is gone.
   */
  async commit(): Promise<void> {
    refuseOtherTask(this.#transactions, "commit()");
    await commitTransaction(this);
  }

  /** Rolls back the open transaction (see `begin()` for an example). */
  async rollback(): Promise<void> {
    refuseOtherTask(this.#transactions, "rollback()");
    await rollbackTransaction(this);
  }

  /**
   * Runs fn in a transaction: COMMIT when it resolves, ROLLBACK when it throws. Nested calls (from inside fn) use
   * SAVEPOINTs, so an inner failure rolls back only the inner work. A second call from another task while one is
   * running raises TransactionError: a session is one connection, so concurrent tasks each need their own session.
   *
   * @example
   * const orderId = await session.transaction(async (tx) => {
   *   const id = await tx.selectValue<number>("INSERT INTO orders (customer) VALUES (?) RETURNING id", [customer]);
   *   await tx.executeMany("INSERT INTO order_lines (order_id, sku) VALUES (?, ?)", skus.map((s) => [id, s]));
   *   return id;
   * });
   */
  transaction<T>(fn: (tx: this) => Promise<T>, options?: TransactionOptions): Promise<T> {
    return runTransaction(this, fn, options);
  }

  /**
   * Creates a named savepoint in the open transaction. The name must be a plain identifier (letters, digits, `_`);
   * anything else is a ParameterError before anything is sent. Outside a transaction: TransactionError.
   */
  async savepoint(name: string): Promise<void> {
    await control(this, savepointStatement(this, "create", name));
  }

  /** Releases a named savepoint (and those created after it), keeping their work in the transaction. */
  async releaseSavepoint(name: string): Promise<void> {
    await control(this, savepointStatement(this, "release", name));
  }

  /** Undoes the work since the named savepoint; the savepoint stays, so it can be rolled back to again. */
  async rollbackToSavepoint(name: string): Promise<void> {
    await control(this, savepointStatement(this, "rollback", name));
  }

  // ---------------------------------------------------------------- bulk

  /**
   * Inserts or updates rows by key (`on`, a unique key of the table), atomically, with the fastest strategy for
   * the server and the row count (`result.metadata.strategy` says which ran). `on` and `update` name columns of the
   * row type; by default every other column is updated on a match.
   *
   * @example
   * const r = await session.upsert("products", products, { on: ["id"], update: ["name", "price"] });
   * console.log(r.rowsAffected, r.metadata.strategy); // e.g. 5000 "copy-merge"
   */
  upsert<R extends object>(table: string, rows: readonly R[], options: UpsertOptions<R>): Promise<SQLResult> {
    return upsertCall(this, table, rows, options);
  }

  /**
   * Plain bulk load (COPY on PostgreSQL). `rows` are objects or value arrays (then `columns` names them), as an array
   * or an (async) iterable, so millions of rows can stream through without being held in memory.
   *
   * @example
   * await session.loadRecords("events", events);
   * await session.loadRecords("points", [[1, 2.5], [2, 3.5]], { columns: ["id", "value"] });
   */
  loadRecords<R extends object>(
    table: string,
    rows: readonly R[] | AsyncIterable<R>,
    options?: LoadRecordsOptions<R>,
  ): Promise<SQLResult> {
    return loadRecordsCall(this, table, rows, options);
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Returns the connection to the pool. Streams still open are closed first; the adapter then resets the connection
   * (rolls back an open or failed transaction, restores settings) or discards it when it broke or cannot be reset.
   * `withSession` and `await using` call it for you.
   *
   * @example
   * const session = await db.provideSession();
   * try {
   *   await session.execute("SELECT 1");
   * } finally {
   *   await session.release();
   * }
   */
  release(error?: unknown): Promise<void> {
    if (this.#released) return RELEASED;
    const streams = this.#state?.streams;
    if (streams !== undefined && streams.size > 0) {
      return closeStreams(this.#state as SessionState, streams).then(() => this.release(error));
    }
    this.#released = true;
    const failure = this.#broken ?? (isBrokenError(error) ? error : undefined);
    return this.adapter.release(this.#conn, failure);
  }

  /** `await using session = await db.provideSession()`: {@link Session.release} at scope exit. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  // ---------------------------------------------------------------- internals

  /** What the bulk engine (upsert, loadRecords, staged MERGE) may do with this session; built on first use. */
  get #bulkHost(): BulkHost {
    this.#host ??= makeBulkHost(this);
    return this.#host;
  }

  /** A statement compiled for this session's adapter (its SQL, values and operation), without running it. */
  async compile(statement: Statement, params?: Params): Promise<CompiledStatement> {
    const p = isQueryBuilder(statement)
      ? await prepareBuilder(this, statement, params)
      : prepareText(statement, params, this.dialect, this.#style);
    return { sql: p.sql, values: p.values, operationType: p.operationType };
  }

  /** #query, with a compile error (bad parameters, several statements) as a rejection, as an async method gives it. */
  #queryOrReject<T>(
    statement: Statement,
    params: Params | undefined,
    options: SelectOptions<T> | undefined,
  ): Promise<SQLResult<T>> {
    try {
      return this.#query<T>(statement, params, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** A query for the select family: compiled, with filters applied. Not async itself: one frame less per query. */
  #query<T>(
    statement: Statement,
    params: Params | undefined,
    options: SelectOptions<T> | undefined,
  ): Promise<SQLResult<T>> {
    const filters = options?.filters;
    if (isQueryBuilder(statement)) {
      return prepareBuilder(this, statement, params).then((p) =>
        this.#run<T>(filters?.length ? filtered(this, p, filters, true) : p, options),
      );
    }
    const prepared = prepareText(statement, params, this.dialect, this.#style);
    return this.#run<T>(filters?.length ? filtered(this, prepared, filters, true) : prepared, options);
  }

  /** Runs a compiled statement. Not async: the adapter's promise gets one `then` (never throws; rejects instead). */
  #run<T>(p: Prepared, options: ExecuteOptions | undefined): Promise<SQLResult<T>> {
    try {
      if (this.#transactions.length !== 0) refuseOtherTask(this.#transactions, "A statement");
      if (options?.signal?.aborted) {
        throw new OperationCancelledError(
          "The statement was cancelled before it was sent (AbortSignal already aborted)",
        );
      }
      if (p.values.length > this.adapter.capabilities.maxParameters) checkParameterCount(this.adapter, p.values);
    } catch (err) {
      return Promise.reject(err);
    }
    const started = performance.now();
    let pending: Promise<RawResult>;
    try {
      pending = this.adapter.query(this.conn, p.sql, p.values, options ? queryOptions(options) : NO_OPTIONS);
    } catch (err) {
      return Promise.reject(this.#fail(err, p.sql, p.values));
    }
    return pending.then(
      (raw) => ranResult<T>(this, p, raw, started),
      (err) => {
        throw this.#fail(err, p.sql, p.values);
      },
    );
  }

  /**
   * DDL (or a changed search_path) ran through this session: the pool's cached catalog facts may be stale. The
   * server's command tag says so where it sends one (PostgreSQL); elsewhere the statement's own verb (CREATE, ALTER,
   * DROP, …). Bulk
   * statements are typed by the server anyway; the cache only says which columns hold JSON documents or arrays.
   */
  #catalogChanged(command: string, sql: string): void {
    if (command === "SET" && !/search_path/i.test(sql)) return;
    this.#owner.dictionaryCache.invalidate();
  }

  #fail(err: unknown, sql: string, values?: readonly unknown[]): SQLSpecError {
    if (err instanceof ParameterError || OWN_ERRORS.has(err as Error)) return err as SQLSpecError;
    const mapped = err instanceof SQLSpecError && err.cause !== undefined ? err : this.adapter.mapError(err, sql);
    if (values !== undefined && values.length > 0) mapped.message = scrubBoundValues(mapped.message, values);
    if (isBrokenError(mapped)) this.#broken = mapped;
    attachStatement(mapped, sql);
    return mapped;
  }
}

/** @internal The error says the connection is gone (it is discarded on release). */
export function isBrokenError(err: unknown): boolean {
  if (!err || typeof err !== "object") return false;
  const e = err as { name?: string; sqlState?: string };
  if (e.name === "DatabaseConnectionError") return true;
  const s = e.sqlState;
  return typeof s === "string" && (s.startsWith("08") || s === "57P01" || s === "57P02" || s === "57P03");
}

export { SchemaValidationError };
