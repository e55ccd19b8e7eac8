import { getRenderer } from "../core/ast/render.js";
import { type BuildContext, isQueryBuilder, type QueryBuilder } from "../core/builder-protocol.js";
import { builtOperationType, getPlan, type StatementPlan } from "../core/compiler.js";
import {
  OperationCancelledError,
  ParameterError,
  QueryTimeoutError,
  SQLSpecError,
  scrubBoundValues,
  TransactionError,
  UnsupportedOperationError,
} from "../core/errors.js";
import { Explain, type ExplainFormat, type ExplainOptions, type ExplainResult } from "../core/explain.js";
import type { JsonSerializer } from "../core/json.js";
import { type ResultMetadata, SQLResult } from "../core/result.js";
import { scriptStatements } from "../core/splitter.js";
import type { StandardSchemaV1 } from "../core/standard-schema.js";
import { SQL } from "../core/statement.js";
import type { ParamsOf, RowOf, StatementArgs, ValueOf } from "../core/typed-query.js";
import { type Dialect, type OperationType, ParameterStyle, type Params, type Row } from "../core/types.js";
// A session renders builders: make sure every dialect's renderer is registered.
import "../dialects/index.js";
import type * as ArrowNs from "apache-arrow";
import { beginStatements as dialectBegin } from "../dialects/transaction.js";
import { type Adapter, type QueryOptions, type RawResult, RELEASED, type ResultColumnType } from "./adapter.js";
import {
  ArrowBatchBuilder,
  type ArrowConversionOptions,
  arrowRows,
  arrowTable,
  checkArrowOptions,
  loadArrowModule,
} from "./arrow.js";
import type { BatchStatement, BulkHost } from "./bulk-host.js";
import type { StatementConfig } from "./config.js";
import { type CopyOptions, isCopyOptions, runCopyStatement } from "./copy-statement.js";
import { DataDictionary, type DataDictionaryCache } from "./data-dictionary.js";
import { boundedSource, CallDeadline, statementTimeoutMs } from "./deadline.js";
import { explainStatement, type RunCompiled } from "./explain.js";
import { applyFilters, type StatementFilter } from "./filters.js";
import { traced } from "./instrumented-adapter.js";
import { type LoadRecordsOptions, loadRecords } from "./load-records.js";
import { executeStagedMerge, prepareMergeExecution } from "./merge-staging.js";
import { attachStatement } from "./observability.js";
import { countRows, currentProgress, type OnProgress, ProgressReporter, withProgress } from "./progress.js";
import { savepointStatement } from "./savepoints.js";
import { SchemaValidationError, validateRows } from "./schema.js";
import { insideTransaction, sessionScope, transactionOf } from "./scope.js";
import { type CompiledStatement, runStack, type StackItem, type StackOptions } from "./stack.js";
import { TransactionWork } from "./transaction-work.js";
import { type UpsertOptions, upsertRows } from "./upsert.js";

let hostOf: (session: Session<any>) => BulkHost;

/** @internal The bulk engine's view of a session (tests drive the engine through it); not on the Session type. */
export function bulkHostOf(session: Session<any>): BulkHost {
  return hostOf(session);
}

/** Anything a session executes: raw text, a `SQL` object (`sql` template, .sql file query) or a builder. */
export type Statement = string | SQL | QueryBuilder;

/** Per-call options of the session's statement methods. */
export interface ExecuteOptions {
  /** Aborting cancels the statement (OperationCancelledError); one not yet sent is never sent. */
  signal?: AbortSignal;
  /** Cancels the statement on the server after this long and raises QueryTimeoutError. */
  timeoutMs?: number;
}

/** Options of the select family: validation, filters, and the per-call options. */
export interface SelectOptions<T> extends ExecuteOptions {
  /** Standard Schema v1 (zod, valibot, arktype): every row is validated and typed. */
  schema?: StandardSchemaV1<unknown, T>;
  /** Filters applied to the statement (wrapped as a subquery for SQL text; added to a builder's own clauses). */
  filters?: readonly StatementFilter[];
}

/** Options of `session.stream`. */
export interface StreamOptions extends ExecuteOptions {
  /** Rows fetched per round trip (server-side cursor). Default 1000. */
  batchSize?: number;
  /** Rows read so far, at most every ~100 ms and when the stream ends. */
  onProgress?: OnProgress;
}

/** Options of `session.selectToArrow`: the conversion options and the per-call options. */
export interface ArrowOptions extends ExecuteOptions, ArrowConversionOptions {}

/** Options of the streaming form of `session.selectToArrow`: rows per record batch (fetched through `stream`). */
export interface ArrowStreamOptions extends ArrowOptions {
  /** Rows per record batch, also the rows fetched per round trip. A positive integer. */
  batchSize: number;
}

/** Options of `session.loadArrow`: those of `loadRecords`, except the columns, which are the Arrow schema's. */
export interface LoadArrowOptions extends ExecuteOptions {
  /** Rows sent so far, at most every ~100 ms and once at the end. */
  onProgress?: OnProgress;
}

/** Per-call options as the session passes them down (selectToArrow asks the adapter for column types). */
interface InternalOptions extends ExecuteOptions {
  onColumnTypes?: (types: readonly ResultColumnType[]) => void;
}

/** Options of `begin()` and a top-level `transaction()` (a nested one is a savepoint and takes none). */
export interface TransactionOptions {
  /** The isolation level; default the server's (read committed on PostgreSQL, repeatable read on MySQL). */
  isolationLevel?: "read uncommitted" | "read committed" | "repeatable read" | "serializable";
  /** A read-only transaction: writes in it fail. */
  readOnly?: boolean;
  /** Bounds BEGIN (a BEGIN can wait: SQLite's write lock, PGlite's one connection); not the work inside. */
  signal?: AbortSignal;
  /** Bounds BEGIN like `signal` (QueryTimeoutError); refused where statements cannot be interrupted (PGlite). */
  timeoutMs?: number;
}

/** @internal What the session needs from the config that created it. */
export interface SessionOwner {
  readonly dictionaryCache: DataDictionaryCache;
  readonly statementConfig: StatementConfig;
  readonly features: { readonly jsonSerializer: JsonSerializer };
  /** Set when observability is on (sessions then also trace transactions and bulk calls). */
  readonly observer?: object | undefined;
}

interface Prepared {
  sql: string;
  values: unknown[];
  operationType: OperationType;
  plan: StatementPlan | undefined;
  metadata?: ResultMetadata;
  /** The bulk engine's own statement (its temporary stage's DDL): no catalog the cache holds changes. */
  internal?: true;
}

const NO_OPTIONS: QueryOptions = Object.freeze({ prepare: true });
/**
 * How long a per-set executeMany runs before it lets the event loop turn (timers, aborts, other sessions). One turn
 * (setImmediate) costs microseconds, well under 1% of 10 ms, whatever a statement costs.
 */
const YIELD_AFTER_MS = 10;
/** selectWithTotal's window count column; removed from every row before the caller sees it. */
const TOTAL_COLUMN = "_sqlspec_total";

/** A session's transaction() calls until its first one (most sessions run none): shared, never added to. */
const NO_TRANSACTIONS: object[] = Object.freeze([]) as unknown as object[];
/** The Session methods that run statements and return a promise (stream() and Arrow batches are checked apart). */
const TRANSACTION_WORK = [
  "execute",
  "executeMany",
  "executeStack",
  "executeScript",
  "explain",
  "select",
  "selectOne",
  "selectOneOrNull",
  "selectValue",
  "selectValueOrNull",
  "selectWithTotal",
  "loadArrow",
  "begin",
  "commit",
  "rollback",
  "transaction",
  "savepoint",
  "releaseSavepoint",
  "rollbackToSavepoint",
  "upsert",
  "loadRecords",
] as const;

const dataOf = <T>(r: SQLResult<T>): T[] => r.data;
const oneRow = <T>(r: SQLResult<T>): T => r.one();
const oneRowOrNull = <T>(r: SQLResult<T>): T | null => r.oneOrNull();
const firstRow = <T>(rows: T[]): T => rows[0] as T;

/** An empty page means "no match" unless it was asked for past the first row (or for no rows at all). */
function pagesPastEnd(filters: readonly StatementFilter[]): boolean {
  for (const f of filters) if (f.kind === "limitOffset" && (f.offset > 0 || f.limit === 0)) return true;
  return false;
}
/** Transaction control and cursor statements: never cached as prepared statements. */
const CONTROL: QueryOptions = Object.freeze({ prepare: false });
const ISOLATION = new Set(["read uncommitted", "read committed", "repeatable read", "serializable"]);

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
  #savepointSeq = 0;
  #released = false;
  #broken: unknown;
  /** transaction() calls whose callbacks are running, innermost last (tells nested calls from concurrent ones). */
  #transactions: object[] = NO_TRANSACTIONS;
  /** A BEGIN is in flight (begin() from two tasks at once: the second is refused, not run inside the first). */
  #opening = false;
  /** The stream being read (opened and not finished or returned): a session reads one at a time. */
  #reading: ReadingStream | undefined;
  /** A nested transaction's ROLLBACK TO failed: its top-level transaction rolls back instead of committing. */
  #undoFailed: unknown;
  /**
   * Streams handed out and not yet finished: closed on release, so an abandoned iterator never holds the connection.
   * Made by the first stream (most sessions never stream).
   */
  #streams: Set<StreamHandle> | undefined;
  #host: BulkHost | undefined;
  /** upsert/loadRecords calls of this session that have not settled. */
  #bulkCalls = 0;

  static {
    hostOf = (session) => session.#bulkHost;
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
      if (isCopyOptions(params) && this.#isCopy(statement)) {
        options = { ...(params as CopyOptions), ...options };
        params = undefined;
      }
      const prepared = this.#prepareText(statement, params);
      if (prepared.operationType === "COPY") {
        const copied = await runCopyStatement(this, prepared.sql, options, this.#opts(options), (err, sql) =>
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
    return this.#run<T>(await this.#prepareBuilder(statement, params), options);
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
  async executeMany(
    statement: string | SQL,
    paramSets: readonly Params[],
    options?: ExecuteOptions,
  ): Promise<SQLResult> {
    const { text, inputStyle } = textOf(statement, this.dialect);
    const plan = getPlan(text, this.#style, this.dialect, inputStyle);
    if (plan.statementCount > 1) throw oneStatementOnly(plan.statementCount);
    const opts = this.#opts(options);
    if (options !== undefined) this.adapter.checkOptions?.(opts);
    const sets = paramSets.map((p) => plan.bind(p));
    const started = performance.now();
    if (sets.length === 0) return this.#result(plan.sql, [], plan.operationType, emptyRaw(), started);
    this.#checkParameterCount(sets[0] as unknown[]);
    if (this.adapter.checkParams !== undefined) for (const set of sets) this.adapter.checkParams(set);
    const raw = await this.#atomically(async () => {
      try {
        if (this.adapter.queryMany) return await this.adapter.queryMany(this.conn, plan.sql, sets, opts);
        return await this.#eachSet(plan.sql, sets, options);
      } catch (err) {
        throw this.#fail(err, plan.sql, sets);
      }
    });
    return this.#result(plan.sql, sets, plan.operationType, raw, started);
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
  async executeScript(script: string | SQL): Promise<SQLResult> {
    const text = typeof script === "string" ? script : script.textFor(this.dialect);
    if (this.#transactions.length !== 0) this.#sameTask("executeScript()");
    const statements = scriptStatements(text, this.dialect);
    const started = performance.now();
    let total = 0;
    try {
      for (const stmt of statements) {
        const raw = await this.adapter.query(this.conn, stmt, [], {});
        total += raw.rowsAffected;
        if (raw.command === "ROLLBACK" && isCommit(stmt)) throw rolledBackCommit();
        if (raw.command !== undefined ? CATALOG_CHANGES.has(raw.command) : isDdl(stmt, this.#style, this.dialect)) {
          this.#catalogChanged(raw.command ?? "DDL", stmt);
        }
      }
    } catch (err) {
      throw this.#fail(err, text);
    }
    const raw: RawResult = { rows: [], columns: [], rowsAffected: total };
    return this.#result<Row>(text, [], "SCRIPT", raw, started, { statements: statements.length });
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
    const run: RunCompiled = (sql, values, opts) =>
      this.#run({ sql, values, operationType: "SELECT", plan: undefined }, opts);
    if (statement instanceof Explain) {
      if (options !== undefined) return explainStatement(this, statement, paramsOrOptions as Params, options, run);
      return explainStatement(this, statement, undefined, paramsOrOptions as ExecuteOptions | undefined, run);
    }
    return explainStatement(this, statement, paramsOrOptions as Params | undefined, options, run);
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
  async selectWithTotal<T = Row>(
    statement: Statement,
    params?: Params,
    options?: SelectOptions<T>,
  ): Promise<[T[], number]> {
    const prepared = isQueryBuilder(statement)
      ? await this.#prepareBuilder(statement, params)
      : this.#prepareText(statement, params);
    const filters = options?.filters ?? [];
    if (filters.length > 0) {
      // One statement, so one round trip and one snapshot: the page with a window count of every filtered row.
      const f = applyFilters(prepared.sql, prepared.values, filters, this.#style, this.dialect, true, TOTAL_COLUMN);
      const result = await this.#run<T>(
        { sql: f.sql, values: f.values, operationType: "SELECT", plan: undefined },
        options,
      );
      const rows = result.data as Record<string, unknown>[];
      let total = 0;
      if (rows.length > 0) {
        total = Number(rows[0]?.[TOTAL_COLUMN]);
        // The helper column was added last, so deleting it restores each row's shape (a cheap map transition).
        for (const row of rows) delete row[TOTAL_COLUMN];
      } else if (pagesPastEnd(filters)) {
        // An empty page after an offset (or a zero limit) says nothing about the total: count, as before.
        total = await this.#count(this.#filtered(prepared, filters, false), options);
      }
      const data = options?.schema ? await validateRows(options.schema, result.data) : result.data;
      return [data, total];
    }
    // Without filters the statement is the user's own, its LIMIT/OFFSET inside: the page with a count of the rows
    // without them as a scalar subquery (one statement, one snapshot). Without LIMIT/OFFSET the rows are the total.
    const totalPlan = getPlan(prepared.sql, this.#style, this.dialect, this.#style).totalPlan(TOTAL_COLUMN);
    if (totalPlan === undefined) {
      const rows = await this.#run<T>(prepared, options);
      const data = options?.schema ? await validateRows(options.schema, rows.data) : rows.data;
      return [data, rows.data.length];
    }
    const result = await this.#run<T>(
      { sql: totalPlan.sql, values: totalPlan.bind(prepared.values), operationType: "SELECT", plan: totalPlan },
      options,
    );
    const page = result.data as Record<string, unknown>[];
    // An empty page says nothing about the total (its OFFSET may be past the end): count, as before.
    const total = page.length > 0 ? Number(page[0]?.[TOTAL_COLUMN]) : await this.#count(prepared, options);
    for (const row of page) delete row[TOTAL_COLUMN];
    const data = options?.schema ? await validateRows(options.schema, result.data) : result.data;
    return [data, total];
  }

  /** `SELECT count(*)` over `base` with its top-level LIMIT/OFFSET dropped. */
  async #count(base: Prepared, options: ExecuteOptions | undefined): Promise<number> {
    const countPlan = getPlan(base.sql, this.#style, this.dialect, this.#style).countPlan();
    const count: Prepared = {
      sql: countPlan.sql,
      values: countPlan.bind(base.values),
      operationType: "SELECT",
      plan: countPlan,
    };
    return Number((await this.#run(count, options)).scalar());
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
    const batchSize = options?.batchSize ?? 1000;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ParameterError(`stream() batchSize must be a positive integer, got ${String(batchSize)}`);
    }
    return this.#tracked((handle) => this.#stream<T>(statement, params, batchSize, options, handle));
  }

  /** Registers a stream's generator, so release() closes it if the caller abandons it (it unregisters when done). */
  #tracked<T>(make: (handle: StreamHandle) => AsyncGenerator<T>): AsyncGenerator<T> {
    const handle: StreamHandle = {};
    const gen = make(handle);
    handle.gen = gen as AsyncGenerator<unknown>;
    this.#streams ??= new Set();
    this.#streams.add(handle);
    return gen;
  }

  async *#stream<T>(
    statement: Statement,
    params: Params | undefined,
    batchSize: number,
    options: StreamOptions | undefined,
    handle: StreamHandle,
  ): AsyncGenerator<T> {
    handle.started = true;
    try {
      const rows = this.#streamRows<T>(statement, params, batchSize, options, handle);
      if (options?.onProgress === undefined) yield* rows;
      else yield* progressOf(rows, options.onProgress);
    } finally {
      this.#streams?.delete(handle);
    }
  }

  async *#streamRows<T>(
    statement: Statement,
    params: Params | undefined,
    batchSize: number,
    options: StreamOptions | undefined,
    handle: StreamHandle,
  ): AsyncGenerator<T> {
    for await (const batch of this.#streamBatches<T>(statement, params, batchSize, options, handle)) {
      for (const row of batch) {
        // A batch already fetched when the cursor was closed is not handed out either.
        if (handle.reading?.cut === true) throw cutStreamError();
        yield row;
      }
    }
  }

  /** Rows as the driver hands them over: one array per cursor fetch (the whole result where there is no cursor). */
  async *#streamBatches<T>(
    statement: Statement,
    params: Params | undefined,
    batchSize: number,
    options: StreamOptions | undefined,
    handle?: StreamHandle,
  ): AsyncGenerator<readonly T[]> {
    if (this.#transactions !== NO_TRANSACTIONS) transactionOf(this)?.check();
    if (this.#transactions.length !== 0) this.#sameTask("stream()");
    if (this.#reading !== undefined) {
      // A second cursor in the first one's transaction is closed by that transaction's end (pg, PGlite), and
      // postgres.js runs nothing beside an open cursor: one typed refusal everywhere, before anything is sent.
      throw new UnsupportedOperationError(
        "Another stream() of this session is still open: a session reads one stream at a time. Finish it or call " +
          "its return() (break out of its loop) first, or read the second one through another session.",
      );
    }
    const rows = this.#openBatches<T>(statement, params, batchSize, options);
    const token: ReadingStream = {
      cut: false,
      rows: rows as AsyncGenerator<unknown>,
      ownTransaction: !this.inTransaction,
    };
    this.#reading = token;
    if (handle !== undefined) handle.reading = token;
    let ended = false;
    try {
      for (;;) {
        const next = await rows.next();
        // Closed by its transaction's end or the session's release (#closeStream), not ended by its last row.
        if (token.cut) throw cutStreamError();
        if (next.done === true) {
          ended = true;
          break;
        }
        yield next.value;
      }
    } catch (err) {
      ended = true;
      throw err;
    } finally {
      // Returned early (break, return()): close the cursor, as yield* would have.
      if (!ended && !token.cut) await rows.return(undefined);
      if (this.#reading === token) this.#reading = undefined;
    }
  }

  async *#openBatches<T>(
    statement: Statement,
    params: Params | undefined,
    batchSize: number,
    options: StreamOptions | undefined,
  ): AsyncGenerator<readonly T[]> {
    const prepared = isQueryBuilder(statement)
      ? await this.#prepareBuilder(statement, params)
      : this.#prepareText(statement, params);
    this.#checkParameterCount(prepared.values);
    if (prepared.operationType === "COPY") {
      throw new UnsupportedOperationError(
        "stream() does not run COPY: use execute(copy, { sink }) for COPY … TO STDOUT, or { source } for FROM STDIN",
      );
    }
    // Some drivers start the statement only at the first fetch and check their limits once it runs: limits already
    // spent would let it run (and write) before anything notices.
    if (options?.signal?.aborted) {
      throw new OperationCancelledError("The stream was cancelled before it was sent (AbortSignal already aborted)", {
        cause: options.signal.reason,
      });
    }
    if (statementTimeoutMs(options?.timeoutMs) === 0) {
      throw new QueryTimeoutError("The stream did not start within timeoutMs=0 ms");
    }
    const cursors = this.adapter.capabilities.cursors;
    if (cursors === "native" && this.adapter.stream) {
      try {
        for await (const batch of this.adapter.stream(
          this.conn,
          prepared.sql,
          prepared.values,
          batchSize,
          this.#opts(options),
        )) {
          yield batch as T[];
        }
      } catch (err) {
        throw this.#fail(err, prepared.sql, prepared.values);
      }
      return;
    }
    if (cursors === "declare") {
      yield* this.#cursorStream<T>(prepared, batchSize, options);
      return;
    }
    yield (await this.#run<T>(prepared, options)).data;
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
    if (options !== undefined && "batchSize" in options && options.batchSize !== undefined) {
      const { batchSize } = options;
      if (!Number.isInteger(batchSize) || batchSize < 1) {
        throw new ParameterError(`selectToArrow batchSize must be a positive integer, got ${String(batchSize)}`);
      }
      if (this.#transactions !== NO_TRANSACTIONS) transactionOf(this)?.check();
      return this.#tracked((handle) => this.#arrowBatches(statement, params, options, handle));
    }
    const work = this.#transactions === NO_TRANSACTIONS ? undefined : transactionOf(this);
    return work === undefined
      ? this.#arrowTable(statement, params, options)
      : work.run(() => this.#arrowTable(statement, params, options));
  }

  /** Checks before any I/O: the adapter reports column types, the options are valid, apache-arrow is installed. */
  async #arrowSetup(options: ArrowOptions | undefined): Promise<Awaited<ReturnType<typeof loadArrowModule>>> {
    if (this.adapter.capabilities.resultColumnTypes !== true) {
      throw new UnsupportedOperationError(
        `selectToArrow needs result column types, which the ${this.adapter.databaseLabel} adapter does not report`,
      );
    }
    checkArrowOptions(options);
    return loadArrowModule("session.selectToArrow");
  }

  async #arrowTable(statement: Statement, params: Params | undefined, options: ArrowOptions | undefined) {
    const arrow = await this.#arrowSetup(options);
    let types: readonly ResultColumnType[] | undefined;
    const opts: InternalOptions = { ...options, onColumnTypes: (t) => (types = t) };
    const result = await this.#query<Row>(statement, params, opts);
    const builder = new ArrowBatchBuilder(arrow, result.columnNames, types ?? [], options, this.jsonSerializer);
    return arrowTable(arrow, builder, result.data);
  }

  async *#arrowBatches(
    statement: Statement,
    params: Params | undefined,
    options: ArrowStreamOptions,
    handle: StreamHandle,
  ): AsyncGenerator<ArrowNs.RecordBatch> {
    handle.started = true;
    try {
      const arrow = await this.#arrowSetup(options);
      let types: readonly ResultColumnType[] | undefined;
      const opts: InternalOptions & StreamOptions = { ...options, onColumnTypes: (t) => (types = t) };
      let builder: ArrowBatchBuilder | undefined;
      const size = options.batchSize;
      // Cursor fetches are batchSize rows already; a buffered result (no cursor) is cut into batchSize slices.
      for await (const rows of this.#streamBatches<Row>(statement, params, size, opts)) {
        if (rows.length === 0) continue;
        builder ??= this.#arrowBuilder(arrow, rows[0] as Row, types, options);
        for (let i = 0; i < rows.length; i += size) {
          yield builder.batch(rows.length <= size ? rows : rows.slice(i, i + size));
        }
      }
    } finally {
      this.#streams?.delete(handle);
    }
  }

  #arrowBuilder(
    arrow: Awaited<ReturnType<typeof loadArrowModule>>,
    row: Row,
    types: readonly ResultColumnType[] | undefined,
    options: ArrowOptions,
  ): ArrowBatchBuilder {
    // Stream rows are objects in field order: the column names are the first row's keys.
    return new ArrowBatchBuilder(arrow, Object.keys(row), types ?? [], options, this.jsonSerializer);
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
  async loadArrow(table: string, arrowData: ArrowNs.Table, options?: LoadArrowOptions): Promise<SQLResult> {
    const arrow = await loadArrowModule("session.loadArrow");
    const { columns, rows } = arrowRows(arrow, arrowData);
    // An async source: rows are converted batch by batch as the load reads them, never all held at once.
    const source = (async function* () {
      yield* rows;
    })();
    return this.loadRecords(
      table,
      source as unknown as AsyncIterable<Row>,
      { ...options, columns } as LoadRecordsOptions,
    );
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
    this.#sameTask("begin()");
    await this.#begin(options);
  }

  async #begin(options: TransactionOptions | undefined): Promise<void> {
    // Set before the first await: a begin() from another task while this one's BEGIN is in flight sees it.
    if (this.inTransaction || this.#opening) {
      throw new TransactionError("A transaction is already open on this session; use transaction() to nest");
    }
    this.#opening = true;
    try {
      const opts = beginOptions(options);
      for (const stmt of beginStatements(this.dialect, options)) await this.#control(stmt, opts);
    } finally {
      this.#opening = false;
    }
  }

  /**
   * Commits the open transaction. When the server rolled it back instead (a statement in it had failed, so COMMIT is
   * answered with ROLLBACK), raises TransactionError: the work is gone.
   */
  async commit(): Promise<void> {
    this.#sameTask("commit()");
    await this.#commit();
  }

  async #commit(): Promise<void> {
    const before = this.#transactionStatus();
    if (before === "idle") throw new TransactionError("commit() without an open transaction");
    const raw = await this.#control("COMMIT");
    if (before === "failed" || raw.command === "ROLLBACK") throw rolledBackCommit();
  }

  /** Rolls back the open transaction (see `begin()` for an example). */
  async rollback(): Promise<void> {
    this.#sameTask("rollback()");
    await this.#rollback();
  }

  async #rollback(): Promise<void> {
    if (this.#transactionStatus() === "idle") throw new TransactionError("rollback() without an open transaction");
    await this.#control("ROLLBACK");
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
  async transaction<T>(fn: (tx: this) => Promise<T>, options?: TransactionOptions): Promise<T> {
    this.#sameTask("transaction()");
    if (this.#reading?.ownTransaction === true && this.inTransaction) {
      // The stream's cursor runs in a transaction it began itself (pg, PGlite): a transaction() inside it would be a
      // savepoint that the stream's end rolls back with everything in it.
      throw new UnsupportedOperationError(
        "transaction() while a stream() of this session is open: finish the stream (or break out of its loop) first, " +
          "or run the transaction through another session",
      );
    }
    if (this.#transactions === NO_TRANSACTIONS) this.#transactions = [];
    const running = this.#transactions;
    const token = new TransactionWork();
    running.push(token);
    try {
      const nested = this.inTransaction;
      const body = (): Promise<T> => (nested ? this.#savepoint(fn, token) : this.#topLevel(fn, options, token));
      if (this.#owner.observer === undefined) return await body();
      return await traced(this.adapter, "transaction", { "sqlspec.transaction.savepoint": nested }, body);
    } finally {
      running.splice(running.indexOf(token), 1);
    }
  }

  /**
   * Refuses a call from another task while a transaction() callback of this session runs: it would join that
   * transaction and vanish with its rollback (or end it under its owner). Cheap when no transaction() runs.
   */
  #sameTask(what: string): void {
    const innermost = this.#transactions[this.#transactions.length - 1];
    if (innermost !== undefined && !insideTransaction(innermost)) {
      throw new TransactionError(
        `${what} called while a transaction() on this session is still running in a different task; ` +
          "concurrent tasks need a session each (nested calls belong inside the running callback)",
      );
    }
  }

  async #topLevel<T>(
    fn: (tx: this) => Promise<T>,
    options: TransactionOptions | undefined,
    token: TransactionWork,
  ): Promise<T> {
    await this.#begin(options);
    this.#undoFailed = undefined;
    const streamBefore = this.#reading;
    let value: T;
    try {
      value = await sessionScope.run({ session: this, transaction: token, outer: sessionScope.getStore() }, () =>
        fn(this),
      );
    } catch (err) {
      // What fn fired without awaiting runs (or is refused) before the ROLLBACK, and reports it rolled back.
      await token.settle(true);
      await this.#closeStream(streamBefore);
      if (!this.#released && this.inTransaction) await this.#rollback().catch(() => undefined);
      throw err;
    }
    // What fn fired without awaiting belongs to this transaction: COMMIT waits for it, and its failure is fn's.
    const waited = await token.settle(false);
    // A cursor cannot outlive its transaction (and SQLite, MySQL and postgres.js run no COMMIT beside an open one).
    await this.#closeStream(streamBefore);
    if (waited.failed) {
      if (!this.#released && this.inTransaction) await this.#rollback().catch(() => undefined);
      throw waited.error;
    }
    const undoFailed = this.#undoFailed;
    if (undoFailed !== undefined) {
      this.#undoFailed = undefined;
      if (!this.#released && this.inTransaction) await this.#rollback().catch(() => undefined);
      throw new TransactionError(
        "The transaction was rolled back: a nested transaction's work could not be undone on its own",
        { cause: undoFailed },
      );
    }
    // fn may have ended the transaction itself (commit()/rollback()).
    if (this.inTransaction) await this.#commit();
    return value;
  }

  /**
   * Closes a stream fn opened and left open when its transaction ends (not `before`, one open when it began); reading
   * it afterwards raises OperationCancelledError.
   */
  async #closeStream(before: object | undefined): Promise<void> {
    const open = this.#reading;
    if (open === undefined || open === before) return;
    await this.#cut(open);
  }

  /** Closes a stream's cursor before its end; reading the stream afterwards raises OperationCancelledError. */
  async #cut(open: ReadingStream): Promise<void> {
    open.cut = true;
    await open.rows.return(undefined).catch(() => undefined);
    // The cursor is closed: the session may read another stream (the cut one raises if read again).
    if (this.#reading === open) this.#reading = undefined;
  }

  async #savepoint<T>(fn: (tx: this) => Promise<T>, token: TransactionWork): Promise<T> {
    if (!this.adapter.capabilities.savepoints) {
      throw new TransactionError(`Nested transactions need savepoints, which ${this.adapter.databaseLabel} lacks`);
    }
    const name = `sqlspec_sp_${++this.#savepointSeq}`;
    await this.#control(`SAVEPOINT ${name}`);
    const streamBefore = this.#reading;
    let value: T;
    try {
      value = await sessionScope.run({ session: this, transaction: token, outer: sessionScope.getStore() }, () =>
        fn(this),
      );
    } catch (err) {
      await token.settle(true);
      // A cursor opened inside the savepoint cannot outlive it (ROLLBACK TO drops it on PostgreSQL; SQLite, MySQL and
      // postgres.js refuse ROLLBACK TO beside it).
      await this.#closeStream(streamBefore);
      await this.#undoSavepoint(name);
      throw err;
    }
    const waited = await token.settle(false);
    await this.#closeStream(streamBefore);
    if (waited.failed) {
      await this.#undoSavepoint(name);
      throw waited.error;
    }
    if (this.#transactionStatus() === "failed") {
      // fn caught a statement error: the inner work is undone, and so is the abort, so the outer transaction goes on.
      await this.#control(`ROLLBACK TO SAVEPOINT ${name}`);
      await this.#control(`RELEASE SAVEPOINT ${name}`);
      throw new TransactionError(
        "The nested transaction was rolled back: the transaction was aborted by an earlier error (caught inside it)",
      );
    }
    await this.#control(`RELEASE SAVEPOINT ${name}`);
    return value;
  }

  async #undoSavepoint(name: string): Promise<void> {
    if (this.#released) return;
    try {
      await this.#control(`ROLLBACK TO SAVEPOINT ${name}`);
    } catch (err) {
      // The nested work could not be undone: the whole transaction must not commit it. Rolled back now; the outer
      // transaction() then finds no transaction to commit and rejects.
      this.#undoFailed = err;
      if (this.inTransaction) await this.#rollback().catch(() => undefined);
      return;
    }
    await this.#control(`RELEASE SAVEPOINT ${name}`).catch(() => undefined);
  }

  /**
   * Creates a named savepoint in the open transaction. The name must be a plain identifier (letters, digits, `_`);
   * anything else is a ParameterError before anything is sent. Outside a transaction: TransactionError.
   */
  async savepoint(name: string): Promise<void> {
    await this.#control(savepointStatement(this, "create", name));
  }

  /** Releases a named savepoint (and those created after it), keeping their work in the transaction. */
  async releaseSavepoint(name: string): Promise<void> {
    await this.#control(savepointStatement(this, "release", name));
  }

  /** Undoes the work since the named savepoint; the savepoint stays, so it can be rolled back to again. */
  async rollbackToSavepoint(name: string): Promise<void> {
    await this.#control(savepointStatement(this, "rollback", name));
  }

  #transactionStatus(): "idle" | "active" | "failed" {
    return this.adapter.state(this.conn).transaction;
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
    const refused = this.#refused(options);
    if (refused !== undefined) return refused;
    if (!Array.isArray(rows)) {
      // The strategy (and the duplicate-key check) needs every row up front.
      return Promise.reject(
        new ParameterError(
          "upsert takes an array of rows; stream a large or async source with loadRecords (into a staging table)",
        ),
      );
    }
    const work = (): Promise<SQLResult> =>
      withProgress(
        options?.onProgress,
        () => upsertRows(this.#bulkHost, table, rows as readonly Row[], options as UpsertOptions),
        () => rows.length,
      );
    if (this.#owner.observer === undefined) return this.#bulk(work);
    return traced(
      this.adapter,
      `upsert ${table}`,
      bulkSpan("upsert", table, rows.length),
      () => this.#bulk(work),
      (r) => ({
        "sqlspec.upsert.strategy": r.metadata?.strategy as string | undefined,
      }),
    );
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
    const refused = this.#refused(options);
    if (refused !== undefined) return refused;
    const work = (): Promise<SQLResult> =>
      withProgress(
        options?.onProgress,
        // An iterable source is counted as it is read; arrays by the COPY encoder (or when done).
        () =>
          loadRecords(
            this.#bulkHost,
            table,
            (Array.isArray(rows) ? rows : counted(boundedSource(rows as AsyncIterable<R>, options))) as
              | readonly Row[]
              | AsyncIterable<Row>,
            options as LoadRecordsOptions,
          ),
        (r) => r.rowsAffected,
      );
    if (this.#owner.observer === undefined) return this.#bulk(work);
    const n = Array.isArray(rows) ? rows.length : undefined;
    const bulk = (): Promise<SQLResult> => this.#bulk(work);
    return traced(this.adapter, `loadRecords ${table}`, bulkSpan("loadRecords", table, n), bulk, (r) => ({
      "sqlspec.rows": r.rowsAffected,
    }));
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
    if (this.#streams !== undefined && this.#streams.size > 0) {
      return this.#closeStreams(this.#streams).then(() => this.release(error));
    }
    this.#released = true;
    const failure = this.#broken ?? (isBrokenError(error) ? error : undefined);
    return this.adapter.release(this.#conn, failure);
  }

  /** Abandoned iterators: return() runs their cleanup (CLOSE cursor, end the portal) while the session still holds the connection. */
  async #closeStreams(streams: Set<StreamHandle>): Promise<void> {
    const open = [...streams];
    streams.clear();
    // A stream never read is left as it is: read after the session ended, it raises OperationCancelledError (its
    // first statement finds the session released) instead of ending empty, which return() would make it do. One
    // reading a cursor has the cursor closed under it (read again, it raises); the others are returned.
    await Promise.all(
      open.map((h) => {
        if (h.reading !== undefined && !h.reading.cut) return this.#cut(h.reading);
        return h.started === true && h.reading === undefined
          ? h.gen?.return(undefined).catch(() => undefined)
          : undefined;
      }),
    );
  }

  /** `await using session = await db.provideSession()`: {@link Session.release} at scope exit. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  // ---------------------------------------------------------------- internals

  /** What the bulk engine (upsert, loadRecords, staged MERGE) may do with this session; built on first use. */
  get #bulkHost(): BulkHost {
    this.#host ??= this.#makeBulkHost();
    return this.#host;
  }

  /** The bulk engine's stage DDL: no catalog change (see BulkHost.stage), so the pool's catalog cache is kept. */
  async #stage(sql: string, options: QueryOptions | undefined): Promise<void> {
    if (options?.signal?.aborted) {
      throw new OperationCancelledError("The statement was cancelled before it was sent (AbortSignal already aborted)");
    }
    try {
      await this.adapter.query(this.conn, sql, [], { ...this.#opts(options), tempStage: true });
    } catch (err) {
      throw this.#fail(err, sql);
    }
  }

  #makeBulkHost(): BulkHost {
    const session = this;
    const adapter = this.adapter;
    return {
      dialect: this.dialect,
      capabilities: adapter.capabilities,
      bulk: adapter.bulk,
      databaseLabel: adapter.databaseLabel,
      canCopyIn: typeof adapter.copyIn === "function",
      get catalog() {
        return session.dataDictionary as DataDictionary<unknown>;
      },
      get jsonSerializer() {
        return session.jsonSerializer;
      },
      get copyThreshold() {
        return session.#owner.statementConfig.copyThreshold;
      },
      get inTransaction() {
        return session.inTransaction;
      },
      get canQuery() {
        return !session.#released && adapter.state(session.#conn).transaction !== "failed";
      },
      run: (sql, values, operationType, metadata, options) => {
        // internal: the engine's own statements change no catalog the cache holds.
        const p: Prepared = { sql, values, operationType, plan: undefined, internal: true };
        if (metadata) p.metadata = metadata;
        return this.#run(p, options);
      },
      runBatch: (statements, each, deadline) => this.#runBatch(statements, each, deadline),
      runAtomicSync: adapter.runAtomicSync === undefined ? undefined : (statements) => this.#runAtomicSync(statements),
      stage: (sql, options) => this.#stage(sql, options),
      execute: (statement, options) => this.execute(statement, undefined, options),
      transaction: (fn, options) => this.transaction(() => fn(), options as TransactionOptions | undefined),
      // Only the arguments given reach the adapter, as a direct call would pass them.
      copyIn: (...args) => (adapter.copyIn as NonNullable<Adapter<Conn>["copyIn"]>).call(adapter, this.conn, ...args),
      maxPacketBytes: () => (adapter.bulk as NonNullable<Adapter<Conn>["bulk"]>).maxPacketBytes(this.conn),
      mapError: (err, sql) => this.#fail(err, sql),
    };
  }

  /**
   * BulkHost.runAtomicSync, on an idle session only: no transaction() running (in any task), no stream open, no other
   * bulk call of this session in flight (one issued earlier and not awaited keeps its turn), not released. A failed
   * statement's error is mapped as #runBatch maps it (bound values scrubbed, the statement named).
   */
  #runAtomicSync(statements: Iterable<BatchStatement>): number | undefined {
    if (this.#released || this.#transactions.length !== 0 || this.#reading !== undefined || this.#bulkCalls !== 1) {
      return undefined;
    }
    const out = (this.adapter.runAtomicSync as NonNullable<Adapter<Conn>["runAtomicSync"]>)(this.conn, statements);
    if (typeof out === "object") throw this.#fail(out.error, out.sql, out.values);
    return out;
  }

  /** BulkHost.runBatch: #run's checks and error mapping per statement, without building a result for each. */
  async #runBatch(
    statements: Iterable<BatchStatement>,
    each: (rowsAffected: number, metadata: ResultMetadata | undefined, sql: string) => void,
    deadline: { next(): QueryOptions | undefined } | undefined,
  ): Promise<void> {
    if (this.#transactions.length !== 0) this.#sameTask("A statement");
    const max = this.adapter.capabilities.maxParameters;
    const adapter = this.adapter;
    const now = adapter.querySync;
    let yielded = performance.now();
    for (const { sql, values } of statements) {
      // An engine on this thread (SQLite, PGlite) never gives the event loop a turn between statements: without one
      // now and then, no timer or abort would run until the last statement is done (as in #eachSet).
      if (performance.now() - yielded >= YIELD_AFTER_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        yielded = performance.now();
      }
      // Raises OperationCancelledError / QueryTimeoutError between statements.
      const options = deadline?.next();
      if (values.length > max) this.#checkParameterCount(values);
      let raw: RawResult | undefined;
      try {
        const opts = options ? this.#opts(options) : NO_OPTIONS;
        if (now !== undefined) raw = now.call(adapter, this.conn, sql, values, opts);
        raw ??= await adapter.query(this.conn, sql, values, opts);
      } catch (err) {
        throw this.#fail(err, sql, values);
      }
      if (raw.command !== undefined && CATALOG_CHANGES.has(raw.command)) this.#catalogChanged(raw.command, sql);
      each(raw.rowsAffected, raw.metadata, sql);
    }
  }

  /** A statement compiled for this session's adapter (its SQL, values and operation), without running it. */
  async compile(statement: Statement, params?: Params): Promise<CompiledStatement> {
    const p = isQueryBuilder(statement)
      ? await this.#prepareBuilder(statement, params)
      : this.#prepareText(statement, params);
    return { sql: p.sql, values: p.values, operationType: p.operationType };
  }

  /**
   * executeMany without a pipeline: one statement per set. The call's signal and timeoutMs bound the whole loop
   * (checked between statements, each statement gets what is left), and the loop yields to the event loop every
   * YIELD_AFTER_MS: an embedded engine (PGlite) settles each statement in microtasks, so otherwise no timer, abort
   * or other task would run until the last set is done.
   */
  async #eachSet(sql: string, sets: unknown[][], options: ExecuteOptions | undefined): Promise<RawResult> {
    const deadline = options === undefined ? undefined : new CallDeadline(options);
    let total = 0;
    let last: RawResult | undefined;
    // Rows (RETURNING) of every set, in set order: the same on every adapter (queryMany does the same).
    const rows: Row[] = [];
    let yielded = performance.now();
    for (const values of sets) {
      const limits = deadline?.next();
      last = await this.adapter.query(this.conn, sql, values, limits ? { ...limits, prepare: true } : NO_OPTIONS);
      total += last.rowsAffected;
      // Appended in place (concat per set would copy everything so far: quadratic for a large RETURNING batch).
      for (let k = 0; k < last.rows.length; k++) rows.push(last.rows[k] as Row);
      if (performance.now() - yielded >= YIELD_AFTER_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        yielded = performance.now();
      }
    }
    return { ...(last as RawResult), rows, rowsAffected: total };
  }

  /**
   * Runs fn atomically: in its own transaction, or inside the caller's one as bulk calls do (under a savepoint; without
   * savepoints in the caller's transaction itself, which a failure aborts).
   */
  #atomically<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inTransaction) return this.#bulk(fn);
    // An atomic pipeline is one implicit transaction already: no BEGIN/COMMIT round trips outside a transaction.
    const atomic = this.adapter.capabilities.pipeline === "atomic" && this.adapter.queryMany !== undefined;
    return atomic ? fn() : this.transaction(fn);
  }

  /**
   * upsert/loadRecords inside an open transaction run under a savepoint, as executeMany does: a failure undoes only
   * their rows and the caller's transaction goes on. Called from another task while transaction() runs, they raise
   * TransactionError (transaction()'s guard) instead of joining that transaction and vanishing with its rollback.
   */
  #bulk<T>(work: () => Promise<T>): Promise<T> {
    // Counted while it runs: a repeated upsert that could run at once (#runAtomicSync) keeps to the issue order.
    this.#bulkCalls++;
    return this.#bulkRun(work).finally(() => {
      this.#bulkCalls--;
    });
  }

  #bulkRun<T>(work: () => Promise<T>): Promise<T> {
    if (this.#transactions.length === 0 && !this.inTransaction) return work();
    if (this.adapter.capabilities.savepoints) return this.transaction(work);
    // No savepoints (DuckDB): the guard alone; the work runs in the caller's transaction.
    try {
      this.#sameTask("A bulk call");
    } catch (err) {
      return Promise.reject(err);
    }
    return work();
  }

  /** The adapter's refusal of a bulk call's options (before any row is read), as a rejected promise. */
  #refused(options: ExecuteOptions | undefined): Promise<never> | undefined {
    if (options === undefined) return undefined;
    try {
      this.adapter.checkOptions?.(this.#opts(options));
      return undefined;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** More bind parameters than the adapter's protocol allows fail here, before anything is sent. */
  #checkParameterCount(values: readonly unknown[] | undefined): void {
    const max = this.adapter.capabilities.maxParameters;
    if (values !== undefined && values.length > max) {
      throw new ParameterError(
        `The statement has ${values.length} bind parameters; ${this.adapter.databaseLabel} allows at most ${max}. ` +
          "Split the work into batches, or pass rows as one JSON/array parameter (session.upsert / loadRecords).",
      );
    }
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
      return this.#prepareBuilder(statement, params).then((p) =>
        this.#run<T>(filters?.length ? this.#filtered(p, filters, true) : p, options),
      );
    }
    const prepared = this.#prepareText(statement, params);
    return this.#run<T>(filters?.length ? this.#filtered(prepared, filters, true) : prepared, options);
  }

  /** Runs a compiled statement. Not async: the adapter's promise gets one `then` (never throws; rejects instead). */
  #run<T>(p: Prepared, options: ExecuteOptions | undefined): Promise<SQLResult<T>> {
    try {
      if (this.#transactions.length !== 0) this.#sameTask("A statement");
      if (options?.signal?.aborted) {
        throw new OperationCancelledError(
          "The statement was cancelled before it was sent (AbortSignal already aborted)",
        );
      }
      if (p.values.length > this.adapter.capabilities.maxParameters) this.#checkParameterCount(p.values);
    } catch (err) {
      return Promise.reject(err);
    }
    const started = performance.now();
    let pending: Promise<RawResult>;
    try {
      pending = this.adapter.query(this.conn, p.sql, p.values, options ? this.#opts(options) : NO_OPTIONS);
    } catch (err) {
      return Promise.reject(this.#fail(err, p.sql, p.values));
    }
    return pending.then(
      (raw) => this.#ran<T>(p, raw, started),
      (err) => {
        throw this.#fail(err, p.sql, p.values);
      },
    );
  }

  #ran<T>(p: Prepared, raw: RawResult, started: number): SQLResult<T> {
    if (raw.command !== undefined ? CATALOG_CHANGES.has(raw.command) : p.operationType === "DDL" && !p.internal) {
      this.#catalogChanged(raw.command ?? "DDL", p.sql);
    } else if (raw.command === "ROLLBACK" && isCommit(p.sql)) {
      throw rolledBackCommit();
    }
    return this.#result<T>(p.sql, p.values, p.operationType, raw, started, p.metadata);
  }

  #result<T>(
    sql: string,
    parameters: readonly unknown[],
    operationType: OperationType,
    raw: RawResult,
    started: number,
    metadata?: ResultMetadata,
  ): SQLResult<T> {
    return new SQLResult<T>({
      data: raw.rows as T[],
      rowsAffected: raw.rowsAffected,
      columnNames: raw.columns,
      operationType,
      statement: sql,
      parameters,
      executionTimeMs: performance.now() - started,
      lastInsertId: raw.lastInsertId,
      metadata: raw.metadata === undefined ? metadata : { ...raw.metadata, ...metadata },
    });
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

  #opts(options: InternalOptions | undefined): QueryOptions {
    if (
      !options ||
      (options.signal === undefined && options.timeoutMs === undefined && options.onColumnTypes === undefined)
    ) {
      return NO_OPTIONS;
    }
    const timeoutMs = statementTimeoutMs(options.timeoutMs);
    const o: QueryOptions = { prepare: true };
    if (options.signal !== undefined) o.signal = options.signal;
    if (timeoutMs !== undefined) o.timeoutMs = timeoutMs;
    if (options.onColumnTypes !== undefined) o.onColumnTypes = options.onColumnTypes;
    return o;
  }

  #fail(err: unknown, sql: string, values?: readonly unknown[]): SQLSpecError {
    if (err instanceof ParameterError || OWN_ERRORS.has(err as Error)) return err as SQLSpecError;
    const mapped = err instanceof SQLSpecError && err.cause !== undefined ? err : this.adapter.mapError(err, sql);
    if (values !== undefined && values.length > 0) mapped.message = scrubBoundValues(mapped.message, values);
    if (isBrokenError(mapped)) this.#broken = mapped;
    attachStatement(mapped, sql);
    return mapped;
  }

  async #control(sql: string, opts: QueryOptions = CONTROL): Promise<RawResult> {
    try {
      return await this.adapter.query(this.conn, sql, [], opts);
    } catch (err) {
      throw this.#fail(err, sql);
    }
  }

  /** Whether the text is a COPY statement (the cached plan's operation; nothing is bound). */
  #isCopy(statement: string | SQL): boolean {
    if (typeof statement !== "string" && !(statement instanceof SQL)) return false;
    const { text, inputStyle } = textOf(statement, this.dialect);
    return getPlan(text, this.#style, this.dialect, inputStyle).operationType === "COPY";
  }

  #prepareText(statement: string | SQL, params: Params | undefined): Prepared {
    let text: string;
    let inputStyle: ParameterStyle | undefined;
    if (typeof statement === "string") {
      text = statement;
    } else if (statement instanceof SQL) {
      text = statement.textFor(this.dialect);
      inputStyle = statement.inputStyle;
      if (params === undefined) params = statement.params;
    } else {
      throw new SQLSpecError(`Cannot execute ${typeof statement}: expected a string, SQL object or query builder`);
    }
    const plan = getPlan(text, this.#style, this.dialect, inputStyle);
    if (plan.statementCount > 1) throw oneStatementOnly(plan.statementCount);
    return { sql: plan.sql, values: plan.bind(params), operationType: plan.operationType, plan };
  }

  /** Renders a builder for this session's own dialect and server (catalog types, version), then compiles it. */
  async #prepareBuilder(builder: QueryBuilder, params: Params | undefined): Promise<Prepared> {
    if (params !== undefined) {
      throw new ParameterError("A query builder carries its own parameters; pass none to execute()");
    }
    let metadata: ResultMetadata | undefined;
    if (this.adapter.capabilities.copy && builder.catalogTables) {
      const staged = await prepareMergeExecution(this.#bulkHost, builder);
      if (staged) {
        builder = staged;
        metadata = { strategy: "copy-merge" };
      }
    }
    const ctx = builder.catalogTables
      ? await this.#buildContext(builder.catalogTables())
      : this.adapter.renderNeedsServer
        ? await this.#serverContext()
        : undefined;
    const built = builder.build(this.dialect, ctx);
    // The renderer's placeholder style is a fact of the dialect's SQL text; `$n` text is read as `$n` only.
    const written = getRenderer(this.dialect).parameterStyle;
    const nativeStyle = written === ParameterStyle.NUMERIC ? written : undefined;
    if (written === this.#style && Array.isArray(built.parameters)) {
      // already in the driver's style with its values in order: a ready plan, so the text is not lexed again
      // (a multi-row INSERT of a new batch size would otherwise be compiled, and cached, once per size)
      const ready: Prepared = {
        sql: built.sql,
        values: built.parameters,
        operationType: builtOperationType(built.sql),
        plan: undefined,
      };
      if (metadata) ready.metadata = metadata;
      return ready;
    }
    const plan = getPlan(
      built.sql,
      this.#style,
      this.dialect,
      Array.isArray(built.parameters) ? nativeStyle : undefined,
    );
    const prepared: Prepared = {
      sql: plan.sql,
      values: plan.bind(built.parameters),
      operationType: plan.operationType,
      plan,
    };
    if (metadata) prepared.metadata = metadata;
    return prepared;
  }

  async #serverContext(): Promise<BuildContext> {
    const v = await this.dataDictionary.getVersion();
    return { serverVersionNum: v.versionNum, ...(v.flavor !== undefined ? { serverFlavor: v.flavor } : {}) };
  }

  async #buildContext(tables: readonly string[]): Promise<BuildContext> {
    const version = await this.dataDictionary.getVersion();
    const columnTypes = new Map<string, Map<string, string>>();
    const uniqueKeys = new Map<string, string[][]>();
    for (const table of tables) {
      const cols = await this.dataDictionary.getColumns(table);
      columnTypes.set(table, new Map(cols.map((c) => [c.name, c.type])));
      if (version.versionNum > 0 && version.versionNum < 150000) {
        uniqueKeys.set(table, await this.dataDictionary.getUniqueKeys(table));
      }
    }
    return { columnTypes, uniqueKeys, ...(version.versionNum > 0 ? { serverVersionNum: version.versionNum } : {}) };
  }

  #filtered(p: Prepared, filters: readonly StatementFilter[], pagination: boolean): Prepared {
    const f = applyFilters(p.sql, p.values, filters, this.#style, this.dialect, pagination);
    return { sql: f.sql, values: f.values, operationType: "SELECT", plan: undefined };
  }

  /** Portable PostgreSQL cursor (DECLARE/FETCH) for adapters without a native one; opens a transaction if needed. */
  async *#cursorStream<T>(
    p: Prepared,
    batchSize: number,
    options: ExecuteOptions | undefined,
  ): AsyncGenerator<readonly T[]> {
    const ownTx = !this.inTransaction;
    const cursor = `sqlspec_cur_${++this.#savepointSeq}`;
    // Cursor statements carry a unique name: never cache them as prepared statements.
    const opts: QueryOptions = { ...this.#opts(options), prepare: false };
    const step = async (sql: string, values: unknown[]): Promise<RawResult> => {
      try {
        return await this.adapter.query(this.conn, sql, values, opts);
      } catch (err) {
        throw this.#fail(err, sql, values);
      }
    };
    if (ownTx) await this.begin();
    let ok = false;
    try {
      await step(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${p.sql}`, p.values);
      const fetch = `FETCH ${Math.max(1, Math.floor(batchSize))} FROM ${cursor}`;
      for (;;) {
        const batch = await step(fetch, []);
        if (batch.rows.length > 0) yield batch.rows as T[];
        if (batch.rows.length < batchSize) break;
      }
      await step(`CLOSE ${cursor}`, []);
      ok = true;
    } finally {
      if (ownTx && !this.#released && this.inTransaction) {
        if (ok) await this.commit();
        else await this.rollback().catch(() => undefined);
      } else if (!ok && !ownTx) {
        await step(`CLOSE ${cursor}`, []).catch(() => undefined);
      }
    }
  }
}

/** Attributes of an upsert/loadRecords span. */
function bulkSpan(
  operation: string,
  table: string,
  rows: number | undefined,
): Record<string, string | number | undefined> {
  return { "db.operation.name": operation, "db.collection.name": table, "sqlspec.rows": rows };
}

/** A loadRecords source counted by the current progress reporter, when there is one. */
function counted<R>(rows: R): R {
  const reporter = currentProgress();
  return reporter === undefined ? rows : (countRows(rows as AsyncIterable<unknown>, reporter) as R);
}

/** Streamed rows reported to onProgress as they are read (and once more when the stream ends). */
async function* progressOf<T>(rows: AsyncGenerator<T>, fn: OnProgress): AsyncGenerator<T> {
  const reporter = new ProgressReporter(fn);
  try {
    for await (const row of rows) {
      reporter.add(1);
      yield row;
    }
  } finally {
    reporter.finish();
  }
}

function textOf(statement: string | SQL, dialect: Dialect): { text: string; inputStyle: ParameterStyle | undefined } {
  return typeof statement === "string"
    ? { text: statement, inputStyle: undefined }
    : { text: statement.textFor(dialect), inputStyle: statement.inputStyle };
}

/**
 * Drivers disagree on several statements in one call (one runs them and reports the last count under the first
 * statement's type, another refuses): refused the same way everywhere, before anything is sent.
 */
function oneStatementOnly(count: number): UnsupportedOperationError {
  return new UnsupportedOperationError(
    `The text holds ${count} statements; execute() and the select family run one statement per call. ` +
      "Run scripts with executeScript(), which runs each statement in turn. Nothing was run.",
  );
}

/** COMMIT (or END) as the statement's verb, after any leading comments. */
const COMMIT_VERB = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*(?:COMMIT|END)\b/i;

/** The server answered a COMMIT with ROLLBACK (command tag): the transaction had failed and its work is gone. */
function isCommit(sql: string): boolean {
  return COMMIT_VERB.test(sql);
}

/** Errors the session raised itself (already typed, never mapped again). */
const OWN_ERRORS = new WeakSet<Error>();

function rolledBackCommit(): TransactionError {
  const err = new TransactionError("The transaction was rolled back: the transaction was aborted by an earlier error");
  OWN_ERRORS.add(err);
  return err;
}

function emptyRaw(): RawResult {
  return { rows: [], columns: [], rowsAffected: 0 };
}

function beginStatements(dialect: Dialect, options: TransactionOptions | undefined): string[] {
  if (!options) return BEGIN;
  if (options.isolationLevel && !ISOLATION.has(options.isolationLevel)) {
    throw new TransactionError(`Unknown isolation level "${options.isolationLevel}"`);
  }
  if (!options.isolationLevel && !options.readOnly) return BEGIN;
  return dialectBegin(dialect, options.isolationLevel, options.readOnly);
}

const BEGIN = ["BEGIN"];

function beginOptions(options: TransactionOptions | undefined): QueryOptions {
  if (options?.signal === undefined && options?.timeoutMs === undefined) return CONTROL;
  const timeoutMs = statementTimeoutMs(options.timeoutMs);
  if (options.signal === undefined && timeoutMs === undefined) return CONTROL;
  const opts: QueryOptions = { prepare: false };
  if (options.signal !== undefined) opts.signal = options.signal;
  if (timeoutMs !== undefined) opts.timeoutMs = timeoutMs;
  return opts;
}

/** Command tags after which cached catalog columns and keys may be stale. */
const CATALOG_CHANGES = new Set(["CREATE", "ALTER", "DROP", "SET", "RESET", "DISCARD", "IMPORT"]);

/** A script statement's verb is CREATE, ALTER, DROP, … (for engines that send no command tag). */
function isDdl(statement: string, style: ParameterStyle, dialect: Dialect): boolean {
  try {
    return getPlan(statement, style, dialect, style).operationType === "DDL";
  } catch {
    return false;
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

/** A stream() or arrow generator of the session: release closes it if it was started and left open. */
interface StreamHandle {
  gen?: AsyncGenerator<unknown>;
  started?: boolean;
  /** The cursor it reads, once opened (closed at its transaction's end or the session's release: `cut`). */
  reading?: ReadingStream;
}

/** An open stream's cursor: `rows` yields its batches; `cut` once sqlspec closed it before its end. */
interface ReadingStream {
  cut: boolean;
  rows: AsyncGenerator<unknown>;
  /** Opened outside a transaction: where the cursor needs one, the stream began it and ends it. */
  ownTransaction: boolean;
}

/** Reading a stream sqlspec closed before its end: an early end must never look like the end of the data. */
function cutStreamError(): OperationCancelledError {
  return new OperationCancelledError(
    "This stream was closed before its end (its transaction ended or its session was released): read it to the end " +
      "inside the transaction and before release",
  );
}
