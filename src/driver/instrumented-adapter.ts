/**
 * The adapter a config with observability on hands its sessions: the real adapter with every statement (query,
 * queryMany, stream, copyIn) and every session (acquire/release) reported to the Observer — hooks, log lines, spans
 * and metrics. Everything else is forwarded as is, including methods added to the Adapter contract later.
 */
import { SQLSpecError } from "../core/errors.js";
import type { Dialect } from "../core/types.js";
import type { AcquireOptions, Adapter, QueryOptions, RawResult } from "./adapter.js";
import { forwarding } from "./forwarding.js";
import {
  attachStatement,
  getCorrelationId,
  type ObservedContext,
  type Observer,
  type QueryStartEvent,
  type StatementInfo,
} from "./observability.js";
import { errorFacts, markError, type SpanLike, traceparent } from "./otel.js";
import { summarize } from "./query-summary.js";

/** Where the pool connects (never credentials): for db.namespace, server.address and server.port. */
export interface Endpoint {
  namespace?: string | undefined;
  address?: string | undefined;
  port?: number | undefined;
}

const connectionIds = new WeakMap<object, number>();
let lastConnectionId = 0;

type Attrs = Record<string, string | number | boolean | undefined>;

export function instrumentAdapter<Conn>(
  adapter: Adapter<Conn>,
  observer: Observer,
  bindKey: string | undefined,
  endpoint: Endpoint,
): Adapter<Conn> {
  const out = forwarding(adapter);
  // Every statement goes through the observed query(): a statement run at once would have no span or event.
  // An own undefined, not a delete: the forwarding object inherits the adapter's prototype, which has the method.
  Object.defineProperty(out, "querySync", { value: undefined, enumerable: false });
  Object.defineProperty(out, "runAtomicSync", { value: undefined, enumerable: false });
  const otel = observer.otel;
  const tracing = otel?.tracer !== undefined;
  const metrics = otel?.metrics === true;
  const commenter = observer.config.sqlCommenter === true && tracing;
  const dialect: Dialect = adapter.dialect;
  const base = (): ObservedContext => ({
    adapter: adapter.databaseLabel,
    bindKey,
    correlationId: getCorrelationId(),
  });

  const physical = adapter.physicalConnection?.bind(adapter);
  const connectionId = (conn: Conn): { id: number; fresh: boolean } => {
    const key = physical !== undefined ? physical(conn) : conn;
    if (typeof key !== "object" || key === null) return { id: 0, fresh: false };
    let id = connectionIds.get(key);
    if (id !== undefined) return { id, fresh: false };
    id = ++lastConnectionId;
    connectionIds.set(key, id);
    return { id, fresh: true };
  };

  // Events are plain literals of one shape each (no spreads): a spread-built object per statement cost ~30 µs.
  const info = (conn: Conn, sql: string, parameters: readonly unknown[], batchSize: number): StatementInfo => {
    const s = summarize(sql, dialect);
    return {
      adapter: adapter.databaseLabel,
      bindKey,
      correlationId: getCorrelationId(),
      connectionId: connectionId(conn).id,
      sql,
      operation: s.operation,
      operationType: s.operationType,
      collection: s.collection,
      parameterCount: parameters.length,
      batchSize,
      parameters,
    };
  };

  const common = (i: StatementInfo): Attrs => ({
    ...serverAttributes(adapter, endpoint),
    "db.operation.name": i.operation || undefined,
    "db.collection.name": i.collection,
  });

  /** Starts a statement: hook, span (when tracing) and the SQL to send (with its SQLCommenter comment). */
  const start = (i: StatementInfo): { span: SpanLike | undefined; t0: number } => {
    if (observer.has("onQueryStart")) observer.emit("onQueryStart", startEvent(i));
    let span: SpanLike | undefined;
    if (tracing) {
      const s = summarize(i.sql, dialect);
      const attrs: Attrs = {
        ...common(i),
        "db.query.summary": s.summary || undefined,
        "db.query.text": i.sql,
        "db.operation.batch.size": i.batchSize > 1 ? i.batchSize : undefined,
        "sqlspec.correlation_id": i.correlationId,
        "sqlspec.bind_key": i.bindKey,
      };
      span = otel?.startQuery(s.summary || systemName(adapter.databaseLabel, dialect), attrs);
    }
    return { span, t0: performance.now() };
  };

  const complete = (i: StatementInfo, t0: number, span: SpanLike | undefined, rows: number, affected: number): void => {
    const durationMs = performance.now() - t0;
    if (span !== undefined) {
      span.setAttribute("db.response.returned_rows", rows);
      span.end();
    }
    if (metrics) otel?.recordDuration(durationMs / 1000, common(i));
    observer.logComplete(i, durationMs);
    if (observer.has("onQueryComplete")) {
      observer.emit("onQueryComplete", {
        adapter: i.adapter,
        bindKey: i.bindKey,
        correlationId: i.correlationId,
        connectionId: i.connectionId,
        sql: i.sql,
        operation: i.operation,
        operationType: i.operationType,
        collection: i.collection,
        parameterCount: i.parameterCount,
        batchSize: i.batchSize,
        rows,
        rowsAffected: affected,
        durationMs,
      });
    }
  };

  const failed = (i: StatementInfo, t0: number, span: SpanLike | undefined, err: unknown): SQLSpecError => {
    const durationMs = performance.now() - t0;
    const error = err instanceof SQLSpecError ? err : adapter.mapError(err, i.sql);
    attachStatement(error, i.sql);
    const { type, code } = errorFacts(error);
    if (span !== undefined) {
      markError(span, type, observer.errorText(error, i), code);
      span.end();
    }
    if (metrics) {
      otel?.recordDuration(durationMs / 1000, { ...common(i), "error.type": type, "db.response.status_code": code });
    }
    observer.logError(i, error, durationMs);
    if (observer.has("onError")) observer.emit("onError", { ...startEvent(i), error, durationMs });
    return error;
  };

  /** SQLCommenter: the statement's own span as traceparent; commented statements never become named statements. */
  const unprepared = adapter.capabilities.unpreparedParameters === true;
  const commented = (
    sql: string,
    opts: QueryOptions,
    span: SpanLike | undefined,
    hasValues: boolean,
  ): [string, QueryOptions] => {
    if (!commenter || span === undefined || (hasValues && !unprepared)) return [sql, opts];
    const tp = traceparent(span);
    if (tp === undefined) return [sql, opts];
    return [appendComment(sql, `traceparent='${tp}'`), { ...opts, prepare: false }];
  };

  out.query = async (conn, sql, params, opts) => {
    const i = info(conn, sql, params, 1);
    const { span, t0 } = start(i);
    const [text, o] = commented(sql, opts, span, params.length > 0);
    let raw: RawResult;
    try {
      raw = await adapter.query(conn, text, params, o);
    } catch (err) {
      throw failed(i, t0, span, err);
    }
    complete(i, t0, span, raw.rows.length, raw.rowsAffected);
    return raw;
  };

  if (adapter.queryMany) {
    const many = adapter.queryMany.bind(adapter);
    out.queryMany = async (conn, sql, paramSets, opts) => {
      const i = info(conn, sql, paramSets[0] ?? [], paramSets.length);
      const { span, t0 } = start(i);
      const [text, o] = commented(sql, opts, span, (paramSets[0]?.length ?? 0) > 0);
      let raw: RawResult;
      try {
        raw = await many(conn, text, paramSets, o);
      } catch (err) {
        // Logged with the first set (as on success; redact's index is the position within a set); every set's values
        // are scrubbed from the error message.
        throw failed({ ...i, scrubbed: paramSets.flat() }, t0, span, err);
      }
      complete(i, t0, span, raw.rows.length, raw.rowsAffected);
      return raw;
    };
  }

  if (adapter.stream) {
    const stream = adapter.stream.bind(adapter);
    out.stream = (conn, sql, params, batchSize, opts) => ({
      async *[Symbol.asyncIterator]() {
        const i = info(conn, sql, params, 1);
        const { span, t0 } = start(i);
        const [text, o] = commented(sql, opts, span, params.length > 0);
        let rows = 0;
        let done = false;
        try {
          for await (const batch of stream(conn, text, params, batchSize, o)) {
            rows += batch.length;
            yield batch;
          }
        } catch (err) {
          done = true;
          throw failed(i, t0, span, err);
        } finally {
          // Also when the consumer stopped early (return()): the statement ended with the rows read so far.
          if (!done) complete(i, t0, span, rows, 0);
        }
      },
    });
  }

  if (adapter.copyIn) {
    const copyIn = adapter.copyIn.bind(adapter);
    // Arguments after the rows are passed on as they come (the contract may grow; none may be dropped).
    out.copyIn = async (conn, table, columns, rows, ...rest) => {
      const i = info(conn, `COPY ${table} (${columns.join(", ")}) FROM STDIN`, [], 1);
      const { span, t0 } = start(i);
      let n: number;
      try {
        n = await copyIn(conn, table, columns, rows, ...rest);
      } catch (err) {
        throw failed(i, t0, span, err);
      }
      complete(i, t0, span, 0, n);
      return n;
    };
  }

  // COPY written by hand (execute with a source, or TO STDOUT): one statement, its count from the COPY tag.
  if (adapter.copyFromStdin) {
    const copyFrom = adapter.copyFromStdin.bind(adapter);
    out.copyFromStdin = async (conn, sql, data, opts) => {
      const i = info(conn, sql, [], 1);
      const { span, t0 } = start(i);
      let n: number;
      try {
        n = await copyFrom(conn, sql, data, opts);
      } catch (err) {
        throw failed(i, t0, span, err);
      }
      complete(i, t0, span, 0, n);
      return n;
    };
  }
  if (adapter.copyToStdout) {
    const copyTo = adapter.copyToStdout.bind(adapter);
    out.copyToStdout = async (conn, sql, write, opts) => {
      const i = info(conn, sql, [], 1);
      const { span, t0 } = start(i);
      let n: number;
      try {
        n = await copyTo(conn, sql, write, opts);
      } catch (err) {
        throw failed(i, t0, span, err);
      }
      complete(i, t0, span, n, 0);
      return n;
    };
  }

  out.acquire = async (options?: AcquireOptions<Conn>) => {
    const conn = await adapter.acquire(options);
    const { id, fresh } = connectionId(conn);
    if (fresh) observer.emit("onConnectionCreate", { ...base(), connectionId: id });
    observer.emit("onSessionStart", { ...base(), connectionId: id });
    return conn;
  };

  out.release = (conn, error) => {
    const id = connectionId(conn).id;
    observer.emit("onSessionEnd", { ...base(), connectionId: id });
    // The session passes an error only when the connection broke: the adapter discards it.
    if (error !== undefined) observer.emit("onConnectionDestroy", { ...base(), connectionId: id });
    return adapter.release(conn, error);
  };

  const acquireShared = adapter.acquireShared?.bind(adapter);
  const releaseShared = adapter.releaseShared?.bind(adapter);
  if (acquireShared !== undefined && releaseShared !== undefined) {
    // A one-shot statement is a session of one statement for the hooks, whichever connection it shares.
    out.acquireShared = (sql, options) =>
      acquireShared(sql, options)?.then((conn) => {
        const { id, fresh } = connectionId(conn);
        if (fresh) observer.emit("onConnectionCreate", { ...base(), connectionId: id });
        observer.emit("onSessionStart", { ...base(), connectionId: id });
        return conn;
      });
    out.releaseShared = (conn, error) => {
      const id = connectionId(conn).id;
      observer.emit("onSessionEnd", { ...base(), connectionId: id });
      if (error !== undefined) observer.emit("onConnectionDestroy", { ...base(), connectionId: id });
      return releaseShared(conn, error);
    };
  }

  if (metrics && adapter.poolStats) {
    const stats = adapter.poolStats.bind(adapter);
    otel?.observePool(out, bindKey ?? poolName(adapter.databaseLabel, endpoint), stats);
  }
  if (tracing) {
    operations.set(out, {
      observer,
      attributes: () => ({ ...serverAttributes(adapter, endpoint), "sqlspec.correlation_id": getCorrelationId() }),
    });
  }
  out.close = async () => {
    otel?.unobservePool(out);
    try {
      await adapter.close();
    } finally {
      observer.emit("onPoolClose", base());
    }
  };
  observer.emit("onPoolCreate", base());
  return out;
}

function serverAttributes(adapter: Adapter<unknown>, endpoint: Endpoint): Attrs {
  return {
    "db.system.name": systemName(adapter.databaseLabel, adapter.dialect),
    "db.namespace": endpoint.namespace,
    "server.address": endpoint.address,
    "server.port": endpoint.port,
  };
}

/** Instrumented adapters with tracing on: what their session-level operation spans need. */
const operations = new WeakMap<object, { observer: Observer; attributes: () => Attrs }>();

/**
 * Runs a session-level operation (transaction, upsert, loadRecords) in an INTERNAL span when the session's adapter
 * traces; the statements it runs, and user code in its callback, nest under it. `result` adds attributes at the end.
 */
export function traced<T>(
  adapter: object,
  name: string,
  attributes: Attrs,
  fn: () => Promise<T>,
  result?: (value: T) => Attrs,
): Promise<T> {
  const op = operations.get(adapter);
  const otel = op?.observer.otel;
  if (op === undefined || otel === undefined) return fn();
  return otel.inSpan(
    name,
    { ...op.attributes(), ...attributes },
    fn,
    result === undefined
      ? undefined
      : (span, value) => {
          for (const [k, v] of Object.entries(result(value))) if (v !== undefined) span.setAttribute(k, v);
        },
    (err) =>
      err instanceof SQLSpecError
        ? { type: err.name, message: `${err.name}${err.sqlState ? ` ${err.sqlState}` : ""}`, code: err.sqlState }
        : { type: err instanceof Error ? err.name : "Error", message: "" },
  );
}

/** The start event of a statement: its facts without the values (hooks never see bound values). */
function startEvent(i: StatementInfo): QueryStartEvent {
  return {
    adapter: i.adapter,
    bindKey: i.bindKey,
    correlationId: i.correlationId,
    connectionId: i.connectionId,
    sql: i.sql,
    operation: i.operation,
    operationType: i.operationType,
    collection: i.collection,
    parameterCount: i.parameterCount,
    batchSize: i.batchSize,
  };
}

/** `db.system.name` per the semantic conventions' well-known values. */
function systemName(label: string, dialect: Dialect): string {
  if (/mariadb/i.test(label)) return "mariadb";
  switch (dialect) {
    case "postgres":
      return "postgresql";
    case "mysql":
      return "mysql";
    case "sqlite":
      return "sqlite";
    case "duckdb":
      return "duckdb";
    case "oracle":
      return "oracle.db";
    default:
      return "other_sql";
  }
}

function poolName(label: string, e: Endpoint): string {
  const where = [e.address, e.port].filter((x) => x !== undefined).join(":");
  return [label, where, e.namespace].filter((x) => x).join(" ");
}

/** Appends a SQLCommenter comment (before a trailing semicolon). `*` followed by `/` cannot occur in a traceparent. */
export function appendComment(sql: string, comment: string): string {
  const m = /;\s*$/.exec(sql);
  return m ? `${sql.slice(0, m.index)} /*${comment}*/${sql.slice(m.index)}` : `${sql} /*${comment}*/`;
}
