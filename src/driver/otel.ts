/**
 * OpenTelemetry, loaded only when a config asks for tracing or metrics (`@opentelemetry/api` is an optional peer:
 * never imported otherwise). Attributes follow the stable database semantic conventions. The API's types are
 * described structurally here, so sqlspec's own types never require the package.
 */
import type { SQLSpecError } from "../core/errors.js";
import type { PoolStats } from "./adapter.js";
import { importDriver, rethrow } from "./dependencies.js";

type Attributes = Record<string, string | number | boolean | undefined>;

export interface SpanLike {
  setAttribute(key: string, value: string | number | boolean): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  addEvent(name: string, attributes?: Attributes): unknown;
  spanContext(): { traceId: string; spanId: string; traceFlags: number };
  end(): void;
}
interface TracerLike {
  startSpan(name: string, options: { kind: number; attributes?: Attributes }, context?: unknown): SpanLike;
}
interface InstrumentLike {
  record(value: number, attributes?: Attributes): void;
}
interface ObservableLike {
  addCallback(cb: (result: { observe(value: number, attributes?: Attributes): void }) => void): void;
}
interface MeterLike {
  createHistogram(name: string, options: Record<string, unknown>): InstrumentLike;
  createObservableUpDownCounter(name: string, options: Record<string, unknown>): ObservableLike;
}
interface OtelApi {
  trace: {
    getTracer(name: string, version?: string): TracerLike;
    getSpan(context: unknown): SpanLike | undefined;
    setSpan(context: unknown, span: SpanLike): unknown;
  };
  context: { active(): unknown; with<T>(context: unknown, fn: () => T): T };
  metrics: { getMeter(name: string, version?: string): MeterLike };
}
interface ProviderLike {
  getTracer(name: string, version?: string): TracerLike;
}
interface MeterProviderLike {
  getMeter(name: string, version?: string): MeterLike;
}

const SPAN_KIND_INTERNAL = 0;
const SPAN_KIND_CLIENT = 2;
const STATUS_ERROR = 2;
const SCOPE = "sqlspec";
/** Seconds; the buckets the semantic conventions advise for db.client.operation.duration. */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

export interface OtelOptions {
  tracing?: boolean | undefined;
  metrics?: boolean | undefined;
  tracerProvider?: unknown;
  meterProvider?: unknown;
}

export class OtelRuntime {
  readonly #api: OtelApi;
  readonly tracer: TracerLike | undefined;
  readonly #duration: InstrumentLike | undefined;
  readonly #pools = new Map<object, { attributes: Attributes; stats: () => PoolStats | undefined }>();

  constructor(api: OtelApi, options: OtelOptions) {
    this.#api = api;
    if (options.tracing) {
      const provider = options.tracerProvider as ProviderLike | undefined;
      this.tracer = provider ? provider.getTracer(SCOPE) : api.trace.getTracer(SCOPE);
    }
    if (options.metrics) {
      const mp = options.meterProvider as MeterProviderLike | undefined;
      const meter = mp ? mp.getMeter(SCOPE) : api.metrics.getMeter(SCOPE);
      this.#duration = meter.createHistogram("db.client.operation.duration", {
        description: "Duration of database client operations.",
        unit: "s",
        advice: { explicitBucketBoundaries: DURATION_BUCKETS },
      });
      const count = meter.createObservableUpDownCounter("db.client.connection.count", {
        description: "The number of connections that are currently in the state described by the state attribute.",
        unit: "{connection}",
      });
      count.addCallback((r) => {
        for (const p of this.#pools.values()) {
          const s = p.stats();
          if (s === undefined) continue;
          r.observe(s.idle, { ...p.attributes, "db.client.connection.state": "idle" });
          r.observe(s.used, { ...p.attributes, "db.client.connection.state": "used" });
        }
      });
      const pending = meter.createObservableUpDownCounter("db.client.connection.pending_requests", {
        description: "The number of current pending requests for an open connection.",
        unit: "{request}",
      });
      pending.addCallback((r) => {
        for (const p of this.#pools.values()) {
          const s = p.stats();
          if (s !== undefined) r.observe(s.pending, p.attributes);
        }
      });
    }
  }

  get metrics(): boolean {
    return this.#duration !== undefined;
  }

  /** Reports a pool's counts on the gauges until `unobservePool`. */
  observePool(key: object, poolName: string, stats: () => PoolStats | undefined): void {
    if (this.#duration !== undefined) {
      this.#pools.set(key, { attributes: { "db.client.connection.pool.name": poolName }, stats });
    }
  }

  unobservePool(key: object): void {
    this.#pools.delete(key);
  }

  /** A CLIENT span for one statement, child of the active context's span. */
  startQuery(name: string, attributes: Attributes): SpanLike | undefined {
    return this.tracer?.startSpan(
      name,
      { kind: SPAN_KIND_CLIENT, attributes: clean(attributes) },
      this.#api.context.active(),
    );
  }

  /** The span of the active context (for SQLCommenter), if any. */
  activeSpan(): SpanLike | undefined {
    return this.#api.trace.getSpan(this.#api.context.active());
  }

  recordDuration(seconds: number, attributes: Attributes): void {
    this.#duration?.record(seconds, clean(attributes));
  }

  /**
   * Runs fn inside an INTERNAL span (transaction, upsert, loadRecords): statements it runs become its children, and
   * the span is the active one in fn (so user code inside a transaction callback nests too).
   */
  async inSpan<T>(
    name: string,
    attributes: Attributes,
    fn: () => Promise<T>,
    onResult?: (span: SpanLike, value: T) => void,
    describeError?: (err: unknown) => { type: string; message: string; code?: string | undefined },
  ): Promise<T> {
    const tracer = this.tracer;
    if (tracer === undefined) return fn();
    const parent = this.#api.context.active();
    const span = tracer.startSpan(name, { kind: SPAN_KIND_INTERNAL, attributes: clean(attributes) }, parent);
    try {
      const value = await this.#api.context.with(this.#api.trace.setSpan(parent, span), fn);
      onResult?.(span, value);
      return value;
    } catch (err) {
      const d = describeError?.(err) ?? { type: err instanceof Error ? err.name : "Error", message: "" };
      markError(span, d.type, d.message, d.code);
      throw err;
    } finally {
      span.end();
    }
  }
}

/** Sets a span's error status, `error.type` and (for database errors) the SQLSTATE. */
export function markError(span: SpanLike, type: string, message: string, code?: string): void {
  span.setAttribute("error.type", type);
  if (code !== undefined) span.setAttribute("db.response.status_code", code);
  span.setStatus({ code: STATUS_ERROR, message });
  span.addEvent("exception", { "exception.type": type, "exception.message": message });
}

export function errorFacts(error: SQLSpecError): { type: string; code: string | undefined } {
  return { type: error.name, code: error.sqlState };
}

/** W3C traceparent of a span, for SQLCommenter. */
export function traceparent(span: SpanLike): string | undefined {
  const c = span.spanContext();
  if (!/^[0-9a-f]{32}$/.test(c.traceId) || /^0+$/.test(c.traceId) || !/^[0-9a-f]{16}$/.test(c.spanId)) return undefined;
  return `00-${c.traceId}-${c.spanId}-${(c.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}

function clean(a: Attributes): Attributes {
  for (const k of Object.keys(a)) if (a[k] === undefined) delete a[k];
  return a;
}

/** Imports `@opentelemetry/api` (MissingDependencyError when it is not installed). */
export async function loadOtel(options: OtelOptions): Promise<OtelRuntime> {
  const api = await importDriver(
    "@opentelemetry/api",
    "observability.tracing / observability.metrics",
    () => import("@opentelemetry/api").catch(rethrow) as Promise<unknown>,
  );
  const m = api as OtelApi & { default?: OtelApi };
  return new OtelRuntime(m.trace ? m : (m.default as OtelApi), options);
}
