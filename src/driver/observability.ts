/**
 * Observability, written once for every adapter: hooks, a logger (with `DEBUG=sqlspec`), OpenTelemetry spans and
 * metrics, SQLCommenter and correlation ids.
 *
 * Off, it costs nothing: a config without observability hands sessions its adapter as is. On, the config hands
 * sessions an instrumented adapter (see instrumented-adapter.ts) whose every statement passes through an Observer.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { SQLSpecError, scrubBoundValues } from "../core/errors.js";
import type { OperationType } from "../core/types.js";
import type { OtelRuntime } from "./otel.js";

// ---------------------------------------------------------------------------------------------- public types

/** Log levels, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** `console`, pino, winston, bunyan…: anything with these methods (each called with one string). */
export interface Logger {
  /** Statements run (one line each). */
  debug?(message: string): void;
  /** Used for a level whose method the logger lacks. */
  info?(message: string): void;
  /** Slow statements (`slowQueryMs`). */
  warn?(message: string): void;
  /** Failed statements, and a hook that threw (once per hook). */
  error?(message: string): void;
}

/** Where an event happened: the adapter, the config's bindKey and the connection. */
export interface ObservedContext {
  /** The adapter's database label, e.g. "PostgreSQL", "MariaDB". */
  readonly adapter: string;
  /** The config's bindKey, if it has one. */
  readonly bindKey: string | undefined;
  /** The id the correlation scope (`withCorrelationId`) set, if any. */
  readonly correlationId: string | undefined;
}

/** An event on one connection. */
export interface ConnectionEvent extends ObservedContext {
  /** sqlspec's number for the connection, stable for its life (in order of first use, per process). */
  readonly connectionId: number;
}

/** A statement is about to be sent. */
export interface QueryStartEvent extends ConnectionEvent {
  /** The SQL sent, with placeholders; never values. */
  readonly sql: string;
  /** The statement's verb, e.g. "SELECT", "INSERT", "BEGIN", "CREATE TABLE". */
  readonly operation: string;
  /** The statement's kind, as `SQLResult.operationType` reports it. */
  readonly operationType: OperationType;
  /** The first table the statement names, if any. */
  readonly collection: string | undefined;
  /** Values bound (per parameter set); the values themselves are never in an event. */
  readonly parameterCount: number;
  /** Parameter sets of an executeMany (1 otherwise). */
  readonly batchSize: number;
}

/** A statement succeeded. */
export interface QueryCompleteEvent extends QueryStartEvent {
  /** Rows returned to the caller. */
  readonly rows: number;
  /** The server's count of rows written (DML), rows copied (COPY). */
  readonly rowsAffected: number;
  /** Milliseconds from sending to the result. */
  readonly durationMs: number;
}

/** A statement failed. */
export interface QueryErrorEvent extends QueryStartEvent {
  /** The typed error the caller receives. */
  readonly error: SQLSpecError;
  /** Milliseconds from sending to the failure. */
  readonly durationMs: number;
}

/** A session took (`onSessionStart`) or gave back (`onSessionEnd`) its connection. */
export type SessionEvent = ConnectionEvent;
/** A config's pool was created (first use) or closed. */
export type PoolEvent = ObservedContext;

/** What a hook may return: hooks run synchronously; a returned promise is not awaited (its failure is reported). */
type HookResult = unknown;

/**
 * Callbacks for statements, sessions, connections and pools. They run synchronously in the caller's flow; a thrown
 * error or rejected promise is reported once (logger `error`, else a process warning) and never fails the statement.
 */
export interface ObservabilityHooks {
  /** Before each statement is sent. */
  onQueryStart?(event: QueryStartEvent): HookResult;
  /** After each statement that succeeded. */
  onQueryComplete?(event: QueryCompleteEvent): HookResult;
  /** After each statement that failed, with the typed error the caller receives. */
  onError?(event: QueryErrorEvent): HookResult;
  /** A session acquired its connection. */
  onSessionStart?(event: SessionEvent): HookResult;
  /** A session released its connection. */
  onSessionEnd?(event: SessionEvent): HookResult;
  /** The config's pool was created (on first use). */
  onPoolCreate?(event: PoolEvent): HookResult;
  /** The config's pool was closed. */
  onPoolClose?(event: PoolEvent): HookResult;
  /** A connection sqlspec had not seen before was handed to a session (its first use). */
  onConnectionCreate?(event: ConnectionEvent): HookResult;
  /** A connection released as broken (it is discarded, never reused). */
  onConnectionDestroy?(event: ConnectionEvent): HookResult;
}

/**
 * How parameters appear in log lines. `true` (default): `$1=<redacted>`. `false`: the values. A function: its
 * return value for each parameter (e.g. redact by position or type).
 */
export type Redact = boolean | ((value: unknown, index: number) => unknown);

/** Hooks, logging, OpenTelemetry and SQLCommenter settings (`SQLSpecOptions.observability`, or a config's own). */
export interface ObservabilityConfig extends ObservabilityHooks {
  /** `console`, a pino-like logger, or `false` for none. Default: none (or stderr when `DEBUG=sqlspec`). */
  logger?: Logger | false;
  /** Lowest level logged. Statements log at debug, slow statements at warn, failures at error. Default "debug". */
  logLevel?: LogLevel;
  /** How bound values appear in log lines; default `true` (redacted). */
  redact?: Redact;
  /** Statements at least this slow log at warn level. */
  slowQueryMs?: number;
  /**
   * OpenTelemetry spans (needs `@opentelemetry/api`): one per statement, plus transaction, upsert and loadRecords
   * spans that statements nest under. Uses the global tracer provider unless `tracerProvider` is given.
   */
  tracing?: boolean;
  /** OpenTelemetry metrics: `db.client.operation.duration` and the pool gauges. Global meter provider by default. */
  metrics?: boolean;
  /** An OpenTelemetry `TracerProvider` to use instead of the global one. */
  tracerProvider?: unknown;
  /** An OpenTelemetry `MeterProvider` to use instead of the global one. */
  meterProvider?: unknown;
  /**
   * Appends `/*traceparent='…'*\/` to each statement sent while a span is active, so server logs and
   * pg_stat_statements samples can be joined to traces. Commented statements run unnamed (parsed per execution)
   * instead of as named prepared statements: a per-trace comment would otherwise make every execution a new cache
   * entry and evict the statements that are reused. Default false.
   */
  sqlCommenter?: boolean;
}

// ---------------------------------------------------------------------------------------------- correlation ids

const correlation = new AsyncLocalStorage<string>();

/**
 * Runs fn with `id` as the correlation id: every hook event, log line and span of the statements it runs (in this
 * async flow, including concurrent branches it starts) carries it. Nested calls override it for their own callback.
 */
export function withCorrelationId<T>(id: string, fn: () => T): T {
  return correlation.run(id, fn);
}

/** The correlation id of the current async flow, if any. */
export function getCorrelationId(): string | undefined {
  return correlation.getStore();
}

// ---------------------------------------------------------------------------------------------- resolution

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const HOOK_NAMES = [
  "onQueryStart",
  "onQueryComplete",
  "onError",
  "onSessionStart",
  "onSessionEnd",
  "onPoolCreate",
  "onPoolClose",
  "onConnectionCreate",
  "onConnectionDestroy",
] as const;
type HookName = (typeof HOOK_NAMES)[number];
type HookFns = { [K in HookName]?: Array<NonNullable<ObservabilityHooks[K]>> };

/**
 * Whether `DEBUG` enables the `sqlspec` namespace, as the `debug` package reads it: comma/space separated patterns,
 * `*` wildcards, `-pattern` excludes.
 */
export function debugEnabled(value: string | undefined): boolean {
  if (!value) return false;
  let on = false;
  for (const raw of value.split(/[\s,]+/)) {
    if (!raw) continue;
    const neg = raw.startsWith("-");
    const pattern = neg ? raw.slice(1) : raw;
    const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*?")}$`);
    if (re.test("sqlspec")) {
      if (neg) return false;
      on = true;
    }
  }
  return on;
}

/** The `DEBUG=sqlspec` logger: one line per statement on stderr. */
const debugLogger: Logger = {
  debug: (m) => process.stderr.write(`sqlspec ${m}\n`),
  info: (m) => process.stderr.write(`sqlspec ${m}\n`),
  warn: (m) => process.stderr.write(`sqlspec ${m}\n`),
  error: (m) => process.stderr.write(`sqlspec ${m}\n`),
};

function envDebug(): string | undefined {
  return typeof process !== "undefined" ? process.env.DEBUG : undefined;
}

/**
 * Merges the registry's and the config's settings (the config's win; hooks of both run, the registry's first) into
 * an Observer, or undefined when nothing is on, so the config can skip instrumentation entirely.
 */
export function resolveObserver(...configs: Array<ObservabilityConfig | undefined>): Observer | undefined {
  const merged: ObservabilityConfig = {};
  const hooks: HookFns = {};
  let any = false;
  for (const c of configs) {
    if (c === undefined) continue;
    for (const name of HOOK_NAMES) {
      const fn = c[name];
      if (typeof fn === "function") {
        const list = (hooks[name] ?? []) as unknown[];
        list.push(fn);
        (hooks as Record<string, unknown[]>)[name] = list;
        any = true;
      }
    }
    for (const key of [
      "logger",
      "logLevel",
      "redact",
      "slowQueryMs",
      "tracing",
      "metrics",
      "tracerProvider",
      "meterProvider",
      "sqlCommenter",
    ] as const) {
      if (c[key] !== undefined) (merged as Record<string, unknown>)[key] = c[key];
    }
  }
  let logger = merged.logger === false ? undefined : merged.logger;
  if (logger === undefined && merged.logger !== false && debugEnabled(envDebug())) logger = debugLogger;
  if (!any && logger === undefined && !merged.tracing && !merged.metrics) return undefined;
  return new Observer(hooks, merged, logger);
}

// ---------------------------------------------------------------------------------------------- the observer

/** Statement facts the instrumented adapter hands the observer. */
export interface StatementInfo extends QueryStartEvent {
  readonly parameters: readonly unknown[];
  /** Every value to cut out of an error message when it differs from `parameters` (all sets of an executeMany). */
  readonly scrubbed?: readonly unknown[];
}

export class Observer {
  readonly #hooks: HookFns;
  readonly #logger: Logger | undefined;
  readonly #minLevel: number;
  readonly #redact: Redact;
  readonly #slowMs: number | undefined;
  /** Hooks that threw once already (each is reported once, then silenced). */
  readonly #reported = new Set<unknown>();
  readonly config: ObservabilityConfig;
  /** OpenTelemetry, once loaded (tracing/metrics on). */
  otel: OtelRuntime | undefined;

  constructor(hooks: HookFns, config: ObservabilityConfig, logger: Logger | undefined) {
    this.#hooks = hooks;
    this.config = config;
    this.#logger = logger;
    this.#minLevel = LEVELS[config.logLevel ?? "debug"] ?? LEVELS.debug;
    this.#redact = config.redact ?? true;
    this.#slowMs = config.slowQueryMs;
  }

  /** Tracing or metrics asked for: the config loads OpenTelemetry before the first statement. */
  get wantsOtel(): boolean {
    return this.config.tracing === true || this.config.metrics === true;
  }

  /** Whether any hook is registered for `name` (callers skip building the event otherwise). */
  has(name: HookName): boolean {
    return this.#hooks[name] !== undefined;
  }

  /** Calls every hook registered for `name`; one that throws (or rejects) never breaks the caller. */

  emit<K extends HookName>(name: K, event: Parameters<NonNullable<ObservabilityHooks[K]>>[0]): void {
    const fns = this.#hooks[name];
    if (fns === undefined) return;
    for (const fn of fns) {
      try {
        const r = (fn as (e: typeof event) => HookResult)(event);
        if (r !== undefined && typeof (r as Promise<void>).then === "function") {
          (r as Promise<void>).then(undefined, (err: unknown) => this.#hookFailed(name, fn, err));
        }
      } catch (err) {
        this.#hookFailed(name, fn, err);
      }
    }
  }

  #hookFailed(name: string, fn: unknown, err: unknown): void {
    if (this.#reported.has(fn)) return;
    this.#reported.add(fn);
    const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    const message = `observability hook ${name} threw (${what}); the statement was not affected. Reported once.`;
    if (this.#logger?.error) this.#log("error", message);
    else process.emitWarning(`sqlspec: ${message}`);
  }

  // ------------------------------------------------------------------------------------------ logging

  /** Logs a finished statement: debug, or warn when slow. */
  logComplete(info: StatementInfo, durationMs: number): void {
    if (this.#logger === undefined) return;
    const slow = this.#slowMs !== undefined && durationMs >= this.#slowMs;
    const level: LogLevel = slow ? "warn" : "debug";
    if (LEVELS[level] < this.#minLevel) return;
    const head = slow ? `slow query ${ms(durationMs)} (slowQueryMs=${this.#slowMs})` : `query ${ms(durationMs)}`;
    this.#log(level, `${head}: ${this.#describe(info)}`);
  }

  logError(info: StatementInfo, error: SQLSpecError, durationMs: number): void {
    if (this.#logger === undefined || LEVELS.error < this.#minLevel) return;
    this.#log("error", `query failed ${ms(durationMs)}: ${this.#describe(info)} → ${this.errorText(error, info)}`);
  }

  /**
   * The error for logs and spans: class, SQLSTATE and message, with every bound value cut out of the message unless
   * redaction is off (PostgreSQL quotes the offending input in some messages, e.g. invalid input syntax).
   */
  errorText(error: SQLSpecError, info: { parameters: readonly unknown[]; scrubbed?: readonly unknown[] }): string {
    const state = error.sqlState !== undefined ? ` ${error.sqlState}` : "";
    return `${error.name}${state}: ${this.scrub(error.message, info.scrubbed ?? info.parameters)}`;
  }

  scrub(message: string, parameters: readonly unknown[]): string {
    if (this.#redact === false || parameters.length === 0) return message;
    let out = message;
    for (const v of parameters) {
      for (const s of stringForms(v)) if (s.length > 0 && out.includes(s)) out = out.split(s).join("<redacted>");
    }
    return scrubBoundValues(out, parameters);
  }

  #describe(info: StatementInfo): string {
    let line = oneLine(info.sql);
    const p = info.parameters;
    if (p.length > 0) line += ` [${this.#params(p)}]`;
    if (info.batchSize > 1) line += ` ×${info.batchSize}`;
    const where: string[] = [];
    if (info.bindKey !== undefined) where.push(`bindKey=${info.bindKey}`);
    where.push(`conn=${info.connectionId}`);
    if (info.correlationId !== undefined) where.push(`correlationId=${info.correlationId}`);
    return `${line} (${where.join(" ")})`;
  }

  #params(values: readonly unknown[]): string {
    const redact = this.#redact;
    const parts: string[] = new Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = redact === true ? "<redacted>" : redact === false ? show(values[i]) : show(redact(values[i], i));
      parts[i] = `$${i + 1}=${v}`;
    }
    return parts.join(", ");
  }

  #log(level: LogLevel, message: string): void {
    const logger = this.#logger;
    if (logger === undefined) return;
    const fn = logger[level] ?? logger.info ?? logger.debug;
    try {
      fn?.call(logger, message);
    } catch {
      // A logger that throws must not break the statement either.
    }
  }
}

function ms(n: number): string {
  return `${n.toFixed(2)}ms`;
}

function oneLine(sql: string): string {
  const s = sql.replace(/\s+/g, " ").trim();
  return s.length > 2000 ? `${s.slice(0, 2000)}…` : s;
}

/** How a value may be spelled in a server message (the scrubber cuts each out). */
function stringForms(v: unknown): string[] {
  if (v === null || v === undefined) return [];
  if (typeof v === "string") return v.length >= 2 ? [v] : [];
  if (typeof v === "number" || typeof v === "bigint") return String(v).length >= 2 ? [String(v)] : [];
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? [] : [v.toISOString()];
  if (Array.isArray(v)) return v.flatMap(stringForms);
  if (typeof v === "object" && !(v instanceof Uint8Array)) {
    try {
      return [JSON.stringify(v), ...Object.values(v as object).flatMap(stringForms)];
    } catch {
      return [];
    }
  }
  return [];
}

function show(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (typeof v === "string") return JSON.stringify(v.length > 200 ? `${v.slice(0, 200)}…` : v);
  if (typeof v === "bigint") return `${v}n`;
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return `<${v.byteLength} bytes>`;
  if (typeof v === "object") {
    try {
      const s = JSON.stringify(v);
      return s.length > 200 ? `${s.slice(0, 200)}…` : s;
    } catch {
      return "[object]";
    }
  }
  return String(v);
}

/** err.statement: the SQL text (placeholders, never values) of the statement that failed. */
export function attachStatement(err: unknown, sql: string): void {
  if (err instanceof SQLSpecError && err.statement === undefined) err.statement = sql;
}
